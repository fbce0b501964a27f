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
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

# --- Debian's stock kernel and a busybox-static initramfs that loads the NIC modules ---
stock=$cache/stock-kernel
pkg=$(apt-cache depends linux-image-amd64 | sed -n 's/.*Depends: \(linux-image-[0-9].*\)/\1/p' | head -1)
if [[ ! -e $stock/.done-$pkg ]]; then
	rm -rf "$stock"
	mkdir -p "$stock"
	(cd "$stock" && apt-get download "$pkg" >/dev/null)
	dpkg-deb -x "$stock"/*.deb "$stock/root"
	touch "$stock/.done-$pkg"
fi
vmlinuz=$(ls "$stock"/root/boot/vmlinuz-*)
kver=${vmlinuz##*/vmlinuz-}
moddir=$stock/root/lib/modules/$kver

ref=$work/ref
mkdir -p "$ref/bin" "$ref/dev" "$ref/proc" "$ref/sys" "$ref/tmp" "$ref/modules"
cp /bin/busybox "$ref/bin/busybox"
for a in sh mount insmod ip wget sha256sum cut cat uname reboot sed grep mkdir rm ls sleep wc; do ln -s busybox "$ref/bin/$a"; done
# Debian builds both NIC drivers and virtio itself as modules; loaded in dependency order
# (the package ships no modules.dep, and depmod is not needed for a fixed list)
n=0
for m in virtio virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net e1000; do
	src=$(find "$moddir" -name "$m.ko*" | head -1)
	[[ -n $src ]] || continue
	n=$((n + 1))
	case $src in
	*.xz) xz -dc "$src" > "$ref/modules/$(printf %02d $n).ko" ;;
	*.zst) zstd -qdc "$src" > "$ref/modules/$(printf %02d $n).ko" ;;
	*) cp "$src" "$ref/modules/$(printf %02d $n).ko" ;;
	esac
done
# the kernel opens /dev/console before anything mounts devtmpfs
[[ $(id -u) -eq 0 ]] && mknod "$ref/dev/console" c 5 1
cp "$here/rootfs/net/etc/init.d/S50tinyboot" "$ref/report.sh"
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
ip addr add "$ip" dev eth0
ip route add default via "$gw"
cut -d' ' -f1 /proc/uptime > /tmp/tinyboot.net-up
sh /report.sh
reboot -f
INIT
chmod 755 "$ref/init" "$ref/report.sh"
(cd "$ref" && find . | sort | cpio -o -H newc --quiet --owner 0:0 | gzip -9n) > "$work/ref.initrd"

# --- the daemon and tinyboot's artifacts ---
cat > "$work/machines.conf" <<CONF
52:54:00:00:10:01  name=bench  variant=$variant ip=10.0.2.15/24 gw=10.0.2.2 payloads=gen/1048576
CONF
"$here/build/tinybootd" --listen 127.0.0.1:0 --state "$state" --recipes "$here/images" \
	--kernel-config "$here/kernel-config" --rootfs "$here/rootfs" --sources "$here/etc/sources.conf" \
	--machines "$work/machines.conf" --log-level warn > "$work/out" 2> "$work/log" &
pids+=($!)
for _ in $(seq 100); do grep -q listening "$work/out" && break; sleep 0.1; done
url=$(sed -n 's|.*listening on \(http://.*\)/$|\1|p' "$work/out")
port=${url##*:}
"$here/build/tinyboot" --server "$url" build "$variant" > /dev/null 2>&1
artifact=$(curl -s "$url/images/$variant/manifest.json" | jq -r .artifact)
cp "$state/artifacts/$artifact/bzImage" "$work/tb.bzImage"
cp "$state/artifacts/$artifact/initrd" "$work/tb.initrd"

# boot_once KERNEL INITRD NIC: prints "wall_seconds guest_uptime_at_report"
boot_once() {
	local kernel=$1 initrd=$2 nic=$3 reply token cmdline t0 t1 qpid b
	reply=$(curl -s -d "{\"mac\": \"52:54:00:00:10:01\", \"server\": \"http://10.0.2.2:$port\", \"poweroff\": true}" "$url/api/v1/boots")
	token=$(jq -r .boot <<<"$reply")
	cmdline=$(jq -r .cmdline <<<"$reply")
	t0=$(date +%s.%N)
	qemu-system-x86_64 -nodefaults -display none -serial "file:$work/console" -no-reboot -m 256 \
		-kernel "$kernel" -initrd "$initrd" -append "$cmdline" \
		-netdev user,id=n0 -device "$nic,netdev=n0,mac=52:54:00:00:10:01,romfile=" &
	qpid=$!
	pids+=($qpid)
	for _ in $(seq 1200); do
		b=$(curl -s "$url/api/v1/boots/$token")
		if [[ $(jq -r '.report != null' <<<"$b") == true ]]; then
			t1=$(date +%s.%N)
			break
		fi
		sleep 0.05
	done
	kill "$qpid" 2>/dev/null || true
	wait "$qpid" 2>/dev/null || true
	[[ -n ${t1:-} && $(jq -r .result <<<"$b") == ok ]] || { echo "no ok report: $(tail -5 "$work/console")" >&2; echo "nan nan"; return; }
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
