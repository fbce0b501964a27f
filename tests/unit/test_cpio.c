/* test_cpio.c - golden-byte and round-trip tests for build/cpio.c. */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "build/cpio.h"
#include "lib/compress.h"
#include "testlib.h"

/*
 * newc header pieces, so each golden entry below reads field by field:
 * magic ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check,
 * then the name with its NUL padded so header+name is a multiple of 4, then data padded to 4.
 */
#define MAGIC "070701"
#define Z8 "00000000"
#define MT "12345678"           /* every entry's mtime in these tests: 0x12345678 */
#define TEST_MTIME 0x12345678u
#define TRAILER MAGIC Z8 Z8 Z8 Z8 "00000001" Z8 Z8 Z8 Z8 Z8 Z8 "0000000B" Z8 \
	"TRAILER!!!\0" "\0\0\0"                 /* 110 + 11 = 121, padded to 124 */

/* ---- helpers ---- */

static unsigned char *write_mem(const struct cpio *c, enum cpio_compress how, int level, size_t *len)
{
	unsigned char *buf = NULL;

	assert_int_equal(cpio_write_mem(c, how, level, &buf, len), 0);
	assert_non_null(buf);
	return buf;
}

static void assert_cpio_bytes(const struct cpio *c, const void *want, size_t wantlen)
{
	size_t len;
	unsigned char *buf = write_mem(c, CPIO_COMPRESS_NONE, 0, &len);

	if (len != wantlen || memcmp(buf, want, len) != 0) {
		/* print the archive, so a failure shows where it differs */
		fprintf(stderr, "got %zu bytes, want %zu:\n", len, wantlen);
		for (size_t i = 0; i < len; i++)
			fputc(buf[i] >= 0x20 && buf[i] < 0x7f ? buf[i] : '.', stderr);
		fputc('\n', stderr);
	}
	assert_int_equal(len, wantlen);
	assert_memory_equal(buf, want, len);
	free(buf);
}

static void assert_same_archive(const struct cpio *a, const struct cpio *b)
{
	size_t la, lb;
	unsigned char *ba = write_mem(a, CPIO_COMPRESS_NONE, 0, &la);
	unsigned char *bb = write_mem(b, CPIO_COMPRESS_NONE, 0, &lb);

	assert_int_equal(la, lb);
	assert_memory_equal(ba, bb, la);
	free(ba);
	free(bb);
}

/* ---- golden archives ---- */

struct golden {
	const char *name;
	void (*build)(struct cpio *c);
	const char *bytes;
	size_t len;
};

#define GOLD(name, build, lit) { name, build, lit, sizeof(lit) - 1 }

static void build_nothing(struct cpio *c)
{
	(void)c;
}

static void build_empty_file(struct cpio *c)
{
	assert_int_equal(cpio_add_data(c, "e", 0644, NULL, 0), 0);
}

static void build_1(struct cpio *c)
{
	assert_int_equal(cpio_add_data(c, "a", 0644, "1", 1), 0);
}

static void build_2(struct cpio *c)
{
	assert_int_equal(cpio_add_data(c, "ab", 0644, "12", 2), 0);
}

static void build_3(struct cpio *c)
{
	assert_int_equal(cpio_add_data(c, "abc", 0644, "123", 3), 0);
}

static void build_4(struct cpio *c)
{
	assert_int_equal(cpio_add_data(c, "abcd", 0644, "1234", 4), 0);
}

static void build_5(struct cpio *c)
{
	assert_int_equal(cpio_add_data(c, "abcde", 0755, "12345", 5), 0);
}

static void build_dir(struct cpio *c)
{
	assert_int_equal(cpio_add_dir(c, "d", 0755), 0);
}

static void build_sticky_dir(struct cpio *c)
{
	assert_int_equal(cpio_add_dir(c, "tmp", 01777), 0);
}

static void build_symlink(struct cpio *c)
{
	assert_int_equal(cpio_add_symlink(c, "l", "target"), 0);
}

static void build_console(struct cpio *c)
{
	assert_int_equal(cpio_add_node(c, "dev/console", S_IFCHR | 0600, 5, 1), 0);
}

static void build_blockdev(struct cpio *c)
{
	assert_int_equal(cpio_add_node(c, "sda", S_IFBLK | 0660, 8, 0x10), 0);
}

