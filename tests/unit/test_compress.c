/* test_compress.c - lib/compress.c: gzip and xz streams round-trip, are deterministic, carry
 * the headers the kernel's decoders need, and write the same bytes to an fd as to memory. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <lzma.h>
#include <zlib.h>

#include "lib/compress.h"

#define BIG_LEN (400 * 1024)

static unsigned char big[BIG_LEN];

/* Half random, half a pattern: the compressors emit many output chunks. */
static int setup(void **state)
{
	uint32_t x = 12345;

	(void)state;
	for (size_t i = 0; i < sizeof(big); i++) {
		x = x * 1103515245u + 12345u;
		big[i] = (i / 4096) % 2 ? (unsigned char)(x >> 24) : (unsigned char)(i % 251);
	}
	return 0;
}

/* Compress data (in pieces of `piece` bytes, 0: all at once) into a new buffer. */
static unsigned char *pack(enum compress_kind how, int level, const void *data, size_t len,
			   size_t piece, size_t *outlen)
{
	struct compress_out out = { .fd = -1 };
	struct compress *c = NULL;
	const unsigned char *p = data;

	assert_int_equal(compress_new(how, level, &out, &c), 0);
	if (!piece)
		piece = len ? len : 1;
	for (size_t off = 0; off < len; off += piece)
		assert_int_equal(compress_write(c, p + off, len - off < piece ? len - off : piece), 0);
	assert_int_equal(compress_finish(c), 0);
	compress_free(c);
	*outlen = out.len;
	return out.buf ? out.buf : calloc(1, 1);
}

static unsigned char *gunzip(const unsigned char *in, size_t inlen, size_t *outlen)
{
	z_stream zs = { 0 };
	size_t cap = 1 << 20, len = 0;
	unsigned char *out = malloc(cap);
	int zrc;

	assert_non_null(out);
	assert_int_equal(inflateInit2(&zs, 31), Z_OK);   /* gzip wrapper only */
	zs.next_in = (unsigned char *)in;
	zs.avail_in = (uInt)inlen;
	do {
		if (len == cap) {
			cap *= 2;
			out = realloc(out, cap);
			assert_non_null(out);
		}
		zs.next_out = out + len;
		zs.avail_out = (uInt)(cap - len);
		zrc = inflate(&zs, Z_NO_FLUSH);
		assert_true(zrc == Z_OK || zrc == Z_STREAM_END);
		len = cap - zs.avail_out;
	} while (zrc != Z_STREAM_END);
	assert_int_equal(zs.avail_in, 0);    /* nothing trails the gzip member */
	inflateEnd(&zs);
	*outlen = len;
	return out;
}

static unsigned char *unxz(const unsigned char *in, size_t inlen, size_t *outlen)
{
	size_t cap = 4 << 20, inpos = 0, outpos = 0;
	uint64_t memlimit = UINT64_MAX;
	unsigned char *out = malloc(cap);

	assert_non_null(out);
	/* flags 0: no concatenated streams, no trailing junk allowed */
	assert_int_equal(lzma_stream_buffer_decode(&memlimit, 0, NULL, in, &inpos, inlen,
						   out, &outpos, cap), LZMA_OK);
	assert_int_equal(inpos, inlen);
	*outlen = outpos;
	return out;
}

static void test_round_trip(void **state)
{
	static const struct {
		enum compress_kind how;
		int level;
	} kinds[] = {
		{ COMPRESS_NONE, 0 }, { COMPRESS_NONE, 42 }, /* the level means nothing here */
		{ COMPRESS_GZIP, -1 }, { COMPRESS_GZIP, 1 }, { COMPRESS_GZIP, 9 },
		{ COMPRESS_XZ, -1 }, { COMPRESS_XZ, 0 }, { COMPRESS_XZ, 6 },
	};
	static const struct {
		const char *name;
		const void *data;
		size_t len, piece;
	} inputs[] = {
		{ "empty", "", 0, 0 },
		{ "text", "070701 and a newc header or two\n", 32, 0 },
		{ "big", big, BIG_LEN, 0 },
		{ "big, in odd pieces", big, BIG_LEN, 1021 },
	};

	(void)state;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
			size_t zlen, z2len, plainlen;
			unsigned char *z, *z2, *plain;

			print_message("kind %d level %d: %s\n", kinds[k].how, kinds[k].level, inputs[i].name);
			z = pack(kinds[k].how, kinds[k].level, inputs[i].data, inputs[i].len, inputs[i].piece, &zlen);
			/* deterministic, and the same however the input was cut */
			z2 = pack(kinds[k].how, kinds[k].level, inputs[i].data, inputs[i].len, 0, &z2len);
			assert_int_equal(zlen, z2len);
			assert_memory_equal(z, z2, zlen);
			if (kinds[k].how == COMPRESS_GZIP)
				plain = gunzip(z, zlen, &plainlen);
			else if (kinds[k].how == COMPRESS_XZ)
				plain = unxz(z, zlen, &plainlen);
			else {
				plain = malloc(zlen + 1);
				assert_non_null(plain);
				memcpy(plain, z, zlen);
				plainlen = zlen;
			}
			assert_int_equal(plainlen, inputs[i].len);
			assert_memory_equal(plain, inputs[i].data, plainlen);
			if (inputs[i].len == BIG_LEN && kinds[k].how != COMPRESS_NONE)
				assert_true(zlen > 32768 && zlen < BIG_LEN); /* several output chunks */
			free(plain);
			free(z);
			free(z2);
		}
	}
}

