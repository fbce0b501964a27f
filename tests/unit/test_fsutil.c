/* test_fsutil.c - lib/fsutil.c: rmtree (read-only dirs, symlinks never followed), mkdir -p,
 * capped reads, atomic writes, copies, and opens that never wait on a FIFO. */
#include <dirent.h>
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

#include "lib/fsutil.h"
#include "testlib.h"

/* testlib_dir/NAME as a directory with this exact mode. */
static void mkdir_mode(const char *name, mode_t mode)
{
	char *p = testlib_path(name);

	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(chmod(p, mode), 0);
	free(p);
}

static void chmod_name(const char *name, mode_t mode)
{
	char *p = testlib_path(name);

	assert_int_equal(chmod(p, mode), 0);
	free(p);
}

static void put(const char *name, const char *text)
{
	char *p = testlib_path(name);

	testlib_write_text(p, text);
	free(p);
}

static bool there(const char *name)
{
	char *p = testlib_path(name);
	bool yes = testlib_exists(p);

	free(p);
	return yes;
}

static void symlink_to(const char *target, const char *name)
{
	char *p = testlib_path(name);

	assert_int_equal(symlink(target, p), 0);
	free(p);
}

/* The outside world every case must leave alone: a file and a directory next to the tree. */
static void make_outside(void)
{
	mkdir_mode("outside", 0755);
	put("outside/keep", "k");
}

static void tree_plain_file(void)
{
	put("t", "x");
}

static void tree_empty_dir(void)
{
	mkdir_mode("t", 0755);
}

/* tar keeps read-only directories read-only; their entries must go all the same */
static void tree_read_only(void)
{
	mkdir_mode("t", 0755);
	mkdir_mode("t/a", 0755);
	mkdir_mode("t/a/b", 0755);
	put("t/a/b/file", "x");
	put("t/a/top", "y");
	chmod_name("t/a/b", 0555);
	chmod_name("t/a", 0500);
	chmod_name("t", 0000);
}

/* symlinks into the outside world, relative and absolute, to a dir and a file */
static void tree_symlinks(void)
{
	char *abs = testlib_path("outside");

	mkdir_mode("t", 0755);
	symlink_to("../outside", "t/rel");
	symlink_to(abs, "t/abs");
	symlink_to("../outside/keep", "t/file");
	symlink_to("/nonexistent/dangling", "t/dangling");
	free(abs);
}

/* the name itself is a symlink to a directory: the link goes, the directory stays */
static void tree_link_itself(void)
{
	symlink_to("outside", "t");
}

static void tree_deep(void)
{
	char path[64] = "t";

	mkdir_mode("t", 0755);
	for (int i = 0; i < 20; i++) {
		strcat(path, "/d");
		mkdir_mode(path, 0755);
	}
	strcat(path, "/f");
	put(path, "deep");
}