static void build_parents(struct cpio *c)
{
	assert_int_equal(cpio_add_data(c, "a/b/c", 0600, "x", 1), 0);
}

/* '-' (0x2d) sorts before '/' (0x2f): order is bytewise, not per component */
static void build_bytewise(struct cpio *c)
{
	assert_int_equal(cpio_add_data(c, "a/b", 0644, NULL, 0), 0);
	assert_int_equal(cpio_add_data(c, "a-b", 0644, NULL, 0), 0);
}

static void build_replace_file(struct cpio *c)
{
	assert_int_equal(cpio_add_data(c, "f", 0644, "old", 3), 0);
	assert_int_equal(cpio_add_data(c, "f", 0755, "new!", 4), 0);
}

static void build_replace_dir_by_symlink(struct cpio *c)
{
	assert_int_equal(cpio_add_data(c, "d/x", 0644, "xx", 2), 0);
	assert_int_equal(cpio_add_data(c, "d/y/z", 0644, "zz", 2), 0);
	assert_int_equal(cpio_add_data(c, "d-", 0644, NULL, 0), 0);
	assert_int_equal(cpio_add_data(c, "e", 0644, NULL, 0), 0);
	assert_int_equal(cpio_count(c), 6);
	assert_int_equal(cpio_add_symlink(c, "d", "e"), 0);
	assert_int_equal(cpio_count(c), 3);
}

static void build_dir_over_dir(struct cpio *c)
{
	assert_int_equal(cpio_add_dir(c, "d", 0755), 0);
	assert_int_equal(cpio_add_data(c, "d/f", 0644, NULL, 0), 0);
	assert_int_equal(cpio_add_dir(c, "d", 0700), 0);
}