/* The headers the kernel's decompressors (and reproducibility) need. */
static void test_headers(void **state)
{
	/* magic, deflate, no flags, mtime 0, xfl 2 (level 9), OS 3 (Unix) */
	static const unsigned char gz9[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3 };
	lzma_stream_flags flags;
	size_t len;
	unsigned char *z;

	(void)state;
	z = pack(COMPRESS_GZIP, 9, big, BIG_LEN, 0, &len);
	assert_memory_equal(z, gz9, sizeof(gz9));
	free(z);
	/* the kernel's xz decoder rejects CRC64 and SHA-256 checks */
	z = pack(COMPRESS_XZ, 6, big, BIG_LEN, 0, &len);
	assert_int_equal(lzma_stream_header_decode(&flags, z), LZMA_OK);
	assert_int_equal(flags.check, LZMA_CHECK_CRC32);
	free(z);
}

/* An fd gets the same bytes as memory. */
static void test_to_fd(void **state)
{
	static const enum compress_kind kinds[] = { COMPRESS_NONE, COMPRESS_GZIP, COMPRESS_XZ };

	(void)state;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		FILE *f = tmpfile();
		struct compress_out out;
		struct compress *c = NULL;
		size_t mlen, flen = 0;
		unsigned char *m = pack(kinds[i], 6, big, BIG_LEN, 0, &mlen), *fbuf = malloc(mlen + 1);
		ssize_t r;

		assert_non_null(f);
		assert_non_null(fbuf);
		out = (struct compress_out){ .fd = fileno(f) };
		assert_int_equal(compress_new(kinds[i], 6, &out, &c), 0);
		assert_int_equal(compress_write(c, big, BIG_LEN), 0);
		assert_int_equal(compress_finish(c), 0);
		compress_free(c);
		assert_null(out.buf);
		assert_int_equal(lseek(fileno(f), 0, SEEK_SET), 0);
		while ((r = read(fileno(f), fbuf + flen, mlen + 1 - flen)) > 0)
			flen += (size_t)r;
		assert_int_equal(r, 0);
		assert_int_equal(flen, mlen);
		assert_memory_equal(fbuf, m, mlen);
		free(fbuf);
		free(m);
		fclose(f);
	}
}

static void test_errors(void **state)
{
	struct compress_out out = { .fd = -1 };
	struct compress *c = NULL;
	int fds[2];

	(void)state;
	assert_int_equal(compress_new(COMPRESS_GZIP, 10, &out, &c), -EINVAL);
	assert_int_equal(compress_new(COMPRESS_GZIP, -2, &out, &c), -EINVAL);
	assert_int_equal(compress_new(COMPRESS_XZ, 10, &out, &c), -EINVAL);
	assert_int_equal(compress_new((enum compress_kind)7, 0, &out, &c), -EINVAL);
	assert_int_equal(compress_new(COMPRESS_NONE, 0, NULL, &c), -EINVAL);
	assert_null(c);
	assert_int_equal(compress_write(NULL, "x", 1), -EINVAL);
	assert_int_equal(compress_finish(NULL), -EINVAL);
	compress_free(NULL);
	/* the read end of a pipe cannot be written: the error comes back from the stream */
	assert_int_equal(pipe(fds), 0);
	out.fd = fds[0];
	assert_int_equal(compress_new(COMPRESS_GZIP, 1, &out, &c), 0);
	assert_int_equal(compress_write(c, big, BIG_LEN), -EBADF);
	compress_free(c);
	close(fds[0]);
	close(fds[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_to_fd),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests_name("compress", tests, setup, NULL);
}