static void test_rmtree(void **state)
{
	static const struct {
		const char *name;
		void (*make)(void);
	} cases[] = {
		{ "plain file", tree_plain_file },    { "empty dir", tree_empty_dir },
		{ "read-only dirs", tree_read_only }, { "symlinks", tree_symlinks },
		{ "link itself", tree_link_itself },  { "deep", tree_deep },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* each case in a directory of its own, relative to a dir fd and then by path */
		for (int by_path = 0; by_path < 2; by_path++) {
			char *t;
			int dfd;

			print_message("rmtree: %s (%s)\n", cases[i].name, by_path ? "path" : "dirfd");
			assert_int_equal(testlib_setup_tmpdir(NULL), 0);
			make_outside();
			cases[i].make();
			t = testlib_path("t");
			dfd = open(testlib_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			assert_true(dfd >= 0);
			assert_int_equal(by_path ? fsutil_rmtree(AT_FDCWD, t) : fsutil_rmtree(dfd, "t"), 0);
			close(dfd);
			assert_false(there("t"));
			assert_true(there("outside/keep"));
			free(t);
			assert_int_equal(testlib_teardown_tmpdir(NULL), 0);
		}
	}
}

static void test_rmtree_edges(void **state)
{
	char *gone = testlib_path("never-was");

	(void)state;
	assert_int_equal(fsutil_rmtree(AT_FDCWD, gone), 0);
	assert_int_equal(fsutil_rmtree(AT_FDCWD, ""), -EINVAL);
	assert_int_equal(fsutil_rmtree(AT_FDCWD, NULL), -EINVAL);
	assert_int_equal(fsutil_rmtree(-1, "relative"), -EBADF);
	free(gone);
}

static void test_mkdirs(void **state)
{
	char *deep = testlib_path("a/b/c/d"), *file = testlib_path("f"), *under = testlib_path("f/x");
	char *slash = testlib_asprintf("%s/e/f/", testlib_dir), *link = testlib_path("l");
	char toolong[5000];
	struct stat st;

	(void)state;
	assert_int_equal(fsutil_mkdirs(deep, 0750), 0);
	assert_int_equal(stat(deep, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(fsutil_mkdirs(deep, 0750), 0); /* exists: fine */
	assert_int_equal(fsutil_mkdirs(slash, 0755), 0);
	assert_true(there("e/f"));
	/* something that is not a directory is in the way */
	testlib_write_text(file, "x");
	assert_int_equal(fsutil_mkdirs(file, 0755), -ENOTDIR);
	assert_int_equal(fsutil_mkdirs(under, 0755), -ENOTDIR);
	/* a symlink to a directory is a directory */
	assert_int_equal(symlink("a", link), 0);
	assert_int_equal(fsutil_mkdirs(link, 0755), 0);
	assert_int_equal(fsutil_mkdirs("", 0755), -EINVAL);
	memset(toolong, 'x', sizeof(toolong) - 1);
	toolong[sizeof(toolong) - 1] = '\0';
	assert_int_equal(fsutil_mkdirs(toolong, 0755), -ENAMETOOLONG);
	free(deep);
	free(file);
	free(under);
	free(slash);
	free(link);
}

static void test_read_file(void **state)
{
	char *f = testlib_path("f"), *d = testlib_path("d"), *l = testlib_path("l"), *text = NULL;
	size_t len = 0;

	(void)state;
	testlib_write_file(f, "ab\0cd", 5);
	assert_int_equal(fsutil_read_file(f, 5, &text, &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(text, "ab\0cd", 6); /* NUL-terminated after the data */
	free(text);
	assert_int_equal(fsutil_read_file(f, 4, &text, &len), -EFBIG);
	assert_int_equal(mkdir(d, 0755), 0);
	assert_int_equal(fsutil_read_file(d, 100, &text, &len), -EINVAL);
	assert_int_equal(symlink(f, l), 0);
	assert_int_equal(fsutil_read_file(l, 100, &text, &len), -ELOOP); /* never followed */
	free(l);
	l = testlib_path("missing");
	assert_int_equal(fsutil_read_file(l, 100, &text, &len), -ENOENT);
	free(f);
	free(d);
	free(l);
}

/* A pipe: no size known up front, and more than the hint. */
static void test_read_fd(void **state)
{
	static char big[100000];
	char *text = NULL;
	size_t len = 0;
	int fds[2];

	(void)state;
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	for (int over = 0; over < 2; over++) {
		assert_int_equal(pipe(fds), 0);
		assert_true(fcntl(fds[1], F_SETPIPE_SZ, 1 << 20) >= (int)sizeof(big));
		assert_int_equal(write(fds[1], big, sizeof(big)), (ssize_t)sizeof(big));
		close(fds[1]);
		if (over) {
			assert_int_equal(fsutil_read_fd(fds[0], 10, sizeof(big) - 1, &text, &len), -EFBIG);
		} else {
			assert_int_equal(fsutil_read_fd(fds[0], 10, sizeof(big), &text, &len), 0);
			assert_int_equal(len, sizeof(big));
			assert_memory_equal(text, big, len);
			assert_int_equal(text[len], '\0');
			free(text);
		}
		close(fds[0]);
	}
}

static size_t entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	closedir(d);
	return n;
}

static void test_write_atomic_and_copy(void **state)
{
	char *f = testlib_path("f"), *g = testlib_path("g"), *never = testlib_path("never");
	char *text;
	struct stat st;

	(void)state;
	assert_int_equal(fsutil_write_atomic(f, "first", 5), 0);
	assert_int_equal(fsutil_write_atomic(f, "second", 6), 0);
	text = testlib_read_file(f, NULL);
	assert_string_equal(text, "second");
	free(text);
	assert_int_equal(stat(f, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(fsutil_copy_file(f, g, 0755), 0);
	text = testlib_read_file(g, NULL);
	assert_string_equal(text, "second");
	free(text);
	assert_int_equal(stat(g, &st), 0);
	assert_true(st.st_mode & S_IXUSR);
	assert_int_equal(fsutil_copy_file(never, g, 0644), -ENOENT);
	/* the two files and nothing else: no temp file left behind */
	assert_int_equal(entries(testlib_dir), 2);
	free(f);
	free(g);
	free(never);
}

/* A FIFO or a device is refused at once, never waited on (the alarm fails a test that hangs). */
static void test_open_regular(void **state)
{
	char *f = testlib_path("f"), *fifo = testlib_path("fifo"), *l = testlib_path("l");
	char *g = testlib_path("g"), *text = NULL;
	struct stat st;
	size_t len = 0;
	int dfd, fd;

	(void)state;
	alarm(10);
	testlib_write_text(f, "abc");
	assert_int_equal(mkfifo(fifo, 0644), 0);
	assert_int_equal(symlink(f, l), 0);
	dfd = open(testlib_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);

	fd = fsutil_open_regular(dfd, "f", O_NOFOLLOW, &st);
	assert_true(fd >= 0);
	assert_int_equal(st.st_size, 3);
	assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	assert_int_equal(fsutil_open_regular(dfd, "fifo", 0, &st), -EINVAL);
	assert_int_equal(fsutil_open_regular(dfd, ".", 0, &st), -EINVAL);
	assert_int_equal(fsutil_open_regular(AT_FDCWD, "/dev/null", 0, &st), -EINVAL);
	assert_int_equal(fsutil_open_regular(dfd, "l", O_NOFOLLOW, &st), -ELOOP);
	fd = fsutil_open_regular(dfd, "l", 0, &st);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(fsutil_open_regular(dfd, "missing", 0, &st), -ENOENT);

	/* the readers built on it */
	assert_int_equal(fsutil_read_file(fifo, 100, &text, &len), -EINVAL);
	assert_int_equal(fsutil_copy_file(fifo, g, 0644), -EINVAL);
	assert_false(testlib_exists(g));
	assert_int_equal(fsutil_copy_file(l, g, 0644), 0); /* copies follow links */
	text = testlib_read_file(g, NULL);
	assert_string_equal(text, "abc");
	free(text);
	alarm(0);
	close(dfd);
	free(f);
	free(fifo);
	free(l);
	free(g);
}

static void test_path(void **state)
{
	char buf[8];

	(void)state;
	assert_int_equal(fsutil_path(buf, sizeof(buf), "%s/%s", "ab", "cde"), 0);
	assert_string_equal(buf, "ab/cde");
	assert_int_equal(fsutil_path(buf, sizeof(buf), "%s/%s", "abc", "defg"), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rmtree),
		cmocka_unit_test_setup_teardown(test_rmtree_edges, testlib_setup_tmpdir, testlib_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_mkdirs, testlib_setup_tmpdir, testlib_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_read_file, testlib_setup_tmpdir, testlib_teardown_tmpdir),
		cmocka_unit_test(test_read_fd),
		cmocka_unit_test_setup_teardown(test_write_atomic_and_copy, testlib_setup_tmpdir,
						testlib_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_open_regular, testlib_setup_tmpdir, testlib_teardown_tmpdir),
		cmocka_unit_test(test_path),
	};

	return cmocka_run_group_tests_name("fsutil", tests, NULL, NULL);
}
