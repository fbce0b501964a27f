#!/bin/bash
# test_nextboot.sh - boot-once and local boot: PUT/GET/DELETE /api/v1/machines/NAME/next, the
# file it lives in across a restart, the refusals, the local script, one boot (and only one)
# taking a one-time variant, the CLI, and two real QEMU boots through iPXE: the first takes the
# override (net32, an i386 kernel), the second falls back to machines.conf (net, x86_64).
# Uses the built net and net32 of $TINYBOOT_CACHE/test-state like test_boot.sh (builds them when
# they are missing); every override it sets is on machines of its own and cleared at the end.
source "$(dirname "$0")/../lib.sh"

CACHE=${TINYBOOT_CACHE:-/var/cache/tinyboot}
STATE=$CACHE/test-state
BUILD_WAIT=${BUILD_WAIT:-2700}
mkdir -p "$STATE" "$T/payloads"
printf 'hello from the payload directory\n' > "$T/payloads/hello.txt"

cat > "$T/machines.conf" <<CONF
52:54:00:00:0b:01  name=nb-qemu   variant=net ip=10.0.2.15/24 gw=10.0.2.2 payloads=hello.txt
52:54:00:00:0b:02  name=nb-api    variant=net
52:54:00:00:0b:03  name=nb-race   variant=net
52:54:00:00:0b:04  name=nb-local  variant=net
52:54:00:00:0b:05  name=nb-post   variant=net
52:54:00:00:0b:06  name=nb-cli    variant=net
default            variant=net
CONF
NB_MACHINES="nb-qemu nb-api nb-race nb-local nb-post nb-cli mac-525400000b99"

nb_daemon_start() {
	tb_start --state "$STATE" --recipes "$ROOT/images" --kernel-config "$ROOT/kernel-config" \
		--rootfs "$ROOT/rootfs" --sources "$ROOT/etc/sources.conf" --machines "$T/machines.conf" \
		--www "$ROOT/www" --report-timeout 30
}
nb_daemon_start || exit 1

# No override of this suite outlives it, whatever failed.
nb_clear_all() {
	local m
	for m in $NB_MACHINES; do
		curl -s -o /dev/null -X DELETE "$TB_URL/api/v1/machines/$m/next" || true
	done
}
trap 'nb_clear_all; lib_cleanup' EXIT

machine() { # machine NAME: that machine's entry of /api/v1/machines (JSON)
	curl -s "$TB_URL/api/v1/machines" | jq --arg m "$1" '.[$m]'
}

put_next() { # put_next NAME BODY: PUT it; leaves STATUS and $T/body
	req PUT "/api/v1/machines/$1/next" -H 'Content-Type: application/json' --data-binary "$2"
}

# the variant of the boot whose token a script carries
script_variant() {
	local token
	token=$(grep -o 'boot=[0-9a-f]\{32\}' "$1" | head -1 | cut -d= -f2)
	[[ -n $token ]] || { echo none; return; }
	curl -s "$TB_URL/api/v1/boots/$token" | jq -r .variant
}

test_00_images_are_built() {
	local v
	for v in net net32; do
		req GET "/images/$v/bzImage?wait=1" --max-time "$BUILD_WAIT"
		expect_status 200
	done
}

test_put_get_delete_round_trip() {
	req GET /api/v1/machines/nb-api/next
	expect_status 200
	expect_eq "$(jq -c . "$T/body")" '{"machine":"nb-api","next":null}' "GET before"
	put_next nb-api '{"variant": "net+debug"}'
	expect_status 200
	expect_eq "$(jq -r .next.variant "$T/body")" net+debug "PUT answer"
	[[ $(jq -r .next.set_at "$T/body") -gt 0 ]] || fail "no set_at: $(cat "$T/body")"
	req GET /api/v1/machines/nb-api/next
	expect_eq "$(jq -r .next.variant "$T/body")" net+debug "GET after PUT"
	expect_eq "$(machine nb-api | jq -c .next.variant)" '"net+debug"' "/api/v1/machines next"
	expect_eq "$(machine nb-race | jq -c .next)" null "another machine's next"
	# variants are stored as variant_parse normalises them
	put_next nb-api '{"variant": "net+debug+debug"}'
	expect_status 200
	expect_eq "$(jq -r .next.variant "$T/body")" net+debug "normalised"
	put_next nb-api '{"action": "local"}'
	expect_status 200
	expect_eq "$(jq -c '.next | del(.set_at)' "$T/body")" '{"action":"local"}' "local replaces the variant"
	req DELETE /api/v1/machines/nb-api/next
	expect_status 200
	expect_eq "$(jq -c . "$T/body")" '{"machine":"nb-api","next":null}' "DELETE answer"
	req DELETE /api/v1/machines/nb-api/next
	expect_status 200 # clearing nothing is fine
	req HEAD /api/v1/machines/nb-api/next
	expect_status 200
	# a machine on the default entry, by its MAC
	put_next mac-525400000b99 '{"variant": "net"}'
	expect_status 200
	expect_eq "$(machine mac-525400000b99 | jq -r .next.variant)" net "mac- name listed"
	req DELETE /api/v1/machines/mac-525400000b99/next
	expect_status 200
}

