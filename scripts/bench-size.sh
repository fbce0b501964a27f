#!/bin/bash
# bench-size: sizes of every shipped recipe (bzImage, busybox, initramfs) against the targets,
# beside a reference kernel (tinyconfig plus only the options this guest needs, olddefconfig,
# tinyconfig's default compression, built by the daemon from the same source in its own state
# directory) and Debian's stock kernel and busybox-static.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cache=${TINYBOOT_CACHE:-/var/cache/tinyboot}
work=$(mktemp -d /tmp/tinyboot-bench-size.XXXXXX)
source "$here/scripts/bench-lib.sh"
trap 'bench_daemon_stop; rm -rf "$work"' EXIT

size_of() { jq -r ".sizes.$2" "$1"; }

# --- the shipped recipes ---
# net and net32 come from the test state directory (make test builds them there); every other
# recipe gets a state directory of its own, so that no O= tree flips between two configurations
# and a rerun is a cache hit
printf '%-34s %10s %10s %10s\n' "image" bzImage busybox initrd
for r in "$here"/images/*.image; do
	name=$(basename "$r" .image)
	case $name in
	net | net32) state=${TINYBOOT_STATE:-$cache/test-state} ;;
	*) state=$cache/size-states/$name ;;
	esac
	mkdir -p "$state"
	[[ -d $state/sources || ! -d $cache/test-state/sources ]] || cp -a "$cache/test-state/sources" "$state/"
	bench_daemon_start --state "$state" --recipes "$here/images" --kernel-config "$here/kernel-config" \
		--rootfs "$here/rootfs" --sources "$here/etc/sources.conf"
	m=$(bench_build "$name")
	printf '%-34s %10s %10s %10s\n' "$name ($(jq -r '.arch + ", " + .libc' "$m"))" \
		"$(size_of "$m" bzImage)" "$(size_of "$m" busybox)" "$(size_of "$m" initrd)"
	[[ $name == net ]] && net_kernel=$(size_of "$m" bzImage)
	bench_daemon_stop
done

# --- reference: tinyconfig + the option list below, olddefconfig, default compression ---
state=$cache/size-states/reference
mkdir -p "$state" "$work/recipes" "$work/kconfig"
cp -a "$here"/kernel-config/. "$work/kconfig/"
[[ -d $state/sources || ! -d $cache/test-state/sources ]] || cp -a "$cache/test-state/sources" "$state/"
cat > "$work/kconfig/reference.config" <<'CONF'
CONFIG_64BIT=y
CONFIG_PRINTK=y
CONFIG_TTY=y
CONFIG_SERIAL_8250=y
CONFIG_SERIAL_8250_CONSOLE=y
CONFIG_BLK_DEV_INITRD=y
CONFIG_RD_GZIP=y
CONFIG_BINFMT_ELF=y
CONFIG_BINFMT_SCRIPT=y
CONFIG_PROC_FS=y
CONFIG_SYSFS=y
CONFIG_DEVTMPFS=y
CONFIG_NET=y
CONFIG_INET=y
CONFIG_PACKET=y
CONFIG_UNIX=y
CONFIG_PCI=y
CONFIG_NETDEVICES=y
CONFIG_NET_CORE=y
CONFIG_ETHERNET=y
CONFIG_NET_VENDOR_INTEL=y
CONFIG_E1000=y
CONFIG_VIRTIO_MENU=y
CONFIG_VIRTIO=y
CONFIG_VIRTIO_PCI=y
CONFIG_VIRTIO_NET=y
CONF
sed -e 's/^kernel-fragments = .*/kernel-fragments = reference/' -e '/^kernel-compression/d' -e '/^kernel-patches/d' \
	-e 's/^description = .*/description = tinyconfig plus the options the net guest needs/' \
	"$here/images/net.image" > "$work/recipes/reference.image"
bench_daemon_start --state "$state" --recipes "$work/recipes" --kernel-config "$work/kconfig" \
	--rootfs "$here/rootfs" --sources "$here/etc/sources.conf"
m=$(bench_build reference)
ref_kernel=$(size_of "$m" bzImage)
printf '%-34s %10s %10s %10s\n' "tinyconfig + same options" "$ref_kernel" - -
bench_daemon_stop

stock=$("$here/scripts/stock-kernel.sh" "$cache")
printf '%-34s %10s %10s %10s\n' "Debian $(basename "$stock")" "$(stat -c %s "$stock")" \
	"$(stat -c %s /bin/busybox)" -
echo "net bzImage: $(echo "scale=3; $net_kernel / $ref_kernel" | bc) of the reference," \
	"$(echo "scale=3; $net_kernel / $(stat -c %s "$stock")" | bc) of Debian's"
echo "targets: bzImage <= 1,000,000 B, busybox <= 300,000 B, initrd <= 200,000 B ($(date -u +%Y-%m-%d))"
