/* test_urlname.c - URL decoding and the name allowlist. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "http/urlname.h"

static void test_unescape(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} v[] = {
		{ "/a%2Fb", "/a/b" },
		{ "/%2e%2e", "/.." },
		{ "/a%00b", "/a\x7f" "b" },  /* NUL poisoned, not a truncation */
		{ "/a%0ab", "/a\x7f" "b" },  /* newline */
		{ "/a%7fb", "/a\x7f" "b" },
		{ "/a%zzb", "/a\x7fzzb" },   /* malformed escape */
		{ "/a%", "/a\x7f" },
		{ "/a%4", "/a\x7f" "4" },
		{ "/plain", "/plain" },
		{ "/%41%62", "/Ab" },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char buf[64];

		strcpy(buf, v[i].in);
		assert_int_equal(urlname_unescape(buf), strlen(v[i].out));
		assert_string_equal(buf, v[i].out);
	}
}

static void test_valid(void **state)
{
	char long_name[URLNAME_MAX + 2];

	(void)state;
	assert_true(urlname_valid("bzImage"));
	assert_true(urlname_valid("net+debug"));
	assert_true(urlname_valid("initrd.cpio.gz"));
	assert_true(urlname_valid("a_b-c.9"));
	assert_false(urlname_valid(""));
	assert_false(urlname_valid("."));
	assert_false(urlname_valid(".."));
	assert_false(urlname_valid(".hidden"));
	assert_false(urlname_valid("a/b"));
	assert_false(urlname_valid("a b"));
	assert_false(urlname_valid("a\x7f"));
	assert_false(urlname_valid("a\nb"));
	assert_false(urlname_valid("${x}"));
	assert_false(urlname_valid("a&&b"));
	assert_false(urlname_valid("caf\xc3\xa9"));
	memset(long_name, 'a', URLNAME_MAX);
	long_name[URLNAME_MAX] = '\0';
	assert_true(urlname_valid(long_name));
	long_name[URLNAME_MAX] = 'a';
	long_name[URLNAME_MAX + 1] = '\0';
	assert_false(urlname_valid(long_name));
}

static void test_split(void **state)
{
	char *parts[URLNAME_MAX_COMPONENTS];
	char buf[128];

	(void)state;
	strcpy(buf, "/");
	assert_int_equal(urlname_split(buf, parts, URLNAME_MAX_COMPONENTS), 0);
	strcpy(buf, "/payloads/x.bin");
	assert_int_equal(urlname_split(buf, parts, URLNAME_MAX_COMPONENTS), 2);
	assert_string_equal(parts[0], "payloads");
	assert_string_equal(parts[1], "x.bin");
	strcpy(buf, "/api/v1/version/");
	assert_int_equal(urlname_split(buf, parts, URLNAME_MAX_COMPONENTS), 3);
	assert_string_equal(parts[2], "version");
	strcpy(buf, "payloads");
	assert_int_equal(urlname_split(buf, parts, URLNAME_MAX_COMPONENTS), -EINVAL);
	strcpy(buf, "/a//b");
	assert_int_equal(urlname_split(buf, parts, URLNAME_MAX_COMPONENTS), -EINVAL);
	strcpy(buf, "/a/../b");
	assert_int_equal(urlname_split(buf, parts, URLNAME_MAX_COMPONENTS), -EINVAL);
	strcpy(buf, "/a/./b");
	assert_int_equal(urlname_split(buf, parts, URLNAME_MAX_COMPONENTS), -EINVAL);
	strcpy(buf, "/1/2/3");
	assert_int_equal(urlname_split(buf, parts, 2), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unescape),
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_split),
	};
	return cmocka_run_group_tests_name("urlname", tests, NULL, NULL);
}
