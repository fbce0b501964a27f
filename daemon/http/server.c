/* http.c - libmicrohttpd set-up, request lifecycle, routing and common answers. */
#include "http/http.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http/api.h"
#include "http/file.h"
#include "http/boot.h"
#include "http/images.h"
#include "http/size.h"
#include "boot/payloads.h"
#include "lib/log.h"

static void http_log_mhd(void *cls, const char *fmt, va_list ap)
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
static size_t http_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return urlname_unescape(s);
}

enum MHD_Result http_send(struct request *r, unsigned status, struct MHD_Response *resp)
{
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	if (atomic_load(&r->tb->draining))
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

enum MHD_Result http_send_text(struct request *r, unsigned status, const char *content_type,
			       const char *body, size_t len)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	return http_send(r, status, resp);
}

enum MHD_Result http_send_error(struct request *r, unsigned status, const char *fmt, ...)
{
	char detail[4096], body[4200];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	n = snprintf(body, sizeof(body), "%u %s: %s\n", status, MHD_get_reason_phrase_for(status),
		     detail);
	if (n < 0)
		return MHD_NO;
	if ((size_t)n >= sizeof(body))
		n = sizeof(body) - 1;
	log_debug("%s %s -> %u %s", r->method, r->path, status, detail);
	return http_send_text(r, status, "text/plain; charset=utf-8", body, (size_t)n);
}

enum MHD_Result http_send_json(struct request *r, unsigned status, json_t *obj)
{
	struct MHD_Response *resp;
	char *text;
	size_t len;

