/* builder_private.h - what builder.c shares with builder_queue.c and builder_worker.c, and no one
 * else: the builder and its builds, and the few helpers both sides of the queue use. */
#ifndef TINYBOOT_BUILDER_PRIVATE_H
#define TINYBOOT_BUILDER_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>

#include "build/build.h"
#include "build/builder.h"
#include "lib/histogram.h"

struct keymemo;
struct runtime;

struct waiter {
	void (*fn)(void *arg);
	void *arg;
	struct waiter *next;
};

struct build {
	char id[DIGEST_HEX_LEN];
	char variant[256];
	enum build_state state;
	struct build_progress progress;
	double queued_at, started_at, finished_at;
	char artifact[DIGEST_HEX_LEN];
	char error[1024];
	struct variant *def;     /* owned until the worker takes it */
	struct runtime *rt;      /* reference held while queued or running */
	struct sources *sources;
	struct waiter *waiters;
	struct build *next_queued;
	struct build *next;      /* every build of this run */
};

struct builder {
	struct store *store;
	struct etag_cache *digests;
	struct keymemo *memo; /* variant -> id while no input changes (b->compiler is fixed) */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_mutex_t publish;  /* an artifact published, or retention removing */
	pthread_rwlock_t objects; /* read: a build runs; write: retention removes objects */
	void (*on_publish)(void *arg);
	void *on_publish_arg;
	struct build *all;
	struct build *queue_head, *queue_tail;
	pthread_t *threads;
	unsigned nthreads;
	bool stopping;
	volatile int cancel;
	char compiler[256];
	struct histogram durations[2]; /* finished builds: [0] done, [1] failed; cancelled ones not */
};

/* builder_worker.c: a worker thread (pthread_create's start routine; arg is the builder). */
void *builder_worker_main(void *arg);
/* Set a build's step (its ctx.set_step, and "queued" when the queue takes it). */
void builder_set_step(struct build_progress *p, const char *step);
/* Call every waiter of the list and free it; no lock is held. */
void builder_answer(struct waiter *w);
/* Let go of what a build was given to run (variant, sources, runtime); it runs no more. */
void builder_drop_inputs(struct build *bd);

#endif
