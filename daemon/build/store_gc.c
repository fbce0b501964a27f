/* store_gc.c - scan the artifact cache for retention and remove what it picked: index and memo
 * first, then the directories, each renamed into tmp/ before it is deleted. */
#include "build/store_gc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/served.h"
#include "lib/fsutil.h"
#include "lib/log.h"

#define STORE_GC_PATH_MAX 4096
#define STORE_GC_MANIFEST_MAX (4 << 20)
#define STORE_GC_DEPTH 8

static double store_gc_mtime(const struct stat *st)
{
	return (double)st->st_mtim.tv_sec + (double)st->st_mtim.tv_nsec / 1e9;
}

/* Apparent size of the regular files below dirfd/name (a bounded depth). */
static uint64_t store_gc_bytes(int parent, const char *name, int depth)
{
	uint64_t bytes = 0;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd;

	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return 0;
	}
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISREG(st.st_mode))
			bytes += (uint64_t)st.st_size;
		else if (S_ISDIR(st.st_mode) && depth < STORE_GC_DEPTH)
			bytes += store_gc_bytes(dirfd(d), de->d_name, depth + 1);
	}
	closedir(d);
	return bytes;
}

static void store_gc_copy(char *dst, size_t len, json_t *m, const char *key)
{
	const char *v = json_string_value(json_object_get(m, key));

	snprintf(dst, len, "%s", v ? v : "");
}

static void store_gc_item(const struct store *s, int parent, struct retention_item *it)
{
	char err[2048], path[STORE_GC_PATH_MAX];
	struct stat st;
	json_t *m = NULL;
	double served;

	it->bytes = store_gc_bytes(parent, it->artifact, 0);
	if (fstatat(parent, it->artifact, &st, AT_SYMLINK_NOFOLLOW) == 0)
		it->built = it->last_served = store_gc_mtime(&st);
	if (store_manifest_load(s, it->artifact, STORE_GC_MANIFEST_MAX, &m, err, sizeof(err)) == 0) {
		store_gc_copy(it->variant, sizeof(it->variant), m, "variant");
		store_gc_copy(it->kernel_key, sizeof(it->kernel_key), m, "kernel_key");
		store_gc_copy(it->busybox_key, sizeof(it->busybox_key), m, "busybox_key");
		json_decref(m);
		snprintf(path, sizeof(path), "%s/manifest.json", it->artifact);
		if (fstatat(parent, path, &st, 0) == 0)
			it->built = store_gc_mtime(&st);
	}
	served = served_get(store_served(s), it->artifact);
	if (served > it->last_served)
		it->last_served = served;
}

/* Grow an array by one element; NULL when out of memory. */
static void *store_gc_grow(void *v, size_t n, size_t *cap, size_t size)
{
	size_t c = *cap ? *cap * 2 : 16;

	if (n < *cap)
		return v;
	v = reallocarray(v, c, size);
	if (v)
		*cap = c;
	return v;
}

static int store_gc_scan_area(const struct store *s, enum store_area area, struct store_gc_list *l,
			      size_t *cap)
{
	struct dirent *de;
	DIR *d;
	int fd = store_area_open(s, area);

	if (fd < 0)
		return fd;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		if (!digest_is_hex(de->d_name))
			continue;
		if (area == STORE_ARTIFACTS) {
			struct retention_item *v = store_gc_grow(l->items, l->n, cap, sizeof(*v));

			if (!v)
				goto nomem;
			l->items = v;
			memset(&v[l->n], 0, sizeof(*v));
			memcpy(v[l->n].artifact, de->d_name, DIGEST_HEX_LEN);
			store_gc_item(s, dirfd(d), &v[l->n++]);
		} else {
			struct retention_object *v = store_gc_grow(l->objects, l->nobjects, cap, sizeof(*v));

			if (!v)
				goto nomem;
			l->objects = v;
			memset(&v[l->nobjects], 0, sizeof(*v));
			v[l->nobjects].area = area;
			memcpy(v[l->nobjects].key, de->d_name, DIGEST_HEX_LEN);
			v[l->nobjects++].bytes = store_gc_bytes(dirfd(d), de->d_name, 0);
		}
	}
	closedir(d);
	return 0;
