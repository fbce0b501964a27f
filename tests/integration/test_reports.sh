#!/bin/bash
# test_reports.sh - guest reports against the real daemon: only the guest of a boot can report
# it, once; the API shows boot ids, never tokens; reports keep their known fields; the machines
# list comes in pages; every report answered 201 comes back after a restart, across a torn
# journal tail, a journal line over 64 KiB and a full state directory (a small tmpfs).
# Boots are written into STATE/boots.log before the daemon starts (as an earlier run would
# have left them), so no kernel is built here.
source "$(dirname "$0")/../lib.sh"

FULL= # the tmpfs mount point of test_full_state_dir, unmounted whatever happens
reports_unmount() {
	if [[ -n $FULL ]]; then
		mountpoint -q "$FULL" && { umount "$FULL" || umount -l "$FULL"; }
		rmdir "$FULL" 2>/dev/null
	fi
	return 0
}
trap 'lib_cleanup; reports_unmount' EXIT

new_token() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }
id_of() { printf %s "$1" | sha256sum | cut -c1-16; } # the boot id the API shows for a token

# seed_boot FILE TOKEN MACHINE [TIMEOUT_S [AGE_S]]: a boot line as the daemon writes it.
seed_boot() {
	printf '{"artifact":"","at":%s,"firmware":"bios","mac":"","machine":"%s","timeout_s":%s,"token":"%s","type":"boot","variant":"net"}\n' \
		"$(($(date +%s) - ${5:-0}))" "$3" "${4:-600}" "$2" >> "$1"
}

# report_json MACHINE TOKEN [KERNEL [EXTRA_FIELDS]]: a report as S50tinyboot sends it.
report_json() {
	printf '{"id":"%s","boot":"%s","kernel":"%s","arch":"x86_64","ok":true,"uptime":{"net":1.5,"report":3.25},"addresses":["10.0.2.15/24"],"payloads":[{"name":"hello.txt","size":6,"expected_size":6,"sha256":"ab","expected_sha256":"ab","ok":true,"start":2,"end":2.5}]%s}' \
		"$1" "$2" "${3:-6.1.0}" "${4:+,$4}"
}

post_report() { req POST /api/v1/reports -H 'Content-Type: application/json' --data-binary "$1"; }
boot_json() { curl -s "$TB_URL/api/v1/boots/$1"; }

cat > "$T/machines.conf" <<CONF
52:54:00:00:01:01  name=lab1  variant=net
52:54:00:00:01:02  name=lab2  variant=net
52:54:00:00:01:03  name=lab3  variant=net
CONF

# Boots: A B C of lab1 lab2 lab3; SLOW timed out long ago; E F for the restart tests; 1000
# machines m0000..m0999 for the pages; OLD has a report line over 64 KiB from an older daemon.
mkdir -p "$T/state"
J=$T/state/boots.log
TA=$(new_token) TB_=$(new_token) TC=$(new_token) TSLOW=$(new_token) TE=$(new_token) TF=$(new_token)
TOLD=$(new_token)
seed_boot "$J" "$TA" lab1
seed_boot "$J" "$TB_" lab2
seed_boot "$J" "$TC" lab3
seed_boot "$J" "$TSLOW" slow 5 1000
seed_boot "$J" "$TE" lab-e
seed_boot "$J" "$TF" lab-f
i=0
while read -r t; do
	seed_boot "$J" "$t" "$(printf 'm%04d' "$i")"
	i=$((i + 1))
done < <(head -c 16000 /dev/urandom | od -An -tx1 -v | tr -d ' \n' | fold -w 32; echo)
seed_boot "$J" "$TOLD" old
printf '{"at":%s,"ok":true,"report":{"id":"old","boot":"%s","kernel":"6.1.old","uptime":{},"payloads":[],"junk":"%s"},"token":"%s","type":"report"}\n' \
	"$(date +%s)" "$TOLD" "$(head -c 80000 /dev/zero | tr '\0' j)" "$TOLD" >> "$J"
MACHINES=$((1000 + 7)) # m0000..m0999, lab1-3, slow, lab-e, lab-f, old
ACKED=() # tokens whose report was answered 201: each must be there after every restart

reports_start() { tb_use --machines "$T/machines.conf"; }
reports_start || exit 1