static const struct golden goldens[] = {
	GOLD("empty archive", build_nothing, TRAILER),
	GOLD("empty file", build_empty_file,
	     MAGIC "00000001" "000081A4" Z8 Z8 "00000001" MT Z8 Z8 Z8 Z8 Z8 "00000002" Z8
	     "e\0"
	     TRAILER),
	/* name padding 0,3,2,1,0 and data padding 3,2,1,0,3 */
	GOLD("1 byte", build_1,
	     MAGIC "00000001" "000081A4" Z8 Z8 "00000001" MT "00000001" Z8 Z8 Z8 Z8 "00000002" Z8
	     "a\0"
	     "1\0\0\0"
	     TRAILER),
	GOLD("2 bytes", build_2,
	     MAGIC "00000001" "000081A4" Z8 Z8 "00000001" MT "00000002" Z8 Z8 Z8 Z8 "00000003" Z8
	     "ab\0" "\0\0\0"
	     "12\0\0"
	     TRAILER),
	GOLD("3 bytes", build_3,
	     MAGIC "00000001" "000081A4" Z8 Z8 "00000001" MT "00000003" Z8 Z8 Z8 Z8 "00000004" Z8
	     "abc\0" "\0\0"
	     "123\0"
	     TRAILER),
	GOLD("4 bytes", build_4,
	     MAGIC "00000001" "000081A4" Z8 Z8 "00000001" MT "00000004" Z8 Z8 Z8 Z8 "00000005" Z8
	     "abcd\0" "\0"
	     "1234"
	     TRAILER),
	GOLD("5 bytes", build_5,
	     MAGIC "00000001" "000081ED" Z8 Z8 "00000001" MT "00000005" Z8 Z8 Z8 Z8 "00000006" Z8
	     "abcde\0"
	     "12345\0\0\0"
	     TRAILER),
	GOLD("dir", build_dir,
	     MAGIC "00000001" "000041ED" Z8 Z8 "00000002" MT Z8 Z8 Z8 Z8 Z8 "00000002" Z8
	     "d\0"
	     TRAILER),
	GOLD("sticky dir", build_sticky_dir,
	     MAGIC "00000001" "000043FF" Z8 Z8 "00000002" MT Z8 Z8 Z8 Z8 Z8 "00000004" Z8
	     "tmp\0" "\0\0"
	     TRAILER),
	GOLD("symlink", build_symlink,
	     MAGIC "00000001" "0000A1FF" Z8 Z8 "00000001" MT "00000006" Z8 Z8 Z8 Z8 "00000002" Z8
	     "l\0"
	     "target\0\0"
	     TRAILER),
	GOLD("/dev/console 5:1", build_console,
	     MAGIC "00000001" "000041ED" Z8 Z8 "00000002" MT Z8 Z8 Z8 Z8 Z8 "00000004" Z8
	     "dev\0" "\0\0"
	     MAGIC "00000002" "00002180" Z8 Z8 "00000001" MT Z8 Z8 Z8 "00000005" "00000001" "0000000C" Z8
	     "dev/console\0" "\0\0"
	     TRAILER),
	GOLD("block node 8:16", build_blockdev,
	     MAGIC "00000001" "000061B0" Z8 Z8 "00000001" MT Z8 Z8 Z8 "00000008" "00000010" "00000004" Z8
	     "sda\0" "\0\0"
	     TRAILER),
	GOLD("implicit parents", build_parents,
	     MAGIC "00000001" "000041ED" Z8 Z8 "00000002" MT Z8 Z8 Z8 Z8 Z8 "00000002" Z8
	     "a\0"
	     MAGIC "00000002" "000041ED" Z8 Z8 "00000002" MT Z8 Z8 Z8 Z8 Z8 "00000004" Z8
	     "a/b\0" "\0\0"
	     MAGIC "00000003" "00008180" Z8 Z8 "00000001" MT "00000001" Z8 Z8 Z8 Z8 "00000006" Z8
	     "a/b/c\0"
	     "x\0\0\0"
	     TRAILER),
	GOLD("bytewise order", build_bytewise,
	     MAGIC "00000001" "000041ED" Z8 Z8 "00000002" MT Z8 Z8 Z8 Z8 Z8 "00000002" Z8
	     "a\0"
	     MAGIC "00000002" "000081A4" Z8 Z8 "00000001" MT Z8 Z8 Z8 Z8 Z8 "00000004" Z8
	     "a-b\0" "\0\0"
	     MAGIC "00000003" "000081A4" Z8 Z8 "00000001" MT Z8 Z8 Z8 Z8 Z8 "00000004" Z8
	     "a/b\0" "\0\0"
	     TRAILER),
	GOLD("file replaces file", build_replace_file,
	     MAGIC "00000001" "000081ED" Z8 Z8 "00000001" MT "00000004" Z8 Z8 Z8 Z8 "00000002" Z8
	     "f\0"
	     "new!"
	     TRAILER),
	GOLD("symlink replaces dir, children dropped", build_replace_dir_by_symlink,
	     MAGIC "00000001" "0000A1FF" Z8 Z8 "00000001" MT "00000001" Z8 Z8 Z8 Z8 "00000002" Z8
	     "d\0"
	     "e\0\0\0"
	     MAGIC "00000002" "000081A4" Z8 Z8 "00000001" MT Z8 Z8 Z8 Z8 Z8 "00000003" Z8
	     "d-\0" "\0\0\0"
	     MAGIC "00000003" "000081A4" Z8 Z8 "00000001" MT Z8 Z8 Z8 Z8 Z8 "00000002" Z8
	     "e\0"
	     TRAILER),
	GOLD("dir over dir keeps children, takes mode", build_dir_over_dir,
	     MAGIC "00000001" "000041C0" Z8 Z8 "00000002" MT Z8 Z8 Z8 Z8 Z8 "00000002" Z8
	     "d\0"
	     MAGIC "00000002" "000081A4" Z8 Z8 "00000001" MT Z8 Z8 Z8 Z8 Z8 "00000004" Z8
	     "d/f\0" "\0\0"
	     TRAILER),
};

static void test_golden(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(goldens) / sizeof(goldens[0]); i++) {
		struct cpio *c = cpio_new(TEST_MTIME);

		print_message("golden: %s\n", goldens[i].name);
		assert_non_null(c);
		goldens[i].build(c);
		assert_int_equal(goldens[i].len % 4, 0);
		assert_cpio_bytes(c, goldens[i].bytes, goldens[i].len);
		cpio_free(c);
	}
}

/* ---- equivalences: overlays and insertion order ---- */

struct op {
	enum { OP_DIR, OP_DATA, OP_LINK, OP_NODE } kind;
	const char *path;
	mode_t mode;
	const char *arg;        /* data or target */
	unsigned major, minor;
};

