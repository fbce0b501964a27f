#!/bin/bash
# bench-pxe: firmware power-on -> guest report through tinyboot's proxyDHCP beside a site DHCP
# server, in network namespaces (tests/integration/netns.sh), median of RUNS boots for each path:
#   BIOS       SeaBIOS, e1000 with QEMU's iPXE ROM: DHCP answer carries the /boot.ipxe URL
#   UEFI PXE   OVMF's own PXE client (virtio-net, no ROM): snponly.efi over TFTP, then iPXE
#   UEFI HTTP  OVMF's HTTP Boot (PXE off): ipxe.efi over HTTP from /pxe/, then iPXE
# and where the time goes. Needs root; part of `make bench-boot`.
set -uo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cache=${TINYBOOT_CACHE:-/var/cache/tinyboot}
state=${TINYBOOT_STATE:-$cache/test-state}
runs=${RUNS:-3}
boot_wait=${BOOT_WAIT:-600}

if [[ $EUID -ne 0 ]]; then
	echo "bench-pxe: needs root (network namespaces, taps): not measured"
	exit 0
fi
work=$(mktemp -d /tmp/tinyboot-bench-pxe.XXXXXX)
chmod 0755 "$work" # dnsmasq drops to its own user, which must reach nothing here but the log
source "$here/scripts/daemon-lib.sh"
NETNS_DIR=$work/netns
source "$here/tests/integration/netns.sh"
tb_pid=
cleanup() {
	[[ -z $tb_pid ]] || daemon_kill "$tb_pid" 30
	netns_cleanup
	[[ -n ${KEEP:-} ]] || rm -rf "$work"
}
trap cleanup EXIT

netns_setup --taps 1 --site || exit 1
netns_site_dhcp || exit 1
lab=192.0.2.1
labcurl() { ip netns exec "$NETNS_LAB" curl "$@"; }

cat > "$work/tinybootd-lab" <<EOF
#!/bin/bash
exec ip netns exec $NETNS_LAB $here/build/tinybootd "\$@"
EOF
chmod +x "$work/tinybootd-lab"
cat > "$work/machines.conf" <<CONF
default  variant=net net=dhcp payloads=gen/1048576
CONF
log=$work/daemon.log
if ! daemon_start "$work/tinybootd-lab" "$work/daemon.out" "$log" --state "$state" \
	--recipes "$here/images" --kernel-config "$here/kernel-config" --rootfs "$here/rootfs" \
	--sources "$here/etc/sources.conf" --machines "$work/machines.conf" --listen "$lab:0" \
	--pxe proxy --pxe-interface br0 --report-timeout 600 --log-level info; then
	echo "bench-pxe: tinybootd did not start: $(tail -3 "$log")" >&2
	exit 1
fi
tb_pid=$DAEMON_PID
url=$DAEMON_URL
for v in net net+efi; do
	code=$(labcurl -s -o /dev/null -w '%{http_code}' --max-time 3600 "$url/images/$v/bzImage?wait=1")
	[[ $code == 200 ]] || { echo "bench-pxe: $v did not build ($code): $(tail -3 "$log")" >&2; exit 1; }
done

