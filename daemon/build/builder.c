/* builder.c - the build queue: single flight per input key, worker threads, waiters, and the
 * answer for a variant (this run's builds, then the store's finished ones). */
#include "build/builder.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build/build.h"
#include "build/keymemo.h"
#include "build/store.h"
#include "conf/runtime.h"
#include "lib/histogram.h"
#include "lib/log.h"
#include "lib/spawn.h"

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

void builder_counts(struct builder *b, unsigned *queued, unsigned *running)
{
	*queued = *running = 0;
	pthread_mutex_lock(&b->lock);
	for (const struct build *bd = b->all; bd; bd = bd->next) {
		*queued += bd->state == BUILD_QUEUED;
		*running += bd->state == BUILD_RUNNING;
	}
	pthread_mutex_unlock(&b->lock);
}

static void builder_set_step(struct build_progress *p, const char *step)
{
	snprintf(p->step, sizeof(p->step), "%s", step);
}

/* Copy of a build's state for callers; the lock is held. */
static void builder_info(const struct build *bd, struct build_info *info)
{
	double now = build_now();

	memset(info, 0, sizeof(*info));
	memcpy(info->id, bd->id, sizeof(info->id));
	snprintf(info->variant, sizeof(info->variant), "%s", bd->variant);
	info->state = bd->state;
	snprintf(info->step, sizeof(info->step), "%s", bd->progress.step);
	info->objects_done = atomic_load(&bd->progress.objects_done);
	info->objects_expected = atomic_load(&bd->progress.objects_expected);
	if (bd->state == BUILD_RUNNING)
		info->elapsed = now - bd->started_at;
	else if (bd->finished_at > 0 && bd->started_at > 0)
		info->elapsed = bd->finished_at - bd->started_at;
	memcpy(info->artifact, bd->artifact, sizeof(info->artifact));
	snprintf(info->error, sizeof(info->error), "%s", bd->error);
}

/* Builds queued or running; the lock is held. */
static unsigned builder_active(const struct builder *b)
{
	unsigned n = 0;

	for (const struct build *bd = b->all; bd; bd = bd->next)
		n += bd->state == BUILD_QUEUED || bd->state == BUILD_RUNNING;
	return n;
}

static struct build *builder_find(struct builder *b, const char *id)
{
	for (struct build *bd = b->all; bd; bd = bd->next)
		if (strcmp(bd->id, id) == 0)
			return bd;
	return NULL;
}

/* ---- the worker side ---- */

/* Inputs are read while the build runs: if any changed since the key was computed, this
 * build's result belongs to no key, and is neither published nor remembered as a failure. */
static bool builder_inputs_unchanged(struct builder *b, struct build *bd)
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

static int builder_run_one(struct builder *b, struct build *bd)
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
	if (!rc && !builder_inputs_unchanged(b, bd)) {
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
	if (rc && rc != -ESTALE && !b->cancel && !builder_inputs_unchanged(b, bd)) {
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
	while (w) {
		struct waiter *next = w->next;

		w->fn(w->arg);
		free(w);
		w = next;
	}
	free(ctx.kernel_config);
	free(ctx.busybox_config);
	return rc;
}

static void *builder_worker(void *arg)
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
		rc = builder_run_one(b, bd);
		pthread_rwlock_unlock(&b->objects);
		if (!rc && !b->cancel && b->on_publish)
			b->on_publish(b->on_publish_arg);

		pthread_mutex_lock(&b->lock);
		variant_free(bd->def);
		bd->def = NULL;
		sources_free(bd->sources);
		bd->sources = NULL;
		runtime_put(bd->rt);
		bd->rt = NULL;
	}
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

/* ---- the request side ---- */

/* A finished build on disk: the index names an artifact that exists, or a failure record. */
static int builder_on_disk(struct builder *b, const char *id, struct build_info *info)
{
	if (store_index_get(b->store, id, info->artifact) == 0) {
		info->state = BUILD_DONE;
		return 0;
	}
	if (store_failure_get(b->store, id, info->error, sizeof(info->error), &info->log_tail) == 0) {
		info->state = BUILD_FAILED;
		return 0;
	}
	return -ENOENT;
}

