/* builder.c - queue, workers, single flight, atomic publish of artifacts, manifests. */
#include "build/builder.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/build.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/spawn.h"

#define BUILDER_TAIL_LINES 40
#define BUILDER_TAIL_MAX (16 * 1024)

struct waiter {
	void (*fn)(void *arg);
	void *arg;
	struct waiter *next;
};

struct build {
	char id[DIGEST_HEX_LEN];
	char variant[256];
	enum build_state state;
	struct build_progress progress;
	double queued_at, started_at, finished_at;
	char artifact[DIGEST_HEX_LEN];
	char error[1024];
	struct variant *def;     /* owned until the worker takes it */
	struct runtime *rt;      /* reference held while queued or running */
	struct sources *sources;
	struct waiter *waiters;
	struct build *next_queued;
	struct build *next;      /* every build of this run */
};

struct builder {
	struct tinyboot *tb;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct build *all;
	struct build *queue_head, *queue_tail;
	pthread_t *threads;
	unsigned nthreads;
	bool stopping;
	volatile int cancel;
	int state_lock_fd; /* flock on STATE/lock: one daemon per state directory */
	char compiler[256];
};

const char *builder_state_name(enum build_state s)
{
	static const char *const names[] = { "queued", "running", "done", "failed" };

	return s <= BUILD_FAILED ? names[s] : "?";
}

const char *builder_compiler(const struct builder *b) { return b->compiler; }

static void builder_set_step(struct build_progress *p, const char *step)
{
	snprintf(p->step, sizeof(p->step), "%s", step);
}

static char *builder_log_tail(const char *path)
{
	char *text = NULL, *start;
	size_t len = 0;
	int lines = 0;

	if (fsutil_read_file(path, 64 << 20, &text, &len))
		return strdup("(no build log)");
	/* walk back over BUILDER_TAIL_LINES lines (a final newline does not count) */
	start = text + len;
	while (start > text) {
		if (start[-1] == '\n' && start != text + len && ++lines > BUILDER_TAIL_LINES)
			break;
		if ((size_t)(text + len - start) >= BUILDER_TAIL_MAX)
			break;
		start--;
	}
	char *tail = strdup(start);

	free(text);
	return tail;
}

/* Copy of a build's state for callers; the lock is held. */
static void builder_info(const struct build *bd, struct build_info *info)
{
	double now = build_now();

	memset(info, 0, sizeof(*info));
	memcpy(info->id, bd->id, sizeof(info->id));
	snprintf(info->variant, sizeof(info->variant), "%s", bd->variant);
	info->state = bd->state;
	snprintf(info->step, sizeof(info->step), "%s", bd->progress.step);
	info->objects_done = atomic_load(&bd->progress.objects_done);
	info->objects_expected = atomic_load(&bd->progress.objects_expected);
	if (bd->state == BUILD_RUNNING)
		info->elapsed = now - bd->started_at;
	else if (bd->finished_at > 0 && bd->started_at > 0)
		info->elapsed = bd->finished_at - bd->started_at;
	memcpy(info->artifact, bd->artifact, sizeof(info->artifact));
	snprintf(info->error, sizeof(info->error), "%s", bd->error);
}

static struct build *builder_find(struct builder *b, const char *id)
{
	for (struct build *bd = b->all; bd; bd = bd->next)
		if (strcmp(bd->id, id) == 0)
			return bd;
	return NULL;
}

/* ---- the worker side ---- */

static json_t *builder_names(const struct name_list *l)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < l->n; i++)
		json_array_append_new(a, json_string(l->v[i]));
	return a;
}

static json_int_t builder_size(const char *dir, const char *name)
{
	char path[BUILD_PATH_MAX];
	struct stat st;

	if (fsutil_path(path, sizeof(path), "%s/%s", dir, name) || stat(path, &st) < 0)
		return -1;
	return (json_int_t)st.st_size;
}

