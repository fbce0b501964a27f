/* images.c - answer for a variant: serve it when built, build it when not. */
#include "http/images.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build/builder.h"
#include "build/served.h"
#include "http/auth.h"
#include "lib/fsutil.h"
#include "http/file.h"
#include "http/reply.h"
#include "lib/log.h"
#include "build/store.h"
#include "conf/recipe.h"
#include "http/file.h"
#include "http/status.h"

static const char *const http_images_names[] = { "bzImage", "initrd", "cmdline", "manifest.json",
						 "build.log", NULL };

static bool http_images_name_known(const char *name)
{
	for (size_t i = 0; http_images_names[i]; i++)
		if (strcmp(http_images_names[i], name) == 0)
			return true;
	return false;
}

static json_t *http_images_build_json(const struct build_info *info)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:{s:i, s:i}, s:f}", "id", info->id, "variant",
			      info->variant, "state", builder_state_name(info->state), "step",
			      info->step, "progress", "objects_done", (int)info->objects_done,
			      "objects_expected", (int)info->objects_expected, "elapsed_s",
			      info->elapsed);

	if (!o)
		return NULL;
	if (info->state == BUILD_DONE) {
		json_t *urls = json_object();
		char url[128];

		json_object_set_new(o, "artifact", json_string(info->artifact));
		for (size_t i = 0; urls && http_images_names[i]; i++) {
			snprintf(url, sizeof(url), "/artifacts/%s/%s", info->artifact, http_images_names[i]);
			json_object_set_new(urls, http_images_names[i], json_string(url));
		}
		json_object_set_new(o, "urls", urls);
	}
	if (info->state == BUILD_FAILED) {
		json_object_set_new(o, "error", json_string(info->error));
		json_object_set_new(o, "log_tail", json_string(info->log_tail ? info->log_tail : ""));
	}
	return o;
}

/* The build ended, or the daemon is stopping: answer the parked request as if asked again. */
static void http_images_resume(void *arg)
{
	struct request *r = arg;

	/* before the resume: from then on another thread may finish and free r */
	atomic_fetch_sub(&r->tb->waiting, 1);
	MHD_resume_connection(r->conn);
}

/* 503 + Retry-After: the client asks again later (iPXE does so by itself). */
static enum MHD_Result http_images_unavailable(struct request *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static enum MHD_Result http_images_unavailable(struct request *r, const char *fmt, ...)
{
	struct MHD_Response *resp;
	char body[768], retry[16];
	va_list ap;
	int n, m;

	n = snprintf(body, sizeof(body), "503 Service Unavailable: ");
	va_start(ap, fmt);
	m = vsnprintf(body + n, sizeof(body) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	n += m > 0 ? m : 0;
	if ((size_t)n > sizeof(body) - 2)
		n = (int)sizeof(body) - 2;
	body[n++] = '\n';
	body[n] = '\0';
	resp = MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	snprintf(retry, sizeof(retry), "%u", r->rt->opts.retry_after);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, retry);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	r->body_bytes = (unsigned long long)n;
	return http_send(r, MHD_HTTP_SERVICE_UNAVAILABLE, resp);
}

/* Hold the request until the build ends (builder_wait), within max-waiting. false: not held. */
static bool http_images_park(struct request *r, const char *id)
{
	unsigned held = atomic_fetch_add(&r->tb->waiting, 1);

	if (held >= r->rt->opts.max_waiting) {
		atomic_fetch_sub(&r->tb->waiting, 1);
		return false;
	}
	MHD_suspend_connection(r->conn);
	if (builder_wait(r->tb->builder, id, http_images_resume, r) != 0) {
		/* finished meanwhile, or stopping: asked again at once, answered without waiting */
		atomic_fetch_sub(&r->tb->waiting, 1);
		MHD_resume_connection(r->conn);
	}
	return true;
}

static enum MHD_Result http_images_failed(struct request *r, const struct build_info *info)
{
	return http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
			       "build of %s failed: %s\n--- last lines of build.log ---\n%s",
			       info->variant, info->error, info->log_tail ? info->log_tail : "");
}

enum MHD_Result http_images_file(struct request *r, const char *variant, const char *name)
{
	struct build_info info;
	char err[2048];
	const char *wait;
	enum MHD_Result ret;
	unsigned status = 500;
	int rc, fd;

	if (!http_images_name_known(name))
		return http_send_error(r, MHD_HTTP_NOT_FOUND,
				       "no such file '%s'; images have bzImage, initrd, cmdline, manifest.json, build.log",
				       name);
	rc = http_auth_build(r, variant, false, false, &info, &status, err, sizeof(err));
	if (rc == -ESHUTDOWN || (!rc && info.state != BUILD_DONE && atomic_load(&r->tb->draining))) {
		/* a build this daemon will not finish (cancelled, never started): the next one will */
		free(info.log_tail);
		return http_images_unavailable(r, "tinybootd is stopping; %s is not built", variant);
	}
	if (rc)
		return http_auth_send_error(r, status, "%s", err);
	if (info.state == BUILD_FAILED) {
		ret = http_images_failed(r, &info);
		free(info.log_tail);
		return ret;
	}
	if (info.state != BUILD_DONE) {
		wait = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "wait");
		if (wait && strcmp(wait, "1") == 0 && http_images_park(r, info.id))
			return MHD_YES;
		/* over max-waiting, a waiting client gets what a polling one gets */
		return http_images_unavailable(r, "%s is being built (%s, %u/%u objects); build %s",
					       info.variant, info.step, info.objects_done,
					       info.objects_expected, info.id);
	}
	fd = store_artifact_open(builder_store(r->tb->builder), info.artifact);
	if (fd < 0)
		return http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "artifact %s is missing", info.artifact);
	served_note(store_served(builder_store(r->tb->builder)), info.artifact);
	/* the stable name follows its inputs, so clients revalidate it */
	ret = http_file_serve(r, fd, name, HTTP_FILE_REVALIDATE);
	close(fd);
	return ret;
}