test_refusals() {
	local body
	for body in '' 'not json' '[]' '{}' '{"variant": "net", "action": "local"}' '{"action": "reboot"}' \
		'{"variant": 7}' '{"variant": "net", "extra": 1}'; do
		put_next nb-api "$body"
		[[ $STATUS == 400 ]] || fail "PUT '$body': status $STATUS, want 400 ($(cat "$T/body"))"
	done
	for body in '{"variant": "nosuch"}' '{"variant": "net+nosuchfragment"}' '{"variant": "NET"}' \
		'{"variant": "net;reboot"}' "{\"variant\": \"$(printf 'a%.0s' $(seq 300))\"}"; do
		put_next nb-api "$body"
		[[ $STATUS == 400 ]] || fail "PUT '${body:0:60}': status $STATUS, want 400 ($(cat "$T/body"))"
	done
	expect_eq "$(curl -s "$TB_URL/api/v1/machines/nb-api/next" | jq -c .next)" null "nothing set by refusals"
	local m
	for m in nosuch default mac-525400000b01 mac-52540000 mac-525400000B99; do
		put_next "$m" '{"variant": "net"}'
		[[ $STATUS == 404 ]] || fail "PUT $m: status $STATUS, want 404 ($(cat "$T/body"))"
		req GET "/api/v1/machines/$m/next"
		[[ $STATUS == 404 ]] || fail "GET $m: status $STATUS, want 404"
		req DELETE "/api/v1/machines/$m/next"
		[[ $STATUS == 404 ]] || fail "DELETE $m: status $STATUS, want 404"
	done
	put_next mac-525400000b01 '{"variant": "net"}'
	grep -q 'nb-qemu' "$T/body" || fail "mac- of a listed machine does not name it: $(cat "$T/body")"
	req POST /api/v1/machines/nb-api/next -d '{"variant": "net"}'
	expect_status 405
	expect_header Allow "GET, HEAD, PUT, DELETE"
	req PUT /api/v1/machines -d '{}'
	expect_status 405
	expect_header Allow "GET, HEAD"
	req DELETE /api/v1/boots
	expect_status 405
	expect_header Allow "POST"
	req PUT /api/v1/machines/nb-api/next --data-binary "{\"variant\": \"$(head -c 70000 /dev/zero | tr '\0' a)\"}"
	expect_status 413
}

test_override_survives_restart() {
	put_next nb-api '{"variant": "net32"}'
	expect_status 200
	put_next nb-local '{"action": "local"}'
	expect_status 200
	expect_eq "$(jq -r '."nb-api".variant' "$STATE/next.json")" net32 "next.json on disk"
	tb_stop
	nb_daemon_start || return
	req GET /api/v1/machines/nb-api/next
	expect_eq "$(jq -r .next.variant "$T/body")" net32 "variant after restart"
	req GET /api/v1/machines/nb-local/next
	expect_eq "$(jq -r .next.action "$T/body")" local "local after restart"
	req DELETE /api/v1/machines/nb-api/next
	req DELETE /api/v1/machines/nb-local/next
	expect_eq "$(jq -c 'has("nb-api")' "$STATE/next.json")" false "cleared on disk"
}

