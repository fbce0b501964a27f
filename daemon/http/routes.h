/* routes.h - the one table from paths to handlers: pattern, methods, body limit. */
#ifndef TINYBOOT_HTTP_ROUTES_H
#define TINYBOOT_HTTP_ROUTES_H

#include <stdbool.h>
#include <stddef.h>

#include "http/request.h"

enum http_route_methods {
	HTTP_ROUTE_GET = 1 << 0, /* GET and HEAD */
	HTTP_ROUTE_POST = 1 << 1,
	HTTP_ROUTE_PUT = 1 << 2,
	HTTP_ROUTE_DELETE = 1 << 3,
	HTTP_ROUTE_METHODS_ALL = (1 << 4) - 1,
	/* Not a method: every method but GET/HEAD changes state and needs a permitted client
	 * (http/auth.h: a bearer token from api-tokens, or loopback without api-tokens); a route
	 * with this flag needs none (reports: the boot's own token is the proof). */
	HTTP_ROUTE_NO_TOKEN = 1 << 7,
};

struct http_route {
	const char *pattern; /* components split at '/'; a '*' component is any one name, and
			      * what it matched is handed over in r->args */
	unsigned methods;    /* enum http_route_methods */
	size_t body_max;     /* a POST or PUT body over this is answered 413 */
	enum MHD_Result (*handler)(struct request *r);
};

/* The first route whose pattern matches the split path; its '*' components go to args.
 * NULL when no route matches. */
const struct http_route *http_routes_find(char *const *parts, int nparts,
					  const char *args[HTTP_REQUEST_ARGS_MAX]);
/* The Allow header for a route: its methods in the order GET, HEAD, POST, PUT, DELETE. */
const char *http_routes_allow(const struct http_route *route);
/* Does the route take this method (HEAD goes with GET)? */
bool http_routes_allows(const struct http_route *route, const char *method);
/* Once the path is split: r->route, r->args, and the body limit that goes with them. */
void http_routes_match(struct request *r);
/* The table's routes by position, for counting requests per route: how many there are, the
 * position of one of them, the pattern at a position (a bounded label value). */
size_t http_routes_count(void);
size_t http_routes_index(const struct http_route *route);
const char *http_routes_pattern(size_t i);
/* Answer a complete request: 404 without a route, 405 for another method, else the handler. */
enum MHD_Result http_routes_dispatch(struct request *r);

#endif
