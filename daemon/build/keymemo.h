/* keymemo.h - (runtime, variant) -> build id, kept while inotify reports no change to an input. */
#ifndef TINYBOOT_KEYMEMO_H
#define TINYBOOT_KEYMEMO_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/digest.h"
#include "conf/variant.h"

#define KEYMEMO_MAX 256

struct keymemo;
struct runtime;

/* Never fails for want of inotify: without it every lookup misses. NULL on -ENOMEM. */
struct keymemo *keymemo_new(void);
void keymemo_free(struct keymemo *m);
/* true: variant (the text as asked) has build id and normalised name in rt's configuration, as
 * recomputing it now would say. false: compute it; pass *gen to keymemo_put afterwards. */
bool keymemo_get(struct keymemo *m, const struct runtime *rt, const char *variant,
		 char id[DIGEST_HEX_LEN], char name[VARIANT_NAME_MAX + 1], uint64_t *gen);
/* Remember a successful computation begun after keymemo_get returned gen; dropped when any input
 * may have changed since (or the runtime is not the memo's any more). */
void keymemo_put(struct keymemo *m, const struct runtime *rt, const char *variant, uint64_t gen,
		 const char id[DIGEST_HEX_LEN], const char *name);

/* For tests and metrics: lookups answered, and times the memo was emptied. */
struct keymemo_stats {
	uint64_t hits, misses, clears;
	bool watching;
};
void keymemo_stats(struct keymemo *m, struct keymemo_stats *out);

#endif
