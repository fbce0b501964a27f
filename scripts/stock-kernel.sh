#!/bin/bash
# stock-kernel.sh [CACHE]: unpack (not install) the kernel package Debian's linux-image-amd64
# points at into CACHE/stock-kernel once, and print the path of its vmlinuz. The benchmarks
# compare against it.
set -euo pipefail

cache=${1:-${TINYBOOT_CACHE:-/var/cache/tinyboot}}
stock=$cache/stock-kernel
pkg=$(apt-cache depends linux-image-amd64 | sed -n 's/.*Depends: \(linux-image-[0-9].*\)/\1/p' | head -1)
[[ -n $pkg ]] || { echo "stock-kernel: apt knows no linux-image-amd64 dependency" >&2; exit 1; }
if [[ ! -e $stock/.done-$pkg ]]; then
	rm -rf "$stock"
	mkdir -p "$stock"
	(cd "$stock" && apt-get download "$pkg" >/dev/null)
	dpkg-deb -x "$stock"/*.deb "$stock/root"
	touch "$stock/.done-$pkg"
fi
ls "$stock"/root/boot/vmlinuz-*
