/* sources.h - etc/sources.conf: checksummed source tarballs, fetched and extracted on demand. */
#ifndef TINYBOOT_SOURCES_H
#define TINYBOOT_SOURCES_H

#include <stddef.h>
#include <stdint.h>

#define SOURCES_NAME_MAX     64                /* section names: [A-Za-z0-9._+-]{1,64}, not . or .. */
#define SOURCES_URLS_MAX     16                /* url lines per section */
#define SOURCES_LINE_MAX     4096              /* bytes per line of sources.conf */
#define SOURCES_SIZE_MAX_DEFAULT (1ull << 30)  /* size-max when a section gives none */
#define SOURCES_MARKER       ".tinyboot-source" /* in an extracted tree: its tarball's sha256 */

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
 * Parse PATH. Returns 0 and *out, or -errno with err filled with one line naming the file and,
 * for syntax errors (-EINVAL), the line: "PATH:7: sha256 must be 64 hex digits". A section
 * missing sha256, url or strip is reported at its header line ("PATH:3: [x] has no url").
 * A file with no sections loads as an empty set.
 */
int sources_load(const char *path, struct sources **out, char *err, size_t errlen);
void sources_free(struct sources *s); /* NULL-tolerant */
const struct source *sources_find(const struct sources *s, const char *name); /* NULL: none */
size_t sources_count(const struct sources *s);
const struct source *sources_at(const struct sources *s, size_t i); /* NULL past the end */

/*
 * The functions below use libcurl: the daemon's main calls curl_global_init(CURL_GLOBAL_ALL)
 * once before any thread starts (libcurl requires that); tests must do the same.
 *
 * Both are safe to call from several threads, and from several daemons sharing STATE_DIR, for
 * the same source at once: each holds an flock on STATE_DIR/sources/<name>.lock while it works,
 * so the second caller waits and then finds the work done.
 *
 * Progress and per-URL failures go to log_fd as text lines (-1: nowhere); the returned error
 * is also in err (one sentence starting with the source name); nothing goes to the daemon log
 * but a line on each completed download or extraction.
 */

/*
 * Make sure STATE_DIR/sources/<name>.tar.<ext> (ext from the URLs: xz, bz2 or gz) holds the
 * bytes named by sha256. A present file with the right hash is used as is (no network).
 * Otherwise each URL is tried in order into a temp file under STATE_DIR/tmp, capped at size_max,
 * hashed, fsynced and renamed into place (directories are created as needed).
 * Returns 0 with the tarball's path in path_out, or:
 *   -EBADMSG  a download's sha256 did not match (reported in preference to later URLs' errors;
 *             the bad bytes are deleted)
 *   -EFBIG    a download (or its Content-Length) exceeded size_max
 *   -ENOENT, -ETIMEDOUT, -ECONNREFUSED, -EIO ...  the last URL's transfer failed
 *   -ENAMETOOLONG  pathlen too small for the path
 */
int sources_fetch(const struct source *s, const char *state_dir, int log_fd,
		  char *path_out, size_t pathlen, char *err, size_t errlen);

/*
 * Make sure STATE_DIR/src/<name>/ is the tree extracted from the verified tarball, its top
 * directory `strip` renamed to <name>. A tree holding SOURCES_MARKER with this sha256 is used as
 * is (not even the tarball is needed); anything else there is removed and redone: fetch (so a
 * tarball whose checksum failed is never extracted), `tar -x` into a temp dir under
 * STATE_DIR/tmp, write the marker, sync, rename into place. The marker goes in before the rename,
 * so STATE_DIR/src/<name> only ever appears complete.
 * Returns 0 with the tree's path in tree_out, or -errno as sources_fetch, plus -ENOENT when the
 * tarball has no `strip` directory and -EIO when tar fails (its output is in log_fd).
 */
int sources_extract(const struct source *s, const char *state_dir, int log_fd,
		    char *tree_out, size_t treelen, char *err, size_t errlen);

/*
 * Remove NAME (relative to DIRFD, or a path with AT_FDCWD) and, if it is a directory, all it
 * holds; symlinks are removed, never followed. Read-only directories are made writable first.
 * A NAME that does not exist is not an error. Returns 0 or -errno.
 */
int sources_remove_tree(int dirfd, const char *name);

#endif
