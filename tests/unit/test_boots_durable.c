/* test_boots_durable.c - a new boot is on disk before it exists: boots_create_async answers each
 * creation once, after the sync that made it durable (one for many), with the boot in memory;
 * a record that cannot be written is refused at once and makes no boot; boots_create waits. */
#include <errno.h>
#include <pthread.h>
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
#include <cmocka.h>

#include "boot/boots.h"
#include "testlib.h"

#define DURABLE_N 64

struct created {
	struct boots *b;
	char token[BOOTS_TOKEN_LEN];
	pthread_mutex_t *lock;
	pthread_cond_t *cond;
	int *answers;
	int calls, rc;
	bool visible; /* the boot was in memory when its creation was answered */
};

static void created_done(void *arg, int rc)
{
	struct created *c = arg;
	json_t *j = boots_boot_json(c->b, c->token);

	c->visible = j != NULL;
	json_decref(j);
	pthread_mutex_lock(c->lock);
	c->calls++;
	c->rc = rc;
	(*c->answers)++;
	pthread_cond_signal(c->cond);
	pthread_mutex_unlock(c->lock);
}

static struct boots *open_ok(void)
{
	struct boots *b = NULL;
	char err[512] = "";

	if (boots_open(testlib_dir, &b, err, sizeof(err)))
		fail_msg("boots_open: %s", err);
	return b;
}

static long long journal_bytes(void)
{
	char *path = testlib_path("boots.log");
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	free(path);
	return (long long)st.st_size;
}

static void test_async_creations_answered_once_in_memory(void **state)
{
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
	struct created *c = calloc(DURABLE_N, sizeof(*c));
	struct boots *b = open_ok();
	unsigned long long syncs = boots_journal_syncs(b);
	int answers = 0;
	char name[40];

	(void)state;
	assert_non_null(c);
	for (int i = 0; i < DURABLE_N; i++) {
		struct boots_new n = { .machine = name, .variant = "net", .firmware = "bios" };

		snprintf(name, sizeof(name), "lab%d", i);
		c[i] = (struct created){ .b = b, .lock = &lock, .cond = &cond, .answers = &answers };
		pthread_mutex_lock(&lock); /* the committer may answer before the call returns */
		assert_int_equal(boots_create_async(b, &n, c[i].token, created_done, &c[i]), 0);
		pthread_mutex_unlock(&lock);
	}
	pthread_mutex_lock(&lock);
	while (answers < DURABLE_N)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	for (int i = 0; i < DURABLE_N; i++) {
		assert_int_equal(c[i].calls, 1);
		assert_int_equal(c[i].rc, 0);
		assert_true(c[i].visible);
	}
	/* each answer came after a sync; none made more than one */
	assert_true(boots_journal_syncs(b) > syncs);
	assert_true(boots_journal_syncs(b) - syncs <= DURABLE_N);
	boots_free(b);
	/* and they are all there after a restart */
	b = open_ok();
	for (int i = 0; i < DURABLE_N; i++) {
		json_t *j = boots_boot_json(b, c[i].token);

		assert_non_null(j);
		json_decref(j);
		assert_int_equal(c[i].calls, 1);
	}
	boots_free(b);
	free(c);
}

/* A record the journal cannot take (RLIMIT_FSIZE stands in for a full disk): refused at once
 * with the real error, done never called, no boot; a machine is required. */
static void test_unwritable_creation_refused_at_once(void **state)
{
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
	struct boots *b = open_ok();
	struct created c = { .b = b, .lock = &lock, .cond = &cond };
	struct rlimit old, lim;
	long long size;
	int answers = 0, rc;

	(void)state;
	c.answers = &answers;
	assert_int_equal(boots_create(b, &(struct boots_new){ .machine = "lab1" }, c.token), 0);
	size = journal_bytes();
	assert_int_equal(boots_create_async(b, &(struct boots_new){ .variant = "net" }, c.token, created_done, &c),
			 -EINVAL);
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)size + 20; /* a record starts, and does not fit */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	rc = boots_create_async(b, &(struct boots_new){ .machine = "lab2" }, c.token, created_done, &c);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(rc, -EFBIG);
	assert_int_equal(journal_bytes(), size);
	assert_null(boots_machine_json(b, "lab2"));
	boots_free(b);
	assert_int_equal(answers, 0);
}

/* boots_create returns once the boot is on disk: a sync was made for it. */
static void test_create_waits_for_its_sync(void **state)
{
	struct boots *b = open_ok();
	unsigned long long syncs = boots_journal_syncs(b);
	char token[BOOTS_TOKEN_LEN];
	json_t *j;

	(void)state;
	assert_int_equal(boots_create(b, &(struct boots_new){ .machine = "lab1" }, token), 0);
	assert_int_equal(boots_journal_syncs(b), syncs + 1);
	j = boots_boot_json(b, token);
	assert_non_null(j);
	json_decref(j);
	boots_free(b);
}

#define T(f) cmocka_unit_test_setup_teardown(f, testlib_setup_tmpdir, testlib_teardown_tmpdir)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_async_creations_answered_once_in_memory),
		T(test_unwritable_creation_refused_at_once),
		T(test_create_waits_for_its_sync),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
