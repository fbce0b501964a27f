/* test_httpdate.c - HTTP date formatting and the three accepted input forms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "http/httpdate.h"

static void test_format(void **state)
{
	char buf[HTTPDATE_LEN];

	(void)state;
	httpdate_format(784111777, buf);
	assert_string_equal(buf, "Sun, 06 Nov 1994 08:49:37 GMT");
	httpdate_format(0, buf);
	assert_string_equal(buf, "Thu, 01 Jan 1970 00:00:00 GMT");
}

static void test_parse(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int rc;
		time_t t;
	} v[] = {
		{ "Sun, 06 Nov 1994 08:49:37 GMT", 0, 784111777 },
		{ "Sunday, 06-Nov-94 08:49:37 GMT", 0, 784111777 },
		{ "Sun Nov  6 08:49:37 1994", 0, 784111777 },
		{ "Sun, 06 Nov 1994 08:49:37 GMT junk", -22, 0 },
		{ "Sun, 06 Foo 1994 08:49:37 GMT", -22, 0 },
		{ "Sun, 32 Nov 1994 08:49:37 GMT", -22, 0 },
		{ "Sun, 06 Nov 1994 25:49:37 GMT", -22, 0 },
		{ "", -22, 0 },
		{ "yesterday", -22, 0 },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		time_t t = 0;
		int rc = httpdate_parse(v[i].in, &t);

		if (rc != v[i].rc)
			fail_msg("'%s': rc %d want %d", v[i].in, rc, v[i].rc);
		if (rc == 0)
			assert_int_equal(t, v[i].t);
	}
}

static void test_roundtrip(void **state)
{
	char buf[HTTPDATE_LEN];
	time_t t;

	(void)state;
	for (time_t x = 0; x < 4102444800; x += 86399 * 37) {
		httpdate_format(x, buf);
		assert_int_equal(httpdate_parse(buf, &t), 0);
		assert_int_equal(t, x);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_roundtrip),
	};
	return cmocka_run_group_tests_name("httpdate", tests, NULL, NULL);
}
