/* compress.c - gzip (zlib) and xz (liblzma) stream writers with fixed headers, so equal input
 * gives equal bytes. */
#define ZLIB_CONST
#include "lib/compress.h"

#include <errno.h>
#include <limits.h>
#include <lzma.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

struct compress {
	enum compress_kind how;
	struct compress_out *out;
	z_stream zs;
	gz_header gz;           /* must live as long as zs: deflate reads it lazily */
	lzma_stream xs;
	unsigned char tmp[32768];
};

int compress_out_put(struct compress_out *o, const void *data, size_t len)
{
	const unsigned char *p = data;

	if (!len)
		return 0;
	if (o->fd >= 0) {
		while (len) {
			ssize_t r = write(o->fd, p, len);

			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return -errno;
			if (r == 0)
				return -EIO;
			p += r;
			len -= (size_t)r;
		}
		return 0;
	}
	if (len > SIZE_MAX - o->len)
		return -ENOMEM;
	if (o->len + len > o->cap) {
		size_t cap = o->cap ? o->cap : 4096;
		unsigned char *nb;

		while (cap < o->len + len)
			cap = cap > SIZE_MAX / 2 ? o->len + len : cap * 2;
		nb = realloc(o->buf, cap);
		if (!nb)
			return -ENOMEM;
		o->buf = nb;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, p, len);
	o->len += len;
	return 0;
}

static int compress_zerr(int zrc)
{
	return zrc == Z_MEM_ERROR ? -ENOMEM : -EIO;
}

static int compress_xerr(lzma_ret xrc)
{
	switch (xrc) {
	case LZMA_MEM_ERROR:
	case LZMA_MEMLIMIT_ERROR:
		return -ENOMEM;
	case LZMA_OPTIONS_ERROR:
		return -EINVAL;
	default:
		return -EIO;
	}
}

static int compress_init(struct compress *c, int level)
{
	lzma_stream xs_init = LZMA_STREAM_INIT;
	lzma_ret xrc;
	int zrc;

	switch (c->how) {
	case COMPRESS_NONE:
		return 0;
	case COMPRESS_GZIP:
		if (level < -1 || level > 9)
			return -EINVAL;
		zrc = deflateInit2(&c->zs, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
		if (zrc != Z_OK)
			return compress_zerr(zrc);
		c->gz.os = 3;
		zrc = deflateSetHeader(&c->zs, &c->gz);
		if (zrc != Z_OK) {
			deflateEnd(&c->zs);
			return compress_zerr(zrc);
		}
		return 0;
	case COMPRESS_XZ:
		if (level < -1 || level > 9)
			return -EINVAL;
		c->xs = xs_init;
		/* single-threaded: one block */
		xrc = lzma_easy_encoder(&c->xs, level < 0 ? 6 : (uint32_t)level, LZMA_CHECK_CRC32);
		if (xrc != LZMA_OK) {
			lzma_end(&c->xs);
			return compress_xerr(xrc);
		}
		return 0;
	}
	return -EINVAL;
}

int compress_new(enum compress_kind how, int level, struct compress_out *out, struct compress **cp)
{
	struct compress *c;
	int rc;

	if (!out || !cp)
		return -EINVAL;
	c = malloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	memset(c, 0, offsetof(struct compress, tmp));
	c->how = how;
	c->out = out;
	rc = compress_init(c, level);
	if (rc) {
		free(c);
		return rc;
	}
	*cp = c;
	return 0;
}

void compress_free(struct compress *c)
{
	if (!c)
		return;
	if (c->how == COMPRESS_GZIP)
		deflateEnd(&c->zs);
	else if (c->how == COMPRESS_XZ)
		lzma_end(&c->xs);
	free(c);
}

static int compress_gzip(struct compress *c, const void *data, size_t len, bool finish)
{
	const unsigned char *p = data;
	int rc;

	do {
		/* avail_in is a uInt: feed in slices */
		uInt slice = len > UINT_MAX ? UINT_MAX : (uInt)len;
		int zrc;

		c->zs.next_in = p;
		c->zs.avail_in = slice;
		p += slice;
		len -= slice;
		do {
			c->zs.next_out = c->tmp;
			c->zs.avail_out = sizeof(c->tmp);
			zrc = deflate(&c->zs, finish && !len ? Z_FINISH : Z_NO_FLUSH);
			if (zrc == Z_STREAM_ERROR)
				return -EIO;
			rc = compress_out_put(c->out, c->tmp, sizeof(c->tmp) - c->zs.avail_out);
			if (rc)
				return rc;
		} while (c->zs.avail_out == 0 || (finish && !len && zrc != Z_STREAM_END));
	} while (len);
	return 0;
}

static int compress_xz(struct compress *c, const void *data, size_t len, bool finish)
{
	int rc;

	c->xs.next_in = data;
	c->xs.avail_in = len;
	for (;;) {
		lzma_ret xrc;

		c->xs.next_out = c->tmp;
		c->xs.avail_out = sizeof(c->tmp);
		xrc = lzma_code(&c->xs, finish ? LZMA_FINISH : LZMA_RUN);
		if (xrc != LZMA_OK && xrc != LZMA_STREAM_END)
			return compress_xerr(xrc);
		rc = compress_out_put(c->out, c->tmp, sizeof(c->tmp) - c->xs.avail_out);
		if (rc)
			return rc;
		if (finish ? xrc == LZMA_STREAM_END : (c->xs.avail_in == 0 && c->xs.avail_out != 0))
			return 0;
	}
}

/* Feed len bytes (finish: flush the stream end); every output chunk goes to c->out. */
static int compress_run(struct compress *c, const void *data, size_t len, bool finish)
{
	/* liblzma reports LZMA_BUF_ERROR for repeated calls without progress */
	if (!len && !finish)
		return 0;
	switch (c->how) {
	case COMPRESS_NONE:
		return compress_out_put(c->out, data, len);
	case COMPRESS_GZIP:
		return compress_gzip(c, data, len, finish);
	case COMPRESS_XZ:
		return compress_xz(c, data, len, finish);
	}
	return -EINVAL;
}

int compress_write(struct compress *c, const void *data, size_t len)
{
	if (!c || (!data && len))
		return -EINVAL;
	return compress_run(c, data, len, false);
}

int compress_finish(struct compress *c)
{
	if (!c)
		return -EINVAL;
	return compress_run(c, NULL, 0, true);
}
