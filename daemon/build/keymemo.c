/* keymemo.c - build ids per (runtime, variant text), emptied by any inotify event on an input. */
#include "build/keymemo.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/build.h"
#include "conf/runtime.h"
#include "lib/log.h"

/*
 * Why a hit is as good as recomputing. buildkey_compute (with variant_parse and sources_load
 * before it) reads only: the recipe directory, the kernel-config directory (fragments,
 * patches/), the rootfs directory (busybox/ configs, overlay trees), the sources file, the
 * toolchains' library files, and b->compiler (fixed for the builder's life, as is this memo).
 * Every directory of those trees is watched before the lookup that may compute returns, and
 * inotify queues an event inside the write, rename, unlink, chmod or mkdir system call itself
 * (fsnotify runs in the VFS path before the call returns). So an edit whose system call has
 * returned before a request arrives is in the queue when that request drains it, and the memo
 * is emptied before it is consulted. An edit made while a miss computes makes keymemo_put drop
 * the answer (it drains again under the lock and compares generations). Events on a watch this
 * file cannot attribute, IN_Q_OVERFLOW, a failed read, or a watch that could not be added all
 * count as a change; without watches every lookup misses, which is the old behaviour.
 * Not covered: a symlink among the parents of a configured directory retargeted (the last
 * component is: its parent is watched for that name).
 */
#define KEYMEMO_MASK                                                                             \
	(IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM |         \
	 IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF)
#define KEYMEMO_WATCH_MAX 8192
#define KEYMEMO_DEPTH_MAX 32

struct keymemo_watch {
	int wd;
	char *name; /* NULL: every entry of the directory counts; else only this one */
};

struct keymemo_entry {
	char *variant;
	char id[DIGEST_HEX_LEN];
	char name[VARIANT_NAME_MAX + 1];
};

struct keymemo {
	pthread_mutex_t lock;
	int fd;                   /* inotify, -1 while the inputs are not all watched */
	const struct runtime *rt; /* compared, never dereferenced */
	char *paths[4];           /* its recipe, kernel-config, rootfs dirs and sources file */
	uint64_t gen;             /* bumped whenever the memo is emptied */
	struct keymemo_watch *watches;
	size_t nwatches, capwatches;
	struct keymemo_entry entries[KEYMEMO_MAX];
	size_t n;
	struct keymemo_stats stats;
};

struct keymemo *keymemo_new(void)
{
	struct keymemo *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	pthread_mutex_init(&m->lock, NULL);
	m->fd = -1;
	return m;
}

static void keymemo_clear(struct keymemo *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->entries[i].variant);
	m->n = 0;
	m->gen++;
	m->stats.clears++;
}

static void keymemo_unwatch(struct keymemo *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	for (size_t i = 0; i < m->nwatches; i++)
		free(m->watches[i].name);
	free(m->watches);
	m->watches = NULL;
	m->nwatches = m->capwatches = 0;
}

