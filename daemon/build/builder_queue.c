/* builder_queue.c - the request side of the build queue: resolve a variant to its build key, answer
 * from this run's builds or the store's finished ones, queue at most one build per key within
 * max-queued-builds, and park waiters on it. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build/builder_private.h"
#include "build/keymemo.h"
#include "build/store.h"
#include "conf/runtime.h"
#include "lib/log.h"

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

/* Copy of a build's state for callers; the lock is held. */
static void builder_queue_info(const struct build *bd, struct build_info *info)
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
static unsigned builder_queue_active(const struct builder *b)
{
	unsigned n = 0;

	for (const struct build *bd = b->all; bd; bd = bd->next)
		n += bd->state == BUILD_QUEUED || bd->state == BUILD_RUNNING;
	return n;
}

static struct build *builder_queue_find(struct builder *b, const char *id)
{
	for (struct build *bd = b->all; bd; bd = bd->next)
		if (strcmp(bd->id, id) == 0)
			return bd;
	return NULL;
}

/* A finished build on disk: the index names an artifact that exists, or a failure record. */
static int builder_queue_on_disk(struct builder *b, const char *id, struct build_info *info)
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
	bd = builder_queue_find(b, id);
	if (bd) {
		builder_queue_info(bd, info);
		pthread_mutex_unlock(&b->lock);
		if (info->state == BUILD_FAILED)
			info->log_tail = store_log_tail(b->store, id);
		return 0;
	}
	pthread_mutex_unlock(&b->lock);
	memcpy(info->id, id, DIGEST_HEX_LEN);
	return builder_queue_on_disk(b, id, info);
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
			builder_queue_info(bd, &list[i++]);
	}
	pthread_mutex_unlock(&b->lock);
	*out = list;
	*n = count;
	return 0;
}

/* The variant and the sources it is built from; errors as builder_request's. */
static int builder_queue_parse(struct runtime *rt, const char *variant, struct variant **v,
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
		rc = builder_queue_parse(rt, variant, &v, &s, err, errlen);
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
	bd = builder_queue_find(b, id);
	if (bd && (bd->state == BUILD_QUEUED || bd->state == BUILD_RUNNING || bd->state == BUILD_DONE ||
		   !retry)) {
		builder_queue_info(bd, info);
		pthread_mutex_unlock(&b->lock);
		if (info->state == BUILD_FAILED)
			info->log_tail = store_log_tail(b->store, id);
		goto out;
	}
	pthread_mutex_unlock(&b->lock);

	memcpy(info->id, id, sizeof(id));
	snprintf(info->variant, sizeof(info->variant), "%s", name);
	if (!bd && builder_queue_on_disk(b, id, info) == 0 &&
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
		rc = builder_queue_parse(rt, variant, &v, &s, err, errlen);
		if (rc)
			goto out;
	}
	if (retry)
		store_failure_clear(b->store, id);

	pthread_mutex_lock(&b->lock);
	bd = builder_queue_find(b, id); /* another request may have queued it meanwhile */
	if (bd && bd->state != BUILD_FAILED) {
		builder_queue_info(bd, info);
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
	active = builder_queue_active(b);
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
	builder_queue_info(bd, info);
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
	bd = builder_queue_find(b, id);
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
