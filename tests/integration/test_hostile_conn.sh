#!/bin/bash
# test_hostile_conn.sh - clients that hold connections or send bodies the daemon does not want:
# slow heads (slowloris) from many addresses, heads and bodies trickled past their deadlines,
# and bodies over the route's limit announced by Content-Length.
source "$(dirname "$0")/../lib.sh"

SLOW=$ROOT/tests/integration/slow-client.pl
mkdir -p "$T/payloads"
head -c 1048576 /dev/urandom > "$T/payloads/big.bin"

# slow_client ARGS...: run the helper in the background, output in $T/slow.out; sets SLOW_PID.
slow_client() {
	rm -f "$T/slow.out"
	perl "$SLOW" "$@" > "$T/slow.out" 2>&1 &
	SLOW_PID=$!
	own_pid "$SLOW_PID"
}
slow_client_done() { daemon_gone "$SLOW_PID"; }
slow_client_opened() { grep -q '^opened' "$T/slow.out"; }

# One normal client from 127.0.0.1: the 1 MiB payload, whole, within a second.
get_big_within_a_second() {
	local out
	rm -f "$T/big.got"
	out=$(curl -s --interface 127.0.0.1 --max-time 1 -o "$T/big.got" \
		-w '%{http_code} %{time_total}' "$TB_URL/payloads/big.bin") || true
	[[ ${out%% *} == 200 ]] && cmp -s "$T/big.got" "$T/payloads/big.bin" ||
		fail "GET /payloads/big.bin during the attack: '$out' (want 200 and the whole file within 1 s)"
}

# Issue 12 item 1: 1,000 sockets from 12 addresses, each sending a header line every 2 s (well
# inside connection-timeout, so no idle timer ever fires), more than max-connections holds; the
# attacker opens a socket again whenever one is closed. A normal GET must still be served, fast.
test_slow_heads_do_not_lock_out_others() {
	tb_use --max-connections 500
	slow_client attack --to "$TB" --count 1000 --from 127.0.0.2-13 --every 2 --for 30 \
		--reconnect 20000
	wait_until 20 slow_client_opened || fail "attacker did not open its sockets: $(cat "$T/slow.out")"
	sleep 2 # the daemon takes what it can; the attack trickles on
	get_big_within_a_second
	sleep 1
	get_big_within_a_second
	req GET /healthz --max-time 1
	expect_status 200
	# stopping with the table full of attackers: exit 0, no sanitizer report
	tb_stop
	daemon_kill "$SLOW_PID" 2
}

# Shedding takes the connection that has waited longest for its head, and only as many as
# there are clients waiting: the younger ones stay open.
test_full_table_sheds_oldest_head_first() {
	local a b c fd rc
	tb_use --max-connections 3
	exec {a}<>"/dev/tcp/${TB%:*}/${TB##*:}"
	printf 'GET /healthz HTTP/1.1\r\n' >&"$a"
	sleep 0.3
	exec {b}<>"/dev/tcp/${TB%:*}/${TB##*:}"
	printf 'GET /healthz HTTP/1.1\r\n' >&"$b"
	sleep 0.3
	exec {c}<>"/dev/tcp/${TB%:*}/${TB##*:}"
	sleep 0.3
	req GET /healthz --max-time 2
	expect_status 200
	rc=0; read -r -t 2 -u "$a" _ || rc=$?
	[[ $rc -eq 1 ]] || fail "oldest head: read status $rc, want 1 (closed)"
	for fd in "$b" "$c"; do
		rc=0; read -r -t 0.3 -u "$fd" _ || rc=$?
		[[ $rc -gt 128 ]] || fail "a younger connection was closed too (read status $rc)"
	done
	exec {a}<&- {b}<&- {c}<&-
}

# header-timeout is a deadline for the whole head, however busy the client keeps the line.
test_head_trickled_past_header_timeout_is_closed() {
	local out secs
	tb_use --header-timeout 2 --body-timeout 3
	slow_client trickle --to "$TB" --every 0.5 --for 8
	wait_until 10 slow_client_done || true
	out=$(cat "$T/slow.out")
	[[ $out == 'closed after '* ]] || fail "head trickled for 8 s: '$out' (want closed after ~2 s)"
	secs=$(sed -n 's/^closed after \([0-9]*\)\..*/\1/p' <<<"$out")
	[[ -n $secs && $secs -ge 1 && $secs -le 4 ]] || fail "head closed: '$out' (want after 2-4 s)"
	grep -q 'header-timeout' "$TB_LOG" || fail "no log line names header-timeout"
	req GET /healthz
	expect_status 200
}

