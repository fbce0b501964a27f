/* reply.h - the ways a handler answers: raw responses, text, errors, JSON, 405. */
#ifndef TINYBOOT_HTTP_REPLY_H
#define TINYBOOT_HTTP_REPLY_H

#include <jansson.h>
#include <microhttpd.h>
#include <stddef.h>

#include "http/request.h"

/* Each queues the response and releases it; the return value goes straight back to MHD. */
enum MHD_Result http_send(struct request *r, unsigned status, struct MHD_Response *resp);
enum MHD_Result http_send_error(struct request *r, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
enum MHD_Result http_send_text(struct request *r, unsigned status, const char *content_type,
			       const char *body, size_t len);
/* Takes the reference to obj. */
enum MHD_Result http_send_json(struct request *r, unsigned status, json_t *obj);
/* 405 with the Allow header ("GET, HEAD", "POST"). */
enum MHD_Result http_send_method_not_allowed(struct request *r, const char *allow);

#endif