static void apply(struct cpio *c, const struct op *o)
{
	int rc = -1;

	switch (o->kind) {
	case OP_DIR:
		rc = cpio_add_dir(c, o->path, o->mode);
		break;
	case OP_DATA:
		rc = cpio_add_data(c, o->path, o->mode, o->arg, strlen(o->arg));
		break;
	case OP_LINK:
		rc = cpio_add_symlink(c, o->path, o->arg);
		break;
	case OP_NODE:
		rc = cpio_add_node(c, o->path, o->mode, o->major, o->minor);
		break;
	}
	assert_int_equal(rc, 0);
}

static struct cpio *build_ops(const struct op *ops, const size_t *order, size_t n)
{
	struct cpio *c = cpio_new(TEST_MTIME);

	assert_non_null(c);
	for (size_t i = 0; i < n; i++)
		apply(c, &ops[order ? order[i] : i]);
	return c;
}

/* A busybox-like root: explicit dirs with non-default modes must win over implicit ones. */
static const struct op root_ops[] = {
	{ OP_DIR, "etc", 0700, NULL, 0, 0 },
	{ OP_DATA, "etc/passwd", 0644, "root:x:0:0::/:/bin/sh\n", 0, 0 },
	{ OP_LINK, "bin/sh", 0, "busybox", 0, 0 },
	{ OP_DATA, "bin/busybox", 0755, "\177ELF", 0, 0 },
	{ OP_NODE, "dev/console", S_IFCHR | 0600, NULL, 5, 1 },
	{ OP_DIR, "dev", 0755, NULL, 0, 0 },
	{ OP_DIR, "proc", 0555, NULL, 0, 0 },
};
#define NROOT (sizeof(root_ops) / sizeof(root_ops[0]))

static void test_insertion_order(void **state)
{
	size_t order[NROOT], cnt[NROOT] = { 0 }, i = 0, perms = 1;
	struct cpio *ref = build_ops(root_ops, NULL, NROOT);

	(void)state;
	assert_int_equal(cpio_count(ref), NROOT + 1);   /* + implicit "bin" */
	for (size_t k = 0; k < NROOT; k++)
		order[k] = k;
	/* Heap's algorithm: every permutation of the operations */
	while (i < NROOT) {
		if (cnt[i] < i) {
			size_t j = i % 2 ? cnt[i] : 0, t = order[j];
			struct cpio *c;

			order[j] = order[i];
			order[i] = t;
			c = build_ops(root_ops, order, NROOT);
			assert_same_archive(ref, c);
			cpio_free(c);
			perms++;
			cnt[i]++;
			i = 0;
		} else {
			cnt[i++] = 0;
		}
	}
	assert_int_equal(perms, 5040);
	cpio_free(ref);
}

struct equiv {
	const char *name;
	struct op a[4], b[4];
	size_t na, nb;
};

static const struct equiv equivs[] = {
	{ "dir replaces file",
	  { { OP_DATA, "x", 0644, "abc", 0, 0 }, { OP_DIR, "x", 0711, NULL, 0, 0 } }, { { OP_DIR, "x", 0711, NULL, 0, 0 } }, 2, 1 },
	{ "file replaces symlink",
	  { { OP_LINK, "x", 0, "y", 0, 0 }, { OP_DATA, "x", 0600, "z", 0, 0 } }, { { OP_DATA, "x", 0600, "z", 0, 0 } }, 2, 1 },
	{ "node replaces file",
	  { { OP_DATA, "dev/null", 0644, "junk", 0, 0 }, { OP_NODE, "dev/null", S_IFCHR | 0666, NULL, 1, 3 } },
	  { { OP_NODE, "dev/null", S_IFCHR | 0666, NULL, 1, 3 } }, 2, 1 },
	{ "file replaces dir with subtree",
	  { { OP_DATA, "a/b/c", 0644, "1", 0, 0 }, { OP_DATA, "a/d", 0644, "2", 0, 0 }, { OP_DATA, "a", 0644, "3", 0, 0 } },
	  { { OP_DATA, "a", 0644, "3", 0, 0 } }, 3, 1 },
	{ "implicit parent keeps explicit mode",
	  { { OP_DIR, "d", 0700, NULL, 0, 0 }, { OP_DATA, "d/e/f", 0644, "", 0, 0 } },
	  { { OP_DATA, "d/e/f", 0644, "", 0, 0 }, { OP_DIR, "d", 0700, NULL, 0, 0 } }, 2, 2 },
	{ "symlink retargeted",
	  { { OP_LINK, "l", 0, "one", 0, 0 }, { OP_LINK, "l", 0, "two", 0, 0 } }, { { OP_LINK, "l", 0, "two", 0, 0 } }, 2, 1 },
};

