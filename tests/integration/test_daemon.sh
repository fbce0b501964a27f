#!/bin/bash
# test_daemon.sh - start-up checks, exit codes, reload, graceful stop and connection limits.
source "$(dirname "$0")/../lib.sh"

mkdir -p "$T/payloads" "$T/payloads-b" "$T/state"
echo a > "$T/payloads/a.txt"
echo b > "$T/payloads-b/b.txt"
# larger than loopback socket buffers, so a rate-limited download really is in flight
head -c $((64 << 20)) /dev/zero > "$T/payloads/big.bin"

test_check_ok() {
	cat > "$T/good.conf" <<CONF
# a valid configuration
listen = 127.0.0.1:0
state = $T/state
payloads = $T/payloads
connection-timeout = 10
CONF
	local out rc=0
	out=$("$TINYBOOTD" -n --config "$T/good.conf" 2>&1) || rc=$?
	expect_eq "$rc" 0 "exit code"
	expect_eq "$out" "configuration OK" output
}

test_check_reports_file_and_line() {
	printf 'listen = 127.0.0.1:0\n\n# fine so far\nconnection-timeout = soon\n' > "$T/bad.conf"
	local out rc=0
	out=$("$TINYBOOTD" -n --config "$T/bad.conf" 2>&1) || rc=$?
	expect_eq "$rc" 1 "exit code"
	expect_eq "$out" "tinybootd: $T/bad.conf:4: connection-timeout: 'soon' is not a number in 1..86400" output
	printf 'listen = 127.0.0.1:0\nlisen = x\n' > "$T/bad2.conf"
	rc=0
	out=$("$TINYBOOTD" -n -c "$T/bad2.conf" 2>&1) || rc=$?
	expect_eq "$rc" 1 "exit code"
	expect_eq "$out" "tinybootd: $T/bad2.conf:2: unknown key 'lisen'" output
}

test_check_bad_listen_and_dirs() {
	local out rc=0
	out=$("$TINYBOOTD" -n --listen nowhere --state "$T/state" 2>&1) || rc=$?
	expect_eq "$rc" 1 "exit code"
	expect_eq "$out" "tinybootd: listen: 'nowhere' is not ADDR:PORT" output
	rc=0
	out=$("$TINYBOOTD" -n --state "$T/state" --payloads "$T/does-not-exist" 2>&1) || rc=$?
	expect_eq "$rc" 2 "exit code"
	expect_eq "$out" "tinybootd: open $T/does-not-exist: No such file or directory" output
}

test_startup_exit_codes() {
	local rc=0
	"$TINYBOOTD" --bogus 2>/dev/null || rc=$?
	expect_eq "$rc" 1 "unknown flag"
	rc=0
	"$TINYBOOTD" --state "$T/state" --payloads "$T/nope" --listen 127.0.0.1:0 2>/dev/null || rc=$?
	expect_eq "$rc" 2 "missing payload dir"
	# a port that is taken
	tb_start || return
	rc=0
	timeout 10 "$TINYBOOTD" --state "$T/state2" --listen "$TB" 2>"$T/busy.log" || rc=$?
	expect_eq "$rc" 3 "port in use"
	grep -q 'Address already in use' "$T/busy.log" || fail "no reason given: $(cat "$T/busy.log")"
	# a state directory another daemon is using: its builds in tmp/ must not be swept away
	rc=0
	timeout 10 "$TINYBOOTD" --state "$T/state" --listen 127.0.0.1:0 2>"$T/locked.log" || rc=$?
	expect_eq "$rc" 2 "state directory in use"
	grep -q "state directory $T/state is in use by another tinybootd" "$T/locked.log" ||
		fail "no reason given: $(cat "$T/locked.log")"
	tb_stop
}

test_help_lists_every_option() {
	local out
	out=$("$TINYBOOTD" --help)
	for opt in --config --listen --state --payloads --connection-timeout --max-connections \
		--max-connections-per-ip --connection-memory --drain-timeout --check; do
		grep -q -- "$opt" <<<"$out" || fail "--help does not mention $opt"
	done
}

