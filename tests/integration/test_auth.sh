#!/bin/bash
# test_auth.sh - who may change things: bearer tokens from api-tokens (401 without, or with a
# wrong one), loopback only without them (403 from a client beyond loopback, in a network
# namespace, and the start-up warning), the one gate every build passes (anonymous reads from
# beyond loopback build only machines.conf's variants), the bounded queue (429 + Retry-After),
# max-variant-fragments (400), SIGHUP reloading the tokens, and the CLI sending its token.
# Builds never finish here: their sources come from a local server that trickles bytes (as in
# test_drain.sh), or from a port that refuses connections; every state directory is the test's own.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/netns.sh"
trap 'netns_cleanup; lib_cleanup' EXIT

TOKEN_A=alice-0123456789abcdef0123456789abcdef
TOKEN_B=bob-fedcba9876543210fedcba9876543210
printf '# tokens for test_auth\nalice %s\n\nbob\t%s\n' "$TOKEN_A" "$TOKEN_B" > "$T/tokens"
chmod 600 "$T/tokens"
printf 'alice %s\n' "$TOKEN_A" > "$T/tokens-alice"
chmod 600 "$T/tokens-alice"

# The source server (slow-source.pl): a build stays in its first download (running) and the
# ones behind it stay queued.
SLOW_SOURCE=$ROOT/tests/integration/slow-source.pl
perl "$SLOW_SOURCE" --parallel "$T/slow.port" 300 &
own_pid $!
wait_until 10 test -s "$T/slow.port" || echo "the source server did not start" >&2
SLOW_PORT=$(cat "$T/slow.port" 2>/dev/null)

# sources_conf FILE URL: the shipped recipes' sources at URL (sha256s nothing will match).
sources_conf() {
	cat > "$1" <<CONF
[linux-6.1-debian]
sha256 = 0000000000000000000000000000000000000000000000000000000000000001
size-max = 200M
url = $2/linux.tar.xz
strip = linux-source-6.1

[busybox-1.35.0]
sha256 = 0000000000000000000000000000000000000000000000000000000000000002
size-max = 8M
url = $2/busybox.tar.bz2
strip = busybox-1.35.0
CONF
}
sources_conf "$T/slow-sources.conf" "http://127.0.0.1:$SLOW_PORT"
sources_conf "$T/dead-sources.conf" "http://127.0.0.1:1" # connection refused: fails at once

cat > "$T/machines.conf" <<'CONF'
52:54:00:00:0a:01  name=lab1  variant=tiny
CONF

INPUTS=(--recipes "$ROOT/images" --kernel-config "$ROOT/kernel-config" --rootfs "$ROOT/rootfs")

# start_fresh NAME SOURCES [FLAGS...]: a daemon on its own new state directory $T/NAME.
start_fresh() {
	local name=$1 sources=$2
	shift 2
	rm -rf "${T:?}/$name"
	tb_use --state "$T/$name" "${INPUTS[@]}" --sources "$sources" --drain-timeout 2 "$@"
}

bearer() { printf 'Authorization: Bearer %s' "$1"; }
build_body() { printf '{"variant": "%s"}' "$1"; }

test_01_no_token_is_401() {
	start_fresh tok "$T/slow-sources.conf" --api-tokens "$T/tokens" || return
	req POST /api/v1/builds -d "$(build_body tiny)"
	expect_status 401
	expect_header WWW-Authenticate 'Bearer realm="tinyboot"'
	grep -q 'Authorization: Bearer' "$T/body" || fail "the 401 does not say how: $(cat "$T/body")"
	# loopback is no exception once there are tokens
	req POST /api/v1/boots -d '{"mac": "52:54:00:00:0a:01", "server": "http://10.0.2.2:8080"}'
	expect_status 401
	expect_header WWW-Authenticate 'Bearer realm="tinyboot"'
	# another scheme is no token either
	req POST /api/v1/builds -H "Authorization: Basic YWxpY2U6eA==" -d "$(build_body tiny)"
	expect_status 401
	[[ -z $(ls "$T/tok/builds" 2>/dev/null) ]] || fail "a refused request started a build: $(ls "$T/tok/builds")"
}

test_02_wrong_token_is_401() {
	start_fresh tok "$T/slow-sources.conf" --api-tokens "$T/tokens" || return
	local t
	for t in "${TOKEN_A}x" "${TOKEN_A%?}" "alice" "$TOKEN_A$TOKEN_B" 'x"y'; do
		req POST /api/v1/builds -H "$(bearer "$t")" -d "$(build_body tiny)"
		expect_status 401
		expect_header WWW-Authenticate 'Bearer realm="tinyboot"'
	done
	grep -q "$TOKEN_A" "$TB_LOG" && fail "a token reached the log"
	return 0
}

