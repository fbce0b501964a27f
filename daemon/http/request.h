/* request.h - one HTTP request as the handlers see it: who asks, for what, with which body. */
#ifndef TINYBOOT_HTTP_REQUEST_H
#define TINYBOOT_HTTP_REQUEST_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

#include "tinyboot.h"
#include "http/urlname.h"

#define HTTP_BODY_MAX_DEFAULT (64 * 1024)
#define HTTP_REQUEST_ARGS_MAX 2 /* '*' components in one route pattern */

struct http_route;

/* Per-request state, owned by MHD's request context and freed in the completion callback. */
struct request {
	struct tinyboot *tb;
	struct runtime *rt;
	struct MHD_Connection *conn;
	const char *method;
	bool head;
	bool is_post;
	bool keeps_body; /* POST or PUT: the only requests whose body is read */
	char path[URLNAME_PATH_MAX + 1];
	char split[URLNAME_PATH_MAX + 1]; /* path cut at '/', parts point here */
	char *parts[URLNAME_MAX_COMPONENTS];
	int nparts;
	const char *bad_path;           /* why the path is refused with 400, or NULL */
	const struct http_route *route; /* the table's entry for the path, or NULL */
	const char *args[HTTP_REQUEST_ARGS_MAX]; /* what the route's '*'s matched, in order */
	char *body;
	size_t body_len;
	size_t body_max; /* the route's limit, known before the body arrives */
	bool body_too_large;
	/* A handler that suspended the connection to wait (a report or a new boot for its journal sync) is
	 * called again once resumed: parked says so, parked_rc is what it was woken with. */
	bool parked;
	int parked_rc;
	void *parked_data;             /* what the handler keeps for its second call, or NULL */
	void (*parked_free)(void *);   /* frees parked_data in the completion callback */
	unsigned status;         /* of the response queued (http_send), 0 before */
	unsigned long long body_bytes; /* the queued response's body size (for metrics) */
};

#endif