test_prints_bound_address() {
	tb_start || return
	[[ $TB =~ ^127\.0\.0\.1:[0-9]+$ ]] || fail "address '$TB'"
	[[ ${TB##*:} != 0 ]] || fail "port 0 printed"
	req GET /healthz
	expect_status 200
	tb_stop
}

test_sighup_reload_and_bad_reload_keeps_old() {
	cat > "$T/reload.conf" <<CONF
payloads = $T/payloads
CONF
	TB_PAYLOADS= tb_start --config "$T/reload.conf" || return
	req GET /payloads/a.txt
	expect_status 200
	echo "payloads = $T/payloads-b" > "$T/reload.conf"
	kill -HUP "$TB_PID"
	wait_until 30 grep -q 'configuration reloaded' "$TB_LOG"
	req GET /payloads/b.txt
	expect_status 200
	expect_body 'b\n'
	req GET /payloads/a.txt
	expect_status 404
	# a broken file is reported and the running configuration stays
	printf 'payloads = %s\nthreads = many\n' "$T/payloads" > "$T/reload.conf"
	kill -HUP "$TB_PID"
	wait_until 30 grep -q 'reload: .*reload.conf:2' "$TB_LOG"
	grep -q "reload: $T/reload.conf:2: threads: 'many' is not a number" "$TB_LOG" ||
		fail "bad reload not reported: $(tail -3 "$TB_LOG")"
	req GET /payloads/b.txt
	expect_status 200
	# a directory that vanished is reported too
	printf 'payloads = %s\n' "$T/gone" > "$T/reload.conf"
	kill -HUP "$TB_PID"
	wait_until 5 grep -q "open $T/gone" "$TB_LOG"
	grep -q "reload: open $T/gone: No such file or directory; keeping" "$TB_LOG" || fail "missing dir not reported"
	req GET /payloads/b.txt
	expect_status 200
	tb_stop
}

test_sigterm_finishes_transfer_in_flight() {
	tb_start || return
	# 64 MiB at 16 MB/s: about four seconds in flight when SIGTERM arrives
	curl -s --limit-rate 16M -o "$T/inflight.bin" -w '%{http_code}' "$TB_URL/payloads/big.bin" > "$T/inflight.status" &
	local curl_pid=$! rc=0
	own_pid "$curl_pid"
	sleep 0.5
	kill -TERM "$TB_PID"
	sleep 1
	# no new requests served while draining (they are answered 503: test_drain.sh)
	curl -sf --max-time 2 -o /dev/null "$TB_URL/healthz" && fail "served a new connection while draining"
	kill -0 "$TB_PID" 2>/dev/null || fail "daemon exited before the transfer finished"
	wait "$curl_pid" || fail "curl failed during drain"
	expect_eq "$(cat "$T/inflight.status")" 200 "in-flight status"
	cmp -s "$T/inflight.bin" "$T/payloads/big.bin" || fail "in-flight transfer truncated"
	wait "$TB_PID" || rc=$?
	expect_eq "$rc" 0 "exit code after drain"
	tb_check_sanitizers "$TB_LOG"
}

test_idle_connection_times_out() {
	tb_start --connection-timeout 1 || return
	exec {fd}<>"/dev/tcp/${TB%:*}/${TB##*:}"
	local start=$SECONDS got
	got=$(timeout 5 cat <&$fd; echo "rc=$?")
	exec {fd}<&-
	expect_eq "$got" "rc=0" "idle connection closed by the server"
	(( SECONDS - start <= 4 )) || fail "closed after $((SECONDS - start)) s, want about 1"
	tb_stop
}

test_per_ip_connection_limit() {
	tb_start --max-connections-per-ip 2 || return
	exec {a}<>"/dev/tcp/${TB%:*}/${TB##*:}"
	exec {b}<>"/dev/tcp/${TB%:*}/${TB##*:}"
	sleep 0.2
	curl -s --max-time 3 -o /dev/null "$TB_URL/healthz" && fail "third connection from one address accepted"
	exec {a}<&- {b}<&-
	sleep 0.3
	req GET /healthz
	expect_status 200
	tb_stop
}

# A transfer in flight holds its place: a second client waits. A connection that has not sent
# its request head gives its place to a client waiting for one (issue 12: slow heads must not
# lock others out).
test_total_connection_limit() {
	local dl
	tb_start --max-connections 1 || return
	curl -s --limit-rate 1M -o /dev/null "$TB_URL/payloads/big.bin" &
	dl=$!
	own_pid "$dl"
	sleep 0.3
	curl -s --max-time 3 -o /dev/null "$TB_URL/healthz" && fail "second connection accepted over the total limit"
	daemon_kill "$dl" 2
	sleep 0.3
	req GET /healthz
	expect_status 200
	exec {a}<>"/dev/tcp/${TB%:*}/${TB##*:}"
	sleep 0.2
	req GET /healthz --max-time 3
	expect_status 200
	exec {a}<&-
	tb_stop
}

test_connection_memory_limit() {
	tb_start --connection-memory 8K || return
	req GET /healthz -H "X-Big: $(head -c 12000 /dev/zero | tr '\0' a)"
	[[ $STATUS == 431 || $STATUS == 413 ]] || fail "status $STATUS for oversized headers, want 431"
	req GET /healthz
	expect_status 200
	tb_stop
}

test_draining_health_is_503() {
	tb_start || return
	curl -s --limit-rate 16M -o /dev/null "$TB_URL/payloads/big.bin" &
	own_pid $!
	sleep 0.3
	# the same connection is gone once SIGTERM arrives, so ask over a keep-alive that exists
	exec {fd}<>"/dev/tcp/${TB%:*}/${TB##*:}"
	sleep 0.2 # accepted before the listener goes quiet
	kill -TERM "$TB_PID"
	sleep 0.3
	printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n' >&$fd
	local answer
	answer=$(timeout 5 cat <&$fd | tr -d '\r')
	exec {fd}<&-
	grep -q '^HTTP/1.1 503' <<<"$answer" || fail "healthz while draining: $(head -1 <<<"$answer")"
	grep -q '^Connection: close' <<<"$answer" || fail "no Connection: close while draining"
	grep -q '"status": "draining"' <<<"$answer" || fail "body does not say draining"
	wait "$TB_PID" || fail "exit code $?"
}

run_tests