test_local_script() {
	put_next nb-local '{"action": "local"}'
	expect_status 200
	local i
	for i in 1 2; do # until cleared, not once
		req GET '/ipxe?mac=52-54-00-00-0b-04&platform=pcbios'
		expect_status 200
		head -1 "$T/body" | grep -qx '#!ipxe' || fail "local script $i: $(cat "$T/body")"
		grep -qx 'exit 0' "$T/body" || fail "local script $i has no exit: $(cat "$T/body")"
		grep -q '^kernel\|^initrd\|^boot' "$T/body" && fail "local script $i boots a kernel: $(cat "$T/body")"
	done
	# a direct boot without a variant is refused; naming one is the operator's explicit choice
	req POST /api/v1/boots -d '{"mac": "52:54:00:00:0b:04", "server": "http://10.0.2.2:1"}'
	expect_status 409
	req DELETE /api/v1/machines/nb-local/next
	expect_status 200
	req GET '/ipxe?mac=52-54-00-00-0b-04&platform=pcbios'
	grep -q '^kernel ' "$T/body" || fail "cleared: no kernel line: $(cat "$T/body")"
	grep -q '^exit' "$T/body" && fail "cleared: still exits"
	expect_eq "$(script_variant "$T/body")" net "variant once cleared"
}

# Eight /ipxe requests at once: exactly one boot gets the one-time variant.
test_boot_once_taken_by_exactly_one_boot() {
	local i pids=() n32=0 nnet=0 v
	put_next nb-race '{"variant": "net32"}'
	expect_status 200
	for i in $(seq 8); do
		curl -s --max-time 30 -o "$T/race.$i" "$TB_URL/ipxe?mac=52:54:00:00:0b:03&platform=pcbios" &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i"; done
	for i in $(seq 8); do
		v=$(script_variant "$T/race.$i")
		case $v in
		net32) n32=$((n32 + 1)) ;;
		net) nnet=$((nnet + 1)) ;;
		*) fail "script $i: $(cat "$T/race.$i")" ;;
		esac
	done
	expect_eq "$n32/$nnet" "1/7" "boots with net32/net"
	expect_eq "$(curl -s "$TB_URL/api/v1/machines/nb-race/next" | jq -c .next)" null "override after the race"
	expect_eq "$(jq -c 'has("nb-race")' "$STATE/next.json")" false "taken on disk"
}

test_boot_once_by_post_boots() {
	local reply
	put_next nb-post '{"variant": "net32"}'
	# a variant named in the request wins, and the override waits
	reply=$(curl -s -X POST "$TB_URL/api/v1/boots" -d '{"mac": "52:54:00:00:0b:05", "server": "http://10.0.2.2:1", "variant": "net"}')
	expect_eq "$(jq -r .variant <<<"$reply")" net "explicit variant"
	expect_eq "$(curl -s "$TB_URL/api/v1/machines/nb-post/next" | jq -r .next.variant)" net32 "override kept"
	reply=$(curl -s -X POST "$TB_URL/api/v1/boots" -d '{"mac": "52:54:00:00:0b:05", "server": "http://10.0.2.2:1"}')
	expect_eq "$(jq -r .variant <<<"$reply")" net32 "first boot"
	expect_eq "$(jq -r .arch <<<"$reply")" i386 "first boot's arch"
	reply=$(curl -s -X POST "$TB_URL/api/v1/boots" -d '{"mac": "52:54:00:00:0b:05", "server": "http://10.0.2.2:1"}')
	expect_eq "$(jq -r .variant <<<"$reply")" net "second boot falls back"
}

test_cli() {
	local out rc
	out=$("$TINYBOOT_CLI" --server "$TB_URL" machine nb-cli next net32) || fail "next net32: exit $?"
	expect_eq "$(jq -r .next.variant <<<"$out")" net32 "cli next VARIANT"
	out=$("$TINYBOOT_CLI" --server "$TB_URL" machine nb-cli) || fail "machine NAME: exit $?"
	expect_eq "$(jq -r .next.variant <<<"$out")" net32 "cli machine NAME shows next"
	out=$("$TINYBOOT_CLI" --server "$TB_URL" machine nb-cli next local) || fail "next local: exit $?"
	expect_eq "$(jq -r .next.action <<<"$out")" local "cli next local"
	out=$("$TINYBOOT_CLI" --server "$TB_URL" machine nb-cli next clear) || fail "next clear: exit $?"
	expect_eq "$(jq -c .next <<<"$out")" null "cli next clear"
	rc=0
	"$TINYBOOT_CLI" --server "$TB_URL" machine nb-cli next nosuch > /dev/null 2> "$T/cli.err" || rc=$?
	expect_eq "$rc" 1 "exit for a bad variant"
	grep -q 'HTTP 400' "$T/cli.err" || fail "cli error: $(cat "$T/cli.err")"
	rc=0
	"$TINYBOOT_CLI" --server "$TB_URL" machine nosuch next net > /dev/null 2>&1 || rc=$?
	expect_eq "$rc" 1 "exit for an unknown machine"
	rc=0
	"$TINYBOOT_CLI" --server "$TB_URL" machine nb-cli next > /dev/null 2>&1 || rc=$?
	expect_eq "$rc" 2 "exit for next without what"
	rc=0
	"$TINYBOOT_CLI" --server "$TB_URL" version extra words > /dev/null 2>&1 || rc=$?
	expect_eq "$rc" 2 "other commands take no extra words"
}

