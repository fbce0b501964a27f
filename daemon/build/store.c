/* store.c - the layout of the state directory: areas, atomic publish, index, memo, manifests,
 * tmp clean-up and the lock that keeps it to one daemon. */
#include "build/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/served.h"
#include "build/store_private.h"
#include "lib/fsutil.h"
#include "lib/log.h"

#define STORE_SMALL_MAX (64 * 1024)  /* index entries and failure records */
#define STORE_MANIFEST_MAX (4 << 20)


static const struct {
	const char *dir;
	const char *kind;  /* tmp and memo names: KIND-... */
	bool at_open;      /* created by store_open (the others when first used) */
} store_areas[STORE_AREAS_ALL] = {
	[STORE_ARTIFACTS] = { "artifacts", "artifact", true },
	[STORE_KERNELS] = { "kernels", "kernel", true },
	[STORE_BUSYBOX] = { "busybox", "busybox", true },
	[STORE_HEADERS] = { "headers", "headers", false },
	[STORE_TREES] = { "trees", NULL, true },
	[STORE_SRC] = { "src", "patched", true },
	[STORE_SOURCES] = { "sources", NULL, true },
	[STORE_CCACHE] = { "ccache", NULL, false },
	[STORE_TMP] = { "tmp", NULL, true },
	[STORE_PXE] = { "pxe", NULL, false },
	[STORE_TFTP] = { "tftp", NULL, false },
	[STORE_PINS] = { "pins", NULL, false },
	[STORE_INDEX] = { "index", NULL, true },
	[STORE_FAILED] = { "failed", NULL, true },
	[STORE_MEMO] = { "memo", NULL, false },
	[STORE_BUILDS] = { "builds", NULL, true },
};

struct store {
	char *dir;
	int lock_fd;      /* flock on STATE/lock */
	int artifacts_fd;
	struct served *served;
};

struct served *store_served(const struct store *s)
{
	return s->served;
}

const char *store_dir(const struct store *s)
{
	return s->dir;
}

const char *store_area_name(enum store_area area)
{
	return (unsigned)area < STORE_AREA_COUNT ? store_areas[area].dir : NULL;
}

