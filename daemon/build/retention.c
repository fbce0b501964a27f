/* retention.c - the eviction policy: keep-builds per variant, then cache-max-size by least
 * recently served, and the kernel and busybox objects that no remaining artifact uses. */
#include "build/retention.h"

#include <string.h>

/* Does a remaining artifact use the object? */
static bool retention_used(const struct retention_object *o, const struct retention_item *items,
			   size_t n, bool count_all)
{
	for (size_t i = 0; i < n; i++) {
		const char *key = o->area == STORE_KERNELS ? items[i].kernel_key : items[i].busybox_key;

		if ((count_all || !items[i].why) && strcmp(key, o->key) == 0)
			return true;
	}
	return false;
}

/* Objects whose last user went: they go too. Returns the bytes that frees. */
static uint64_t retention_release(struct retention_item *items, size_t n,
				  struct retention_object *objects, size_t nobjects)
{
	uint64_t freed = 0;

	for (size_t j = 0; j < nobjects; j++) {
		struct retention_object *o = &objects[j];

		if (o->why || !retention_used(o, items, n, true) || retention_used(o, items, n, false))
			continue;
		o->why = "unused";
		freed += o->bytes;
	}
	return freed;
}

/* The newer of two artifacts (ties: by name, so the choice is stable). */
static bool retention_newer(const struct retention_item *a, const struct retention_item *b)
{
	if (a->built != b->built)
		return a->built > b->built;
	return strcmp(a->artifact, b->artifact) > 0;
}

static void retention_keep_builds(unsigned keep, struct retention_item *items, size_t n)
{
	for (size_t i = 0; keep && i < n; i++) {
		unsigned newer = 0;

		if (items[i].keep || !items[i].variant[0])
			continue;
		for (size_t j = 0; j < n; j++)
			newer += j != i && strcmp(items[j].variant, items[i].variant) == 0 &&
				 retention_newer(&items[j], &items[i]);
		if (newer >= keep)
			items[i].why = "keep-builds";
	}
}

/* The candidate served longest ago (ties: built earlier, then by name); NULL when none. */
static struct retention_item *retention_oldest(struct retention_item *items, size_t n)
{
	struct retention_item *best = NULL;

	for (size_t i = 0; i < n; i++) {
		struct retention_item *it = &items[i];

		if (it->keep || it->why)
			continue;
		if (!best || it->last_served < best->last_served ||
		    (it->last_served == best->last_served && !retention_newer(it, best)))
			best = it;
	}
	return best;
}

uint64_t retention_pick(const struct retention_policy *policy, struct retention_item *items,
			size_t n, struct retention_object *objects, size_t nobjects)
{
	uint64_t total = 0, freed = 0;
	size_t nobj = policy->objects ? nobjects : 0;

	for (size_t i = 0; i < n; i++) {
		items[i].why = NULL;
		total += items[i].bytes;
	}
	/* while a build runs no object can go: weighed against the limit, they would push out
	 * artifacts that their release frees room for after the build (the next run) */
	for (size_t j = 0; j < nobjects; j++) {
		objects[j].why = NULL;
		total += policy->objects ? objects[j].bytes : 0;
	}
	retention_keep_builds(policy->keep_builds, items, n);
	for (size_t i = 0; i < n; i++)
		if (items[i].why)
			freed += items[i].bytes;
	freed += retention_release(items, n, objects, nobj);
	if (!policy->max_bytes)
		return freed;
	/* objects no artifact uses come first: they serve no machine */
	for (size_t j = 0; j < nobj && total - freed > policy->max_bytes; j++) {
		if (objects[j].why || retention_used(&objects[j], items, n, true))
			continue;
		objects[j].why = "unused";
		freed += objects[j].bytes;
	}
	while (total - freed > policy->max_bytes) {
		struct retention_item *victim = retention_oldest(items, n);

		if (!victim)
			break;
		victim->why = "cache-max-size";
		freed += victim->bytes;
		freed += retention_release(items, n, objects, nobj);
	}
	return freed;
}
