/* filecache.c - ready 200 responses for static files, one per file version, reused across
 * requests: a request for an unchanged file costs one lstat, no open, no hash lookup, no
 * response to build. A response is found by (directory key, name, policy) and used only while
 * an lstat of the name finds the very file it was made from (device, inode, size, mtime and
 * ctime all equal): a file replaced, rewritten or removed on disk is served from scratch, with
 * its new ETag, on the next request. libmicrohttpd 0.9.75 counts references to a response and
 * reads a file body with sendfile(2)/pread(2) at each connection's own offset, so one response
 * may be queued on many connections of many threads at once; it is never changed once kept. */
#include "http/filecache.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/digest.h"
#include "lib/fileversion.h"

#define HTTP_FILECACHE_SLOTS 256
#define HTTP_FILECACHE_NAME_MAX (DIGEST_HEX_LEN + 1 + 255 + 1) /* HASH/NAME */
#define HTTP_FILECACHE_IDLE_MS 10000 /* unused this long: dropped, its fd stops pinning the file */
#define HTTP_FILECACHE_SWEEP_MS 1000 /* look for idle entries at most this often */

struct http_filecache_entry {
	struct MHD_Response *resp; /* NULL: a free slot; the table holds one reference */
	int dirkey;
	unsigned char policy;
	struct fileversion version;
	uint64_t used_ms;
	char name[HTTP_FILECACHE_NAME_MAX];
};

struct http_filecache {
	pthread_mutex_t lock;
	uint64_t swept_ms;
	uint64_t reused; /* requests answered with a kept response */
	struct http_filecache_entry slots[HTTP_FILECACHE_SLOTS];
};

static uint64_t http_filecache_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int http_filecache_new(struct http_filecache **out)
{
	struct http_filecache *fc = calloc(1, sizeof(*fc));

	*out = NULL;
	if (!fc)
		return -ENOMEM;
	pthread_mutex_init(&fc->lock, NULL);
	*out = fc;
	return 0;
}

void http_filecache_free(struct http_filecache *fc)
{
	if (!fc)
		return;
	for (size_t i = 0; i < HTTP_FILECACHE_SLOTS; i++)
		if (fc->slots[i].resp)
			MHD_destroy_response(fc->slots[i].resp);
	pthread_mutex_destroy(&fc->lock);
	free(fc);
}

/* FNV-1a over the key */
static struct http_filecache_entry *http_filecache_slot(struct http_filecache *fc, int dirkey,
							const char *name,
							enum http_file_policy policy)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)(unsigned)dirkey ^ ((uint64_t)policy << 40);

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	return &fc->slots[h % HTTP_FILECACHE_SLOTS];
}

static bool http_filecache_is(const struct http_filecache_entry *e, int dirkey, const char *name,
			      enum http_file_policy policy)
{
	return e->resp && e->dirkey == dirkey && e->policy == (unsigned char)policy &&
	       strcmp(e->name, name) == 0;
}

/* Under the lock: empty the slot; the caller destroys what is returned, outside the lock (the
 * last reference closes the file). */
static struct MHD_Response *http_filecache_take(struct http_filecache_entry *e)
{
	struct MHD_Response *resp = e->resp;

	e->resp = NULL;
	return resp;
}

/* Under the lock, at most once a second: move idle entries to out (room for every slot). */
static size_t http_filecache_sweep(struct http_filecache *fc, uint64_t now,
				   struct MHD_Response **out)
{
	size_t n = 0;

	if (now - fc->swept_ms < HTTP_FILECACHE_SWEEP_MS)
		return 0;
	fc->swept_ms = now;
	for (size_t i = 0; i < HTTP_FILECACHE_SLOTS; i++)
		if (fc->slots[i].resp && now - fc->slots[i].used_ms >= HTTP_FILECACHE_IDLE_MS)
			out[n++] = http_filecache_take(&fc->slots[i]);
	return n;
}

