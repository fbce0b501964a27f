/* test_nextboot.c - boot/nextboot: set, get, clear, take once, give back, the file across a
 * reopen, a broken file, a write that fails; and the route's PUT and DELETE methods. */
#include <errno.h>
#include <pthread.h>
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

#include "boot/nextboot.h"
#include "build/store.h"
#include "http/routes.h"
#include "http/urlname.h"
#include "testlib.h"

static struct nextboot *open_at(const char *path)
{
	struct nextboot *nb = NULL;
	char err[256] = "";

	assert_int_equal(nextboot_open(path, &nb, err, sizeof(err)), 0);
	assert_non_null(nb);
	return nb;
}

static struct nextboot_entry variant(const char *v)
{
	struct nextboot_entry e = { .action = NEXTBOOT_VARIANT };

	snprintf(e.variant, sizeof(e.variant), "%s", v);
	return e;
}

static void test_set_get_clear(void **state)
{
	char *path = testlib_path("next.json");
	struct nextboot *nb = open_at(path);
	struct nextboot_entry e = variant("net+debug"), local = { .action = NEXTBOOT_LOCAL }, got;

	(void)state;
	nextboot_get(nb, "pc1", &got);
	assert_int_equal(got.action, NEXTBOOT_NONE);
	assert_false(testlib_exists(path)); /* nothing written until something is set */
	assert_int_equal(nextboot_set(nb, "pc1", &e), 0);
	nextboot_get(nb, "pc1", &got);
	assert_int_equal(got.action, NEXTBOOT_VARIANT);
	assert_string_equal(got.variant, "net+debug");
	assert_true(got.set_at > 0);
	assert_int_equal(nextboot_set(nb, "pc2", &local), 0);
	nextboot_get(nb, "pc2", &got);
	assert_int_equal(got.action, NEXTBOOT_LOCAL);
	assert_string_equal(got.variant, "");
	assert_int_equal(nextboot_clear(nb, "pc1"), 0);
	assert_int_equal(nextboot_clear(nb, "pc1"), -ENOENT);
	nextboot_get(nb, "pc1", &got);
	assert_int_equal(got.action, NEXTBOOT_NONE);
	nextboot_free(nb);
	free(path);
}

static void test_bad_input_refused(void **state)
{
	char *path = testlib_path("next.json");
	struct nextboot *nb = open_at(path);
	struct nextboot_entry none = { 0 }, e = variant("net");

	(void)state;
	assert_int_equal(nextboot_set(nb, "Bad Name", &e), -EINVAL);
	assert_int_equal(nextboot_set(nb, "../x", &e), -EINVAL);
	assert_int_equal(nextboot_set(nb, "pc1", &none), -EINVAL);
	e = variant("net;reboot");
	assert_int_equal(nextboot_set(nb, "pc1", &e), -EINVAL);
	e = variant("");
	assert_int_equal(nextboot_set(nb, "pc1", &e), -EINVAL);
	assert_false(testlib_exists(path));
	nextboot_free(nb);
	free(path);
}

/* A variant is taken once; local stays; a reopen sees what was taken, and what was not. */
static void test_take_once_and_reopen(void **state)
{
	char *path = testlib_path("next.json");
	struct nextboot *nb = open_at(path);
	struct nextboot_entry e = variant("net32"), local = { .action = NEXTBOOT_LOCAL }, got;

	(void)state;
	assert_int_equal(nextboot_set(nb, "pc1", &e), 0);
	assert_int_equal(nextboot_set(nb, "pc2", &local), 0);
	assert_int_equal(nextboot_set(nb, "pc3", &e), 0);
	assert_int_equal(nextboot_take(nb, "pc1", &got), 0);
	assert_int_equal(got.action, NEXTBOOT_VARIANT);
	assert_string_equal(got.variant, "net32");
	assert_int_equal(nextboot_take(nb, "pc1", &got), 0);
	assert_int_equal(got.action, NEXTBOOT_NONE);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(nextboot_take(nb, "pc2", &got), 0);
		assert_int_equal(got.action, NEXTBOOT_LOCAL);
	}
	nextboot_free(nb);

	nb = open_at(path);
	nextboot_get(nb, "pc1", &got);
	assert_int_equal(got.action, NEXTBOOT_NONE); /* taken is gone from the file too */
	nextboot_get(nb, "pc2", &got);
	assert_int_equal(got.action, NEXTBOOT_LOCAL);
	nextboot_get(nb, "pc3", &got);
	assert_int_equal(got.action, NEXTBOOT_VARIANT);
	assert_string_equal(got.variant, "net32");
	nextboot_free(nb);
	free(path);
}

