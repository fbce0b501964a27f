/* buildutil.c - what the build steps share: running make with a clean environment, logging,
 * counting compiled objects for progress, the memo lookup, hashing input files. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "build/build.h"
#include "lib/fsutil.h"
#include "lib/spawn.h"

double build_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void build_log(struct build_ctx *ctx, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || ctx->log_fd < 0)
		return;
	if ((size_t)n > sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(ctx->log_fd, buf, (size_t)n) < 0) {
		/* the log is best effort; the build's result is what counts */
	}
}

/* kbuild prints "  CC      kernel/fork.o" per object in its default quiet mode. */
static void build_count_line(void *arg, const char *line)
{
	struct build_ctx *ctx = arg;

	if (line[0] == ' ' && line[1] == ' ' &&
	    (strncmp(line + 2, "CC ", 3) == 0 || strncmp(line + 2, "AS ", 3) == 0))
		atomic_fetch_add(&ctx->progress->objects_done, 1);
}

static int build_run(struct build_ctx *ctx, const char *what, char *const argv[], const char *cwd,
		     bool count_objects, const char *stdin_text)
{
	char cmd[2048], ccache[BUILD_PATH_MAX], ccache_dir[BUILD_PATH_MAX + 16], ccache_base[BUILD_PATH_MAX + 16];
	char *env[16];
	size_t n = 0;
	double start = build_now();
	struct spawn_opts opts = {
		.cwd = cwd,
		.log_fd = ctx->log_fd,
		.on_line = count_objects ? build_count_line : NULL,
		.ctx = ctx,
		.cancel = ctx->cancel,
		/* make deletes the target it was writing: a half-written object never looks built */
		.cancel_signal = SIGTERM,
		.env = env,
		.stdin_text = stdin_text,
	};
	int rc;

	/* Fixed identity and time: the same inputs give the same bytes on any machine. */
	env[n++] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	env[n++] = "LANG=C";
	env[n++] = "LC_ALL=C";
	env[n++] = "HOME=/nonexistent";
	env[n++] = "KBUILD_BUILD_TIMESTAMP=Thu Jan  1 00:00:00 UTC 2026";
	env[n++] = "KBUILD_BUILD_USER=tinyboot";
	env[n++] = "KBUILD_BUILD_HOST=tinyboot";
	env[n++] = "KBUILD_BUILD_VERSION=1";
	env[n++] = "SOURCE_DATE_EPOCH=1767225600";
	if (ctx->use_ccache && store_path(ctx->store, STORE_CCACHE, NULL, NULL, ccache, sizeof(ccache)) == 0) {
		snprintf(ccache_dir, sizeof(ccache_dir), "CCACHE_DIR=%s", ccache);
		snprintf(ccache_base, sizeof(ccache_base), "CCACHE_BASEDIR=%s", store_dir(ctx->store));
		env[n++] = ccache_dir;
		env[n++] = ccache_base;
		env[n++] = "CCACHE_NOHASHDIR=1";
	}
	env[n] = NULL;

	spawn_format(argv, cmd, sizeof(cmd));
	build_log(ctx, "%s", cmd);
	rc = spawn_run(argv, &opts);
	build_log(ctx, "# %s: %s after %.1f s", what, rc == 0 ? "ok" : "FAILED", build_now() - start);
	if (rc) {
		if (ctx->cancel && *ctx->cancel)
			snprintf(ctx->error, sizeof(ctx->error), "%s: cancelled", what);
		else if (rc < 0)
			snprintf(ctx->error, sizeof(ctx->error), "%s: cannot run %s: %s", what, argv[0],
				 strerror(-rc));
		else
			snprintf(ctx->error, sizeof(ctx->error), "%s failed (exit %d)", what, rc);
		return rc < 0 ? rc : -EIO;
	}
	return 0;
}

int build_make(struct build_ctx *ctx, const char *what, char *const argv[], const char *cwd,
	       bool count_objects)
{
	return build_run(ctx, what, argv, cwd, count_objects, NULL);
}

int build_make_stdin(struct build_ctx *ctx, const char *what, char *const argv[], const char *stdin_text)
{
	return build_run(ctx, what, argv, NULL, false, stdin_text);
}

bool build_from_memo(struct build_ctx *ctx, enum store_area area, const char *memo, const char *product,
		     int product_mode, size_t config_max, char **config, char key[DIGEST_HEX_LEN],
		     char *dir, size_t dirlen)
{
	char found[DIGEST_HEX_LEN], path[BUILD_PATH_MAX];
	char *text = NULL;

	if (store_memo_get(ctx->store, area, memo, found) ||
	    store_path(ctx->store, area, found, "config", path, sizeof(path)) ||
	    fsutil_read_file(path, config_max, &text, NULL))
		return false;
	if (store_path(ctx->store, area, found, product, path, sizeof(path)) ||
	    access(path, product_mode) != 0 || store_path(ctx->store, area, found, NULL, dir, dirlen)) {
		free(text);
		return false;
	}
	free(*config);
	*config = text;
	memcpy(key, found, sizeof(found));
	return true;
}

int build_hash_files(const char *head, char *const files[], size_t n, char out[DIGEST_HEX_LEN])
{
	size_t len = strlen(head), cap = len + 1;
	char *all = malloc(cap);
	int rc = 0;

	if (!all)
		return -ENOMEM;
	memcpy(all, head, len + 1);
	for (size_t i = 0; !rc && i < n; i++) {
		char *text = NULL;
		size_t tlen = 0;

		rc = fsutil_read_file(files[i], 4 << 20, &text, &tlen);
		if (rc)
			break;
		if (len + tlen + 2 > cap) {
			char *grown = realloc(all, (cap = (len + tlen + 2) * 2));

			if (!grown) {
				free(text);
				rc = -ENOMEM;
				break;
			}
			all = grown;
		}
		memcpy(all + len, text, tlen);
		len += tlen;
		all[len++] = '\n';
		all[len] = '\0';
		free(text);
	}
	if (!rc)
		rc = digest_sha256_buf(all, len, out);
	free(all);
	return rc;
}
