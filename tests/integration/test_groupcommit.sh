#!/bin/bash
# test_groupcommit.sh - many guests reporting at once: every 201 is on disk (it comes back after
# kill -9), one fdatasync serves many reports (tinyboot_journal_syncs_total), a failed sync is
# a 507 and the report is neither in memory nor in the journal after a restart (an ext4 on a
# loop device whose backing tmpfs runs full: a real ENOSPC from fdatasync), and SIGTERM while
# reports wait for their sync answers them all. The guests are bench/reports.c (one thread,
# epoll, each guest on its own connection from its own 127.0.x.y address, all requests sent
# in one sweep once every connection is up). Boots are written into the journal before the
# daemon starts, as test_reports.sh does: nothing is built.
source "$(dirname "$0")/../lib.sh"

source "$(dirname "$0")/fullfs.sh" # test_03's full file system
trap 'lib_cleanup; fullfs_teardown' EXIT

REPORTS=$T/reports
cc -std=gnu11 -D_GNU_SOURCE -O2 "$ROOT/bench/reports.c" -o "$REPORTS" ||
	{ echo "test_groupcommit.sh: cannot build bench/reports.c"; echo "test_groupcommit.sh: 0 passed, 1 failed"; exit 1; }

# seed STATE N: N boots of machines g0000.. in STATE/boots.log, "MACHINE TOKEN" lines in
# STATE.tokens
seed() {
	mkdir -p "$1"
	od -An -tx1 -v -N $((16 * $2)) /dev/urandom | tr -d ' \n' | fold -w 32 |
		awk -v now="$(date +%s)" -v tok="$1.tokens" '{
			m = sprintf("g%04d", NR - 1)
			printf "{\"artifact\":\"\",\"at\":%d,\"firmware\":\"bios\",\"mac\":\"\",\"machine\":\"%s\",\"timeout_s\":600,\"token\":\"%s\",\"type\":\"boot\",\"variant\":\"net\"}\n", now, m, $1
			print m, $1 > tok
		}' >> "$1/boots.log"
}

# field LINE NAME: NAME=VALUE out of the driver's result line
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1"; }
stored() { grep -c '"type":"report"' "$1/boots.log"; }
syncs() { curl -fs "$TB_URL/metrics" | awk '$1 == "tinyboot_journal_syncs_total" { print $2 }'; }
api_ok() { curl -fs "$TB_URL/api/v1/machines?limit=1000" | jq '[.. | objects | select(.result? == "ok")] | length'; }
# report LINE: POST the report of the boot in LINE ("MACHINE TOKEN"), as S50tinyboot sends it
report() {
	req POST /api/v1/reports -H 'Content-Type: application/json' --data-binary \
		"{\"id\":\"${1% *}\",\"boot\":\"${1#* }\",\"kernel\":\"6.1.0\",\"arch\":\"x86_64\",\"ok\":true,\"uptime\":{\"net\":1.5},\"addresses\":[],\"payloads\":[]}"
}
kill9() {
	kill -KILL "$TB_PID"
	wait "$TB_PID" 2>/dev/null
	TB_STOPPED=1
}

# 500 guests report at the same moment: all 201, fast, and all back after kill -9.
test_01_500_reports_at_once_all_stored() {
	local st=$T/s1 out p99
	seed "$st" 500
	tb_use --state "$st" --log-level info || return
	out=$("$REPORTS" "$TB" "$st.tokens" 1 60)
	echo "    500 reports at once: $out"
	expect_eq "$(field "$out" created)" 500 "reports answered 201"
	p99=$(field "$out" p99_ms)
	# the issue's target is 1 s; the ASan build on a loaded 2-core machine gets a wider bound
	awk -v p="$p99" 'BEGIN { exit !(p < 5000) }' || fail "p99 $p99 ms"
	kill9
	tb_use --state "$st" || return
	expect_eq "$(stored "$st")" 500 "report records in the journal after kill -9"
	expect_eq "$(api_ok)" 500 "machines whose last boot is ok after kill -9"
	tb_stop
}

# One fdatasync makes many reports durable: fewer syncs than reports (the daemon before group
# commit made one per report).
test_02_fewer_syncs_than_reports() {
	local st=$T/s2 out before after
	seed "$st" 300
	tb_use --state "$st" --log-level info || return
	before=$(syncs)
	[[ -n $before ]] || { fail "no tinyboot_journal_syncs_total in /metrics"; return; }
	head -299 "$st.tokens" > "$st.burst"
	out=$("$REPORTS" "$TB" "$st.burst" 1 60)
	after=$(syncs)
	echo "    299 reports at once: $((after - before)) fdatasyncs; $out"
	expect_eq "$(field "$out" created)" 299 "reports answered 201"
	(( after - before >= 1 )) || fail "no sync counted"
	(( after - before < 299 )) || fail "$((after - before)) syncs for 299 reports: one per report"
	# a report alone still has its own sync before its 201
	before=$after
	report "$(tail -1 "$st.tokens")"
	expect_status 201
	expect_eq "$(( $(syncs) - before ))" 1 "syncs for one report"
	tb_stop
}

