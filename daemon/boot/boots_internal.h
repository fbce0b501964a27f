/* boots_internal.h - what boots.c and boots_json.c share: the boots held, their journal, and
 * the records waiting for the committer's sync. Not for callers outside daemon/boot/boots*.c. */
#ifndef TINYBOOT_BOOTS_INTERNAL_H
#define TINYBOOT_BOOTS_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#include "boot/boots.h"
#include "lib/histogram.h"

/* A report or a new boot written to the journal, waiting for the sync that makes it durable. */
struct boots_waiter {
	struct boots_waiter *next;
	char token[BOOTS_TOKEN_LEN];
	struct boot *created; /* a new boot: memory takes it once durable (the rest is a report's) */
	bool ok;
	char *stored; /* the report text memory takes once it is durable */
	double at;
	boots_done_fn done;
	void *arg;
};

struct boots {
	pthread_mutex_t lock;
	pthread_cond_t wake;    /* the committer: records wait, or stop */
	pthread_t committer;
	bool committer_running, stopping;
	bool syncing;           /* the committer's fdatasync runs, outside the lock */
	struct boots_waiter *waiting, **waiting_end; /* written, not in a sync yet */
	struct journal *journal;
	struct bootset *set;
	size_t compact_bytes;
	unsigned keep_archives;
	off_t compact_at; /* the journal is compacted once it is this large */
	struct histogram report_delay; /* report time minus "kernel sent" time, this run's reports */
};

/* Now, as boots and reports are stamped (CLOCK_REALTIME seconds). */
double boots_now(void);

#endif
