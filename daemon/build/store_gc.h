/* store_gc.h - the artifact cache as retention sees it (artifacts, kernels, busybox objects,
 * their sizes and times), and the safe removal of what retention picked. */
#ifndef TINYBOOT_STORE_GC_H
#define TINYBOOT_STORE_GC_H

#include <stddef.h>

#include "build/retention.h"
#include "build/store.h"

struct store_gc_list {
	struct retention_item *items;     /* STATE/artifacts/HASH */
	size_t n;
	struct retention_object *objects; /* STATE/kernels/KEY, STATE/busybox/KEY */
	size_t nobjects;
};

/* Read the artifacts (manifest: variant, kernel and busybox keys; bytes; built = manifest's
 * mtime; last_served = the later of this run's record and the directory's mtime) and the
 * objects. keep is NULL for all. 0 or -errno (-ENOMEM). */
int store_gc_scan(const struct store *s, struct store_gc_list *out);
void store_gc_list_free(struct store_gc_list *l);
/* Remove every item and object whose why is set: first the index entries and memo entries that
 * name them (fsync'd), then each directory is renamed into STATE/tmp (a crash leaves nothing the
 * index names half-deleted; store_open sweeps tmp/), then deleted. A file being sent stays open
 * and keeps streaming. 0 or the first -errno; what failed is logged and left for the next run. */
int store_gc_remove(const struct store *s, const struct store_gc_list *l);

#endif