int builder_get(struct builder *b, const char *id, struct build_info *info)
{
	struct build *bd;

	memset(info, 0, sizeof(*info));
	if (!digest_is_hex(id))
		return -ENOENT;
	pthread_mutex_lock(&b->lock);
	bd = builder_find(b, id);
	if (bd) {
		builder_info(bd, info);
		pthread_mutex_unlock(&b->lock);
		if (info->state == BUILD_FAILED)
			info->log_tail = store_log_tail(b->store, id);
		return 0;
	}
	pthread_mutex_unlock(&b->lock);
	memcpy(info->id, id, DIGEST_HEX_LEN);
	return builder_on_disk(b, id, info);
}

int builder_list(struct builder *b, struct build_info **out, size_t *n)
{
	struct build_info *list = NULL;
	size_t count = 0, i = 0;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&b->lock);
	for (struct build *bd = b->all; bd; bd = bd->next)
		count++;
	if (count) {
		list = calloc(count, sizeof(*list));
		if (!list) {
			pthread_mutex_unlock(&b->lock);
			return -ENOMEM;
		}
		for (struct build *bd = b->all; bd; bd = bd->next)
			builder_info(bd, &list[i++]);
	}
	pthread_mutex_unlock(&b->lock);
	*out = list;
	*n = count;
	return 0;
}

/* The variant and the sources it is built from; errors as builder_request's. */
static int builder_parse(struct runtime *rt, const char *variant, struct variant **v,
			 struct sources **s, char *err, size_t errlen)
{
	int rc = variant_parse(&rt->opts, variant, v, err, errlen);

	if (rc)
		return rc == -ENOENT || rc == -EINVAL || rc == -ENOMEM ? rc : -EBADMSG;
	rc = sources_load(rt->opts.sources_file, s, err, errlen);
	return rc == -ENOMEM ? rc : rc ? -EBADMSG : 0;
}

