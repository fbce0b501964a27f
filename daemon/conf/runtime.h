/* runtime.h - the configuration in force and the directories it names, swapped whole on SIGHUP. */
#ifndef TINYBOOT_CONF_RUNTIME_H
#define TINYBOOT_CONF_RUNTIME_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "conf/options.h"

/* What a SIGHUP may replace. Requests hold a reference, so a reload never pulls a directory
 * out from under a transfer in flight. */
struct runtime {
	atomic_int refs;
	struct options opts;
	int state_fd;
	int payloads_fd;
	struct machines *machines; /* NULL without a machines file */
	struct tokens *tokens;     /* NULL without api-tokens */
};

/* The one current runtime; readers take a reference under the lock. */
struct runtime_slot {
	pthread_mutex_t lock;
	struct runtime *rt;
};

/* Takes ownership of *opts (it is left zeroed) whether or not it succeeds. Creates the state
 * directory and STATE/payloads when they are missing. */
int runtime_open(struct options *opts, struct runtime **out, char *err, size_t errlen);
/* The same checks for -n, changing nothing on disk: a state directory (or STATE/payloads) that
 * is not there yet is not created, only checked to be creatable, and its fd is -1. */
int runtime_check(struct options *opts, struct runtime **out, char *err, size_t errlen);
struct runtime *runtime_get(struct runtime_slot *slot);
void runtime_put(struct runtime *rt);
/* Swap in a new runtime; the old one goes when its last request ends. */
void runtime_replace(struct runtime_slot *slot, struct runtime *rt);

#endif
