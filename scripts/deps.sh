#!/bin/bash
# Install every Debian package tinyboot needs to build, test and benchmark. Idempotent and quiet
# when everything is present; run as root (or with sudo) on Debian 12.
set -euo pipefail

packages=(
	# build
	build-essential pkg-config libmicrohttpd-dev libcurl4-openssl-dev zlib1g-dev libssl-dev
	libjansson-dev liblzma-dev
	# tests (debootstrap: make check-fresh's bare Debian 12 root; systemd: systemd-analyze for
	# make check-systemd, which needs no running systemd; man-db and groff-base: test_man.sh
	# renders the manual pages with man and groff -ww; chromium: test_status.sh loads the status
	# page in headless Chromium; prometheus: its promtool checks GET /metrics in test_metrics.sh,
	# the server itself is never started)
	libcmocka-dev curl jq iproute2 debootstrap systemd man-db groff-base chromium prometheus
	# benchmarks
	nginx wrk cpio
	# building kernels and busybox
	# (the kernel source itself comes from scripts/sources.sh: one pinned linux-source-6.1 version)
	flex bison bc libelf-dev xz-utils bzip2 ccache musl-tools rsync
	# i386 busybox: gcc -m32 with 32-bit libgcc (gcc-12-multilib) against musl-dev:i386 (libc.a
	# and musl-gcc.specs; from the i386 architecture, added below) or libc6-dev-i386. Not the
	# gcc-multilib metapackage: it only adds /usr/include/asm (the builds use the kernel's
	# headers) and conflicts with gcc-i686-linux-gnu, which musl-dev:i386 depends on.
	gcc-12-multilib libc6-dev-i386 musl-dev:i386
	# booting guests (ovmf: UEFI firmware for the PXE tests)
	qemu-system-x86 ipxe ipxe-qemu busybox-static dnsmasq-base ovmf
)

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[[ $status == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Debian's nginx package would start a system-wide server on port 80; tinyboot only runs its own.
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
	printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
	$sudo chmod 0755 /usr/sbin/policy-rc.d
	trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
fi
if [[ " ${missing[*]} " == *:i386\ * ]] && ! dpkg --print-foreign-architectures | grep -qx i386; then
	echo "deps: adding the i386 architecture (dpkg --add-architecture i386)"
	$sudo dpkg --add-architecture i386
fi
# A mirror caught mid-sync fails one index (seen: bookworm-security's i386 Packages) and apt-get
# update exits 100 while every other index is fresh: go on, install says what is really missing.
$sudo apt-get update -qq || echo "deps: apt-get update reported errors (above); installing from the indexes it has"
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# nginx and prometheus are here for their binaries (benchmarks, promtool): their system services
# stay off at the next boot too (policy-rc.d above only kept them from starting now)
for svc in nginx prometheus; do
	[[ " ${missing[*]} " == *" $svc "* ]] && $sudo systemctl disable "$svc.service" >/dev/null 2>&1 || true
done
