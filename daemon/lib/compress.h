/* compress.h - gzip and xz stream writers, deterministic: bytes in, compressed bytes out to an
 * fd or a growing buffer. */
#ifndef TINYBOOT_COMPRESS_H
#define TINYBOOT_COMPRESS_H

#include <stdbool.h>
#include <stddef.h>

enum compress_kind { COMPRESS_NONE, COMPRESS_GZIP, COMPRESS_XZ };

/* Where the (compressed) bytes go: fd >= 0 gets them written (short writes and EINTR retried);
 * fd < 0 appends them to buf, which the caller frees. */
struct compress_out {
	int fd;
	unsigned char *buf;
	size_t len, cap;
};

int compress_out_put(struct compress_out *o, const void *data, size_t len);

struct compress;

/*
 * A stream into out: gzip is one member with header mtime 0 and OS 3 (Unix) whatever zlib was
 * built for; xz has a CRC32 check (the only one besides none that the kernel's decoder knows)
 * and one block. level: -1..9 (-1: zlib's default, xz preset 6), ignored for NONE. Returns 0,
 * -EINVAL for another level or kind, -ENOMEM.
 */
int compress_new(enum compress_kind how, int level, struct compress_out *out, struct compress **c);
int compress_write(struct compress *c, const void *data, size_t len);
/* Flush the end of the stream to out. */
int compress_finish(struct compress *c);
void compress_free(struct compress *c); /* NULL-tolerant */

#endif