# The status page shows what each machine boots next (headless Chromium, as test_status.sh).
test_status_page_shows_next() {
	local dom=$T/status.dom
	put_next nb-local '{"action": "local"}'
	put_next nb-api '{"variant": "net32"}'
	timeout 120 "${CHROMIUM:-chromium}" --headless --no-sandbox --disable-gpu --no-first-run \
		--disable-dev-shm-usage --user-data-dir="$T/chromium" --virtual-time-budget=6000 \
		--dump-dom "$TB_URL/" > "$dom" 2> "$T/chromium.log" || fail "chromium: $(tail -3 "$T/chromium.log")"
	grep -q '<th>next boot</th>' "$dom" || fail "no next boot column"
	grep -Eq '<tr data-machine="nb-local"[^>]*>.*<td class="next"><span data-next="local">local disk</span></td></tr>' "$dom" ||
		fail "nb-local: $(grep -o '<tr data-machine="nb-local".\{0,600\}' "$dom")"
	grep -Eq '<tr data-machine="nb-api"[^>]*>.*<td class="next"><span data-next="variant">once: <code>net32</code></span></td></tr>' "$dom" ||
		fail "nb-api: $(grep -o '<tr data-machine="nb-api".\{0,600\}' "$dom")"
	grep -Eq '<tr data-machine="nb-cli"[^>]*>.*<td class="next"></td></tr>' "$dom" ||
		fail "nb-cli: $(grep -o '<tr data-machine="nb-cli".\{0,600\}' "$dom")"
	req DELETE /api/v1/machines/nb-local/next
	req DELETE /api/v1/machines/nb-api/next
}

# boot_guest NAME ARGS...: tinyboot boot with the console in $T/NAME.console; sets BOOT_RC
boot_guest() {
	local name=$1
	shift
	BOOT_RC=0
	timeout 300 "$TINYBOOT_CLI" --server "$TB_URL" boot "$@" > "$T/$name.console" 2>&1 || BOOT_RC=$?
}

# Two real boots through iPXE (QEMU, BIOS): the override's i386 kernel once, then machines.conf's.
test_qemu_boot_once_then_fallback() {
	local m
	put_next nb-qemu '{"variant": "net32"}'
	expect_status 200
	boot_guest qemu1 net --ipxe --nic e1000 --mac 52:54:00:00:0b:01
	expect_eq "$BOOT_RC" 0 "first boot's exit code ($(tail -3 "$T/qemu1.console"))"
	m=$(machine nb-qemu)
	expect_eq "$(jq -r .variant <<<"$m")" net32 "first boot's variant"
	expect_eq "$(jq -r .report.arch <<<"$m")" i686 "first guest's uname -m"
	expect_eq "$(jq -r .result <<<"$m")" ok "first boot's result"
	expect_eq "$(jq -c .next <<<"$m")" null "override after the first boot"
	boot_guest qemu2 net --ipxe --nic e1000 --mac 52:54:00:00:0b:01
	expect_eq "$BOOT_RC" 0 "second boot's exit code ($(tail -3 "$T/qemu2.console"))"
	m=$(machine nb-qemu)
	expect_eq "$(jq -r .variant <<<"$m")" net "second boot's variant"
	expect_eq "$(jq -r .report.arch <<<"$m")" x86_64 "second guest's uname -m"
	expect_eq "$(jq -r .result <<<"$m")" ok "second boot's result"
}

# Last: this suite's overrides are cleared, and the daemon exits 0 without a sanitizer report.
test_zz_clean_exit() {
	local left=0
	nb_clear_all
	[[ -e $STATE/next.json ]] &&
		left=$(jq 'keys | map(select(startswith("nb-") or startswith("mac-525400000b"))) | length' "$STATE/next.json")
	expect_eq "$left" 0 "overrides of this suite left in next.json"
	tb_stop
}

run_tests
