/* runtime.c - open the state and payload directories behind a reloadable snapshot. */
#include "conf/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "conf/machines.h"
#include "conf/tokens.h"

/* Could mkdir -p make path? Its nearest existing ancestor must be a directory we may write to
 * and enter. Creates nothing: for -n. */
static int runtime_creatable(const char *path, char *err, size_t errlen)
{
	char buf[4096], *slash;
	struct stat st;
	int rc = 0;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		rc = -ENAMETOOLONG;
	while (!rc && stat(buf, &st) < 0) {
		if (errno != ENOENT || strcmp(buf, ".") == 0 || strcmp(buf, "/") == 0) {
			rc = -errno;
			break;
		}
		slash = strrchr(buf, '/');
		if (!slash)
			snprintf(buf, sizeof(buf), ".");
		else if (slash == buf)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	if (!rc && !S_ISDIR(st.st_mode))
		rc = -ENOTDIR;
	if (!rc && access(buf, W_OK | X_OK) < 0)
		rc = -errno;
	if (rc)
		snprintf(err, errlen, "create %s: %s", path, strerror(-rc));
	return rc;
}

/* create: mkdir -p first. Without it (for -n) a directory that does not exist is not opened:
 * -ENOENT, after checking that it could be made. */
static int runtime_open_dir(const char *path, bool create, char *err, size_t errlen)
{
	int fd, rc;

	if (create) {
		rc = fsutil_mkdirs(path, 0755);
		if (rc) {
			snprintf(err, errlen, "create %s: %s", path, strerror(-rc));
			return rc;
		}
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "open %s: %s", path, strerror(errno));
		return rc;
	}
	return fd;
}

/* STATE/NAME: made when create, else opened if it is there (-ENOENT quietly if not). */
static int runtime_subdir(int parent, const char *name, const char *parent_path, bool create,
			  char *err, size_t errlen)
{
	int fd, rc;

	if (create && mkdirat(parent, name, 0755) < 0 && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "create %s/%s: %s", parent_path, name, strerror(errno));
		return rc;
	}
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		if (!create && rc == -ENOENT)
			return rc;
		snprintf(err, errlen, "open %s/%s: %s", parent_path, name, strerror(errno));
		return rc;
	}
	return fd;
}

static void runtime_free(struct runtime *rt)
{
	if (!rt)
		return;
	if (rt->state_fd >= 0)
		close(rt->state_fd);
	if (rt->payloads_fd >= 0)
		close(rt->payloads_fd);
	machines_free(rt->machines);
	tokens_free(rt->tokens);
	options_free(&rt->opts);
	free(rt);
}

/* Builds run make -C elsewhere: every configured path must be absolute. */
static int runtime_absolute(char **path, char *err, size_t errlen)
{
	char *real;

	if (!*path || (*path)[0] == '/')
		return 0;
	real = realpath(*path, NULL);
	if (!real) {
		int rc = -errno;

		snprintf(err, errlen, "%s: %s", *path, strerror(errno));
		return rc;
	}
	free(*path);
	*path = real;
	return 0;
}

/* -n: a state directory that is not there yet, named as the daemon would make it. */
static int runtime_absolute_missing(char **path, char *err, size_t errlen)
{
	char cwd[4096], *joined;

	if ((*path)[0] == '/')
		return 0;
	if (!getcwd(cwd, sizeof(cwd)) || asprintf(&joined, "%s/%s", cwd, *path) < 0) {
		int rc = errno ? -errno : -ENOMEM;

		snprintf(err, errlen, "%s: %s", *path, strerror(-rc));
		return rc;
	}
	free(*path);
	*path = joined;
	return 0;
}

/* runtime_open, and with create false the same checks without a change on disk (-n). */
static int runtime_load(struct options *opts, bool create, struct runtime **out, char *err,
			size_t errlen)
{
	struct runtime *rt = calloc(1, sizeof(*rt));
	int rc;

	if (!rt) {
		options_free(opts);
		return -ENOMEM;
	}
	rt->opts = *opts;
	memset(opts, 0, sizeof(*opts));
	rt->state_fd = rt->payloads_fd = -1;
	atomic_init(&rt->refs, 1);

	rc = runtime_open_dir(rt->opts.state_dir, create, err, errlen);
	if (rc >= 0)
		rt->state_fd = rc;
	else if ((rc == -ENOENT || rc == -ENOTDIR) && !create)
		rc = runtime_creatable(rt->opts.state_dir, err, errlen); /* -n: made at start */
	if (rc < 0)
		goto fail;
	rc = rt->state_fd >= 0 ? runtime_absolute(&rt->opts.state_dir, err, errlen)
			       : runtime_absolute_missing(&rt->opts.state_dir, err, errlen);
	if (rc || (rc = runtime_absolute(&rt->opts.payload_dir, err, errlen)))
		goto fail;
	/* build inputs may be missing until a build asks for them; made absolute when present */
	runtime_absolute(&rt->opts.recipe_dir, err, errlen);
	runtime_absolute(&rt->opts.kconfig_dir, err, errlen);
	runtime_absolute(&rt->opts.rootfs_dir, err, errlen);
	runtime_absolute(&rt->opts.sources_file, err, errlen);
	runtime_absolute(&rt->opts.machines_file, err, errlen);
	runtime_absolute(&rt->opts.api_tokens, err, errlen);
	err[0] = '\0';
	if (rt->opts.payload_dir) {
		rc = runtime_open_dir(rt->opts.payload_dir, false, err, errlen);
		if (rc < 0)
			goto fail;
		rt->payloads_fd = rc;
	} else if (rt->state_fd >= 0) {
		rc = runtime_subdir(rt->state_fd, "payloads", rt->opts.state_dir, create, err, errlen);
		if (rc >= 0)
			rt->payloads_fd = rc;
		else if (rc != -ENOENT || create) /* -n: STATE/payloads is made at start */
			goto fail;
	}
	if (rt->opts.machines_file) {
		rc = machines_load(rt->opts.machines_file, &rt->machines, err, errlen);
		if (rc)
			goto fail;
	}
	if (rt->opts.api_tokens) {
		/* a file that cannot be read refuses the start or the reload: never "no tokens" */
		rc = tokens_load(rt->opts.api_tokens, &rt->tokens, err, errlen);
		if (rc)
			goto fail;
	}
	*out = rt;
	return 0;
fail:
	runtime_free(rt);
	return rc;
}

int runtime_open(struct options *opts, struct runtime **out, char *err, size_t errlen)
{
	return runtime_load(opts, true, out, err, errlen);
}

int runtime_check(struct options *opts, struct runtime **out, char *err, size_t errlen)
{
	return runtime_load(opts, false, out, err, errlen);
}

struct runtime *runtime_get(struct runtime_slot *slot)
{
	struct runtime *rt;

	pthread_mutex_lock(&slot->lock);
	rt = slot->rt;
	atomic_fetch_add(&rt->refs, 1);
	pthread_mutex_unlock(&slot->lock);
	return rt;
}

void runtime_put(struct runtime *rt)
{
	if (rt && atomic_fetch_sub(&rt->refs, 1) == 1)
		runtime_free(rt);
}

void runtime_replace(struct runtime_slot *slot, struct runtime *rt)
{
	struct runtime *old;

	pthread_mutex_lock(&slot->lock);
	old = slot->rt;
	slot->rt = rt;
	pthread_mutex_unlock(&slot->lock);
	runtime_put(old);
}
