#!/bin/bash
# make check-fresh: a bare Debian 12 root (debootstrap minbase + make) runs `make deps all` and the unit tests.
#
# It proves the README's commands work on a machine with nothing but Debian and make: a package
# missing from scripts/deps.sh, or a Makefile that needs a package before `deps` installs it,
# fails here instead of on a new user's machine. Run as root; debootstrap must be installed
# (`make deps` installs it).
#
# - The tree tested is a commit, copied in with `git archive`: HEAD, or CHECK_FRESH_REV=<rev>.
#   Uncommitted changes are NOT tested: commit first. (`git stash create` would take modified
#   files but not new untracked ones, so the root would build a tree that is neither the commit
#   nor the working directory; a commit is exact and is what CI tests.)
# - The mirror is the host's: the first `deb` entry for bookworm in /etc/apt/sources.list or
#   /etc/apt/sources.list.d/*.{list,sources}. The root's apt sources are the host's Debian entries
#   (suite bookworm or bookworm-*, components among main contrib non-free non-free-firmware; other
#   repositories are left out), and the host's Acquire::Check-Valid-Until, Check-Date and proxy
#   settings, /etc/hosts and /etc/resolv.conf go with them, so apt inside reaches the archive the
#   way the host's apt does.
# - Cache: CHECK_FRESH_CACHE (default /var/cache/tinyboot/fresh). SUITE-VARIANT-MIRROR.tar is the
#   untouched debootstrap result (delete it to refresh); debs/ keeps the .debs apt downloads inside
#   (bind-mounted on the root's /var/cache/apt/archives). Every run unpacks a new root from the
#   tarball and removes it at the end: a root that already ran `make deps` would hide a missing
#   install step. The root is a tmpfs (CHECK_FRESH_TMPFS=SIZE, default 3G when 6 GiB of memory are
#   available; =no for the disk): a root with every package holds ~1.2 GB, dpkg's fsyncs cost
#   nothing there and clean-up is one umount (measured under load: a rerun 2-3 min instead of 5.5).
# - Mounts /proc, /sys, /dev, /dev/pts and debs/ in the root; the EXIT trap ends what still runs in
#   the root, unmounts them and removes the root after success, failure or Ctrl-C.
# Exit status: 0 PASS, 1 FAIL, 2 cannot run here (not root, no debootstrap, no mirror),
# 130/143 interrupted (SIGINT/SIGTERM; still cleaned up).
set -euo pipefail
cd "$(dirname "$0")/.."

suite=bookworm
variant=minbase
rev=${CHECK_FRESH_REV:-HEAD}
cache=${CHECK_FRESH_CACHE:-/var/cache/tinyboot/fresh}
src=/root/tinyboot	# where the tree goes inside the root
debian_components=" main contrib non-free non-free-firmware "

trees=()	# directories the EXIT trap unmounts and removes
timings=()	# name, milliseconds, name, milliseconds, ...
step=""		# the step running now (named by the FAIL line)
failed=""	# or the step that failed
step_t0=0
units=0

fresh_die() {
	echo "check-fresh: $*" >&2
	exit 2
}

fresh_now_ms() {
	local t=${EPOCHREALTIME//[.,]/}
	echo $((t / 1000))
}

fresh_fmt_ms() {
	printf '%dm%02d.%01ds' $(($1 / 60000)) $(($1 / 1000 % 60)) $(($1 / 100 % 10))
}

# fresh_step NAME COMMAND...: run it and record how long it took
fresh_step() {
	step=$1
	shift
	step_t0=$(fresh_now_ms)
	echo "check-fresh: == $step"
	"$@"
	timings+=("$step" $(($(fresh_now_ms) - step_t0)))
	step=""
}

# Every enabled `deb` entry the host's apt reads, in apt's order: "URI SUITE COMPONENT..." per line.
fresh_host_entries() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*; do
		[[ -f $f && -r $f ]] || continue
		case $f in
		*.list)
			# deb [option=value ...] URI SUITE COMPONENT...
			sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" |
				awk '$1 == "deb" && NF >= 3 { $1 = ""; sub(/^ +/, ""); print }'
			;;
		*.sources)
			# deb822 stanzas: Types, URIs, Suites, Components, Enabled (continuation lines indented)
			awk '
				function flush(   i, j, nu, ns, u, s, c) {
					c = f["components"]
					gsub(/[ \t]+/, " ", c); sub(/^ /, "", c); sub(/ $/, "", c)
					if (f["types"] ~ /(^|[ \t])deb([ \t]|$)/ && tolower(f["enabled"]) !~ /^[ \t]*no/) {
						nu = split(f["uris"], u, /[ \t]+/)
						ns = split(f["suites"], s, /[ \t]+/)
						for (i = 1; i <= nu; i++)
							for (j = 1; j <= ns; j++)
								if (u[i] != "" && s[j] != "")
									print u[i], s[j], c
					}
					split("", f)
				}
				/^#/ { next }
				/^[ \t]*$/ { flush(); next }
				/^[ \t]/ { f[key] = f[key] " " $0; next }
				{ key = tolower(substr($0, 1, index($0, ":") - 1)); f[key] = substr($0, index($0, ":") + 1) }
				END { flush() }
			' "$f"
			;;
		esac
	done
}

