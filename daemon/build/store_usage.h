/* store_usage.h - how much an area of the state directory holds, by a bounded walk. */
#ifndef TINYBOOT_STORE_USAGE_H
#define TINYBOOT_STORE_USAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "build/store.h"

struct store_usage {
	uint64_t objects; /* entries directly in the area: artifacts, kernel keys, tarballs... */
	uint64_t bytes;   /* apparent size (st_size) of every regular file below it */
	bool truncated;   /* the walk stopped at its budget: both are lower bounds */
};

/* Walk STATE/AREA (not created when missing: all zero then) looking at no more than `budget`
 * entries and no deeper than 16 directories. 0, or -errno when the area cannot be opened. */
int store_usage_area(const struct store *s, enum store_area area, size_t budget,
		     struct store_usage *out);

#endif