test_01_machines_show_boot_ids_not_tokens() {
	reports_start || return
	req GET /api/v1/machines
	expect_status 200
	local t
	for t in "$TA" "$TB_" "$TC" "$TE"; do
		grep -q "$t" "$T/body" && fail "GET /api/v1/machines shows the token $t"
	done
	expect_eq "$(jq -r .lab1.boot "$T/body")" "$(id_of "$TA")" "lab1's boot id"
	# the id finds the boot (the CLI follows an iPXE boot that way); the token still does
	expect_eq "$(boot_json "$(id_of "$TA")" | jq -r .machine)" lab1 "boot by id"
	expect_eq "$(boot_json "$TA" | jq -r .boot)" "$(id_of "$TA")" "boot by token shows the id"
	req GET "/api/v1/boots/$(id_of "$TA")"
	grep -q "$TA" "$T/body" && fail "GET /api/v1/boots/ID shows the token"
	return 0
}

test_02_report_needs_the_token_of_its_boot() {
	reports_start || return
	post_report '{"id":"lab1","kernel":"6.1","uptime":{},"payloads":[]}'
	expect_status 400 # no token at all
	post_report "$(report_json lab1 "")"
	expect_status 400
	post_report "$(report_json lab1 "$(new_token)")"
	expect_status 404 # a token nobody handed out
	post_report "$(report_json ghost "$(new_token)")"
	expect_status 404 # a machine nobody configured: no boot is made up for it
	expect_eq "$(curl -s "$TB_URL/api/v1/machines?limit=1000" | jq 'has("ghost")')" false "ghost listed"
	post_report "$(report_json lab1 "$TB_")"
	expect_status 403 # lab2's token under lab1's name
	post_report "$(report_json lab1 "$(id_of "$TA")")"
	expect_status 400 # the public id is no token
	expect_eq "$(boot_json "$TB_" | jq -r .result)" pending "lab2 after the forged report"
	post_report "$(report_json lab1 "$TA" 6.1.first)"
	expect_status 201
	ACKED+=("$TA")
	post_report "$(report_json lab1 "$TA" 6.1.second)"
	expect_status 409 # once only: the first report stays
	expect_eq "$(boot_json "$TA" | jq -r .report.kernel)" 6.1.first "stored report"
	expect_eq "$(boot_json "$TA" | jq -r .result)" ok result
}

test_03_unknown_fields_are_not_stored() {
	reports_start || return
	post_report "$(report_json lab3 "$TC" 6.1.0 "\"junk\":\"$(head -c 8000 /dev/zero | tr '\0' x)\",\"more\":[1,2,3]")"
	expect_status 201
	ACKED+=("$TC")
	local keys
	keys=$(boot_json "$TC" | jq -c '[(.report | keys), (.report.payloads[0] | keys)]')
	expect_eq "$keys" '[["addresses","arch","boot","id","kernel","ok","payloads","uptime"],["end","expected_sha256","expected_size","name","ok","sha256","size","start"]]' "stored keys"
}

test_04_machines_come_in_pages() {
	reports_start || return
	# 1007 machines with boots: the default page holds 1000 and links the next
	req GET /api/v1/machines
	expect_status 200
	expect_eq "$(jq length "$T/body")" 1000 "default page size"
	local link next
	link=$(header Link)
	[[ $link == '</api/v1/machines?limit=1000&after='*'>; rel="next"' ]] || fail "Link: '$link'"
	next=$(sed 's/^<\([^>]*\)>.*/\1/' <<<"$link")
	req GET "$next"
	expect_status 200
	expect_eq "$(jq length "$T/body")" $((MACHINES - 1000)) "second page size"
	expect_no_header Link
	req GET '/api/v1/machines?limit=2&after=lab1'
	expect_eq "$(jq -c keys "$T/body")" '["lab2","lab3"]' "limit and after"
	[[ $(header Link) == *'after=lab3>'* ]] || fail "Link after lab3: '$(header Link)'"
	req GET '/api/v1/machines?after=m0999'
	expect_eq "$(jq -c keys "$T/body")" '["old","slow"]' "the last page"
	expect_no_header Link
	# the CLI reads every page: slow is on the second one
	"$TINYBOOT_CLI" --server "$TB_URL" machine slow > "$T/cli.out" 2>&1 ||
		fail "tinyboot machine slow: $(cat "$T/cli.out")"
	expect_eq "$(jq -r .machine "$T/cli.out" 2>/dev/null)" slow "tinyboot machine slow"
	local q
	for q in limit=0 limit=1001 limit=x 'limit=-1' "after=$(printf 'a%.0s' $(seq 100))"; do
		req GET "/api/v1/machines?$q"
		[[ $STATUS == 400 ]] || fail "?$q: status $STATUS, want 400"
	done
}

