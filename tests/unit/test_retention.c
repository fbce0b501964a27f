/* test_retention.c - the eviction policy (build/retention) against tables of artifacts and
 * objects: keep-builds, cache-max-size by least recently served, what is kept, objects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "build/retention.h"

/* Hash "N" repeated: artifacts a1..., kernel keys k1..., busybox keys b1.... */
static void retention_test_hash(char out[DIGEST_HEX_LEN], char c)
{
	memset(out, c, DIGEST_HEX_LEN - 1);
	out[DIGEST_HEX_LEN - 1] = '\0';
}

struct retention_test_art {
	char name, kernel, busybox;
	const char *variant;
	uint64_t bytes;
	double built, served;
	const char *keep;
	const char *want; /* why, or NULL */
};

struct retention_test_obj {
	enum store_area area;
	char key;
	uint64_t bytes;
	const char *want;
};

struct retention_test_case {
	const char *what;
	struct retention_policy policy;
	struct retention_test_art arts[6];
	struct retention_test_obj objs[4];
	uint64_t freed;
};

#define K STORE_KERNELS
#define B STORE_BUSYBOX
static const struct retention_test_case retention_cases[] = {
	{ "unlimited: nothing goes", { 0, 0, true },
	  { { '1', 'k', 'b', "net", 10, 1, 1, NULL, NULL }, { '2', 'k', 'b', "net", 10, 2, 2, NULL, NULL } },
	  { { K, 'k', 100, NULL }, { B, 'b', 50, NULL } }, 0 },
	{ "keep-builds 1: the older build of a variant goes, not another variant's", { 0, 1, true },
	  { { '1', 'k', 'b', "net", 10, 1, 9, NULL, "keep-builds" },
	    { '2', 'k', 'b', "net", 10, 2, 1, NULL, NULL },
	    { '3', 'k', 'b', "net+debug", 10, 1, 1, NULL, NULL } },
	  { { K, 'k', 100, NULL }, { B, 'b', 50, NULL } }, 10 },
	{ "keep-builds never takes a kept one", { 0, 1, true },
	  { { '1', 'k', 'b', "net", 10, 1, 1, "machines.conf", NULL },
	    { '2', 'k', 'b', "net", 10, 2, 1, NULL, NULL } },
	  { { 0 } }, 0 },
	{ "cache-max-size: least recently served first, until under", { 25, 0, true },
	  { { '1', 'k', 'b', "a", 10, 1, 5, NULL, NULL },
	    { '2', 'k', 'b', "b", 10, 2, 1, NULL, "cache-max-size" },
	    { '3', 'k', 'b', "c", 10, 3, 3, NULL, "cache-max-size" },
	    { '4', 'k', 'b', "d", 10, 4, 9, NULL, NULL } },
	  { { 0 } }, 20 },
	{ "cache-max-size spares kept ones and stops when only they are left", { 5, 0, true },
	  { { '1', 0, 0, "a", 10, 1, 1, "pinned", NULL },
	    { '2', 0, 0, "b", 10, 2, 2, NULL, "cache-max-size" },
	    { '3', 0, 0, "c", 10, 3, 3, "open boot", NULL } },
	  { { 0 } }, 10 },
	{ "an object goes with its last artifact, not before", { 0, 1, true },
	  { { '1', 'k', 'b', "net", 10, 1, 1, NULL, "keep-builds" },
	    { '2', 'k', 'c', "net", 10, 2, 1, NULL, NULL },
	    { '3', 'j', 'c', "net+x", 10, 1, 1, NULL, NULL } },
	  { { K, 'k', 100, NULL }, { B, 'b', 50, "unused" }, { B, 'c', 50, NULL }, { K, 'j', 100, NULL } },
	  60 },
	{ "objects stay while a build runs (policy.objects false)", { 0, 1, false },
	  { { '1', 'k', 'b', "net", 10, 1, 1, NULL, "keep-builds" },
	    { '2', 'j', 'c', "net", 10, 2, 1, NULL, NULL } },
	  { { K, 'k', 100, NULL }, { B, 'b', 50, NULL } }, 10 },
	{ "while a build runs objects do not count toward the size", { 100, 0, false },
	  { { '1', 'k', 'b', "a", 10, 1, 1, NULL, NULL }, { '2', 'j', 'c', "b", 10, 2, 2, NULL, NULL } },
	  { { K, 'k', 100, NULL }, { B, 'b', 50, NULL }, { K, 'o', 500, NULL } }, 0 },
	{ "objects count toward the size; freeing an artifact frees its objects", { 160, 0, true },
	  { { '1', 'k', 'b', "a", 10, 1, 1, NULL, "cache-max-size" },
	    { '2', 'j', 'c', "b", 10, 2, 2, NULL, NULL } },
	  { { K, 'k', 100, "unused" }, { B, 'b', 50, "unused" }, { K, 'j', 100, NULL }, { B, 'c', 50, NULL } },
	  160 },
	{ "under pressure objects no artifact uses go before any artifact", { 130, 0, true },
	  { { '1', 'k', 'b', "a", 10, 1, 1, NULL, NULL } },
	  { { K, 'k', 100, NULL }, { B, 'b', 20, NULL }, { K, 'o', 500, "unused" } }, 500 },
	{ "no pressure: an object no artifact uses stays (a failed build's kernel)", { 0, 3, true },
	  { { '1', 'k', 'b', "a", 10, 1, 1, NULL, NULL } },
	  { { K, 'o', 500, NULL } }, 0 },
	{ "ties in last served: the one built earlier goes", { 15, 0, true },
	  { { '1', 0, 0, "a", 10, 2, 7, NULL, NULL }, { '2', 0, 0, "b", 10, 1, 7, NULL, "cache-max-size" } },
	  { { 0 } }, 10 },
};
#undef K
#undef B

