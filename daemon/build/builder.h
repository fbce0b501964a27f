/* builder.h - the build queue: single flight per input key, a bounded number of builds at once. */
#ifndef TINYBOOT_BUILDER_H
#define TINYBOOT_BUILDER_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/digest.h"
#include "tinyboot.h"

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

int builder_new(struct tinyboot *tb, unsigned workers, struct builder **out);
/* Refuse new builds, kill running ones (their make process groups), answer every waiter. */
void builder_shutdown(struct builder *b);
/* Shut down if not yet done, join the workers, free. */
void builder_free(struct builder *b);
/* Resolve a variant to its build. start: queue it if it is neither built nor failed; retry: also
 * queue it again after a failure. On error *http_status says how to answer (400, 404, 500;
 * 409 with -ENOENT when !start and the variant has neither a build nor an artifact). */
int builder_request(struct builder *b, struct runtime *rt, const char *variant, bool start,
		    bool retry, struct build_info *info, char *err, size_t errlen, unsigned *http_status);
/* State of a build by id (this run's builds, then finished ones on disk). -ENOENT if unknown. */
int builder_get(struct builder *b, struct runtime *rt, const char *id, struct build_info *info);
/* Call fn(arg) once when build id finishes; -EALREADY if it is not queued or running. */
int builder_wait(struct builder *b, const char *id, void (*fn)(void *arg), void *arg);
const char *builder_state_name(enum build_state s);
const char *builder_compiler(const struct builder *b);

#endif