static int builder_manifest(struct build_ctx *ctx, struct build *bd, const char *dir,
			    const char *artifact, const char *initrd_sha, double total)
{
	const struct recipe *r = ctx->v->recipe;
	const struct source *ks = sources_find(ctx->sources, r->kernel_source);
	const struct source *bs = sources_find(ctx->sources, r->busybox_source);
	char path[BUILD_PATH_MAX];
	json_t *m;
	char *text;
	int rc;

	m = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "variant", ctx->v->name, "id",
		      bd->id, "artifact", artifact, "recipe", r->name, "arch", r->arch, "libc", r->libc,
		      "cmdline", r->cmdline, "compiler", ctx->compiler);
	if (!m)
		return -ENOMEM;
	json_object_set_new(m, "fragments", builder_names(&r->fragments));
	json_object_set_new(m, "extra_fragments", builder_names(&ctx->v->extra));
	json_object_set_new(m, "patches", builder_names(&r->patches));
	json_object_set_new(m, "overlays", builder_names(&r->overlays));
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
						  builder_size(dir, "bzImage"), "initrd",
						  builder_size(dir, "initrd"), "busybox",
						  builder_size(ctx->busybox_dir, "busybox"), "vmlinux",
						  builder_size(ctx->kernel_dir, "vmlinux")));
	json_object_set_new(m, "durations_s", json_pack("{s:f, s:f, s:f, s:f, s:f}", "kernel_config",
							ctx->secs_kernel_config, "kernel_build",
							ctx->secs_kernel, "busybox", ctx->secs_busybox,
							"initramfs", ctx->secs_initramfs, "total", total));
	json_object_set_new(m, "reused", json_pack("{s:b, s:b}", "kernel", ctx->kernel_cached,
						   "busybox", ctx->busybox_cached));
	json_object_set_new(m, "kernel_config", json_string(ctx->kernel_config ? ctx->kernel_config : ""));
	json_object_set_new(m, "busybox_config", json_string(ctx->busybox_config ? ctx->busybox_config : ""));
	text = json_dumps(m, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(m);
	if (!text)
		return -ENOMEM;
	fsutil_path(path, sizeof(path), "%s/manifest.json", dir);
	rc = fsutil_write_atomic(path, text, strlen(text));
	free(text);
	return rc;
}

static void builder_artifact_key(const struct build_ctx *ctx, const char *initrd_sha,
				 char key[DIGEST_HEX_LEN])
{
	char text[1024 + 256];

	snprintf(text, sizeof(text), "artifact %d\nkernel %s\nbusybox %s\ninitrd %s\ncmdline %s\n",
		 BUILD_FORMAT_VERSION, ctx->kernel_key, ctx->busybox_key, initrd_sha,
		 ctx->v->recipe->cmdline);
	digest_sha256_buf(text, strlen(text), key);
}

/* Assemble the artifact in STATE/tmp and publish it as STATE/artifacts/KEY in one rename. */
static int builder_publish(struct build_ctx *ctx, struct build *bd, const char *log_path,
			   double started, char artifact[DIGEST_HEX_LEN])
{
	const char *state = ctx->o->state_dir;
	char tmp[BUILD_PATH_MAX], path[BUILD_PATH_MAX], from[BUILD_PATH_MAX], final[BUILD_PATH_MAX];
	char initrd_sha[DIGEST_HEX_LEN], cmdline[1100];
	int rc;

	fsutil_path(tmp, sizeof(tmp), "%s/tmp/artifact-%s.%ld", state, bd->id, (long)getpid());
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		return -errno;
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
	builder_artifact_key(ctx, initrd_sha, artifact);
	if (!rc)
		rc = builder_manifest(ctx, bd, tmp, artifact, initrd_sha, build_now() - started);
	build_log(ctx, "# artifact %s", artifact);
	fsutil_path(path, sizeof(path), "%s/build.log", tmp);
	if (!rc)
		rc = fsutil_copy_file(log_path, path, 0644);
	if (rc) {
		snprintf(ctx->error, sizeof(ctx->error), "write artifact: %s", strerror(-rc));
		return rc;
	}
	fsutil_path(final, sizeof(final), "%s/artifacts/%s", state, artifact);
	rc = build_publish_dir(tmp, final);
	if (rc == 1) {
		/* the same bytes were published before under this key */
		char *argv[] = { "rm", "-rf", "--", tmp, NULL };
		struct spawn_opts o = { .log_fd = -1 };

		spawn_run(argv, &o);
		rc = 0;
	}
	if (rc) {
		snprintf(ctx->error, sizeof(ctx->error), "publish %s: %s", final, strerror(-rc));
		return rc;
	}
	/* the index maps input key -> artifact; written last, so it never names a missing artifact */
	fsutil_path(path, sizeof(path), "%s/index/%s", state, bd->id);
	rc = fsutil_write_atomic(path, artifact, strlen(artifact));
	if (rc)
		snprintf(ctx->error, sizeof(ctx->error), "write index: %s", strerror(-rc));
	return rc;
}

