/* test_names.c - the shared checks: character sets, hex digits, file names, trim, gen/N. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/names.h"

static void test_charset(void **state)
{
	static const struct {
		const char *s;
		size_t max;
		unsigned classes;
		const char *extra;
		bool ok;
	} v[] = {
		{ "abc", 3, NAMES_LOWER, NULL, true },
		{ "abcd", 3, NAMES_LOWER, NULL, false },       /* max is a length, inclusive */
		{ "", 3, NAMES_ALNUM, "_", false },            /* never empty */
		{ "aB1", 3, NAMES_LOWER, NULL, false },
		{ "aB1", 3, NAMES_ALNUM, NULL, true },
		{ "AB", 8, NAMES_UPPER, NULL, true },
		{ "42", 8, NAMES_DIGIT, NULL, true },
		{ "a-b_c", 8, NAMES_LOWER, "_-", true },
		{ "a+b", 8, NAMES_LOWER, "_-", false },
		{ "-", 8, 0, "-", true },
		{ "a b", 8, NAMES_LOWER, NULL, false },
		{ "a\nb", 8, NAMES_LOWER, "_", false },
		{ "caf\xc3\xa9", 8, NAMES_ALNUM, NULL, false },  /* ASCII only, no locale */
		{ "x\x7f", 8, NAMES_ALNUM, NULL, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		if (names_charset(v[i].s, v[i].max, v[i].classes, v[i].extra) != v[i].ok)
			fail_msg("names_charset('%s', %zu, %u, '%s') is not %d", v[i].s, v[i].max,
				 v[i].classes, v[i].extra ? v[i].extra : "", v[i].ok);
	}
}

static void test_hex(void **state)
{
	static const char digits[] = "0123456789abcdef";
	static const struct {
		const char *s;
		size_t len;
		bool ok;
	} v[] = {
		{ "", 0, true },
		{ "0", 1, true },
		{ "DeadBeef", 8, true },
		{ "DeadBeef", 7, false },   /* something after the len digits */
		{ "DeadBee", 8, false },    /* too short */
		{ "dead beef", 9, false },
		{ "0x12", 4, false },
		{ "g0", 2, false },
	};

	(void)state;
	for (int i = 0; i < 16; i++) {
		assert_int_equal(names_hexval(digits[i]), i);
		assert_int_equal(names_hexval((char)(digits[i] >= 'a' ? digits[i] - 32 : digits[i])), i);
	}
	assert_int_equal(names_hexval('g'), -1);
	assert_int_equal(names_hexval('G'), -1);
	assert_int_equal(names_hexval('/'), -1);
	assert_int_equal(names_hexval(':'), -1);
	assert_int_equal(names_hexval('\0'), -1);
	assert_int_equal(names_hexval((char)0xe9), -1);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		if (names_hex(v[i].s, v[i].len) != v[i].ok)
			fail_msg("names_hex('%s', %zu) is not %d", v[i].s, v[i].len, v[i].ok);
	}
	assert_true(names_hex("4d415b3d364834fd818270e88813e90323bbfce4f519a0e6bd4940ddcd7df693", 64));
	assert_true(names_hex_lower("0123456789abcdef", 16));
	assert_false(names_hex_lower("0123456789abcdeF", 16));
	assert_false(names_hex_lower("0123456789abcdef0", 16));
	assert_false(names_hex_lower("0123456789abcde", 16));
	assert_false(names_hex_lower("0123456789abcdeg", 16));
	assert_int_equal(names_lower('A'), 'a');
	assert_int_equal(names_lower('Z'), 'z');
	assert_int_equal(names_lower('a'), 'a');
	assert_int_equal(names_lower('0'), '0');
	assert_int_equal(names_lower('['), '[');
	assert_int_equal(names_lower((char)0xc9), (char)0xc9);
}

static void test_trim(void **state)
{
	static const struct {
		const char *in, *out;
	} v[] = {
		{ "", "" },
		{ "a", "a" },
		{ "  a  ", "a" },
		{ "\t a b \r\n", "a b" },
		{ "\v\fa\f\v", "a" },
		{ " \t\r\n", "" },
		{ "a\xa0", "a\xa0" },      /* ASCII white space only */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char buf[32];

		snprintf(buf, sizeof(buf), "%s", v[i].in);
		assert_string_equal(names_trim(buf), v[i].out);
	}
}

static void test_file_valid(void **state)
{
	static const struct {
		const char *s;
		bool ok;
	} v[] = {
		{ "bzImage", true },
		{ "net+debug", true },
		{ "initrd.cpio.gz", true },
		{ "a_b-c.9", true },
		{ "A", true },
		{ "", false },
		{ ".", false },
		{ "..", false },
		{ ".hidden", false },
		{ "a/b", false },
		{ "a b", false },
		{ "a\x7f", false },
		{ "${x}", false },
		{ "gen/1", false },      /* gen/N is a payload, not a file name */
	};
	char name[NAMES_FILE_MAX + 2];

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		if (names_file_valid(v[i].s) != v[i].ok)
			fail_msg("names_file_valid('%s') is not %d", v[i].s, v[i].ok);
	}
	memset(name, 'a', NAMES_FILE_MAX);
	name[NAMES_FILE_MAX] = '\0';
	assert_true(names_file_valid(name));
	name[NAMES_FILE_MAX] = 'a';
	name[NAMES_FILE_MAX + 1] = '\0';
	assert_false(names_file_valid(name));
}

static void test_gen_size(void **state)
{
	static const struct {
		const char *s;
		int rc;
		uint64_t n;
	} v[] = {
		{ "1", 0, 1 },
		{ "1048576", 0, 1048576 },
		{ "1073741824", 0, 1073741824 },   /* NAMES_GEN_MAX */
		{ "1073741825", -ERANGE, 0 },
		{ "9999999999", -ERANGE, 0 },      /* ten digits: parsed, too big */
		{ "99999999999", -EINVAL, 0 },     /* eleven: never parsed (no overflow) */
		{ "18446744073709551617", -EINVAL, 0 },
		{ "0", -EINVAL, 0 },
		{ "012", -EINVAL, 0 },             /* one spelling per size */
		{ "", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 },
		{ "+1", -EINVAL, 0 },
		{ " 1", -EINVAL, 0 },
		{ "1 ", -EINVAL, 0 },
		{ "1k", -EINVAL, 0 },
		{ "1/2", -EINVAL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint64_t n = 12345;
		int rc = names_gen_size(v[i].s, &n);

		if (rc != v[i].rc)
			fail_msg("names_gen_size('%s') gave %d, want %d", v[i].s, rc, v[i].rc);
		if (rc == 0)
			assert_true(n == v[i].n);
		else
			assert_true(n == 12345); /* untouched on failure */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_charset),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_trim),
		cmocka_unit_test(test_file_valid),
		cmocka_unit_test(test_gen_size),
	};

	return cmocka_run_group_tests_name("names", tests, NULL, NULL);
}
