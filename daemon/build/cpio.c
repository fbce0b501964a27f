/* cpio.c - a deterministic newc cpio (initramfs) built in memory, written through lib/compress. */
#include "build/cpio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/compress.h"
#include "lib/fsutil.h"

struct cpio_entry {
	char *path;
	unsigned char *data;    /* file contents or symlink target (no NUL); NULL if len 0 */
	size_t len;
	uint32_t mode;          /* S_IF* | perm */
	uint32_t rmajor, rminor;
};

/* Kept sorted by path at all times, so lookups are a binary search and writing is a walk. */
struct cpio {
	struct cpio_entry *e;
	size_t n, cap;
	size_t total;           /* sum of all len, against CPIO_MAX_TOTAL */
	uint32_t mtime;
};

/* cpio_put flag: make sure a dir exists, like a missing parent; never replace or re-mode. */
#define CPIO_PUT_ENSURE_DIR 1

struct cpio *cpio_new(uint32_t mtime)
{
	struct cpio *c = calloc(1, sizeof(*c));

	if (c)
		c->mtime = mtime;
	return c;
}

static void cpio_entry_clear(struct cpio_entry *e)
{
	free(e->path);
	free(e->data);
}

void cpio_free(struct cpio *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		cpio_entry_clear(&c->e[i]);
	free(c->e);
	free(c);
}

size_t cpio_count(const struct cpio *c)
{
	return c ? c->n : 0;
}

/* Compare a NUL-terminated path with key[0..klen), bytewise as unsigned char. */
static int cpio_key_cmp(const char *path, const char *key, size_t klen)
{
	for (size_t i = 0; i < klen; i++) {
		unsigned char a = (unsigned char)path[i], b = (unsigned char)key[i];

		/* a == 0 (path ended) sorts first, as the key holds no NUL */
		if (a != b)
			return a < b ? -1 : 1;
	}
	return path[klen] ? 1 : 0;
}

/* Index of the first entry >= key; *found says whether it equals key. */
static size_t cpio_lookup(const struct cpio *c, const char *key, size_t klen, bool *found)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cpio_key_cmp(c->e[mid].path, key, klen) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (found)
		*found = lo < c->n && cpio_key_cmp(c->e[lo].path, key, klen) == 0;
	return lo;
}

/* 0, -EINVAL or -ENAMETOOLONG; *lenp gets strlen(path). */
static int cpio_path_check(const char *path, size_t *lenp)
{
	size_t len, comp = 0;

	if (!path || !*path)
		return -EINVAL;
	len = strnlen(path, PATH_MAX);
	if (len >= PATH_MAX)
		return -ENAMETOOLONG;
	/* the kernel stops reading the archive at this name */
	if (strcmp(path, "TRAILER!!!") == 0)
		return -EINVAL;
	for (size_t i = 0; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0') {
			comp++;
			continue;
		}
		if (comp == 0)
			return -EINVAL;   /* leading '/', "//" or trailing '/' */
		if ((comp == 1 && path[i - 1] == '.') ||
		    (comp == 2 && path[i - 1] == '.' && path[i - 2] == '.'))
			return -EINVAL;
		comp = 0;
	}
	*lenp = len;
	return 0;
}

static int cpio_reserve(struct cpio *c, size_t extra)
{
	size_t want, cap;
	struct cpio_entry *e;

	if (extra > SIZE_MAX - c->n)
		return -ENOMEM;
	want = c->n + extra;
	if (want <= c->cap)
		return 0;
	cap = c->cap ? c->cap : 64;
	while (cap < want) {
		if (cap > SIZE_MAX / 2)
			return -ENOMEM;
		cap *= 2;
	}
	if (cap > SIZE_MAX / sizeof(*e))
		return -ENOMEM;
	e = realloc(c->e, cap * sizeof(*e));
	if (!e)
		return -ENOMEM;
	c->e = e;
	c->cap = cap;
	return 0;
}

/* Needs room reserved; cannot fail. */
static void cpio_insert(struct cpio *c, const struct cpio_entry *ne)
{
	bool found;
	size_t i = cpio_lookup(c, ne->path, strlen(ne->path), &found);

	memmove(&c->e[i + 1], &c->e[i], (c->n - i) * sizeof(c->e[0]));
	c->e[i] = *ne;
	c->n++;
}

/*
 * Add or replace one entry, creating missing parents. `data` is taken over on
 * success only (the caller frees it on error). Everything that can fail is
 * done before the set is touched, so an error leaves it unchanged.
 */
