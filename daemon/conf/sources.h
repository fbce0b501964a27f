/* sources.h - etc/sources.conf: checksummed source tarballs, for build/fetch and build/extract. */
#ifndef TINYBOOT_SOURCES_H
#define TINYBOOT_SOURCES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SOURCES_NAME_MAX     64                /* section names: [A-Za-z0-9._+-]{1,64}, not . or .. */
#define SOURCES_URLS_MAX     16                /* url lines per section */
#define SOURCES_LINE_MAX     4096              /* bytes of a line of sources.conf, without its \n */
#define SOURCES_SIZE_MAX_DEFAULT (1ull << 30)  /* size-max when a section gives none */

struct source {
	char *name;
	char sha256[65];   /* 64 lowercase hex digits */
	uint64_t size_max; /* bytes; downloads above it are refused */
	char **urls;       /* http://, https:// or file://, all ending in the same .tar.xz/.bz2/.gz */
	size_t nurls;      /* >= 1 */
	char *strip;       /* the tarball's single top-level directory */
};

/* Every source of one sources.conf; owns all its memory. */
struct sources;

/*
 * Parse PATH (read by lib/conffile). Returns 0 and *out, or -errno with err filled with one line
 * naming the file and, for syntax errors (-EINVAL), the line:
 * "PATH:7: sha256 must be 64 hex digits". A section missing sha256, url or strip is reported at
 * its header line ("PATH:3: [x] has no url").
 * A file with no sections loads as an empty set.
 */
int sources_load(const char *path, struct sources **out, char *err, size_t errlen);
void sources_free(struct sources *s); /* NULL-tolerant */
const struct source *sources_find(const struct sources *s, const char *name); /* NULL: none */
size_t sources_count(const struct sources *s);
const struct source *sources_at(const struct sources *s, size_t i); /* NULL past the end */

/* The checks sources.conf applies, for callers that build a struct source by hand. */
bool sources_name_valid(const char *name);   /* a section name */
bool sources_strip_valid(const char *strip); /* one directory name: no '/', not . or .. */
/* The compression named by the URL's path ("xz", "bz2", "gz"), or NULL. */
const char *sources_url_ext(const char *url);

#endif
