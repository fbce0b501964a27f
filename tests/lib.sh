# lib.sh - shared helpers for integration tests: start the real daemon, make real requests with
# curl, assert on status, headers and exact bytes, and always clean up what was started.
# Sourced by tests/integration/*.sh; each test is a shell function named test_*. The daemon is
# started, awaited and stopped through scripts/daemon-lib.sh (as `make run` and the benchmarks
# do), which also gives wait_until TIMEOUT CMD...

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/scripts/daemon-lib.sh"
TINYBOOTD=${TINYBOOTD:-$ROOT/build/asan/tinybootd}
TINYBOOT_CLI=${TINYBOOT_CLI:-$ROOT/build/tinyboot}
T=$(mktemp -d /tmp/tinyboot-test.XXXXXX)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

TESTS_PASSED=0
TESTS_FAILED=0
CURRENT_FAILED=0
OWNED_PIDS=()

lib_cleanup() {
	local p
	for p in "${OWNED_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${OWNED_PIDS[@]}"; do daemon_kill "$p" 5; done
	[[ -n ${KEEP_TEST_DIR:-} ]] || rm -rf "$T"
}
trap lib_cleanup EXIT
trap '' PIPE # a peer that hangs up fails an assertion, not the whole suite

own_pid() { OWNED_PIDS+=("$1"); }

fail() {
	echo "    FAIL: $*" >&2
	CURRENT_FAILED=1
}

# dir_has_entries DIR: DIR exists and lists something (ls: dot files do not count); for wait_until.
dir_has_entries() { [[ -n $(ls "$1" 2>/dev/null) ]]; }

# Start tinybootd (daemon_start) on $T/state and $T/payloads with debug logging and the given
# extra flags (later flags win). Sets TB_PID, TB (host:port), TB_URL, TB_LOG, TB_OUT and TB_ARGS.
# Fails the current test if it does not print its address within 10 s.
tb_start() {
	local name=${TB_NAME:-tb$RANDOM}
	TB_LOG=$T/$name.log
	TB_OUT=$T/$name.out
	TB_ARGS="$*"
	TB_STOPPED=
	mkdir -p "$T/state" "$T/payloads"
	local payloads=()
	# TB_PAYLOADS= (empty) leaves the payload directory to a --config file
	[[ -n ${TB_PAYLOADS-$T/payloads} ]] && payloads=(--payloads "${TB_PAYLOADS-$T/payloads}")
	TB=
	daemon_start "$TINYBOOTD" "$TB_OUT" "$TB_LOG" --state "$T/state" "${payloads[@]}" \
		--log-level debug "$@"
	local rc=$?
	TB_PID=$DAEMON_PID
	own_pid "$TB_PID"
	if [[ $rc -ne 0 ]]; then
		TB_STOPPED=1 # daemon_start stopped it: nothing for tb_stop or tb_use to stop
		fail "tinybootd did not start: $(cat "$TB_LOG")"
		return 1
	fi
	TB=$DAEMON_ADDR
	TB_URL=$DAEMON_URL
}

# tb_use FLAGS...: a daemon started with FLAGS for this test: the running one when tb_start
# started it with the same FLAGS, else the running one is stopped (tb_stop: it must still be
# there and exit cleanly) and a new one started. Tests that share a daemon each say which one
# they need, so none relies on the daemon an earlier test left.
tb_use() {
	if [[ -n ${TB_PID:-} && -z ${TB_STOPPED:-} ]]; then
		[[ ${TB_ARGS-} == "$*" ]] && daemon_alive "$TB_PID" && return 0
		tb_stop
	fi
	tb_start "$@"
}

# Stop with SIGTERM; the daemon must exit 0 and its log must hold no sanitizer report.
tb_stop() {
	local rc=0
	TB_STOPPED=1
	daemon_alive "$TB_PID" || { fail "tinybootd $TB_PID already gone"; tb_check_sanitizers "$TB_LOG"; return 1; }
	daemon_stop "$TB_PID" || rc=$?
	[[ $rc -eq 0 ]] || fail "tinybootd exited $rc after SIGTERM: $(tail -20 "$TB_LOG")"
	tb_check_sanitizers "$TB_LOG"
}

tb_check_sanitizers() {
	if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$1"; then
		fail "sanitizer report in $1:"
		sed -n '/ERROR: \|runtime error:/,+25p' "$1" >&2
	fi
}