void keymemo_free(struct keymemo *m)
{
	if (!m)
		return;
	keymemo_clear(m);
	keymemo_unwatch(m);
	for (size_t i = 0; i < 4; i++)
		free(m->paths[i]);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static int keymemo_add(struct keymemo *m, const char *dir, const char *name)
{
	int wd;

	if (m->nwatches == m->capwatches) {
		size_t cap = m->capwatches ? m->capwatches * 2 : 32;
		struct keymemo_watch *grown;

		if (cap > KEYMEMO_WATCH_MAX)
			return -E2BIG;
		grown = realloc(m->watches, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		m->watches = grown;
		m->capwatches = cap;
	}
	wd = inotify_add_watch(m->fd, dir, KEYMEMO_MASK | IN_ONLYDIR);
	if (wd < 0)
		return -errno;
	m->watches[m->nwatches].wd = wd;
	m->watches[m->nwatches].name = name ? strdup(name) : NULL;
	if (name && !m->watches[m->nwatches].name)
		return -ENOMEM;
	m->nwatches++;
	return 0;
}

/* Split path into its directory (into dir) and last component (returned, inside path). */
static const char *keymemo_split(const char *path, char *dir, size_t dirlen)
{
	const char *slash = strrchr(path, '/');

	if (!slash) {
		snprintf(dir, dirlen, ".");
		return path;
	}
	if (slash == path)
		snprintf(dir, dirlen, "/");
	else
		snprintf(dir, dirlen, "%.*s", (int)(slash - path), path);
	return slash + 1;
}

/* The entry path in its directory; when that directory is missing (allowed for a toolchain not
 * installed), the nearest ancestor's entry on the way to it. A symlink: its target as well. */
static int keymemo_watch_entry(struct keymemo *m, const char *path, bool missing_ok)
{
	char cur[PATH_MAX], dir[PATH_MAX], real[PATH_MAX];
	const char *base;
	struct stat st;
	int rc;

	if (snprintf(cur, sizeof(cur), "%s", path) >= (int)sizeof(cur))
		return -ENAMETOOLONG;
	for (;;) {
		base = keymemo_split(cur, dir, sizeof(dir));
		rc = keymemo_add(m, dir, base);
		if (rc != -ENOENT || !missing_ok || strcmp(dir, "/") == 0 || strcmp(dir, ".") == 0)
			break;
		memcpy(cur, dir, strlen(dir) + 1);
	}
	if (rc || strcmp(cur, path) != 0)
		return rc;
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		if (!realpath(path, real))
			return errno == ENOENT && missing_ok ? 0 : -errno;
		base = keymemo_split(real, dir, sizeof(dir));
		return keymemo_add(m, dir, base);
	}
	return 0;
}

/* Every directory under path (symlinks not followed: the key hashes their text). A directory
 * is watched before it is listed: one made after its listing is an event on its parent. */
static int keymemo_watch_tree(struct keymemo *m, const char *path, unsigned depth)
{
	char sub[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int rc;

	if (depth > KEYMEMO_DEPTH_MAX)
		return -ELOOP;
	rc = keymemo_add(m, path, NULL);
	if (rc)
		return rc;
	d = opendir(path);
	if (!d)
		return -errno;
	while (!rc && (de = readdir(d))) {
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) >= (int)sizeof(sub)) {
			rc = -ENAMETOOLONG;
			break;
		}
		if (de->d_type == DT_UNKNOWN && lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
			de->d_type = DT_DIR;
		if (de->d_type == DT_DIR)
			rc = keymemo_watch_tree(m, sub, depth + 1);
	}
	closedir(d);
	return rc;
}

static int keymemo_watch(struct keymemo *m)
{
	int rc = 0;

	m->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (m->fd < 0)
		return -errno;
	for (size_t i = 0; !rc && i < 3; i++) {
		struct stat st;

		rc = keymemo_watch_tree(m, m->paths[i], 0);
		/* a configured directory that is a symlink: its parent, for that name */
		if (!rc && lstat(m->paths[i], &st) == 0 && S_ISLNK(st.st_mode))
			rc = keymemo_watch_entry(m, m->paths[i], false);
	}
	if (!rc)
		rc = keymemo_watch_entry(m, m->paths[3], false);
	for (size_t i = 0; !rc && bbuild_toolchain_file(i); i++)
		rc = keymemo_watch_entry(m, bbuild_toolchain_file(i), true);
	if (rc)
		keymemo_unwatch(m);
	return rc;
}

static bool keymemo_counts(const struct keymemo *m, const struct inotify_event *ev)
{
	bool known = false;

	if ((ev->mask & IN_Q_OVERFLOW) || ev->len == 0)
		return true;
	for (size_t i = 0; i < m->nwatches; i++) {
		if (m->watches[i].wd != ev->wd)
			continue;
		known = true;
		if (!m->watches[i].name || strcmp(m->watches[i].name, ev->name) == 0)
			return true;
	}
	return !known;
}

/* Read every queued event (one read(2) answering EAGAIN when nothing changed). */
static bool keymemo_drain(struct keymemo *m)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool changed = false;

	for (;;) {
		ssize_t n = read(m->fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return changed;
		if (n <= 0)
			return true;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			changed = changed || keymemo_counts(m, ev);
			p += sizeof(*ev) + ev->len;
		}
	}
}

