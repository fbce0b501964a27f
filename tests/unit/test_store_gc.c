/* test_store_gc.c - build/store_gc on a real state directory: the scan reads manifests, sizes and
 * times; a removal takes the index and memo entries first, then the directories, and leaves
 * nothing in tmp/ and nothing the index names missing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "build/served.h"
#include "build/store.h"
#include "build/store_gc.h"
#include "testlib.h"

#define HASH(c) c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
		c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c

static const char *const art_a = HASH("a"), *const art_b = HASH("b");
static const char *const kern_1 = HASH("1"), *const kern_2 = HASH("2");

static void fake_artifact(const char *state, const char *art, const char *kernel, size_t bytes)
{
	char *dir = testlib_asprintf("%s/artifacts/%s", state, art), *p, *m;
	char *data = calloc(1, bytes);

	assert_non_null(data);
	assert_int_equal(mkdir(dir, 0755), 0);
	p = testlib_asprintf("%s/bzImage", dir);
	testlib_write_file(p, data, bytes);
	free(p);
	p = testlib_asprintf("%s/manifest.json", dir);
	m = testlib_asprintf("{\"variant\": \"net\", \"kernel_key\": \"%s\", \"busybox_key\": \"\"}", kernel);
	testlib_write_text(p, m);
	free(m);
	free(p);
	free(data);
	free(dir);
}

static void test_store_gc_scan_and_remove(void **state)
{
	char *dir = testlib_path("state"), *p;
	struct store_gc_list l;
	struct store *st;
	size_t ia = 0;

	(void)state;
	assert_int_equal(store_open(dir, &st), 0);
	fake_artifact(dir, art_a, kern_1, 1000);
	fake_artifact(dir, art_b, kern_2, 3000);
	p = testlib_asprintf("%s/kernels/%s", dir, kern_2);
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	p = testlib_asprintf("%s/kernels/%s/bzImage", dir, kern_2);
	testlib_write_text(p, "kernel");
	free(p);
	/* two builds index A and B; memo entries name both kernels */
	p = testlib_asprintf("%s/index/%s", dir, HASH("c"));
	testlib_write_text(p, art_a);
	free(p);
	p = testlib_asprintf("%s/index/%s", dir, HASH("d"));
	testlib_write_text(p, art_b);
	free(p);
	p = testlib_asprintf("%s/memo", dir);
	mkdir(p, 0755);
	free(p);
	p = testlib_asprintf("%s/memo/kernel-%s", dir, HASH("e"));
	testlib_write_text(p, kern_1);
	free(p);
	p = testlib_asprintf("%s/memo/kernel-%s", dir, HASH("f"));
	testlib_write_text(p, kern_2);
	free(p);
	served_note(store_served(st), art_a);

	assert_int_equal(store_gc_scan(st, &l), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.nobjects, 1);
	if (strcmp(l.items[0].artifact, art_a) != 0)
		ia = 1;
	assert_string_equal(l.items[ia].artifact, art_a);
	assert_string_equal(l.items[ia].variant, "net");
	assert_string_equal(l.items[ia].kernel_key, kern_1);
	assert_true(l.items[ia].bytes > 1000);
	assert_true(l.items[ia].last_served >= l.items[ia].built); /* just served */
	assert_true(l.items[1 - ia].bytes > 3000);
	assert_int_equal(l.objects[0].bytes, 6);

	/* B and its kernel go */
	l.items[1 - ia].why = "cache-max-size";
	l.objects[0].why = "unused";
	assert_int_equal(store_gc_remove(st, &l), 0);
	store_gc_list_free(&l);

	p = testlib_asprintf("%s/artifacts/%s", dir, art_b);
	assert_false(testlib_exists(p));
	free(p);
	p = testlib_asprintf("%s/artifacts/%s/bzImage", dir, art_a);
	assert_true(testlib_exists(p));
	free(p);
	p = testlib_asprintf("%s/index/%s", dir, HASH("d"));
	assert_false(testlib_exists(p));
	free(p);
	p = testlib_asprintf("%s/index/%s", dir, HASH("c"));
	assert_true(testlib_exists(p));
	free(p);
	p = testlib_asprintf("%s/kernels/%s", dir, kern_2);
	assert_false(testlib_exists(p));
	free(p);
	p = testlib_asprintf("%s/memo/kernel-%s", dir, HASH("f"));
	assert_false(testlib_exists(p));
	free(p);
	p = testlib_asprintf("%s/memo/kernel-%s", dir, HASH("e"));
	assert_true(testlib_exists(p));
	free(p);
	p = testlib_asprintf("%s/tmp", dir);
	assert_int_equal(testlib_dir_count(p), 0);
	free(p);
	store_free(st);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_store_gc_scan_and_remove, testlib_setup_tmpdir,
						testlib_teardown_tmpdir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
