/* auth.c - who may change things (bearer tokens, loopback) and the one gate every build passes. */
#include "http/auth.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "build/builder.h"
#include "conf/machines.h"
#include "conf/runtime.h"
#include "conf/tokens.h"
#include "conf/variant.h"
#include "http/reply.h"
#include "http/routes.h"
#include "http/status.h"
#include "lib/log.h"
#include "lib/loopback.h"

enum http_auth_who {
	HTTP_AUTH_ANONYMOUS, /* no token (or no token file, and not loopback) */
	HTTP_AUTH_WRONG,     /* a bearer token that is not in the file */
	HTTP_AUTH_TOKEN,     /* a bearer token from the file */
	HTTP_AUTH_LOOPBACK,  /* no token file, and the client is this host */
};

static bool http_auth_is_read(const struct request *r)
{
	return strcmp(r->method, MHD_HTTP_METHOD_GET) == 0 || strcmp(r->method, MHD_HTTP_METHOD_HEAD) == 0;
}

bool http_auth_needed(const struct request *r)
{
	if (http_auth_is_read(r))
		return false;
	/* the flag opens the route's POST, not whatever method a client makes up */
	return !r->route || !(r->route->methods & HTTP_ROUTE_NO_TOKEN) ||
	       strcmp(r->method, MHD_HTTP_METHOD_POST) != 0;
}

static bool http_auth_peer_loopback(struct request *r)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	return ci && loopback_is(ci->client_addr);
}

/* "Bearer TOKEN" (RFC 6750 2.1; the scheme in any case, one or more spaces). */
static enum http_auth_who http_auth_bearer(struct request *r, const char *h)
{
	const char *token, *name;
	size_t len;

	if (strncasecmp(h, "Bearer ", 7) != 0)
		return HTTP_AUTH_WRONG;
	token = h + 7 + strspn(h + 7, " ");
	len = strlen(token);
	while (len > 0 && token[len - 1] == ' ')
		len--;
	if (!tokens_token_valid(token, len))
		return HTTP_AUTH_WRONG;
	name = tokens_match(r->rt->tokens, token, len);
	if (!name)
		return HTTP_AUTH_WRONG;
	log_debug("%s %s: token of %s", r->method, r->path, name);
	return HTTP_AUTH_TOKEN;
}

static enum http_auth_who http_auth_who(struct request *r)
{
	const char *h;

	if (!r->rt->tokens)
		return http_auth_peer_loopback(r) ? HTTP_AUTH_LOOPBACK : HTTP_AUTH_ANONYMOUS;
	h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	return h ? http_auth_bearer(r, h) : HTTP_AUTH_ANONYMOUS;
}

bool http_auth_permitted(struct request *r)
{
	enum http_auth_who who = http_auth_who(r);

	return who == HTTP_AUTH_TOKEN || who == HTTP_AUTH_LOOPBACK;
}

enum MHD_Result http_auth_send_error(struct request *r, unsigned status, const char *fmt, ...)
{
	struct MHD_Response *resp;
	char detail[2560], body[2700], retry[16];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	n = snprintf(body, sizeof(body), "%u %s: %s\n", status, MHD_get_reason_phrase_for(status), detail);
	if (n < 0)
		return MHD_NO;
	if ((size_t)n >= sizeof(body))
		n = sizeof(body) - 1;
	log_debug("%s %s -> %u %s", r->method, r->path, status, detail);
	resp = MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer realm=\"" HTTP_AUTH_REALM "\"");
	if (status == MHD_HTTP_TOO_MANY_REQUESTS || status == MHD_HTTP_SERVICE_UNAVAILABLE) {
		snprintf(retry, sizeof(retry), "%u", r->rt->opts.retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, retry);
	}
	return http_send(r, status, resp);
}

enum MHD_Result http_auth_refuse(struct request *r)
{
	enum http_auth_who who = http_auth_who(r);

	if (who == HTTP_AUTH_WRONG)
		return http_auth_send_error(r, MHD_HTTP_UNAUTHORIZED,
					    "%s %s: the bearer token is not one of api-tokens", r->method, r->path);
	if (r->rt->tokens)
		return http_auth_send_error(r, MHD_HTTP_UNAUTHORIZED,
					    "%s %s changes state: send Authorization: Bearer TOKEN "
					    "(a token from the api-tokens file)", r->method, r->path);
	return http_auth_send_error(r, MHD_HTTP_FORBIDDEN,
				    "%s %s changes state: without api-tokens tinybootd accepts that from "
				    "loopback only; set api-tokens = FILE and send Authorization: Bearer TOKEN",
				    r->method, r->path);
}

