#!/bin/bash
# test_durable_boots.sh - a boot is on disk before it is answered: GET /ipxe (a machine's script)
# and POST /api/v1/boots answer once the boot's record is fdatasync'd, many boots sharing one
# sync (tinyboot_journal_syncs_total); every boot answered comes back after kill -9 and its report
# is taken; a failed sync is a 507 and leaves no boot (an ext4 on a loop device on a full tmpfs,
# as test_groupcommit.sh does); a one-time variant is taken by exactly one of many boots at once;
# SIGTERM while boots wait for their sync answers them all. No kernel is built: the state
# directory is private, every source URL points nowhere, and the artifacts are made by hand.
source "$(dirname "$0")/../lib.sh"

source "$(dirname "$0")/fullfs.sh" # test_03's full file system
trap 'lib_cleanup; fullfs_teardown' EXIT

mkdir -p "$T/recipes" "$T/kconfig"
cp "$ROOT"/images/*.image "$T/recipes/"
cp -r "$ROOT"/kernel-config/. "$T/kconfig/"
sed 's|^url = .*|url = file:///nonexistent/tinyboot-test/source.tar.xz|' "$ROOT/etc/sources.conf" > "$T/sources.conf"
cat > "$T/machines.conf" <<CONF
52:54:00:00:0d:01  name=once  variant=net
default variant=net
CONF
ART=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
ART2=bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb

# db_start STATE [FLAGS...]: the daemon on STATE (all clients come from 127.0.0.1)
db_start() {
	local st=$1
	shift
	mkdir -p "$st/sources"
	tb_use --state "$st" --recipes "$T/recipes" --kernel-config "$T/kconfig" --rootfs "$ROOT/rootfs" \
		--sources "$T/sources.conf" --machines "$T/machines.conf" --max-connections-per-ip 1000 \
		--log-level info "$@"
}
syncs() { curl -fs "$TB_URL/metrics" | awk '$1 == "tinyboot_journal_syncs_total" { print $2 }'; }
kill9() {
	kill -KILL "$TB_PID"
	wait "$TB_PID" 2>/dev/null
	TB_STOPPED=1
}
mac_of() { printf '52:54:01:%02x:%02x:%02x' $(($1 >> 16 & 255)) $(($1 >> 8 & 255)) $(($1 & 255)); }

# burst DIR FIRST N POSTS: N GET /ipxe?mac=UNIQUE (MACs FIRST..) and POSTS POST /api/v1/boots,
# each on its own connection from 127.0.0.1: every connection is opened first, then every
# request is sent in one sweep, then the answers are read (DIR/i.out: the whole response, and
# "CODE i" lines in DIR/codes; CODE 000: no answer)
burst() {
	local dir=$1 first=$2 n=$3 posts=$4 i body host=${TB%:*} port=${TB##*:}
	local -a fds=()
	mkdir -p "$dir"
	for ((i = first; i < first + n + posts; i++)); do
		exec {fds[i]}<>"/dev/tcp/$host/$port" || { echo "000 $i" >> "$dir/codes"; return 1; }
	done
	for ((i = first; i < first + n; i++)); do
		printf 'GET /ipxe?mac=%s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$(mac_of "$i")" "$TB" >&"${fds[i]}"
	done
	for ((i = first + n; i < first + n + posts; i++)); do
		body="{\"mac\": \"$(mac_of "$i")\", \"server\": \"http://127.0.0.1:1\"}"
		printf 'POST /api/v1/boots HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
			"$TB" "${#body}" "$body" >&"${fds[i]}"
	done
	: > "$dir/sent"
	for ((i = first; i < first + n + posts; i++)); do
		timeout 60 cat <&"${fds[i]}" > "$dir/$i.out"
		exec {fds[i]}>&-
		printf '%s %d\n' "$(head -1 "$dir/$i.out" | awk '{ print ($2 == "" ? "000" : $2) }')" "$i" >> "$dir/codes"
	done
}
# token_of FILE: the boot token in an /ipxe script or a POST /api/v1/boots answer
token_of() { grep -o 'tinyboot\.boot=[0-9a-f]\{32\}' "$1" | head -1 | cut -d= -f2; }

# (1) 300 scripts and 20 POST /api/v1/boots at once: all answered, each after a sync; after
# kill -9 every boot answered is in the journal and listed, and its report is taken.
test_01_storm_durable_then_kill9() {
	local st=$T/s1 d=$T/b1 before after n=300 posts=20 code i tok name answered=0 lost=0 listed missing=0 rep=0
	db_start "$st" || return
	tb_fake_build "$st" net "$ART" || return
	before=$(syncs)
	[[ -n $before ]] || { fail "no tinyboot_journal_syncs_total in /metrics"; return; }
	burst "$d" 0 $n $posts
	after=$(syncs)
	expect_eq "$(grep -c '^200 ' "$d/codes")" $n "scripts answered 200"
	expect_eq "$(grep -c '^201 ' "$d/codes")" $posts "POST /api/v1/boots answered 201"
	echo "    $((n + posts)) boots at once: $((after - before)) fdatasyncs"
	# (2) the answers waited for syncs, never more than one per boot. Whether boots share a sync
	# depends on a record arriving while another's sync runs: on a fast disk with the ASan
	# build's slower handlers they may not (a CI run saw 320 for 320), so sharing is not asserted
	# here; test_groupcommit's reports and the storm benchmark show it.
	(( after - before >= 1 )) || fail "no fdatasync for $((n + posts)) boots: answered before they were on disk"
	(( after - before <= n + posts )) || fail "$((after - before)) fdatasyncs for $((n + posts)) boots: more than one each"
	kill9
	db_start "$st" || return
	curl -fs "$TB_URL/api/v1/machines?limit=1000" > "$T/machines1.json"
	while read -r code i; do
		tok=$(token_of "$d/$i.out")
		[[ $code == 20[01] && -n $tok ]] || continue
		answered=$((answered + 1))
		grep -q "\"token\":\"$tok\",\"type\":\"boot\"" "$st/boots.log" || lost=$((lost + 1))
		name=mac-$(mac_of "$i" | tr -d :)
		jq -e --arg m "$name" '[.. | objects | select(.name? == $m or .machine? == $m)] | length > 0' \
			"$T/machines1.json" > /dev/null || missing=$((missing + 1))
		# its guest reports: taken (every 8th, to keep the test short)
		(( i % 8 )) && continue
		req POST /api/v1/reports -H 'Content-Type: application/json' --data-binary \
			"{\"id\":\"$name\",\"boot\":\"$tok\",\"kernel\":\"6.1.0\",\"arch\":\"x86_64\",\"ok\":true,\"uptime\":{\"net\":1.5},\"addresses\":[],\"payloads\":[]}"
		[[ $STATUS == 201 ]] && rep=$((rep + 1)) || fail "report of boot $i: $STATUS $(head -c 200 "$T/body")"
	done < "$d/codes"
	expect_eq "$answered" $((n + posts)) "boots answered with a token"
	expect_eq "$lost" 0 "answered boots missing from the journal after kill -9"
	expect_eq "$missing" 0 "answered boots' machines missing from /api/v1/machines after kill -9"
	echo "    after kill -9: $answered answered boots in the journal and listed; $rep reports taken"
	tb_stop
}

# A machine's one-time variant is taken by exactly one of 12 boots asked at once; the others get
# the machine's own variant, and the override is gone afterwards.
test_02_one_time_variant_taken_once() {
	local st=$T/s2 d=$T/b2 i ones=0 nets=0
	db_start "$st" || return
	tb_fake_build "$st" net "$ART" || return
	tb_fake_build "$st" net+debug "$ART2" || return
	req PUT /api/v1/machines/once/next -H 'Content-Type: application/json' --data-binary '{"variant": "net+debug"}'
	expect_status 200
	mkdir -p "$d"
	for ((i = 0; i < 12; i++)); do
		printf 'next\nurl = "%s/ipxe?mac=52:54:00:00:0d:01"\noutput = "%s/%d.body"\nwrite-out = "%%{http_code} %d\\n"\n' \
			"$TB_URL" "$d" "$i" "$i"
	done | tail -n +2 > "$d/curl.conf"
	curl -s --parallel --parallel-immediate --max-time 60 -K "$d/curl.conf" > "$d/codes" 2> "$d/curl.err"
	expect_eq "$(grep -c '^200 ' "$d/codes")" 12 "scripts answered 200"
	for ((i = 0; i < 12; i++)); do
		grep -q "/artifacts/$ART2/" "$d/$i.body" && ones=$((ones + 1))
		grep -q "/artifacts/$ART/" "$d/$i.body" && nets=$((nets + 1))
	done
	expect_eq "$ones $nets" "1 11" "boots with the one-time variant, with the machine's own"
	req GET /api/v1/machines/once/next
	expect_eq "$(jq -c .next "$T/body")" null "the override after the boots"
	tb_stop
}

# A failed sync for a new boot: 507 with the real error, no boot in memory or in the journal
# (kill -9, restart), a one-time variant given back; with room again the same machine boots.
# The state directory is an ext4 (no journal) on a loop device whose backing file lives on a
# tmpfs; the file system's free blocks are punched out of the backing file and the tmpfs is
# filled: the write-back of the journal's next new block fails and fdatasync returns an error.
test_03_failed_sync_is_507_and_no_boot() {
	local st i code mac name before
	fullfs_mount tinyboot-db || return
	st=$FULLFS_DIR/fs/state
	db_start "$st" || return
	tb_fake_build "$st" net "$ART" || return
	req GET "/ipxe?mac=$(mac_of 1000)"
	expect_status 200
	fullfs_fill "$st/boots.log"
	# boot records of about 300 bytes: the journal's last block takes a dozen; the next one
	# needs a new block, which cannot be written
	for ((i = 1001; i < 1100; i++)); do
		mac=$(mac_of $i)
		req GET "/ipxe?mac=$mac"
		[[ $STATUS == 200 ]] || break
	done
	echo "    boot $((i - 1000)) on the full disk: $STATUS $(head -c 120 "$T/body")"
	expect_status 507
	grep -q '^507 Insufficient Storage: cannot record the boot of mac-.*: \(No space left on device\|Input/output error\)' "$T/body" ||
		fail "body '$(head -c 200 "$T/body")'"
	grep -q 'sync failed: took back 1 record' "$TB_LOG" || fail "no take-back logged: $(grep boots.log "$TB_LOG" | tail -3)"
	name=mac-$(tr -d : <<<"$mac")
	expect_eq "$(curl -s "$TB_URL/api/v1/machines?limit=1000" | jq --arg m "$name" '[.. | objects | select(.name? == $m)] | length')" \
		0 "the refused boot's machine listed"
	kill9
	grep -q "\"mac\":\"$mac\"" "$st/boots.log" && fail "the refused boot is in the journal"
	[[ $(tail -c 1 "$st/boots.log" | od -An -c | tr -d ' ') == '\n' ]] || fail "the journal does not end in a newline"
	fullfs_unfill
	db_start "$st" || return
	expect_eq "$(curl -s "$TB_URL/api/v1/machines?limit=1000" | jq --arg m "$name" '[.. | objects | select(.name? == $m)] | length')" \
		0 "the refused boot's machine listed after the restart"
	for ((code = 1001; code < i; code++)); do # those answered before it came back
		before=mac-$(mac_of $code | tr -d :)
		curl -s "$TB_URL/api/v1/machines?limit=1000" | grep -q "\"$before\"" || fail "boot $code lost"
	done
	req GET "/ipxe?mac=$mac" # room again: it boots
	expect_status 200
	tb_stop
	fullfs_teardown
}

# SIGTERM while 300 boots wait for their sync: every client gets an answer (200, or 503 once the
# drain began), the daemon exits 0 with no sanitizer report, every 200 is in the journal.
test_04_sigterm_answers_waiting_boots() {
	local st=$T/s4 d=$T/b4 driver code i tok ok=0 lost=0 at_signal
	db_start "$st" || return
	tb_fake_build "$st" net "$ART" || return
	burst "$d" 2000 300 0 &
	driver=$!
	own_pid "$driver"
	# stop once every request is sent and the first boots are written: the rest are being
	# written or wait for a sync
	wait_until 30 test -e "$d/sent" || fail "the requests were not sent"
	wait_until 20 grep -q '"type":"boot"' "$st/boots.log" || fail "no boot arrived"
	at_signal=$(grep -c '"type":"boot"' "$st/boots.log")
	tb_stop
	wait "$driver"
	expect_eq "$(wc -l < "$d/codes")" 300 "clients with an answer"
	[[ -z $(grep -v '^\(200\|503\) ' "$d/codes") ]] || fail "statuses: $(cut -d' ' -f1 "$d/codes" | sort | uniq -c | tr '\n' ' ')"
	while read -r code i; do
		[[ $code == 200 ]] || continue
		ok=$((ok + 1))
		tok=$(token_of "$d/$i.out")
		grep -q "\"token\":\"$tok\",\"type\":\"boot\"" "$st/boots.log" || lost=$((lost + 1))
	done < "$d/codes"
	echo "    SIGTERM during 300 boots ($at_signal written when it came): $ok answered 200, $(grep -c '^503 ' "$d/codes") 503"
	expect_eq "$lost" 0 "200s missing from the journal"
}

if ! fullfs_usable; then
	unset -f test_03_failed_sync_is_507_and_no_boot
	echo "  skipped test_03_failed_sync_is_507_and_no_boot: needs root, losetup, mkfs.ext4, dumpe2fs, fallocate"
fi
run_tests
