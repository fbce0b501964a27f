/* test_sources.c - sources.conf parsing: every message with its file:line. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf/sources.h"
#include "testlib.h"

#define SHA_A "4d415b3d364834fd818270e88813e90323bbfce4f519a0e6bd4940ddcd7df693"

/* ---- parsing ---- */

struct parse_case {
	const char *name;
	const char *text;
	size_t len;            /* 0: strlen(text) */
	const char *want_err;  /* "LINE: message" after the path; NULL: the file loads */
};

#define SEC "[a]\nsha256 = " SHA_A "\nurl = file:///x/a.tar.gz\nstrip = a-1\n"

static const struct parse_case parse_cases[] = {
	{ "empty file", "", 0, NULL },
	{ "comments only", "# one\n   # two\n\n\t\n", 0, NULL },
	{ "minimal", SEC, 0, NULL },
	{ "crlf and spacing", "  [a]  \r\nsha256=" SHA_A "\r\n url =file:///x/a.tar.gz \r\nstrip\t=\ta-1\r\n",
	  0, NULL },
	{ "short sha256", "[a]\nsha256 = abc\n", 0, "2: sha256 must be 64 hex digits" },
	{ "non-hex sha256", "[a]\nsha256 = " "g" SHA_A "\n", 0, "2: sha256 must be 64 hex digits" },
	{ "trailing comment is not a comment", "[a]\nsha256 = " SHA_A " # pinned\n", 0,
	  "2: sha256 must be 64 hex digits" },
	{ "no sha256", "[a]\nurl = file:///x/a.tar.gz\nstrip = a\n", 0, "1: [a] has no sha256" },
	{ "no url", "\n[a]\nsha256 = " SHA_A "\nstrip = a\n", 0, "2: [a] has no url" },
	{ "no strip, next section", "# c\n[a]\nsha256 = " SHA_A "\nurl = file:///x/a.tar.gz\n[b]\n", 0,
	  "2: [a] has no strip" },
	{ "bad section name", "[a/b]\n", 0,
	  "1: section name must be 1-64 of A-Z a-z 0-9 . _ + - (not . or ..)" },
	{ "dotdot section name", "[..]\n", 0,
	  "1: section name must be 1-64 of A-Z a-z 0-9 . _ + - (not . or ..)" },
	{ "empty section name", "[]\n", 0,
	  "1: section name must be 1-64 of A-Z a-z 0-9 . _ + - (not . or ..)" },
	{ "65-char section name",
	  "[a1234567890123456789012345678901234567890123456789012345678901234]\n", 0,
	  "1: section name must be 1-64 of A-Z a-z 0-9 . _ + - (not . or ..)" },
	{ "64-char section name ok",
	  "[a123456789012345678901234567890123456789012345678901234567890123]\nsha256 = " SHA_A
	  "\nurl = file:///x/a.tar.gz\nstrip = a\n", 0, NULL },
	{ "unclosed header", "[abc\n", 0, "1: section header must be [name]" },
	{ "duplicate section", SEC "\n[a]\n", 0, "6: duplicate section [a]" },
	{ "key before section", "# x\nsha256 = " SHA_A "\n", 0, "2: sha256 before the first [section]" },
	{ "unknown key", "[a]\nmd5 = 1234\n", 0, "2: unknown key 'md5'" },
	{ "no equals", "[a]\nurl file:///x/a.tar.gz\n", 0, "2: expected 'key = value'" },
	{ "no key", "[a]\n= x\n", 0, "2: expected 'key = value'" },
	{ "size-max suffix", "[a]\nsize-max = 12X\n", 0,
	  "2: size-max must be a positive number with an optional K, M or G suffix" },
	{ "size-max zero", "[a]\nsize-max = 0\n", 0,
	  "2: size-max must be a positive number with an optional K, M or G suffix" },
	{ "size-max empty", "[a]\nsize-max =\n", 0,
	  "2: size-max must be a positive number with an optional K, M or G suffix" },
	{ "size-max negative", "[a]\nsize-max = -1\n", 0,
	  "2: size-max must be a positive number with an optional K, M or G suffix" },
	{ "size-max overflow", "[a]\nsize-max = 18446744073709551616\n", 0, "2: size-max is too large" },
	{ "size-max suffix overflow", "[a]\nsize-max = 17179869184G\n", 0, "2: size-max is too large" },
	{ "size-max twice", "[a]\nsize-max = 1M\nsize-max = 2M\n", 0, "3: size-max given twice in [a]" },
	{ "sha256 twice", "[a]\nsha256 = " SHA_A "\nsha256 = " SHA_A "\n", 0, "3: sha256 given twice in [a]" },
	{ "strip twice", "[a]\nstrip = a\nstrip = b\n", 0, "3: strip given twice in [a]" },
	{ "ftp url", "[a]\nurl = ftp://x/a.tar.gz\n", 0,
	  "2: url must start with http://, https:// or file://" },
	{ "relative url", "[a]\nurl = a.tar.gz\n", 0,
	  "2: url must start with http://, https:// or file://" },
	{ "zip url", "[a]\nurl = https://x/a.zip\n", 0, "2: url must end in .tar.xz, .tar.bz2 or .tar.gz" },
	{ "bare .tar.gz", "[a]\nurl = https://x/a.tar.gz2\n", 0,
	  "2: url must end in .tar.xz, .tar.bz2 or .tar.gz" },
	{ "url with space", "[a]\nurl = file:///a b.tar.gz\n", 0,
	  "2: url must not contain spaces or control characters" },
	{ "urls disagree", "[a]\nurl = https://x/a.tar.xz\nurl = file:///a.tar.gz\n", 0,
	  "3: url is .tar.gz but the first url of [a] is .tar.xz" },
	{ "strip with slash", "[a]\nstrip = a/b\n", 0,
	  "2: strip must be a single directory name (no '/', not . or ..)" },
	{ "strip dotdot", "[a]\nstrip = ..\n", 0,
	  "2: strip must be a single directory name (no '/', not . or ..)" },
	{ "strip empty", "[a]\nstrip =\n", 0,
	  "2: strip must be a single directory name (no '/', not . or ..)" },
	{ "NUL byte", "[a]\nstrip = a\0b\n", 17, "2: NUL byte in line" },
	{ "NUL byte in a comment", "# a\0b\n[a]\n", 10, "1: NUL byte in line" },
	{ "unknown key shown safely", "[a]\nm\x1b" "d5 = 1\n", 0, "2: unknown key 'm?d5'" },
	{ "header with spaces", "[ a ]\n", 0,
	  "1: section name must be 1-64 of A-Z a-z 0-9 . _ + - (not . or ..)" },
};

