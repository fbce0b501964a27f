/* test_conffile.c - the one line reader: what reaches a parser, every message with FILE:LINE. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/conffile.h"
#include "testlib.h"

/* ---- a parser that writes down what it was handed ---- */

struct seen {
	char text[1024]; /* "LINE:line|" for every call */
	const char *stop_at; /* a line that answers with stop_rc */
	int stop_rc;
	bool split;      /* split into key and value: "LINE:key=value|" */
	const char *known; /* with split: the one known key; others get conffile_unknown_key */
};

static int seen_line(struct conffile *cf, char *line, void *arg)
{
	struct seen *s = arg;
	size_t used = strlen(s->text);
	char *key, *value;
	int rc;

	if (s->stop_at && strcmp(line, s->stop_at) == 0)
		return s->stop_rc;
	if (!s->split) {
		snprintf(s->text + used, sizeof(s->text) - used, "%u:%s|", cf->line, line);
		return 0;
	}
	rc = conffile_split(cf, line, &key, &value);
	if (rc)
		return rc;
	if (s->known && strcmp(key, s->known) != 0)
		return conffile_unknown_key(cf, key);
	snprintf(s->text + used, sizeof(s->text) - used, "%u:%s=%s|", cf->line, key, value);
	return 0;
}

/* Write len bytes of text (0: strlen) to testlib_dir/c.conf and read it with line_max. */
static int read_text(const char *text, size_t len, size_t line_max, struct seen *s, char *err,
		     size_t errlen)
{
	char *path = testlib_path("c.conf");
	struct conffile cf = { .path = path, .name = "c.conf", .line_max = line_max, .err = err,
			       .errlen = errlen };
	int rc;

	testlib_write_file(path, text, len ? len : strlen(text));
	rc = conffile_read(&cf, seen_line, s);
	free(path);
	return rc;
}

/* ---- lines as a parser sees them ---- */

