/* test_extract.c - verified tarballs unpacked into STATE/src/NAME: complete, marked, or nothing. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "build/extract.h"
#include "lib/digest.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "testlib.h"

#define SHA_A "4d415b3d364834fd818270e88813e90323bbfce4f519a0e6bd4940ddcd7df693"
#define SHA_ZERO "0000000000000000000000000000000000000000000000000000000000000000"

/* ---- fixture: a tarball, a store, a build log (testlib_pkg) ---- */

struct fx {
	struct testlib_pkg pkg;
	char err[1024];
	char out[PATH_MAX];
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(testlib_setup_tmpdir(NULL), 0);
	testlib_pkg_make(&f->pkg);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	testlib_pkg_free(&f->pkg);
	free(f);
	return testlib_teardown_tmpdir(NULL);
}

static const struct source *fx_source(struct fx *f, const char *sha, uint64_t size_max,
				      const char *url1, const char *url2, const char *strip)
{
	return testlib_pkg_source(&f->pkg, sha, size_max, url1, url2, strip);
}

static char *fx_path(struct fx *f, const char *rel)
{
	return testlib_pkg_path(&f->pkg, rel);
}

static int fx_log_count(struct fx *f, const char *needle)
{
	return testlib_pkg_log_count(&f->pkg, needle);
}

static int fx_extract(struct fx *f, const struct source *s)
{
	f->err[0] = '\0';
	f->out[0] = '\0';
	return extract_source(s, f->pkg.store, f->pkg.log_fd, NULL, f->out, sizeof(f->out), f->err,
			      sizeof(f->err));
}

/* ---- extract ---- */

static void fx_assert_tree(struct fx *f)
{
	char *tree = fx_path(f, "src/pkg"), *p, *data, *want_marker, *tmp = fx_path(f, "tmp");
	size_t len;

	assert_string_equal(f->out, tree);
	p = testlib_asprintf("%s/hello.txt", tree);
	data = testlib_read_file(p, NULL);
	assert_non_null(data);
	assert_string_equal(data, TESTLIB_PKG_HELLO);
	free(data);
	free(p);
	p = testlib_asprintf("%s/sub/deep.bin", tree);
	data = testlib_read_file(p, &len);
	assert_non_null(data);
	assert_int_equal(len, TESTLIB_PKG_DEEP_LEN);
	assert_memory_equal(data, f->pkg.deep, TESTLIB_PKG_DEEP_LEN);
	free(data);
	free(p);
	p = testlib_asprintf("%s/" EXTRACT_MARKER, tree);
	data = testlib_read_file(p, NULL);
	want_marker = testlib_asprintf("%s\n", f->pkg.sha256);
	assert_non_null(data);
	assert_string_equal(data, want_marker);
	free(want_marker);
	free(data);
	free(p);
	p = testlib_asprintf("%s/junk", tree);
	assert_false(testlib_exists(p));
	free(p);
	assert_int_equal(testlib_dir_count(tmp), 0);
	free(tmp);
	free(tree);
}

static void test_extract_ok(void **state)
{
	struct fx *f = *state;
	const struct source *s = fx_source(f, f->pkg.sha256, 0, f->pkg.url, NULL, "pkg-1.0");

	assert_int_equal(fx_extract(f, s), 0);
	assert_string_equal(f->err, "");
	fx_assert_tree(f);
	assert_int_equal(fx_log_count(f, "$ tar "), 1);
}

/* A tree there already: without a marker (half extracted) or with another sha (old version). */
static void stale_tree(struct fx *f, const char *marker)
{
	char *p;

	p = fx_path(f, "src/pkg"); /* src/ is there: the fixture opened the store */
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	p = fx_path(f, "src/pkg/junk");
	testlib_write_file(p, "x", 1);
	free(p);
	if (marker) {
		p = fx_path(f, "src/pkg/" EXTRACT_MARKER);
		testlib_write_file(p, marker, strlen(marker));
		free(p);
	}
}