static void test_retention_cases(void **state)
{
	(void)state;
	for (size_t c = 0; c < sizeof(retention_cases) / sizeof(retention_cases[0]); c++) {
		const struct retention_test_case *tc = &retention_cases[c];
		struct retention_item items[6];
		struct retention_object objs[4];
		size_t n = 0, m = 0;
		uint64_t freed;

		memset(items, 0, sizeof(items));
		memset(objs, 0, sizeof(objs));
		for (; n < 6 && tc->arts[n].name; n++) {
			const struct retention_test_art *a = &tc->arts[n];

			retention_test_hash(items[n].artifact, a->name);
			if (a->kernel)
				retention_test_hash(items[n].kernel_key, a->kernel);
			if (a->busybox)
				retention_test_hash(items[n].busybox_key, a->busybox);
			snprintf(items[n].variant, sizeof(items[n].variant), "%s", a->variant);
			items[n].bytes = a->bytes;
			items[n].built = a->built;
			items[n].last_served = a->served;
			items[n].keep = a->keep;
		}
		for (; m < 4 && tc->objs[m].key; m++) {
			objs[m].area = tc->objs[m].area;
			retention_test_hash(objs[m].key, tc->objs[m].key);
			objs[m].bytes = tc->objs[m].bytes;
		}
		freed = retention_pick(&tc->policy, items, n, objs, m);
		for (size_t i = 0; i < n; i++) {
			const char *want = tc->arts[i].want, *got = items[i].why;

			if ((want == NULL) != (got == NULL) || (want && strcmp(want, got) != 0))
				fail_msg("%s: artifact %c: want %s, got %s", tc->what, tc->arts[i].name,
					 want ? want : "kept", got ? got : "kept");
		}
		for (size_t j = 0; j < m; j++) {
			const char *want = tc->objs[j].want, *got = objs[j].why;

			if ((want == NULL) != (got == NULL))
				fail_msg("%s: object %c: want %s, got %s", tc->what, tc->objs[j].key,
					 want ? want : "kept", got ? got : "kept");
		}
		if (freed != tc->freed)
			fail_msg("%s: freed %llu, want %llu", tc->what, (unsigned long long)freed,
				 (unsigned long long)tc->freed);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retention_cases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