/* Inputs are read while the build runs: if any changed since the key was computed, this
 * build's result belongs to no key, and is neither published nor remembered as a failure. */
static bool builder_inputs_unchanged(struct builder *b, struct build *bd)
{
	struct variant *v = NULL;
	char key[DIGEST_HEX_LEN], err[1024];
	bool same;

	if (variant_parse(&bd->rt->opts, bd->variant, &v, err, sizeof(err)))
		return false;
	same = buildkey_compute(&bd->rt->opts, v, bd->sources, b->compiler, b->tb->etags, key, err,
				sizeof(err)) == 0 &&
	       strcmp(key, bd->id) == 0;
	variant_free(v);
	return same;
}

static void builder_run_one(struct builder *b, struct build *bd)
{
	struct build_ctx ctx;
	char log_path[BUILD_PATH_MAX], artifact[DIGEST_HEX_LEN] = "";
	const char *state = bd->rt->opts.state_dir;
	double started = build_now();
	int rc;

	memset(&ctx, 0, sizeof(ctx));
	ctx.o = &bd->rt->opts;
	ctx.v = bd->def;
	ctx.sources = bd->sources;
	ctx.digests = b->tb->etags;
	ctx.compiler = b->compiler;
	ctx.jobs = bd->rt->opts.build_jobs;
	if (!ctx.jobs) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		ctx.jobs = cpus > 0 ? (unsigned)cpus : 1;
	}
	ctx.use_ccache = access("/usr/bin/ccache", X_OK) == 0;
	ctx.cancel = &b->cancel;
	ctx.progress = &bd->progress;
	ctx.set_step = builder_set_step;

	fsutil_path(log_path, sizeof(log_path), "%s/builds/%s.log", state, bd->id);
	ctx.log_fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
	if (ctx.log_fd < 0) {
		rc = -errno;
		snprintf(ctx.error, sizeof(ctx.error), "open %s: %s", log_path, strerror(errno));
		goto done;
	}
	build_log(&ctx, "# tinyboot build %s of %s (%u jobs%s)", bd->id, bd->variant, ctx.jobs,
		  ctx.use_ccache ? ", ccache" : "");
	log_info("build %s (%s): started", bd->variant, bd->id);
	rc = kbuild_run(&ctx);
	if (!rc)
		rc = bbuild_run(&ctx);
	if (!rc && !builder_inputs_unchanged(b, bd)) {
		rc = -ESTALE;
		snprintf(ctx.error, sizeof(ctx.error), "the inputs of %s changed during the build; ask again", bd->variant);
	}
	if (!rc)
		rc = builder_publish(&ctx, bd, log_path, started, artifact);
done:
	if (rc && !ctx.error[0])
		snprintf(ctx.error, sizeof(ctx.error), "%s", strerror(-rc));
	if (rc)
		build_log(&ctx, "# FAILED: %s", ctx.error);
	if (ctx.log_fd >= 0)
		close(ctx.log_fd);

	pthread_mutex_lock(&b->lock);
	bd->finished_at = build_now();
	if (rc) {
		bd->state = BUILD_FAILED;
		snprintf(bd->error, sizeof(bd->error), "%.1000s", ctx.error);
	} else {
		bd->state = BUILD_DONE;
		memcpy(bd->artifact, artifact, sizeof(artifact));
	}
	struct waiter *w = bd->waiters;

	bd->waiters = NULL;
	pthread_mutex_unlock(&b->lock);

	if (rc && rc != -ESTALE && !b->cancel && !builder_inputs_unchanged(b, bd)) {
		rc = -ESTALE; /* failed on inputs that are gone: not a verdict on the current ones */
		log_warnx("build %s (%s): inputs changed during the build: %s", bd->variant, bd->id, ctx.error);
	} else if (rc && rc != -ESTALE && !b->cancel) {
		/* remembered across restarts: retried only when asked or when the inputs change */
		char failed[BUILD_PATH_MAX], *tail = builder_log_tail(log_path);
		char *text = NULL;

		if (tail && asprintf(&text, "%s\n%s", ctx.error, tail) > 0) {
			fsutil_path(failed, sizeof(failed), "%s/failed/%s", state, bd->id);
			fsutil_write_atomic(failed, text, strlen(text));
		}
		free(text);
		free(tail);
		log_warnx("build %s (%s): failed: %s", bd->variant, bd->id, ctx.error);
	} else if (!rc) {
		log_info("build %s (%s): artifact %s in %.1f s", bd->variant, bd->id, artifact,
			 bd->finished_at - started);
	}
	while (w) {
		struct waiter *next = w->next;

		w->fn(w->arg);
		free(w);
		w = next;
	}
	free(ctx.kernel_config);
	free(ctx.busybox_config);
}

