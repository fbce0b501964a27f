/* fetch.h - fetch a tarball named in sources.conf, check its sha256, keep it in the store. */
#ifndef TINYBOOT_FETCH_H
#define TINYBOOT_FETCH_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "build/store.h"
#include "conf/sources.h"

/*
 * fetch_source() and extract_source() use libcurl: the daemon's main calls
 * curl_global_init(CURL_GLOBAL_ALL) once before any thread starts (libcurl requires that); tests
 * must do the same.
 *
 * Both work in the store's areas (build/store.h): STORE_SOURCES keeps the tarballs, STORE_SRC
 * the extracted trees, STORE_TMP what is half-written. They are safe to call from several
 * threads for the same source at once: each holds an flock on <name>.lock in STORE_SOURCES
 * while it works, so the second caller waits and then finds the work done.
 *
 * Progress and per-URL failures go to log_fd as text lines (-1: nowhere); the returned error
 * is also in err (one sentence starting with the source name); nothing goes to the daemon log
 * but a line on each completed download or extraction. Messages name files by their full path.
 */

/*
 * Make sure <name>.tar.<ext> in STORE_SOURCES (ext from the URLs: xz, bz2 or gz) holds the bytes
 * named by sha256. A present file with the right hash is used as is (no network).
 * Otherwise each URL is tried in order into a temp file in STORE_TMP, capped at size_max,
 * hashed, fsynced and renamed into place (the areas are created as needed).
 * Returns 0 with the tarball's path in path_out, or:
 *   -EBADMSG  a download's sha256 did not match (reported in preference to later URLs' errors;
 *             the bad bytes are deleted)
 *   -EFBIG    a download (or its Content-Length) exceeded size_max
 *   -ENOENT, -ETIMEDOUT, -ECONNREFUSED, -EIO ...  the last URL's transfer failed
 *   -ENAMETOOLONG  pathlen too small for the path
 *   -EINVAL   the source is not complete (callers may build one by hand), or no store
 *   -ECANCELED  *cancel (NULL: never) became non-zero: a transfer in flight is aborted within
 *             about a second, its temp file deleted, no further URL tried
 */
int fetch_source(const struct source *s, const struct store *store, int log_fd,
		 const volatile int *cancel, char *path_out, size_t pathlen, char *err, size_t errlen);

/* ---- shared with extract.c: one fetch_source or extract_source call ---- */

#define FETCH_FILE_MAX (SOURCES_NAME_MAX + 16) /* NAME.tar.EXT */

/* An area of the store, open for the call: its fd, and its path for messages. */
struct fetch_dir {
	int fd;
	char path[PATH_MAX];
};

struct fetch_op {
	const struct source *s;
	const struct store *store;
	const char *ext;        /* "xz", "bz2" or "gz" */
	int log_fd;
	const volatile int *cancel; /* non-zero: stop (NULL: never) */
	char *err;
	size_t errlen;
	struct fetch_dir sources, tmp, src; /* STORE_SOURCES, STORE_TMP, STORE_SRC; fd -1: closed */
};

/* Check the source and open the store's STORE_SOURCES and STORE_TMP (and STORE_SRC with
 * want_src). */
int fetch_op_open(struct fetch_op *op, const struct source *s, const struct store *store,
		  int log_fd, const volatile int *cancel, char *err, size_t errlen, bool want_src);
/* -ECANCELED, reported, once op->cancel is set; else 0. */
int fetch_cancelled(struct fetch_op *op);
void fetch_op_close(struct fetch_op *op);
/* flock <name>.lock in STORE_SOURCES; *lock_fd is closed by the caller to let go. */
int fetch_lock(struct fetch_op *op, int *lock_fd);
/* fetch_source's work, under the lock; path_out (NULL: not wanted) passed fetch_out_path. */
int fetch_locked(struct fetch_op *op, char *path_out, size_t pathlen);
/* The tarball's name in STORE_SOURCES: NAME.tar.EXT */
void fetch_file_name(const struct fetch_op *op, char file[FETCH_FILE_MAX]);
/* "DIR/FILE" (DIR one of op's areas) into out (NULL: nothing); -ENAMETOOLONG, reported, if it
 * does not fit. */
int fetch_out_path(struct fetch_op *op, char *out, size_t len, const struct fetch_dir *dir,
		   const char *file);
/* Create a fresh PREFIX.<random> in AT: a file opened into *fd, or with fd NULL a directory. */
int fetch_mktemp(int at, const char *prefix, char *name, size_t len, int *fd);
/* Fill err with "NAME: message", copy it to the log and return rc. */
int fetch_fail(struct fetch_op *op, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* One line to log_fd (-1: nowhere), written at once so it stays whole beside tar's output. */
void fetch_log(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
