/* cpio.h - a deterministic newc cpio (initramfs) built in memory, written plain, gzip or xz. */
#ifndef TINYBOOT_CPIO_H
#define TINYBOOT_CPIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Caps, so one bad overlay cannot exhaust memory or the 32-bit newc fields. */
#define CPIO_MAX_FILE    (256u << 20)   /* one entry's data: -EFBIG above */
#define CPIO_MAX_TOTAL   (1024u << 20)  /* all entries' data together: -EFBIG above */
#define CPIO_MAX_ENTRIES (1u << 20)     /* entry count: -EFBIG above */

/* An in-memory set of entries keyed by path; owns all its memory. */
struct cpio;

enum cpio_compress { CPIO_COMPRESS_NONE, CPIO_COMPRESS_GZIP, CPIO_COMPRESS_XZ };

/*
 * Paths are relative and normalised: no leading '/', no empty, "." or ".."
 * component, no trailing '/', and not "TRAILER!!!" (it would end the archive
 * early). Violations give -EINVAL; a path of PATH_MAX bytes or more gives
 * -ENAMETOOLONG.
 *
 * Adding a path that exists replaces the earlier entry (later overlays win).
 * A dir added over a dir only updates its mode; anything else added over a
 * dir drops that dir's children. Missing parents are created as dirs with
 * mode 0755; a parent that exists as a non-dir gives -ENOTDIR.
 * On any error the set is left unchanged (except cpio_add_tree, see below).
 */
struct cpio *cpio_new(uint32_t mtime);   /* every entry gets this mtime; uid/gid 0 */
void cpio_free(struct cpio *c);          /* NULL-tolerant */

int cpio_add_dir(struct cpio *c, const char *path, mode_t perm);   /* perm within 07777 */
int cpio_add_data(struct cpio *c, const char *path, mode_t perm,
		  const void *data, size_t len);                    /* copies data */
int cpio_add_symlink(struct cpio *c, const char *path, const char *target);
/* type_and_perm: S_IFCHR or S_IFBLK, ORed with perm bits within 07777 */
int cpio_add_node(struct cpio *c, const char *path, mode_t type_and_perm,
		  unsigned major, unsigned minor);

/*
 * Add the tree below directory fd `dirfd` under `prefix` ("" = root). Regular
 * files, dirs and symlinks are taken with their permission bits; owner and
 * mtime are not. Symlinks are stored, never followed; anything else (fifo,
 * socket, device) gives -EINVAL. The top directory itself is not an entry:
 * a non-empty prefix is created like a missing parent (0755) if absent.
 * Hard links become independent files. On error, entries added before it
 * stay in the set: discard the set.
 */
int cpio_add_tree(struct cpio *c, int dirfd, const char *prefix);

size_t cpio_count(const struct cpio *c);

/*
 * Write the archive: entries sorted bytewise by path, inode numbers 1..N in
 * that order, then "TRAILER!!!" (no block padding); compressed as asked:
 * gzip (one member, header mtime 0, OS 3) or xz (CRC32 check, the only one
 * besides "none" that the kernel's decoder knows). level: gzip -1..9
 * (-1 = zlib default), xz -1..9 (-1 = preset 6); ignored for NONE; else
 * -EINVAL. Short writes and EINTR are retried. Returns 0 or -errno.
 */
int cpio_write(const struct cpio *c, int fd, enum cpio_compress how, int level);
/* Same, into a malloc'd buffer the caller frees; *out and *outlen are set only on success. */
int cpio_write_mem(const struct cpio *c, enum cpio_compress how, int level,
		   unsigned char **out, size_t *outlen);

#endif