# A configured machine that never booted still shows, in its place among the others.
test_04b_never_booted_machines_listed() {
	reports_start || return
	echo "52:54:00:00:01:09  name=lab9  variant=net" >> "$T/machines.conf"
	kill -HUP "$TB_PID"
	wait_until 10 eval '[[ $(curl -s "$TB_URL/api/v1/machines?after=lab3&limit=1" | jq -r "keys[0]") == lab9 ]]' ||
		fail "lab9 not listed after lab3: $(curl -s "$TB_URL/api/v1/machines?after=lab3&limit=1" | jq -c 'keys')"
	expect_eq "$(curl -s "$TB_URL/api/v1/machines?after=lab3&limit=1" | jq -r .lab9.result)" "never booted" "lab9 result"
	sed -i '/lab9/d' "$T/machines.conf"
	kill -HUP "$TB_PID"
}

test_05_a_late_report_is_taken() {
	reports_start || return
	expect_eq "$(boot_json "$TSLOW" | jq -r .result)" "timed out" "before the report"
	post_report "$(report_json slow "$TSLOW")"
	expect_status 201
	ACKED+=("$TSLOW")
	expect_eq "$(boot_json "$TSLOW" | jq -r .result)" ok "after a late report"
}

# every_report_back: each acknowledged report is there, with its result.
every_report_back() {
	local t
	for t in "${ACKED[@]}"; do
		[[ $(boot_json "$t" | jq -r '.result + " " + (.report | type)') == "ok object" ]] ||
			fail "report of boot $(id_of "$t") lost: $(boot_json "$t" | jq -c '{result, report}')"
	done
}

test_06_a_journal_line_over_64k_comes_back() {
	reports_start || return
	expect_eq "$(boot_json "$TOLD" | jq -r '.result + " " + .report.kernel')" "ok 6.1.old" "old long report"
	expect_eq "$(boot_json "$TOLD" | jq -r '.report | has("junk")')" false "junk kept"
}

# A crash in the middle of a record leaves half a line; it is cut at start-up, so the record
# written next stands on its own line and survives the next restart.
test_07_torn_tail_is_cut_and_later_reports_survive() {
	reports_start || return
	post_report "$(report_json lab-e "$TE")"
	expect_status 201
	ACKED+=("$TE")
	tb_stop
	printf '{"at":1,"ok":true,"report":{"id":"lab-f","boot":"%s","ker' "$TF" >> "$J"
	reports_start || return
	grep -q "boots.log: cut [0-9]* bytes of a torn last record" "$TB_LOG" || fail "no cut logged: $(tail -3 "$TB_LOG")"
	[[ $(tail -c 1 "$J" | od -An -c | tr -d ' ') == '\n' ]] || fail "journal does not end in a newline"
	expect_eq "$(boot_json "$TF" | jq -r .result)" pending "lab-f before its report"
	post_report "$(report_json lab-f "$TF")"
	expect_status 201
	ACKED+=("$TF")
	tb_stop
	reports_start || return
	every_report_back
	# kill -9 right after a 201: the report was on disk before the answer
	local t
	t=$TB_
	post_report "$(report_json lab2 "$t")"
	expect_status 201
	ACKED+=("$t")
	kill -KILL "$TB_PID"
	wait "$TB_PID" 2>/dev/null
	TB_STOPPED=1
	reports_start || return
	every_report_back
}