nomem:
	closedir(d);
	return -ENOMEM;
}

int store_gc_scan(const struct store *s, struct store_gc_list *out)
{
	size_t icap = 0, ocap = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = store_gc_scan_area(s, STORE_ARTIFACTS, out, &icap);
	if (!rc)
		rc = store_gc_scan_area(s, STORE_KERNELS, out, &ocap);
	if (!rc)
		rc = store_gc_scan_area(s, STORE_BUSYBOX, out, &ocap);
	if (rc)
		store_gc_list_free(out);
	return rc;
}

void store_gc_list_free(struct store_gc_list *l)
{
	if (!l)
		return;
	free(l->items);
	free(l->objects);
	memset(l, 0, sizeof(*l));
}

struct store_gc_gone {
	const struct store_gc_list *l;
	enum store_area area;
};

static bool store_gc_is_gone(void *arg, const char *name)
{
	const struct store_gc_gone *g = arg;

	if (g->area == STORE_ARTIFACTS) {
		for (size_t i = 0; i < g->l->n; i++)
			if (g->l->items[i].why && strcmp(g->l->items[i].artifact, name) == 0)
				return true;
		return false;
	}
	for (size_t j = 0; j < g->l->nobjects; j++)
		if (g->l->objects[j].why && g->l->objects[j].area == g->area &&
		    strcmp(g->l->objects[j].key, name) == 0)
			return true;
	return false;
}

/* Rename STATE/AREA/NAME to STATE/tmp/gc-AREA-NAME.PID (made invisible in one step), then
 * delete it. */
static int store_gc_drop(const struct store *s, enum store_area area, const char *name)
{
	char from[STORE_GC_PATH_MAX], to[STORE_GC_PATH_MAX], tmpname[256];
	int rc;

	snprintf(tmpname, sizeof(tmpname), "gc-%s-%s.%ld", store_area_name(area), name, (long)getpid());
	rc = store_path(s, area, name, NULL, from, sizeof(from));
	if (!rc)
		rc = store_path(s, STORE_TMP, tmpname, NULL, to, sizeof(to));
	if (!rc)
		rc = store_mkdir(s, STORE_TMP);
	if (rc)
		return rc;
	fsutil_rmtree(AT_FDCWD, to); /* a leftover of an earlier run that failed to delete */
	if (rename(from, to) < 0) {
		rc = -errno;
		log_warn("%s: rename %s", __func__, from);
		return rc;
	}
	fsutil_fsync_parent(from);
	rc = fsutil_rmtree(AT_FDCWD, to);
	if (rc)
		log_warnx("%s: remove %s: %s (store_open sweeps it)", __func__, to, strerror(-rc));
	return 0;
}

int store_gc_remove(const struct store *s, const struct store_gc_list *l)
{
	struct store_gc_gone g = { .l = l };
	static const enum store_area areas[] = { STORE_ARTIFACTS, STORE_KERNELS, STORE_BUSYBOX };
	int rc = 0, r;

	/* the index and memo first: whatever happens next, nothing names what may be gone */
	for (size_t a = 0; a < sizeof(areas) / sizeof(areas[0]); a++) {
		g.area = areas[a];
		r = store_forget(s, areas[a], store_gc_is_gone, &g);
		if (r) {
			log_warnx("%s: forget %s: %s; nothing removed", __func__,
				  store_area_name(areas[a]), strerror(-r));
			return r;
		}
	}
	for (size_t i = 0; i < l->n; i++) {
		if (!l->items[i].why)
			continue;
		r = store_gc_drop(s, STORE_ARTIFACTS, l->items[i].artifact);
		if (!r)
			served_forget(store_served(s), l->items[i].artifact);
		rc = rc ? rc : r;
	}
	for (size_t j = 0; j < l->nobjects; j++) {
		if (!l->objects[j].why)
			continue;
		r = store_gc_drop(s, l->objects[j].area, l->objects[j].key);
		rc = rc ? rc : r;
	}
	return rc;
}
