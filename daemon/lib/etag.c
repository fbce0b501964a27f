/* etag.c - a small fixed-size table of content hashes so each file is hashed once per change. */
#include "lib/etag.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fileversion.h"

#define ETAG_SLOTS 1024

struct etag_entry {
	struct fileversion version;
	char hex[DIGEST_HEX_LEN];
	int used;
};

struct etag_cache {
	pthread_mutex_t lock;
	struct etag_entry slots[ETAG_SLOTS];
};

struct etag_cache *etag_cache_new(void)
{
	struct etag_cache *cache = calloc(1, sizeof(*cache));

	if (!cache)
		return NULL;
	pthread_mutex_init(&cache->lock, NULL);
	return cache;
}

void etag_cache_free(struct etag_cache *cache)
{
	if (!cache)
		return;
	pthread_mutex_destroy(&cache->lock);
	free(cache);
}

int etag_cache_get(struct etag_cache *cache, int fd, const struct stat *st, char etag[ETAG_LEN])
{
	uint64_t key = ((uint64_t)st->st_dev * 0x9e3779b97f4a7c15ULL) ^ (uint64_t)st->st_ino;
	struct etag_entry *slot = &cache->slots[key % ETAG_SLOTS];
	char hex[DIGEST_HEX_LEN];
	int rc;

	pthread_mutex_lock(&cache->lock);
	if (slot->used && fileversion_same(&slot->version, st)) {
		snprintf(etag, ETAG_LEN, "\"%s\"", slot->hex);
		pthread_mutex_unlock(&cache->lock);
		return 0;
	}
	pthread_mutex_unlock(&cache->lock);

	/* Hash outside the lock: other requests must not wait behind a large file. */
	rc = digest_sha256_fd(fd, hex);
	if (rc)
		return rc;
	snprintf(etag, ETAG_LEN, "\"%s\"", hex);
	/* a file changed this lately: hashed on each request, not remembered */
	if (fileversion_fresh(st))
		return 0;
	pthread_mutex_lock(&cache->lock);
	fileversion_set(&slot->version, st);
	memcpy(slot->hex, hex, sizeof(hex));
	slot->used = 1;
	pthread_mutex_unlock(&cache->lock);
	return 0;
}
