/* served.c - the last-served time of each artifact, in memory and as its directory's mtime. */
#include "build/served.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* The disk copy is for restarts: being a minute behind changes no eviction worth having. */
#define SERVED_WRITE_EVERY 60.0

struct served_entry {
	char artifact[DIGEST_HEX_LEN];
	double at;      /* last served */
	double written; /* last written to disk as the directory's mtime */
};

struct served {
	pthread_mutex_t lock;
	int artifacts_fd;
	struct served_entry *v;
	size_t n, cap;
};

static double served_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int served_new(int artifacts_fd, struct served **out)
{
	struct served *sv = calloc(1, sizeof(*sv));

	if (!sv)
		return -ENOMEM;
	pthread_mutex_init(&sv->lock, NULL);
	sv->artifacts_fd = artifacts_fd;
	*out = sv;
	return 0;
}

void served_free(struct served *sv)
{
	if (!sv)
		return;
	pthread_mutex_destroy(&sv->lock);
	free(sv->v);
	free(sv);
}

/* The lock is held. */
static struct served_entry *served_find(struct served *sv, const char *artifact)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i].artifact, artifact) == 0)
			return &sv->v[i];
	return NULL;
}

void served_note(struct served *sv, const char *artifact)
{
	struct served_entry *e;
	double now = served_now();
	bool write;

	if (!sv || !digest_is_hex(artifact))
		return;
	pthread_mutex_lock(&sv->lock);
	e = served_find(sv, artifact);
	if (!e && sv->n == sv->cap) {
		size_t cap = sv->cap ? sv->cap * 2 : 16;
		struct served_entry *v = realloc(sv->v, cap * sizeof(*v));

		if (!v) {
			pthread_mutex_unlock(&sv->lock);
			return; /* the mtime stays as it was: an older time, an earlier eviction */
		}
		sv->v = v;
		sv->cap = cap;
	}
	if (!e) {
		e = &sv->v[sv->n++];
		memcpy(e->artifact, artifact, DIGEST_HEX_LEN);
		e->written = 0;
	}
	e->at = now;
	write = now - e->written >= SERVED_WRITE_EVERY;
	if (write)
		e->written = now;
	pthread_mutex_unlock(&sv->lock);
	if (write) {
		/* the directory's mtime is no one else's: a publish renames it in whole */
		struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_sec = (time_t)now } };

		utimensat(sv->artifacts_fd, artifact, ts, AT_SYMLINK_NOFOLLOW);
	}
}

double served_get(struct served *sv, const char *artifact)
{
	struct served_entry *e;
	double at;

	if (!sv)
		return 0;
	pthread_mutex_lock(&sv->lock);
	e = served_find(sv, artifact);
	at = e ? e->at : 0;
	pthread_mutex_unlock(&sv->lock);
	return at;
}

void served_forget(struct served *sv, const char *artifact)
{
	struct served_entry *e;

	if (!sv)
		return;
	pthread_mutex_lock(&sv->lock);
	e = served_find(sv, artifact);
	if (e)
		*e = sv->v[--sv->n];
	pthread_mutex_unlock(&sv->lock);
}