static void test_extract_replaces_unmarked(void **state)
{
	struct fx *f = *state;
	const struct source *s = fx_source(f, f->pkg.sha256, 0, f->pkg.url, NULL, "pkg-1.0");

	stale_tree(f, NULL);
	assert_int_equal(fx_extract(f, s), 0);
	fx_assert_tree(f);
	assert_int_equal(fx_log_count(f, "removing the incomplete or outdated"), 1);
}

static void test_extract_replaces_other_sha(void **state)
{
	struct fx *f = *state;
	const struct source *s = fx_source(f, f->pkg.sha256, 0, f->pkg.url, NULL, "pkg-1.0");

	stale_tree(f, SHA_A "\n");
	assert_int_equal(fx_extract(f, s), 0);
	fx_assert_tree(f);
}

static void test_extract_present_needs_nothing(void **state)
{
	struct fx *f = *state;
	const struct source *s = fx_source(f, f->pkg.sha256, 0, f->pkg.url, NULL, "pkg-1.0");
	char *placed = fx_path(f, "sources/pkg.tar.gz");

	assert_int_equal(fx_extract(f, s), 0);
	assert_int_equal(unlink(placed), 0);
	assert_int_equal(unlink(f->pkg.tarball), 0);
	assert_int_equal(fx_extract(f, s), 0);
	fx_assert_tree(f);
	assert_int_equal(fx_log_count(f, "$ tar "), 1);
	assert_int_equal(fx_log_count(f, "pkg: fetching"), 1);
	free(placed);
}

static void test_extract_wrong_strip(void **state)
{
	struct fx *f = *state;
	const struct source *s = fx_source(f, f->pkg.sha256, 0, f->pkg.url, NULL, "pkg-2.0");
	char *tree = fx_path(f, "src/pkg"), *tmp = fx_path(f, "tmp");
	char *want = testlib_asprintf("pkg: %s/sources/pkg.tar.gz has no top-level directory pkg-2.0", f->pkg.state);

	assert_int_equal(fx_extract(f, s), -ENOENT);
	assert_string_equal(f->err, want);
	assert_false(testlib_exists(tree));
	assert_int_equal(testlib_dir_count(tmp), 0);
	free(tree);
	free(tmp);
	free(want);
}

static void test_extract_bad_sha_never_extracts(void **state)
{
	struct fx *f = *state;
	const struct source *s = fx_source(f, SHA_ZERO, 0, f->pkg.url, NULL, "pkg-1.0");
	char *tree = fx_path(f, "src/pkg");

	assert_int_equal(fx_extract(f, s), -EBADMSG);
	assert_non_null(strstr(f->err, "sha256 mismatch"));
	assert_false(testlib_exists(tree));
	{
		char *file = fx_path(f, "sources/pkg.tar.gz"), *tmp = fx_path(f, "tmp");

		assert_false(testlib_exists(file));
		assert_int_equal(testlib_dir_count(tmp), 0);
		free(file);
		free(tmp);
	}
	assert_int_equal(fx_log_count(f, "$ tar "), 0);
	free(tree);
}

/* Right checksum, but not a tarball: tar's failure is reported and nothing is left behind. */
static void test_extract_tar_fails(void **state)
{
	struct fx *f = *state;
	char *bogus = testlib_asprintf("%s/origin/bogus.tar.gz", testlib_dir), *url = testlib_asprintf("file://%s", bogus);
	char *tree = fx_path(f, "src/pkg"), *tmp = fx_path(f, "tmp"), *want, hex[DIGEST_HEX_LEN];
	const struct source *s;

	testlib_write_file(bogus, "this is not gzip", 16);
	assert_int_equal(digest_sha256_buf("this is not gzip", 16, hex), 0);
	s = fx_source(f, hex, 0, url, NULL, "pkg-1.0");
	want = testlib_asprintf("pkg: tar failed (status 2) extracting %s/sources/pkg.tar.gz", f->pkg.state);
	assert_int_equal(fx_extract(f, s), -EIO);
	assert_string_equal(f->err, want);
	assert_false(testlib_exists(tree));
	assert_int_equal(testlib_dir_count(tmp), 0);
	free(bogus);
	free(url);
	free(tree);
	free(tmp);
	free(want);
}

