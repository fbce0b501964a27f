/* etag.h - SHA-256 of file content, remembered per file version: strong ETags, and the toolchain
 * digests in build keys. */
#ifndef TINYBOOT_ETAG_H
#define TINYBOOT_ETAG_H

#include <sys/stat.h>

#include "lib/digest.h"

#define ETAG_LEN (DIGEST_HEX_LEN + 2) /* quotes around the hex digest */

struct etag_cache;

struct etag_cache *etag_cache_new(void);
void etag_cache_free(struct etag_cache *cache);
/* The quoted SHA-256 of the file; hashed once per (dev, inode, size, mtime, ctime). */
int etag_cache_get(struct etag_cache *cache, int fd, const struct stat *st, char etag[ETAG_LEN]);

#endif