static void *builder_worker(void *arg)
{
	struct builder *b = arg;

	pthread_mutex_lock(&b->lock);
	for (;;) {
		struct build *bd;

		while (!b->stopping && !b->queue_head)
			pthread_cond_wait(&b->wake, &b->lock);
		if (b->stopping)
			break;
		bd = b->queue_head;
		b->queue_head = bd->next_queued;
		if (!b->queue_head)
			b->queue_tail = NULL;
		bd->state = BUILD_RUNNING;
		bd->started_at = build_now();
		pthread_mutex_unlock(&b->lock);

		builder_run_one(b, bd);

		pthread_mutex_lock(&b->lock);
		variant_free(bd->def);
		bd->def = NULL;
		sources_free(bd->sources);
		bd->sources = NULL;
		runtime_put(bd->rt);
		bd->rt = NULL;
	}
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

/* ---- the request side ---- */

static int builder_read_small(const char *state, const char *dir, const char *id, char **out)
{
	char path[BUILD_PATH_MAX];

	if (fsutil_path(path, sizeof(path), "%s/%s/%s", state, dir, id))
		return -ENAMETOOLONG;
	return fsutil_read_file(path, 64 * 1024, out, NULL);
}

/* A finished build on disk: index/ID names an artifact that exists, or failed/ID holds why. */
static int builder_on_disk(struct runtime *rt, const char *id, struct build_info *info)
{
	const char *state = rt->opts.state_dir;
	char *text = NULL, path[BUILD_PATH_MAX];

	if (builder_read_small(state, "index", id, &text) == 0) {
		bool ok = digest_is_hex(text) &&
			  !fsutil_path(path, sizeof(path), "%s/artifacts/%s/bzImage", state, text) &&
			  access(path, R_OK) == 0;

		if (ok) {
			info->state = BUILD_DONE;
			memcpy(info->artifact, text, DIGEST_HEX_LEN);
		}
		free(text);
		if (ok)
			return 0;
	}
	if (builder_read_small(state, "failed", id, &text) == 0) {
		char *nl = strchr(text, '\n');

		info->state = BUILD_FAILED;
		if (nl)
			*nl = '\0';
		snprintf(info->error, sizeof(info->error), "%s", text);
		info->log_tail = nl ? strdup(nl + 1) : NULL;
		free(text);
		return 0;
	}
	return -ENOENT;
}

int builder_get(struct builder *b, struct runtime *rt, const char *id, struct build_info *info)
{
	struct build *bd;

	memset(info, 0, sizeof(*info));
	if (!digest_is_hex(id))
		return -ENOENT;
	pthread_mutex_lock(&b->lock);
	bd = builder_find(b, id);
	if (bd) {
		builder_info(bd, info);
		pthread_mutex_unlock(&b->lock);
		if (info->state == BUILD_FAILED) {
			char path[BUILD_PATH_MAX];

			fsutil_path(path, sizeof(path), "%s/builds/%s.log", rt->opts.state_dir, id);
			info->log_tail = builder_log_tail(path);
		}
		return 0;
	}
	pthread_mutex_unlock(&b->lock);
	memcpy(info->id, id, DIGEST_HEX_LEN);
	return builder_on_disk(rt, id, info);
}

int builder_request(struct builder *b, struct runtime *rt, const char *variant, bool start,
		    bool retry, struct build_info *info, char *err, size_t errlen, unsigned *http_status)
{
	struct variant *v = NULL;
	struct sources *s = NULL;
	char id[DIGEST_HEX_LEN], path[BUILD_PATH_MAX];
	struct build *bd;
	int rc;

	memset(info, 0, sizeof(*info));
	rc = variant_parse(&rt->opts, variant, &v, err, errlen);
	if (rc) {
		*http_status = rc == -ENOENT ? 404 : rc == -EINVAL ? 400 : 500;
		return rc;
	}
	rc = sources_load(rt->opts.sources_file, &s, err, errlen);
	if (!rc)
		rc = buildkey_compute(&rt->opts, v, s, b->compiler, b->tb->etags, id, err, errlen);
	if (rc) {
		*http_status = 500;
		goto out;
	}

	pthread_mutex_lock(&b->lock);
	bd = builder_find(b, id);
	if (bd && (bd->state == BUILD_QUEUED || bd->state == BUILD_RUNNING || bd->state == BUILD_DONE ||
		   !retry)) {
		builder_info(bd, info);
		pthread_mutex_unlock(&b->lock);
		if (info->state == BUILD_FAILED) {
			fsutil_path(path, sizeof(path), "%s/builds/%s.log", rt->opts.state_dir, id);
			info->log_tail = builder_log_tail(path);
		}
		goto out;
	}
	pthread_mutex_unlock(&b->lock);

	memcpy(info->id, id, sizeof(id));
	snprintf(info->variant, sizeof(info->variant), "%s", v->name);
	if (!bd && builder_on_disk(rt, id, info) == 0 &&
	    (info->state == BUILD_DONE || !retry))
		goto out;
	free(info->log_tail);
	info->log_tail = NULL;
	if (!start) {
		rc = -ENOENT;
		*http_status = 409; /* the name is fine, the artifact does not exist yet */
		snprintf(err, errlen, "%s has not been built", v->name);
		goto out;
	}
	if (retry) {
		fsutil_path(path, sizeof(path), "%s/failed/%s", rt->opts.state_dir, id);
		unlink(path);
	}

	pthread_mutex_lock(&b->lock);
	bd = builder_find(b, id); /* another request may have queued it meanwhile */
	if (bd && bd->state != BUILD_FAILED) {
		builder_info(bd, info);
		pthread_mutex_unlock(&b->lock);
		goto out;
	}
	if (b->stopping) {
		pthread_mutex_unlock(&b->lock);
		rc = -ESHUTDOWN;
		*http_status = 503;
		snprintf(err, errlen, "the daemon is stopping");
		goto out;
	}
	if (!bd) {
		bd = calloc(1, sizeof(*bd));
		if (!bd) {
			pthread_mutex_unlock(&b->lock);
			rc = -ENOMEM;
			*http_status = 500;
			goto out;
		}
		memcpy(bd->id, id, sizeof(id));
		bd->next = b->all;
		b->all = bd;
	}
	snprintf(bd->variant, sizeof(bd->variant), "%s", v->name);
	bd->state = BUILD_QUEUED;
	bd->error[0] = '\0';
	bd->started_at = bd->finished_at = 0;
	bd->queued_at = build_now();
	builder_set_step(&bd->progress, "queued");
	atomic_store(&bd->progress.objects_done, 0);
	atomic_store(&bd->progress.objects_expected, 0);
	bd->def = v;
	bd->sources = s;
	bd->rt = rt;
	atomic_fetch_add(&rt->refs, 1);
	v = NULL;
	s = NULL;
	bd->next_queued = NULL;
	if (b->queue_tail)
		b->queue_tail->next_queued = bd;
	else
		b->queue_head = bd;
	b->queue_tail = bd;
	builder_info(bd, info);
	pthread_cond_signal(&b->wake);
	pthread_mutex_unlock(&b->lock);
	log_info("build %s (%s): queued", info->variant, id);
out:
	variant_free(v);
	sources_free(s);
	return rc;
}

int builder_wait(struct builder *b, const char *id, void (*fn)(void *arg), void *arg)
{
	struct build *bd;
	struct waiter *w;

	pthread_mutex_lock(&b->lock);
	bd = builder_find(b, id);
	if (!bd || (bd->state != BUILD_QUEUED && bd->state != BUILD_RUNNING)) {
		pthread_mutex_unlock(&b->lock);
		return -EALREADY;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		pthread_mutex_unlock(&b->lock);
		return -ENOMEM;
	}
	w->fn = fn;
	w->arg = arg;
	w->next = bd->waiters;
	bd->waiters = w;
	pthread_mutex_unlock(&b->lock);
	return 0;
}

static void builder_version_line(void *ctx, const char *line)
{
	char *out = ctx;

	if (!out[0])
		snprintf(out, 256, "%s", line);
}

/* Leftovers of a crash or kill: never served, removed at start-up. */
static void builder_clean_tmp(const char *state)
{
	char path[BUILD_PATH_MAX];
	struct dirent *de;
	DIR *d;
	int fd;

	fsutil_path(path, sizeof(path), "%s/tmp", state);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		log_info("removing leftover %s/%s", path, de->d_name);
		fsutil_remove_tree(dirfd(d), de->d_name);
	}
	closedir(d);
}

