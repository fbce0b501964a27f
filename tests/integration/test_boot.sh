#!/bin/bash
# test_boot.sh - real guests: QEMU (TCG) boots the built variants directly and through iPXE,
# the guest configures eth0, fetches its payloads, checks them and reports to the daemon.
source "$(dirname "$0")/../lib.sh"

CACHE=${TINYBOOT_CACHE:-/var/cache/tinyboot}
STATE=$CACHE/test-state
BUILD_WAIT=${BUILD_WAIT:-2700}
mkdir -p "$STATE" "$T/payloads"

printf 'hello from the payload directory\n' > "$T/payloads/hello.txt"
head -c 300000 /dev/urandom > "$T/payloads/blob.bin"
cp "$T/payloads/blob.bin" "$T/payloads/pinned.bin"
# a published checksum that the file on disk does not match
echo 0000000000000000000000000000000000000000000000000000000000000000 > "$T/payloads/pinned.bin.sha256"

cat > "$T/machines.conf" <<CONF
# test machines: one per scenario
52:54:00:00:00:01  name=e1000-static  variant=net ip=10.0.2.15/24 gw=10.0.2.2 payloads=hello.txt,blob.bin,gen/1048576
52:54:00:00:00:02  name=virtio-static variant=net ip=10.0.2.15/24 gw=10.0.2.2 payloads=hello.txt,gen/65536
52:54:00:00:00:03  name=ipxe-guest    variant=net ip=10.0.2.15/24 gw=10.0.2.2 payloads=hello.txt
52:54:00:00:00:04  name=dhcp-guest    variant=net net=dhcp payloads=hello.txt
52:54:00:00:00:05  name=i386-guest    variant=net32 ip=10.0.2.15/24 gw=10.0.2.2 payloads=hello.txt
52:54:00:00:00:06  name=bad-payload   variant=net ip=10.0.2.15/24 gw=10.0.2.2 payloads=hello.txt,pinned.bin
52:54:00:00:00:07  name=silent        variant=net ip=10.0.2.15/24 gw=10.0.2.2 args=tinyboot.report=0
CONF

# The suite's daemon: started once here, restarted by test_reports_survive_restart.
boot_daemon_start() {
	tb_start --state "$STATE" --recipes "$ROOT/images" --kernel-config "$ROOT/kernel-config" \
		--rootfs "$ROOT/rootfs" --sources "$ROOT/etc/sources.conf" --machines "$T/machines.conf" \
		--report-timeout 20
}
boot_daemon_start || exit 1

# boot_guest NAME ARGS...: tinyboot boot with the console in $T/NAME.console; sets BOOT_RC
boot_guest() {
	local name=$1
	shift
	BOOT_RC=0
	timeout 600 "$TINYBOOT_CLI" --server "$TB_URL" boot "$@" > "$T/$name.console" 2>&1 || BOOT_RC=$?
}

machine() { # machine NAME: that machine's last boot (JSON)
	curl -s "$TB_URL/api/v1/machines" | jq --arg m "$1" '.[$m]'
}

expect_report_ok() { # expect_report_ok NAME
	local m
	m=$(machine "$1")
	expect_eq "$(jq -r .result <<<"$m")" ok "$1 result"
	expect_eq "$(jq -r '[.events[].state] | join(",")' <<<"$m" | grep -o 'kernel sent,initrd sent' | head -1)" \
		"kernel sent,initrd sent" "$1 downloads recorded"
	expect_eq "$(jq -r '.events[-1].state' <<<"$m")" "report: payloads ok" "$1 last state"
	expect_eq "$(jq -r '[.report.payloads[] | select(.ok != true)] | length' <<<"$m")" 0 "$1 failed payloads"
	[[ $(jq -r .report.kernel <<<"$m") == 6.1.* ]] || fail "$1 kernel release $(jq -r .report.kernel <<<"$m")"
}

# images_built VARIANT...: each built (a no-op when it is), 200 expected.
images_built() {
	local v
	for v in "$@"; do
		req GET "/images/$v/bzImage?wait=1" --max-time "$BUILD_WAIT"
		expect_status 200
	done
}

test_00_images_are_built() {
	images_built net net32
}

test_boot_e1000_static() {
	boot_guest e1000 net --nic e1000 --mac 52:54:00:00:00:01
	expect_eq "$BOOT_RC" 0 "tinyboot boot exit code"
	expect_report_ok e1000-static
	local m
	m=$(machine e1000-static)
	expect_eq "$(jq -r '.report.addresses[0]' <<<"$m")" 10.0.2.15/24 address
	expect_eq "$(jq -r '.report.payloads | map(.name + "=" + (.size|tostring)) | join(" ")' <<<"$m")" \
		"hello.txt=33 blob.bin=300000 gen/1048576=1048576" "payload sizes"
	expect_eq "$(jq -r '.report.payloads[1].sha256' <<<"$m")" "$(sha256sum "$T/payloads/blob.bin" | cut -d' ' -f1)" "blob checksum"
	grep -q 'tinyboot: report sent (payloads ok: true)' "$T/e1000.console" || fail "console: $(tail -5 "$T/e1000.console")"
}

