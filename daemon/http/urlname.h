/* urlname.h - decoding and checking the names that arrive in URLs. */
#ifndef TINYBOOT_URLNAME_H
#define TINYBOOT_URLNAME_H

#include <stdbool.h>
#include <stddef.h>

#define URLNAME_MAX 255
#define URLNAME_PATH_MAX 2048
#define URLNAME_MAX_COMPONENTS 8

/* Decode %HH in place. Bytes that would decode to NUL or a control character, and malformed
 * escapes, become 0x7f so that every later check rejects them instead of truncating the string.
 * Returns the new length. */
size_t urlname_unescape(char *s);
/* A single path component: 1..URLNAME_MAX bytes of [A-Za-z0-9._+-], not starting with '.'. */
bool urlname_valid(const char *name);
/* Split an absolute path into at most max components, in place. Returns the count or -EINVAL
 * (not absolute, empty component, invalid component, too long, too many). A trailing '/' is
 * allowed and ignored; "/" gives 0 components. */
int urlname_split(char *path, char **parts, int max);

#endif
