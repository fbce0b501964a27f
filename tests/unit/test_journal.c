/* test_journal.c - the journal: every complete line replayed in order whatever its length, a
 * torn last record cut at open (so the next record is never glued to it), and a failed append
 * (a full disk, emulated with RLIMIT_FSIZE) cut back, with its real errno. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "boot/journal.h"
#include "testlib.h"

/* What a replay handed over: the lines, joined with '|', and their lengths. */
struct seen {
	char *joined;
	size_t n, total;
	size_t lens[16];
};

static void seen_line(void *ctx, const char *line, size_t len)
{
	struct seen *s = ctx;

	if (s->n < 16)
		s->lens[s->n] = len;
	s->n++;
	/* long lines are only measured */
	if (len > 64) {
		line = "(long)";
		len = 6;
	}
	s->joined = realloc(s->joined, s->total + len + 2);
	assert_non_null(s->joined);
	memcpy(s->joined + s->total, line, len);
	s->total += len;
	s->joined[s->total++] = '|';
	s->joined[s->total] = '\0';
}

static struct journal *open_seen(const char *path, struct seen *s)
{
	struct journal *j = NULL;
	char err[512] = "";

	memset(s, 0, sizeof(*s));
	if (journal_open(path, seen_line, s, &j, err, sizeof(err)))
		fail_msg("journal_open: %s", err);
	return j;
}

static off_t size_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

static void test_replay_in_order(void **state)
{
	char *path = testlib_path("j.log"), *text;
	struct journal *j;
	struct seen s;

	(void)state;
	j = open_seen(path, &s); /* created empty */
	assert_int_equal(s.n, 0);
	assert_int_equal(journal_size(j), 0);
	assert_int_equal(journal_append(j, "one", 3, false), 0);
	assert_int_equal(journal_append(j, "two", 3, true), 0);
	assert_int_equal(journal_append(j, "", 0, false), 0); /* an empty record is a line too */
	assert_int_equal(journal_size(j), 9);
	/* a record never holds a newline: it would be two on replay */
	assert_int_equal(journal_append(j, "a\nb", 3, false), -EINVAL);
	journal_close(j);
	text = testlib_read_file(path, NULL);
	assert_string_equal(text, "one\ntwo\n\n");
	free(text);
	j = open_seen(path, &s);
	assert_string_equal(s.joined, "one|two||");
	journal_close(j);
	free(s.joined);
	journal_close(NULL);
	free(path);
}

/* A crash or a full disk left half a record; the next one must start on its own line. */
static void test_torn_tail_is_cut(void **state)
{
	char *path = testlib_path("j.log"), *text;
	struct journal *j;
	struct seen s;

	(void)state;
	testlib_write_text(path, "{\"a\":1}\n{\"b\":2}\n{\"type\":\"rep");
	j = open_seen(path, &s);
	assert_string_equal(s.joined, "{\"a\":1}|{\"b\":2}|");
	assert_int_equal(size_of(path), 16);
	assert_int_equal(journal_size(j), 16);
	assert_int_equal(journal_append(j, "{\"c\":3}", 7, true), 0);
	journal_close(j);
	free(s.joined);
	text = testlib_read_file(path, NULL);
	assert_string_equal(text, "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n");
	free(text);
	j = open_seen(path, &s);
	assert_string_equal(s.joined, "{\"a\":1}|{\"b\":2}|{\"c\":3}|");
	journal_close(j);
	free(s.joined);

	/* nothing but a torn record */
	testlib_write_text(path, "{\"half");
	j = open_seen(path, &s);
	assert_int_equal(s.n, 0);
	assert_int_equal(size_of(path), 0);
	journal_close(j);
	free(s.joined);
	free(path);
}

/* Lines of any length up to JOURNAL_RECORD_MAX come back; longer ones (never written) are
 * skipped and the lines after them still come back. */
static void test_long_lines(void **state)
{
	char *path = testlib_path("j.log"), *big = malloc(JOURNAL_RECORD_MAX + 2);
	FILE *f;
	struct journal *j;
	struct seen s;

	(void)state;
	assert_non_null(big);
	memset(big, 'x', JOURNAL_RECORD_MAX + 1);
	j = open_seen(path, &s);
	assert_int_equal(journal_append(j, big, 70 * 1024, true), 0); /* over the old 64 KiB */
	assert_int_equal(journal_append(j, "after", 5, false), 0);
	assert_int_equal(journal_append(j, big, JOURNAL_RECORD_MAX, false), 0);
	assert_int_equal(journal_append(j, big, JOURNAL_RECORD_MAX + 1, false), -EINVAL);
	journal_close(j);
	/* a line too long to be the journal's own, written by someone else */
	f = fopen(path, "a");
	assert_non_null(f);
	fwrite(big, 1, JOURNAL_RECORD_MAX + 1, f);
	fputs("\nlast\n", f);
	fclose(f);
	j = open_seen(path, &s);
	assert_int_equal(s.n, 4);
	assert_int_equal(s.lens[0], 70 * 1024);
	assert_int_equal(s.lens[2], JOURNAL_RECORD_MAX);
	assert_string_equal(s.joined, "(long)|after|(long)|last|");
	journal_close(j);
	free(s.joined);
	free(big);
	free(path);
}

/* The disk fills in the middle of a record: the part written is cut back, the error is the real
 * one (EFBIG here, ENOSPC on a full disk; never a stale errno), and once there is room again the
 * next record lands on a line of its own. */
static void test_failed_append_is_cut_back(void **state)
{
	char *path = testlib_path("j.log"), *text, rec[3000];
	struct rlimit old, lim;
	struct journal *j;
	struct seen s;
	int rc;

	(void)state;
	memset(rec, 'r', sizeof(rec));
	signal(SIGXFSZ, SIG_IGN);
	j = open_seen(path, &s);
	assert_int_equal(journal_append(j, "first", 5, true), 0);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 1000; /* room for part of the record */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	errno = EAGAIN;
	rc = journal_append(j, rec, sizeof(rec), true);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(rc, -EFBIG);
	assert_int_equal(size_of(path), 6);
	assert_int_equal(journal_size(j), 6);
	assert_int_equal(journal_append(j, rec, sizeof(rec), true), 0);
	assert_int_equal(journal_append(j, "last", 4, true), 0);
	journal_close(j);
	free(s.joined);
	j = open_seen(path, &s);
	assert_string_equal(s.joined, "first|(long)|last|");
	assert_int_equal(s.lens[1], sizeof(rec));
	journal_close(j);
	free(s.joined);
	text = testlib_read_file(path, NULL);
	assert_int_equal(strlen(text), 6 + sizeof(rec) + 1 + 5);
	free(text);
	signal(SIGXFSZ, SIG_DFL);
	free(path);
}

static void test_open_refuses_what_is_not_a_file(void **state)
{
	char *dir = testlib_path("sub"), *missing = testlib_path("no/such/j.log"), err[512] = "";
	struct journal *j = (struct journal *)1;

	(void)state;
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_true(journal_open(dir, seen_line, NULL, &j, err, sizeof(err)) < 0);
	assert_null(j);
	assert_int_equal(journal_open(missing, seen_line, NULL, &j, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no/such/j.log"));
	free(dir);
	free(missing);
}

#define T(f) cmocka_unit_test_setup_teardown(f, testlib_setup_tmpdir, testlib_teardown_tmpdir)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_replay_in_order),
		T(test_torn_tail_is_cut),
		T(test_long_lines),
		T(test_failed_append_is_cut_back),
		T(test_open_refuses_what_is_not_a_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
