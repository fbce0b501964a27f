/* server.c - libmicrohttpd set-up, the request lifecycle (path, body, answer), drain. */
#include "http/server.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http/conns.h"
#include "http/drain.h"
#include "http/filecache.h"
#include "http/metrics.h"
#include "http/reply.h"
#include "http/request.h"
#include "http/routes.h"
#include "lib/log.h"

static void http_server_log_mhd(void *cls, const char *fmt, va_list ap)
{
	char msg[1024];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	log_debug("libmicrohttpd: %s", msg);
}

/* MHD's own unescaper would turn %00 into a silent truncation; ours poisons it instead. */
static size_t http_server_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return urlname_unescape(s);
}

/* Split the path on the first call, so the route's body limit holds while the body arrives.
 * A refused path is answered only once the request is complete. */
static void http_server_parse_path(struct request *r, const char *url)
{
	size_t urllen = strlen(url);

	r->body_max = HTTP_BODY_MAX_DEFAULT;
	if (urllen > URLNAME_PATH_MAX) {
		snprintf(r->path, sizeof(r->path), "(%zu bytes)", urllen);
		r->bad_path = "path too long";
		return;
	}
	memcpy(r->path, url, urllen + 1);
	memcpy(r->split, url, urllen + 1);
	r->nparts = urlname_split(r->split, r->parts, URLNAME_MAX_COMPONENTS);
	if (r->nparts < 0) {
		r->bad_path = "invalid name in path";
		return;
	}
	http_routes_match(r);
}

/* A body announced over the route's limit is refused before it is read: answered now, MHD
 * sends no 100 Continue, reads no body and closes the connection after the 413. Chunked bodies
 * announce no length: they are counted as they arrive and refused once complete. */
static bool http_server_body_announced_too_large(struct request *r)
{
	const char *cl = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned long long n;
	char *end;

	if (!cl)
		return false;
	errno = 0;
	n = strtoull(cl, &end, 10);
	/* MHD refused malformed lengths already; an overflow is over any limit */
	return errno == ERANGE || (end != cl && n > r->body_max);
}

/* Answer once the request is complete. */
static enum MHD_Result http_server_answer(struct request *r)
{
	http_conns_phase(r->tb->conns, r->conn, HTTP_CONN_REPLY);
	if (r->bad_path)
		return http_send_error(r, MHD_HTTP_BAD_REQUEST, "%s", r->bad_path);
	if (r->body_too_large)
		return http_send_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "body over %zu bytes",
				       r->body_max);
	return http_routes_dispatch(r);
}

static enum MHD_Result http_server_access(void *cls, struct MHD_Connection *conn, const char *url,
				   const char *method, const char *version,
				   const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct tinyboot *tb = cls;
	struct request *r = *con_cls;

	(void)version;
	if (!r) {
		/* Answering on this first call would make MHD close the connection (the body
		 * might still be on its way), so only set up here and answer on the last call. */
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		r->tb = tb;
		r->conn = conn;
		r->method = method;
		r->head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
		r->is_post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
		r->keeps_body = r->is_post || strcmp(method, MHD_HTTP_METHOD_PUT) == 0;
		http_server_parse_path(r, url);
		r->rt = runtime_get(&tb->current);
		atomic_fetch_add(&tb->requests_in_flight, 1);
		*con_cls = r;
		if (http_server_body_announced_too_large(r)) {
			r->body_too_large = true;
			return http_server_answer(r);
		}
		/* the head is in: from now on body-timeout holds */
		http_conns_phase(tb->conns, conn, HTTP_CONN_BODY);
		return MHD_YES;
	}
	if (*upload_size) {
		size_t n = *upload_size;

		*upload_size = 0;
		/* Bodies are only kept for POST and PUT, and never beyond body_max. */
		if (!r->keeps_body || r->body_too_large || n > r->body_max - r->body_len) {
			r->body_too_large = r->keeps_body;
			return MHD_YES;
		}
		char *grown = realloc(r->body, r->body_len + n + 1);

		if (!grown)
			return MHD_NO;
		r->body = grown;
		memcpy(r->body + r->body_len, upload_data, n);
		r->body_len += n;
		r->body[r->body_len] = '\0';
		return MHD_YES;
	}
	return http_server_answer(r);
}

static void http_server_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			   enum MHD_RequestTerminationCode toe)
{
	struct tinyboot *tb = cls;
	struct request *r = *con_cls;

	/* a kept-alive connection waits for its next head: header-timeout holds again */
	http_conns_phase(tb->conns, conn, HTTP_CONN_HEAD);
	if (!r)
		return;
	/* body bytes count once the whole response went out; HEAD sends none */
	http_metrics_count(tb->metrics, r->route, r->status,
			   toe == MHD_REQUEST_TERMINATED_COMPLETED_OK && !r->head ? r->body_bytes : 0);
	runtime_put(r->rt);
	if (r->parked_free)
		r->parked_free(r->parked_data);
	free(r->body);
	free(r);
	*con_cls = NULL;
	atomic_fetch_sub(&tb->requests_in_flight, 1);
}

