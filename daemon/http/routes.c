/* routes.c - which handler answers which path and method, and how large a body may be. */
#include "http/routes.h"

#include <string.h>

#include "http/api.h"
#include "http/auth.h"
#include "http/boot.h"
#include "http/file.h"
#include "http/gc.h"
#include "http/images.h"
#include "http/metrics_page.h"
#include "http/machines.h"
#include "http/next.h"
#include "http/payloads.h"
#include "http/pins.h"
#include "http/pxe.h"
#include "http/reply.h"
#include "http/size.h"
#include "http/www.h"

/* Handlers that take what the pattern's '*'s matched. */
static enum MHD_Result http_routes_payloads_gen(struct request *r)
{
	return http_payloads_gen(r, r->args[0]);
}

static enum MHD_Result http_routes_payloads_file(struct request *r)
{
	return http_payloads_file(r, r->args[0]);
}

static enum MHD_Result http_routes_boot_get(struct request *r)
{
	return http_boot_get(r, r->args[0]);
}

/* A kernel or initrd sent for ?boot=TOKEN counts toward that boot's progress. */
static enum MHD_Result http_routes_images_file(struct request *r)
{
	return http_boot_counted(r, http_images_file(r, r->args[0], r->args[1]), r->args[1]);
}

static enum MHD_Result http_routes_artifact(struct request *r)
{
	return http_boot_counted(r, http_file_serve_artifact(r, r->args[0], r->args[1]), r->args[1]);
}

static enum MHD_Result http_routes_build_get(struct request *r)
{
	return http_images_build_get(r, r->args[0]);
}

static enum MHD_Result http_routes_size_get(struct request *r)
{
	return http_size_get(r, r->args[0]);
}

static enum MHD_Result http_routes_builds(struct request *r)
{
	return r->is_post ? http_images_build_post(r) : http_images_builds_list(r);
}

static enum MHD_Result http_routes_www_static(struct request *r)
{
	return http_www_static(r, r->args[0]);
}

static enum MHD_Result http_routes_pxe_program(struct request *r)
{
	return http_pxe_program(r, r->args[0]);
}

static enum MHD_Result http_routes_machine_next(struct request *r)
{
	return http_next_machine(r, r->args[0]);
}

static enum MHD_Result http_routes_pin(struct request *r)
{
	return http_pins_one(r, r->args[0]);
}

#define GET HTTP_ROUTE_GET
#define POST HTTP_ROUTE_POST
#define NO_TOKEN HTTP_ROUTE_NO_TOKEN
#define PUT HTTP_ROUTE_PUT
#define DELETE HTTP_ROUTE_DELETE
#define BODY_DEFAULT HTTP_BODY_MAX_DEFAULT

/* First match wins: /payloads/manifest and /payloads/gen/N before /payloads/NAME. */
static const struct http_route http_routes[] = {
	{ "/",                      GET,  BODY_DEFAULT,         http_www_index },
	{ "/static/*",              GET,  BODY_DEFAULT,         http_routes_www_static },
	{ "/healthz",               GET,  BODY_DEFAULT,         http_api_healthz },
	{ "/api/v1/version",        GET,  BODY_DEFAULT,         http_api_version },
	{ "/payloads/manifest",     GET,  BODY_DEFAULT,         http_payloads_manifest },
	{ "/payloads/gen/*",        GET,  BODY_DEFAULT,         http_routes_payloads_gen },
	{ "/payloads/*",            GET,  BODY_DEFAULT,         http_routes_payloads_file },
	{ "/boot.ipxe",             GET,  BODY_DEFAULT,         http_boot_generic_script },
	{ "/ipxe",                  GET,  BODY_DEFAULT,         http_boot_machine_script },
	{ "/api/v1/boots",          POST, BODY_DEFAULT,         http_boot_create },
	{ "/api/v1/boots/*",        GET,  BODY_DEFAULT,         http_routes_boot_get },
	/* reports come from guests: keep them small */
	{ "/api/v1/reports",        POST | NO_TOKEN, HTTP_BOOT_REPORT_MAX, http_boot_report },
	{ "/api/v1/machines",       GET,  BODY_DEFAULT,         http_machines_list },
	/* what a machine boots next: GET shows, PUT sets, DELETE clears */
	{ "/api/v1/machines/*/next", GET | PUT | DELETE, BODY_DEFAULT, http_routes_machine_next },
	{ "/images/*/*",            GET,  BODY_DEFAULT,         http_routes_images_file },
	{ "/api/v1/builds",         GET | POST, BODY_DEFAULT,   http_routes_builds },
	{ "/api/v1/builds/*",       GET,  BODY_DEFAULT,         http_routes_build_get },
	{ "/api/v1/images",         GET,  BODY_DEFAULT,         http_images_list },
	{ "/api/v1/images/*/size",  GET,  BODY_DEFAULT,         http_routes_size_get },
	{ "/artifacts/*/*",         GET,  BODY_DEFAULT,         http_routes_artifact },
	{ "/pxe/*",                 GET,  BODY_DEFAULT,         http_routes_pxe_program },
	{ "/api/v1/pxe/config",     GET,  BODY_DEFAULT,         http_pxe_config },
	{ "/metrics",               GET,  BODY_DEFAULT,         http_metrics_page },
	/* retention: run it (or {"dry_run": true}), and what it never evicts */
	{ "/api/v1/gc",             POST, BODY_DEFAULT,         http_gc_post },
	{ "/api/v1/pins",           GET,  BODY_DEFAULT,         http_pins_list },
	{ "/api/v1/pins/*",         PUT | DELETE, BODY_DEFAULT, http_routes_pin },
};

