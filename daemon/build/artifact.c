/* artifact.c - the last step of a build: initrd, bzImage, cmdline, manifest.json and build.log
 * assembled in the store's tmp/, published as one artifact in one rename, then indexed. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/build.h"
#include "build/store.h"
#include "lib/fsutil.h"

static json_t *artifact_names(const struct name_list *l)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < l->n; i++)
		json_array_append_new(a, json_string(l->v[i]));
	return a;
}

static json_int_t artifact_size(const char *dir, const char *name)
{
	char path[BUILD_PATH_MAX];
	struct stat st;

	if (fsutil_path(path, sizeof(path), "%s/%s", dir, name) || stat(path, &st) < 0)
		return -1;
	return (json_int_t)st.st_size;
}

/* Everything that went into the artifact, for people and for GET .../size. */
static json_t *artifact_manifest(struct build_ctx *ctx, const char *id, const char *dir,
				 const char *artifact, const char *initrd_sha, double total)
{
	const struct recipe *r = ctx->v->recipe;
	const struct source *ks = sources_find(ctx->sources, r->kernel_source);
	const struct source *bs = sources_find(ctx->sources, r->busybox_source);
	json_t *m;

	m = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "variant", ctx->v->name, "id",
		      id, "artifact", artifact, "recipe", r->name, "arch", r->arch, "libc", r->libc,
		      "cmdline", r->cmdline, "compiler", ctx->compiler);
	if (!m)
		return NULL;
	json_object_set_new(m, "fragments", artifact_names(&r->fragments));
	json_object_set_new(m, "extra_fragments", artifact_names(&ctx->v->extra));
	json_object_set_new(m, "patches", artifact_names(&r->patches));
	json_object_set_new(m, "overlays", artifact_names(&r->overlays));
	json_object_set_new(m, "busybox_config_fragment", json_string(r->busybox_config));
	json_object_set_new(m, "compression", json_pack("{s:s, s:s}", "kernel", r->kernel_compression,
							 "initramfs", r->initramfs_compression));
	json_object_set_new(m, "sources", json_pack("{s:{s:s, s:s}, s:{s:s, s:s}}", "kernel", "name",
						     ks->name, "sha256", ks->sha256, "busybox", "name",
						     bs->name, "sha256", bs->sha256));
	json_object_set_new(m, "kernel_key", json_string(ctx->kernel_key));
	json_object_set_new(m, "busybox_key", json_string(ctx->busybox_key));
	json_object_set_new(m, "initrd_sha256", json_string(initrd_sha));
	json_object_set_new(m, "sizes", json_pack("{s:I, s:I, s:I, s:I}", "bzImage",
						  artifact_size(dir, "bzImage"), "initrd",
						  artifact_size(dir, "initrd"), "busybox",
						  artifact_size(ctx->busybox_dir, "busybox"), "vmlinux",
						  artifact_size(ctx->kernel_dir, "vmlinux")));
	json_object_set_new(m, "durations_s", json_pack("{s:f, s:f, s:f, s:f, s:f}", "kernel_config",
							ctx->secs_kernel_config, "kernel_build",
							ctx->secs_kernel, "busybox", ctx->secs_busybox,
							"initramfs", ctx->secs_initramfs, "total", total));
	json_object_set_new(m, "reused", json_pack("{s:b, s:b}", "kernel", ctx->kernel_cached,
						   "busybox", ctx->busybox_cached));
	json_object_set_new(m, "kernel_config", json_string(ctx->kernel_config ? ctx->kernel_config : ""));
	json_object_set_new(m, "busybox_config", json_string(ctx->busybox_config ? ctx->busybox_config : ""));
	return m;
}

/* The artifact's name: a hash of what a booting machine gets. */
static void artifact_key(const struct build_ctx *ctx, const char *initrd_sha, char key[DIGEST_HEX_LEN])
{
	char text[1024 + 256];

	snprintf(text, sizeof(text), "artifact %d\nkernel %s\nbusybox %s\ninitrd %s\ncmdline %s\n",
		 BUILD_FORMAT_VERSION, ctx->kernel_key, ctx->busybox_key, initrd_sha,
		 ctx->v->recipe->cmdline);
	digest_sha256_buf(text, strlen(text), key);
}

int artifact_publish(struct build_ctx *ctx, const char *id, const char *log_path, double started,
		     char artifact[DIGEST_HEX_LEN])
{
	char tmp[BUILD_PATH_MAX], path[BUILD_PATH_MAX], from[BUILD_PATH_MAX];
	char initrd_sha[DIGEST_HEX_LEN], cmdline[1100];
	json_t *m;
	int rc;

	rc = store_tmp_path(ctx->store, STORE_ARTIFACTS, id, tmp, sizeof(tmp));
	if (!rc && mkdir(tmp, 0755) < 0 && errno != EEXIST)
		rc = -errno;
	if (rc) {
		snprintf(ctx->error, sizeof(ctx->error), "mkdir %s: %s", tmp, strerror(-rc));
		return rc;
	}
	fsutil_path(path, sizeof(path), "%s/initrd", tmp);
	rc = initramfs_write(ctx, path, initrd_sha);
	if (rc)
		return rc;
	if (ctx->set_step)
		ctx->set_step(ctx->progress, "publish");
	fsutil_path(from, sizeof(from), "%s/bzImage", ctx->kernel_dir);
	fsutil_path(path, sizeof(path), "%s/bzImage", tmp);
	rc = fsutil_copy_file(from, path, 0644);
	if (rc) {
		snprintf(ctx->error, sizeof(ctx->error), "copy %s: %s", from, strerror(-rc));
		return rc;
	}
	snprintf(cmdline, sizeof(cmdline), "%s\n", ctx->v->recipe->cmdline);
	fsutil_path(path, sizeof(path), "%s/cmdline", tmp);
	rc = fsutil_write_atomic(path, cmdline, strlen(cmdline));
	artifact_key(ctx, initrd_sha, artifact);
	if (!rc) {
		m = artifact_manifest(ctx, id, tmp, artifact, initrd_sha, build_now() - started);
		rc = m ? store_manifest_save(tmp, m) : -ENOMEM;
		json_decref(m);
	}
	build_log(ctx, "# artifact %s", artifact);
	fsutil_path(path, sizeof(path), "%s/build.log", tmp);
	if (!rc)
		rc = fsutil_copy_file(log_path, path, 0644);
	if (rc) {
		snprintf(ctx->error, sizeof(ctx->error), "write artifact: %s", strerror(-rc));
		return rc;
	}
	return store_artifact_publish(ctx->store, tmp, id, artifact, ctx->error, sizeof(ctx->error));
}
