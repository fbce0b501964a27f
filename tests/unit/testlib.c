/* testlib.c - fixtures shared by the unit tests. */
#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

char testlib_dir[PATH_MAX];

static int testlib_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

int testlib_rmtree(const char *path)
{
	if (nftw(path, testlib_rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
		return errno == ENOENT ? 0 : -errno;
	return 0;
}

int testlib_setup_tmpdir(void **state)
{
	const char *tmp = getenv("TMPDIR");

	(void)state;
	snprintf(testlib_dir, sizeof(testlib_dir), "%s/tinyboot-unit.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	return mkdtemp(testlib_dir) ? 0 : -1;
}

int testlib_teardown_tmpdir(void **state)
{
	int rc;

	(void)state;
	if (!testlib_dir[0])
		return 0;
	/* a test may have left read-only directories behind on purpose */
	rc = testlib_rmtree(testlib_dir);
	testlib_dir[0] = '\0';
	return rc ? -1 : 0;
}

char *testlib_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	assert_true(n >= 0);
	return s;
}

char *testlib_path(const char *name)
{
	return testlib_asprintf("%s/%s", testlib_dir, name);
}

void testlib_write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

void testlib_write_text(const char *path, const char *text)
{
	testlib_write_file(path, text, strlen(text));
}

char *testlib_read_file(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	buf[st.st_size] = '\0';
	close(fd);
	if (len)
		*len = (size_t)st.st_size;
	return buf;
}

bool testlib_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}
