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

static int runtime_subdir(int parent, const char *name, const char *parent_path, char *err,
			  size_t errlen)
{
	int fd, rc;

	if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "create %s/%s: %s", parent_path, name, strerror(errno));
		return rc;
	}
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
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

int runtime_open(struct options *opts, struct runtime **out, char *err, size_t errlen)
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

	rc = runtime_open_dir(rt->opts.state_dir, true, err, errlen);
	if (rc < 0)
		goto fail;
	rt->state_fd = rc;
	if ((rc = runtime_absolute(&rt->opts.state_dir, err, errlen)) ||
	    (rc = runtime_absolute(&rt->opts.payload_dir, err, errlen)))
		goto fail;
	/* build inputs may be missing until a build asks for them; made absolute when present */
	runtime_absolute(&rt->opts.recipe_dir, err, errlen);
	runtime_absolute(&rt->opts.kconfig_dir, err, errlen);
	runtime_absolute(&rt->opts.rootfs_dir, err, errlen);
	runtime_absolute(&rt->opts.sources_file, err, errlen);
	runtime_absolute(&rt->opts.machines_file, err, errlen);
	err[0] = '\0';
	if (rt->opts.payload_dir)
		rc = runtime_open_dir(rt->opts.payload_dir, false, err, errlen);
	else
		rc = runtime_subdir(rt->state_fd, "payloads", rt->opts.state_dir, err, errlen);
	if (rc < 0)
		goto fail;
	rt->payloads_fd = rc;
	if (rt->opts.machines_file) {
		rc = machines_load(rt->opts.machines_file, &rt->machines, err, errlen);
		if (rc)
			goto fail;
	}
	*out = rt;
	return 0;
fail:
	runtime_free(rt);
	return rc;
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
