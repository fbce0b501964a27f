/* size.c - a built variant's kernel by section and symbol, and what each of its extra
 * fragments adds over the plain recipe, from builds that exist (this GET never builds). */
#include "http/size.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build/builder.h"
#include "build/ksize.h"
#include "http/reply.h"
#include "lib/log.h"
#include "build/store.h"
#include "conf/variant.h"
#include "http/status.h"
#include "lib/log.h"

#define HTTP_SIZE_TOP_DEFAULT 20
#define HTTP_SIZE_MANIFEST_MAX (4 << 20)

/* One variant's build, as far as sizes go. */
struct http_size_side {
	char variant[VARIANT_NAME_MAX + 1];
	struct build_info info;
	json_t *manifest; /* when built */
	json_t *ksize;    /* when built */
	int rc;           /* 0 built, -EAGAIN no artifact yet, else an error */
	unsigned status;  /* when rc != 0: how to answer for the requested variant */
	char err[2048];
};

static void http_size_side_clear(struct http_size_side *s)
{
	json_decref(s->manifest);
	json_decref(s->ksize);
	free(s->info.log_tail);
}

/* The variant's index entry, its artifact's manifest, and its kernel's size.json. */
static int http_size_load_side(struct request *r, const char *variant, struct http_size_side *s)
{
	struct store *store = builder_store(r->tb->builder);
	const char *key;
	char path[4096];
	int rc;

	snprintf(s->variant, sizeof(s->variant), "%s", variant);
	rc = builder_request(r->tb->builder, r->rt, variant, false, false, &s->info, s->err, sizeof(s->err));
	s->status = http_status_from_errno(rc);
	if (rc == -EAGAIN) {
		/* the id is the one POST /api/v1/builds would give: a client can follow it */
		snprintf(s->variant, sizeof(s->variant), "%s", s->info.variant);
		snprintf(s->err, sizeof(s->err), "%s has not been built (build %s); POST /api/v1/builds "
			 "{\"variant\": \"%s\"} builds it", s->variant, s->info.id, s->variant);
		return -EAGAIN;
	}
	if (rc)
		return rc;
	snprintf(s->variant, sizeof(s->variant), "%s", s->info.variant);
	s->status = MHD_HTTP_CONFLICT;
	if (s->info.state == BUILD_FAILED) {
		snprintf(s->err, sizeof(s->err), "%s has not been built: its last build (%s) failed: %.1024s",
			 s->variant, s->info.id, s->info.error);
		return -EAGAIN;
	}
	if (s->info.state != BUILD_DONE) {
		snprintf(s->err, sizeof(s->err), "%s has not been built yet: build %s is %s (%s)", s->variant,
			 s->info.id, builder_state_name(s->info.state), s->info.step);
		return -EAGAIN;
	}
	/* from here on the daemon's own files are wrong */
	s->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	rc = store_manifest_load(store, s->info.artifact, HTTP_SIZE_MANIFEST_MAX, &s->manifest, s->err,
				 sizeof(s->err));
	if (rc)
		return rc;
	key = json_string_value(json_object_get(s->manifest, "kernel_key"));
	if (!key || !json_is_object(json_object_get(s->manifest, "sizes"))) {
		store_path(store, STORE_ARTIFACTS, s->info.artifact, "manifest.json", path, sizeof(path));
		snprintf(s->err, sizeof(s->err), "%.1500s: no kernel_key or sizes", path);
		return -EBADMSG;
	}
	return ksize_get(store, key, &s->ksize, s->err, sizeof(s->err));
}

static void http_size_load(struct request *r, const char *variant, struct http_size_side *s)
{
	s->rc = http_size_load_side(r, variant, s);
	if (s->rc && s->rc != -EAGAIN && s->status >= 500) /* the daemon's own files are wrong */
		log_warnx("size of %s: %s", variant, s->err);
}

static json_int_t http_size_num(const json_t *o, const char *a, const char *b)
{
	const json_t *v = json_object_get(o, a);

	return json_integer_value(b ? json_object_get(v, b) : v);
}

/* over - base: bzImage and vmlinux bytes, and the vmlinux totals by group. */
static json_t *http_size_delta(const struct http_size_side *over, const struct http_size_side *base)
{
	static const char *const groups[] = { "text", "rodata", "data", "bss" };
	json_t *d = json_object();

	json_object_set_new(d, "bzImage", json_integer(http_size_num(over->manifest, "sizes", "bzImage") -
							http_size_num(base->manifest, "sizes", "bzImage")));
	json_object_set_new(d, "vmlinux", json_integer(http_size_num(over->ksize, "vmlinux", NULL) -
							http_size_num(base->ksize, "vmlinux", NULL)));
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		json_object_set_new(d, groups[i], json_integer(http_size_num(over->ksize, "totals", groups[i]) -
								http_size_num(base->ksize, "totals", groups[i])));
	return d;
}