static void test_equivalences(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(equivs) / sizeof(equivs[0]); i++) {
		struct cpio *a = build_ops(equivs[i].a, NULL, equivs[i].na);
		struct cpio *b = build_ops(equivs[i].b, NULL, equivs[i].nb);

		print_message("equivalence: %s\n", equivs[i].name);
		assert_int_equal(cpio_count(a), cpio_count(b));
		assert_same_archive(a, b);
		cpio_free(a);
		cpio_free(b);
	}
}

/* ---- rejections leave the set unchanged ---- */

static char long_path[PATH_MAX + 1];

static void test_invalid_paths(void **state)
{
	static const struct {
		const char *path;
		int rc;
	} bad[] = {
		{ "", -EINVAL }, { "/", -EINVAL }, { "/a", -EINVAL }, { "//a", -EINVAL },
		{ ".", -EINVAL }, { "..", -EINVAL }, { "./a", -EINVAL }, { "a/.", -EINVAL },
		{ "a/..", -EINVAL }, { "../a", -EINVAL }, { "a/../b", -EINVAL }, { "a/./b", -EINVAL },
		{ "a//b", -EINVAL }, { "a/", -EINVAL }, { "a/b/", -EINVAL }, { "TRAILER!!!", -EINVAL },
		{ NULL, -EINVAL }, { long_path, -ENAMETOOLONG },
	};
	struct cpio *c = cpio_new(TEST_MTIME);
	size_t before_len;
	unsigned char *before;

	(void)state;
	memset(long_path, 'x', PATH_MAX);   /* PATH_MAX chars: no room for the NUL */
	assert_non_null(c);
	assert_int_equal(cpio_add_data(c, "a/b", 0644, "x", 1), 0);
	before = write_mem(c, CPIO_COMPRESS_NONE, 0, &before_len);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("bad path: \"%.20s\"\n", bad[i].path ? bad[i].path : "(null)");
		assert_int_equal(cpio_add_dir(c, bad[i].path, 0755), bad[i].rc);
		assert_int_equal(cpio_add_data(c, bad[i].path, 0644, "x", 1), bad[i].rc);
		assert_int_equal(cpio_add_symlink(c, bad[i].path, "t"), bad[i].rc);
		assert_int_equal(cpio_add_node(c, bad[i].path, S_IFCHR | 0600, 5, 1), bad[i].rc);
	}
	assert_cpio_bytes(c, before, before_len);
	/* names that merely look special are fine */
	assert_int_equal(cpio_add_data(c, "...", 0644, NULL, 0), 0);
	assert_int_equal(cpio_add_data(c, ".a/..b/TRAILER!!!", 0644, NULL, 0), 0);
	long_path[PATH_MAX - 1] = '\0';     /* PATH_MAX - 1 chars is the longest allowed */
	assert_int_equal(cpio_add_data(c, long_path, 0644, NULL, 0), 0);
	assert_int_equal(cpio_count(c), 2 + 1 + 3 + 1);
	cpio_free(c);
	free(before);
}