test_03_good_token_is_2xx() {
	start_fresh tok "$T/slow-sources.conf" --api-tokens "$T/tokens" || return
	req POST /api/v1/builds -H "$(bearer "$TOKEN_A")" -d "$(build_body tiny)"
	expect_status 202
	expect_eq "$(jq -r .state "$T/body")" queued state
	req POST /api/v1/builds -H "authorization: bearer  $TOKEN_B" -d "$(build_body tiny+debug)"
	expect_status 202
	# reads stay open
	req GET /api/v1/builds
	expect_status 200
	expect_eq "$(jq '.builds | length' "$T/body")" 2 "builds listed"
	req GET /healthz
	expect_status 200
	# a report needs no bearer token (the boot token is its proof): refused for that, not 401
	req POST /api/v1/reports -d '{"boot": "00000000000000000000000000000000"}'
	[[ $STATUS == 401 ]] && fail "a report was asked for a bearer token"
	return 0
}

test_04_anonymous_read_builds_only_listed_variants() {
	# loopback with a token file is anonymous like anyone else
	start_fresh tok-m "$T/slow-sources.conf" --api-tokens "$T/tokens" --machines "$T/machines.conf" || return
	req GET /images/tiny+virtio/bzImage
	expect_status 403
	grep -q 'POST /api/v1/builds' "$T/body" || fail "the 403 does not say how: $(cat "$T/body")"
	req HEAD /images/tiny+virtio/initrd
	expect_status 403
	req GET /images/tiny+virtio/bzImage -H "$(bearer wrong-token-wrong-token)"
	expect_status 401
	# machines.conf names tiny: an anonymous read may start it
	req GET /images/tiny/bzImage
	expect_status 503
	[[ $(header Retry-After) =~ ^[0-9]+$ ]] || fail "no Retry-After on the 503"
	# with a token any variant may be built by a read
	req GET /images/tiny+virtio/bzImage -H "$(bearer "$TOKEN_B")"
	expect_status 503
	# once queued it is no new build: anyone may ask after it
	req GET /images/tiny+virtio/bzImage
	expect_status 503
}

test_05_queue_full_is_429() {
	start_fresh queue "$T/slow-sources.conf" --max-kernel-builds 1 --max-queued-builds 2 || return
	req POST /api/v1/builds -d "$(build_body tiny)"
	expect_status 202
	req POST /api/v1/builds -d "$(build_body tiny+debug)"
	expect_status 202
	req POST /api/v1/builds -d "$(build_body tiny+virtio)"
	expect_status 429
	expect_header Retry-After 5
	grep -q 'max-queued-builds' "$T/body" || fail "the 429 does not say why: $(cat "$T/body")"
	# every path that starts a build goes through the same bound
	req GET /images/tiny+virtio/bzImage
	expect_status 429
	req HEAD /images/tiny+e1000/initrd
	expect_status 429
	req GET '/images/tiny+virtio/bzImage?wait=1'
	expect_status 429
	# a variant already queued is no new build
	req POST /api/v1/builds -d "$(build_body tiny+debug)"
	expect_status 202
	req GET /images/tiny/bzImage
	expect_status 503
	req GET /api/v1/builds
	expect_eq "$(jq '.builds | length' "$T/body")" 2 "builds queued or running"
}

test_06_too_many_fragments_is_400() {
	start_fresh frags "$T/slow-sources.conf" --max-variant-fragments 1 || return
	req POST /api/v1/builds -d "$(build_body tiny+debug+virtio)"
	expect_status 400
	grep -q 'max-variant-fragments' "$T/body" || fail "the 400 does not say why: $(cat "$T/body")"
	req GET /images/tiny+debug+virtio/bzImage
	expect_status 400
	req POST /api/v1/builds -d "$(build_body tiny+debug)"
	expect_status 202
}

test_07_retry_is_a_new_build() {
	start_fresh retry "$T/dead-sources.conf" --api-tokens "$T/tokens" || return
	req POST /api/v1/builds -H "$(bearer "$TOKEN_A")" -d "$(build_body tiny)"
	expect_status 202
	wait_until 20 build_failed tiny || fail "the build did not fail"
	# asking again without retry is no new build: the failure is the answer
	req POST /api/v1/builds -H "$(bearer "$TOKEN_A")" -d "$(build_body tiny)"
	expect_status 200
	expect_eq "$(jq -r .state "$T/body")" failed "state without retry"
	# a retry is a new build: it needs the token, and is queued again
	req POST /api/v1/builds -d '{"variant": "tiny", "retry": true}'
	expect_status 401
	req POST /api/v1/builds -H "$(bearer "$TOKEN_A")" -d '{"variant": "tiny", "retry": true}'
	expect_status 202
	expect_eq "$(jq -r .state "$T/body")" queued "state after a retry"
}