static bool keymemo_streq(const char *a, const char *b)
{
	return a && b ? strcmp(a, b) == 0 : a == b;
}

/* The memo follows the runtime asked about: another one empties it and watches its paths. */
static void keymemo_follow(struct keymemo *m, const struct runtime *rt)
{
	const char *want[4] = { rt->opts.recipe_dir, rt->opts.kconfig_dir, rt->opts.rootfs_dir,
				rt->opts.sources_file };
	bool same = m->rt == rt;

	for (size_t i = 0; same && i < 4; i++)
		same = keymemo_streq(m->paths[i], want[i]);
	if (same)
		return;
	keymemo_clear(m);
	keymemo_unwatch(m);
	m->rt = rt;
	for (size_t i = 0; i < 4; i++) {
		free(m->paths[i]);
		m->paths[i] = want[i] ? strdup(want[i]) : NULL;
		if (!m->paths[i])
			m->rt = NULL; /* never watched: every lookup misses and retries */
	}
}

bool keymemo_get(struct keymemo *m, const struct runtime *rt, const char *variant,
		 char id[DIGEST_HEX_LEN], char name[VARIANT_NAME_MAX + 1], uint64_t *gen)
{
	bool hit = false;
	int rc;

	pthread_mutex_lock(&m->lock);
	keymemo_follow(m, rt);
	if (m->fd >= 0 && keymemo_drain(m)) {
		keymemo_clear(m);
		keymemo_unwatch(m); /* watched again below: new subdirectories, replaced ones */
	}
	if (m->fd < 0 && m->rt == rt && (rc = keymemo_watch(m)) < 0) {
		/* said once per failure, not per request: it is retried on every lookup */
		if (m->stats.watching || !m->stats.misses)
			log_warnx("build ids: cannot watch the inputs (%s): computed on every request",
				  strerror(-rc));
		m->stats.watching = false;
	} else {
		m->stats.watching = m->fd >= 0;
	}
	for (size_t i = 0; m->fd >= 0 && i < m->n; i++) {
		if (strcmp(m->entries[i].variant, variant) == 0) {
			memcpy(id, m->entries[i].id, DIGEST_HEX_LEN);
			memcpy(name, m->entries[i].name, VARIANT_NAME_MAX + 1);
			hit = true;
			break;
		}
	}
	*gen = m->gen;
	if (hit)
		m->stats.hits++;
	else
		m->stats.misses++;
	pthread_mutex_unlock(&m->lock);
	return hit;
}

void keymemo_put(struct keymemo *m, const struct runtime *rt, const char *variant, uint64_t gen,
		 const char id[DIGEST_HEX_LEN], const char *name)
{
	struct keymemo_entry *e;

	pthread_mutex_lock(&m->lock);
	if (m->rt != rt || m->fd < 0 || gen != m->gen)
		goto out;
	/* an input edited while this answer was computed: it may be stale */
	if (keymemo_drain(m)) {
		keymemo_clear(m);
		keymemo_unwatch(m);
		goto out;
	}
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->entries[i].variant, variant) == 0)
			goto out;
	if (m->n == KEYMEMO_MAX)
		keymemo_clear(m); /* bounded: whatever is asked for again comes back in one lookup */
	e = &m->entries[m->n];
	e->variant = strdup(variant);
	if (!e->variant)
		goto out;
	memcpy(e->id, id, DIGEST_HEX_LEN);
	snprintf(e->name, sizeof(e->name), "%s", name);
	m->n++;
out:
	pthread_mutex_unlock(&m->lock);
}

void keymemo_stats(struct keymemo *m, struct keymemo_stats *out)
{
	pthread_mutex_lock(&m->lock);
	*out = m->stats;
	pthread_mutex_unlock(&m->lock);
}