struct extract_job {
	struct fx *f;
	const struct source *s;
	int rc;
	char err[512];
	char out[PATH_MAX];
};

static void *extract_thread(void *arg)
{
	struct extract_job *j = arg;

	j->rc = extract_source(j->s, j->f->pkg.store, j->f->pkg.log_fd, NULL, j->out, sizeof(j->out),
				j->err, sizeof(j->err));
	return NULL;
}

/* Builders asking for one source at once: one fetch, one tar, everyone gets the tree. */
static void test_extract_concurrent(void **state)
{
	struct fx *f = *state;
	const struct source *s = fx_source(f, f->pkg.sha256, 0, f->pkg.url, NULL, "pkg-1.0");
	struct extract_job jobs[4];
	pthread_t th[4];

	for (int i = 0; i < 4; i++) {
		jobs[i] = (struct extract_job){ .f = f, .s = s, .rc = -1 };
		assert_int_equal(pthread_create(&th[i], NULL, extract_thread, &jobs[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(jobs[i].rc, 0);
		assert_string_equal(jobs[i].err, "");
	}
	strcpy(f->out, jobs[0].out);
	fx_assert_tree(f);
	assert_int_equal(fx_log_count(f, "$ tar "), 1);
	assert_int_equal(fx_log_count(f, "pkg: fetching"), 1);
}

/* ---- fsutil_rmtree, which extraction cleans up with ---- */

static void test_remove_tree(void **state)
{
	struct fx *f = *state;
	char *t = testlib_asprintf("%s/t", testlib_dir), *p, *keep = testlib_asprintf("%s/origin/keep", testlib_dir);
	int dfd;

	testlib_write_file(keep, "k", 1);
	assert_int_equal(mkdir(t, 0755), 0);
	p = testlib_asprintf("%s/a", t);
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	p = testlib_asprintf("%s/a/b", t);
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	p = testlib_asprintf("%s/a/b/file", t);
	testlib_write_file(p, "x", 1);
	free(p);
	p = testlib_asprintf("%s/a/b", t);
	assert_int_equal(chmod(p, 0555), 0); /* read-only, as tar may leave it */
	free(p);
	p = testlib_asprintf("%s/link", t); /* must be removed, never followed */
	{
		char *target = testlib_asprintf("%s/origin", testlib_dir);

		assert_int_equal(symlink(target, p), 0);
		free(target);
	}
	free(p);
	dfd = open(testlib_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	assert_int_equal(fsutil_rmtree(dfd, "t"), 0);
	close(dfd);
	assert_false(testlib_exists(t));
	assert_true(testlib_exists(keep));
	assert_true(testlib_exists(f->pkg.tarball));
	assert_int_equal(fsutil_rmtree(AT_FDCWD, t), 0); /* gone already: fine */
	assert_int_equal(fsutil_rmtree(AT_FDCWD, ""), -EINVAL);
	free(t);
	free(keep);
}

#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_extract_ok),
		T(test_extract_replaces_unmarked),
		T(test_extract_replaces_other_sha),
		T(test_extract_present_needs_nothing),
		T(test_extract_wrong_strip),
		T(test_extract_bad_sha_never_extracts),
		T(test_extract_tar_fails),
		T(test_extract_concurrent),
		T(test_remove_tree),
	};
	int rc;

	/* the daemon's main does this once: extraction fetches the tarball first */
	if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
		return 1;
	setenv("no_proxy", "*", 1);
	log_set_level(LOG_LEVEL_WARN);
	rc = cmocka_run_group_tests_name("extract", tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