/* Given back when the boot could not be created, unless another was set meanwhile. */
static void test_untake(void **state)
{
	char *path = testlib_path("next.json");
	struct nextboot *nb = open_at(path);
	struct nextboot_entry e = variant("net32"), other = variant("net"), got, taken;

	(void)state;
	assert_int_equal(nextboot_set(nb, "pc1", &e), 0);
	assert_int_equal(nextboot_take(nb, "pc1", &taken), 0);
	assert_int_equal(nextboot_untake(nb, "pc1", &taken), 0);
	nextboot_get(nb, "pc1", &got);
	assert_string_equal(got.variant, "net32");
	assert_int_equal(nextboot_take(nb, "pc1", &taken), 0);
	assert_int_equal(nextboot_set(nb, "pc1", &other), 0);
	assert_int_equal(nextboot_untake(nb, "pc1", &taken), 0);
	nextboot_get(nb, "pc1", &got);
	assert_string_equal(got.variant, "net"); /* the newer one stays */
	nextboot_free(nb);
	free(path);
}

#define RACERS 8

struct racer {
	struct nextboot *nb;
	pthread_barrier_t *go;
	struct nextboot_entry got;
};

static void *race(void *arg)
{
	struct racer *r = arg;

	pthread_barrier_wait(r->go);
	nextboot_take(r->nb, "pc1", &r->got);
	return NULL;
}

/* Of boots at once, exactly one gets the variant. */
static void test_take_races(void **state)
{
	char *path = testlib_path("next.json");
	struct nextboot *nb = open_at(path);
	struct nextboot_entry e = variant("net32");
	struct racer racers[RACERS];
	pthread_t threads[RACERS];
	pthread_barrier_t go;
	int winners = 0;

	(void)state;
	for (int round = 0; round < 20; round++) {
		assert_int_equal(nextboot_set(nb, "pc1", &e), 0);
		pthread_barrier_init(&go, NULL, RACERS);
		for (int i = 0; i < RACERS; i++) {
			racers[i] = (struct racer){ .nb = nb, .go = &go };
			assert_int_equal(pthread_create(&threads[i], NULL, race, &racers[i]), 0);
		}
		winners = 0;
		for (int i = 0; i < RACERS; i++) {
			pthread_join(threads[i], NULL);
			winners += racers[i].got.action == NEXTBOOT_VARIANT;
		}
		pthread_barrier_destroy(&go);
		assert_int_equal(winners, 1);
	}
	nextboot_free(nb);
	free(path);
}

/* A file that is not JSON is kept aside and no override holds; bad entries are dropped. */
static void test_broken_file(void **state)
{
	char *path = testlib_path("next.json"), *bad = testlib_path("next.json.bad");
	struct nextboot *nb;
	struct nextboot_entry got;

	(void)state;
	testlib_write_text(path, "{\"pc1\": {\"variant\": \"net\"");
	nb = open_at(path);
	nextboot_get(nb, "pc1", &got);
	assert_int_equal(got.action, NEXTBOOT_NONE);
	assert_true(testlib_exists(bad));
	nextboot_free(nb);

	testlib_write_text(path, "{\"pc1\": {\"variant\": \"net\", \"set_at\": 5}, \"Bad/\": {\"action\": \"local\"},"
			   " \"pc2\": {\"action\": \"reboot\"}, \"pc3\": {\"variant\": \"a b\"}, \"pc4\": 7,"
			   " \"pc5\": {\"action\": \"local\"}}");
	nb = open_at(path);
	nextboot_get(nb, "pc1", &got);
	assert_int_equal(got.action, NEXTBOOT_VARIANT);
	assert_int_equal(got.set_at, 5);
	nextboot_get(nb, "pc5", &got);
	assert_int_equal(got.action, NEXTBOOT_LOCAL);
	for (const char *const *n = (const char *const[]){ "Bad/", "pc2", "pc3", "pc4", NULL }; *n; n++) {
		nextboot_get(nb, *n, &got);
		assert_int_equal(got.action, NEXTBOOT_NONE);
	}
	nextboot_free(nb);
	free(path);
	free(bad);
}

/* A write that fails changes nothing in memory, and a take that cannot be written takes nothing
 * (the directory of the file is replaced by a plain file: ENOTDIR, also as root). */
static void test_failed_write_changes_nothing(void **state)
{
	char *dir = testlib_path("sub"), *path = testlib_asprintf("%s/sub/next.json", testlib_dir);
	struct nextboot *nb;
	struct nextboot_entry e = variant("net32"), other = variant("net"), got;

	(void)state;
	assert_int_equal(mkdir(dir, 0755), 0);
	nb = open_at(path);
	assert_int_equal(nextboot_set(nb, "pc1", &e), 0);
	assert_int_equal(testlib_rmtree(dir), 0);
	testlib_write_text(dir, "not a directory\n");
	assert_int_equal(nextboot_set(nb, "pc1", &other), -ENOTDIR);
	nextboot_get(nb, "pc1", &got);
	assert_string_equal(got.variant, "net32");
	assert_int_equal(nextboot_take(nb, "pc1", &got), -ENOTDIR);
	assert_int_equal(got.action, NEXTBOOT_NONE);
	nextboot_get(nb, "pc1", &got);
	assert_string_equal(got.variant, "net32");
	assert_int_equal(nextboot_clear(nb, "pc1"), -ENOTDIR);
	nextboot_get(nb, "pc1", &got);
	assert_string_equal(got.variant, "net32");
	nextboot_free(nb);
	free(dir);
	free(path);
}

