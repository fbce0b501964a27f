#!/bin/bash
# bench-build: wall time of a cold build, a no-change rebuild, a one-option variant and an
# overlay-only variant of the default image, each through the real daemon and `tinyboot build`.
# The cold build uses a fresh state directory (only the source tarballs are shared).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cache=${TINYBOOT_CACHE:-/var/cache/tinyboot}
variant=${BENCH_VARIANT:-net}
work=$(mktemp -d /tmp/tinyboot-bench-build.XXXXXX)
state=$cache/bench-state
source "$here/scripts/bench-lib.sh"
trap 'bench_daemon_stop; rm -rf "$work"' EXIT

start_daemon() { # start_daemon RECIPES ROOTFS
	bench_daemon_start --state "$state" --recipes "$1" --kernel-config "$here/kernel-config" \
		--rootfs "$2" --sources "$here/etc/sources.conf"
}

timed_build() { # timed_build LABEL VARIANT
	local t0 t1
	t0=$(date +%s.%N)
	"$here/build/tinyboot" --server "$bench_url" build "$2" > /dev/null 2> "$work/build.out" ||
		{ cat "$work/build.out" >&2; exit 1; }
	t1=$(date +%s.%N)
	printf '%-34s %8.1f s\n' "$1" "$(echo "$t1 - $t0" | bc)"
}

# BENCH_WARM=1 keeps the state of an earlier run and skips the cold build
if [[ -z ${BENCH_WARM:-} ]]; then
	rm -rf "$state"
	mkdir -p "$state"
	# share only the verified tarballs: everything else is built from nothing
	[[ -d $cache/test-state/sources ]] && cp -a "$cache/test-state/sources" "$state/" 2>/dev/null || true
fi
mkdir -p "$work/recipes" "$work/rootfs"
cp "$here"/images/*.image "$work/recipes/"
cp -a "$here"/rootfs/. "$work/rootfs/"

start_daemon "$work/recipes" "$work/rootfs"
echo "bench-build: $variant on $(nproc) cores, ccache $(command -v ccache >/dev/null && echo on || echo off), $(date -u +%Y-%m-%d)"
if [[ -n ${BENCH_WARM:-} ]]; then
	timed_build "(warm start: build if needed)" "$variant"
else
	timed_build "cold build (empty state dir)" "$variant"
fi
timed_build "same variant again (cache hit)" "$variant"
# no change: forget every cached output (the daemon stopped), keep the build trees and ccache,
# so configuration, kernel make, busybox make and the initramfs all run again
bench_daemon_stop
rm -rf "$state"/artifacts "$state"/index "$state"/kernels "$state"/busybox "$state"/memo "$state"/failed
start_daemon "$work/recipes" "$work/rootfs"
timed_build "no-change rebuild (warm trees)" "$variant"
timed_build "one-option variant (+rtl8139)" "$variant+rtl8139"
bench_daemon_stop
mkdir -p "$work/rootfs/bench/etc"
date > "$work/rootfs/bench/etc/motd"
sed 's/^overlays = \(.*\)/overlays = \1 bench/' "$work/recipes/$variant.image" > "$work/recipes/benchov.image"
start_daemon "$work/recipes" "$work/rootfs"
timed_build "overlay-only variant" benchov
bench_daemon_stop
