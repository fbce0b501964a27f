/* retention.h - which artifacts and objects the cache lets go: keep-builds per variant, then
 * cache-max-size, least recently served first. Pure: it decides, store_gc removes. */
#ifndef TINYBOOT_RETENTION_H
#define TINYBOOT_RETENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "build/store.h"
#include "lib/digest.h"

/* A published artifact as retention sees it. */
struct retention_item {
	char artifact[DIGEST_HEX_LEN];
	char variant[256];                  /* its manifest's; "" when unknown */
	char kernel_key[DIGEST_HEX_LEN];    /* the objects it was made from; "" when unknown */
	char busybox_key[DIGEST_HEX_LEN];
	uint64_t bytes;
	double built;       /* when it was published (its manifest's mtime) */
	double last_served; /* when it was last sent (or built, if never) */
	const char *keep;   /* in: NULL when it may go, else why it stays ("machines.conf"...) */
	const char *why;    /* out: NULL when it stays, else "keep-builds" or "cache-max-size" */
};

/* A kernel or busybox object (STATE/kernels/KEY, STATE/busybox/KEY). */
struct retention_object {
	enum store_area area; /* STORE_KERNELS or STORE_BUSYBOX */
	char key[DIGEST_HEX_LEN];
	uint64_t bytes;
	const char *why; /* out: NULL when it stays, else "unused" */
};

struct retention_policy {
	uint64_t max_bytes;   /* cache-max-size; 0: unlimited */
	unsigned keep_builds; /* keep-builds; 0: unlimited */
	bool objects;         /* objects may go (no build is queued or running that may reuse one) */
};

/* Decide. Artifacts: beyond the keep_builds newest of their variant, then, while artifacts and
 * objects together exceed max_bytes, the least recently served; never one with keep set.
 * Objects (when policy->objects): those whose last artifact goes; and under max_bytes also those
 * no artifact uses (a failed build's kernel), before any artifact. Without policy->objects the
 * objects neither go nor count toward max_bytes. Returns the bytes freed. */
uint64_t retention_pick(const struct retention_policy *policy, struct retention_item *items,
			size_t n, struct retention_object *objects, size_t nobjects);

#endif
