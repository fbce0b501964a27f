# fullfs.sh - a state directory that runs out of room under a running daemon, for the tests of a
# failed fdatasync: an ext4 (no journal of its own) on a loop device whose sparse backing file
# lives on a small tmpfs. fullfs_fill punches the file system's free blocks out of the backing
# file and fills the tmpfs, as thin-provisioned storage runs out: writes land in the page cache,
# the write-back of a new block fails and fdatasync returns an error. Needs root. Sourced after
# tests/lib.sh; the suite's EXIT trap calls fullfs_teardown.

FULLFS_DEV= FULLFS_DIR=

# Can this machine do it? (root, losetup, mkfs.ext4, dumpe2fs, fallocate)
fullfs_usable() {
	[[ $(id -u) -eq 0 ]] && command -v losetup >/dev/null && command -v mkfs.ext4 >/dev/null &&
		command -v fallocate >/dev/null && command -v dumpe2fs >/dev/null
}

# fullfs_mount TAG: the file system, mounted at $FULLFS_DIR/fs; fails the test when it cannot.
fullfs_mount() {
	FULLFS_DIR=$(mktemp -d "/tmp/$1.XXXXXX")
	mkdir "$FULLFS_DIR/backing" "$FULLFS_DIR/fs"
	mount -t tmpfs -o size=16m "$1" "$FULLFS_DIR/backing" || { fail "cannot mount a tmpfs"; return 1; }
	truncate -s 64m "$FULLFS_DIR/backing/img" # sparse: more than the tmpfs can hold
	mkfs.ext4 -q -F -b 4096 -O ^has_journal "$FULLFS_DIR/backing/img" || { fail "mkfs.ext4"; return 1; }
	FULLFS_DEV=$(losetup -f --show "$FULLFS_DIR/backing/img") || { fail "losetup"; return 1; }
	mount "$FULLFS_DEV" "$FULLFS_DIR/fs" || { fail "mount $FULLFS_DEV"; return 1; }
}

# fullfs_fill FILE: no block the file system gives FILE next can be written. Every free block
# becomes a hole in the backing file, and so do the blocks right after FILE's last one, which
# ext4 may hold for it (allocated but never written: a preallocation, not free in the bitmaps);
# then the backing file can grow no more.
fullfs_fill() {
	local last
	sync
	dumpe2fs "$FULLFS_DEV" 2>/dev/null | sed -n 's/^  Free blocks: //p' | tr ',' '\n' | while read -r range; do
		[[ -n $range ]] || continue
		fallocate -p -o $(( ${range%-*} * 4096 )) -l $(( (${range#*-} - ${range%-*} + 1) * 4096 )) "$FULLFS_DIR/backing/img"
	done
	last=$(filefrag -v "$1" | awk '$1 ~ /^[0-9]+:$/ { e = $5; sub(":", "", e) } END { print e }')
	[[ -n $last ]] && fallocate -p -o $(( (last + 1) * 4096 )) -l $(( 64 * 4096 )) "$FULLFS_DIR/backing/img"
	dd if=/dev/zero of="$FULLFS_DIR/backing/fill" bs=64k 2>/dev/null
	return 0
}

# Room again.
fullfs_unfill() { rm -f "$FULLFS_DIR/backing/fill"; }

# Taken down whatever happened.
fullfs_teardown() {
	if [[ -n $FULLFS_DIR ]]; then
		mountpoint -q "$FULLFS_DIR/fs" && { umount "$FULLFS_DIR/fs" || umount -l "$FULLFS_DIR/fs"; }
		[[ -z $FULLFS_DEV ]] || losetup -d "$FULLFS_DEV" 2>/dev/null
		mountpoint -q "$FULLFS_DIR/backing" && { umount "$FULLFS_DIR/backing" || umount -l "$FULLFS_DIR/backing"; }
		rm -rf "$FULLFS_DIR"
	fi
	FULLFS_DEV= FULLFS_DIR=
	return 0
}