build_failed() {
	req POST /api/v1/builds -H "$(bearer "$TOKEN_A")" -d "$(build_body "$1")"
	[[ $(jq -r .state "$T/body" 2>/dev/null) == failed ]]
}

test_08_sighup_reloads_tokens() {
	cp "$T/tokens" "$T/tokens-reload"
	chmod 600 "$T/tokens-reload"
	start_fresh reload "$T/slow-sources.conf" --api-tokens "$T/tokens-reload" || return
	req POST /api/v1/builds -H "$(bearer "$TOKEN_B")" -d "$(build_body tiny)"
	expect_status 202
	printf 'alice %s\n' "$TOKEN_A" > "$T/tokens-reload"
	kill -HUP "$TB_PID"
	wait_until 10 grep -q 'configuration reloaded' "$TB_LOG" || fail "no reload"
	req POST /api/v1/builds -H "$(bearer "$TOKEN_B")" -d "$(build_body tiny)"
	expect_status 401
	req POST /api/v1/builds -H "$(bearer "$TOKEN_A")" -d "$(build_body tiny)"
	expect_status 202
	# a file others may read refuses the reload: alice's token still works
	chmod 644 "$T/tokens-reload"
	printf 'bob %s\n' "$TOKEN_B" > "$T/tokens-reload"
	kill -HUP "$TB_PID"
	wait_until 10 grep -q 'reload: .*tokens-reload: others may read' "$TB_LOG" ||
		fail "a world-readable token file was not refused: $(tail -3 "$TB_LOG")"
	req POST /api/v1/builds -H "$(bearer "$TOKEN_A")" -d "$(build_body tiny)"
	expect_status 202
}

test_09_bad_token_file_refuses_start() {
	local out rc=0
	printf 'alice %s\n' "$TOKEN_A" > "$T/tokens-open"
	chmod 644 "$T/tokens-open"
	out=$("$TINYBOOTD" --state "$T/bad-start" --api-tokens "$T/tokens-open" -n 2>&1) || rc=$?
	expect_eq "$rc" 1 "tinybootd -n exit status with a world-readable token file"
	[[ $out == *"others may read or write it"* ]] || fail "tinybootd -n: $out"
	printf 'alice short\n' > "$T/tokens-short"
	chmod 600 "$T/tokens-short"
	rc=0
	out=$("$TINYBOOTD" --state "$T/bad-start" --api-tokens "$T/tokens-short" -n 2>&1) || rc=$?
	expect_eq "$rc" 1 "tinybootd -n exit status with a short token"
	[[ $out == *"tokens-short:1: token of alice must be"* ]] || fail "tinybootd -n: $out"
}

test_10_cli_sends_its_token() {
	start_fresh cli "$T/dead-sources.conf" --api-tokens "$T/tokens" || return
	local out rc
	rc=0
	out=$(timeout 30 "$TINYBOOT_CLI" --server "$TB_URL" build tiny 2>&1) || rc=$?
	[[ $out == *"401 Unauthorized"* ]] || fail "CLI without a token: $out"
	rc=0
	out=$(timeout 30 "$TINYBOOT_CLI" --server "$TB_URL" --token-file "$T/tokens-alice" build tiny 2>&1) || rc=$?
	[[ $out == *"build of tiny failed"* ]] || fail "CLI with --token-file (exit $rc): $out"
	# the daemon's own file works too: its first token
	rc=0
	out=$(TINYBOOT_TOKEN=$TOKEN_B timeout 30 "$TINYBOOT_CLI" --server "$TB_URL" build tiny+debug 2>&1) || rc=$?
	[[ $out == *"build of tiny+debug failed"* ]] || fail "CLI with TINYBOOT_TOKEN (exit $rc): $out"
	rc=0
	out=$(TINYBOOT_TOKEN=nope-nope-nope-nope timeout 30 "$TINYBOOT_CLI" --server "$TB_URL" build tiny+virtio 2>&1) || rc=$?
	[[ $out == *"401 Unauthorized"* ]] || fail "CLI with a wrong TINYBOOT_TOKEN: $out"
	rc=0
	out=$("$TINYBOOT_CLI" --server "$TB_URL" --token-file "$T/absent" version 2>&1) || rc=$?
	expect_eq "$rc" 2 "CLI exit status with a missing token file"
}

test_11_loopback_without_tokens_is_allowed() {
	start_fresh open "$T/slow-sources.conf" || return
	req POST /api/v1/builds -d "$(build_body tiny+virtio)"
	expect_status 202
	req GET /images/tiny+debug/bzImage
	expect_status 503
	grep -q 'beyond loopback without api-tokens' "$TB_LOG" && fail "warned on a loopback listener"
	return 0
}