enum MHD_Result http_images_build_post(struct request *r)
{
	struct build_info info;
	json_error_t jerr;
	json_t *body, *reply;
	const char *variant = NULL;
	int retry = 0, rc;
	unsigned status = 500;
	char err[2048];

	body = json_loadb(r->body ? r->body : "", r->body_len, 0, &jerr);
	if (!body || json_unpack_ex(body, &jerr, 0, "{s:s, s?b}", "variant", &variant, "retry", &retry)) {
		json_decref(body);
		return http_send_error(r, MHD_HTTP_BAD_REQUEST,
				       "expected {\"variant\": \"NAME+fragment\", \"retry\": false}: %s", jerr.text);
	}
	rc = http_auth_build(r, variant, retry, false, &info, &status, err, sizeof(err));
	json_decref(body);
	if (rc)
		return http_auth_send_error(r, status, "%s", err);
	reply = http_images_build_json(&info);
	free(info.log_tail);
	return http_send_json(r, info.state == BUILD_DONE || info.state == BUILD_FAILED ?
				 MHD_HTTP_OK : MHD_HTTP_ACCEPTED, reply);
}

enum MHD_Result http_images_build_get(struct request *r, const char *id)
{
	struct build_info info;
	json_t *reply;

	if (builder_get(r->tb->builder, id, &info))
		return http_send_error(r, MHD_HTTP_NOT_FOUND, "no such build");
	reply = http_images_build_json(&info);
	free(info.log_tail);
	return http_send_json(r, MHD_HTTP_OK, reply);
}

static void http_images_built_one(void *arg, const char *id, const char *artifact, json_t *manifest)
{
	json_array_append_new(arg, json_pack("{s:O?, s:s, s:s, s:O?}", "variant",
					     json_object_get(manifest, "variant"), "id", id, "artifact",
					     artifact, "sizes", json_object_get(manifest, "sizes")));
}

/* Built variants: every index entry whose artifact exists, with its manifest's sizes. */
static json_t *http_images_built(struct request *r)
{
	json_t *list = json_array();

	store_list_built(builder_store(r->tb->builder), http_images_built_one, list);
	return list;
}

enum MHD_Result http_images_list(struct request *r)
{
	struct name_list recipes = { .n = 0 }, fragments = { .n = 0 }, overlays = { .n = 0 };
	json_t *out, *rj, *fj, *oj;
	char err[1024];

	recipe_list_dir(r->rt->opts.recipe_dir, ".image", &recipes);
	recipe_list_dir(r->rt->opts.kconfig_dir, ".config", &fragments);
	recipe_list_dir(r->rt->opts.rootfs_dir, "", &overlays);
	rj = json_array();
	for (size_t i = 0; i < recipes.n; i++) {
		struct recipe *rec = NULL;

		if (recipe_load(r->rt->opts.recipe_dir, r->rt->opts.kconfig_dir, r->rt->opts.rootfs_dir,
				recipes.v[i], &rec, err, sizeof(err)) == 0) {
			json_t *frags = json_array();

			for (size_t j = 0; j < rec->fragments.n; j++)
				json_array_append_new(frags, json_string(rec->fragments.v[j]));
			json_array_append_new(rj, json_pack("{s:s, s:s, s:s, s:o, s:s}", "name", rec->name,
							    "description", rec->description ? rec->description : "",
							    "arch", rec->arch, "fragments", frags,
							    "cmdline", rec->cmdline));
			recipe_free(rec);
		} else {
			json_array_append_new(rj, json_pack("{s:s, s:s}", "name", recipes.v[i], "error", err));
		}
	}
	fj = json_array();
	for (size_t i = 0; i < fragments.n; i++)
		json_array_append_new(fj, json_string(fragments.v[i]));
	oj = json_array();
	for (size_t i = 0; i < overlays.n; i++)
		if (strcmp(overlays.v[i], "busybox") != 0)
			json_array_append_new(oj, json_string(overlays.v[i]));
	out = json_pack("{s:o, s:o, s:o, s:o}", "recipes", rj, "fragments", fj, "overlays", oj, "built",
			http_images_built(r));
	name_list_clear(&recipes);
	name_list_clear(&fragments);
	name_list_clear(&overlays);
	return http_send_json(r, MHD_HTTP_OK, out);
}

enum MHD_Result http_images_builds_list(struct request *r)
{
	struct build_info *list;
	json_t *builds;
	size_t n;

	if (builder_list(r->tb->builder, &list, &n))
		return http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	builds = json_array();
	for (size_t i = 0; builds && i < n; i++)
		json_array_append_new(builds, http_images_build_json(&list[i]));
	free(list);
	return http_send_json(r, MHD_HTTP_OK, json_pack("{s:o}", "builds", builds));
}