static void test_rejections(void **state)
{
	struct cpio *c = cpio_new(TEST_MTIME);
	size_t before_len;
	unsigned char *before, dummy[1] = { 0 };
	char target[PATH_MAX + 1];

	(void)state;
	assert_non_null(c);
	assert_int_equal(cpio_add_data(c, "f", 0644, "x", 1), 0);
	assert_int_equal(cpio_add_symlink(c, "l", "d"), 0);
	assert_int_equal(cpio_add_dir(c, "d", 0755), 0);
	assert_int_equal(cpio_add_node(c, "d/n", S_IFCHR | 0600, 1, 1), 0);
	before = write_mem(c, CPIO_COMPRESS_NONE, 0, &before_len);

	/* type bits where only permissions belong, and the reverse */
	assert_int_equal(cpio_add_dir(c, "x", S_IFDIR | 0755), -EINVAL);
	assert_int_equal(cpio_add_data(c, "x", 010644, "x", 1), -EINVAL);
	assert_int_equal(cpio_add_node(c, "x", S_IFREG | 0644, 1, 1), -EINVAL);
	assert_int_equal(cpio_add_node(c, "x", S_IFIFO | 0644, 0, 0), -EINVAL);
	assert_int_equal(cpio_add_node(c, "x", 0600, 5, 1), -EINVAL);
	/* data and targets */
	assert_int_equal(cpio_add_data(c, "x", 0644, NULL, 1), -EINVAL);
	assert_int_equal(cpio_add_symlink(c, "x", ""), -EINVAL);
	assert_int_equal(cpio_add_symlink(c, "x", NULL), -EINVAL);
	memset(target, 't', PATH_MAX);
	target[PATH_MAX] = '\0';
	assert_int_equal(cpio_add_symlink(c, "x", target), -ENAMETOOLONG);
	/* parents that are not dirs, at any depth; a symlink parent is not followed */
	assert_int_equal(cpio_add_data(c, "f/x", 0644, "x", 1), -ENOTDIR);
	assert_int_equal(cpio_add_data(c, "f/x/y", 0644, "x", 1), -ENOTDIR);
	assert_int_equal(cpio_add_dir(c, "l/x", 0755), -ENOTDIR);
	assert_int_equal(cpio_add_symlink(c, "d/n/y", "z"), -ENOTDIR);
	/* size caps are checked before the data is read: the dummy is never touched past 1 byte */
	assert_int_equal(cpio_add_data(c, "big", 0644, dummy, (size_t)CPIO_MAX_FILE + 1), -EFBIG);
	assert_int_equal(cpio_add_data(c, "big", 0644, dummy, SIZE_MAX), -EFBIG);
	/* NULL set */
	assert_int_equal(cpio_add_dir(NULL, "x", 0755), -EINVAL);
	assert_int_equal(cpio_add_data(NULL, "x", 0644, "x", 1), -EINVAL);
	assert_int_equal(cpio_add_symlink(NULL, "x", "y"), -EINVAL);
	assert_int_equal(cpio_add_node(NULL, "x", S_IFCHR | 0600, 1, 1), -EINVAL);
	assert_int_equal(cpio_add_tree(NULL, AT_FDCWD, ""), -EINVAL);
	assert_int_equal(cpio_count(NULL), 0);
	cpio_free(NULL);

	/* none of the failures above changed anything */
	assert_int_equal(cpio_count(c), 4);
	assert_cpio_bytes(c, before, before_len);
	free(before);
	cpio_free(c);
}

static void test_write_errors(void **state)
{
	struct cpio *c = cpio_new(0);
	unsigned char *out = (unsigned char *)"untouched";
	size_t len = 7;
	int fds[2];

	(void)state;
	assert_non_null(c);
	assert_int_equal(cpio_write_mem(c, CPIO_COMPRESS_GZIP, 10, &out, &len), -EINVAL);
	assert_int_equal(cpio_write_mem(c, CPIO_COMPRESS_GZIP, -2, &out, &len), -EINVAL);
	assert_int_equal(cpio_write_mem(c, CPIO_COMPRESS_XZ, 10, &out, &len), -EINVAL);
	assert_int_equal(cpio_write_mem(c, (enum cpio_compress)7, 0, &out, &len), -EINVAL);
	assert_int_equal(cpio_write_mem(NULL, CPIO_COMPRESS_NONE, 0, &out, &len), -EINVAL);
	assert_int_equal(cpio_write_mem(c, CPIO_COMPRESS_NONE, 0, NULL, &len), -EINVAL);
	assert_string_equal((const char *)out, "untouched");
	assert_int_equal(len, 7);
	assert_int_equal(cpio_write(c, -1, CPIO_COMPRESS_NONE, 0), -EBADF);
	/* the read end of a pipe cannot be written */
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(cpio_write(c, fds[0], CPIO_COMPRESS_NONE, 0), -EBADF);
	close(fds[0]);
	close(fds[1]);
	cpio_free(c);
}

/* ---- compression (lib/compress.c has its own tests) ---- */

/* Some entries, one of them big and half-compressible so the compressors emit many chunks. */
static struct cpio *build_big(void)
{
	struct cpio *c = cpio_new(TEST_MTIME);
	size_t n = 400 * 1024;
	unsigned char *blob = malloc(n);
	uint32_t x = 12345;