# ---- a client beyond loopback: the daemon in the "lab" namespace on 0.0.0.0, curl in "site" ----

LAB_PID=''
LAB_URL=''

# lab_req METHOD PATH [curl args]: like req, from the site host (192.0.2.2).
lab_req() {
	local method=$1 path=$2 out=$T/body
	shift 2
	rm -f "$T/body" "$T/headers"
	[[ $method == HEAD ]] && out=/dev/null && set -- --head "$@"
	STATUS=$(netns_exec "$NETNS_SITE" curl -s --max-time 10 -X "$method" -o "$out" -D "$T/headers" \
		-w '%{http_code}' "$@" "$LAB_URL$path") || true
	[[ -e $T/body ]] || : > "$T/body"
}

lab_start() {
	[[ -n $LAB_PID ]] && return 0
	netns_setup --taps 0 --site || { fail "no network namespaces"; return 1; }
	rm -rf "$T/lab-state" "$T/lab-slow.port"
	mkdir -p "$T/lab-payloads"
	# the namespace's own 127.0.0.1: a source server of its own, so builds stay running there
	netns_spawn "$NETNS_LAB" "$T/lab-slow.log" perl "$SLOW_SOURCE" --parallel "$T/lab-slow.port" 300
	wait_until 10 test -s "$T/lab-slow.port" || { fail "lab source server: $(cat "$T/lab-slow.log")"; return 1; }
	sources_conf "$T/lab-sources.conf" "http://127.0.0.1:$(cat "$T/lab-slow.port")"
	netns_spawn "$NETNS_LAB" "$T/lab.log" "$TINYBOOTD" --listen 0.0.0.0:0 --state "$T/lab-state" \
		--payloads "$T/lab-payloads" "${INPUTS[@]}" --sources "$T/lab-sources.conf" \
		--machines "$T/machines.conf" --drain-timeout 2 --log-level debug
	LAB_PID=$NETNS_PID
	wait_until 10 grep -q 'listening on http://' "$T/lab.log" || { fail "lab daemon: $(cat "$T/lab.log")"; return 1; }
	LAB_URL=http://192.0.2.1:$(sed -n 's|.*listening on http://[^ ]*:\([0-9]*\)/.*|\1|p' "$T/lab.log" | head -1)
}

test_20_beyond_loopback_without_tokens() {
	lab_start || return
	grep -q 'beyond loopback without api-tokens' "$T/lab.log" || fail "no start-up warning: $(head -5 "$T/lab.log")"
	lab_req POST /api/v1/builds -d "$(build_body tiny)"
	expect_status 403
	grep -q 'api-tokens' "$T/body" || fail "the 403 does not say how: $(cat "$T/body")"
	lab_req POST /api/v1/boots -d '{"mac": "52:54:00:00:0a:01", "server": "http://192.0.2.1:8080"}'
	expect_status 403
	# reads stay open
	lab_req GET /api/v1/builds
	expect_status 200
	lab_req GET /healthz
	expect_status 200
}

test_21_beyond_loopback_reads_build_listed_variants_only() {
	lab_start || return
	lab_req GET /images/tiny+virtio/bzImage
	expect_status 403
	grep -q 'POST /api/v1/builds' "$T/body" || fail "the 403 does not say how: $(cat "$T/body")"
	lab_req HEAD /images/net/initrd
	expect_status 403
	lab_req GET /images/tiny/bzImage
	expect_status 503
	grep -q 'is being built' "$T/body" || fail "not building: $(cat "$T/body")"
	lab_req GET '/ipxe?mac=52:54:00:00:0a:01'
	expect_status 200
	grep -q 'images/tiny/bzImage' "$T/body" || fail "script: $(cat "$T/body")"
	# from the lab host's own loopback a change is allowed
	STATUS=$(netns_exec "$NETNS_LAB" curl -s --max-time 10 -o "$T/body" -w '%{http_code}' \
		-d "$(build_body tiny+virtio)" "http://127.0.0.1:${LAB_URL##*:}/api/v1/builds") || true
	expect_status 202
	# once queued anyone may ask after it
	lab_req GET /images/tiny+virtio/bzImage
	expect_status 503
}

test_29_lab_daemon_stops_cleanly() {
	[[ -n $LAB_PID ]] || return 0
	kill -TERM "$LAB_PID"
	wait_until 10 daemon_gone "$LAB_PID" || fail "lab daemon still running"
	local rc=0
	wait "$LAB_PID" || rc=$?
	expect_eq "$rc" 0 "lab daemon exit status"
	tb_check_sanitizers "$T/lab.log"
	LAB_PID=''
	netns_cleanup
}

test_99_stop() {
	[[ -n ${TB_PID:-} && -z ${TB_STOPPED:-} ]] && tb_stop
	return 0
}

run_tests
