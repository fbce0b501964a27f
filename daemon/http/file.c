/* file.c - open relative to a directory fd, fstat, then answer with the file's own bytes. */
#include "http/file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/builder.h"
#include "build/served.h"
#include "build/store.h"
#include "http/filecache.h"
#include "http/httpdate.h"
#include "http/range.h"
#include "http/reply.h"
#include "lib/etag.h"
#include "lib/fsutil.h"
#include "lib/log.h"

static const struct {
	const char *suffix;
	const char *type;
} http_file_types[] = {
	{ ".json", "application/json" },
	{ ".log", "text/plain; charset=utf-8" },
	{ ".txt", "text/plain; charset=utf-8" },
	{ ".ipxe", "text/plain; charset=utf-8" },
	{ ".sh", "text/plain; charset=utf-8" },
	{ ".conf", "text/plain; charset=utf-8" },
	{ ".html", "text/html; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".png", "image/png" },
	{ ".gz", "application/gzip" }, /* never Content-Encoding: clients want the bytes as stored */
	{ ".xz", "application/x-xz" },
	{ ".cpio", "application/x-cpio" },
	{ ".tar", "application/x-tar" },
	{ ".iso", "application/x-iso9660-image" },
};

const char *http_file_content_type(const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < sizeof(http_file_types) / sizeof(http_file_types[0]); i++) {
		size_t sl = strlen(http_file_types[i].suffix);

		if (len > sl && strcasecmp(name + len - sl, http_file_types[i].suffix) == 0)
			return http_file_types[i].type;
	}
	if (strcmp(name, "cmdline") == 0)
		return "text/plain; charset=utf-8";
	return "application/octet-stream";
}

/* If-None-Match uses the weak comparison (RFC 9110 13.1.2): W/ prefixes are ignored. */
static bool http_file_etag_listed(const char *header, const char *etag)
{
	size_t elen = strlen(etag);
	const char *p = header;

	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '*')
			return true;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (strncmp(p, etag, elen) == 0 && (p[elen] == '\0' || p[elen] == ',' ||
						    p[elen] == ' ' || p[elen] == '\t'))
			return true;
		while (*p && *p != ',')
			p++;
	}
	return false;
}

static void http_file_validators(struct MHD_Response *resp, const char *etag, const char *modified,
				 enum http_file_policy policy)
{
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, modified);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
				policy == HTTP_FILE_IMMUTABLE ? "public, max-age=31536000, immutable"
							      : "no-cache");
}

/* Does If-Range still name this representation? Only a strong ETag or an exact date counts. */
static bool http_file_if_range_ok(const char *if_range, const char *etag, time_t mtime)
{
	time_t t;

	if (!if_range)
		return true;
	if (if_range[0] == '"')
		return strcmp(if_range, etag) == 0;
	return httpdate_parse(if_range, &t) == 0 && t == mtime;
}

/* Where a file was found: the key its response is kept under (http/filecache.c). */
#define HTTP_FILE_KEY_ARTIFACTS (-2) /* never a directory fd */

struct http_file_key {
	int dirkey;
	const char *name; /* as the directory sees it: NAME or HASH/NAME */
};

/* Whole files up to HTTP_FILE_MAP_MAX are answered from a read-only shared mapping rather than
 * with sendfile(2). libmicrohttpd 0.9.75 sends a file body in 128 KiB sendfile calls, after
 * the head in a call of its own and three TCP_CORK/TCP_NODELAY changes, and holds the
 * response's mutex across each sendfile: a response kept for many connections (every machine
 * of a rack fetching the same initrd) makes the worker threads take turns. A buffer body goes
 * out with the head in one sendmsg, with no lock. The kernel copies the bytes (sendfile would
 * not): on loopback that still wins at every size measured (scripts/bench-http.sh: 16 MiB went
 * from 1.0x to 1.5-1.7x nginx's requests/s, the receiver reading bytes still in cache), at
 * 1.1-1.45x nginx's CPU per request there. Above the limit, and for ranges, sendfile (a huge
 * file is not mapped whole for a kept response). Only small files are populated
 * up front; a large one faults its pages in inside sendmsg, a socket buffer at a time, so
 * the first request for a cold file does not hold the worker thread for the whole read.
 * libmicrohttpd never reads the body itself (no TLS, a known length: never chunked), so a
 * file truncated under the mapping makes sendmsg fail with EFAULT (the connection is closed),
 * never a SIGBUS. */