# End what still runs in DIR, unmount everything under it, deepest first, and remove it; never
# removes a tree that still has a mount in it.
fresh_rmtree() {
	local dir=$1 p m i pids
	[[ -d $dir ]] || return 0
	for ((i = 0; i < 10; i++)); do
		pids=()
		for p in /proc/[0-9]*; do
			[[ $(readlink "$p/root" 2>/dev/null) == "$dir" ]] && pids+=("${p#/proc/}")
		done
		((${#pids[@]} > 0)) || break
		kill -KILL "${pids[@]}" 2>/dev/null
		sleep 0.5
	done
	while read -r m; do
		umount "$m" 2>/dev/null || umount -l "$m" || true
	done < <(findmnt -rn -o TARGET | awk -v d="$dir" 'index($0, d "/") == 1 || $0 == d' | sort -r)
	if findmnt -rn -o TARGET | awk -v d="$dir" 'index($0, d "/") == 1 || $0 == d { found = 1 } END { exit !found }'; then
		echo "check-fresh: $dir still has mounts (findmnt -R $dir): left in place" >&2
		return 1
	fi
	rm -rf --one-file-system "$dir"
}

fresh_exit() {
	local rc=$? t0 i d
	trap - EXIT
	trap '' INT TERM	# a second Ctrl-C must not cut the clean-up short
	set +e
	[[ -n $step ]] && timings+=("$step" $(($(fresh_now_ms) - step_t0)))
	t0=$(fresh_now_ms)
	for d in "${trees[@]}"; do
		fresh_rmtree "$d" || ((rc != 0)) || rc=1
	done
	rm -f "$tarball.tmp"
	timings+=("clean-up" $(($(fresh_now_ms) - t0)))
	echo "check-fresh: timings"
	for ((i = 0; i < ${#timings[@]}; i += 2)); do
		printf '  %-20s %s\n' "${timings[i]}" "$(fresh_fmt_ms "${timings[i + 1]}")"
	done
	printf '  %-20s %s\n' total "$(fresh_fmt_ms $(($(fresh_now_ms) - start)))"
	if [[ $rc -eq 0 ]]; then
		echo "check-fresh: PASS: $suite $variant + make: make deps all and $units unit tests on $short"
	elif ((rc == 130 || rc == 143)); then
		echo "check-fresh: FAIL: interrupted in ${step:-${failed:-clean-up}} on $short"
	else
		echo "check-fresh: FAIL: ${step:-${failed:-clean-up}} (exit $rc) on $short"
		rc=1
	fi
	exit "$rc"
}

start=$(fresh_now_ms)
short=$rev
[[ $(id -u) -eq 0 ]] || fresh_die "needs root (debootstrap, mount, chroot): run it as root or with sudo"
command -v debootstrap >/dev/null || fresh_die "debootstrap is not installed: run make deps (as root)"
[[ $cache == /* && $cache != *[[:space:]]* ]] || fresh_die "CHECK_FRESH_CACHE=$cache: want an absolute path without spaces"
commit=$(git rev-parse --verify -q "$rev^{commit}") || fresh_die "$rev: not a commit in $(pwd)"
short=$(git rev-parse --short "$commit")
if [[ $rev == HEAD && -n $(git status --porcelain) ]]; then
	echo "check-fresh: note: uncommitted changes are not tested (the root gets git archive $short)"
fi

debian=$(fresh_host_entries | awk -v s="$suite" -v ok="$debian_components" '
	$2 != s && index($2, s "-") != 1 { next }
	{ for (i = 3; i <= NF; i++) if (index(ok, " " $i " ") == 0) next; print }')
mirror=$(awk -v s="$suite" '$2 == s { print $1; exit }' <<<"$debian")
[[ -n $mirror ]] || fresh_die "no Debian $suite deb entry in the host's /etc/apt/sources.list{,.d/}: cannot choose a mirror"
key=$suite-$variant-$(sed -e 's,^[a-z+]*://,,' -e 's,/*$,,' -e 's,[^A-Za-z0-9.-],_,g' <<<"$mirror")
tarball=$cache/$key.tar
mkdir -p "$cache/debs/partial"
for d in "$cache"/root.* "$cache"/debootstrap.*; do
	# only a SIGKILL (or a run going on now) leaves one: see findmnt -R DIR before removing it
	if [[ -d $d ]]; then
		echo "check-fresh: note: $d is left from another run (findmnt -R $d)"
	fi
done
tmpfs=${CHECK_FRESH_TMPFS:-}
if [[ -z $tmpfs ]]; then
	tmpfs=no
	(($(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo) >= 6 * 1024 * 1024)) && tmpfs=3G
fi

trap fresh_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fresh_debootstrap() {
	local dir log=$cache/$key.log
	dir=$(mktemp -d "$cache/debootstrap.XXXXXX")
	trees+=("$dir")
	chmod 0755 "$dir"	# the root's /: mktemp's 0700 would keep apt's _apt user out
	echo "check-fresh: debootstrap --variant=$variant $suite $mirror (log: $log)"
	if ! debootstrap --variant="$variant" "$suite" "$dir" "$mirror" >"$log" 2>&1; then
		tail -n 20 "$log" >&2
		return 1
	fi
	tar --numeric-owner -C "$dir" -cf "$tarball.tmp" .
	mv "$tarball.tmp" "$tarball"
	fresh_rmtree "$dir"
}

fresh_restore() {
	root=$(mktemp -d "$cache/root.XXXXXX")
	trees+=("$root")
	[[ $tmpfs == no ]] || mount -t tmpfs -o size="$tmpfs",mode=0755 tmpfs "$root"
	tar --numeric-owner -C "$root" -xf "$tarball"
	chmod 0755 "$root"	# tar gives / the archived mode (0700 in tarballs made before this line)
}

# The host's way to the archive: its Debian entries, name resolution, and apt's Acquire settings.
fresh_configure() {
	awk '{ print "deb " $0 }' <<<"$debian" >"$root/etc/apt/sources.list"
	{ apt-config dump | grep -E '^Acquire::(Check-Valid-Until|Check-Date|(http|https|ftp)::Proxy)[ :]' || true; } \
		>"$root/etc/apt/apt.conf.d/00check-fresh-host"
	cp --remove-destination -L /etc/hosts /etc/resolv.conf "$root/etc/"
	mount -t proc proc "$root/proc"
	mount -t sysfs sysfs "$root/sys"
	mount --bind /dev "$root/dev"
	mount --bind /dev/pts "$root/dev/pts"
	mount --bind "$cache/debs" "$root/var/cache/apt/archives"
	mkdir -p "$root$src"
	git archive --format=tar "$commit" | tar -x -C "$root$src"
}

# fresh_in_root SCRIPT: bash -c SCRIPT in the root, as root, in the tree, with a login-like
# environment. In the background so that a signal runs the trap at once instead of after the
# command; the trap ends whatever runs in the root.
fresh_in_root() {
	chroot "$root" /usr/bin/env -i HOME=/root TERM="${TERM:-dumb}" LANG=C.UTF-8 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		/bin/bash -c "cd $src && $1" &
	wait $!
}

fresh_install_make() {
	fresh_in_root 'apt-get update -qq || echo "check-fresh: apt-get update reported errors; going on"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends make >/dev/null
		make --version | head -n 1'
}

# `make deps all` is one invocation on purpose (the README's way): deps and the build split at the
# moment build/ was born (the first compile creates it).
fresh_make_deps_all() {
	local rc=0 t0 t1 born
	step="make deps all"
	echo "check-fresh: == $step"
	t0=$(fresh_now_ms)
	step_t0=$t0
	fresh_in_root 'make deps all' || rc=$?
	t1=$(fresh_now_ms)
	born=$(stat -c %.3W "$root$src/build" 2>/dev/null || echo 0)
	born=${born//[.,]/}
	if ((born > t0 && born <= t1)); then
		timings+=("make deps" $((born - t0)) "build" $((t1 - born)))
	else
		timings+=("make deps all" $((t1 - t0)))
	fi
	step=""
	if ((rc != 0)); then
		failed="make deps all"
		echo "check-fresh: make deps all failed (exit $rc)" >&2
		exit "$rc"
	fi
}

# shellcheck disable=SC2016 # the script expands inside the root
fresh_run_units() {
	fresh_in_root 'n=0 bad=0
		for t in build/tests/test_*; do
			[ -f "$t" ] && [ -x "$t" ] || continue
			n=$((n + 1))
			if "$t" >/tmp/unit.log 2>&1; then
				echo "ok   $t"
			else
				bad=$((bad + 1))
				echo "FAIL $t"
				tail -n 30 /tmp/unit.log
			fi
		done
		echo "check-fresh: unit tests: $((n - bad)) passed, $bad failed" >&2
		echo $n >/tmp/unit.count
		[ $n -gt 0 ] && [ $bad -eq 0 ]'
	units=$(cat "$root/tmp/unit.count")
}

if [[ -s $tarball ]]; then
	fresh_step "cache restore" fresh_restore
else
	fresh_step "debootstrap" fresh_debootstrap
	fresh_step "unpack" fresh_restore
fi
fresh_step "configure root" fresh_configure
echo "check-fresh: root $root (tmpfs: $tmpfs): tree $short, apt sources from the host:"
sed 's/^/  /' "$root/etc/apt/sources.list"
fresh_step "install make" fresh_install_make
fresh_make_deps_all
fresh_step "make unit" fresh_in_root 'make -j2 unit'
fresh_step "unit tests" fresh_run_units
