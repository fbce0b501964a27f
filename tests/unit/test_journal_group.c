/* test_journal_group.c - group commit: records written without a sync become durable together
 * with one; a failed sync takes back every group record not yet durable (also those written
 * during it), cuts the file where the first began and writes the other records again; a
 * rewrite waits while group records are pending; boots_report_async answers through its
 * callback, once, after memory took the report. */
#include <errno.h>
#include <pthread.h>
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

#include "boot/boots.h"
#include "boot/journal.h"
#include "testlib.h"

static void ignore_line(void *ctx, const char *line, size_t len)
{
	(void)line;
	(void)len;
	(*(int *)ctx)++;
}

static struct journal *open_counted(const char *path, int *lines)
{
	struct journal *j = NULL;
	char err[512] = "";

	*lines = 0;
	if (journal_open(path, ignore_line, lines, &j, err, sizeof(err)))
		fail_msg("journal_open: %s", err);
	return j;
}

static int no_emit(void *ctx, struct journal_writer *w)
{
	(void)ctx;
	(void)w;
	return 0;
}

static void test_one_sync_for_many(void **state)
{
	char *path = testlib_path("j.log"), *text, archive[4200];
	struct journal *j;
	off_t upto;
	int lines;

	(void)state;
	j = open_counted(path, &lines);
	assert_int_equal(journal_write(j, "boot", 4, false), 0);
	assert_false(journal_pending(j)); /* not a group record: nothing waits */
	assert_int_equal(journal_write(j, "r1", 2, true), 0);
	assert_int_equal(journal_write(j, "event", 5, false), 0);
	assert_int_equal(journal_write(j, "r2", 2, true), 0);
	assert_true(journal_pending(j));
	/* the rotation writes what memory holds: not while records wait for their sync */
	assert_int_equal(journal_rewrite(j, no_emit, NULL, archive, sizeof(archive)), -EBUSY);
	upto = journal_size(j);
	assert_int_equal(journal_sync(j), 0);
	/* written while the sync ran: waits for the next one */
	assert_int_equal(journal_write(j, "r3", 2, true), 0);
	journal_synced(j, upto, 0);
	assert_true(journal_pending(j));
	assert_int_equal(journal_syncs(j), 1);
	upto = journal_size(j);
	assert_int_equal(journal_sync(j), 0);
	journal_synced(j, upto, 0);
	assert_false(journal_pending(j));
	assert_int_equal(journal_syncs(j), 2);
	journal_close(j);
	text = testlib_read_file(path, NULL);
	assert_string_equal(text, "boot\nr1\nevent\nr2\nr3\n");
	free(text);
	free(path);
}

static void test_failed_sync_takes_group_records_back(void **state)
{
	char *path = testlib_path("j.log"), *text;
	struct journal *j;
	off_t upto;
	int lines;

	(void)state;
	j = open_counted(path, &lines);
	assert_int_equal(journal_write(j, "before", 6, false), 0);
	assert_int_equal(journal_write(j, "r1", 2, true), 0);
	assert_int_equal(journal_write(j, "boot-of-another", 15, false), 0);
	assert_int_equal(journal_write(j, "r2", 2, true), 0);
	upto = journal_size(j);
	/* during the sync: a report that goes back with it, an event that stays */
	assert_int_equal(journal_write(j, "r3", 2, true), 0);
	assert_int_equal(journal_write(j, "event", 5, false), 0);
	journal_synced(j, upto, -EIO);
	assert_false(journal_pending(j));
	assert_int_equal(journal_syncs(j), 0);
	assert_int_equal(journal_size(j), (off_t)strlen("before\nboot-of-another\nevent\n"));
	/* the next record follows on a line of its own */
	assert_int_equal(journal_append(j, "r1-again", 8, true), 0);
	journal_close(j);
	text = testlib_read_file(path, NULL);
	assert_string_equal(text, "before\nboot-of-another\nevent\nr1-again\n");
	free(text);
	j = open_counted(path, &lines);
	assert_int_equal(lines, 4);
	journal_close(j);
	free(path);
}

/* The records a sync covered stay when a later one fails. */
static void test_failed_sync_keeps_what_an_earlier_one_made_durable(void **state)
{
	char *path = testlib_path("j.log"), *text;
	struct journal *j;
	off_t upto;
	int lines;

	(void)state;
	j = open_counted(path, &lines);
	assert_int_equal(journal_write(j, "r1", 2, true), 0);
	upto = journal_size(j);
	assert_int_equal(journal_write(j, "e1", 2, false), 0);
	assert_int_equal(journal_write(j, "r2", 2, true), 0);
	assert_int_equal(journal_sync(j), 0);
	journal_synced(j, upto, 0);
	upto = journal_size(j);
	journal_synced(j, upto, -ENOSPC);
	journal_close(j);
	text = testlib_read_file(path, NULL);
	assert_string_equal(text, "r1\ne1\n");
	free(text);
	free(path);
}

struct answer {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int calls, rc;
};

static void answered(void *arg, int rc)
{
	struct answer *a = arg;

	pthread_mutex_lock(&a->lock);
	a->calls++;
	a->rc = rc;
	pthread_cond_signal(&a->cond);
	pthread_mutex_unlock(&a->lock);
}

static void test_async_report_answers_once_after_memory(void **state)
{
	struct answer a = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 };
	struct boots_new n = { .machine = "lab1", .variant = "net", .timeout_s = 600 };
	char token[BOOTS_TOKEN_LEN], err[256];
	json_t *rep, *j;
	struct boots *b;
	int lines;

	(void)state;
	assert_int_equal(boots_open(testlib_dir, &b, err, sizeof(err)), 0);
	assert_int_equal(boots_create(b, &n, token), 0);
	rep = json_pack("{s:s, s:s, s:b}", "id", "lab1", "boot", token, "ok", 1);
	assert_int_equal(boots_report_async(b, token, "lab1", true, rep, answered, &a), 0);
	/* a second report while the first waits for its sync: refused at once */
	assert_int_equal(boots_report_async(b, token, "lab1", true, rep, answered, &a), -EALREADY);
	assert_int_equal(boots_report_async(b, token, "lab2", true, rep, answered, &a), -EPERM);
	pthread_mutex_lock(&a.lock);
	while (a.calls == 0)
		pthread_cond_wait(&a.cond, &a.lock);
	pthread_mutex_unlock(&a.lock);
	assert_int_equal(a.rc, 0);
	j = boots_boot_json(b, token);
	assert_string_equal(json_string_value(json_object_get(j, "result")), "ok");
	json_decref(j);
	assert_true(boots_journal_syncs(b) >= 1);
	assert_int_equal(boots_report(b, token, "lab1", true, rep), -EALREADY);
	boots_free(b);
	assert_int_equal(a.calls, 1);
	json_decref(rep);
	{
		char *path = testlib_path("boots.log");
		struct journal *jl = open_counted(path, &lines);

		assert_int_equal(lines, 2); /* the boot and its report */
		journal_close(jl);
		free(path);
	}
}

#define T(f) cmocka_unit_test_setup_teardown(f, testlib_setup_tmpdir, testlib_teardown_tmpdir)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_one_sync_for_many),
		T(test_failed_sync_takes_group_records_back),
		T(test_failed_sync_keeps_what_an_earlier_one_made_durable),
		T(test_async_report_answers_once_after_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
