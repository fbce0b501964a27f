/* test_spawn.c - lib/spawn.c: exit statuses, output lines and log, environment, working
 * directory, stdin, cancellation of the whole process group, spawn_format. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/spawn.h"
#include "testlib.h"

#define SH(script) ((char *const[]){ "sh", "-c", (char *)(script), NULL })

/* Every line on_line saw, joined with '|'. */
struct lines {
	char all[70000];
	size_t n;
};

static void collect(void *ctx, const char *line)
{
	struct lines *l = ctx;
	size_t used = strlen(l->all);

	snprintf(l->all + used, sizeof(l->all) - used, "%s%s", l->n++ ? "|" : "", line);
}

static int run(char *const argv[], struct spawn_opts *o, struct lines *l)
{
	memset(l, 0, sizeof(*l));
	o->on_line = collect;
	o->ctx = l;
	return spawn_run(argv, o);
}

static void test_exit_status(void **state)
{
	static const struct {
		const char *script;
		int rc;
	} cases[] = {
		{ "true", 0 },
		{ "false", 1 },
		{ "exit 7", 7 },
		{ "exit 255", 255 },
		{ "kill -TERM $$", 128 + 15 },
		{ "kill -KILL $$", 128 + 9 },
		{ "exec /nonexistent/program", 127 },
	};
	struct spawn_opts o = { .log_fd = -1 };
	struct lines l;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("%s\n", cases[i].script);
		assert_int_equal(run(SH(cases[i].script), &o, &l), cases[i].rc);
	}
	/* a program that is not in PATH: the child says so and exits 127 */
	assert_int_equal(run((char *const[]){ "tinyboot-no-such-program", NULL }, &o, &l), 127);
	assert_non_null(strstr(l.all, "spawn: exec tinyboot-no-such-program"));
}

static void test_lines(void **state)
{
	static const struct {
		const char *script, *lines;
	} cases[] = {
		{ "printf 'a\\nb\\n'", "a|b" },
		{ "printf 'a\\n\\nb'", "a||b" },           /* the last line has no newline */
		{ "echo out; echo err >&2", "out|err" }, /* stderr too, in order */
		{ "true", "" },
	};
	struct spawn_opts o = { .log_fd = -1 };
	struct lines l;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(run(SH(cases[i].script), &o, &l), 0);
		assert_string_equal(l.all, cases[i].lines);
	}
	/* a line longer than the buffer comes in pieces, none lost */
	assert_int_equal(run(SH("head -c 20000 /dev/zero | tr '\\0' x; echo; echo end"), &o, &l), 0);
	assert_true(l.n >= 4);
	assert_int_equal(strspn(l.all, "x|"), strlen(l.all) - strlen("end"));
	assert_int_equal(strlen(l.all) - (l.n - 1) - strlen("end"), 20000);
}

static void test_log_fd(void **state)
{
	char *path = testlib_path("log"), *text;
	struct spawn_opts o;
	struct lines l;

	(void)state;
	o = (struct spawn_opts){ .log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) };
	assert_true(o.log_fd >= 0);
	assert_int_equal(run(SH("echo one; echo two >&2; printf three"), &o, &l), 0);
	close(o.log_fd);
	text = testlib_read_file(path, NULL);
	assert_string_equal(text, "one\ntwo\nthree");
	free(text);
	free(path);
}

static void test_environment_and_cwd(void **state)
{
	char *env[] = { "PATH=/usr/bin:/bin", "FOO=bar", NULL }, *real;
	struct spawn_opts o = { .log_fd = -1 };
	struct lines l;

	(void)state;
	/* the default environment is small and fixed, whatever the caller's is */
	setenv("TINYBOOT_TEST_LEAK", "1", 1);
	assert_int_equal(run(SH("echo \"$HOME $LANG $LC_ALL ${TINYBOOT_TEST_LEAK:-none}\""), &o, &l), 0);
	assert_string_equal(l.all, "/nonexistent C C none");
	o.env = env;
	assert_int_equal(run(SH("echo \"$FOO ${HOME:-nohome}\""), &o, &l), 0);
	assert_string_equal(l.all, "bar nohome");
	o.env = NULL;
	o.cwd = testlib_dir;
	assert_int_equal(run((char *const[]){ "pwd", "-P", NULL }, &o, &l), 0);
	real = realpath(testlib_dir, NULL);
	assert_string_equal(l.all, real);
	free(real);
	o.cwd = "/nonexistent/dir";
	assert_int_equal(run((char *const[]){ "pwd", NULL }, &o, &l), 127);
	assert_non_null(strstr(l.all, "spawn: chdir /nonexistent/dir"));
}

static void test_stdin(void **state)
{
	static char big[65538];
	char *path = testlib_path("in");
	struct spawn_opts o = { .log_fd = -1 };
	struct lines l;

	(void)state;
	assert_int_equal(run((char *const[]){ "cat", NULL }, &o, &l), 0); /* /dev/null */
	assert_string_equal(l.all, "");
	o.stdin_text = "y\nn\n";
	assert_int_equal(run((char *const[]){ "cat", NULL }, &o, &l), 0);
	assert_string_equal(l.all, "y|n");
	o.stdin_text = NULL;
	testlib_write_text(path, "from a file\n");
	o.stdin_path = path;
	assert_int_equal(run((char *const[]){ "cat", NULL }, &o, &l), 0);
	assert_string_equal(l.all, "from a file");
	/* the text must fit a pipe, so that writing it can never block */
	memset(big, '\n', sizeof(big) - 1);
	o.stdin_text = big;
	assert_int_equal(run((char *const[]){ "cat", NULL }, &o, &l), -E2BIG);
	free(path);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Cancelling kills the process group: the shell and the sleep it started. */
static void test_cancel(void **state)
{
	volatile int cancel = 1;
	struct spawn_opts o = { .log_fd = -1, .cancel = &cancel };
	struct lines l;
	double start = now();

	(void)state;
	assert_int_equal(run(SH("sleep 30 & wait"), &o, &l), 128 + 9);
	assert_true(now() - start < 10);
}

static void test_format(void **state)
{
	char buf[64], tiny[8];

	(void)state;
	spawn_format((char *const[]){ "make", "O=/x y", "tinyconfig", NULL }, buf, sizeof(buf));
	assert_string_equal(buf, "$ make O=/x y tinyconfig");
	spawn_format((char *const[]){ "make", "a-long-argument", NULL }, tiny, sizeof(tiny));
	assert_string_equal(tiny, "$ make ");
	spawn_format((char *const[]){ NULL }, tiny, sizeof(tiny));
	assert_string_equal(tiny, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_status),
		cmocka_unit_test(test_lines),
		cmocka_unit_test_setup_teardown(test_log_fd, testlib_setup_tmpdir, testlib_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_environment_and_cwd, testlib_setup_tmpdir,
						testlib_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_stdin, testlib_setup_tmpdir, testlib_teardown_tmpdir),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests_name("spawn", tests, NULL, NULL);
}