static void test_entry_json(void **state)
{
	struct nextboot_entry e = variant("net"), local = { .action = NEXTBOOT_LOCAL, .set_at = 9 }, none = { 0 };
	json_t *j;

	(void)state;
	e.set_at = 7;
	j = nextboot_entry_json(&e);
	assert_string_equal(json_string_value(json_object_get(j, "variant")), "net");
	assert_int_equal(json_integer_value(json_object_get(j, "set_at")), 7);
	assert_null(json_object_get(j, "action"));
	json_decref(j);
	j = nextboot_entry_json(&local);
	assert_string_equal(json_string_value(json_object_get(j, "action")), "local");
	assert_null(json_object_get(j, "variant"));
	json_decref(j);
	j = nextboot_entry_json(&none);
	assert_true(json_is_null(j));
	json_decref(j);
}

static void test_names(void **state)
{
	char *path = testlib_path("next.json");
	struct nextboot *nb = open_at(path);
	struct nextboot_entry e = variant("net");
	char(*names)[NEXTBOOT_NAME_MAX + 1] = NULL;
	size_t n = 99;

	(void)state;
	assert_int_equal(nextboot_names(nb, &names, &n), 0);
	assert_int_equal(n, 0);
	free(names);
	assert_int_equal(nextboot_set(nb, "mac-525400000b01", &e), 0);
	assert_int_equal(nextboot_names(nb, &names, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(names[0], "mac-525400000b01");
	free(names);
	nextboot_free(nb);
	free(path);
}

/* STATE/next.json is spelled by the store, like every other name in STATE. */
static void test_store_layout(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(store_layout_file("/s", STORE_FILE_NEXT, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/s/next.json");
	assert_int_equal(store_layout_file("/s", STORE_FILE_COUNT, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(store_layout_file("/a-long-state-directory-name", STORE_FILE_NEXT, buf, 16), -ENAMETOOLONG);
}

/* The route takes GET, PUT and DELETE; the Allow header lists them; POST is not among them. */
static void test_route_methods(void **state)
{
	const char *args[HTTP_REQUEST_ARGS_MAX] = { NULL, NULL };
	char split[] = "/api/v1/machines/pc1/next";
	char *parts[URLNAME_MAX_COMPONENTS];
	int n = urlname_split(split, parts, URLNAME_MAX_COMPONENTS);
	const struct http_route *r = http_routes_find(parts, n, args);
	struct http_route put = { .methods = HTTP_ROUTE_PUT }, del = { .methods = HTTP_ROUTE_DELETE };
	struct http_route all = { .methods = HTTP_ROUTE_METHODS_ALL };

	(void)state;
	assert_non_null(r);
	assert_string_equal(r->pattern, "/api/v1/machines/*/next");
	assert_string_equal(args[0], "pc1");
	assert_string_equal(http_routes_allow(r), "GET, HEAD, PUT, DELETE");
	assert_true(http_routes_allows(r, "GET"));
	assert_true(http_routes_allows(r, "HEAD"));
	assert_true(http_routes_allows(r, "PUT"));
	assert_true(http_routes_allows(r, "DELETE"));
	assert_false(http_routes_allows(r, "POST"));
	assert_false(http_routes_allows(r, "put"));
	assert_string_equal(http_routes_allow(&put), "PUT");
	assert_string_equal(http_routes_allow(&del), "DELETE");
	assert_string_equal(http_routes_allow(&all), "GET, HEAD, POST, PUT, DELETE");
	assert_false(http_routes_allows(&put, "GET"));
	assert_false(http_routes_allows(&del, "PUT"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_set_get_clear, testlib_setup_tmpdir, testlib_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_bad_input_refused, testlib_setup_tmpdir, testlib_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_take_once_and_reopen, testlib_setup_tmpdir, testlib_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_untake, testlib_setup_tmpdir, testlib_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_take_races, testlib_setup_tmpdir, testlib_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_broken_file, testlib_setup_tmpdir, testlib_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_failed_write_changes_nothing, testlib_setup_tmpdir,
						testlib_teardown_tmpdir),
		cmocka_unit_test(test_entry_json),
		cmocka_unit_test_setup_teardown(test_names, testlib_setup_tmpdir, testlib_teardown_tmpdir),
		cmocka_unit_test(test_store_layout),
		cmocka_unit_test(test_route_methods),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
