/* test_range.c - Range header parsing against a table of vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "http/range.h"

struct range_vector {
	const char *header;
	uint64_t size;
	enum range_result want;
	uint64_t start, length;
};

static const struct range_vector range_vectors[] = {
	{ "bytes=0-0", 10, RANGE_OK, 0, 1 },
	{ "bytes=0-9", 10, RANGE_OK, 0, 10 },
	{ "bytes=2-5", 10, RANGE_OK, 2, 4 },
	{ "bytes=5-", 10, RANGE_OK, 5, 5 },
	{ "bytes=9-", 10, RANGE_OK, 9, 1 },
	{ "bytes=5-100", 10, RANGE_OK, 5, 5 },          /* clamped to the end */
	{ "bytes=-3", 10, RANGE_OK, 7, 3 },             /* suffix */
	{ "bytes=-100", 10, RANGE_OK, 0, 10 },          /* suffix longer than the file */
	{ "Bytes = 1 - 2", 10, RANGE_OK, 1, 2 },        /* case and spaces */
	{ "bytes=10-", 10, RANGE_UNSATISFIABLE, 0, 0 }, /* starts at the end */
	{ "bytes=11-20", 10, RANGE_UNSATISFIABLE, 0, 0 },
	{ "bytes=-0", 10, RANGE_UNSATISFIABLE, 0, 0 },
	{ "bytes=0-", 0, RANGE_UNSATISFIABLE, 0, 0 },   /* empty file */
	{ "bytes=-5", 0, RANGE_UNSATISFIABLE, 0, 0 },
	{ "bytes=5-2", 10, RANGE_NONE, 0, 0 },          /* invalid: ignored */
	{ "bytes=0-1,3-4", 10, RANGE_NONE, 0, 0 },      /* multiple: whole file */
	{ "items=0-1", 10, RANGE_NONE, 0, 0 },
	{ "bytes=", 10, RANGE_NONE, 0, 0 },
	{ "bytes=-", 10, RANGE_NONE, 0, 0 },
	{ "bytes=a-b", 10, RANGE_NONE, 0, 0 },
	{ "bytes=99999999999999999999-", 10, RANGE_NONE, 0, 0 }, /* overflow */
	{ "bytes=18446744073709551615-", 10, RANGE_UNSATISFIABLE, 0, 0 },
	{ "bytes=0-18446744073709551615", 10, RANGE_OK, 0, 10 },
};

static void test_range_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(range_vectors) / sizeof(range_vectors[0]); i++) {
		const struct range_vector *v = &range_vectors[i];
		uint64_t start = 0, length = 0;
		enum range_result got = range_parse(v->header, v->size, &start, &length);

		if (got != v->want)
			fail_msg("'%s' size %llu: got %d want %d", v->header,
				 (unsigned long long)v->size, got, v->want);
		if (got == RANGE_OK) {
			assert_int_equal(start, v->start);
			assert_int_equal(length, v->length);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_range_vectors),
	};
	return cmocka_run_group_tests_name("range", tests, NULL, NULL);
}