	if (!obj)
		return MHD_NO;
	text = json_dumps(obj, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(obj);
	if (!text)
		return MHD_NO;
	len = strlen(text);
	text[len] = '\0';
	/* A trailing newline keeps terminals and `curl` output tidy. */
	char *with_nl = realloc(text, len + 2);

	if (!with_nl) {
		free(text);
		return MHD_NO;
	}
	with_nl[len] = '\n';
	with_nl[len + 1] = '\0';
	resp = MHD_create_response_from_buffer(len + 1, with_nl, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(with_nl);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	return http_send(r, status, resp);
}

static enum MHD_Result http_method_not_allowed(struct request *r, const char *allow)
{
	struct MHD_Response *resp;
	char body[128];
	int n;

	n = snprintf(body, sizeof(body), "405 Method Not Allowed: use %s\n", allow);
	resp = MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	return http_send(r, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
}

static bool http_is(const struct request *r, int n, const char *a, const char *b, const char *c)
{
	const char *want[3] = { a, b, c };

	if (r->nparts != n)
		return false;
	for (int i = 0; i < n && i < 3; i++)
		if (want[i] && strcmp(r->parts[i], want[i]) != 0)
			return false;
	return true;
}

/* A kernel or initrd that went out with 200/206 counts toward its boot's progress. */
static enum MHD_Result http_boot_counted(struct request *r, enum MHD_Result ret, const char *name)
{
	const union MHD_ConnectionInfo *info;

	if (ret != MHD_YES || r->head)
		return ret;
	info = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_HTTP_STATUS);
	if (info && (info->http_status == MHD_HTTP_OK || info->http_status == MHD_HTTP_PARTIAL_CONTENT))
		http_boot_note_download(r, name);
	return ret;
}

static enum MHD_Result http_route(struct request *r)
{
	bool get = strcmp(r->method, MHD_HTTP_METHOD_GET) == 0 || r->head;

	if (r->nparts == 0 || http_is(r, 1, "healthz", NULL, NULL) ||
	    http_is(r, 3, "api", "v1", "version")) {
		if (!get)
			return http_method_not_allowed(r, "GET, HEAD");
		if (r->nparts == 0)
			return api_index(r);
		return r->nparts == 1 ? api_healthz(r) : api_version(r);
	}
	if (http_is(r, 2, "payloads", "manifest", NULL)) {
		if (!get)
			return http_method_not_allowed(r, "GET, HEAD");
		return payloads_serve_manifest(r);
	}
	if (http_is(r, 3, "payloads", "gen", NULL)) {
		if (!get)
			return http_method_not_allowed(r, "GET, HEAD");
		return payloads_serve_gen(r, r->parts[2]);
	}
	if (http_is(r, 2, "payloads", NULL, NULL)) {
		if (!get)
			return http_method_not_allowed(r, "GET, HEAD");
		return http_file_serve(r, r->rt->payloads_fd, r->parts[1], HTTP_FILE_REVALIDATE);
	}
	if (http_is(r, 1, "boot.ipxe", NULL, NULL)) {
		if (!get)
			return http_method_not_allowed(r, "GET, HEAD");
		return http_boot_generic_script(r);
	}
	if (http_is(r, 1, "ipxe", NULL, NULL)) {
		if (!get)
			return http_method_not_allowed(r, "GET, HEAD");
		return http_boot_machine_script(r);
	}
	if (http_is(r, 3, "api", "v1", "boots")) {
		if (!r->is_post)
			return http_method_not_allowed(r, "POST");
		return http_boot_create(r);
	}
	if (http_is(r, 4, "api", "v1", "boots")) {
		if (!get)
			return http_method_not_allowed(r, "GET, HEAD");
		return http_boot_get(r, r->parts[3]);
	}
	if (http_is(r, 3, "api", "v1", "reports")) {
		if (!r->is_post)
			return http_method_not_allowed(r, "POST");
		return http_boot_report(r);
	}
	if (http_is(r, 3, "api", "v1", "machines")) {
		if (!get)
			return http_method_not_allowed(r, "GET, HEAD");
		return http_boot_machines(r);
	}
	if (http_is(r, 3, "images", NULL, NULL)) {
		if (!get)
			return http_method_not_allowed(r, "GET, HEAD");
		return http_boot_counted(r, http_images_file(r, r->parts[1], r->parts[2]), r->parts[2]);
	}
	if (http_is(r, 3, "api", "v1", "builds")) {
		if (!r->is_post)
			return http_method_not_allowed(r, "POST");
		return http_images_build_post(r);
	}
	if (http_is(r, 4, "api", "v1", "builds")) {
		if (!get)
			return http_method_not_allowed(r, "GET, HEAD");
		return http_images_build_get(r, r->parts[3]);
	}
	if (http_is(r, 3, "api", "v1", "images")) {
		if (!get)
			return http_method_not_allowed(r, "GET, HEAD");
		return http_images_list(r);
	}
	if (http_is(r, 5, "api", "v1", "images") && strcmp(r->parts[4], "size") == 0) {
		if (!get)
			return http_method_not_allowed(r, "GET, HEAD");
		return http_size_get(r, r->parts[3]);
	}
	if (http_is(r, 3, "artifacts", NULL, NULL)) {
		if (!get)
			return http_method_not_allowed(r, "GET, HEAD");
		return http_boot_counted(r, http_file_serve_artifact(r, r->parts[1], r->parts[2]), r->parts[2]);
	}
	return http_send_error(r, MHD_HTTP_NOT_FOUND, "no such resource");
}

/* Route the request once it is complete. */
static enum MHD_Result http_dispatch(struct request *r, const char *url)
{
	size_t urllen = strlen(url);

	if (urllen > URLNAME_PATH_MAX) {
		snprintf(r->path, sizeof(r->path), "(%zu bytes)", urllen);
		return http_send_error(r, MHD_HTTP_BAD_REQUEST, "path too long");
	}
	memcpy(r->path, url, urllen + 1);
	memcpy(r->split, url, urllen + 1);
	r->nparts = urlname_split(r->split, r->parts, URLNAME_MAX_COMPONENTS);
	if (r->nparts < 0)
		return http_send_error(r, MHD_HTTP_BAD_REQUEST, "invalid name in path");
	if (r->body_too_large)
		return http_send_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "body over %zu bytes",
				       r->body_max);
	return http_route(r);
}

static enum MHD_Result http_access(void *cls, struct MHD_Connection *conn, const char *url,
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
		/* reports come from guests: keep them small */
		r->body_max = strcmp(url, "/api/v1/reports") == 0 ? HTTP_BOOT_REPORT_MAX : HTTP_BODY_MAX_DEFAULT;
		r->rt = runtime_get(&tb->current);
		atomic_fetch_add(&tb->requests_in_flight, 1);
		*con_cls = r;
		return MHD_YES;
	}
	if (*upload_size) {
		size_t n = *upload_size;

		*upload_size = 0;
		/* Bodies are only kept for POST, and never beyond body_max. */
		if (!r->is_post || r->body_too_large || n > r->body_max - r->body_len) {
			r->body_too_large = r->is_post;
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
	return http_dispatch(r, url);
}

static void http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			   enum MHD_RequestTerminationCode toe)
{
	struct tinyboot *tb = cls;
	struct request *r = *con_cls;

	(void)conn;
	(void)toe;
	if (!r)
		return;
	runtime_put(r->rt);
	free(r->body);
	free(r);
	*con_cls = NULL;
	atomic_fetch_sub(&tb->requests_in_flight, 1);
}

int http_start(struct tinyboot *tb, int listen_fd)
{
	const struct options *o = &tb->current.rt->opts;
	unsigned threads = o->threads;

	if (threads == 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		threads = cpus > 0 ? (unsigned)cpus : 1;
	}
	/* epoll worker pool + turbo: the fastest mode for many small keep-alive requests and
	 * large sendfile bodies; ITC is needed to quiesce a pool. */
	tb->mhd = MHD_start_daemon(
		MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TURBO | MHD_USE_ITC | MHD_USE_ERROR_LOG |
			MHD_ALLOW_SUSPEND_RESUME,
		0, NULL, NULL, http_access, tb,
		MHD_OPTION_EXTERNAL_LOGGER, http_log_mhd, NULL, /* first, so it sees every message */
		MHD_OPTION_LISTEN_SOCKET, listen_fd,
		MHD_OPTION_THREAD_POOL_SIZE, threads,
		MHD_OPTION_CONNECTION_TIMEOUT, o->connection_timeout,
		MHD_OPTION_CONNECTION_LIMIT, o->max_connections,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->max_connections_per_ip,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)o->connection_memory,
		MHD_OPTION_NOTIFY_COMPLETED, http_completed, tb,
		MHD_OPTION_UNESCAPE_CALLBACK, http_unescape, NULL,
		MHD_OPTION_SIGPIPE_HANDLED_BY_APP, 1,
		MHD_OPTION_END);
	if (!tb->mhd)
		return -EIO;
	return 0;
}

void http_drain_and_stop(struct tinyboot *tb, unsigned seconds)
{
	struct timespec start, now, nap = { 0, 20 * 1000 * 1000 };
	MHD_socket listen_fd;

	if (!tb->mhd)
		return;
	atomic_store(&tb->draining, true);
	listen_fd = MHD_quiesce_daemon(tb->mhd);
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (atomic_load(&tb->requests_in_flight) > 0) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= (time_t)seconds) {
			log_warnx("drain: %u requests still in flight after %u s, closing them",
				  atomic_load(&tb->requests_in_flight), seconds);
			break;
		}
		nanosleep(&nap, NULL);
	}
	MHD_stop_daemon(tb->mhd);
	tb->mhd = NULL;
	if (listen_fd != MHD_INVALID_SOCKET)
		close(listen_fd);
}
