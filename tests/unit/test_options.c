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

static char *test_write_config(const char *text)
{
	char *path = strdup("/tmp/tinyboot-options-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
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
	char *path = test_write_config("# comment\n\nlisten = 0.0.0.0:9000\n"
				       "connection-timeout = 7\nconnection-memory = 128K\n"
				       "log-level = debug\n");
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
	unlink(path);
	free(path);
}

static void test_file_errors(void **state)
{
	static const struct {
		const char *text, *want;
	} v[] = {
		{ "listen = x:1\nbogus = 1\n", ":2: unknown option 'bogus'" },
		{ "connection-timeout = 0\n", ":1: connection-timeout: '0' is not a number in 1..86400" },
		{ "connection-timeout = 5s\n", ":1: connection-timeout: '5s' is not a number" },
		{ "\n\nthreads\n", ":3: expected 'name = value'" },
		{ "log-level = loud\n", ":1: log-level: 'loud' is not one of" },
		{ "check = 1\n", ":1: unknown option 'check'" },
		{ "listen =\n", ":1: listen: empty value" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char *path = test_write_config(v[i].text);
		struct options o;
		char err[512] = "";

		options_init(&o);
		assert_int_not_equal(options_load_file(&o, path, err, sizeof(err)), 0);
		if (!strstr(err, v[i].want) || strncmp(err, path, strlen(path)) != 0)
			fail_msg("'%s': got '%s', want '%s'", v[i].text, err, v[i].want);
		options_free(&o);
		unlink(path);
		free(path);
	}
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_flags_win_over_file),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_argv_errors),
	};
	return cmocka_run_group_tests_name("options", tests, NULL, NULL);
}