int builder_new(struct tinyboot *tb, unsigned workers, struct builder **out)
{
	static const char *const dirs[] = { "builds", "index", "failed", "kernels", "busybox", "trees", "src", "sources" };
	const char *state = tb->current.rt->opts.state_dir;
	char path[BUILD_PATH_MAX];
	char *argv[] = { "gcc", "--version", NULL };
	struct spawn_opts so = { .log_fd = -1, .on_line = builder_version_line };
	struct builder *b;
	int rc;

	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->tb = tb;
	b->state_lock_fd = -1;
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->wake, NULL);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		fsutil_path(path, sizeof(path), "%s/%s", state, dirs[i]);
		rc = fsutil_mkdirs(path, 0755);
		if (rc) {
			log_warnx("%s: mkdir %s: %s", __func__, path, strerror(-rc));
			builder_free(b);
			return rc;
		}
	}
	/* a second daemon on the same state would delete this one's half-published builds in tmp/ */
	fsutil_path(path, sizeof(path), "%s/lock", state);
	b->state_lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (b->state_lock_fd < 0 || flock(b->state_lock_fd, LOCK_EX | LOCK_NB) < 0) {
		rc = -errno;
		if (rc == -EWOULDBLOCK)
			log_warnx("state directory %s is in use by another tinybootd", state);
		else
			log_warnx("%s: lock %s: %s", __func__, path, strerror(-rc));
		builder_free(b);
		return rc;
	}
	builder_clean_tmp(state);
	/* the compiler is an input of every build key */
	so.ctx = b->compiler;
	if (spawn_run(argv, &so) != 0 || !b->compiler[0])
		snprintf(b->compiler, sizeof(b->compiler), "unknown");
	b->threads = calloc(workers, sizeof(*b->threads));
	if (!b->threads) {
		builder_free(b);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < workers; i++) {
		rc = pthread_create(&b->threads[i], NULL, builder_worker, b);
		if (rc) {
			builder_free(b);
			return -rc;
		}
		b->nthreads++;
	}
	*out = b;
	return 0;
}