int http_start(struct tinyboot *tb, int listen_fd)
{
	const struct options *o = &tb->current.rt->opts;
	unsigned threads = o->threads, per_ip = o->max_connections_per_ip;
	int rc;

	/* No per-address limit by default: a rack behind one NAT address, or a site cache in front
	 * of tinybootd, is one address for hundreds of machines, and libmicrohttpd resets the
	 * connections past the limit at once. Slow or hostile clients are held off by
	 * header-timeout, body-timeout and max-connections shedding (http/conns.c) instead. A limit
	 * at or above max-connections could never refuse anything: not set at all then. */
	if (per_ip == 0 || per_ip >= o->max_connections)
		per_ip = 0;
	if (threads == 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		threads = cpus > 0 ? (unsigned)cpus : 1;
	}
	rc = http_metrics_new(&tb->metrics);
	if (rc)
		return rc;
	rc = http_filecache_new(&tb->files);
	if (rc) {
		http_metrics_free(tb->metrics);
		tb->metrics = NULL;
		return rc;
	}
	rc = http_conns_new(tb, o->max_connections, listen_fd, &tb->conns);
	if (rc) {
		http_filecache_free(tb->files);
		tb->files = NULL;
		http_metrics_free(tb->metrics);
		tb->metrics = NULL;
		return rc;
	}
	/* epoll worker pool + turbo: the fastest mode for many small keep-alive requests and
	 * large sendfile bodies; ITC is needed to quiesce a pool. */
	tb->mhd = MHD_start_daemon(
		MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TURBO | MHD_USE_ITC | MHD_USE_ERROR_LOG |
			MHD_ALLOW_SUSPEND_RESUME,
		0, NULL, NULL, http_server_access, tb,
		MHD_OPTION_EXTERNAL_LOGGER, http_server_log_mhd, NULL, /* first, so it sees every message */
		MHD_OPTION_LISTEN_SOCKET, listen_fd,
		MHD_OPTION_THREAD_POOL_SIZE, threads,
		MHD_OPTION_CONNECTION_TIMEOUT, o->connection_timeout,
		MHD_OPTION_CONNECTION_LIMIT, o->max_connections,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)o->connection_memory,
		MHD_OPTION_NOTIFY_COMPLETED, http_server_completed, tb,
		MHD_OPTION_NOTIFY_CONNECTION, http_conns_notify, tb->conns,
		MHD_OPTION_UNESCAPE_CALLBACK, http_server_unescape, NULL,
		MHD_OPTION_SIGPIPE_HANDLED_BY_APP, 1,
		/* last: MHD_OPTION_END here when there is no per-address limit */
		per_ip ? MHD_OPTION_PER_IP_CONNECTION_LIMIT : MHD_OPTION_END, per_ip,
		MHD_OPTION_END);
	if (!tb->mhd) {
		http_conns_free(tb->conns);
		tb->conns = NULL;
		http_filecache_free(tb->files);
		tb->files = NULL;
		http_metrics_free(tb->metrics);
		tb->metrics = NULL;
		return -EIO;
	}
	return 0;
}

void http_drain_and_stop(struct tinyboot *tb, unsigned seconds)
{
	struct timespec start, now;
	struct http_drain d;
	unsigned extra = 0;

	if (!tb->mhd)
		return;
	atomic_store(&tb->draining, true);
	/* MHD accepts no more; new connections get 503 + Retry-After until the socket closes last */
	http_drain_open(&d, MHD_quiesce_daemon(tb->mhd), tb->current.rt->opts.retry_after);
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (atomic_load(&tb->requests_in_flight) > 0) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= (time_t)seconds) {
			log_warnx("drain: %u requests still in flight after %u s, closing them",
				  atomic_load(&tb->requests_in_flight), seconds);
			break;
		}
		http_drain_poll(&d, 20);
	}
	/* MHD aborts on a suspended connection: one being resumed right now gets its moment */
	while (atomic_load(&tb->waiting) > 0 && extra++ < 50)
		http_drain_poll(&d, 20);
	MHD_stop_daemon(tb->mhd);
	tb->mhd = NULL;
	http_conns_free(tb->conns); /* after MHD_stop_daemon: it reports every close */
	tb->conns = NULL;
	http_filecache_free(tb->files); /* after MHD_stop_daemon: nothing is served any more */
	tb->files = NULL;
	http_metrics_free(tb->metrics); /* after MHD_stop_daemon: it completes every request */
	tb->metrics = NULL;
	http_drain_close(&d);
}