static int cpio_put(struct cpio *c, const char *path, uint32_t mode, uint32_t rmajor,
		    uint32_t rminor, unsigned char *data, size_t len, int flags)
{
	size_t plen, idx, missing = 0, first_missing = 0, cs = 0, ce = 0, freed = 0, rest;
	char **parents = NULL, *newpath = NULL;
	bool found, isdir = S_ISDIR(mode);
	int rc;

	rc = cpio_path_check(path, &plen);
	if (rc)
		return rc;
	if (len > CPIO_MAX_FILE)
		return -EFBIG;

	/* Parents: every existing entry's parents exist, so past the first missing one all are. */
	for (size_t k = 0; k < plen; k++) {
		if (path[k] != '/')
			continue;
		idx = cpio_lookup(c, path, k, &found);
		if (found && !S_ISDIR(c->e[idx].mode))
			return -ENOTDIR;
		if (!found && missing++ == 0)
			first_missing = k;
	}

	idx = cpio_lookup(c, path, plen, &found);
	if (found) {
		struct cpio_entry *old = &c->e[idx];

		if (S_ISDIR(old->mode) && isdir) {
			if (!(flags & CPIO_PUT_ENSURE_DIR))
				old->mode = mode;
			return 0;
		}
		if (flags & CPIO_PUT_ENSURE_DIR)
			return -ENOTDIR;
		freed = old->len;
		if (S_ISDIR(old->mode)) {
			/* children are exactly the contiguous run of paths starting "path/" */
			char key[PATH_MAX + 1];

			memcpy(key, path, plen);
			key[plen] = '/';
			cs = ce = cpio_lookup(c, key, plen + 1, NULL);
			while (ce < c->n && strncmp(c->e[ce].path, key, plen + 1) == 0)
				freed += c->e[ce++].len;
		}
	}

	/* freed <= c->total always; the caps keep every sum below SIZE_MAX */
	rest = c->total - freed;
	if (len > CPIO_MAX_TOTAL || rest > CPIO_MAX_TOTAL - len)
		return -EFBIG;
	if (c->n - (ce - cs) + missing + !found > CPIO_MAX_ENTRIES)
		return -EFBIG;

	rc = cpio_reserve(c, missing + 1);
	if (rc)
		return rc;
	if (!found) {
		newpath = strdup(path);
		if (!newpath)
			return -ENOMEM;
	}
	if (missing) {
		size_t m = 0;

		parents = calloc(missing, sizeof(*parents));
		if (!parents)
			goto nomem;
		for (size_t k = first_missing; k < plen; k++) {
			if (path[k] != '/')
				continue;
			parents[m] = strndup(path, k);
			if (!parents[m++])
				goto nomem;
		}
	}

	/* commit: nothing below can fail */
	for (size_t i = cs; i < ce; i++)
		cpio_entry_clear(&c->e[i]);
	memmove(&c->e[cs], &c->e[ce], (c->n - ce) * sizeof(c->e[0]));
	c->n -= ce - cs;
	for (size_t m = 0; m < missing; m++) {
		struct cpio_entry pe = { .path = parents[m], .mode = S_IFDIR | 0755 };

		cpio_insert(c, &pe);
	}
	free(parents);
	if (len == 0) {
		free(data);
		data = NULL;
	}
	if (found) {
		struct cpio_entry *old = &c->e[idx];  /* idx < cs: removals were after it */

		free(old->data);
		old->data = data;
		old->len = len;
		old->mode = mode;
		old->rmajor = rmajor;
		old->rminor = rminor;
	} else {
		struct cpio_entry ne = {
			.path = newpath, .data = data, .len = len,
			.mode = mode, .rmajor = rmajor, .rminor = rminor,
		};

		cpio_insert(c, &ne);
	}
	c->total = rest + len;
	return 0;

nomem:
	if (parents)
		for (size_t m = 0; m < missing; m++)
			free(parents[m]);
	free(parents);
	free(newpath);
	return -ENOMEM;
}

int cpio_add_dir(struct cpio *c, const char *path, mode_t perm)
{
	if (!c || (perm & ~(mode_t)07777))
		return -EINVAL;
	return cpio_put(c, path, S_IFDIR | (uint32_t)perm, 0, 0, NULL, 0, 0);
}

