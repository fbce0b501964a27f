/* test_tokens.c - the api-tokens file (lines, messages, mode) and the constant-time match. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "conf/tokens.h"
#include "lib/loopback.h"
#include "testlib.h"

#define TOK_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define TOK_B "0123456789abcdef0123456789abcdef"

/* Write text as FILE with mode, load it; the code, and the message in err. */
static int load(const char *text, mode_t mode, struct tokens **t, char *err, size_t errlen)
{
	char *path = testlib_path("tokens");
	int rc;

	testlib_write_text(path, text);
	assert_int_equal(chmod(path, mode), 0);
	err[0] = '\0';
	rc = tokens_load(path, t, err, errlen);
	free(path);
	return rc;
}

static void test_good_file(void **state)
{
	struct tokens *t = NULL;
	char err[512];

	(void)state;
	assert_int_equal(load("# who may change things\n\nalice " TOK_A "\n  bob\t" TOK_B "  \r\n", 0600,
			      &t, err, sizeof(err)), 0);
	assert_int_equal(tokens_count(t), 2);
	assert_string_equal(tokens_match(t, TOK_A, strlen(TOK_A)), "alice");
	assert_string_equal(tokens_match(t, TOK_B, strlen(TOK_B)), "bob");
	/* a prefix, a longer token, one byte off, empty: no match */
	assert_null(tokens_match(t, TOK_A, strlen(TOK_A) - 1));
	assert_null(tokens_match(t, TOK_A "a", strlen(TOK_A) + 1));
	assert_null(tokens_match(t, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", 32));
	assert_null(tokens_match(t, "", 0));
	assert_null(tokens_match(NULL, TOK_A, strlen(TOK_A)));
	tokens_free(t);
	tokens_free(NULL);
	/* group-readable is fine (root:tinyboot 0640) */
	assert_int_equal(load("alice " TOK_A "\n", 0640, &t, err, sizeof(err)), 0);
	tokens_free(t);
}

static void test_bad_files(void **state)
{
	static const struct {
		const char *text;
		mode_t mode;
		const char *msg; /* after "DIR/tokens" */
	} v[] = {
		{ "alice " TOK_A "\n", 0604, ": others may read or write it (mode 0604)" },
		{ "alice " TOK_A "\n", 0602, ": others may read or write it (mode 0602)" },
		{ "# nothing\n\n", 0600, ": no tokens: every request that changes state would be refused" },
		{ "alice\n", 0600, ":1: expected 'NAME TOKEN'" },
		{ "alice " TOK_A " extra\n", 0600, ":1: expected 'NAME TOKEN'" },
		{ "al/ice " TOK_A "\n", 0600, ":1: name 'al/ice' is not 1-64 of [A-Za-z0-9._-]" },
		{ "alice short\n", 0600, ":1: token of alice must be 16-256 characters" },
		{ "alice " TOK_A "\"\n", 0600, ":1: token of alice must be 16-256 characters" },
		{ "alice " TOK_A "\nalice " TOK_B "\n", 0600, ":2: name alice appears twice" },
		{ "alice " TOK_A "\nbob " TOK_A "\n", 0600, ":2: token of bob is also the token of alice" },
	};
	char err[512], *want;

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct tokens *t = (struct tokens *)1;

		assert_int_equal(load(v[i].text, v[i].mode, &t, err, sizeof(err)), -EINVAL);
		assert_null(t);
		want = testlib_asprintf("%s/tokens%s", testlib_dir, v[i].msg);
		if (strncmp(err, want, strlen(want)) != 0)
			fail_msg("case %zu: '%s', want '%s...'", i, err, want);
		/* the secret never reaches a message */
		if (strstr(err, TOK_A) || strstr(err, TOK_B))
			fail_msg("case %zu: message shows a token: %s", i, err);
		free(want);
	}
}

static void test_missing_file(void **state)
{
	struct tokens *t = NULL;
	char err[512], *path = testlib_path("absent");

	(void)state;
	assert_int_equal(tokens_load(path, &t, err, sizeof(err)), -ENOENT);
	assert_null(t);
	assert_non_null(strstr(err, "No such file"));
	free(path);
}

static void test_token_valid(void **state)
{
	static const struct {
		const char *s;
		bool ok;
	} v[] = {
		{ "abc", true }, { "A-._~+/9", true }, { "abc==", true }, { "ab=c", false },
		{ "=", false }, { "", false }, { "a b", false }, { "a\"b", false }, { "a,b", false },
		{ "caf\xc3\xa9", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (tokens_token_valid(v[i].s, strlen(v[i].s)) != v[i].ok)
			fail_msg("tokens_token_valid('%s') is not %d", v[i].s, v[i].ok);
}

static bool loop4(const char *a)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };

	assert_int_equal(inet_pton(AF_INET, a, &sin.sin_addr), 1);
	return loopback_is((struct sockaddr *)&sin);
}

static bool loop6(const char *a)
{
	struct sockaddr_in6 six = { .sin6_family = AF_INET6 };

	assert_int_equal(inet_pton(AF_INET6, a, &six.sin6_addr), 1);
	return loopback_is((struct sockaddr *)&six);
}

static void test_loopback(void **state)
{
	(void)state;
	assert_true(loop4("127.0.0.1"));
	assert_true(loop4("127.255.1.2"));
	assert_false(loop4("128.0.0.1"));
	assert_false(loop4("0.0.0.0"));
	assert_false(loop4("192.0.2.1"));
	assert_false(loop4("10.127.0.1"));
	assert_true(loop6("::1"));
	assert_true(loop6("::ffff:127.0.0.5"));
	assert_false(loop6("::ffff:192.0.2.1"));
	assert_false(loop6("::"));
	assert_false(loop6("::2"));
	assert_false(loop6("fe80::1"));
	assert_false(loopback_is(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good_file, testlib_setup_tmpdir, testlib_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_bad_files, testlib_setup_tmpdir, testlib_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_missing_file, testlib_setup_tmpdir, testlib_teardown_tmpdir),
		cmocka_unit_test(test_token_valid),
		cmocka_unit_test(test_loopback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
