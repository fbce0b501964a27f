#!/bin/bash
# test_drain.sh - stopping and reloading under load: SIGTERM with a build fetching its sources
# (parked ?wait=1 clients answered 503, the download cancelled, exit 0 within drain-timeout),
# the cap on parked clients, 503 instead of a reset for connections that arrive while draining,
# and SIGHUP refusing settings only a restart can change. No network beyond 127.0.0.1: the
# sources come from a local server that trickles bytes; every state directory is the test's own.
source "$(dirname "$0")/../lib.sh"

DRAIN_TIMEOUT=5
# a stop that cancels what it should takes well under a second; the bound leaves room for ASan
EXIT_LIMIT_MS=$(( (DRAIN_TIMEOUT + 2) * 1000 ))

mkdir -p "$T/payloads"
# larger than loopback socket buffers, so a rate-limited download really is in flight
head -c $((64 << 20)) /dev/zero > "$T/payloads/big.bin"

# The source server (slow-source.pl): one client at a time, each request logged.
perl "$ROOT/tests/integration/slow-source.pl" --log "$T/slow.log" "$T/slow.port" 300 &
own_pid $!
wait_until 10 test -s "$T/slow.port" || echo "the source server did not start" >&2
SLOW_PORT=$(cat "$T/slow.port" 2>/dev/null)
: > "$T/slow.log"

# The shipped recipes, their sources on the slow server (sha256s that nothing will ever match:
# these builds never get past their first download).
cat > "$T/slow-sources.conf" <<CONF
[linux-6.1-debian]
sha256 = 0000000000000000000000000000000000000000000000000000000000000001
size-max = 200M
url = http://127.0.0.1:$SLOW_PORT/linux.tar.xz
strip = linux-source-6.1

[busybox-1.35.0]
sha256 = 0000000000000000000000000000000000000000000000000000000000000002
size-max = 8M
url = http://127.0.0.1:$SLOW_PORT/busybox.tar.bz2
strip = busybox-1.35.0
CONF
SLOW_INPUTS=(--recipes "$ROOT/images" --kernel-config "$ROOT/kernel-config" --rootfs "$ROOT/rootfs"
	--sources "$T/slow-sources.conf" --drain-timeout "$DRAIN_TIMEOUT")