int cpio_add_data(struct cpio *c, const char *path, mode_t perm, const void *data, size_t len)
{
	unsigned char *copy = NULL;
	int rc;

	if (!c || (perm & ~(mode_t)07777) || (!data && len))
		return -EINVAL;
	/* check the cap before copying: len may be anything */
	if (len > CPIO_MAX_FILE)
		return -EFBIG;
	if (len) {
		copy = malloc(len);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, data, len);
	}
	rc = cpio_put(c, path, S_IFREG | (uint32_t)perm, 0, 0, copy, len, 0);
	if (rc)
		free(copy);
	return rc;
}

int cpio_add_symlink(struct cpio *c, const char *path, const char *target)
{
	unsigned char *copy;
	size_t len;
	int rc;

	if (!c || !target || !*target)
		return -EINVAL;
	len = strnlen(target, PATH_MAX);
	if (len >= PATH_MAX)
		return -ENAMETOOLONG;
	copy = malloc(len);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, target, len);
	rc = cpio_put(c, path, S_IFLNK | 0777, 0, 0, copy, len, 0);
	if (rc)
		free(copy);
	return rc;
}

int cpio_add_node(struct cpio *c, const char *path, mode_t type_and_perm,
		  unsigned major, unsigned minor)
{
	mode_t type = type_and_perm & S_IFMT;

	if (!c || (type != S_IFCHR && type != S_IFBLK) ||
	    (type_and_perm & ~(mode_t)(S_IFMT | 07777)))
		return -EINVAL;
	return cpio_put(c, path, (uint32_t)type_and_perm, major, minor, NULL, 0, 0);
}

/* ---- cpio_add_tree ---- */

static int cpio_tree_dir(struct cpio *c, int fd, char *buf, size_t blen);

static int cpio_tree_file(struct cpio *c, int pfd, const char *name, const char *path)
{
	struct stat st;
	char *data = NULL;
	size_t len = 0;
	int fd, rc;

	/* O_NONBLOCK: should the name turn into a fifo after the lstat, open must not hang */
	fd = openat(pfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	rc = -EINVAL;
	if (!S_ISREG(st.st_mode))
		goto out;
	rc = -EFBIG;
	if (st.st_size < 0 || (uintmax_t)st.st_size > CPIO_MAX_FILE)
		goto out;
	/* the size may change under us: read to EOF within the cap */
	rc = fsutil_read_fd(fd, (size_t)st.st_size, CPIO_MAX_FILE, &data, &len);
	if (rc)
		goto out;
	rc = cpio_put(c, path, S_IFREG | (st.st_mode & 07777), 0, 0, (unsigned char *)data, len, 0);
	if (rc)
		free(data);
out:
	close(fd);
	return rc;
}

static int cpio_tree_symlink(struct cpio *c, int pfd, const char *name, const char *path)
{
	char *target = malloc(PATH_MAX);
	ssize_t r;
	int rc;

	if (!target)
		return -ENOMEM;
	r = readlinkat(pfd, name, target, PATH_MAX);
	if (r < 0)
		rc = -errno;
	else if (r >= PATH_MAX)
		rc = -ENAMETOOLONG;
	else {
		target[r] = '\0';
		rc = cpio_add_symlink(c, path, target);
	}
	free(target);
	return rc;
}

/* buf holds the archive path of this entry (len bytes); it is PATH_MAX bytes long. */
static int cpio_tree_entry(struct cpio *c, int pfd, const char *name, char *buf, size_t len)
{
	struct stat st;
	int fd, rc;

	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	switch (st.st_mode & S_IFMT) {
	case S_IFREG:
		return cpio_tree_file(c, pfd, name, buf);
	case S_IFLNK:
		return cpio_tree_symlink(c, pfd, name, buf);
	case S_IFDIR:
		fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		rc = fstat(fd, &st) < 0 ? -errno : S_ISDIR(st.st_mode) ? 0 : -EINVAL;
		if (!rc)
			rc = cpio_add_dir(c, buf, st.st_mode & 07777);
		if (rc) {
			close(fd);
			return rc;
		}
		return cpio_tree_dir(c, fd, buf, len);
	default:
		return -EINVAL;
	}
}

/* Takes over fd. Recursion holds one fd per level; depth is bounded by PATH_MAX. */
static int cpio_tree_dir(struct cpio *c, int fd, char *buf, size_t blen)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	int rc = 0;

	if (!d) {
		rc = -errno;
		close(fd);
		return rc;
	}
	for (;;) {
		size_t nlen, len;

		errno = 0;
		de = readdir(d);
		if (!de) {
			rc = errno ? -errno : 0;
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		nlen = strlen(de->d_name);
		len = blen + (blen ? 1 : 0);
		if (nlen >= PATH_MAX - len) {
			rc = -ENAMETOOLONG;
			break;
		}
		if (blen)
			buf[blen] = '/';
		memcpy(buf + len, de->d_name, nlen + 1);
		rc = cpio_tree_entry(c, dirfd(d), de->d_name, buf, len + nlen);
		buf[blen] = '\0';
		if (rc)
			break;
	}
	closedir(d);
	return rc;
}

int cpio_add_tree(struct cpio *c, int dirfd, const char *prefix)
{
	size_t plen = 0;
	char *buf;
	int fd, rc;

	if (!c || !prefix)
		return -EINVAL;
	if (*prefix) {
		rc = cpio_path_check(prefix, &plen);
		if (rc)
			return rc;
	}
	buf = malloc(PATH_MAX);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, prefix, plen + 1);
	/* a fresh open file description: fdopendir/readdir must not move the caller's offset */
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	if (plen) {
		rc = cpio_put(c, prefix, S_IFDIR | 0755, 0, 0, NULL, 0, CPIO_PUT_ENSURE_DIR);
		if (rc) {
			close(fd);
			goto out;
		}
	}
	rc = cpio_tree_dir(c, fd, buf, plen);
out:
	free(buf);
	return rc;
}