static void http_filecache_destroy(struct MHD_Response **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		MHD_destroy_response(list[i]);
}

bool http_filecache_serve(struct http_filecache *fc, struct request *r, int dirkey,
			  const char *name, enum http_file_policy policy, const struct stat *st,
			  enum MHD_Result *ret)
{
	struct MHD_Response *drop[HTTP_FILECACHE_SLOTS + 1];
	struct http_filecache_entry *e;
	bool served = false;
	uint64_t now;
	size_t n;

	if (!fc)
		return false;
	e = http_filecache_slot(fc, dirkey, name, policy);
	now = http_filecache_now_ms();
	pthread_mutex_lock(&fc->lock);
	n = http_filecache_sweep(fc, now, drop);
	if (http_filecache_is(e, dirkey, name, policy)) {
		if (st && S_ISREG(st->st_mode) && fileversion_same(&e->version, st)) {
			e->used_ms = now;
			fc->reused++;
			r->status = MHD_HTTP_OK;
			r->body_bytes = (unsigned long long)e->version.size;
			/* queued under the lock: the connection holds its reference before the
			 * entry can be dropped */
			*ret = MHD_queue_response(r->conn, MHD_HTTP_OK, e->resp);
			served = true;
		} else {
			drop[n++] = http_filecache_take(e);
		}
	}
	pthread_mutex_unlock(&fc->lock);
	http_filecache_destroy(drop, n);
	return served;
}

void http_filecache_put(struct http_filecache *fc, int dirkey, const char *name,
			enum http_file_policy policy, const struct stat *st,
			struct MHD_Response *resp)
{
	struct MHD_Response *drop[HTTP_FILECACHE_SLOTS + 1];
	struct http_filecache_entry *e;
	size_t n = 0;

	/* a file changed this lately could change again unseen: not kept */
	if (!fc || strlen(name) >= HTTP_FILECACHE_NAME_MAX || fileversion_fresh(st)) {
		MHD_destroy_response(resp);
		return;
	}
	e = http_filecache_slot(fc, dirkey, name, policy);
	pthread_mutex_lock(&fc->lock);
	if (e->resp)
		drop[n++] = http_filecache_take(e);
	e->resp = resp;
	e->dirkey = dirkey;
	e->policy = (unsigned char)policy;
	fileversion_set(&e->version, st);
	e->used_ms = http_filecache_now_ms();
	strcpy(e->name, name);
	pthread_mutex_unlock(&fc->lock);
	http_filecache_destroy(drop, n);
}

void http_filecache_write(struct http_filecache *fc, FILE *out)
{
	uint64_t reused;
	unsigned kept = 0;

	if (!fc)
		return;
	pthread_mutex_lock(&fc->lock);
	reused = fc->reused;
	for (size_t i = 0; i < HTTP_FILECACHE_SLOTS; i++)
		kept += fc->slots[i].resp != NULL;
	pthread_mutex_unlock(&fc->lock);
	fprintf(out, "# HELP tinyboot_http_file_responses_kept Static file responses kept ready for "
		"reuse now.\n# TYPE tinyboot_http_file_responses_kept gauge\n"
		"tinyboot_http_file_responses_kept %u\n", kept);
	fprintf(out, "# HELP tinyboot_http_file_responses_reused_total Static file requests answered "
		"with a kept response.\n# TYPE tinyboot_http_file_responses_reused_total counter\n"
		"tinyboot_http_file_responses_reused_total %" PRIu64 "\n", reused);
}

void http_filecache_tick(struct http_filecache *fc)
{
	struct MHD_Response *drop[HTTP_FILECACHE_SLOTS];
	size_t n;

	if (!fc)
		return;
	pthread_mutex_lock(&fc->lock);
	n = http_filecache_sweep(fc, http_filecache_now_ms(), drop);
	pthread_mutex_unlock(&fc->lock);
	http_filecache_destroy(drop, n);
}
