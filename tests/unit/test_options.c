/* test_options.c - the option table: defaults, flags, config file and its errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf/options.h"
#include "testlib.h"

/* tinybootd.conf in the test's directory, len bytes of text (0: strlen), its path returned. */
static char *test_write_config(const char *text, size_t len)
{
	char *path = testlib_path("tinybootd.conf");

	testlib_write_file(path, text, len ? len : strlen(text));
	return path;
}

static void test_defaults(void **state)
{
	struct options o;

	(void)state;
	options_init(&o);
	assert_string_equal(o.listen, "127.0.0.1:8080");
	assert_int_equal(o.connection_timeout, 30);
	assert_int_equal(o.connection_memory, 65536);
	assert_null(o.payload_dir);
	options_free(&o);
	options_free(NULL);
}

static void test_flags_win_over_file(void **state)
{
	char *path = test_write_config("# comment\n\n  listen = 0.0.0.0:9000\t\r\n"
				       "   # indented comment\r\n"
				       "connection-timeout=7\nconnection-memory = 128K\n"
				       "log-level = debug", 0); /* no final newline */
	char *argv[] = { "tinybootd", "--config", path, "-l", "127.0.0.1:0", NULL };
	struct options o;
	char err[256] = "";

	(void)state;
	assert_int_equal(options_load(&o, 5, argv, err, sizeof(err)), 0);
	assert_string_equal(o.listen, "127.0.0.1:0");
	assert_int_equal(o.connection_timeout, 7);
	assert_int_equal(o.connection_memory, 131072);
	assert_int_equal(o.log_level, LOG_LEVEL_DEBUG);
	options_free(&o);
	free(path);
}

static void test_file_errors(void **state)
{
	static const struct {
		const char *text;
		size_t len; /* 0: strlen(text) */
		const char *want; /* after "PATH" */
	} v[] = {
		{ "listen = x:1\nbogus = 1\n", 0, ":2: unknown key 'bogus'" },
		{ "connection-timeout = 0\n", 0,
		  ":1: connection-timeout: '0' is not a number in 1..86400" },
		{ "connection-timeout = 5s\n", 0,
		  ":1: connection-timeout: '5s' is not a number in 1..86400" },
		{ "connection-memory = 5T\n", 0,
		  ":1: connection-memory: '5T' is not a number in 8192..16777216 (K/M/G allowed)" },
		{ "\n\nthreads\n", 0, ":3: expected 'key = value'" },
		{ "= 5\n", 0, ":1: expected 'key = value'" },
		{ "log-level = loud\n", 0, ":1: log-level: 'loud' is not one of error, warn, info, debug" },
		{ "check = 1\n", 0, ":1: unknown key 'check'" },
		{ "Listen = x:1\n", 0, ":1: unknown key 'Listen'" },
		{ "listen =\n", 0, ":1: listen: empty value" },
		{ "# x\nlisten = a\0b\n", 16, ":2: NUL byte in line" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char *path = test_write_config(v[i].text, v[i].len);
		char *want = testlib_asprintf("%s%s", path, v[i].want);
		struct options o;
		char err[512] = "";

		options_init(&o);
		assert_int_equal(options_load_file(&o, path, err, sizeof(err)), -EINVAL);
		if (strcmp(err, want) != 0)
			fail_msg("'%s': got '%s', want '%s'", v[i].text, err, want);
		options_free(&o);
		free(want);
		free(path);
	}
}

static void test_file_long_line(void **state)
{
	char text[5000], err[512] = "", *path, *want;
	struct options o;

	(void)state;
	/* 4096 bytes fit, 4097 do not */
	memset(text, ' ', sizeof(text));
	memcpy(text, "threads = 3", 11);
	text[4096] = '\n';
	path = test_write_config(text, 4097);
	options_init(&o);
	assert_int_equal(options_load_file(&o, path, err, sizeof(err)), 0);
	assert_int_equal(o.threads, 3);
	text[4096] = ' ';
	text[4097] = '\n';
	free(path);
	path = test_write_config(text, 4098);
	want = testlib_asprintf("%s:1: line longer than 4096 bytes", path);
	assert_int_equal(options_load_file(&o, path, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, want);
	options_free(&o);
	free(want);
	free(path);
}

static void test_argv_errors(void **state)
{
	char *bad_flag[] = { "tinybootd", "--nope", NULL };
	char *missing[] = { "tinybootd", "--listen", NULL };
	char *extra[] = { "tinybootd", "stray", NULL };
	char *nofile[] = { "tinybootd", "-c", "/nonexistent/tinybootd.conf", NULL };
	struct options o;
	char err[256];

	(void)state;
	assert_int_equal(options_load(&o, 2, bad_flag, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "unknown option '--nope'");
	options_free(&o);
	assert_int_equal(options_load(&o, 2, missing, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "missing value for option '--listen'");
	options_free(&o);
	assert_int_equal(options_load(&o, 2, extra, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "unexpected argument 'stray'");
	options_free(&o);
	assert_int_equal(options_load(&o, 3, nofile, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "/nonexistent/tinybootd.conf: No such file or directory");
	options_free(&o);
}

#define T(f) cmocka_unit_test_setup_teardown(f, testlib_setup_tmpdir, testlib_teardown_tmpdir)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		T(test_flags_win_over_file),
		T(test_file_errors),
		T(test_file_long_line),
		cmocka_unit_test(test_argv_errors),
	};
	return cmocka_run_group_tests_name("options", tests, NULL, NULL);
}