/* Write sources.conf in the test's directory and load it; *pathp gets its path. */
static int load_text(const char *text, size_t len, struct sources **out, char *err, size_t errlen,
		     char **pathp)
{
	char *path = testlib_path("sources.conf");
	int rc;

	testlib_write_file(path, text, len);
	rc = sources_load(path, out, err, errlen);
	*pathp = path;
	return rc;
}

static void test_parse_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct sources *s = (struct sources *)1;
		char err[512] = "", *path, *want;
		int rc = load_text(c->text, c->len ? c->len : strlen(c->text), &s, err,
				   sizeof(err), &path);

		want = c->want_err ? testlib_asprintf("%s:%s", path, c->want_err) : testlib_asprintf("%s", "");
		if (strcmp(err, want) != 0 || rc != (c->want_err ? -EINVAL : 0))
			fprintf(stderr, "case '%s': rc %d, err '%s', want '%s'\n", c->name, rc, err, want);
		assert_string_equal(err, want);
		assert_int_equal(rc, c->want_err ? -EINVAL : 0);
		if (c->want_err)
			assert_null(s);
		else
			assert_non_null(s);
		sources_free(s);
		free(want);
		free(path);
	}
}

static void test_parse_line_too_long(void **state)
{
	char *text, *path, *want, err[512] = "";
	struct sources *s = NULL;
	size_t n = SOURCES_LINE_MAX + 10;

	(void)state;
	text = malloc(n + 16);
	assert_non_null(text);
	strcpy(text, "[a]\n#");
	memset(text + 5, 'x', n);
	strcpy(text + 5 + n, "\n");
	assert_int_equal(load_text(text, strlen(text), &s, err, sizeof(err), &path), -EINVAL);
	want = testlib_asprintf("%s:2: line longer than %d bytes", path, SOURCES_LINE_MAX);
	assert_string_equal(err, want);
	free(want);
	free(path);
	free(text);
}

static void test_parse_too_many_urls(void **state)
{
	char text[4096] = "[a]\n", *path, *want, err[512] = "";
	struct sources *s = NULL;

	(void)state;
	for (int i = 0; i <= SOURCES_URLS_MAX; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "url = file:///m%d/a.tar.gz\n", i);
	assert_int_equal(load_text(text, strlen(text), &s, err, sizeof(err), &path), -EINVAL);
	want = testlib_asprintf("%s:%d: more than %d urls in [a]", path, SOURCES_URLS_MAX + 2, SOURCES_URLS_MAX);
	assert_string_equal(err, want);
	free(want);
	free(path);
}

