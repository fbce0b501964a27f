#!/bin/bash
# bench-boot: QEMU start -> guest report received at the daemon, median of RUNS boots, for
# e1000 and virtio-net, for tinyboot's variant and for Debian's stock kernel (unpacked from the
# linux-image package, its NIC drivers loaded as modules) with Debian's busybox-static, all in
# the same run against the same daemon.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cache=${TINYBOOT_CACHE:-/var/cache/tinyboot}
state=${TINYBOOT_STATE:-$cache/test-state}
variant=${BENCH_VARIANT:-net}
runs=${RUNS:-5}
work=$(mktemp -d /tmp/tinyboot-bench-boot.XXXXXX)
pids=()
source "$here/scripts/bench-lib.sh"
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	bench_daemon_stop
	[[ -n ${KEEP:-} ]] || rm -rf "$work"
}
trap cleanup EXIT

# --- Debian's stock kernel and a busybox-static initramfs that loads the NIC modules ---
vmlinuz=$("$here/scripts/stock-kernel.sh" "$cache")
kver=${vmlinuz##*/vmlinuz-}
moddir=$cache/stock-kernel/root/lib/modules/$kver

ref=$work/ref
mkdir -p "$ref/bin" "$ref/dev" "$ref/proc" "$ref/sys" "$ref/tmp" "$ref/modules"
cp /bin/busybox "$ref/bin/busybox"
for a in sh mount insmod ip sha256sum cut cat uname reboot sed grep mkdir rm ls sleep wc; do ln -s busybox "$ref/bin/$a"; done
# Debian builds both NIC drivers and virtio itself as modules. The package ships no modules.dep,
# so the load order comes from each module's own `depends=` (its .modinfo section), deepest first.
declare -A queued=()
n=0
queue_module() { # queue_module NAME: copy NAME after everything it depends on
	local name=$1 src deps d ko=$work/$1.ko
	[[ -z ${queued[$name]:-} ]] || return 0
	queued[$name]=1
	src=$(find "$moddir" \( -name "$name.ko" -o -name "$name.ko.xz" -o -name "$name.ko.zst" \) | head -1)
	[[ -n $src ]] || { echo "bench-boot: module $name not in $moddir" >&2; exit 1; }
	case $src in
	*.xz) xz -dc "$src" > "$ko" ;;
	*.zst) zstd -qdc "$src" > "$ko" ;;
	*) cp "$src" "$ko" ;;
	esac
	deps=$(objcopy -O binary --only-section=.modinfo "$ko" /dev/stdout | tr '\0' '\n' | sed -n 's/^depends=//p')
	for d in ${deps//,/ }; do queue_module "${d//-/_}"; done
	n=$((n + 1))
	mv "$ko" "$ref/modules/$(printf %02d $n)-$name.ko"
}
for m in virtio_pci virtio_net e1000; do queue_module "$m"; done
# the kernel opens /dev/console before anything mounts devtmpfs
[[ $(id -u) -eq 0 ]] && mknod "$ref/dev/console" c 5 1
mkdir -p "$ref/etc"
cp "$here/rootfs/net/etc/init.d/S50tinyboot" "$ref/report.sh"
cp "$here/rootfs/net/etc/tinyboot.functions" "$ref/etc/"
cat > "$ref/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in /modules/*.ko; do insmod "$m" 2>/dev/null; done
ip link set lo up
ip=; gw=
for arg in $(cat /proc/cmdline); do
	case "$arg" in tinyboot.ip=*) ip=${arg#*=} ;; tinyboot.gw=*) gw=${arg#*=} ;; esac
done
ip link set eth0 up
# wait for the link as any init must (e1000 reports carrier some time after "up")
i=0
while [ "$(cat /sys/class/net/eth0/carrier 2>/dev/null)" != 1 ] && [ $i -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
ip addr add "$ip" dev eth0
ip route add default via "$gw"
cut -d' ' -f1 /proc/uptime > /tmp/tinyboot.net-up
/bin/busybox-report sh /report.sh
reboot -f
INIT
chmod 755 "$ref/init" "$ref/report.sh"

# --- the daemon and tinyboot's artifacts ---
cat > "$work/machines.conf" <<CONF
52:54:00:00:10:01  name=bench  variant=$variant ip=10.0.2.15/24 gw=10.0.2.2 payloads=gen/1048576
CONF
bench_daemon_start --state "$state" --recipes "$here/images" --kernel-config "$here/kernel-config" \
	--rootfs "$here/rootfs" --sources "$here/etc/sources.conf" --machines "$work/machines.conf"
url=$bench_url
port=${url##*:}
manifest=$(bench_build "$variant")
artifact=$(jq -r .artifact "$manifest")
# Debian's busybox-static 1.35 wget applet dies on a NULL write in this guest every time
# ("wget[N]: segfault at 0 ip 4ef111 ... error 6 in busybox"; it works in a chroot on the host),
# and its shell always runs its own applets. So the report script alone runs under tinyboot's
# static musl busybox (sh, wget); the modules, ip configuration and init stay Debian's.
cp "$state/busybox/$(jq -r .busybox_key "$manifest")/busybox" "$ref/bin/busybox-report"
ln -s busybox-report "$ref/bin/wget"
(cd "$ref" && find . | sort | cpio -o -H newc --quiet --owner 0:0 | gzip -9n) > "$work/ref.initrd"
cp "$state/artifacts/$artifact/bzImage" "$work/tb.bzImage"
cp "$state/artifacts/$artifact/initrd" "$work/tb.initrd"

# boot_reported TOKEN: the boot has its guest's report (the boot's JSON left in b)
boot_reported() {
	b=$(curl -s "$url/api/v1/boots/$1")
	[[ $(jq -r '.report != null' <<<"$b") == true ]]
}

# boot_once KERNEL INITRD NIC: prints "wall_seconds guest_uptime_at_report"
boot_once() {
	local kernel=$1 initrd=$2 nic=$3 reply token cmdline t0 t1='' qpid b
	# the same device line `tinyboot boot` uses: no emulated autonegotiation delay on e1000
	[[ $nic == e1000 ]] && nic=e1000,autonegotiation=off
	reply=$(curl -s -d "{\"mac\": \"52:54:00:00:10:01\", \"server\": \"http://10.0.2.2:$port\", \"poweroff\": true}" "$url/api/v1/boots")
	token=$(jq -r .boot <<<"$reply")
	cmdline=$(jq -r .cmdline <<<"$reply")
	t0=$(date +%s.%N)
	qemu-system-x86_64 -nodefaults -display none -serial "file:$work/console" -no-reboot -m 256 \
		-kernel "$kernel" -initrd "$initrd" -append "$cmdline" \
		-netdev user,id=n0 -device "$nic,netdev=n0,mac=52:54:00:00:10:01,romfile=" &
	qpid=$!
	pids+=($qpid)
	wait_until 90 boot_reported "$token" && t1=$(date +%s.%N)
	kill "$qpid" 2>/dev/null || true
	wait "$qpid" 2>/dev/null || true
	[[ -n $t1 && $(jq -r .result <<<"$b") == ok ]] || { echo "no ok report: $(tail -5 "$work/console")" >&2; echo "nan nan"; return; }
	echo "$(echo "$t1 - $t0" | bc) $(jq -r .report.uptime.report <<<"$b")"
}

median() { sort -n | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

printf '%-28s %-8s %10s %16s\n' kernel nic "wall (s)" "uptime@report"
for nic in e1000 virtio-net-pci; do
	for which in tinyboot stock; do
		: > "$work/walls"
		: > "$work/uptimes"
		for _ in $(seq "$runs"); do
			if [[ $which == tinyboot ]]; then
				read -r w u < <(boot_once "$work/tb.bzImage" "$work/tb.initrd" "$nic")
			else
				read -r w u < <(boot_once "$vmlinuz" "$work/ref.initrd" "$nic")
			fi
			echo "$w" >> "$work/walls"
			echo "$u" >> "$work/uptimes"
		done
		wall=$(median < "$work/walls")
		up=$(median < "$work/uptimes")
		eval "wall_${which}_${nic//-/_}=$wall"
		label=$([[ $which == tinyboot ]] && echo "tinyboot $variant" || echo "Debian $kver")
		printf '%-28s %-8s %10.2f %16.2f\n' "$label" "${nic%%-*}" "$wall" "$up"
	done
done
for nic in e1000 virtio_net_pci; do
	t=wall_tinyboot_$nic s=wall_stock_$nic
	echo "${nic%%_*}: tinyboot/stock wall ratio $(echo "scale=2; ${!t} / ${!s}" | bc)"
done
echo "median of $runs boots each, QEMU $(qemu-system-x86_64 --version | head -1 | cut -d' ' -f4) TCG, $(nproc) cores, $(date -u +%Y-%m-%d)"
