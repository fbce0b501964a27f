/* next.c - GET/PUT/DELETE /api/v1/machines/NAME/next: a variant once, or the local disk. */
#include "http/next.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "boot/nextboot.h"
#include "conf/machines.h"
#include "conf/recipe.h"
#include "conf/variant.h"
#include "http/reply.h"
#include "lib/log.h"
#include "lib/names.h"

unsigned http_next_write_status(int rc)
{
	switch (rc) {
	case -ENOSPC:
	case -EDQUOT:
	case -EFBIG:
	case -EIO:
	case -EROFS:
		return MHD_HTTP_INSUFFICIENT_STORAGE;
	default:
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

/* Is NAME a machine that boots under that name? A machines.conf entry (not the default one),
 * or mac-HEX when the default entry would take that MAC. err says why not. */
static bool http_next_known(struct request *r, const char *name, char *err, size_t errlen)
{
	const struct machines *ms = r->rt->machines;
	const struct machine *m = ms && recipe_name_valid(name) ? machines_by_name(ms, name) : NULL;
	char mac[18];

	if (m && !m->is_default)
		return true;
	if (strncmp(name, "mac-", 4) == 0 && names_hex_lower(name + 4, 12) && !name[16]) {
		const char *h = name + 4;

		snprintf(mac, sizeof(mac), "%.2s:%.2s:%.2s:%.2s:%.2s:%.2s", h, h + 2, h + 4, h + 6, h + 8, h + 10);
		m = ms ? machines_find(ms, mac, NULL) : NULL;
		if (m && m->is_default)
			return true;
		if (m) {
			snprintf(err, errlen, "MAC %s is machine %s: use its name", mac, m->name);
			return false;
		}
		snprintf(err, errlen, "no machine has MAC %s and machines.conf has no default entry", mac);
		return false;
	}
	snprintf(err, errlen, "unknown machine (a machines.conf name, or mac-HEX of a machine on the default entry)");
	return false;
}

static enum MHD_Result http_next_send(struct request *r, const char *name, const struct nextboot_entry *e)
{
	return http_send_json(r, MHD_HTTP_OK, json_pack("{s:s, s:o}", "machine", name, "next", nextboot_entry_json(e)));
}

/* PUT: {"variant": V} (checked as every variant is, stored normalised) or {"action": "local"}. */
static enum MHD_Result http_next_put(struct request *r, const char *name)
{
	const char *variant = NULL, *action = NULL;
	struct nextboot_entry e = { 0 };
	struct variant *v = NULL;
	json_error_t jerr;
	char err[2048];
	json_t *body;
	int rc;

	body = json_loadb(r->body ? r->body : "", r->body_len, 0, &jerr);
	if (!body || json_unpack_ex(body, &jerr, JSON_STRICT, "{s?s, s?s}", "variant", &variant, "action", &action) ||
	    !variant == !action || (action && strcmp(action, "local") != 0)) {
		json_decref(body);
		return http_send_error(r, MHD_HTTP_BAD_REQUEST,
				       "expected {\"variant\": \"net+debug\"} (that variant once) or {\"action\": \"local\"} "
				       "(boot from the local disk until cleared)%s%s", body ? "" : ": ", body ? "" : jerr.text);
	}
	if (variant) {
		rc = variant_parse(&r->rt->opts, variant, &v, err, sizeof(err));
		if (rc) {
			json_decref(body);
			return http_send_error(r, MHD_HTTP_BAD_REQUEST, "%s", err);
		}
		e.action = NEXTBOOT_VARIANT;
		snprintf(e.variant, sizeof(e.variant), "%s", v->name);
		variant_free(v);
	} else {
		e.action = NEXTBOOT_LOCAL;
	}
	json_decref(body);
	rc = nextboot_set(r->tb->next, name, &e);
	if (rc)
		return http_send_error(r, http_next_write_status(rc), "override of %s not stored: %s", name,
				       strerror(-rc));
	log_info("machine %s: next boot %s%s", name, e.action == NEXTBOOT_LOCAL ? "from its local disk until cleared" :
		 "once with ", e.action == NEXTBOOT_LOCAL ? "" : e.variant);
	nextboot_get(r->tb->next, name, &e);
	return http_next_send(r, name, &e);
}

enum MHD_Result http_next_machine(struct request *r, const char *name)
{
	struct nextboot_entry e;
	char err[256];
	int rc;

	if (!http_next_known(r, name, err, sizeof(err)))
		return http_send_error(r, MHD_HTTP_NOT_FOUND, "%s", err);
	if (strcmp(r->method, MHD_HTTP_METHOD_PUT) == 0)
		return http_next_put(r, name);
	if (strcmp(r->method, MHD_HTTP_METHOD_DELETE) == 0) {
		rc = nextboot_clear(r->tb->next, name);
		if (rc && rc != -ENOENT)
			return http_send_error(r, http_next_write_status(rc), "override of %s not cleared: %s", name,
					       strerror(-rc));
		if (!rc)
			log_info("machine %s: next boot as machines.conf says", name);
	}
	nextboot_get(r->tb->next, name, &e);
	return http_next_send(r, name, &e);
}