/* The shape of etc/sources.conf, read field by field. */
static void test_parse_good(void **state)
{
	static const char text[] =
		"# tinyboot source tarballs\n"
		"\n"
		"[linux-6.1-debian]\n"
		"sha256 = " SHA_A "\n"
		"size-max = 200M\n"
		"url = file:///usr/src/linux-source-6.1.tar.xz\n"
		"strip = linux-source-6.1\n"
		"\n"
		"# comment between sections\n"
		"[busybox-1.35.0]\n"
		"sha256 = FAEEB244C35A348A334F4A59E44626EE870FB07B6884D68C10AE8BC19F83A694\n"
		"size-max = 8m\n"
		"url = https://busybox.net/downloads/busybox-1.35.0.tar.bz2\n"
		"url = file:///var/cache/tinyboot/sources/busybox_1.35.0.orig.tar.bz2\n"
		"strip = busybox-1.35.0\n"
		"[x_y+z.1]\n"
		"url = http://example.org/get/x.tar.gz?mirror=1\n"
		"strip = x y\n"
		"sha256 = " SHA_A "\n";
	char *path, err[512] = "";
	struct sources *s = NULL;
	const struct source *src;

	(void)state;
	assert_int_equal(load_text(text, strlen(text), &s, err, sizeof(err), &path), 0);
	assert_string_equal(err, "");
	assert_int_equal(sources_count(s), 3);

	src = sources_at(s, 0);
	assert_string_equal(src->name, "linux-6.1-debian");
	assert_string_equal(src->sha256, SHA_A);
	assert_true(src->size_max == 200ull << 20);
	assert_int_equal(src->nurls, 1);
	assert_string_equal(src->urls[0], "file:///usr/src/linux-source-6.1.tar.xz");
	assert_string_equal(src->strip, "linux-source-6.1");

	src = sources_find(s, "busybox-1.35.0");
	assert_ptr_equal(src, sources_at(s, 1));
	assert_string_equal(src->sha256, "faeeb244c35a348a334f4a59e44626ee870fb07b6884d68c10ae8bc19f83a694");
	assert_true(src->size_max == 8ull << 20);
	assert_int_equal(src->nurls, 2);
	assert_string_equal(src->urls[0], "https://busybox.net/downloads/busybox-1.35.0.tar.bz2");
	assert_string_equal(src->urls[1], "file:///var/cache/tinyboot/sources/busybox_1.35.0.orig.tar.bz2");

	src = sources_find(s, "x_y+z.1");
	assert_non_null(src);
	assert_true(src->size_max == SOURCES_SIZE_MAX_DEFAULT);
	assert_string_equal(src->strip, "x y");

	assert_null(sources_find(s, "busybox"));
	assert_null(sources_at(s, 3));
	sources_free(s);
	free(path);
}

/* The real file, when the tests run from the top of the tree. */
static void test_parse_etc(void **state)
{
	struct sources *s = NULL;
	char err[512] = "";

	(void)state;
	if (access("etc/sources.conf", R_OK) != 0)
		skip();
	assert_int_equal(sources_load("etc/sources.conf", &s, err, sizeof(err)), 0);
	assert_true(sources_count(s) > 0);
	sources_free(s);
}

static void test_parse_missing_file(void **state)
{
	struct sources *s = (struct sources *)1;
	char err[512];

	(void)state;
	assert_int_equal(sources_load("/nonexistent/sources.conf", &s, err, sizeof(err)), -ENOENT);
	assert_null(s);
	assert_string_equal(err, "/nonexistent/sources.conf: No such file or directory");
}

static void test_null_tolerant(void **state)
{
	(void)state;
	sources_free(NULL);
	assert_int_equal(sources_count(NULL), 0);
	assert_null(sources_at(NULL, 0));
	assert_null(sources_find(NULL, "a"));
}

static void test_validators(void **state)
{
	(void)state;
	assert_true(sources_name_valid("linux-6.1-debian"));
	assert_true(sources_name_valid("x_y+z.1"));
	assert_false(sources_name_valid(""));
	assert_false(sources_name_valid("."));
	assert_false(sources_name_valid(".."));
	assert_false(sources_name_valid("a/b"));
	assert_true(sources_strip_valid("x y"));
	assert_false(sources_strip_valid("a/b"));
	assert_false(sources_strip_valid(".."));
	assert_false(sources_strip_valid("a\nb"));
	assert_string_equal(sources_url_ext("https://x/a.tar.xz"), "xz");
	assert_string_equal(sources_url_ext("http://x/a.tar.bz2?m=1"), "bz2");
	assert_string_equal(sources_url_ext("file:///a.tar.gz#top"), "gz");
	assert_null(sources_url_ext("https://x/a.tar.gz2"));
	assert_null(sources_url_ext(".tar.gz"));
}

#define T(f) cmocka_unit_test_setup_teardown(f, testlib_setup_tmpdir, testlib_teardown_tmpdir)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_parse_table),
		T(test_parse_line_too_long),
		T(test_parse_too_many_urls),
		T(test_parse_good),
		cmocka_unit_test(test_parse_etc),
		cmocka_unit_test(test_parse_missing_file),
		cmocka_unit_test(test_null_tolerant),
		cmocka_unit_test(test_validators),
	};

	return cmocka_run_group_tests_name("sources", tests, NULL, NULL);
}