#define HTTP_FILE_MAP_MAX ((uint64_t)64 << 20)
#define HTTP_FILE_POPULATE_MAX ((uint64_t)2 << 20)

struct http_file_map {
	void *p;
	size_t len;
};

static void http_file_unmap(void *cls)
{
	struct http_file_map *m = cls;

	munmap(m->p, m->len);
	free(m);
}

/* A response whose body is the file's mapping, unmapped with the last reference; NULL: use
 * the fd. MAP_POPULATE (small files): one call maps every page, not a fault per page later. */
static struct MHD_Response *http_file_mapped(int fd, uint64_t size)
{
	struct http_file_map *m = malloc(sizeof(*m));
	struct MHD_Response *resp;

	if (!m)
		return NULL;
	m->len = size;
	m->p = mmap(NULL, size, PROT_READ,
		    MAP_SHARED | (size <= HTTP_FILE_POPULATE_MAX ? MAP_POPULATE : 0), fd, 0);
	if (m->p == MAP_FAILED) {
		free(m);
		return NULL;
	}
	resp = MHD_create_response_from_buffer_with_free_callback_cls(size, m->p, http_file_unmap, m);
	if (!resp)
		http_file_unmap(m);
	return resp;
}

static enum MHD_Result http_file_answer(struct request *r, int fd, const struct stat *st,
					const char *name, enum http_file_policy policy,
					const struct http_file_key *key)
{
	struct MHD_Connection *c = r->conn;
	const char *inm, *ims, *range_hdr, *if_range;
	char etag[ETAG_LEN], modified[HTTPDATE_LEN], content_range[96];
	uint64_t size = (uint64_t)st->st_size, start = 0, length = size;
	struct MHD_Response *resp;
	unsigned status = MHD_HTTP_OK;
	enum range_result rr = RANGE_NONE;
	time_t since;
	int rc;

	rc = etag_cache_get(r->tb->etags, fd, st, etag);
	if (rc) {
		errno = -rc;
		log_warn("%s: hash %s", __func__, name);
		close(fd);
		return http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot read file");
	}
	httpdate_format(st->st_mtim.tv_sec, modified);

	inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
	ims = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_MODIFIED_SINCE);
	if ((inm && http_file_etag_listed(inm, etag)) ||
	    (!inm && ims && httpdate_parse(ims, &since) == 0 && st->st_mtim.tv_sec <= since)) {
		close(fd);
		resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
		if (!resp)
			return MHD_NO;
		http_file_validators(resp, etag, modified, policy);
		return http_send(r, MHD_HTTP_NOT_MODIFIED, resp);
	}

	range_hdr = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE);
	if_range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_RANGE);
	if (range_hdr && http_file_if_range_ok(if_range, etag, st->st_mtim.tv_sec))
		rr = range_parse(range_hdr, size, &start, &length);
	if (rr == RANGE_UNSATISFIABLE) {
		static const char body[] = "416 Range Not Satisfiable\n";

		close(fd);
		resp = MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body,
						       MHD_RESPMEM_PERSISTENT);
		if (!resp)
			return MHD_NO;
		snprintf(content_range, sizeof(content_range), "bytes */%" PRIu64, size);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, content_range);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
		http_file_validators(resp, etag, modified, policy);
		r->body_bytes = sizeof(body) - 1;
		return http_send(r, MHD_HTTP_RANGE_NOT_SATISFIABLE, resp);
	}
	if (rr == RANGE_OK) {
		status = MHD_HTTP_PARTIAL_CONTENT;
		snprintf(content_range, sizeof(content_range), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64,
			 start, start + length - 1, size);
	}

	if (length == 0) {
		close(fd);
		resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	} else if (status == MHD_HTTP_OK && length <= HTTP_FILE_MAP_MAX &&
		   (resp = http_file_mapped(fd, length))) {
		close(fd); /* the mapping keeps the file */
	} else {
		/* MHD owns fd from here and sends it with sendfile(2). */
		resp = MHD_create_response_from_fd_at_offset64(length, fd, start);
		if (!resp)
			close(fd);
	}
	if (!resp)
		return MHD_NO;
	if (status == MHD_HTTP_PARTIAL_CONTENT)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, content_range);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, http_file_content_type(name));
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
	http_file_validators(resp, etag, modified, policy);
	r->body_bytes = length;
	/* the whole file: kept for the next requests of this version (never while draining,
	 * when http_send adds Connection: close to the response) */
	if (status == MHD_HTTP_OK && length == size && length > 0 &&
	    !atomic_load(&r->tb->draining)) {
		enum MHD_Result ret;

		r->status = status;
		ret = MHD_queue_response(r->conn, status, resp);
		http_filecache_put(r->tb->files, key->dirkey, key->name, policy, st, resp);
		return ret;
	}
	return http_send(r, status, resp);
}

