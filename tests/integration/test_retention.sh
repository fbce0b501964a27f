#!/bin/bash
# test_retention.sh - the artifact cache's retention against the real daemon: cache-max-size
# evicts the least recently served artifacts that no machine, pin or open boot needs, keep-builds
# keeps the newest of each variant, kernel and busybox objects go with their last artifact, the
# index never names what is gone, a download in flight completes, POST /api/v1/gc (dry run or
# not) is for permitted clients only. No kernel is built: every source URL points nowhere and the
# artifacts are made by hand (bzImage, initrd, manifest.json, an index entry) with old mtimes.
source "$(dirname "$0")/../lib.sh"

sed 's|^url = .*|url = file:///nonexistent/tinyboot-test/source.tar.xz|' "$ROOT/etc/sources.conf" > "$T/sources.conf"
cat > "$T/machines.conf" <<CONF
52:54:00:00:00:0a  name=lab  variant=net ip=10.0.2.15/24 gw=10.0.2.2
CONF
TOKEN=0123456789abcdef0123456789abcdef
printf 'admin %s\n' "$TOKEN" > "$T/tokens"
chmod 600 "$T/tokens"
NOW=$(date +%s)

# start_fresh NAME [FLAGS...]: a daemon on its own new state directory $T/NAME (STATE).
start_fresh() {
	local name=$1
	shift
	rm -rf "${T:?}/$name"
	STATE=$T/$name
	tb_use --state "$STATE" --recipes "$ROOT/images" --kernel-config "$ROOT/kernel-config" \
		--rootfs "$ROOT/rootfs" --sources "$T/sources.conf" --machines "$T/machines.conf" "$@"
}

# hash CHAR: 64 of it (an artifact or object name).
hash() { printf "%064d" 0 | tr 0 "$1"; }

# build_id VARIANT: the id the daemon gives VARIANT's build (from its size answer).
build_id() {
	req GET "/api/v1/images/$1/size"
	grep -o 'build [0-9a-f]\{64\}' "$T/body" | head -1 | cut -d' ' -f2
}

# fake ART VARIANT BYTES AGE_S [KERNEL [BUSYBOX [INDEXED]]]: artifact ART of VARIANT with a
# bzImage of BYTES random bytes, built and last served AGE_S seconds ago; INDEXED=1 makes it
# VARIANT's current build (the index names it).
fake() {
	local art=$1 variant=$2 bytes=$3 age=$4 kernel=${5:-} busybox=${6:-} indexed=${7:-} id
	local dir=$STATE/artifacts/$art
	mkdir -p "$dir"
	head -c "$bytes" /dev/urandom > "$dir/bzImage"
	echo initrd > "$dir/initrd"
	printf '{"artifact": "%s", "variant": "%s", "kernel_key": "%s", "busybox_key": "%s"}\n' \
		"$art" "$variant" "$kernel" "$busybox" > "$dir/manifest.json"
	if [[ -n $indexed ]]; then
		id=$(build_id "$variant")
		[[ -n $id ]] || { fail "no build id for $variant in '$(cat "$T/body")'"; return 1; }
		mkdir -p "$STATE/index"
		printf '%s' "$art" > "$STATE/index/$id"
	fi
	touch -d "@$((NOW - age))" "$dir/bzImage" "$dir/initrd" "$dir/manifest.json" "$dir"
}

# object AREA KEY BYTES: a kernel or busybox object.
object() {
	mkdir -p "$STATE/$1/$2"
	head -c "$3" /dev/zero > "$STATE/$1/$2/file"
}

