/* builder.c - the builder's life (start the workers, shut down, free), what it says about itself,
 * and the helpers its queue (builder_queue.c) and its workers (builder_worker.c) share. */
#include "build/builder.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "build/builder_private.h"
#include "build/keymemo.h"
#include "build/store.h"
#include "conf/runtime.h"
#include "lib/histogram.h"
#include "lib/spawn.h"

/* Kernel builds take minutes to most of an hour; a cache hit on every step takes seconds. */
static const double builder_duration_bounds[] = { 1, 5, 15, 30, 60, 120, 300, 600, 1200, 2400 };

const char *builder_state_name(enum build_state s)
{
	static const char *const names[] = { "queued", "running", "done", "failed" };

	return s <= BUILD_FAILED ? names[s] : "?";
}

const char *builder_compiler(const struct builder *b) { return b->compiler; }

struct store *builder_store(const struct builder *b) { return b->store; }

const struct histogram *builder_durations(const struct builder *b, bool failed)
{
	return &b->durations[failed ? 1 : 0];
}

void builder_set_step(struct build_progress *p, const char *step)
{
	snprintf(p->step, sizeof(p->step), "%s", step);
}

void builder_drop_inputs(struct build *bd)
{
	variant_free(bd->def);
	bd->def = NULL;
	sources_free(bd->sources);
	bd->sources = NULL;
	runtime_put(bd->rt);
	bd->rt = NULL;
}

void builder_answer(struct waiter *w)
{
	while (w) {
		struct waiter *next = w->next;

		w->fn(w->arg);
		free(w);
		w = next;
	}
}

static void builder_version_line(void *ctx, const char *line)
{
	char *out = ctx;

	if (!out[0])
		snprintf(out, 256, "%s", line);
}

int builder_new(struct etag_cache *digests, const char *state_dir, unsigned workers,
		struct builder **out)
{
	char *argv[] = { "gcc", "--version", NULL };
	struct spawn_opts so = { .log_fd = -1, .on_line = builder_version_line };
	struct builder *b;
	int rc;

	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->digests = digests;
	b->memo = keymemo_new();
	if (!b->memo) {
		free(b);
		return -ENOMEM;
	}
	for (size_t i = 0; i < 2; i++)
		histogram_init(&b->durations[i], builder_duration_bounds,
			       sizeof(builder_duration_bounds) / sizeof(builder_duration_bounds[0]));
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->wake, NULL);
	pthread_mutex_init(&b->publish, NULL);
	pthread_rwlock_init(&b->objects, NULL);
	rc = store_open(state_dir, &b->store);
	if (rc) {
		builder_free(b);
		return rc;
	}
	/* the compiler is an input of every build key */
	so.ctx = b->compiler;
	if (spawn_run(argv, &so) != 0 || !b->compiler[0])
		snprintf(b->compiler, sizeof(b->compiler), "unknown");
	b->threads = calloc(workers, sizeof(*b->threads));
	if (!b->threads) {
		builder_free(b);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < workers; i++) {
		rc = pthread_create(&b->threads[i], NULL, builder_worker_main, b);
		if (rc) {
			builder_free(b);
			return -rc;
		}
		b->nthreads++;
	}
	*out = b;
	return 0;
}

void builder_shutdown(struct builder *b)
{
	struct waiter *all = NULL;

	if (!b)
		return;
	pthread_mutex_lock(&b->lock);
	b->stopping = true;
	b->cancel = 1;
	pthread_cond_broadcast(&b->wake);
	/* queued builds will never run and running ones are being cancelled: every waiter gets
	 * its answer now (the daemon is stopping), not when a worker gets round to it */
	for (struct build *bd = b->all; bd; bd = bd->next) {
		while (bd->waiters) {
			struct waiter *w = bd->waiters;

			bd->waiters = w->next;
			w->next = all;
			all = w;
		}
	}
	pthread_mutex_unlock(&b->lock);
	builder_answer(all);
}

void builder_free(struct builder *b)
{
	struct build *bd, *next;

	if (!b)
		return;
	builder_shutdown(b);
	for (unsigned i = 0; i < b->nthreads; i++)
		pthread_join(b->threads[i], NULL);
	free(b->threads);
	for (bd = b->all; bd; bd = next) {
		next = bd->next;
		builder_drop_inputs(bd);
		free(bd);
	}
	store_free(b->store);
	keymemo_free(b->memo);
	pthread_mutex_destroy(&b->lock);
	pthread_cond_destroy(&b->wake);
	pthread_mutex_destroy(&b->publish);
	pthread_rwlock_destroy(&b->objects);
	free(b);
}