# body-timeout is a deadline for the whole body.
test_body_trickled_past_body_timeout_is_closed() {
	local out secs
	tb_use --header-timeout 2 --body-timeout 3
	slow_client trickle --to "$TB" --every 0.5 --for 9 --body 1000 --path /api/v1/reports
	wait_until 11 slow_client_done || true
	out=$(cat "$T/slow.out")
	[[ $out == 'closed after '* ]] || fail "body trickled for 9 s: '$out' (want closed after ~3 s)"
	secs=$(sed -n 's/^closed after \([0-9]*\)\..*/\1/p' <<<"$out")
	[[ -n $secs && $secs -ge 2 && $secs -le 5 ]] || fail "body closed: '$out' (want after 3-5 s)"
	grep -q 'body-timeout' "$TB_LOG" || fail "no log line names body-timeout"
}

# A client that keeps its head coming quickly is not touched by the deadlines: several requests
# on one keep-alive connection, spread over longer than header-timeout.
test_keep_alive_outlives_header_timeout() {
	local out
	tb_use --header-timeout 2 --body-timeout 3
	out=$(curl -sv -o /dev/null -o /dev/null -o /dev/null "$TB_URL/healthz" \
		"$TB_URL/payloads/big.bin" "$TB_URL/healthz" 2>&1)
	grep -q 'Re-using existing connection' <<<"$out" || fail "connection not reused"
	grep -c '^< HTTP/1.1 200' <<<"$out" | grep -qx 3 || fail "want 3 answers 200: $out"
}

# post_expect PATH BYTES [curl args...]: POST BYTES zero bytes from a pipe with Expect:
# 100-continue; leaves STATUS, UPLOADED (bytes curl sent), $T/headers and $T/body.
post_expect() {
	local path=$1 bytes=$2 out
	shift 2
	rm -f "$T/body" "$T/headers"
	out=$(head -c "$bytes" /dev/zero | curl -s --path-as-is --max-time 20 -o "$T/body" \
		-D "$T/headers" -w '%{http_code} %{size_upload}' -H 'Expect: 100-continue' \
		-H 'Content-Type: application/json' "$@" --data-binary @- "$TB_URL$path") || true
	STATUS=${out%% *}
	UPLOADED=${out##* }
	[[ -e $T/body ]] || : > "$T/body"
}

# Issue 12 item 5: a body over the route's limit is refused from Content-Length, before it is
# read: the 413 comes instead of 100 Continue, on every spelling of the path.
test_oversized_body_refused_before_it_is_sent() {
	local p
	tb_use
	for p in /api/v1/reports /api/v1/reports/ /api/v1/%72eports; do
		post_expect "$p" 67108864
		expect_status 413
		expect_header Connection close
		expect_body '413 Content Too Large: body over 16384 bytes\n'
		[[ $UPLOADED -lt 65536 ]] || fail "POST $p: curl sent $UPLOADED body bytes before the 413"
		grep -q '^HTTP/1.1 100' "$T/headers" && fail "POST $p: 100 Continue sent for a body over the limit"
	done
	# the default limit of the other routes, the same way
	post_expect /api/v1/boots 67108864
	expect_status 413
	expect_body '413 Content Too Large: body over 65536 bytes\n'
	[[ $UPLOADED -lt 65536 ]] || fail "POST /api/v1/boots: curl sent $UPLOADED body bytes before the 413"
	# a path that is refused anyway is refused before its body too
	post_expect /api/v1/reports// 67108864
	expect_status 400
	[[ $UPLOADED -lt 65536 ]] || fail "POST /api/v1/reports//: curl sent $UPLOADED body bytes before the 400"
}

# At the limit the body is read as before; chunked bodies (no Content-Length) over it still
# get 413 once they end; the daemon answers normally afterwards.
test_bodies_at_the_limit_and_chunked() {
	tb_use
	post_expect /api/v1/reports 16384
	[[ $STATUS == 400 ]] || fail "16 KiB report: status $STATUS, want 400 (read, then refused as JSON)"
	[[ $UPLOADED == 16384 ]] || fail "16 KiB report: curl sent $UPLOADED bytes"
	post_expect /api/v1/reports 100000 -H 'Transfer-Encoding: chunked'
	expect_status 413
	expect_body '413 Content Too Large: body over 16384 bytes\n'
	req GET /healthz
	expect_status 200
}

run_tests
