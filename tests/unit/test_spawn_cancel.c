/* test_spawn_cancel.c - cancel_signal: the process group gets it first (make deletes the target
 * it was writing), and SIGKILL after SPAWN_CANCEL_GRACE_S when it does not go. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "lib/spawn.h"

#define SH(script) ((char *const[]){ "sh", "-c", (char *)(script), NULL })

/* Cancel once the child says it is ready (its trap is set), and keep what it says after. */
struct watch {
	volatile int cancel;
	char last[256];
};

static void watch_line(void *ctx, const char *line)
{
	struct watch *w = ctx;

	if (strcmp(line, "ready") == 0)
		w->cancel = 1;
	snprintf(w->last, sizeof(w->last), "%s", line);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run(const char *script, struct watch *w)
{
	struct spawn_opts o = { .log_fd = -1, .on_line = watch_line, .ctx = w, .cancel = &w->cancel,
				.cancel_signal = SIGTERM };

	memset(w, 0, sizeof(*w));
	return spawn_run(SH(script), &o);
}

static void test_term_first(void **state)
{
	struct watch w;
	double start = now();

	(void)state;
	/* the shell's trap runs once its short sleep ends (the sleep gets SIGTERM too) */
	assert_int_equal(run("trap 'echo cleaned up; exit 3' TERM; echo ready; while :; do sleep 0.1; done", &w), 3);
	assert_string_equal(w.last, "cleaned up");
	assert_true(now() - start < SPAWN_CANCEL_GRACE_S);
}

static void test_kill_after_grace(void **state)
{
	struct watch w;
	double start = now(), took;

	(void)state;
	/* an ignored signal stays ignored across exec: neither the shell nor the sleep goes */
	assert_int_equal(run("trap '' TERM; echo ready; sleep 30; echo not reached", &w), 128 + 9);
	took = now() - start;
	assert_true(took >= SPAWN_CANCEL_GRACE_S - 0.5);
	assert_true(took < SPAWN_CANCEL_GRACE_S + 5);
	assert_string_equal(w.last, "ready");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_term_first),
		cmocka_unit_test(test_kill_after_grace),
	};

	return cmocka_run_group_tests_name("spawn_cancel", tests, NULL, NULL);
}
