/* gc.c - one retention run: collect what must stay (machines.conf, boot-once overrides, pins,
 * open boots, builds of the last minute), let build/retention pick, build/store_gc remove. */
#include "http/gc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "boot/boots.h"
#include "boot/nextboot.h"
#include "build/builder.h"
#include "build/pins.h"
#include "build/retention.h"
#include "build/store.h"
#include "build/store_gc.h"
#include "conf/machines.h"
#include "conf/runtime.h"
#include "conf/variant.h"
#include "http/reply.h"
#include "lib/log.h"
#include "tinyboot.h"

/* A build this young may be on its way to a client (a parked ?wait=1, a poller): it stays. */
#define HTTP_GC_FRESH_S 60.0

struct http_gc_keep {
	char artifact[DIGEST_HEX_LEN];
	const char *why;
};

struct http_gc {
	struct tinyboot *tb;
	struct runtime *rt;
	bool dry_run;
	struct http_gc_keep *keep;
	size_t nkeep, capkeep;
	const char *why; /* what the names being added are kept for */
	json_t *report;
	int rc;
};

static void http_gc_keep_artifact(void *arg, const char *artifact)
{
	struct http_gc *g = arg;

	if (!digest_is_hex(artifact))
		return;
	if (g->nkeep == g->capkeep) {
		size_t cap = g->capkeep ? g->capkeep * 2 : 32;
		struct http_gc_keep *v = reallocarray(g->keep, cap, sizeof(*v));

		if (!v) {
			g->rc = -ENOMEM;
			return;
		}
		g->keep = v;
		g->capkeep = cap;
	}
	memcpy(g->keep[g->nkeep].artifact, artifact, DIGEST_HEX_LEN);
	g->keep[g->nkeep++].why = g->why;
}

/* The current build of a variant, when it has one. */
static void http_gc_keep_variant(struct http_gc *g, const char *variant)
{
	struct build_info info;
	char err[1024];

	if (builder_request(g->tb->builder, g->rt, variant, false, false, &info, err, sizeof(err)) == 0 &&
	    info.state == BUILD_DONE)
		http_gc_keep_artifact(g, info.artifact);
	free(info.log_tail);
}

static void http_gc_keep_pin(void *arg, const char *name)
{
	struct http_gc *g = arg;

	if (digest_is_hex(name))
		http_gc_keep_artifact(g, name);
	else
		http_gc_keep_variant(g, name);
}

static void http_gc_collect(struct http_gc *g)
{
	const struct machines *ms = g->rt->machines;
	char (*names)[NEXTBOOT_NAME_MAX + 1] = NULL;
	size_t n = 0;

	g->why = "machines.conf";
	for (size_t i = 0; ms && i < machines_count(ms); i++) {
		const struct machine *m = machines_at(ms, i);
		char name[VARIANT_NAME_MAX + 16];

		http_gc_keep_variant(g, m->variant);
		if (variant_for_firmware(m->variant, m->efi_variant, true, name, sizeof(name)) == 0)
			http_gc_keep_variant(g, name);
	}
	g->why = "boot-once";
	if (g->tb->next && nextboot_names(g->tb->next, &names, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			struct nextboot_entry e;

			nextboot_get(g->tb->next, names[i], &e);
			if (e.action == NEXTBOOT_VARIANT)
				http_gc_keep_variant(g, e.variant);
		}
		free(names);
	}
	g->why = "pinned";
	if (pins_list(builder_store(g->tb->builder), http_gc_keep_pin, g))
		g->rc = -EIO;
	g->why = "open boot";
	if (g->tb->boots && boots_pending_artifacts(g->tb->boots, http_gc_keep_artifact, g))
		g->rc = -ENOMEM;
}

static const char *http_gc_kept(const struct http_gc *g, const struct retention_item *it, double now)
{
	for (size_t i = 0; i < g->nkeep; i++)
		if (strcmp(g->keep[i].artifact, it->artifact) == 0)
			return g->keep[i].why;
	return now - it->built < HTTP_GC_FRESH_S ? "just built" : NULL;
}

