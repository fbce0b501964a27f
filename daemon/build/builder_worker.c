/* builder_worker.c - the worker threads: take the next queued build, run its steps, publish its
 * artifact or remember its failure, answer its waiters; and the locks that keep retention
 * (builder_quiesce) off a publish and, when it removes objects, off a running build. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build/builder_private.h"
#include "build/store.h"
#include "conf/runtime.h"
#include "lib/histogram.h"
#include "lib/log.h"

/* Inputs are read while the build runs: if any changed since the key was computed, this
 * build's result belongs to no key, and is neither published nor remembered as a failure. */
static bool builder_worker_inputs_unchanged(struct builder *b, struct build *bd)
{
	struct variant *v = NULL;
	char key[DIGEST_HEX_LEN], err[1024];
	bool same;

	if (variant_parse(&bd->rt->opts, bd->variant, &v, err, sizeof(err)))
		return false;
	same = buildkey_compute(&bd->rt->opts, v, bd->sources, b->compiler, b->digests, key, err,
				sizeof(err)) == 0 &&
	       strcmp(key, bd->id) == 0;
	variant_free(v);
	return same;
}

void builder_on_publish(struct builder *b, void (*fn)(void *arg), void *arg)
{
	b->on_publish = fn;
	b->on_publish_arg = arg;
}

void builder_quiesce(struct builder *b, void (*fn)(void *arg, bool idle), void *arg)
{
	bool idle;

	pthread_mutex_lock(&b->publish);
	/* a worker holds the read side from dequeue to publish: never wait for a build */
	idle = pthread_rwlock_trywrlock(&b->objects) == 0;
	fn(arg, idle);
	if (idle)
		pthread_rwlock_unlock(&b->objects);
	pthread_mutex_unlock(&b->publish);
}

static int builder_worker_run(struct builder *b, struct build *bd)
{
	struct build_ctx ctx;
	char log_path[BUILD_PATH_MAX] = "", artifact[DIGEST_HEX_LEN] = "";
	double started = build_now();
	int rc;

	memset(&ctx, 0, sizeof(ctx));
	ctx.store = b->store;
	ctx.o = &bd->rt->opts;
	ctx.v = bd->def;
	ctx.sources = bd->sources;
	ctx.digests = b->digests;
	ctx.compiler = b->compiler;
	ctx.jobs = bd->rt->opts.build_jobs;
	if (!ctx.jobs) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		ctx.jobs = cpus > 0 ? (unsigned)cpus : 1;
	}
	ctx.use_ccache = access("/usr/bin/ccache", X_OK) == 0;
	ctx.cancel = &b->cancel;
	ctx.progress = &bd->progress;
	ctx.set_step = builder_set_step;

	ctx.log_fd = store_log_open(b->store, bd->id, log_path, sizeof(log_path));
	if (ctx.log_fd < 0) {
		rc = ctx.log_fd;
		snprintf(ctx.error, sizeof(ctx.error), "open %s: %s", log_path, strerror(-rc));
		goto done;
	}
	build_log(&ctx, "# tinyboot build %s of %s (%u jobs%s)", bd->id, bd->variant, ctx.jobs,
		  ctx.use_ccache ? ", ccache" : "");
	log_info("build %s (%s): started", bd->variant, bd->id);
	rc = kbuild_run(&ctx);
	if (!rc)
		rc = bbuild_run(&ctx);
	if (!rc && !builder_worker_inputs_unchanged(b, bd)) {
		rc = -ESTALE;
		snprintf(ctx.error, sizeof(ctx.error), "the inputs of %s changed during the build; ask again", bd->variant);
	}
	if (!rc && b->cancel) {
		rc = -ECANCELED; /* stopping: no time for the initramfs */
		snprintf(ctx.error, sizeof(ctx.error), "cancelled (the daemon is stopping)");
	}
	if (!rc) {
		pthread_mutex_lock(&b->publish);
		rc = artifact_publish(&ctx, bd->id, log_path, started, artifact);
		pthread_mutex_unlock(&b->publish);
	}
done:
	if (rc && !ctx.error[0])
		snprintf(ctx.error, sizeof(ctx.error), "%s", strerror(-rc));
	if (rc)
		build_log(&ctx, "# %s: %s", b->cancel ? "CANCELLED" : "FAILED", ctx.error);
	if (ctx.log_fd >= 0)
		close(ctx.log_fd);

	pthread_mutex_lock(&b->lock);
	bd->finished_at = build_now();
	if (rc) {
		bd->state = BUILD_FAILED;
		snprintf(bd->error, sizeof(bd->error), "%.1000s", ctx.error);
	} else {
		bd->state = BUILD_DONE;
		memcpy(bd->artifact, artifact, sizeof(artifact));
	}
	struct waiter *w = bd->waiters;

	bd->waiters = NULL;
	pthread_mutex_unlock(&b->lock);

	/* before the waiters run: whoever saw the build finish finds it counted */
	if (!b->cancel)
		histogram_observe(&b->durations[rc ? 1 : 0], bd->finished_at - started);
	if (rc && rc != -ESTALE && !b->cancel && !builder_worker_inputs_unchanged(b, bd)) {
		rc = -ESTALE; /* failed on inputs that are gone: not a verdict on the current ones */
		log_warnx("build %s (%s): inputs changed during the build: %s", bd->variant, bd->id, ctx.error);
	} else if (rc && rc != -ESTALE && !b->cancel) {
		/* remembered across restarts: retried only when asked or when the inputs change */
		store_failure_put(b->store, bd->id, ctx.error);
		log_warnx("build %s (%s): failed: %s", bd->variant, bd->id, ctx.error);
	} else if (!rc) {
		log_info("build %s (%s): artifact %s in %.1f s", bd->variant, bd->id, artifact,
			 bd->finished_at - started);
	} else if (b->cancel) {
		/* not remembered: the next daemon builds it again; what it left is in tmp/ or nowhere */
		log_info("build %s (%s): cancelled after %.1f s", bd->variant, bd->id,
			 bd->finished_at - started);
	}
	builder_answer(w);
	free(ctx.kernel_config);
	free(ctx.busybox_config);
	return rc;
}

void *builder_worker_main(void *arg)
{
	struct builder *b = arg;
	int rc;

	pthread_mutex_lock(&b->lock);
	for (;;) {
		struct build *bd;

		while (!b->stopping && !b->queue_head)
			pthread_cond_wait(&b->wake, &b->lock);
		if (b->stopping)
			break;
		bd = b->queue_head;
		b->queue_head = bd->next_queued;
		if (!b->queue_head)
			b->queue_tail = NULL;
		bd->state = BUILD_RUNNING;
		bd->started_at = build_now();
		pthread_mutex_unlock(&b->lock);

		pthread_rwlock_rdlock(&b->objects);
		rc = builder_worker_run(b, bd);
		pthread_rwlock_unlock(&b->objects);
		if (!rc && !b->cancel && b->on_publish)
			b->on_publish(b->on_publish_arg);

		pthread_mutex_lock(&b->lock);
		builder_drop_inputs(bd);
	}
	pthread_mutex_unlock(&b->lock);
	return NULL;
}