# run_once KIND: one guest from power-on to its report; prints
# "total firmware program ipxe http kernel guest" in seconds, or nothing when it did not report.
#   firmware  QEMU start -> the first DHCP packet at the proxy (firmware start-up)
#   program   -> iPXE runs: the firmware's DHCP and its download of the boot program (TFTP or
#                HTTP); 0 for BIOS, whose NIC ROM is iPXE already
#   ipxe      -> the iPXE script was asked for: iPXE's own DHCP, and its wait for an IPv6 router
#   http      -> initrd sent (the script, the kernel and the initrd over HTTP)
#   kernel    -> the guest's kernel started (iPXE or the EFI stub handing over, unpacking)
#   guest     -> report received (kernel boot, init, DHCP, payloads, report: the guest's uptime)
run_once() {
	local kind=$1 mac name m t0 first ipxe done_at args=()
	mac=$(printf '52:54:00:%02x:%02x:%02x' $((RANDOM % 256)) $((RANDOM % 256)) $((RANDOM % 256)))
	name=mac-${mac//:/}
	rm -f "$NETNS_DIR/$kind.console" # the timeline reads only what is written after it starts
	case $kind in
	bios) netns_qemu "$kind" bios e1000 tap0 "$mac" ;;
	uefi) netns_qemu "$kind" uefi virtio-norom tap0 "$mac" ;;
	http) netns_qemu "$kind" uefi virtio-norom tap0 "$mac" \
		-fw_cfg name=opt/org.tianocore/IPv4PXESupport,string=n \
		-fw_cfg name=opt/org.tianocore/IPv6PXESupport,string=n ;;
	esac
	args=(firstdhcp "$log" "\\(br0\\) $mac" ipxe "$NETNS_DIR/$kind.console" 'iPXE initialising devices'
		report "$log" "report from $name ")
	local timeline
	timeline=$(netns_timeline "$boot_wait" "${args[@]}")
	netns_stop "$NETNS_PID"
	first=$(awk '$1 == "firstdhcp" {print $2}' <<<"$timeline")
	ipxe=$(awk '$1 == "ipxe" {print $2}' <<<"$timeline")
	done_at=$(awk '$1 == "report" {print $2}' <<<"$timeline")
	[[ $done_at != - && $first != - && $ipxe != - ]] || { echo "bench-pxe: $kind $mac: no report" >&2; return; }
	m=$(labcurl -s "$url/api/v1/machines" | jq --arg n "$name" '.[$n]')
	[[ $(jq -r .result <<<"$m") == ok ]] || { echo "bench-pxe: $kind $mac: $(jq -c .result <<<"$m")" >&2; return; }
	t0=$NETNS_T0
	jq -r --argjson t0 "$t0" --argjson first "$first" --argjson ipxe "$ipxe" \
		--argjson finish "$done_at" '
		(.created - $t0) as $script
		| ([.events[] | select(.state == "initrd sent") | .after_s][0] + .created - $t0) as $initrd
		| (.report.uptime.report) as $up
		| ([$ipxe, $first] | max) as $running
		| [$finish, $first, $running - $first, $script - $running, $initrd - $script, ($finish - $up) - $initrd, $up]
		| map(. * 100 | round / 100) | @tsv' <<<"$m"
}

median() { sort -n | awk '{v[NR] = $1} END {if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

printf '%-34s %7s %8s %7s %6s %6s %6s %6s\n' "path (proxyDHCP, median of $runs)" total firmware program ipxe http kernel guest
for kind in bios uefi http; do
	: > "$work/$kind.rows"
	for _ in $(seq "$runs"); do run_once "$kind" >> "$work/$kind.rows"; done
	case $kind in
	bios) path_label="BIOS: SeaBIOS + iPXE NIC ROM" ;;
	uefi) path_label="UEFI PXE: OVMF, TFTP snponly.efi" ;;
	http) path_label="UEFI HTTP Boot: OVMF, ipxe.efi" ;;
	esac
	cols=()
	for c in 1 2 3 4 5 6 7; do cols+=("$(cut -f"$c" "$work/$kind.rows" | median)"); done
	printf '%-34s %7s %8s %7s %6s %6s %6s %6s   (%d of %d reported)\n' "$path_label" "${cols[@]}" \
		"$(wc -l < "$work/$kind.rows")" "$runs"
done
echo "seconds from QEMU start: firmware to its first DHCP packet; program: DHCP and the boot program"
echo "until iPXE runs; ipxe: iPXE's DHCP and IPv6 wait until it asks for the script; http: script,"
echo "kernel, initrd; kernel: hand-over to the guest kernel; guest: its uptime at the report. QEMU $(qemu-system-x86_64 --version | head -1 | cut -d' ' -f4) TCG, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), $(date -u +%Y-%m-%d)"