/* ---- writing ---- */

/* Zeros up to the next multiple of 4 after `off` bytes. */
static int cpio_pad(struct compress *w, size_t off)
{
	static const unsigned char zero[4];

	return compress_write(w, zero, (4 - off % 4) % 4);
}

static int cpio_write_entry(struct compress *w, uint32_t ino, uint32_t mode, uint32_t nlink,
			    uint32_t mtime, const struct cpio_entry *e, const char *name)
{
	char hdr[111];
	size_t namesize = strlen(name) + 1;
	uint32_t size = e ? (uint32_t)e->len : 0;
	int n, rc;

	n = snprintf(hdr, sizeof(hdr),
		     "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		     ino, mode, 0u, 0u, nlink, mtime, size, 0u, 0u,
		     e ? e->rmajor : 0u, e ? e->rminor : 0u, (uint32_t)namesize, 0u);
	if (n != 110)
		return -EIO;
	rc = compress_write(w, hdr, 110);
	if (!rc)
		rc = compress_write(w, name, namesize);
	if (!rc)
		rc = cpio_pad(w, 110 + namesize);
	if (!rc && size)
		rc = compress_write(w, e->data, size);
	if (!rc)
		rc = cpio_pad(w, size);
	return rc;
}

static int cpio_write_out(const struct cpio *c, enum cpio_compress how, int level,
			  struct compress_out *out)
{
	static const enum compress_kind kinds[] = {
		[CPIO_COMPRESS_NONE] = COMPRESS_NONE,
		[CPIO_COMPRESS_GZIP] = COMPRESS_GZIP,
		[CPIO_COMPRESS_XZ] = COMPRESS_XZ,
	};
	struct compress *w;
	int rc;

	if (!c || (unsigned)how >= sizeof(kinds) / sizeof(kinds[0]))
		return -EINVAL;
	rc = compress_new(kinds[how], level, out, &w);
	if (rc)
		return rc;
	/* the caps keep n and every len within the 32-bit header fields */
	for (size_t i = 0; i < c->n && !rc; i++) {
		const struct cpio_entry *e = &c->e[i];

		rc = cpio_write_entry(w, (uint32_t)(i + 1), e->mode, S_ISDIR(e->mode) ? 2 : 1,
				      c->mtime, e, e->path);
	}
	if (!rc)
		rc = cpio_write_entry(w, 0, 0, 1, 0, NULL, "TRAILER!!!");
	if (!rc)
		rc = compress_finish(w);
	compress_free(w);
	return rc;
}

int cpio_write(const struct cpio *c, int fd, enum cpio_compress how, int level)
{
	struct compress_out out = { .fd = fd };

	if (fd < 0)
		return -EBADF;
	return cpio_write_out(c, how, level, &out);
}

int cpio_write_mem(const struct cpio *c, enum cpio_compress how, int level,
		   unsigned char **out, size_t *outlen)
{
	struct compress_out o = { .fd = -1 };
	int rc;

	if (!out || !outlen)
		return -EINVAL;
	rc = cpio_write_out(c, how, level, &o);
	if (rc) {
		free(o.buf);
		return rc;
	}
	*out = o.buf;
	*outlen = o.len;
	return 0;
}
