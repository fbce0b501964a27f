/* http.h - the libmicrohttpd server: start, drain, route, answer. */
#ifndef TINYBOOT_HTTP_H
#define TINYBOOT_HTTP_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

#include "tinyboot.h"
#include "http/urlname.h"

#define HTTP_BODY_MAX_DEFAULT (64 * 1024)

/* Per-request state, owned by MHD's request context and freed in the completion callback. */
struct request {
	struct tinyboot *tb;
	struct runtime *rt;
	struct MHD_Connection *conn;
	const char *method;
	bool head;
	bool is_post;
	char path[URLNAME_PATH_MAX + 1];
	char split[URLNAME_PATH_MAX + 1]; /* path cut at '/', parts point here */
	char *parts[URLNAME_MAX_COMPONENTS];
	int nparts;
	char *body;
	size_t body_len;
	size_t body_max;
	bool body_too_large;
};

int http_start(struct tinyboot *tb, int listen_fd);
/* Stop accepting, wait up to `seconds` for requests in flight, then stop the server. */
void http_drain_and_stop(struct tinyboot *tb, unsigned seconds);

/* Each queues the response and releases it; the return value goes straight back to MHD. */
enum MHD_Result http_send(struct request *r, unsigned status, struct MHD_Response *resp);
enum MHD_Result http_send_error(struct request *r, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
enum MHD_Result http_send_text(struct request *r, unsigned status, const char *content_type,
			       const char *body, size_t len);
/* Takes the reference to obj. */
enum MHD_Result http_send_json(struct request *r, unsigned status, json_t *obj);

#endif