#undef GET
#undef POST
#undef NO_TOKEN
#undef PUT
#undef DELETE
#undef BODY_DEFAULT

/* Does the pattern match the components, one '*' per name? The '*'s go to args. */
static bool http_routes_matches(const char *pattern, char *const *parts, int nparts,
				const char *args[HTTP_REQUEST_ARGS_MAX])
{
	const char *p = pattern + 1; /* every pattern is absolute */
	int i = 0, nargs = 0;

	while (*p) {
		size_t len = strcspn(p, "/");

		if (i == nparts)
			return false;
		if (len == 1 && *p == '*') {
			if (nargs == HTTP_REQUEST_ARGS_MAX)
				return false;
			args[nargs++] = parts[i];
		} else if (strlen(parts[i]) != len || memcmp(parts[i], p, len) != 0) {
			return false;
		}
		i++;
		p += len;
		if (*p == '/')
			p++;
	}
	return i == nparts;
}

const struct http_route *http_routes_find(char *const *parts, int nparts,
					  const char *args[HTTP_REQUEST_ARGS_MAX])
{
	for (size_t i = 0; i < sizeof(http_routes) / sizeof(http_routes[0]); i++)
		if (http_routes_matches(http_routes[i].pattern, parts, nparts, args))
			return &http_routes[i];
	return NULL;
}

size_t http_routes_count(void)
{
	return sizeof(http_routes) / sizeof(http_routes[0]);
}

size_t http_routes_index(const struct http_route *route)
{
	return (size_t)(route - http_routes);
}

const char *http_routes_pattern(size_t i)
{
	return i < http_routes_count() ? http_routes[i].pattern : NULL;
}

const char *http_routes_allow(const struct http_route *route)
{
	/* indexed by the method bits: GET 1, POST 2, PUT 4, DELETE 8 */
	static const char *const allow[HTTP_ROUTE_METHODS_ALL + 1] = {
		"", "GET, HEAD", "POST", "GET, HEAD, POST",
		"PUT", "GET, HEAD, PUT", "POST, PUT", "GET, HEAD, POST, PUT",
		"DELETE", "GET, HEAD, DELETE", "POST, DELETE", "GET, HEAD, POST, DELETE",
		"PUT, DELETE", "GET, HEAD, PUT, DELETE", "POST, PUT, DELETE", "GET, HEAD, POST, PUT, DELETE",
	};

	return allow[route->methods & HTTP_ROUTE_METHODS_ALL];
}

bool http_routes_allows(const struct http_route *route, const char *method)
{
	if (strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0)
		return route->methods & HTTP_ROUTE_GET;
	if (strcmp(method, MHD_HTTP_METHOD_POST) == 0)
		return route->methods & HTTP_ROUTE_POST;
	if (strcmp(method, MHD_HTTP_METHOD_PUT) == 0)
		return route->methods & HTTP_ROUTE_PUT;
	if (strcmp(method, MHD_HTTP_METHOD_DELETE) == 0)
		return route->methods & HTTP_ROUTE_DELETE;
	return false;
}

void http_routes_match(struct request *r)
{
	r->route = http_routes_find(r->parts, r->nparts, r->args);
	r->body_max = r->route ? r->route->body_max : HTTP_BODY_MAX_DEFAULT;
}

enum MHD_Result http_routes_dispatch(struct request *r)
{
	if (!r->route)
		return http_send_error(r, MHD_HTTP_NOT_FOUND, "no such resource");
	if (!http_routes_allows(r->route, r->method))
		return http_send_method_not_allowed(r, http_routes_allow(r->route));
	if (http_auth_needed(r) && !http_auth_permitted(r))
		return http_auth_refuse(r);
	return r->route->handler(r);
}