	assert_non_null(c);
	assert_non_null(blob);
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		blob[i] = (i / 4096) % 2 ? (unsigned char)(x >> 24) : (unsigned char)(i % 251);
	}
	for (size_t i = 0; i < NROOT; i++)
		apply(c, &root_ops[i]);
	assert_int_equal(cpio_add_data(c, "blob", 0644, blob, n), 0);
	free(blob);
	return c;
}

/* A compressed archive is the plain archive through lib/compress, nothing more. */
static void test_compressed_is_plain_compressed(void **state)
{
	static const struct {
		enum cpio_compress how;
		enum compress_kind kind;
		int level;
	} cases[] = {
		{ CPIO_COMPRESS_GZIP, COMPRESS_GZIP, 9 }, { CPIO_COMPRESS_GZIP, COMPRESS_GZIP, -1 },
		{ CPIO_COMPRESS_XZ, COMPRESS_XZ, 6 },
	};
	struct cpio *c = build_big(), *empty = cpio_new(0);

	(void)state;
	assert_non_null(empty);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int e = 0; e < 2; e++) {
			const struct cpio *which = e ? empty : c;
			size_t rawlen, zlen;
			unsigned char *raw = write_mem(which, CPIO_COMPRESS_NONE, 0, &rawlen);
			unsigned char *z = write_mem(which, cases[i].how, cases[i].level, &zlen);
			struct compress_out out = { .fd = -1 };
			struct compress *w = NULL;

			assert_int_equal(compress_new(cases[i].kind, cases[i].level, &out, &w), 0);
			assert_int_equal(compress_write(w, raw, rawlen), 0);
			assert_int_equal(compress_finish(w), 0);
			compress_free(w);
			assert_int_equal(out.len, zlen);
			assert_memory_equal(out.buf, z, zlen);
			free(out.buf);
			free(raw);
			free(z);
		}
	}
	cpio_free(c);
	cpio_free(empty);
}

/* cpio_write to an fd gives the same bytes as cpio_write_mem, for each compression. */
static void test_write_fd(void **state)
{
	static const enum cpio_compress hows[] = { CPIO_COMPRESS_NONE, CPIO_COMPRESS_GZIP, CPIO_COMPRESS_XZ };
	struct cpio *c = build_big();

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		FILE *f = tmpfile();
		size_t mlen, flen = 0;
		unsigned char *m = write_mem(c, hows[i], 6, &mlen), *fbuf = malloc(mlen + 1);
		ssize_t r;

		assert_non_null(f);
		assert_non_null(fbuf);
		assert_int_equal(cpio_write(c, fileno(f), hows[i], 6), 0);
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
	cpio_free(c);
}

/* ---- cpio_add_tree ---- */

/* Create a file below dirfd with exactly this mode, whatever the umask. */
static void mkfile(int dirfd, const char *name, mode_t mode, const char *data)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void mkdirmode(int dirfd, const char *name, mode_t mode)
{
	assert_int_equal(mkdirat(dirfd, name, 0700), 0);
	assert_int_equal(fchmodat(dirfd, name, mode, 0), 0);
}