gc() { req POST /api/v1/gc -H 'Content-Type: application/json' -d "${1:-{\}}"; }
# removed KIND: the hashes of what the last gc answer removed, sorted.
removed() { jq -r --arg k "$1" '.removed[] | select(.kind == $k) | .hash' "$T/body" | sort | tr '\n' ' '; }
gone() { [[ ! -e $STATE/artifacts/$1 ]] || fail "artifact $1 is still there"; }
there() { [[ -e $STATE/artifacts/$1/bzImage ]] || fail "artifact $1 is gone"; }
# The index must never name an artifact that is not there.
index_consistent() {
	local f
	for f in "$STATE"/index/*; do
		[[ -e $f ]] || continue
		[[ -e $STATE/artifacts/$(cat "$f")/bzImage ]] || fail "index $(basename "$f") names $(cat "$f"), which is gone"
	done
}

A=$(hash a) B=$(hash b) C=$(hash c) D=$(hash d) E=$(hash e) M=$(hash f)
K1=$(hash 1) K2=$(hash 2) B1=$(hash 3)

test_1_dry_run_lists_victims_and_removes_nothing() {
	start_fresh dry --cache-max-size 150K || return
	fake "$M" net 100000 7200 "" "" 1 || return
	fake "$A" net+debug 100000 3600
	gc '{"dry_run": true}'
	expect_status 200
	expect_eq "$(jq -r .dry_run "$T/body")" true dry_run
	expect_eq "$(removed artifact)" "$A " "would-be-removed artifacts"
	expect_eq "$(jq -r '.removed[0].variant' "$T/body")" net+debug variant
	expect_eq "$(jq -r '.removed[0].reason' "$T/body")" cache-max-size reason
	[[ $(jq -r '.removed[0].bytes' "$T/body") -ge 100000 ]] || fail "bytes $(jq -r '.removed[0].bytes' "$T/body")"
	expect_eq "$(jq -r '.removed[0].last_served' "$T/body")" "$((NOW - 3600))" last_served
	[[ $(jq -r .freed_bytes "$T/body") -ge 100000 ]] || fail "freed_bytes $(jq -r .freed_bytes "$T/body")"
	expect_eq "$(jq -r .removed_objects "$T/body")" 1 removed_objects
	there "$A"
	there "$M"
	local out
	out=$("$TINYBOOT_CLI" --server "$TB_URL" gc --dry-run 2>&1) || fail "tinyboot gc --dry-run: $out"
	grep -q "^would remove artifact $A .*cache-max-size net+debug" <<<"$out" || fail "tinyboot gc --dry-run said: $out"
	grep -q "^would free 1 objects" <<<"$out" || fail "tinyboot gc --dry-run said: $out"
	there "$A"
	grep -q "retention: would evict artifact $A" "$TB_LOG" || fail "no log line for the dry run"
	# a body that is not the expected JSON is refused
	gc '{"dry_run": "yes"}'
	expect_status 400
	there "$A"
}

test_2_small_cache_evicts_least_recently_served_keeps_machines_and_pins() {
	local out
	start_fresh lru --cache-max-size 350K || return
	fake "$M" net 100000 14400 "" "" 1 || return   # machines.conf's variant: oldest, kept
	fake "$B" tiny 100000 14400 "" "" 1 || return  # pinned variant: oldest too, kept
	fake "$C" net+debug 100000 10800               # served just now (below): stays
	fake "$D" tiny+debug 100000 7200               # last served 2 h ago: goes first
	out=$("$TINYBOOT_CLI" --server "$TB_URL" pin tiny 2>&1) || fail "tinyboot pin: $out"
	req GET /api/v1/pins
	expect_eq "$(jq -c .pins "$T/body")" '["tiny"]' pins
	req GET "/artifacts/$C/bzImage"
	expect_status 200
	gc
	expect_status 200
	expect_eq "$(removed artifact)" "$D " "removed"
	gone "$D"
	there "$C"
	there "$M"
	there "$B"
	grep -q "retention: evicted artifact $D (tiny+debug, [0-9]* bytes" "$TB_LOG" || fail "no eviction logged"
	req GET /metrics
	expect_eq "$(awk '$1 == "tinyboot_cache_evictions_total" { print $2 }' "$T/body")" 1 "evictions counted"
	[[ $(awk '$1 == "tinyboot_cache_evicted_bytes_total" { print $2 }' "$T/body") -gt 100000 ]] ||
		fail "evicted bytes: $(grep evicted_bytes "$T/body")"
	# over again with a smaller cache: C goes, the machine's and the pinned one stay
	tb_use --state "$STATE" --recipes "$ROOT/images" --kernel-config "$ROOT/kernel-config" \
		--rootfs "$ROOT/rootfs" --sources "$T/sources.conf" --machines "$T/machines.conf" --cache-max-size 1K || return
	gc
	expect_eq "$(removed artifact)" "$C " "removed with 1K"
	there "$M"
	there "$B"
	# unpinned, the pinned variant's build goes too
	out=$("$TINYBOOT_CLI" --server "$TB_URL" unpin tiny 2>&1) || fail "tinyboot unpin: $out"
	out=$("$TINYBOOT_CLI" --server "$TB_URL" unpin tiny 2>&1) && fail "unpin twice succeeded: $out"
	out=$("$TINYBOOT_CLI" --server "$TB_URL" gc 2>&1) || fail "tinyboot gc: $out"
	grep -q "^removed artifact $B " <<<"$out" || fail "tinyboot gc said: $out"
	gone "$B"
	there "$M"
	index_consistent
	req GET "/images/tiny/bzImage"
	expect_status 503 # not built (any more): the index does not name the evicted artifact
}

# paused_get HOST PORT PATH OUT GO: GET PATH with a fixed receive buffer; after the first 64 KiB
# print "started" and stop reading until file GO exists (30 s at most), then read the rest. The
# body goes to OUT. A file larger than both sockets' buffers is then still being read by the
# server when GO appears.
paused_get() {
	perl -MIO::Socket::INET -MSocket -MTime::HiRes=sleep -e '
		my ($host, $port, $path, $out, $go) = @ARGV;
		$| = 1;
		alarm 120; # bounded whatever the server does
		my $s = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port) or die "connect: $!\n";
		setsockopt($s, SOL_SOCKET, SO_RCVBUF, 65536); # no autotuning: at most ~4 MiB in flight
		print $s "GET $path HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
		open(my $fh, ">", $out) or die "$out: $!\n";
		binmode $fh;
		my ($buf, $head, $got, $paused) = ("", "", 0, 0);
		while (sysread($s, $buf, 65536)) {
			if (!defined $head) { print $fh $buf; $got += length $buf; }
			else {
				$head .= $buf;
				next unless $head =~ /\r\n\r\n/s;
				my ($h, $rest) = split(/\r\n\r\n/, $head, 2);
				print $fh $rest; $got += length $rest; $head = undef;
			}
			if (!$paused && $got >= 65536) {
				$paused = 1;
				print "started\n";
				for (1 .. 300) { last if -e $go; sleep 0.1; }
				setsockopt($s, SOL_SOCKET, SO_RCVBUF, 1 << 20); # a small window is slow
			}
		}
		close $fh;
		print "done $got\n";
	' "$@"
}

test_3_eviction_during_a_download_completes_it() {
	local want got pid
	start_fresh stream --cache-max-size 1M || return
	fake "$M" net 1000 7200 "" "" 1 || return
	fake "$E" tiny 16000000 7200 "" "" 1 || return
	want=$(sha256sum < "$STATE/artifacts/$E/bzImage" | cut -d' ' -f1)
	req GET /api/v1/images
	jq -e --arg a "$E" '[.. | objects | select(.artifact? == $a)] | length == 1' "$T/body" >/dev/null ||
		fail "the artifact is not listed before: $(head -c 300 "$T/body")"
	rm -f "$T/go"
	paused_get "${TB%:*}" "${TB##*:}" "/artifacts/$E/bzImage" "$T/download" "$T/go" > "$T/paused.out" 2>&1 &
	pid=$!
	own_pid "$pid"
	wait_until 10 grep -q started "$T/paused.out" || fail "the download did not start: $(cat "$T/paused.out")"
	gc
	expect_status 200
	expect_eq "$(removed artifact)" "$E " "removed"
	gone "$E"
	# the proof that it streams from a removed file: the daemon holds it open or mapped, deleted
	find "/proc/$TB_PID/fd" -lname '*bzImage (deleted)' 2>/dev/null | grep -q . ||
		grep -q "/bzImage (deleted)$" "/proc/$TB_PID/maps" ||
		fail "the daemon holds no deleted bzImage open or mapped: $(ls -l "/proc/$TB_PID/fd" | tail -5)"
	touch "$T/go"
	if wait_until 60 grep -q '^done' "$T/paused.out"; then
		wait "$pid" || fail "the client exited $?: $(cat "$T/paused.out")"
	else
		fail "the download did not end: $(cat "$T/paused.out")"
		kill "$pid" 2>/dev/null
	fi
	got=$(sha256sum < "$T/download" | cut -d' ' -f1)
	expect_eq "$got" "$want" "sha256 of the download that outlived its artifact ($(stat -c %s "$T/download") bytes)"
	req GET "/artifacts/$E/bzImage"
	expect_status 404
	req GET /api/v1/images
	jq -e --arg a "$E" '[.. | objects | select(.artifact? == $a)] | length == 0' "$T/body" >/dev/null ||
		fail "the evicted artifact is still listed"
	index_consistent
	[[ -z $(ls "$STATE/tmp") ]] || fail "left in tmp/: $(ls "$STATE/tmp")"
}

test_4_objects_go_with_their_last_artifact() {
	start_fresh objects --keep-builds 1 || return
	object kernels "$K1" 5000
	object kernels "$K2" 5000
	object busybox "$B1" 3000
	mkdir -p "$STATE/memo"
	printf '%s' "$K1" > "$STATE/memo/kernel-$(hash 7)"
	printf '%s' "$K2" > "$STATE/memo/kernel-$(hash 8)"
	printf '%s' "$B1" > "$STATE/memo/busybox-$(hash 9)"
	fake "$M" net 1000 3600 "$K1" "$B1" 1 || return  # current: uses K1 and B1
	fake "$A" net 1000 7200 "$K1" "$B1"              # older build of net: goes (keep-builds 1)
	fake "$C" net 1000 9000 "$K2" "$B1"              # oldest: goes, and K2 with it
	gc
	expect_status 200
	expect_eq "$(removed artifact)" "$(printf '%s\n' "$A" "$C" | sort | tr '\n' ' ')" "artifacts removed"
	expect_eq "$(removed kernel)" "$K2 " "kernels removed"
	expect_eq "$(removed busybox)" "" "busybox removed"
	[[ -d $STATE/kernels/$K1 ]] || fail "K1 is gone, M uses it"
	[[ ! -e $STATE/kernels/$K2 ]] || fail "K2 is still there"
	[[ -d $STATE/busybox/$B1 ]] || fail "B1 is gone, M uses it"
	[[ -e $STATE/memo/kernel-$(hash 7) ]] || fail "the memo entry of K1 went"
	[[ ! -e $STATE/memo/kernel-$(hash 8) ]] || fail "the memo still names K2"
	# the last user goes (no machine needs net any more): so do K1 and B1
	tb_use --state "$STATE" --recipes "$ROOT/images" --kernel-config "$ROOT/kernel-config" \
		--rootfs "$ROOT/rootfs" --sources "$T/sources.conf" --cache-max-size 1K || return
	gc
	expect_eq "$(removed artifact)" "$M " "the last artifact"
	expect_eq "$(removed kernel)" "$K1 " "its kernel"
	expect_eq "$(removed busybox)" "$B1 " "its busybox"
	[[ ! -e $STATE/memo/busybox-$(hash 9) ]] || fail "the memo still names B1"
	index_consistent
}

test_5_keep_builds_keeps_the_newest_of_each_variant() {
	start_fresh keep --keep-builds 2 || return
	fake "$A" tiny+debug 1000 3600
	fake "$B" tiny+debug 1000 7200
	fake "$C" tiny+debug 1000 10800
	fake "$D" tiny+debug 1000 14400
	fake "$M" net 1000 20000 "" "" 1 || return # the current build, however old: kept
	fake "$E" net 1000 1000                    # a newer build of net nobody boots
	gc
	expect_status 200
	expect_eq "$(removed artifact)" "$(printf '%s\n' "$C" "$D" | sort | tr '\n' ' ')" removed
	expect_eq "$(jq -r '[.removed[].reason] | unique | join(",")' "$T/body")" keep-builds reasons
	there "$A"
	there "$B"
	there "$E"
	there "$M"
	# the options are reloadable: SIGHUP with keep-builds 1 runs retention with it
	printf 'keep-builds = 2\n' > "$T/keep.conf"
	tb_use --state "$STATE" --recipes "$ROOT/images" --kernel-config "$ROOT/kernel-config" \
		--rootfs "$ROOT/rootfs" --sources "$T/sources.conf" --machines "$T/machines.conf" \
		--config "$T/keep.conf" || return
	there "$B"
	printf 'keep-builds = 1\n' > "$T/keep.conf"
	kill -HUP "$TB_PID"
	wait_until 30 grep -q "retention: evicted artifact $B" "$TB_LOG" || fail "SIGHUP did not evict B"
	there "$A"
	there "$M"
	there "$E" # net's newest beside its current one
}

test_6_gc_needs_a_permitted_client() {
	local out
	start_fresh auth --api-tokens "$T/tokens" --cache-max-size 1K || return
	fake "$A" tiny+debug 1000 7200
	gc
	expect_status 401
	there "$A"
	req POST /api/v1/gc -H "Authorization: Bearer ffffffffffffffffffffffffffffffff" -d '{}'
	expect_status 401
	there "$A"
	req PUT /api/v1/pins/tiny
	expect_status 401
	out=$("$TINYBOOT_CLI" --server "$TB_URL" gc 2>&1) && fail "tinyboot gc without a token: $out"
	there "$A"
	req GET /api/v1/gc
	expect_status 405
	req POST /api/v1/gc -H "Authorization: Bearer $TOKEN" -d '{"dry_run": true}'
	expect_status 200
	there "$A"
	out=$(TINYBOOT_TOKEN=$TOKEN "$TINYBOOT_CLI" --server "$TB_URL" gc 2>&1) || fail "tinyboot gc with the token: $out"
	gone "$A"
}

test_7_an_open_boot_keeps_its_artifact() {
	start_fresh open --cache-max-size 1K || return
	fake "$M" net 1000 7200 "" "" 1 || return
	fake "$B" tiny 1000 7200 "" "" 1 || return
	fake "$C" net+debug 1000 3600
	req POST /api/v1/boots -d '{"mac": "52:54:00:00:00:0a", "server": "http://127.0.0.1:8080", "variant": "tiny"}'
	expect_status 201
	expect_eq "$(jq -r .kernel "$T/body")" "/artifacts/$B/bzImage?boot=$(jq -r .boot "$T/body")" kernel
	gc
	expect_status 200
	expect_eq "$(removed artifact)" "$C " removed
	there "$B"
	there "$M"
	tb_stop
}

run_tests
