/* test_fetch_cancel.c - a stopping daemon cancels source downloads and extractions: a stalled
 * transfer ends within seconds, the next mirror is not tried, nothing half-written stays. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "build/extract.h"
#include "build/fetch.h"
#include "lib/log.h"
#include "testlib.h"

struct fx {
	struct testlib_pkg pkg;
	struct testlib_http *httpd;
	volatile int cancel;
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

static double fx_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 100 MB announced, 2 KiB a second sent (faster than libcurl's give-up speed, so only a cancel
 * ends it); the daemon is told to stop once the first bytes are out. At most 20 s. */
static void fx_trickle(int fd, const char *path, void *arg)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\nConnection: close\r\n\r\n";
	struct fx *f = arg;
	char chunk[512];

	(void)path;
	memset(chunk, 'x', sizeof(chunk));
	testlib_http_send(fd, head, sizeof(head) - 1);
	for (int i = 0; i < 80; i++) {
		if (send(fd, chunk, sizeof(chunk), MSG_NOSIGNAL) < 0)
			return;
		if (i == 4)
			f->cancel = 1;
		usleep(250 * 1000);
	}
}

static void fx_assert_nothing_placed(struct fx *f)
{
	char *file = testlib_pkg_path(&f->pkg, "sources/pkg.tar.gz");
	char *tmp = testlib_pkg_path(&f->pkg, "tmp");
	char *tree = testlib_pkg_path(&f->pkg, "src/pkg");

	assert_false(testlib_exists(file));
	assert_false(testlib_exists(tree));
	assert_int_equal(testlib_dir_count(tmp), 0);
	free(file);
	free(tmp);
	free(tree);
}

static void test_cancel_stalled_download(void **state)
{
	struct fx *f = *state;
	const struct source *s;
	char *url;
	double start;

	f->httpd = testlib_http_start(fx_trickle, f);
	url = testlib_http_url(f->httpd, "/pkg.tar.gz");
	/* the second mirror would succeed: a cancel must not go on to it */
	s = testlib_pkg_source(&f->pkg, f->pkg.sha256, 0, url, f->pkg.url, "pkg-1.0");
	start = fx_now();
	assert_int_equal(fetch_source(s, f->pkg.store, f->pkg.log_fd, &f->cancel, f->out, sizeof(f->out),
				      f->err, sizeof(f->err)),
			 -ECANCELED);
	assert_true(fx_now() - start < 6);
	assert_non_null(strstr(f->err, "cancelled"));
	assert_int_equal(testlib_pkg_log_count(&f->pkg, "pkg: fetching"), 1);
	fx_assert_nothing_placed(f);
	free(url);
}

static void test_cancel_before_start(void **state)
{
	struct fx *f = *state;
	const struct source *s = testlib_pkg_source(&f->pkg, f->pkg.sha256, 0, f->pkg.url, NULL, "pkg-1.0");

	f->cancel = 1;
	assert_int_equal(fetch_source(s, f->pkg.store, f->pkg.log_fd, &f->cancel, f->out, sizeof(f->out),
				      f->err, sizeof(f->err)),
			 -ECANCELED);
	assert_int_equal(testlib_pkg_log_count(&f->pkg, "pkg: fetching"), 0);
	assert_int_equal(extract_source(s, f->pkg.store, f->pkg.log_fd, &f->cancel, f->out, sizeof(f->out),
					f->err, sizeof(f->err)),
			 -ECANCELED);
	assert_int_equal(testlib_pkg_log_count(&f->pkg, "tar "), 0);
	fx_assert_nothing_placed(f);
	/* no cancel: the same source is fetched and extracted as ever */
	f->cancel = 0;
	assert_int_equal(extract_source(s, f->pkg.store, f->pkg.log_fd, &f->cancel, f->out, sizeof(f->out),
					f->err, sizeof(f->err)),
			 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_cancel_stalled_download),
		T(test_cancel_before_start),
	};
	int rc;

	if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
		return 1;
	setenv("no_proxy", "*", 1);
	log_set_level(LOG_LEVEL_WARN);
	rc = cmocka_run_group_tests_name("fetch_cancel", tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