/* {fragment?, variant, base, state: "built"|"not built"|"error", delta | missing | error} */
static json_t *http_size_entry(const char *fragment, const struct http_size_side *over,
			       const struct http_size_side *base)
{
	const struct http_size_side *pair[] = { base, over };
	json_t *e = json_pack("{s:s, s:s}", "variant", over->variant, "base", base->variant);
	json_t *missing = json_array();
	const char *state = "not built";

	if (fragment)
		json_object_set_new(e, "fragment", json_string(fragment));
	if (!over->rc && !base->rc) {
		json_object_set_new(e, "state", json_string("built"));
		json_object_set_new(e, "delta", http_size_delta(over, base));
		json_decref(missing);
		return e;
	}
	for (size_t i = 0; i < 2; i++) {
		if (pair[i]->rc == -EAGAIN) {
			json_array_append_new(missing, json_string(pair[i]->variant));
		} else if (pair[i]->rc) {
			state = "error";
			json_object_set_new(e, "error", json_string(pair[i]->err));
		}
	}
	json_object_set_new(e, "state", json_string(state));
	json_object_set_new(e, "missing", missing);
	return e;
}

/* ?top=N: 1..KSIZE_TOP_MAX, digits only. */
static int http_size_top(struct request *r, size_t *top)
{
	const char *s = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "top");
	size_t n = 0;

	*top = HTTP_SIZE_TOP_DEFAULT;
	if (!s)
		return 0;
	if (!*s || strlen(s) > 3)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		n = n * 10 + (size_t)(*p - '0');
	}
	if (n < 1 || n > KSIZE_TOP_MAX)
		return -EINVAL;
	*top = n;
	return 0;
}

/* The requested variant's own numbers, with its largest `top` symbols. */
static json_t *http_size_reply(const struct http_size_side *s, size_t top)
{
	json_t *all = json_object_get(s->ksize, "symbols"), *syms = json_array();

	for (size_t i = 0; i < top && i < json_array_size(all); i++)
		json_array_append(syms, json_array_get(all, i));
	return json_pack("{s:s, s:s, s:s, s:O, s:O, s:O, s:O, s:o, s:O?}", "variant", s->variant, "id",
			 s->info.id, "artifact", s->info.artifact, "kernel_key",
			 json_object_get(s->manifest, "kernel_key"), "sizes",
			 json_object_get(s->manifest, "sizes"), "totals", json_object_get(s->ksize, "totals"),
			 "sections", json_object_get(s->ksize, "sections"), "symbols", syms,
			 "symbols_total", json_object_get(s->ksize, "symbols_total"));
}

enum MHD_Result http_size_get(struct request *r, const char *variant)
{
	/* [0] the variant, [1] its recipe, [2 + i] recipe+extra[i] */
	struct http_size_side *sides;
	struct variant *v = NULL;
	json_t *reply, *fragments;
	enum MHD_Result ret;
	size_t top, nsides = 1;
	char err[2048];
	int rc;

	if (http_size_top(r, &top))
		return http_send_error(r, MHD_HTTP_BAD_REQUEST, "top is a whole number from 1 to %d",
				       KSIZE_TOP_MAX);
	sides = calloc(1, sizeof(*sides));
	if (!sides)
		return MHD_NO;
	http_size_load(r, variant, &sides[0]);
	if (sides[0].rc) {
		ret = http_send_error(r, sides[0].status, "%s", sides[0].err);
		goto out;
	}
	/* builder_request parsed it already; parsed again here for its recipe and fragments */
	rc = variant_parse(&r->rt->opts, sides[0].variant, &v, err, sizeof(err));
	if (rc) {
		ret = http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", err);
		goto out;
	}
	if (v->extra.n) {
		struct http_size_side *more = realloc(sides, (2 + v->extra.n) * sizeof(*sides));

		if (!more) {
			ret = MHD_NO;
			goto out;
		}
		sides = more;
		memset(&sides[1], 0, (1 + v->extra.n) * sizeof(*sides));
	}
	reply = http_size_reply(&sides[0], top);
	fragments = json_array();
	if (v->extra.n) {
		http_size_load(r, v->recipe->name, &sides[1]);
		nsides = 2;
		for (size_t i = 0; i < v->extra.n; i++) {
			struct http_size_side *over = &sides[0];
			char name[VARIANT_NAME_MAX + 1];

			if (v->extra.n > 1) {
				snprintf(name, sizeof(name), "%s+%s", v->recipe->name, v->extra.v[i]);
				over = &sides[nsides++];
				http_size_load(r, name, over);
			}
			json_array_append_new(fragments, http_size_entry(v->extra.v[i], over, &sides[1]));
		}
		json_object_set_new(reply, "total", http_size_entry(NULL, &sides[0], &sides[1]));
	} else {
		json_object_set_new(reply, "total", json_null());
	}
	json_object_set_new(reply, "fragments", fragments);
	ret = http_send_json(r, MHD_HTTP_OK, reply);
out:
	for (size_t i = 0; i < nsides; i++)
		http_size_side_clear(&sides[i]);
	free(sides);
	variant_free(v);
	return ret;
}
