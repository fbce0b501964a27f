/* pins.h - pinned artifacts and variants: kept by retention whatever the limits. One empty file
 * per pin in STATE/pins (created or removed in one step, fsync'd: durable, nothing to parse). */
#ifndef TINYBOOT_PINS_H
#define TINYBOOT_PINS_H

#include <stdbool.h>
#include <stddef.h>

struct store;

#define PINS_NAME_MAX 255

/* A pin names an artifact (64 lowercase hex digits) or a variant ([a-z0-9_+-], up to 255). */
bool pins_name_valid(const char *name);
/* Pin (idempotent) or unpin (-ENOENT when not pinned). 0, -EINVAL for a bad name, or -errno. */
int pins_add(const struct store *s, const char *name);
int pins_remove(const struct store *s, const char *name);
/* fn(arg, name) for every pin, in directory order. 0 or -errno (no pins: 0). */
int pins_list(const struct store *s, void (*fn)(void *arg, const char *name), void *arg);

#endif