static void test_lines(void **state)
{
	static const struct {
		const char *name, *text;
		size_t len;        /* 0: strlen(text) */
		const char *want;  /* what the parser saw */
	} v[] = {
		{ "empty file", "", 0, "" },
		{ "blank and comment lines", "\n \t\n# one\n   # two\n\t#three\n", 0, "" },
		{ "numbered from 1, blanks counted", "a\n\nb\n# c\nd\n", 0, "1:a|3:b|5:d|" },
		{ "trimmed both ends", "  a b  \n\tc\t\n", 0, "1:a b|2:c|" },
		{ "CRLF reads as LF", "a\r\n\r\nb = c\r\n", 0, "1:a|3:b = c|" },
		{ "no final newline", "a\nb", 0, "1:a|2:b|" },
		{ "a lone CR is white space", "\r", 0, "" },
		{ "a trailing # is not a comment", "a # b\n", 0, "1:a # b|" },
		{ "vertical tab and form feed trimmed", "\va\f\n", 0, "1:a|" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct seen s = { .text = "" };
		char err[256] = "";
		int rc = read_text(v[i].text, v[i].len, 0, &s, err, sizeof(err));

		if (rc != 0 || strcmp(s.text, v[i].want) != 0)
			fail_msg("%s: rc %d err '%s', saw '%s', want '%s'", v[i].name, rc, err, s.text,
				 v[i].want);
		assert_string_equal(err, "");
	}
}

static void test_split(void **state)
{
	static const struct {
		const char *text, *want;
	} v[] = {
		{ "a = b\n", "1:a=b|" },
		{ "a=b\n", "1:a=b|" },
		{ "a\t=\tb c \n", "1:a=b c|" },
		{ "a =\n", "1:a=|" },            /* an empty value is the parser's to refuse */
		{ "a = b = c\n", "1:a=b = c|" }, /* the first '=' splits */
		{ "url = http://x/?a=b\n", "1:url=http://x/?a=b|" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct seen s = { .text = "", .split = true };
		char err[256] = "";

		assert_int_equal(read_text(v[i].text, 0, 0, &s, err, sizeof(err)), 0);
		assert_string_equal(s.text, v[i].want);
	}
}

/* ---- every line error: "c.conf:LINE: what", -EINVAL, nothing after it read ---- */

static void test_line_errors(void **state)
{
	static const struct {
		const char *name, *text;
		size_t len;
		const char *err, *seen;
	} v[] = {
		{ "NUL byte", "k = a\nk = b\0c\nk = d\n", 20, "c.conf:2: NUL byte in line", "1:k=a|" },
		{ "NUL byte in a comment", "# a\0\nk = b\n", 11, "c.conf:1: NUL byte in line", "" },
		{ "NUL byte alone", "\0", 1, "c.conf:1: NUL byte in line", "" },
		{ "no '='", "k = a\n\nwords only\n", 0, "c.conf:3: expected 'key = value'", "1:k=a|" },
		{ "no key", "  = a\n", 0, "c.conf:1: expected 'key = value'", "" },
		{ "unknown key", "k = a\nx = b\n", 0, "c.conf:2: unknown key 'x'", "1:k=a|" },
		{ "unknown key, case counts", "K = a\n", 0, "c.conf:1: unknown key 'K'", "" },
		{ "unknown key shown printable", "k\x01y = 1\n", 0, "c.conf:1: unknown key 'k?y'", "" },
		{ "unknown key cut short",
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa = 1\n", 0,
		  "c.conf:1: unknown key 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...'",
		  "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct seen s = { .text = "", .split = true, .known = "k" };
		char err[256] = "";
		int rc = read_text(v[i].text, v[i].len, 0, &s, err, sizeof(err));

		if (rc != -EINVAL || strcmp(err, v[i].err) != 0 || strcmp(s.text, v[i].seen) != 0)
			fail_msg("%s: rc %d err '%s' want '%s', saw '%s' want '%s'", v[i].name, rc, err,
				 v[i].err, s.text, v[i].seen);
	}
}

static void test_long_lines(void **state)
{
	char text[64], err[256] = "";
	struct seen s = { .text = "" };

	(void)state;
	/* line_max counts a line's bytes without its '\n' (a '\r' counts) */
	snprintf(text, sizeof(text), "0123456789\n0123456789\r\n");
	assert_int_equal(read_text(text, 0, 11, &s, err, sizeof(err)), 0);
	assert_string_equal(s.text, "1:0123456789|2:0123456789|");
	s.text[0] = '\0';
	assert_int_equal(read_text(text, 0, 10, &s, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "c.conf:2: line longer than 10 bytes");
	assert_string_equal(s.text, "1:0123456789|");
	/* a comment is a line like any other */
	s.text[0] = '\0';
	assert_int_equal(read_text("a\n# 01234567890\n", 0, 10, &s, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "c.conf:2: line longer than 10 bytes");
	/* the last line, without '\n', too */
	assert_int_equal(read_text("a\n01234567890", 0, 10, &s, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "c.conf:2: line longer than 10 bytes");
}

static void test_default_line_max(void **state)
{
	char *text = malloc(CONFFILE_LINE_MAX + 3), err[256] = "";
	struct seen s = { .text = "" };

	(void)state;
	assert_non_null(text);
	memset(text, 'x', CONFFILE_LINE_MAX);
	text[CONFFILE_LINE_MAX] = '\n';
	assert_int_equal(read_text(text, CONFFILE_LINE_MAX + 1, 0, &s, err, sizeof(err)), 0);
	text[CONFFILE_LINE_MAX] = 'x';
	text[CONFFILE_LINE_MAX + 1] = '\n';
	assert_int_equal(read_text(text, CONFFILE_LINE_MAX + 2, 0, &s, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "c.conf:1: line longer than 4096 bytes");
	/* a binary file: its NUL bytes are what is wrong, not the length of its first "line" */
	memset(text, '\0', CONFFILE_LINE_MAX + 2);
	assert_int_equal(read_text(text, CONFFILE_LINE_MAX + 2, 0, &s, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "c.conf:1: NUL byte in line");
	memset(text, 'x', CONFFILE_LINE_MAX + 2);
	text[CONFFILE_LINE_MAX + 1] = '\0';
	assert_int_equal(read_text(text, CONFFILE_LINE_MAX + 2, 0, &s, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "c.conf:1: NUL byte in line");
	free(text);
}

/* ---- what a parser returns ---- */

static void test_parser_codes(void **state)
{
	struct seen s = { .text = "", .stop_at = "b", .stop_rc = -ENOMEM };
	char err[256] = "";

	(void)state;
	/* an -errno other than -EINVAL has said nothing: the reader names the line */
	assert_int_equal(read_text("a\nb\nc\n", 0, 0, &s, err, sizeof(err)), -ENOMEM);
	assert_string_equal(err, "c.conf:2: Cannot allocate memory");
	assert_string_equal(s.text, "1:a|");
	/* a positive answer stops the file quietly and comes back */
	s = (struct seen){ .text = "", .stop_at = "b", .stop_rc = 7 };
	err[0] = '\0';
	assert_int_equal(read_text("a\nb\nc\n", 0, 0, &s, err, sizeof(err)), 7);
	assert_string_equal(err, "");
	assert_string_equal(s.text, "1:a|");
}

static int error_at_line(struct conffile *cf, char *line, void *arg)
{
	(void)line;
	(void)arg;
	return cf->line == 3 ? conffile_error_at(cf, 1, "[x] has no %s", "url") : 0;
}

static void test_error_at(void **state)
{
	char *path = testlib_path("c.conf");
	char err[256] = "", *want = testlib_asprintf("%s:1: [x] has no url", path);
	struct conffile cf = { .path = path, .err = err, .errlen = sizeof(err) };

	(void)state;
	testlib_write_text(path, "a\nb\nc\n");
	/* reported on line 3, about line 1; no name given, so the path names the file */
	assert_int_equal(conffile_read(&cf, error_at_line, NULL), -EINVAL);
	assert_string_equal(err, want);
	free(want);
	/* line 0 is the file as a whole */
	cf.name = "c.conf";
	assert_int_equal(conffile_error_at(&cf, 0, "%s are required", "a, b"), -EINVAL);
	assert_string_equal(err, "c.conf: a, b are required");
	/* a short buffer is cut, not overrun; no buffer: only the code */
	cf.errlen = 8;
	assert_int_equal(conffile_error(&cf, "long message"), -EINVAL);
	assert_string_equal(err, "c.conf:");
	cf.err = NULL;
	assert_int_equal(conffile_error(&cf, "x"), -EINVAL);
	assert_int_equal(conffile_read(&cf, error_at_line, NULL), -EINVAL);
	free(path);
}

/* ---- the file itself: "c.conf: what" ---- */

static void test_file_errors(void **state)
{
	char *path = testlib_path("c.conf"), *dir = testlib_path("d"), *link = testlib_path("l");
	char *fifo = testlib_path("fifo"), err[256] = "", *text = NULL;
	struct conffile cf = { .path = path, .name = "c.conf", .file_max = 16, .err = err,
			       .errlen = sizeof(err) };
	size_t len = 0;

	(void)state;
	assert_int_equal(conffile_load(&cf, &text, &len), -ENOENT);
	assert_string_equal(err, "c.conf: No such file or directory");
	assert_null(text);

	testlib_write_text(path, "0123456789abcdef");
	assert_int_equal(conffile_load(&cf, &text, &len), 0);
	assert_int_equal(len, 16);
	assert_string_equal(text, "0123456789abcdef");
	free(text);
	testlib_write_text(path, "0123456789abcdefg");
	assert_int_equal(conffile_load(&cf, &text, &len), -EFBIG);
	assert_string_equal(err, "c.conf: larger than 16 bytes");
	assert_null(text);

	assert_int_equal(mkdir(dir, 0755), 0);
	cf.path = dir;
	assert_int_equal(conffile_load(&cf, &text, &len), -EINVAL);
	assert_string_equal(err, "c.conf: not a regular file");
	/* a FIFO is refused at once: nothing waits for a writer (the alarm fails a hang) */
	alarm(10);
	assert_int_equal(mkfifo(fifo, 0644), 0);
	cf.path = fifo;
	assert_int_equal(conffile_load(&cf, &text, &len), -EINVAL);
	assert_string_equal(err, "c.conf: not a regular file");
	alarm(0);

	/* a symlink is followed unless the reader says nofollow */
	testlib_write_text(path, "a\n");
	assert_int_equal(symlink(path, link), 0);
	cf.path = link;
	assert_int_equal(conffile_load(&cf, &text, &len), 0);
	free(text);
	cf.nofollow = true;
	assert_int_equal(conffile_load(&cf, &text, &len), -ELOOP);
	assert_string_equal(err, "c.conf: Too many levels of symbolic links");

	/* conffile_read stops there too, with the same message */
	cf.path = "/nonexistent/c.conf";
	cf.name = NULL;
	assert_int_equal(conffile_read(&cf, seen_line, NULL), -ENOENT);
	assert_string_equal(err, "/nonexistent/c.conf: No such file or directory");
	free(path);
	free(dir);
	free(link);
	free(fifo);
}

static void test_shown(void **state)
{
	static const struct {
		const char *in, *out;
	} v[] = {
		{ "", "" },
		{ "plain", "plain" },
		{ "a\tb\x7f\xc3\xa9", "a?b???" },
		{ "0123456789012345678901234567890123456789012345678901234567890123",
		  "0123456789012345678901234567890123456789012345678901234567890123" },
		{ "0123456789012345678901234567890123456789012345678901234567890123x",
		  "0123456789012345678901234567890123456789012345678901234567890123..." },
	};
	char out[CONFFILE_SHOWN_MAX + 4];

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		assert_string_equal(conffile_shown(v[i].in, out), v[i].out);
}

#define T(f) cmocka_unit_test_setup_teardown(f, testlib_setup_tmpdir, testlib_teardown_tmpdir)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_lines),
		T(test_split),
		T(test_line_errors),
		T(test_long_lines),
		T(test_default_line_max),
		T(test_parser_codes),
		T(test_error_at),
		T(test_file_errors),
		cmocka_unit_test(test_shown),
	};

	return cmocka_run_group_tests_name("conffile", tests, NULL, NULL);
}
