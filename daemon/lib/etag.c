/* etag.c - a small fixed-size table of content hashes so each file is hashed once per change. */
#include "lib/etag.h"

#include <errno.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ETAG_SLOTS 1024
/* The hash of a file changed within this many seconds is not remembered: rewritten in place
 * with the same size within one tick of a coarse file system clock (Linux before 6.13), it
 * would keep its size, mtime and ctime, and the old hash would stay. */
#define ETAG_FRESH_S 2

struct etag_entry {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
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

static int etag_same(const struct etag_entry *e, const struct stat *st)
{
	return e->used && e->dev == st->st_dev && e->ino == st->st_ino && e->size == st->st_size &&
	       e->mtime.tv_sec == st->st_mtim.tv_sec && e->mtime.tv_nsec == st->st_mtim.tv_nsec &&
	       e->ctime.tv_sec == st->st_ctim.tv_sec && e->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

static bool etag_fresh(const struct stat *st)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME_COARSE, &now);
	return st->st_ctim.tv_sec + ETAG_FRESH_S > now.tv_sec ||
	       st->st_mtim.tv_sec + ETAG_FRESH_S > now.tv_sec;
}

int etag_cache_get(struct etag_cache *cache, int fd, const struct stat *st, char etag[ETAG_LEN])
{
	uint64_t key = ((uint64_t)st->st_dev * 0x9e3779b97f4a7c15ULL) ^ (uint64_t)st->st_ino;
	struct etag_entry *slot = &cache->slots[key % ETAG_SLOTS];
	char hex[DIGEST_HEX_LEN];
	int rc;

	pthread_mutex_lock(&cache->lock);
	if (etag_same(slot, st)) {
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
	if (etag_fresh(st))
		return 0;
	pthread_mutex_lock(&cache->lock);
	slot->dev = st->st_dev;
	slot->ino = st->st_ino;
	slot->size = st->st_size;
	slot->mtime = st->st_mtim;
	slot->ctime = st->st_ctim;
	memcpy(slot->hex, hex, sizeof(hex));
	slot->used = 1;
	pthread_mutex_unlock(&cache->lock);
	return 0;
}