# req METHOD PATH [curl args...]: one request; leaves STATUS, $T/headers and $T/body.
req() {
	local method=$1 path=$2
	shift 2
	local out=$T/body
	rm -f "$T/body" "$T/headers"
	# curl -I prints the headers as the body; keep them out of $T/body
	[[ $method == HEAD ]] && out=/dev/null && set -- --head "$@"
	STATUS=$(curl -s --path-as-is -X "$method" -o "$out" -D "$T/headers" \
		-w '%{http_code}' "$@" "$TB_URL$path") || true
	[[ -e $T/body ]] || : > "$T/body" # curl creates no file for an empty body
}

# The value of a response header (last occurrence, CR stripped), or empty.
header() {
	local name=$1
	awk -v n="$(tr 'A-Z' 'a-z' <<<"$name")" 'BEGIN {IGNORECASE = 1}
		{ sub(/\r$/, "") } tolower(substr($0, 1, length(n) + 1)) == n ":" {
		v = substr($0, length(n) + 2); sub(/^[ \t]+/, "", v); last = v } END { print last }' \
		"$T/headers"
}

expect_status() { [[ $STATUS == "$1" ]] || fail "status $STATUS, want $1 ($(head -c 200 "$T/body"))"; }
expect_header() {
	local got
	got=$(header "$1")
	[[ $got == "$2" ]] || fail "header $1: '$got', want '$2'"
}
expect_no_header() {
	grep -qi "^$1:" "$T/headers" && fail "unexpected header $(grep -i "^$1:" "$T/headers")"
	return 0
}
expect_body() {
	local want
	want=$(printf '%b' "$1"; echo x)
	want=${want%x}
	[[ $(cat "$T/body"; echo x) == "${want}x" ]] ||
		fail "body '$(head -c 300 "$T/body")', want '$1'"
}
expect_body_file() { cmp -s "$T/body" "$1" || fail "body differs from $1 ($(stat -c %s "$T/body") bytes)"; }
expect_eq() { [[ $1 == "$2" ]] || fail "${3:-value}: '$1', want '$2'"; }

# A free loopback port for a server that cannot bind port 0 and say which port it got (nginx).
# perl-base is in every Debian system; python3 is not a dependency.
free_port() {
	perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0, Listen => 1)->sockport, "\n"'
}

# tb_fake_build STATE VARIANT ART [KERNEL INITRD]: make VARIANT look built without building it:
# the index entry under the build id the running daemon gives it, pointing at artifact ART (64
# hex) holding KERNEL and INITRD (default: one short line each). The id is asked once per variant
# and kept in TB_FAKE_IDS: once faked, the variant is "built" and the size answer names no build.
declare -gA TB_FAKE_IDS=()
tb_fake_build() {
	local state=$1 variant=$2 art=$3 kernel=${4:-} initrd=${5:-} id=${TB_FAKE_IDS[$2]:-}
	if [[ -z $id ]]; then
		req GET "/api/v1/images/$variant/size"
		id=$(grep -o 'build [0-9a-f]\{64\}' "$T/body" | head -1 | cut -d' ' -f2)
		[[ -n $id ]] || { fail "no build id for $variant in '$(cat "$T/body")'"; return 1; }
		TB_FAKE_IDS[$variant]=$id
	fi
	mkdir -p "$state/index" "$state/artifacts/$art"
	if [[ -n $kernel ]]; then
		cp "$kernel" "$state/artifacts/$art/bzImage"
		cp "$initrd" "$state/artifacts/$art/initrd"
	else
		echo kernel > "$state/artifacts/$art/bzImage"
		echo initrd > "$state/artifacts/$art/initrd"
	fi
	printf '%s' "$art" > "$state/index/$id"
}

# Run every test_* function (optionally only those matching $TEST_FILTER) and print the summary.
run_tests() {
	local t
	for t in $(declare -F | awk '{print $3}' | grep '^test_'); do
		[[ -z ${TEST_FILTER:-} || $t == *$TEST_FILTER* ]] || continue
		CURRENT_FAILED=0
		"$t"
		if [[ $CURRENT_FAILED -eq 0 ]]; then
			TESTS_PASSED=$((TESTS_PASSED + 1))
			echo "  ok   $t"
		else
			TESTS_FAILED=$((TESTS_FAILED + 1))
			echo "  FAIL $t"
		fi
	done
	echo "$(basename "$0"): $TESTS_PASSED passed, $TESTS_FAILED failed"
	[[ $TESTS_FAILED -eq 0 ]]
}