now_ms() { echo $(( ${EPOCHREALTIME//[.,]/} / 1000 )); }
slow_requests() { wc -l < "$T/slow.log"; }
slow_requests_over() { (( $(slow_requests) > $1 )); }

# start_slow NAME [FLAGS...]: a daemon on a fresh state directory $T/NAME building from the slow
# server; sets STATE.
start_slow() {
	STATE=$T/$1
	shift
	rm -rf "$STATE"
	tb_start --state "$STATE" "${SLOW_INPUTS[@]}" "$@"
}

# start_parked: GET /images/tiny/bzImage?wait=1 in the background until the build it starts is
# downloading its kernel source (fails the test if that does not happen in 10 s). The answer
# goes to $T/parked.{status,headers,body}; sets PARKED_PID.
start_parked() {
	local before
	before=$(slow_requests)
	: > "$T/parked.body"
	: > "$T/parked.headers"
	curl -s --max-time 30 -o "$T/parked.body" -D "$T/parked.headers" -w '%{http_code}' \
		"$TB_URL/images/tiny/bzImage?wait=1" > "$T/parked.status" &
	PARKED_PID=$!
	own_pid "$PARKED_PID"
	wait_until 10 slow_requests_over "$before" || fail "the build did not start downloading"
	sleep 0.5 # parked: the request thread parks right after queueing, the worker only then fetches
}

# sigterm_and_time: SIGTERM the daemon and wait (at most EXIT_LIMIT_MS + 3 s) for it to exit.
# Sets EXIT_RC and EXIT_MS; fails the test when it exits late, not at all, or not with 0.
sigterm_and_time() {
	local start=$(now_ms)
	TB_STOPPED=1
	kill -TERM "$TB_PID"
	if ! wait_until $(( EXIT_LIMIT_MS / 1000 + 3 )) daemon_gone "$TB_PID"; then
		fail "still running $(( $(now_ms) - start )) ms after SIGTERM (drain-timeout $DRAIN_TIMEOUT s): $(tail -3 "$TB_LOG")"
		kill -KILL "$TB_PID" 2>/dev/null
	fi
	EXIT_MS=$(( $(now_ms) - start ))
	EXIT_RC=0
	wait "$TB_PID" || EXIT_RC=$?
	expect_eq "$EXIT_RC" 0 "exit status after SIGTERM ($(grep -m1 -E 'Fatal|ERROR' "$TB_LOG"))"
	(( EXIT_MS <= EXIT_LIMIT_MS )) || fail "exit took $EXIT_MS ms, want at most $EXIT_LIMIT_MS"
	tb_check_sanitizers "$TB_LOG"
}

# Nothing of a cancelled build may be left to serve or to remember.
expect_nothing_published() {
	local left
	left=$(find "$STATE/tmp" "$STATE/index" "$STATE/failed" "$STATE/artifacts" -mindepth 1 2>/dev/null)
	[[ -z $left ]] || fail "a cancelled build left: $left"
	ls "$STATE/sources/"*.tar.* >/dev/null 2>&1 && fail "a half-fetched tarball was kept: $(ls "$STATE/sources")"
	return 0
}

test_01_sigterm_answers_parked_wait_client() {
	start_slow state-parked || return
	start_parked
	sigterm_and_time
	wait "$PARKED_PID"
	expect_eq "$(cat "$T/parked.status")" 503 "status of the parked ?wait=1 request"
	cp "$T/parked.headers" "$T/headers"
	[[ $(header Retry-After) =~ ^[0-9]+$ ]] || fail "no Retry-After on the 503: $(cat "$T/parked.headers")"
	expect_header Connection close
	grep -q 'stopping' "$T/parked.body" || fail "body: $(cat "$T/parked.body")"
	grep -q 'cancelled' "$STATE"/builds/*.log || fail "build log does not say cancelled"
	expect_nothing_published
}

test_02_sigterm_cancels_source_download() {
	local before
	start_slow state-fetch || return
	before=$(slow_requests)
	req POST /api/v1/builds -d '{"variant": "tiny"}'
	expect_status 202
	wait_until 10 slow_requests_over "$before" || fail "the build did not start downloading"
	sleep 0.3
	sigterm_and_time
	grep -q "build tiny .*: cancelled" "$TB_LOG" || fail "no cancel in the log: $(tail -3 "$TB_LOG")"
	expect_nothing_published
}

test_03_wait_requests_are_capped() {
	start_slow state-cap --max-waiting 1 || return
	start_parked
	# the second waiting client is over the cap: answered at once, as a polling client would be
	local start=$(now_ms)
	req GET '/images/tiny/initrd?wait=1' --max-time 5
	expect_status 503
	[[ $(header Retry-After) =~ ^[0-9]+$ ]] || fail "no Retry-After over max-waiting"
	grep -q 'is being built' "$T/body" || fail "body: $(cat "$T/body")"
	(( $(now_ms) - start < 3000 )) || fail "over the cap, answered after $(( $(now_ms) - start )) ms"
	kill -0 "$PARKED_PID" 2>/dev/null || fail "the first waiting client was answered: $(cat "$T/parked.status")"
	sigterm_and_time
	wait "$PARKED_PID"
	expect_eq "$(cat "$T/parked.status")" 503 "status of the parked request"
}

test_04_new_connection_while_draining_gets_503() {
	tb_start --drain-timeout "$DRAIN_TIMEOUT" || return
	# 64 MiB at 32 MB/s: about two seconds in flight when SIGTERM arrives
	curl -s --limit-rate 32M -o "$T/inflight.bin" -w '%{http_code}' "$TB_URL/payloads/big.bin" \
		> "$T/inflight.status" &
	local curl_pid=$!
	own_pid "$curl_pid"
	sleep 0.3
	kill -TERM "$TB_PID"
	TB_STOPPED=1
	sleep 0.3
	req GET /payloads/big.bin --max-time 3
	expect_status 503
	[[ $(header Retry-After) =~ ^[0-9]+$ ]] || fail "no Retry-After while draining"
	expect_header Connection close
	grep -q 'stopping' "$T/body" || fail "body: $(cat "$T/body")"
	req HEAD /healthz --max-time 3
	expect_status 503
	wait "$curl_pid" || fail "curl failed during drain"
	expect_eq "$(cat "$T/inflight.status")" 200 "in-flight status"
	cmp -s "$T/inflight.bin" "$T/payloads/big.bin" || fail "in-flight transfer truncated"
	local rc=0
	wait_until $(( DRAIN_TIMEOUT + 3 )) daemon_gone "$TB_PID" || fail "daemon still running"
	wait "$TB_PID" || rc=$?
	expect_eq "$rc" 0 "exit status after drain"
	tb_check_sanitizers "$TB_LOG"
}

# A kernel source whose `make tinyconfig` writes half an object, then sleeps: what a stop finds
# a real build doing. The recipe has no patches, so the build goes straight to that make.
make_fake_kernel() {
	mkdir -p "$T/fake-src/linux-fake" "$T/fake-recipes"
	cat > "$T/fake-src/linux-fake/Makefile" <<MAKE
tinyconfig: \$(O)/half.o
\$(O)/half.o:
	echo partial > \$@
	echo \$\$\$\$ > $T/fake-make.pid
	sleep 60
MAKE
	tar -C "$T/fake-src" -czf "$T/fake-linux.tar.gz" linux-fake
	{
		cat "$T/slow-sources.conf"
		printf '\n[linux-fake]\nsha256 = %s\nsize-max = 1M\nurl = file://%s\nstrip = linux-fake\n' \
			"$(sha256sum "$T/fake-linux.tar.gz" | cut -d' ' -f1)" "$T/fake-linux.tar.gz"
	} > "$T/fake-sources.conf"
	sed -e 's/^kernel-source = .*/kernel-source = linux-fake/' -e '/^kernel-patches/d' \
		-e 's/^kernel-fragments = .*/kernel-fragments = base x86_64/' \
		"$ROOT/images/tiny.image" > "$T/fake-recipes/fake.image"
}

test_06_sigterm_stops_make_before_it_leaves_half_a_target() {
	make_fake_kernel
	rm -f "$T/fake-make.pid"
	STATE=$T/state-make
	rm -rf "$STATE"
	tb_start --state "$STATE" --recipes "$T/fake-recipes" --kernel-config "$ROOT/kernel-config" \
		--rootfs "$ROOT/rootfs" --sources "$T/fake-sources.conf" --drain-timeout "$DRAIN_TIMEOUT" || return
	req POST /api/v1/builds -d '{"variant": "fake"}'
	expect_status 202
	wait_until 20 test -s "$T/fake-make.pid" || fail "make did not start: $(tail -3 "$STATE"/builds/*.log)"
	local shell_pid
	shell_pid=$(cat "$T/fake-make.pid")
	sigterm_and_time
	daemon_gone "$shell_pid" || fail "make's recipe (pid $shell_pid) survived the stop"
	# make got SIGTERM, not SIGKILL: it deleted the object it was writing
	local half
	half=$(find "$STATE/trees" -name half.o 2>/dev/null)
	[[ -z $half ]] || fail "a half-written target stayed in the build tree: $half"
	grep -q "Deleting file" "$STATE"/builds/*.log || fail "make did not clean up: $(tail -5 "$STATE"/builds/*.log)"
	grep -q "# CANCELLED" "$STATE"/builds/*.log || fail "build log does not say cancelled"
	[[ -z $(find "$STATE/index" "$STATE/failed" -mindepth 1) ]] || fail "the cancelled build was recorded"
}

# How many reloads the log has answered (done or refused); reloaded_after N: more than N.
reload_outcomes() { grep -cE 'configuration reloaded|reload: ' "$TB_LOG"; }
reloaded_after() { (( $(reload_outcomes) > $1 )); }
hup_and_wait() {
	local n
	n=$(reload_outcomes)
	kill -HUP "$TB_PID"
	wait_until 30 reloaded_after "$n" || fail "SIGHUP not answered in the log"
}

test_05_sighup_refuses_restart_only_settings() {
	local hex=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
	rm -rf "$T/hup-a" "$T/hup-b" "$T/hup-other"
	mkdir -p "$T/hup-a/payloads" "$T/hup-a/artifacts/$hex" "$T/hup-other"
	echo old > "$T/hup-a/payloads/p.txt"
	echo 'console=ttyS0' > "$T/hup-a/artifacts/$hex/cmdline"
	echo other > "$T/hup-other/p.txt"
	# a relative state directory, as an admin might write it: the daemon makes it absolute
	printf 'state = hup-a\nlog-level = debug\n' > "$T/hup.conf"
	local rc=0
	cd "$T" || return
	daemon_start "$TINYBOOTD" "$T/hup.out" "$T/hup.log" --config "$T/hup.conf" || rc=$?
	cd "$ROOT" || return
	TB_PID=$DAEMON_PID TB_URL=$DAEMON_URL TB_LOG=$T/hup.log TB_STOPPED=
	own_pid "$TB_PID"
	[[ $rc -eq 0 ]] || { TB_STOPPED=1; fail "tinybootd did not start: $(cat "$T/hup.log")"; return; }
	req GET /payloads/p.txt
	expect_body 'old\n'

	# the same file again: nothing changed, the reload goes through
	hup_and_wait
	grep -q 'configuration reloaded' "$TB_LOG" || fail "an unchanged state directory was refused: $(tail -2 "$TB_LOG")"

	# a new state directory, thread count and payload directory: refused whole
	printf 'state = %s\nthreads = 3\npayloads = %s\nlog-level = debug\n' "$T/hup-b" "$T/hup-other" > "$T/hup.conf"
	hup_and_wait
	grep -q 'reload: only a restart can change state, threads; keeping the running configuration' "$TB_LOG" ||
		fail "refusal not logged: $(grep reload "$TB_LOG" | tail -2)"
	[[ -e $T/hup-b ]] && fail "the refused state directory was created"
	req GET /payloads/p.txt
	expect_status 200
	expect_body 'old\n'
	req GET "/artifacts/$hex/cmdline"
	expect_status 200
	expect_body 'console=ttyS0\n'

	# what a reload may change still changes
	printf 'state = hup-a\npayloads = %s\nlog-level = debug\n' "$T/hup-other" > "$T/hup.conf"
	hup_and_wait
	req GET /payloads/p.txt
	expect_body 'other\n'
	tb_stop
}

run_tests