test_boot_virtio_static() {
	boot_guest virtio net --nic virtio --mac 52:54:00:00:00:02
	expect_eq "$BOOT_RC" 0 "tinyboot boot exit code"
	expect_report_ok virtio-static
}

test_boot_ipxe_by_mac() {
	boot_guest ipxe net --ipxe --nic virtio --mac 52:54:00:00:00:03
	expect_eq "$BOOT_RC" 0 "tinyboot boot --ipxe exit code"
	expect_report_ok ipxe-guest
	jq -r '[.events[].state] | join(",")' <<<"$(machine ipxe-guest)" | grep -q 'script served' ||
		fail "no 'script served' state"
}

test_boot_dhcp() {
	boot_guest dhcp net --nic virtio --mac 52:54:00:00:00:04
	expect_eq "$BOOT_RC" 0 "exit code"
	expect_report_ok dhcp-guest
	expect_eq "$(jq -r '.report.addresses[0]' <<<"$(machine dhcp-guest)")" 10.0.2.15/24 "leased address"
}

test_boot_i386() {
	boot_guest i386 net32 --nic e1000 --mac 52:54:00:00:00:05
	expect_eq "$BOOT_RC" 0 "exit code"
	expect_report_ok i386-guest
	expect_eq "$(jq -r .report.arch <<<"$(machine i386-guest)")" i686 "guest uname -m"
	expect_eq "$(jq -r .variant <<<"$(machine i386-guest)")" net32 variant
}

test_boot_wrong_checksum_reported_failed() {
	boot_guest badpayload net --nic virtio --mac 52:54:00:00:00:06
	expect_eq "$BOOT_RC" 1 "exit code for a failed payload"
	local m
	m=$(machine bad-payload)
	expect_eq "$(jq -r .result <<<"$m")" failed result
	expect_eq "$(jq -r '.events[-1].state' <<<"$m")" "report: payloads failed" "last state"
	expect_eq "$(jq -r '.report.payloads | map(.name + ":" + (.ok|tostring)) | join(" ")' <<<"$m")" \
		"hello.txt:true pinned.bin:false" verdicts
}

test_boot_silent_machine_times_out() {
	boot_guest silent net --nic virtio --mac 52:54:00:00:00:07 --timeout 25
	expect_eq "$BOOT_RC" 3 "exit code without a report"
	local m
	m=$(machine silent)
	expect_eq "$(jq -r .result <<<"$m")" "timed out" result
	expect_eq "$(jq -r '.events[-1].state' <<<"$m")" "timed out" "last state"
}

test_ipxe_scripts_and_bad_input() {
	# the machine script names the built kernel by its content address
	images_built net
	req GET /boot.ipxe
	expect_status 200
	head -1 "$T/body" | grep -qx '#!ipxe' || fail "boot.ipxe: $(cat "$T/body")"
	req GET '/ipxe?mac=52:54:00:00:00:01'
	expect_status 200
	grep -q '^kernel http://.*/artifacts/[0-9a-f]\{64\}/bzImage?boot=[0-9a-f]\{32\} ' "$T/body" || fail "script: $(cat "$T/body")"
	grep -q 'tinyboot.id=e1000-static' "$T/body" || fail "no machine id in the command line"
	local p
	for p in 'mac=zz' 'mac=52:54:00:00:00:01%0aboot' 'mac=52:54:00:00:00:01&uuid=$%7Bx%7D' \
		"mac=$(printf '5%.0s' $(seq 300))" 'mac=52:54:00:00:00:01&uuid=1-2-3'; do
		req GET "/ipxe?$p"
		[[ $STATUS == 400 ]] || fail "/ipxe?$p: status $STATUS, want 400"
	done
	req GET '/ipxe?mac=52:54:00:99:99:99'
	expect_status 200
	grep -q '^exit' "$T/body" || fail "unknown machine without default: $(cat "$T/body")"
	req POST /api/v1/reports -d "{\"id\": \"x\", \"payloads\": [$(printf '{"name":"a","size":1,"sha256":"","ok":true},%.0s' $(seq 2000)){}]}"
	expect_status 413
	req POST /api/v1/reports -d '{"id": "../etc", "kernel": "k", "uptime": {}, "payloads": []}'
	expect_status 400
}

test_reports_survive_restart() {
	local before after
	before=$(machine virtio-static | jq -c .report)
	if [[ $before == null ]]; then
		# no report in this state yet (test_boot_virtio_static makes one): boot it here
		boot_guest virtio-restart net --nic virtio --mac 52:54:00:00:00:02
		before=$(machine virtio-static | jq -c .report)
	fi
	tb_stop
	boot_daemon_start || return
	after=$(machine virtio-static | jq -c .report)
	[[ $before != null ]] || fail "no report before the restart"
	expect_eq "$after" "$before" "report after restart"
}

run_tests
