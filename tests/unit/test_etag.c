/* test_etag.c - lib/etag.c: the quoted SHA-256 of a file, remembered per file version (device,
 * inode, size, mtime, ctime): a rewritten or replaced file gets a new etag. */
#include <errno.h>
#include <fcntl.h>
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

#include "lib/digest.h"
#include "lib/etag.h"
#include "testlib.h"

static struct etag_cache *cache;

static int setup(void **state)
{
	cache = etag_cache_new();
	return cache ? testlib_setup_tmpdir(state) : -1;
}

static int teardown(void **state)
{
	etag_cache_free(cache);
	cache = NULL;
	return testlib_teardown_tmpdir(state);
}

/* The etag of the file at path as it is now (a fresh fd and stat). */
static void etag_of(const char *path, char etag[ETAG_LEN], struct stat *st_out)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(etag_cache_get(cache, fd, &st, etag), 0);
	close(fd);
	if (st_out)
		*st_out = st;
}

/* "\"" + sha256(text) + "\"" */
static void expect(const char etag[ETAG_LEN], const char *text)
{
	char hex[DIGEST_HEX_LEN], want[ETAG_LEN];

	assert_int_equal(digest_sha256_buf(text, strlen(text), hex), 0);
	snprintf(want, sizeof(want), "\"%s\"", hex);
	assert_string_equal(etag, want);
}

/* Make sure the next write gets another mtime, whatever the clock's granularity. */
static void set_mtime(const char *path, time_t sec)
{
	struct timespec ts[2] = { { .tv_sec = sec }, { .tv_sec = sec } };

	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void test_versions(void **state)
{
	char *path = testlib_path("f"), *other = testlib_path("g"), *tmp = testlib_path("f.new");
	char a[ETAG_LEN], b[ETAG_LEN];

	(void)state;
	testlib_write_text(path, "version 1");
	etag_of(path, a, NULL);
	expect(a, "version 1");
	etag_of(path, b, NULL);
	assert_string_equal(a, b);

	/* rewritten in place with other content of another size */
	testlib_write_text(path, "version two");
	etag_of(path, a, NULL);
	expect(a, "version two");

	/* rewritten in place, same size, same inode: the mtime tells */
	set_mtime(path, 1000000000);
	testlib_write_text(path, "version 333");
	set_mtime(path, 1000000001);
	etag_of(path, a, NULL);
	expect(a, "version 333");

	/* replaced by rename, same size: a new inode */
	testlib_write_text(tmp, "version 444");
	set_mtime(tmp, 1000000001);
	assert_int_equal(rename(tmp, path), 0);
	etag_of(path, a, NULL);
	expect(a, "version 444");

	/* two files with the same bytes have the same etag; different bytes a different one */
	testlib_write_text(other, "version 444");
	etag_of(other, b, NULL);
	assert_string_equal(a, b);
	testlib_write_text(other, "something else");
	etag_of(other, b, NULL);
	expect(b, "something else");
	etag_of(path, a, NULL);
	expect(a, "version 444");
	free(path);
	free(other);
	free(tmp);
}

/* The cache answers from the file version it was given, without reading the file again, once
 * the file has not changed for a while. */
static void test_keyed_by_version(void **state)
{
	char *path = testlib_path("f");
	char a[ETAG_LEN];
	struct stat old, now;
	int fd;

	(void)state;
	testlib_write_text(path, "hashed once");
	sleep(3); /* older than the 2 s a changed file's hash is not remembered */
	etag_of(path, a, &old);
	expect(a, "hashed once");
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "HASHED ONCE", 11), 11);
	close(fd);
	/* asked with the old version's stat: the remembered digest */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(etag_cache_get(cache, fd, &old, a), 0);
	expect(a, "hashed once");
	/* asked with the file as it is (another mtime): hashed again */
	set_mtime(path, 1000000002);
	assert_int_equal(fstat(fd, &now), 0);
	assert_int_equal(etag_cache_get(cache, fd, &now, a), 0);
	expect(a, "HASHED ONCE");
	close(fd);
	free(path);
}

/* Rewritten in place with other bytes of the same size within one tick of the file system's
 * clock: size, mtime and ctime stay the same, yet the next etag is the new content's. Tries
 * until two writes land in one tick (a few ms on a coarse clock); a kernel that never lets
 * them (fine-grained timestamps) has no such case to test. */
static void test_same_tick_rewrite(void **state)
{
	char *path = testlib_path("f");
	char a[ETAG_LEN];
	struct stat first, second;
	int tries, fd = -1;

	(void)state;
	testlib_write_text(path, "aaaaaaaa");
	for (tries = 0; tries < 1000; tries++) {
		fd = open(path, O_WRONLY | O_CLOEXEC);
		assert_true(fd >= 0);
		assert_int_equal(pwrite(fd, "aaaaaaaa", 8, 0), 8);
		etag_of(path, a, &first);
		expect(a, "aaaaaaaa");
		assert_int_equal(pwrite(fd, "bbbbbbbb", 8, 0), 8);
		assert_int_equal(fstat(fd, &second), 0);
		close(fd);
		if (second.st_ctim.tv_sec == first.st_ctim.tv_sec &&
		    second.st_ctim.tv_nsec == first.st_ctim.tv_nsec &&
		    second.st_mtim.tv_nsec == first.st_mtim.tv_nsec)
			break;
	}
	if (tries < 1000) {
		etag_of(path, a, NULL);
		expect(a, "bbbbbbbb");
	}
	free(path);
	if (tries == 1000)
		skip();
}

static void test_errors(void **state)
{
	char etag[ETAG_LEN];
	struct stat st = { .st_ino = 12345 };

	(void)state;
	assert_int_equal(etag_cache_get(cache, -1, &st, etag), -EBADF);
	etag_cache_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_versions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keyed_by_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_tick_rewrite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	};

	return cmocka_run_group_tests_name("etag", tests, NULL, NULL);
}