int builder_request(struct builder *b, struct runtime *rt, const char *variant, bool start,
		    bool retry, struct build_info *info, char *err, size_t errlen)
{
	struct variant *v = NULL;
	struct sources *s = NULL;
	char id[DIGEST_HEX_LEN], name[VARIANT_NAME_MAX + 1];
	struct build *bd;
	unsigned active;
	uint64_t gen;
	int rc;

	memset(info, 0, sizeof(*info));
	/* on every image and script request: a repeat costs a lock and one read(2) (keymemo.c) */
	if (!keymemo_get(b->memo, rt, variant, id, name, &gen)) {
		rc = builder_parse(rt, variant, &v, &s, err, errlen);
		if (!rc)
			rc = buildkey_compute(&rt->opts, v, s, b->compiler, b->digests, id, err, errlen);
		if (rc) {
			/* the name is fine: what the daemon builds it from is not */
			rc = v && rc != -ENOMEM ? -EBADMSG : rc;
			goto out;
		}
		keymemo_put(b->memo, rt, variant, gen, id, v->name);
		snprintf(name, sizeof(name), "%s", v->name);
	}

	pthread_mutex_lock(&b->lock);
	bd = builder_find(b, id);
	if (bd && (bd->state == BUILD_QUEUED || bd->state == BUILD_RUNNING || bd->state == BUILD_DONE ||
		   !retry)) {
		builder_info(bd, info);
		pthread_mutex_unlock(&b->lock);
		if (info->state == BUILD_FAILED)
			info->log_tail = store_log_tail(b->store, id);
		goto out;
	}
	pthread_mutex_unlock(&b->lock);

	memcpy(info->id, id, sizeof(id));
	snprintf(info->variant, sizeof(info->variant), "%s", name);
	if (!bd && builder_on_disk(b, id, info) == 0 &&
	    (info->state == BUILD_DONE || !retry))
		goto out;
	free(info->log_tail);
	info->log_tail = NULL;
	if (!start) {
		rc = -EAGAIN; /* the name is fine, the artifact does not exist yet */
		snprintf(err, errlen, "%s has not been built", name);
		goto out;
	}
	/* a memo hit parsed nothing: a build needs the variant and its sources (the worker
	 * checks again that they still make this id before it publishes) */
	if (!v) {
		rc = builder_parse(rt, variant, &v, &s, err, errlen);
		if (rc)
			goto out;
	}
	if (retry)
		store_failure_clear(b->store, id);

	pthread_mutex_lock(&b->lock);
	bd = builder_find(b, id); /* another request may have queued it meanwhile */
	if (bd && bd->state != BUILD_FAILED) {
		builder_info(bd, info);
		pthread_mutex_unlock(&b->lock);
		goto out;
	}
	if (b->stopping) {
		pthread_mutex_unlock(&b->lock);
		rc = -ESHUTDOWN;
		snprintf(err, errlen, "the daemon is stopping");
		goto out;
	}
	/* counted under the lock that queues: concurrent requests cannot overshoot the bound */
	active = builder_active(b);
	if (active >= rt->opts.max_queued_builds) {
		pthread_mutex_unlock(&b->lock);
		rc = -EBUSY;
		snprintf(err, errlen, "%u builds are queued or running (max-queued-builds %u): %s not queued; "
			 "ask again later", active, rt->opts.max_queued_builds, name);
		goto out;
	}
	if (!bd) {
		bd = calloc(1, sizeof(*bd));
		if (!bd) {
			pthread_mutex_unlock(&b->lock);
			rc = -ENOMEM;
			goto out;
		}
		memcpy(bd->id, id, sizeof(id));
		bd->next = b->all;
		b->all = bd;
	}
	snprintf(bd->variant, sizeof(bd->variant), "%s", v->name);
	bd->state = BUILD_QUEUED;
	bd->error[0] = '\0';
	bd->started_at = bd->finished_at = 0;
	bd->queued_at = build_now();
	builder_set_step(&bd->progress, "queued");
	atomic_store(&bd->progress.objects_done, 0);
	atomic_store(&bd->progress.objects_expected, 0);
	bd->def = v;
	bd->sources = s;
	bd->rt = rt;
	atomic_fetch_add(&rt->refs, 1);
	v = NULL;
	s = NULL;
	bd->next_queued = NULL;
	if (b->queue_tail)
		b->queue_tail->next_queued = bd;
	else
		b->queue_head = bd;
	b->queue_tail = bd;
	builder_info(bd, info);
	pthread_cond_signal(&b->wake);
	pthread_mutex_unlock(&b->lock);
	log_info("build %s (%s): queued", info->variant, id);
out:
	variant_free(v);
	sources_free(s);
	return rc;
}

int builder_wait(struct builder *b, const char *id, void (*fn)(void *arg), void *arg)
{
	struct build *bd;
	struct waiter *w;

	pthread_mutex_lock(&b->lock);
	if (b->stopping) {
		/* builder_shutdown has answered the waiters already: nobody would call this one */
		pthread_mutex_unlock(&b->lock);
		return -ESHUTDOWN;
	}
	bd = builder_find(b, id);
	if (!bd || (bd->state != BUILD_QUEUED && bd->state != BUILD_RUNNING)) {
		pthread_mutex_unlock(&b->lock);
		return -EALREADY;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		pthread_mutex_unlock(&b->lock);
		return -ENOMEM;
	}
	w->fn = fn;
	w->arg = arg;
	w->next = bd->waiters;
	bd->waiters = w;
	pthread_mutex_unlock(&b->lock);
	return 0;
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
		rc = pthread_create(&b->threads[i], NULL, builder_worker, b);
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
	while (all) {
		struct waiter *next = all->next;

		all->fn(all->arg);
		free(all);
		all = next;
	}
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
		variant_free(bd->def);
		sources_free(bd->sources);
		runtime_put(bd->rt);
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
