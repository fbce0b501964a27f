/* auth.h - who may change things (bearer tokens, loopback) and the one gate every build passes. */
#ifndef TINYBOOT_HTTP_AUTH_H
#define TINYBOOT_HTTP_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "http/request.h"

struct build_info;

#define HTTP_AUTH_REALM "tinyboot"

/* Does this request change state, so that it needs a permitted client? Every method but GET and
 * HEAD does, unless its route is marked HTTP_ROUTE_NO_TOKEN (reports: the boot token is the
 * proof). Routes added later are guarded without a word. */
bool http_auth_needed(const struct request *r);
/* A permitted client: a valid bearer token, or, when no api-tokens file is set, loopback. */
bool http_auth_permitted(struct request *r);
/* Refuse a request that needed permission: 401 + WWW-Authenticate with api-tokens, else 403
 * saying how to get it (loopback, or set api-tokens). */
enum MHD_Result http_auth_refuse(struct request *r);

/*
 * The one gate in front of every build a request can start (GET/HEAD /images, /ipxe, POST
 * /api/v1/boots, POST /api/v1/builds): builder_request, with the policy:
 *   - something already queued, running or built (or failed, without retry) is no new build
 *     and always answered (the variant is not parsed again: the builder remembers its id);
 *   - a new build of a variant with more than max-variant-fragments extra fragments is 400;
 *   - a new build (a retry is one) needs a permitted client, except that an anonymous read
 *     (GET/HEAD) may build a variant machines.conf names (variant=, efi-variant=, or its +efi
 *     form); else 403 (401 for a bearer token that is wrong) saying how to get it built;
 *     vouched: the variant is a one-time override that a permitted request set (PUT
 *     /api/v1/machines/NAME/next), which counts as named too;
 *   - beyond max-queued-builds builds queued or running it is 429.
 * 0 with info (the caller frees info->log_tail), or -errno with *status and err. Send a
 * refusal with http_auth_send_error, which adds WWW-Authenticate to a 401 and Retry-After to a
 * 429.
 */
int http_auth_build(struct request *r, const char *variant, bool retry, bool vouched,
		    struct build_info *info, unsigned *status, char *err, size_t errlen);
enum MHD_Result http_auth_send_error(struct request *r, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