/* Open one name below dirfd without following links; only regular files are served, and a FIFO
 * is refused without waiting for a writer (fsutil_open_regular). */
static int http_file_open(int dirfd, const char *name, struct stat *st)
{
	int fd = fsutil_open_regular(dirfd, name, O_NOFOLLOW, st);

	return fd == -EINVAL ? -ENOENT : fd;
}

static enum MHD_Result http_file_open_failed(struct request *r, const char *name, int rc)
{
	switch (-rc) {
	case ENOENT:
	case ELOOP:   /* a symlink: never followed, never admitted to */
	case ENOTDIR:
		return http_send_error(r, MHD_HTTP_NOT_FOUND, "no such file '%s'", name);
	case EACCES:
	case EPERM:
		return http_send_error(r, MHD_HTTP_FORBIDDEN, "'%s' is not readable", name);
	default:
		errno = -rc;
		log_warn("%s: open %s", __func__, name);
		return http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot open '%s'", name);
	}
}

/* A kept response fits plain GET and HEAD; conditional and range requests are answered from
 * the file itself (rare: iPXE and the kernels' loaders send neither). */
static bool http_file_plain(struct request *r)
{
	struct MHD_Connection *c = r->conn;

	return !atomic_load(&r->tb->draining) &&
	       !MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE) &&
	       !MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH) &&
	       !MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_MODIFIED_SINCE);
}

static enum MHD_Result http_file_serve_keyed(struct request *r, int dirfd, const char *name,
					     enum http_file_policy policy,
					     const struct http_file_key *key)
{
	struct stat st;
	int fd;

	fd = http_file_open(dirfd, name, &st);
	if (fd < 0)
		return http_file_open_failed(r, name, fd);
	return http_file_answer(r, fd, &st, name, policy, key);
}

enum MHD_Result http_file_serve(struct request *r, int dirfd, const char *name,
				enum http_file_policy policy)
{
	struct http_file_key key = { dirfd, name };
	enum MHD_Result ret;
	struct stat st;

	/* the kept response, while an lstat finds the same file (no link is ever followed) */
	if (r->tb->files && http_file_plain(r)) {
		bool found = fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;

		if (http_filecache_serve(r->tb->files, r, dirfd, name, policy, found ? &st : NULL,
					 &ret))
			return ret;
	}
	return http_file_serve_keyed(r, dirfd, name, policy, &key);
}

enum MHD_Result http_file_serve_artifact(struct request *r, const char *hash, const char *name)
{
	const struct store *store = builder_store(r->tb->builder);
	char rel[DIGEST_HEX_LEN + 1 + NAME_MAX + 1];
	struct http_file_key key = { HTTP_FILE_KEY_ARTIFACTS, rel };
	enum MHD_Result ret;
	struct stat st;
	int dirfd, rc;

	/* The kept response while an lstat of HASH/NAME finds the very file it was made from;
	 * that file was opened below, the safe way, so a link met on the way cannot lead
	 * anywhere else. Saves opening the artifact's directory and the file. */
	snprintf(rel, sizeof(rel), "%.64s/%.255s", hash, name);
	if (r->tb->files && http_file_plain(r)) {
		rc = store_artifact_stat(store, hash, name, &st);
		if (http_filecache_serve(r->tb->files, r, key.dirkey, rel, HTTP_FILE_IMMUTABLE,
					 rc ? NULL : &st, &ret)) {
			served_note(store_served(store), hash); /* retention's LRU order */
			return ret;
		}
	}
	/* the store takes only a 64-hex name and never follows a link to the directory */
	dirfd = store_artifact_open(store, hash);
	if (dirfd < 0)
		return http_send_error(r, MHD_HTTP_NOT_FOUND, "no such artifact");
	served_note(store_served(store), hash); /* retention's LRU order */
	ret = http_file_serve_keyed(r, dirfd, name, HTTP_FILE_IMMUTABLE, &key);
	close(dirfd);
	return ret;
}