static void http_gc_report(struct http_gc *g, const struct store_gc_list *l)
{
	json_t *removed = json_array();
	uint64_t freed = 0, count = 0;
	const char *verb = g->dry_run ? "would evict" : "evicted";

	for (size_t i = 0; i < l->n; i++) {
		const struct retention_item *it = &l->items[i];

		if (!it->why)
			continue;
		freed += it->bytes;
		count++;
		json_array_append_new(removed, json_pack("{s:s, s:s, s:s, s:I, s:I, s:s}", "kind", "artifact",
							 "hash", it->artifact, "variant", it->variant,
							 "bytes", (json_int_t)it->bytes, "last_served",
							 (json_int_t)it->last_served, "reason", it->why));
		log_info("retention: %s artifact %s (%s, %llu bytes, last served %.0f s ago): %s", verb,
			 it->artifact, it->variant[0] ? it->variant : "no manifest",
			 (unsigned long long)it->bytes, difftime(time(NULL), (time_t)it->last_served), it->why);
	}
	for (size_t j = 0; j < l->nobjects; j++) {
		const struct retention_object *o = &l->objects[j];
		const char *kind = o->area == STORE_KERNELS ? "kernel" : "busybox";

		if (!o->why)
			continue;
		freed += o->bytes;
		count++;
		json_array_append_new(removed, json_pack("{s:s, s:s, s:I, s:s}", "kind", kind, "hash", o->key,
							 "bytes", (json_int_t)o->bytes, "reason", o->why));
		log_info("retention: %s %s %s (%llu bytes): no artifact uses it", verb, kind, o->key,
			 (unsigned long long)o->bytes);
	}
	if (!g->dry_run) {
		atomic_fetch_add(&g->tb->evictions, count);
		atomic_fetch_add(&g->tb->evicted_bytes, freed);
	}
	g->report = json_pack("{s:b, s:o, s:I, s:I}", "dry_run", g->dry_run, "removed", removed,
			      "freed_bytes", (json_int_t)freed, "removed_objects", (json_int_t)count);
}

/* Run with no artifact being published (builder_quiesce). */
static void http_gc_quiet(void *arg, bool idle)
{
	struct http_gc *g = arg;
	struct store *s = builder_store(g->tb->builder);
	struct retention_policy policy = { .max_bytes = g->rt->opts.cache_max_size,
					   .keep_builds = g->rt->opts.keep_builds, .objects = idle };
	struct store_gc_list l;
	double now = (double)time(NULL);
	int rc;

	/* under the publish lock: a build that publishes now is "just built" next time */
	http_gc_collect(g);
	if (g->rc)
		return;
	rc = store_gc_scan(s, &l);
	if (rc) {
		g->rc = rc;
		return;
	}
	for (size_t i = 0; i < l.n; i++)
		l.items[i].keep = http_gc_kept(g, &l.items[i], now);
	retention_pick(&policy, l.items, l.n, l.objects, l.nobjects);
	if (!g->dry_run)
		g->rc = store_gc_remove(s, &l);
	http_gc_report(g, &l);
	store_gc_list_free(&l);
}

int http_gc_run(struct tinyboot *tb, struct runtime *rt, bool dry_run, json_t **report)
{
	struct http_gc g = { .tb = tb, .rt = rt, .dry_run = dry_run };

	builder_quiesce(tb->builder, http_gc_quiet, &g);
	free(g.keep);
	if (g.rc)
		log_warnx("retention: %s", strerror(-g.rc));
	if (report)
		*report = g.report;
	else
		json_decref(g.report);
	return g.rc;
}

void http_gc_current(void *arg)
{
	struct tinyboot *tb = arg;
	struct runtime *rt;

	if (atomic_load(&tb->draining))
		return; /* stopping: the next start's first build or SIGHUP runs it */
	rt = runtime_get(&tb->current);
	http_gc_run(tb, rt, false, NULL);
	runtime_put(rt);
}

enum MHD_Result http_gc_post(struct request *r)
{
	json_error_t jerr;
	json_t *body = NULL, *report = NULL;
	int dry_run = 0, rc;

	if (r->body_len) {
		body = json_loadb(r->body, r->body_len, 0, &jerr);
		if (!body || json_unpack_ex(body, &jerr, JSON_STRICT, "{s?b}", "dry_run", &dry_run)) {
			json_decref(body);
			return http_send_error(r, MHD_HTTP_BAD_REQUEST, "want {} or {\"dry_run\": true}: %s",
					       jerr.text);
		}
		json_decref(body);
	}
	rc = http_gc_run(r->tb, r->rt, dry_run, &report);
	if (rc) {
		json_decref(report);
		return http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "gc: %s", strerror(-rc));
	}
	if (!report)
		return http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "gc: out of memory");
	return http_send_json(r, MHD_HTTP_OK, report);
}