# A full state directory: the report is refused with 507 and nothing of it shows; with room
# again the same report is taken, and it survives a restart.
test_08_full_state_dir() {
	local state tok big i
	FULL=$(mktemp -d /tmp/tinyboot-full.XXXXXX)
	mount -t tmpfs -o size=1m tinyboot-test "$FULL" || { fail "cannot mount a tmpfs on $FULL"; return; }
	state=$FULL/state
	mkdir -p "$state"
	tok=$(new_token)
	seed_boot "$state/boots.log" "$tok" full1
	tb_use --machines "$T/machines.conf" --state "$state" || return
	# fill it: the report's record does not fit (it is larger than a page, so part of it may)
	dd if=/dev/zero of="$FULL/fill" bs=4k 2>/dev/null
	# 40 payloads with long names: a record of about 6 KB
	local body pad
	pad=$(head -c 100 /dev/zero | tr '\0' p)
	big=$(for i in $(seq 40); do printf '{"name":"payload-%03d-%s","size":1,"sha256":"ab","ok":true}\n' "$i" "$pad"; done | paste -sd,)
	body=$(report_json full1 "$tok" 6.1.full)
	body=${body%%\"payloads\":*}\"payloads\":[$big]}
	post_report "$body"
	expect_status 507
	expect_eq "$(boot_json "$tok" | jq -r '.result + " " + (.report | type)')" "pending null" "after the 507"
	grep -q 'No space left on device' "$TB_LOG" || fail "ENOSPC not logged: $(grep -i 'journal\|boots.log' "$TB_LOG" | tail -3)"
	grep -q 'Resource temporarily unavailable' "$TB_LOG" && fail "ENOSPC logged as EAGAIN"
	rm -f "$FULL/fill"
	post_report "$body"
	expect_status 201
	tb_stop
	tb_use --machines "$T/machines.conf" --state "$state" || return
	expect_eq "$(boot_json "$tok" | jq -r '.result + " " + .report.kernel')" "ok 6.1.full" "after the restart"
	tb_stop
	reports_unmount
	FULL=
}

# boots.log rotation: once the journal has grown by boots-log-max-size past what memory holds,
# it is rewritten with what memory holds and the old file kept as boots.log.<UTC time>; only
# the newest boots-log-keep of those stay. Three floods of 6000 boots of unknown MACs (memory
# keeps 1024 of them), each followed by a restart: three rotations, two archives left, and the
# configured machine's acknowledged report is in every new journal.
test_09_boots_log_rotation_keeps_n() {
	local dir=$T/rot-state j round t line k now archives
	mkdir -p "$dir"
	j=$dir/boots.log
	t=$(new_token)
	seed_boot "$j" "$t" lab1
	tb_use --machines "$T/machines.conf" --state "$dir" --boots-log-max-size 64K --boots-log-keep 2 || return
	post_report "$(report_json lab1 "$t" 6.1.rot)"
	expect_status 201
	for round in 1 2 3; do
		tb_stop
		line='{"artifact":"","at":%s,"firmware":"bios","mac":"","machine":"mac-%s","timeout_s":600,"token":"%s","type":"boot","unlisted":true,"variant":"net"}\n'
		now=$(date +%s)
		while read -r k; do
			# shellcheck disable=SC2059 # the format is the line above
			printf "$line" "$now" "${k:0:12}" "$k"
		done < <(head -c 96000 /dev/urandom | od -An -tx1 -v | tr -d ' \n' | fold -w 32; echo) >> "$j"
		tb_use --machines "$T/machines.conf" --state "$dir" --boots-log-max-size 64K --boots-log-keep 2 || return
		grep -q 'boots.log: compacted at start-up' "$TB_LOG" || fail "round $round: no rotation at start-up: $(grep boots.log "$TB_LOG" | tail -3)"
		[[ $(stat -c %s "$j") -lt 1000000 ]] || fail "round $round: boots.log is $(stat -c %s "$j") bytes after the rotation"
		expect_eq "$(curl -s "$TB_URL/api/v1/machines" | jq -r '.lab1.report.kernel')" 6.1.rot "round $round: lab1's report"
	done
	archives=$(find "$dir" -maxdepth 1 -name 'boots.log.2*' | wc -l)
	expect_eq "$archives" 2 "archives kept"
	grep -q 'deleted the old journal boots.log.2.*(keeping the newest 2)' "$TB_LOG" || fail "no deletion logged"
	tb_stop
}

run_tests
