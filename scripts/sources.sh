#!/bin/bash
# Fetch tinyboot's source tarballs from Debian and check them against etc/sources.conf.
# usage: scripts/sources.sh [SOURCES_DIR]   (default /var/cache/tinyboot/sources; needs root
# only when something is missing). Idempotent: prints nothing when everything is in place.
set -euo pipefail

dir=${1:-/var/cache/tinyboot/sources}
conf=${TINYBOOT_SOURCES_CONF:-$(cd "$(dirname "$0")/.." && pwd)/etc/sources.conf}
# The exact Debian package whose tarball [linux-6.1-debian] pins: Debian's security updates
# replace /usr/src/linux-source-6.1.tar.xz in place, so the pinned version is fetched as a .deb
# (apt-get download) and its tarball kept in $dir. Change both together.
linux_pkg=linux-source-6.1
linux_version=6.1.192-3
linux_tar=$dir/linux-source-6.1_$linux_version.tar.xz
linux_usr=/usr/src/linux-source-6.1.tar.xz
bb_name=busybox_1.35.0.orig.tar.bz2
src_list=/etc/apt/sources.list.d/debian-src.sources
updated=0

die() { echo "sources.sh: $*" >&2; exit 1; }

need_root() {
	[ "$(id -u)" -eq 0 ] || die "$1: run as root"
}

# sha256 of [section] in $conf
conf_sha256() {
	local v
	v=$(awk -v sec="[$1]" '
		/^[ \t]*#/ { next }
		/^\[/ { in_sec = ($1 == sec); next }
		in_sec && $1 == "sha256" && $2 == "=" { print $3; exit }
	' "$conf")
	[[ $v =~ ^[0-9a-f]{64}$ ]] || die "$conf: no valid sha256 in [$1]"
	echo "$v"
}

# A mirror caught mid-sync fails one index (seen: bookworm-security's i386 Packages) and apt-get
# update exits 100 while the others are fresh: go on; the download that follows says what is missing.
apt_update_once() {
	if [ "$updated" -eq 0 ]; then
		apt-get update -qq >/dev/null ||
			echo "sources.sh: apt-get update reported errors; going on with the indexes it has" >&2
		updated=1
	fi
}

# A deb-src entry mirroring the existing deb822 "Types: deb" entries (same URIs, suites, keys).
has_deb_src() {
	grep -rqsE '^[[:space:]]*(Types:.*deb-src|deb-src[[:space:]])' \
		/etc/apt/sources.list /etc/apt/sources.list.d/
}

ensure_deb_src() {
	local deb
	has_deb_src && return 0
	need_root "adding $src_list"
	# the Debian archive's own entry (signed by Debian's keyring), not a third-party repository
	deb=$(grep -lE '^Types:[[:space:]]*deb[[:space:]]*$' /etc/apt/sources.list.d/*.sources \
		2>/dev/null | xargs -r grep -l 'debian-archive-keyring' | head -n1) || true
	[ -n "$deb" ] || die "no Debian 'Types: deb' entry in /etc/apt/sources.list.d to mirror"
	sed -E 's/^Types:[[:space:]]*deb[[:space:]]*$/Types: deb-src/' "$deb" > "$src_list.tmp"
	mv "$src_list.tmp" "$src_list"
	apt_update_once
}

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

check_sha256() {
	local file=$1 want=$2 got
	got=$(sha_of "$file")
	[ "$got" = "$want" ] || die "$file: sha256 $got, etc/sources.conf wants $want"
}

[ -r "$conf" ] || die "$conf: not readable"
ensure_deb_src
linux_sha=$(conf_sha256 linux-6.1-debian)
bb_sha=$(conf_sha256 busybox-1.35.0)

# The kernel tarball: already in $dir, or the installed one when it is still the pinned version,
# or extracted from the pinned .deb.
if [ ! -f "$linux_tar" ] || [ "$(sha_of "$linux_tar")" != "$linux_sha" ]; then
	need_root "providing $linux_tar"
	mkdir -p "$dir"
	ktmp=$(mktemp -d "$dir/.linux-source.XXXXXX")
	trap 'rm -rf "$ktmp"' EXIT
	if [ -f "$linux_usr" ] && [ "$(sha_of "$linux_usr")" = "$linux_sha" ]; then
		cp "$linux_usr" "$ktmp/src.tar.xz"
	else
		apt_update_once
		(cd "$ktmp" && apt-get download -qq -o APT::Sandbox::User=root \
			"$linux_pkg=$linux_version" >/dev/null 2>&1) ||
			die "Debian no longer offers $linux_pkg $linux_version: set linux_version in $0 and the new sha256 in $conf"
		dpkg-deb --fsys-tarfile "$ktmp"/*.deb |
			tar -xO ./usr/src/linux-source-6.1.tar.xz > "$ktmp/src.tar.xz"
	fi
	check_sha256 "$ktmp/src.tar.xz" "$linux_sha"
	mv "$ktmp/src.tar.xz" "$linux_tar"
	rm -rf "$ktmp"
	trap - EXIT
fi

if [ ! -f "$dir/$bb_name" ] ||
   [ "$(sha_of "$dir/$bb_name")" != "$bb_sha" ]; then
	ensure_deb_src
	mkdir -p "$dir"
	tmp=$(mktemp -d "$dir/.apt-source.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	# apt-get source runs as root here; the sandbox user cannot write $tmp, so do not drop to it.
	if ! (cd "$tmp" && apt-get source -qq --download-only -o APT::Sandbox::User=root busybox \
		>/dev/null 2>&1); then
		apt_update_once
		(cd "$tmp" && apt-get source -qq --download-only -o APT::Sandbox::User=root busybox \
			>/dev/null) || die "apt-get source --download-only busybox failed"
	fi
	[ -f "$tmp/$bb_name" ] || die "apt-get source busybox brought no $bb_name (Debian moved on?)"
	check_sha256 "$tmp/$bb_name" "$bb_sha"
	mv "$tmp/$bb_name" "$dir/$bb_name"
fi
check_sha256 "$dir/$bb_name" "$bb_sha"
