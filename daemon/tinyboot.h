/* tinyboot.h - the one daemon-wide state, handed around explicitly. */
#ifndef TINYBOOT_TINYBOOT_H
#define TINYBOOT_TINYBOOT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "options.h"

#define TINYBOOT_VERSION "0.1.0"

/* What a SIGHUP may replace. Requests hold a reference, so a reload never pulls a directory
 * out from under a transfer in flight. */
struct runtime {
	atomic_int refs;
	struct options opts;
	int state_fd;
	int artifacts_fd;
	int payloads_fd;
	int tmp_fd;
	struct machines *machines; /* NULL without a machines file */
};

struct etag_cache;
struct MHD_Daemon;
struct builder;
struct boots;

struct tinyboot {
	pthread_mutex_t lock; /* guards rt */
	struct runtime *rt;
	struct etag_cache *etags;
	struct builder *builder;
	struct boots *boots;
	struct MHD_Daemon *mhd;
	atomic_uint requests_in_flight;
	atomic_bool draining;
	char listen_address[80];
	time_t started;
};

/* runtime.c */
int runtime_open(struct options *opts, struct runtime **out, char *err, size_t errlen);
struct runtime *runtime_get(struct tinyboot *tb);
void runtime_put(struct runtime *rt);
/* Swap in a new runtime; the old one goes when its last request ends. */
void runtime_replace(struct tinyboot *tb, struct runtime *rt);

#endif
