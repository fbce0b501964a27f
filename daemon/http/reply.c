/* reply.c - queue a response: the Connection: close while draining, the common bodies and headers. */
#include "http/reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

enum MHD_Result http_send(struct request *r, unsigned status, struct MHD_Response *resp)
{
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	r->status = status;
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
	r->body_bytes = len;
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
	r->body_bytes = len + 1;
	return http_send(r, status, resp);
}

enum MHD_Result http_send_method_not_allowed(struct request *r, const char *allow)
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
	r->body_bytes = (unsigned long long)n;
	return http_send(r, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
}
