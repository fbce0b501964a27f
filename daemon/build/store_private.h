/* store_private.h - what store.c shares with the other store_*.c files, and no one else. */
#ifndef TINYBOOT_STORE_PRIVATE_H
#define TINYBOOT_STORE_PRIVATE_H

#include <stddef.h>

#include "build/store.h"

#define STORE_PATH_MAX 4096

/* Areas only the store touches, after the public ones. */
enum {
	STORE_INDEX = STORE_AREA_COUNT, /* ID: the artifact build ID published */
	STORE_FAILED,                   /* ID: why build ID failed, then its log's tail */
	STORE_MEMO,                     /* KIND-INPUTS: the key those inputs gave */
	STORE_BUILDS,                   /* ID.log */
	STORE_AREAS_ALL
};

/* STATE/AREA[/NAME[/FILE]] for any area, private ones included (see store_path). */
int store_path_in(const struct store *s, int area, const char *name, const char *file, char *buf,
		  size_t len);
/* The whole of STATE/AREA/ID, at most 64 KiB (index entries, failure records); 0 or -errno. */
int store_read_small(const struct store *s, int area, const char *id, char **out);

#endif