# fdatasync fails for real: the state directory is an ext4 (no journal of its own) on a loop
# device whose sparse backing file lives on a tmpfs; its free blocks are punched out of the
# backing file and the tmpfs is filled, as thin-provisioned storage runs out: writes land in the
# page cache, the write-back of a new block fails and fdatasync returns ENOSPC. The report waiting for that sync is answered 507, memory does not
# take it, the journal does not keep it (kill -9, restart); with room again it is taken.
test_03_failed_sync_is_507_and_taken_back() {
	local st line line1 line2 tok1 tok2 big pad i k
	if ! fullfs_usable; then
		echo "    skipped: needs root, losetup, mkfs.ext4, dumpe2fs and fallocate"
		return
	fi
	fullfs_mount tinyboot-gc || return
	st=$FULLFS_DIR/fs/state
	seed "$st" 8
	sync
	line1=$(sed -n 1p "$st.tokens")
	tok1=${line1#* }
	tb_use --state "$st" || return
	report "$line1"
	expect_status 201
	# whatever block the journal gets next cannot be written
	fullfs_fill "$st/boots.log"
	# reports of about 8 KB: each needs new blocks. The first may still land in blocks ext4
	# reserved for the file and whose pages the backing file has (then it is stored: a 201 is
	# right); one of the next cannot.
	pad=$(head -c 150 /dev/zero | tr '\0' p)
	big=$(for i in $(seq 40); do printf '{"name":"payload-%03d-%s","size":1,"sha256":"ab","ok":true}\n' "$i" "$pad"; done | paste -sd,)
	for i in 2 3 4 5 6 7; do
		line2=$(sed -n ${i}p "$st.tokens")
		tok2=${line2#* }
		req POST /api/v1/reports -H 'Content-Type: application/json' --data-binary \
			"{\"id\":\"${line2% *}\",\"boot\":\"$tok2\",\"kernel\":\"6.1.big\",\"arch\":\"x86_64\",\"ok\":true,\"uptime\":{\"net\":1.5},\"payloads\":[$big]}"
		[[ $STATUS == 201 ]] || break
	done
	echo "    the sync failed for big report $((i - 1)) on the full disk"
	expect_status 507
	grep -q 'boots.log: sync: No space left on device' "$TB_LOG" ||
		fail "no failed sync logged: $(grep -i 'boots.log\|report' "$TB_LOG" | tail -3)"
	grep -q 'sync failed: took back 1 record' "$TB_LOG" || fail "no take-back logged"
	expect_eq "$(curl -s "$TB_URL/api/v1/boots/$tok2" | jq -r '.result + " " + (.report | type)')" \
		"pending null" "the refused report's boot"
	expect_eq "$(curl -s "$TB_URL/api/v1/boots/$tok1" | jq -r .result)" ok "the report acknowledged before"
	kill9
	grep -q "\"token\":\"$tok1\",\"type\":\"report\"" "$st/boots.log" || fail "the acknowledged report is not in the journal"
	grep -q "\"token\":\"$tok2\",\"type\":\"report\"" "$st/boots.log" && fail "the refused report is in the journal"
	[[ $(tail -c 1 "$st/boots.log" | od -An -c | tr -d ' ') == '\n' ]] || fail "the journal does not end in a newline"
	fullfs_unfill
	tb_use --state "$st" || return
	expect_eq "$(curl -s "$TB_URL/api/v1/boots/$tok1" | jq -r .result)" ok "the acknowledged report after the restart"
	expect_eq "$(curl -s "$TB_URL/api/v1/boots/$tok2" | jq -r .result)" pending "the refused report after the restart"
	for ((k = 2; k < i; k++)); do # the big ones answered 201 before it
		line=$(sed -n ${k}p "$st.tokens")
		expect_eq "$(curl -s "$TB_URL/api/v1/boots/${line#* }" | jq -r .result)" ok "report $k after the restart"
	done
	report "$line2" # room again: taken
	expect_status 201
	tb_stop
	fullfs_teardown
}

# SIGTERM while reports wait for their sync: every guest gets an answer (201, or 503 for one
# that arrived after the drain began), the daemon exits 0 with no sanitizer report, and every
# 201 is in the journal.
test_04_sigterm_answers_waiting_reports() {
	local st=$T/s4 out driver created answered late
	seed "$st" 400
	tb_use --state "$st" --log-level info || return
	"$REPORTS" "$TB" "$st.tokens" 1 60 > "$T/drain.out" &
	driver=$!
	own_pid "$driver"
	# stop once the first reports are in: the rest are being written or wait for a sync
	wait_until 20 grep -q 'report from g' "$TB_LOG" || fail "no report arrived"
	tb_stop
	wait "$driver"
	out=$(cat "$T/drain.out")
	created=$(field "$out" created) answered=$(field "$out" answered)
	late=$(sed -n '/finishing transfers in flight/,$p' "$TB_LOG" | grep -c 'report from g')
	echo "    SIGTERM during 400 reports: $late answered 201 after the signal; $out"
	expect_eq "$answered" 400 "guests with an answer"
	[[ $(field "$out" statuses) =~ ^(201:[0-9]+)?(,?503:[0-9]+)?$ ]] || fail "statuses $(field "$out" statuses)"
	expect_eq "$(stored "$st")" "$created" "report records in the journal (201s: $created)"
}

run_tests
