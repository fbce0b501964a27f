/* nextboot.h - what a machine boots next instead of machines.conf: a variant once, or its local
 * disk until cleared; held in memory and in one file in STATE, written atomically. */
#ifndef TINYBOOT_NEXTBOOT_H
#define TINYBOOT_NEXTBOOT_H

#include <jansson.h>
#include <stddef.h>

#include "conf/variant.h"

#define NEXTBOOT_NAME_MAX 32
#define NEXTBOOT_FILE_MAX (4 << 20)

enum nextboot_action {
	NEXTBOOT_NONE,    /* machines.conf decides */
	NEXTBOOT_VARIANT, /* the next boot uses variant, then it is gone */
	NEXTBOOT_LOCAL,   /* every boot exits to the firmware's next boot device until cleared */
};

struct nextboot_entry {
	enum nextboot_action action;
	char variant[VARIANT_NAME_MAX + 1]; /* NEXTBOOT_VARIANT only; "" otherwise */
	long long set_at;                   /* when it was set (Unix seconds) */
};

struct nextboot;

/* Load path (a missing file is no override). Entries that do not check out (a bad name, a
 * variant of characters no variant holds) are dropped with a warning; a file that is not JSON
 * is logged and kept aside as path.bad, and no override holds. 0 or -errno with err. */
int nextboot_open(const char *path, struct nextboot **out, char *err, size_t errlen);
void nextboot_free(struct nextboot *nb); /* NULL-tolerant */

/* Set machine's override (action VARIANT or LOCAL). Memory changes only once the file is on
 * disk: 0, -EINVAL for a bad name or entry, or -errno of the write (ENOSPC, EIO). */
int nextboot_set(struct nextboot *nb, const char *machine, const struct nextboot_entry *e);
/* Remove machine's override: 0, -ENOENT when it had none, or -errno of the write. */
int nextboot_clear(struct nextboot *nb, const char *machine);
/* machine's override; action NONE when it has none. */
void nextboot_get(struct nextboot *nb, const char *machine, struct nextboot_entry *out);
/* For a boot of machine: its override, and a VARIANT one is removed (on disk first) in the same
 * step, so of two boots at once only one gets it. LOCAL stays. -errno when the removal cannot be
 * written: the override stays and out says NONE. */
int nextboot_take(struct nextboot *nb, const char *machine, struct nextboot_entry *out);
/* Give back what nextboot_take took when the boot could not be created, unless another
 * override was set since. 0 or -errno of the write. */
int nextboot_untake(struct nextboot *nb, const char *machine, const struct nextboot_entry *e);
/* {"variant": V, "set_at": T} or {"action": "local", "set_at": T}; JSON null for NONE. */
json_t *nextboot_entry_json(const struct nextboot_entry *e);
/* Names with an override, malloc'd (free() it); 0 or -ENOMEM. */
int nextboot_names(struct nextboot *nb, char (**names)[NEXTBOOT_NAME_MAX + 1], size_t *n);

#endif