void builder_shutdown(struct builder *b)
{
	struct waiter *all = NULL;

	if (!b)
		return;
	pthread_mutex_lock(&b->lock);
	b->stopping = true;
	b->cancel = 1;
	pthread_cond_broadcast(&b->wake);
	/* queued builds will never run: their waiters get an answer now */
	for (struct build *bd = b->all; bd; bd = bd->next) {
		if (bd->state != BUILD_QUEUED)
			continue;
		while (bd->waiters) {
			struct waiter *w = bd->waiters;

			bd->waiters = w->next;
			w->next = all;
			all = w;
		}
	}
	pthread_mutex_unlock(&b->lock);
	while (all) {
		struct waiter *next = all->next;

		all->fn(all->arg);
		free(all);
		all = next;
	}
}

void builder_free(struct builder *b)
{
	struct build *bd, *next;

	if (!b)
		return;
	builder_shutdown(b);
	for (unsigned i = 0; i < b->nthreads; i++)
		pthread_join(b->threads[i], NULL);
	free(b->threads);
	for (bd = b->all; bd; bd = next) {
		next = bd->next;
		variant_free(bd->def);
		sources_free(bd->sources);
		runtime_put(bd->rt);
		free(bd);
	}
	if (b->state_lock_fd >= 0)
		close(b->state_lock_fd);
	pthread_mutex_destroy(&b->lock);
	pthread_cond_destroy(&b->wake);
	free(b);
}