/* One path component from outside: never a way out of its area. */
static bool store_name_ok(const char *name)
{
	return *name && !strchr(name, '/') && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

int store_path_in(const struct store *s, int area, const char *name, const char *file,
			 char *buf, size_t len)
{
	if ((name && !store_name_ok(name)) || (file && !store_name_ok(file)))
		return -EINVAL;
	if (!name)
		return fsutil_path(buf, len, "%s/%s", s->dir, store_areas[area].dir);
	if (!file)
		return fsutil_path(buf, len, "%s/%s/%s", s->dir, store_areas[area].dir, name);
	return fsutil_path(buf, len, "%s/%s/%s/%s", s->dir, store_areas[area].dir, name, file);
}

int store_path(const struct store *s, enum store_area area, const char *name, const char *file,
	       char *buf, size_t len)
{
	if ((unsigned)area >= STORE_AREA_COUNT)
		return -EINVAL;
	return store_path_in(s, (int)area, name, file, buf, len);
}

int store_layout_path(const char *state_dir, enum store_area area, const char *name, char *buf,
		      size_t len)
{
	if ((unsigned)area >= STORE_AREA_COUNT || (name && !store_name_ok(name)))
		return -EINVAL;
	if (!name)
		return fsutil_path(buf, len, "%s/%s", state_dir, store_areas[area].dir);
	return fsutil_path(buf, len, "%s/%s/%s", state_dir, store_areas[area].dir, name);
}

int store_layout_file(const char *state_dir, enum store_toplevel file, char *buf, size_t len)
{
	static const char *const names[STORE_FILE_COUNT] = {
		[STORE_FILE_NEXT] = "next.json",
	};

	if ((unsigned)file >= STORE_FILE_COUNT)
		return -EINVAL;
	return fsutil_path(buf, len, "%s/%s", state_dir, names[file]);
}

static int store_mkdir_in(const struct store *s, int area)
{
	char path[STORE_PATH_MAX];
	int rc = store_path_in(s, area, NULL, NULL, path, sizeof(path));

	return rc ? rc : fsutil_mkdirs(path, 0755);
}

int store_mkdir(const struct store *s, enum store_area area)
{
	if ((unsigned)area >= STORE_AREA_COUNT)
		return -EINVAL;
	return store_mkdir_in(s, (int)area);
}

int store_area_open(const struct store *s, enum store_area area)
{
	char path[STORE_PATH_MAX];
	int rc, fd;

	if ((unsigned)area >= STORE_AREA_COUNT)
		return -EINVAL;
	rc = store_path_in(s, (int)area, NULL, NULL, path, sizeof(path));
	if (!rc)
		rc = fsutil_mkdirs(path, 0755);
	if (rc)
		return rc;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int store_tmp_path(const struct store *s, enum store_area area, const char *name, char *buf,
		   size_t len)
{
	if ((unsigned)area >= STORE_AREA_COUNT || !store_areas[area].kind || !store_name_ok(name))
		return -EINVAL;
	return fsutil_path(buf, len, "%s/%s/%s-%s.%ld", s->dir, store_areas[STORE_TMP].dir,
			   store_areas[area].kind, name, (long)getpid());
}

void store_clean_tmp(const struct store *s)
{
	char path[STORE_PATH_MAX];
	struct dirent *de;
	DIR *d;
	int fd;

	if (store_path_in(s, STORE_TMP, NULL, NULL, path, sizeof(path)))
		return;
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
		fsutil_rmtree(dirfd(d), de->d_name);
	}
	closedir(d);
}

int store_open(const char *state_dir, struct store **out)
{
	char path[STORE_PATH_MAX];
	struct store *s;
	int rc;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->lock_fd = s->artifacts_fd = -1;
	s->dir = strdup(state_dir);
	if (!s->dir) {
		free(s);
		return -ENOMEM;
	}
	for (int a = 0; a < STORE_AREAS_ALL; a++) {
		if (!store_areas[a].at_open)
			continue;
		rc = store_path_in(s, a, NULL, NULL, path, sizeof(path));
		if (!rc)
			rc = fsutil_mkdirs(path, 0755);
		if (rc) {
			log_warnx("%s: mkdir %s: %s", __func__, path, strerror(-rc));
			goto fail;
		}
	}
	/* a second daemon on the same state would delete this one's half-published builds in tmp/ */
	rc = fsutil_path(path, sizeof(path), "%s/lock", s->dir);
	if (rc)
		goto fail;
	s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (s->lock_fd < 0 || flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		rc = -errno;
		if (rc == -EWOULDBLOCK)
			log_warnx("state directory %s is in use by another tinybootd", s->dir);
		else
			log_warnx("%s: lock %s: %s", __func__, path, strerror(-rc));
		goto fail;
	}
	/* served over HTTP: neither this directory nor an artifact in it is reached by a link */
	store_path_in(s, STORE_ARTIFACTS, NULL, NULL, path, sizeof(path));
	s->artifacts_fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (s->artifacts_fd < 0) {
		rc = -errno;
		log_warnx("%s: open %s: %s", __func__, path, strerror(-rc));
		goto fail;
	}
	rc = served_new(s->artifacts_fd, &s->served);
	if (rc)
		goto fail;
	store_clean_tmp(s);
	*out = s;
	return 0;
fail:
	store_free(s);
	return rc;
}

void store_free(struct store *s)
{
	if (!s)
		return;
	served_free(s->served);
	if (s->artifacts_fd >= 0)
		close(s->artifacts_fd);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	free(s->dir);
	free(s);
}

int store_publish(const char *tmp, const char *final)
{
	int rc = fsutil_fsync_path(tmp);

	if (rc)
		return rc;
	if (rename(tmp, final) < 0) {
		/* someone published the same key first: identical content, keep theirs */
		if (errno == ENOTEMPTY || errno == EEXIST) {
			fsutil_rmtree(AT_FDCWD, tmp); /* else store_open's clean-up takes it */
			return 0;
		}
		return -errno;
	}
	return fsutil_fsync_parent(final);
}

int store_publish_files(const struct store *s, enum store_area area, const char *key,
			const char *srcdir, const struct store_file *files, size_t n, char *err,
			size_t errlen)
{
	char tmp[STORE_PATH_MAX], final[STORE_PATH_MAX], from[STORE_PATH_MAX], to[STORE_PATH_MAX];
	int rc;

	rc = store_path(s, area, key, NULL, final, sizeof(final));
	if (!rc)
		rc = store_tmp_path(s, area, key, tmp, sizeof(tmp));
	if (!rc)
		rc = store_mkdir(s, area);
	if (rc) {
		snprintf(err, errlen, "publish %s: %s", key, strerror(-rc));
		return rc;
	}
	/* what an earlier attempt of this process left (builds of one key hold its tree's lock) */
	fsutil_rmtree(AT_FDCWD, tmp);
	if (mkdir(tmp, 0755) < 0) {
		rc = -errno;
		snprintf(err, errlen, "mkdir %s: %s", tmp, strerror(errno));
		return rc;
	}
	for (size_t i = 0; i < n; i++) {
		rc = fsutil_path(from, sizeof(from), "%s/%s", srcdir, files[i].from);
		if (!rc)
			rc = fsutil_path(to, sizeof(to), "%s/%s", tmp, files[i].name);
		if (!rc)
			rc = fsutil_copy_file(from, to, files[i].mode);
		if (rc) {
			snprintf(err, errlen, "copy %s: %s", from, strerror(-rc));
			return rc;
		}
	}
	rc = store_publish(tmp, final);
	if (rc)
		snprintf(err, errlen, "publish %s: %s", final, strerror(-rc));
	return rc;
}

int store_lock_tree(const struct store *s, const char *name, char *path, size_t pathlen,
		    char *err, size_t errlen)
{
	char lock[STORE_PATH_MAX + 16];
	int rc, fd;

	rc = store_path_in(s, STORE_TREES, name, NULL, path, pathlen);
	if (!rc)
		rc = fsutil_mkdirs(path, 0755);
	if (rc) {
		snprintf(err, errlen, "mkdir %s: %s", path, strerror(-rc));
		return rc;
	}
	snprintf(lock, sizeof(lock), "%s/.tinyboot-lock", path);
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		rc = -errno;
		snprintf(err, errlen, "lock %s: %s", lock, strerror(errno));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	return fd;
}

/* STATE/memo/KIND-INPUTS */
static int store_memo_path(const struct store *s, enum store_area area, const char *inputs,
			   char *buf, size_t len)
{
	char name[256];

	if ((unsigned)area >= STORE_AREA_COUNT || !store_areas[area].kind ||
	    fsutil_path(name, sizeof(name), "%s-%s", store_areas[area].kind, inputs))
		return -EINVAL;
	return store_path_in(s, STORE_MEMO, name, NULL, buf, len);
}

int store_memo_get(const struct store *s, enum store_area area, const char *inputs,
		   char key[DIGEST_HEX_LEN])
{
	char path[STORE_PATH_MAX], *text = NULL;
	int rc;

	rc = store_memo_path(s, area, inputs, path, sizeof(path));
	if (!rc)
		rc = fsutil_read_file(path, 128, &text, NULL);
	if (rc)
		return rc;
	rc = digest_is_hex(text) ? 0 : -EINVAL;
	if (!rc)
		memcpy(key, text, DIGEST_HEX_LEN);
	free(text);
	return rc;
}

void store_memo_put(const struct store *s, enum store_area area, const char *inputs, const char *key)
{
	char path[STORE_PATH_MAX];

	if (store_mkdir_in(s, STORE_MEMO) || store_memo_path(s, area, inputs, path, sizeof(path)))
		return;
	fsutil_write_atomic(path, key, strlen(key));
}

int store_manifest_save(const char *dir, const json_t *manifest)
{
	char path[STORE_PATH_MAX];
	char *text;
	int rc;

	rc = fsutil_path(path, sizeof(path), "%s/manifest.json", dir);
	if (rc)
		return rc;
	text = json_dumps(manifest, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!text)
		return -ENOMEM;
	rc = fsutil_write_atomic(path, text, strlen(text));
	free(text);
	return rc;
}

int store_manifest_load(const struct store *s, const char *artifact, size_t max, json_t **out,
			char *err, size_t errlen)
{
	char path[STORE_PATH_MAX], *text = NULL;
	int rc;

	rc = store_path_in(s, STORE_ARTIFACTS, artifact, "manifest.json", path, sizeof(path));
	if (rc) {
		snprintf(err, errlen, "artifact '%.80s': %s", artifact, strerror(-rc));
		return rc;
	}
	rc = fsutil_read_file(path, max, &text, NULL);
	if (rc) {
		snprintf(err, errlen, "%.1500s: %s", path, strerror(-rc));
		return rc;
	}
	*out = json_loads(text, 0, NULL);
	free(text);
	if (!*out) {
		snprintf(err, errlen, "%.1500s: not JSON", path);
		return -EBADMSG;
	}
	return 0;
}

int store_artifact_publish(const struct store *s, const char *tmp, const char *id,
			   const char *artifact, char *err, size_t errlen)
{
	char final[STORE_PATH_MAX], path[STORE_PATH_MAX];
	int rc;

	rc = store_path_in(s, STORE_ARTIFACTS, artifact, NULL, final, sizeof(final));
	if (!rc)
		rc = store_publish(tmp, final);
	if (rc) {
		snprintf(err, errlen, "publish %s: %s", final, strerror(-rc));
		return rc;
	}
	rc = store_path_in(s, STORE_INDEX, id, NULL, path, sizeof(path));
	if (!rc)
		rc = fsutil_write_atomic(path, artifact, strlen(artifact));
	if (rc)
		snprintf(err, errlen, "write index: %s", strerror(-rc));
	return rc;
}

int store_read_small(const struct store *s, int area, const char *id, char **out)
{
	char path[STORE_PATH_MAX];
	int rc = store_path_in(s, area, id, NULL, path, sizeof(path));

	return rc ? rc : fsutil_read_file(path, STORE_SMALL_MAX, out, NULL);
}

int store_index_get(const struct store *s, const char *id, char artifact[DIGEST_HEX_LEN])
{
	char path[STORE_PATH_MAX], *text = NULL;
	bool ok;

	if (store_read_small(s, STORE_INDEX, id, &text))
		return -ENOENT;
	ok = digest_is_hex(text) &&
	     !store_path_in(s, STORE_ARTIFACTS, text, "bzImage", path, sizeof(path)) &&
	     access(path, R_OK) == 0;
	if (ok)
		memcpy(artifact, text, DIGEST_HEX_LEN);
	free(text);
	return ok ? 0 : -ENOENT;
}

int store_artifact_open(const struct store *s, const char *artifact)
{
	int fd;

	if (!digest_is_hex(artifact))
		return -ENOENT;
	fd = openat(s->artifacts_fd, artifact, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int store_artifact_stat(const struct store *s, const char *artifact, const char *name,
			struct stat *st)
{
	char rel[DIGEST_HEX_LEN + 1 + NAME_MAX + 1];
	int n;

	if (!digest_is_hex(artifact) || strchr(name, '/'))
		return -ENOENT;
	n = snprintf(rel, sizeof(rel), "%s/%s", artifact, name);
	if (n < 0 || (size_t)n >= sizeof(rel))
		return -ENAMETOOLONG;
	return fstatat(s->artifacts_fd, rel, st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

int store_list_built(const struct store *s, store_built_fn fn, void *arg)
{
	char path[STORE_PATH_MAX], err[2048];
	struct dirent *de;
	DIR *d;

	if (store_path_in(s, STORE_INDEX, NULL, NULL, path, sizeof(path)))
		return -ENAMETOOLONG;
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char *text = NULL, artifact[DIGEST_HEX_LEN];
		json_t *m = NULL;

		if (!digest_is_hex(de->d_name) || store_read_small(s, STORE_INDEX, de->d_name, &text))
			continue;
		snprintf(artifact, sizeof(artifact), "%.64s", text);
		free(text);
		if (store_manifest_load(s, artifact, STORE_MANIFEST_MAX, &m, err, sizeof(err)) == 0) {
			fn(arg, de->d_name, artifact, m);
			json_decref(m);
		}
	}
	closedir(d);
	return 0;
}

int store_forget(const struct store *s, enum store_area area,
		 bool (*gone)(void *arg, const char *name), void *arg)
{
	int where = area == STORE_ARTIFACTS ? STORE_INDEX : STORE_MEMO, fd, rc = 0;
	size_t klen = area == STORE_ARTIFACTS ? 0 : strlen(store_areas[area].kind);
	char path[STORE_PATH_MAX];
	struct dirent *de;
	DIR *d;

	if (area != STORE_ARTIFACTS && area != STORE_KERNELS && area != STORE_BUSYBOX)
		return -EINVAL;
	if (store_path_in(s, where, NULL, NULL, path, sizeof(path)))
		return -ENAMETOOLONG;
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	fd = dirfd(d);
	while ((de = readdir(d))) {
		char *text = NULL;

		/* memo entries are KIND-INPUTS: only this area's */
		if (klen && (strncmp(de->d_name, store_areas[area].kind, klen) != 0 || de->d_name[klen] != '-'))
			continue;
		if (de->d_name[0] == '.' || store_read_small(s, where, de->d_name, &text))
			continue;
		if (digest_is_hex(text) && gone(arg, text) && unlinkat(fd, de->d_name, 0) < 0 && !rc)
			rc = -errno;
		free(text);
	}
	if (fsync(fd) < 0 && !rc)
		rc = -errno;
	closedir(d);
	return rc;
}