static void test_add_tree(void **state)
{
	char outside[PATH_MAX];
	int top, tree;
	struct cpio *c, *want;
	size_t len;
	unsigned char *buf;

	(void)state;
	top = open(testlib_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(top >= 0);
	mkdirmode(top, "outside", 0755);
	mkfile(top, "outside/secret", 0600, "s3cret");
	mkdirmode(top, "tree", 0700);
	tree = openat(top, "tree", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(tree >= 0);
	mkfile(tree, "f", 0640, "hello\n");
	mkfile(tree, "exec", 04755, "#!/bin/sh\n");
	mkdirmode(tree, "sub", 0750);
	mkfile(tree, "sub/g", 0600, "x");
	mkfile(tree, "sub/empty", 0644, "");
	mkdirmode(tree, "sub/deeper", 01777);
	/* symlinks out of the tree: stored as links, never followed */
	assert_int_equal(symlinkat("../outside/secret", tree, "ln"), 0);
	assert_int_equal(symlinkat("/etc/passwd", tree, "abs"), 0);
	assert_true(snprintf(outside, sizeof(outside), "%s/outside", testlib_dir) < (int)sizeof(outside));
	assert_int_equal(symlinkat(outside, tree, "outdir"), 0);

	want = cpio_new(TEST_MTIME);
	assert_non_null(want);
	assert_int_equal(cpio_add_data(want, "ov/lay/f", 0640, "hello\n", 6), 0);
	assert_int_equal(cpio_add_data(want, "ov/lay/exec", 04755, "#!/bin/sh\n", 10), 0);
	assert_int_equal(cpio_add_dir(want, "ov/lay/sub", 0750), 0);
	assert_int_equal(cpio_add_data(want, "ov/lay/sub/g", 0600, "x", 1), 0);
	assert_int_equal(cpio_add_data(want, "ov/lay/sub/empty", 0644, NULL, 0), 0);
	assert_int_equal(cpio_add_dir(want, "ov/lay/sub/deeper", 01777), 0);
	assert_int_equal(cpio_add_symlink(want, "ov/lay/ln", "../outside/secret"), 0);
	assert_int_equal(cpio_add_symlink(want, "ov/lay/abs", "/etc/passwd"), 0);
	assert_int_equal(cpio_add_symlink(want, "ov/lay/outdir", outside), 0);
	assert_int_equal(cpio_count(want), 11);

	c = cpio_new(TEST_MTIME);
	assert_non_null(c);
	assert_int_equal(cpio_add_tree(c, tree, "ov/lay"), 0);
	assert_same_archive(c, want);
	buf = write_mem(c, CPIO_COMPRESS_NONE, 0, &len);
	assert_null(memmem(buf, len, "s3cret", 6));
	assert_null(memmem(buf, len, "root:", 5));
	free(buf);
	/* a second pass overlays the same tree onto itself: nothing changes */
	assert_int_equal(cpio_add_tree(c, tree, "ov/lay"), 0);
	assert_same_archive(c, want);
	cpio_free(c);
	cpio_free(want);

	/* at the root, an empty prefix adds no entry for the top dir */
	c = cpio_new(TEST_MTIME);
	assert_non_null(c);
	assert_int_equal(cpio_add_tree(c, tree, ""), 0);
	assert_int_equal(cpio_count(c), 9);
	assert_int_equal(cpio_add_data(c, "sub/new", 0644, NULL, 0), 0);
	cpio_free(c);

	/* a prefix that is a file is not a dir; a bad prefix is a bad path */
	c = cpio_new(TEST_MTIME);
	assert_non_null(c);
	assert_int_equal(cpio_add_data(c, "x", 0644, NULL, 0), 0);
	assert_int_equal(cpio_add_tree(c, tree, "x"), -ENOTDIR);
	assert_int_equal(cpio_add_tree(c, tree, "/x"), -EINVAL);
	assert_int_equal(cpio_add_tree(c, tree, "a/../b"), -EINVAL);
	assert_int_equal(cpio_add_tree(c, -1, "y"), -EBADF);
	assert_int_equal(cpio_count(c), 1);
	/* tree dirs replace what was there (overlay), here a symlink */
	assert_int_equal(cpio_add_symlink(c, "y/sub", "elsewhere"), 0);
	assert_int_equal(cpio_add_tree(c, tree, "y"), 0);
	assert_int_equal(cpio_count(c), 1 + 1 + 9);
	cpio_free(c);

	close(tree);
	close(top);
}

static void test_add_tree_fifo(void **state)
{
	int top, tree;
	struct cpio *c;

	(void)state;
	top = open(testlib_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(top >= 0);
	mkdirmode(top, "fifotree", 0755);
	tree = openat(top, "fifotree", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(tree >= 0);
	mkfile(tree, "a", 0644, "a");
	/* a fifo must be refused without being opened: opening it would block */
	assert_int_equal(mkfifoat(tree, "p", 0644), 0);
	c = cpio_new(TEST_MTIME);
	assert_non_null(c);
	assert_int_equal(cpio_add_tree(c, tree, "t"), -EINVAL);
	cpio_free(c);
	close(tree);
	close(top);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_insertion_order),
		cmocka_unit_test(test_equivalences),
		cmocka_unit_test(test_invalid_paths),
		cmocka_unit_test(test_rejections),
		cmocka_unit_test(test_write_errors),
		cmocka_unit_test(test_compressed_is_plain_compressed),
		cmocka_unit_test(test_write_fd),
		cmocka_unit_test_setup_teardown(test_add_tree, testlib_setup_tmpdir, testlib_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_add_tree_fifo, testlib_setup_tmpdir, testlib_teardown_tmpdir),
	};

	return cmocka_run_group_tests_name("cpio", tests, NULL, NULL);
}
