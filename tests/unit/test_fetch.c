/* test_fetch.c - source tarballs fetched over file:// and a local HTTP server, checked, kept. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

#include "build/fetch.h"
#include "lib/digest.h"
#include "lib/log.h"
#include "testlib.h"

#define SHA_A "4d415b3d364834fd818270e88813e90323bbfce4f519a0e6bd4940ddcd7df693"
#define SHA_ZERO "0000000000000000000000000000000000000000000000000000000000000000"

/* ---- fixture: a tarball, a store, a build log (testlib_pkg), maybe an HTTP server ---- */

struct fx {
	struct testlib_pkg pkg;
	struct testlib_http *httpd;
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

	testlib_http_stop(f->httpd);
	testlib_pkg_free(&f->pkg);
	free(f);
	return testlib_teardown_tmpdir(NULL);
}

/* A one-request answer per path; the redirect to file:// must be refused by the fetcher. */
static void fx_answer(int fd, const char *path, void *arg)
{
	struct fx *f = arg;
	char head[1024], junk[5000];
	size_t len = 0;
	char *body;

	memset(junk, 'j', sizeof(junk));
	if (strcmp(path, "/pkg.tar.gz") == 0) {
		body = testlib_read_file(f->pkg.tarball, &len);
		snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", len);
		testlib_http_send(fd, head, strlen(head));
		testlib_http_send(fd, body, len);
		free(body);
	} else if (strcmp(path, "/big.tar.gz") == 0) {
		/* announces far more than size-max, then sends 10 bytes and hangs up */
		snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\nConnection: close\r\n\r\n");
		testlib_http_send(fd, head, strlen(head));
		testlib_http_send(fd, junk, 10);
	} else if (strcmp(path, "/nolength.tar.gz") == 0) {
		snprintf(head, sizeof(head), "HTTP/1.0 200 OK\r\nConnection: close\r\n\r\n");
		testlib_http_send(fd, head, strlen(head));
		testlib_http_send(fd, junk, sizeof(junk));
	} else if (strcmp(path, "/to-file.tar.gz") == 0) {
		snprintf(head, sizeof(head), "HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
			 f->pkg.url);
		testlib_http_send(fd, head, strlen(head));
	} else if (strcmp(path, "/moved.tar.gz") == 0) {
		snprintf(head, sizeof(head), "HTTP/1.1 301 Moved\r\nLocation: /pkg.tar.gz\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
		testlib_http_send(fd, head, strlen(head));
	} else {
		snprintf(head, sizeof(head), "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
		testlib_http_send(fd, head, strlen(head));
	}
}

static void fx_httpd(struct fx *f)
{
	f->httpd = testlib_http_start(fx_answer, f);
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

static void fx_assert_placed(struct fx *f)
{
	char *want = fx_path(f, "sources/pkg.tar.gz"), *tmp = fx_path(f, "tmp");
	char hex[DIGEST_HEX_LEN];
	int fd;

	assert_string_equal(f->out, want);
	fd = open(want, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(digest_sha256_fd(fd, hex), 0);
	close(fd);
	assert_string_equal(hex, f->pkg.sha256);
	assert_int_equal(testlib_dir_count(tmp), 0);
	free(want);
	free(tmp);
}

static void fx_assert_nothing_placed(struct fx *f)
{
	char *file = fx_path(f, "sources/pkg.tar.gz"), *tmp = fx_path(f, "tmp");

	assert_false(testlib_exists(file));
	assert_int_equal(testlib_dir_count(tmp), 0);
	free(file);
	free(tmp);
}

static int fx_fetch(struct fx *f, const struct source *s)
{
	f->err[0] = '\0';
	f->out[0] = '\0';
	return fetch_source(s, f->pkg.store, f->pkg.log_fd, NULL, f->out, sizeof(f->out), f->err,
			    sizeof(f->err));
}

/* ---- fetch ---- */

static void test_fetch_ok(void **state)
{
	struct fx *f = *state;
	const struct source *s = fx_source(f, f->pkg.sha256, 1 << 20, f->pkg.url, NULL, "pkg-1.0");

	assert_int_equal(fx_fetch(f, s), 0);
	assert_string_equal(f->err, "");
	fx_assert_placed(f);
	assert_int_equal(fx_log_count(f, "pkg: fetching file://"), 1);
	assert_int_equal(fx_log_count(f, "sha256 ok"), 1);
}

static void test_fetch_bad_sha(void **state)
{
	struct fx *f = *state;
	const struct source *s = fx_source(f, SHA_ZERO, 0, f->pkg.url, NULL, "pkg-1.0");
	char *want = testlib_asprintf("pkg: sha256 mismatch from %s: expected %s, got %s", f->pkg.url, SHA_ZERO, f->pkg.sha256);

	assert_int_equal(fx_fetch(f, s), -EBADMSG);
	assert_string_equal(f->err, want);
	assert_int_equal(fx_log_count(f, want), 1);
	fx_assert_nothing_placed(f);
	free(want);
}

static void test_fetch_too_big(void **state)
{
	struct fx *f = *state;
	const struct source *s = fx_source(f, f->pkg.sha256, 1024, f->pkg.url, NULL, "pkg-1.0");
	char *want = testlib_asprintf("pkg: %s is larger than size-max (1024 bytes)", f->pkg.url);

	assert_int_equal(fx_fetch(f, s), -EFBIG);
	assert_string_equal(f->err, want);
	fx_assert_nothing_placed(f);
	free(want);
}

static void test_fetch_cached_no_network(void **state)
{
	struct fx *f = *state;
	const struct source *s = fx_source(f, f->pkg.sha256, 0, f->pkg.url, NULL, "pkg-1.0");

	assert_int_equal(fx_fetch(f, s), 0);
	assert_int_equal(unlink(f->pkg.tarball), 0);
	assert_int_equal(fx_fetch(f, s), 0);
	assert_string_equal(f->err, "");
	fx_assert_placed(f);
	assert_int_equal(fx_log_count(f, "pkg: fetching"), 1);
}

static void test_fetch_cached_corrupt_refetched(void **state)
{
	struct fx *f = *state;
	const struct source *s = fx_source(f, f->pkg.sha256, 0, f->pkg.url, NULL, "pkg-1.0");
	char *placed = fx_path(f, "sources/pkg.tar.gz");

	assert_int_equal(fx_fetch(f, s), 0);
	testlib_write_file(placed, "garbage", 7);
	assert_int_equal(fx_fetch(f, s), 0);
	fx_assert_placed(f);
	assert_int_equal(fx_log_count(f, "fetching again"), 1);
	assert_int_equal(fx_log_count(f, "pkg: fetching file://"), 2);
	free(placed);
}

static void test_fetch_first_url_missing(void **state)
{
	struct fx *f = *state;
	char *missing = testlib_asprintf("file://%s/origin/missing.tar.gz", testlib_dir);
	const struct source *s = fx_source(f, f->pkg.sha256, 0, missing, f->pkg.url, "pkg-1.0");

	assert_int_equal(fx_fetch(f, s), 0);
	assert_string_equal(f->err, "");
	fx_assert_placed(f);
	assert_int_equal(fx_log_count(f, "trying the next url"), 1);
	free(missing);
}

static void test_fetch_all_missing(void **state)
{
	struct fx *f = *state;
	char *m1 = testlib_asprintf("file://%s/origin/m1.tar.gz", testlib_dir);
	char *m2 = testlib_asprintf("file://%s/origin/m2.tar.gz", testlib_dir);
	const struct source *s = fx_source(f, f->pkg.sha256, 0, m1, m2, "pkg-1.0");
	char *want = testlib_asprintf("pkg: fetching %s failed: ", m2);

	assert_int_equal(fx_fetch(f, s), -ENOENT);
	assert_memory_equal(f->err, want, strlen(want));
	fx_assert_nothing_placed(f);
	free(m1);
	free(m2);
	free(want);
}

/* A mirror serving other bytes is reported even when a later mirror fails otherwise. */
static void test_fetch_mismatch_outranks(void **state)
{
	struct fx *f = *state;
	char *other = testlib_asprintf("%s/origin/other.tar.gz", testlib_dir);
	char *u1 = testlib_asprintf("file://%s", other);
	char *u2 = testlib_asprintf("file://%s/origin/m2.tar.gz", testlib_dir);
	const struct source *s = fx_source(f, f->pkg.sha256, 0, u1, u2, "pkg-1.0");
	char *want = testlib_asprintf("pkg: sha256 mismatch from %s: expected %s, got ", u1, f->pkg.sha256);

	testlib_write_file(other, "not the tarball", 15);
	assert_int_equal(fx_fetch(f, s), -EBADMSG);
	assert_memory_equal(f->err, want, strlen(want));
	fx_assert_nothing_placed(f);
	free(other);
	free(u1);
	free(u2);
	free(want);
}

static void test_fetch_path_too_small(void **state)
{
	struct fx *f = *state;
	const struct source *s = fx_source(f, f->pkg.sha256, 0, f->pkg.url, NULL, "pkg-1.0");
	char small[8];

	assert_int_equal(fetch_source(s, f->pkg.store, -1, NULL, small, sizeof(small), f->err,
				      sizeof(f->err)), -ENAMETOOLONG);
	assert_memory_equal(f->err, "pkg: ", 5);
}

static void test_fetch_bad_source(void **state)
{
	struct fx *f = *state;
	char *urls[] = { "file:///x/a.zip" };
	struct source s = { .name = "pkg", .sha256 = SHA_A, .size_max = 10, .urls = urls, .nurls = 1 };

	assert_int_equal(fx_fetch(f, &s), -EINVAL);
	assert_string_equal(f->err, "pkg: incomplete source definition");
	assert_int_equal(fetch_source(&s, NULL, -1, NULL, f->out, sizeof(f->out), f->err, sizeof(f->err)),
			 -EINVAL);
	assert_string_equal(f->err, "pkg: no state directory");
	s.name = "../x";
	assert_int_equal(fx_fetch(f, &s), -EINVAL);
	assert_string_equal(f->err, "(source): not a valid source name");
}

/* ---- fetch over HTTP ---- */

static void test_http_ok_after_404(void **state)
{
	struct fx *f = *state;
	char *u1, *u2;
	const struct source *s;

	fx_httpd(f);
	u1 = testlib_http_url(f->httpd, "/missing.tar.gz");
	u2 = testlib_http_url(f->httpd, "/moved.tar.gz"); /* a redirect within http is followed */
	s = fx_source(f, f->pkg.sha256, 1 << 20, u1, u2, "pkg-1.0");
	assert_int_equal(fx_fetch(f, s), 0);
	fx_assert_placed(f);
	assert_int_equal(fx_log_count(f, "returned error: 404"), 1);
	free(u1);
	free(u2);
}

static void test_http_content_length_over_cap(void **state)
{
	struct fx *f = *state;
	char *u, *want;
	const struct source *s;

	fx_httpd(f);
	u = testlib_http_url(f->httpd, "/big.tar.gz");
	s = fx_source(f, f->pkg.sha256, 1 << 20, u, NULL, "pkg-1.0");
	want = testlib_asprintf("pkg: %s is larger than size-max (1048576 bytes)", u);
	/* only an up-front refusal gives EFBIG: the body is 10 bytes, then the server hangs up */
	assert_int_equal(fx_fetch(f, s), -EFBIG);
	assert_string_equal(f->err, want);
	fx_assert_nothing_placed(f);
	free(u);
	free(want);
}

static void test_http_no_length_over_cap(void **state)
{
	struct fx *f = *state;
	char *u;
	const struct source *s;

	fx_httpd(f);
	u = testlib_http_url(f->httpd, "/nolength.tar.gz");
	s = fx_source(f, f->pkg.sha256, 1024, u, NULL, "pkg-1.0");
	assert_int_equal(fx_fetch(f, s), -EFBIG);
	fx_assert_nothing_placed(f);
	free(u);
}

static void test_http_redirect_to_file_refused(void **state)
{
	struct fx *f = *state;
	char *u;
	const struct source *s;

	fx_httpd(f);
	u = testlib_http_url(f->httpd, "/to-file.tar.gz");
	s = fx_source(f, f->pkg.sha256, 1 << 20, u, NULL, "pkg-1.0");
	assert_true(fx_fetch(f, s) < 0);
	assert_non_null(strstr(f->err, "failed"));
	fx_assert_nothing_placed(f);
	free(u);
}

#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_fetch_ok),
		T(test_fetch_bad_sha),
		T(test_fetch_too_big),
		T(test_fetch_cached_no_network),
		T(test_fetch_cached_corrupt_refetched),
		T(test_fetch_first_url_missing),
		T(test_fetch_all_missing),
		T(test_fetch_mismatch_outranks),
		T(test_fetch_path_too_small),
		T(test_fetch_bad_source),
		T(test_http_ok_after_404),
		T(test_http_content_length_over_cap),
		T(test_http_no_length_over_cap),
		T(test_http_redirect_to_file_refused),
	};
	int rc;

	/* the daemon's main does this once; the local test server must not go through a proxy */
	if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
		return 1;
	setenv("no_proxy", "*", 1);
	log_set_level(LOG_LEVEL_WARN);
	rc = cmocka_run_group_tests_name("fetch", tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
