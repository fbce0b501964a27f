/* extract.h - unpack a verified source tarball into the store (STORE_SRC), whole or not at all. */
#ifndef TINYBOOT_EXTRACT_H
#define TINYBOOT_EXTRACT_H

#include <stddef.h>

#include "build/store.h"
#include "conf/sources.h"

#define EXTRACT_MARKER ".tinyboot-source" /* in an extracted tree: its tarball's sha256 */

/*
 * Make sure <name>/ in STORE_SRC is the tree extracted from the verified tarball, its top
 * directory `strip` renamed to <name>. A tree holding EXTRACT_MARKER with this sha256 is used as
 * is (not even the tarball is needed); anything else there is removed and redone: fetch (so a
 * tarball whose checksum failed is never extracted), `tar -x` into a temp dir in STORE_TMP,
 * write the marker, sync, rename into place. The marker goes in before the rename, so the tree
 * only ever appears complete. Locking, logging and errors as fetch_source() (build/fetch.h).
 * Returns 0 with the tree's path in tree_out, or -errno as fetch_source, plus -ENOENT when the
 * tarball has no `strip` directory and -EIO when tar fails (its output is in log_fd). cancel
 * as fetch_source's: a tar in progress is killed, its temp dir removed.
 */
int extract_source(const struct source *s, const struct store *store, int log_fd,
		   const volatile int *cancel, char *tree_out, size_t treelen, char *err, size_t errlen);

#endif
