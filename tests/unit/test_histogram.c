/* test_histogram.c - lib/histogram.c: observations land in the first bucket whose bound they do
 * not exceed (Prometheus' le), counts come out cumulative, the sum in seconds; and
 * build/store_usage.c: an area's objects and bytes, and a walk cut at its budget. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "build/store.h"
#include "build/store_usage.h"
#include "lib/histogram.h"
#include "testlib.h"

static void test_buckets_are_cumulative_le(void **state)
{
	static const double bounds[] = { 1, 5, 15 };
	static const struct {
		double value;
		uint64_t cumulative[4]; /* after this and every earlier observation */
	} steps[] = {
		{ 1, { 1, 1, 1, 1 } },      /* on the bound: le="1" */
		{ 0.2, { 2, 2, 2, 2 } },
		{ 5.000001, { 2, 2, 3, 3 } },
		{ 100, { 2, 2, 3, 4 } },    /* past the last bound: +Inf only */
		{ -3, { 3, 3, 4, 5 } },     /* a clock stepped back: 0 */
	};
	struct histogram h;
	struct histogram_snapshot s;

	(void)state;
	histogram_init(&h, bounds, 3);
	histogram_snapshot(&h, &s);
	assert_int_equal(s.count, 0);
	assert_int_equal(s.nbounds, 3);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		histogram_observe(&h, steps[i].value);
		histogram_snapshot(&h, &s);
		for (size_t b = 0; b < 4; b++)
			assert_int_equal(s.cumulative[b], steps[i].cumulative[b]);
		assert_int_equal(s.count, i + 1);
	}
	assert_true(s.sum > 106.19 && s.sum < 106.21);
}

static void test_too_many_bounds_are_cut(void **state)
{
	double bounds[HISTOGRAM_BOUNDS_MAX + 4];
	struct histogram h;
	struct histogram_snapshot s;

	(void)state;
	for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++)
		bounds[i] = (double)i + 1;
	histogram_init(&h, bounds, sizeof(bounds) / sizeof(bounds[0]));
	histogram_observe(&h, 1e12);
	histogram_snapshot(&h, &s);
	assert_int_equal(s.nbounds, HISTOGRAM_BOUNDS_MAX);
	assert_int_equal(s.cumulative[HISTOGRAM_BOUNDS_MAX - 1], 0);
	assert_int_equal(s.cumulative[HISTOGRAM_BOUNDS_MAX], 1);
}

static void test_store_usage_counts_and_stops_at_budget(void **state)
{
	struct store *s = NULL;
	struct store_usage u;
	char *dir = testlib_path("state"), *p;

	(void)state;
	assert_int_equal(store_open(dir, &s), 0);
	/* two artifacts: one of 3 + 4 bytes, one with a nested file of 10 bytes */
	p = testlib_asprintf("%s/artifacts/a", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	p = testlib_asprintf("%s/artifacts/a/bzImage", dir);
	testlib_write_text(p, "abc");
	free(p);
	p = testlib_asprintf("%s/artifacts/a/initrd", dir);
	testlib_write_text(p, "defg");
	free(p);
	p = testlib_asprintf("%s/artifacts/b", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	p = testlib_asprintf("%s/artifacts/b/sub", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	p = testlib_asprintf("%s/artifacts/b/sub/f", dir);
	testlib_write_text(p, "0123456789");
	free(p);

	assert_int_equal(store_usage_area(s, STORE_ARTIFACTS, 100, &u), 0);
	assert_int_equal(u.objects, 2);
	assert_int_equal(u.bytes, 17);
	assert_false(u.truncated);
	/* 6 entries in all: a budget of 3 stops short and says so */
	assert_int_equal(store_usage_area(s, STORE_ARTIFACTS, 3, &u), 0);
	assert_true(u.truncated);
	assert_true(u.bytes < 17);
	/* an area never made is empty, and the walk does not make it */
	assert_int_equal(store_usage_area(s, STORE_CCACHE, 100, &u), 0);
	assert_int_equal(u.objects, 0);
	p = testlib_asprintf("%s/ccache", dir);
	assert_false(testlib_exists(p));
	free(p);
	assert_string_equal(store_area_name(STORE_KERNELS), "kernels");
	store_free(s);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buckets_are_cumulative_le),
		cmocka_unit_test(test_too_many_bounds_are_cut),
		cmocka_unit_test_setup_teardown(test_store_usage_counts_and_stops_at_budget,
						testlib_setup_tmpdir, testlib_teardown_tmpdir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
