/* builder.h - the build queue: single flight per input key, a bounded number of builds at once. */
#ifndef TINYBOOT_BUILDER_H
#define TINYBOOT_BUILDER_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/digest.h"

enum build_state { BUILD_QUEUED, BUILD_RUNNING, BUILD_DONE, BUILD_FAILED };

struct build_info {
	char id[DIGEST_HEX_LEN];       /* the input key */
	char variant[256];
	enum build_state state;
	char step[32];
	unsigned objects_done, objects_expected;
	double elapsed;
	char artifact[DIGEST_HEX_LEN]; /* when done */
	char error[1024];              /* when failed */
	char *log_tail;                /* when failed; the caller frees it */
};

struct builder;
struct etag_cache;
struct histogram;
struct runtime;
struct store;

/* Open the state directory (build/store.h: creates it, locks it, sweeps tmp/; -EWOULDBLOCK when
 * another daemon has it) and start `workers` build threads. digests hashes the toolchain's
 * libraries for build keys; it must outlive the builder. */
int builder_new(struct etag_cache *digests, const char *state_dir, unsigned workers,
		struct builder **out);
/* Refuse new builds and new waiters, cancel running ones (downloads abort within about a
 * second, make process groups get SIGTERM, then SIGKILL), call every waiter's fn now. Nothing a
 * cancelled build wrote is published or remembered as a failure. */
void builder_shutdown(struct builder *b);
/* Shut down if not yet done, join the workers, free. */
void builder_free(struct builder *b);
/* Resolve a variant (in rt's configuration) to its build. start: queue it if it is neither built
 * nor failed; retry: also queue it again after a failure. Returns 0 with info, or with err:
 *   -ENOENT      no such recipe or fragment
 *   -EINVAL      a malformed variant name
 *   -EAGAIN      !start and the variant has neither a build nor an artifact (info has its id)
 *   -ESHUTDOWN   the daemon is stopping
 *   -EBUSY       a new build was needed, but max-queued-builds builds are queued or running
 *   -EBADMSG     the daemon's own inputs are broken (a recipe, sources.conf, a fragment file,
 *                the toolchain): no key can be computed
 *   -ENOMEM ... */
int builder_request(struct builder *b, struct runtime *rt, const char *variant, bool start,
		    bool retry, struct build_info *info, char *err, size_t errlen);
/* State of a build by id (this run's builds, then finished ones on disk). -ENOENT if unknown. */
int builder_get(struct builder *b, const char *id, struct build_info *info);
/* Every build of this run (queued, running, finished), newest first, without log tails:
 * *out is malloc'd (NULL when there are none), *n its length. 0 or -ENOMEM. */
int builder_list(struct builder *b, struct build_info **out, size_t *n);
/* Call fn(arg) once when build id finishes or the builder shuts down; -EALREADY if it is not
 * queued or running, -ESHUTDOWN once builder_shutdown ran (fn is never called then). */
int builder_wait(struct builder *b, const char *id, void (*fn)(void *arg), void *arg);
const char *builder_state_name(enum build_state s);
const char *builder_compiler(const struct builder *b);
/* The state directory the builds go to. */
struct store *builder_store(const struct builder *b);
/* How long this run's finished builds took, done or failed (cancelled ones are not counted). */
const struct histogram *builder_durations(const struct builder *b, bool failed);
/* fn(arg) after each build that published an artifact, on the worker that built it, once it
 * holds no lock (retention runs there). Set before the first request. */
void builder_on_publish(struct builder *b, void (*fn)(void *arg), void *arg);
/* Run fn(arg, idle) with no artifact being published meanwhile, so fn may remove artifacts;
 * idle says no build is running either (none starts until fn returns), so fn may also remove
 * kernel and busybox objects: a build that starts later finds them gone from the memo too and
 * makes them again. Calls never overlap. */
void builder_quiesce(struct builder *b, void (*fn)(void *arg, bool idle), void *arg);
/* This run's builds waiting for a worker and being built now. */
void builder_counts(struct builder *b, unsigned *queued, unsigned *running);

#endif