/* Is one of machines.conf's variants (in its normal form) the variant v? */
static bool http_auth_listed_one(struct request *r, const char *name, const struct variant *v)
{
	struct variant *mv = NULL;
	char err[256];
	bool same;

	if (!name)
		return false;
	if (strcmp(name, v->name) == 0)
		return true;
	/* net+debug and net+debug+net are one variant: compare normal forms */
	if (variant_parse(&r->rt->opts, name, &mv, err, sizeof(err)))
		return false;
	same = strcmp(mv->name, v->name) == 0;
	variant_free(mv);
	return same;
}

static bool http_auth_listed(struct request *r, const struct variant *v)
{
	const struct machines *ms = r->rt->machines;
	char efi[VARIANT_NAME_MAX + 1];

	for (size_t i = 0; ms && i < machines_count(ms); i++) {
		const struct machine *m = machines_at(ms, i);

		if (http_auth_listed_one(r, m->variant, v) || http_auth_listed_one(r, m->efi_variant, v))
			return true;
		/* what a UEFI machine without efi-variant boots */
		if (!m->efi_variant && variant_for_firmware(m->variant, NULL, true, efi, sizeof(efi)) == 0 &&
		    http_auth_listed_one(r, efi, v))
			return true;
	}
	return false;
}

/* May this request start a new build of v? 0, or -EPERM/-EACCES with *status and err. */
static int http_auth_may_build(struct request *r, const struct variant *v, bool vouched,
			       unsigned *status, char *err, size_t errlen)
{
	enum http_auth_who who = http_auth_who(r);

	if (who == HTTP_AUTH_TOKEN || who == HTTP_AUTH_LOOPBACK)
		return 0;
	if (who == HTTP_AUTH_WRONG) {
		*status = MHD_HTTP_UNAUTHORIZED;
		snprintf(err, errlen, "%s is not built and the bearer token is not one of api-tokens", v->name);
		return -EACCES;
	}
	if (http_auth_is_read(r) && (vouched || http_auth_listed(r, v)))
		return 0;
	*status = MHD_HTTP_FORBIDDEN;
	snprintf(err, errlen, "%s is not built, and an anonymous request from beyond loopback builds only "
		 "the variants machines.conf names: have it built with POST /api/v1/builds "
		 "{\"variant\": \"%s\"} and Authorization: Bearer TOKEN (api-tokens)%s, or name it in "
		 "machines.conf", v->name, v->name, r->rt->tokens ? "" : ", or from loopback");
	return -EPERM;
}

int http_auth_build(struct request *r, const char *variant, bool retry, bool vouched,
		    struct build_info *info, unsigned *status, char *err, size_t errlen)
{
	struct variant *v = NULL;
	int rc;

	memset(info, 0, sizeof(*info));
	/* Already queued, running, built, or failed and not retried: no new build, and nothing
	 * to parse (the builder remembers each variant's id while its inputs are unchanged, so
	 * the common case, a built variant, reads no file). */
	rc = builder_request(r->tb->builder, r->rt, variant, false, false, info, err, errlen);
	if (!rc && (info->state != BUILD_FAILED || !retry))
		return 0;
	if (rc && rc != -EAGAIN)
		goto status;
	free(info->log_tail);
	info->log_tail = NULL;
	/* a new build: what it is, and whether this request may start it */
	rc = variant_parse(&r->rt->opts, variant, &v, err, errlen);
	if (rc) {
		*status = rc == -ENOENT || rc == -EINVAL ? http_status_from_errno(rc)
							 : MHD_HTTP_INTERNAL_SERVER_ERROR;
		return rc;
	}
	if (v->extra.n > r->rt->opts.max_variant_fragments) {
		*status = MHD_HTTP_BAD_REQUEST;
		snprintf(err, errlen, "%s has %zu extra fragments; at most %u (max-variant-fragments)",
			 v->name, v->extra.n, r->rt->opts.max_variant_fragments);
		rc = -E2BIG;
		goto out;
	}
	rc = http_auth_may_build(r, v, vouched, status, err, errlen);
	if (rc)
		goto out;
	rc = builder_request(r->tb->builder, r->rt, v->name, true, retry, info, err, errlen);
status:
	if (rc == -EBUSY)
		*status = MHD_HTTP_TOO_MANY_REQUESTS;
	else if (rc)
		*status = http_status_from_errno(rc);
out:
	variant_free(v);
	return rc;
}
