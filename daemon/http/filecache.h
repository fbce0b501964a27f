/* filecache.h - ready 200 responses for static files, one per file version, reused across requests. */
#ifndef TINYBOOT_HTTP_FILECACHE_H
#define TINYBOOT_HTTP_FILECACHE_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>

#include "http/file.h"
#include "http/request.h"

struct http_filecache;

int http_filecache_new(struct http_filecache **out);
/* Drops the table's references; responses still queued on connections live on until sent. */
void http_filecache_free(struct http_filecache *fc);

/* Answer r with the response kept for (dirkey, name, policy) when st (what an lstat of the
 * name found just now; NULL: nothing there) is still the version it was made from: same
 * device, inode, size, mtime and ctime, a regular file. Returns true when queued (*ret is
 * MHD's answer); false when the caller must serve the file itself (an entry that no longer
 * matches is dropped, so its fd stops pinning the file). */
bool http_filecache_serve(struct http_filecache *fc, struct request *r, int dirkey,
			  const char *name, enum http_file_policy policy, const struct stat *st,
			  enum MHD_Result *ret);

/* Keep resp, a complete 200 response for the file st describes, for later requests. Takes
 * over the caller's reference to resp in every case (it is destroyed when not kept). resp
 * must never be changed afterwards: it may be queued on many connections at once. */
void http_filecache_put(struct http_filecache *fc, int dirkey, const char *name,
			enum http_file_policy policy, const struct stat *st,
			struct MHD_Response *resp);

/* Drop the responses unused for 10 s (at most once a second): called by a timer, so a removed
 * file is let go of even when no request comes (http/conns.c's reaper). */
void http_filecache_tick(struct http_filecache *fc);

/* The Prometheus lines: responses kept now, requests answered with one since start. */
void http_filecache_write(struct http_filecache *fc, FILE *out);

#endif
