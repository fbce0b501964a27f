/* sources.c - parse sources.conf; fetch, verify and extract source tarballs under a state dir. */
#include "conf/sources.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/digest.h"
#include "lib/log.h"
#include "lib/spawn.h"

struct sources {
	struct source *v;
	size_t n, cap;
};

/* ---- sources.conf ---- */

struct sources_parser {
	const char *path;
	size_t lineno;
	struct sources *s;
	struct source *cur;     /* section being filled; NULL before the first header */
	size_t cur_line;        /* its header's line, where a missing key is reported */
	bool have_size;
	const char *cur_ext;    /* compression of its first url: every url must name the same bytes */
	char *err;
	size_t errlen;
};

static int sources_perr(struct sources_parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int sources_perr(struct sources_parser *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->err && p->errlen)
		snprintf(p->err, p->errlen, "%s:%zu: %s", p->path, p->lineno, msg);
	return -EINVAL;
}

static bool sources_isspace(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static char *sources_trim(char *s)
{
	char *end;

	while (sources_isspace(*s))
		s++;
	end = s + strlen(s);
	while (end > s && sources_isspace(end[-1]))
		*--end = '\0';
	return s;
}

/* Section names become file names under STATE_DIR, so "." and ".." are out too. */
static bool sources_name_ok(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > SOURCES_NAME_MAX || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	for (const char *c = name; *c; c++) {
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
		      *c == '.' || *c == '_' || *c == '+' || *c == '-'))
			return false;
	}
	return true;
}

static bool sources_strip_ok(const char *strip)
{
	size_t len = strlen(strip);

	if (len == 0 || len > NAME_MAX || strcmp(strip, ".") == 0 || strcmp(strip, "..") == 0)
		return false;
	for (const unsigned char *c = (const unsigned char *)strip; *c; c++) {
		if (*c == '/' || *c < 0x20 || *c == 0x7f)
			return false;
	}
	return true;
}

static bool sources_sha_ok(const char *hex)
{
	size_t i;

	for (i = 0; hex[i]; i++) {
		char c = hex[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
	}
	return i == 64;
}

/* The compression named by the URL's path ("xz", "bz2", "gz"), or NULL. */
static const char *sources_url_ext(const char *url)
{
	static const char *const exts[] = { "xz", "bz2", "gz" };
	size_t len = strcspn(url, "?#");

	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		char suffix[16];
		size_t sl = (size_t)snprintf(suffix, sizeof(suffix), ".tar.%s", exts[i]);

		if (len > sl && strncmp(url + len - sl, suffix, sl) == 0)
			return exts[i];
	}
	return NULL;
}

static bool sources_url_scheme_ok(const char *url)
{
	return strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0 ||
	       strncasecmp(url, "file://", 7) == 0;
}

static bool sources_url_chars_ok(const char *url)
{
	for (const unsigned char *c = (const unsigned char *)url; *c; c++) {
		if (*c <= 0x20 || *c == 0x7f)
			return false;
	}
	return true;
}

/* Digits with an optional K, M or G (powers of 1024); 0 and overflow are refused. */
static int sources_parse_size(const char *v, uint64_t *out)
{
	uint64_t n = 0, mul = 1;
	const char *c = v;

	if (*c < '0' || *c > '9')
		return -EINVAL;
	for (; *c >= '0' && *c <= '9'; c++) {
		unsigned d = (unsigned)(*c - '0');

		if (n > (UINT64_MAX - d) / 10)
			return -ERANGE;
		n = n * 10 + d;
	}
	switch (*c) {
	case 'K': case 'k': mul = 1ull << 10; c++; break;
	case 'M': case 'm': mul = 1ull << 20; c++; break;
	case 'G': case 'g': mul = 1ull << 30; c++; break;
	default: break;
	}
	if (*c != '\0' || n == 0)
		return -EINVAL;
	if (n > UINT64_MAX / mul)
		return -ERANGE;
	*out = n * mul;
	return 0;
}

static void sources_source_free(struct source *src)
{
	free(src->name);
	for (size_t i = 0; i < src->nurls; i++)
		free(src->urls[i]);
	free(src->urls);
	free(src->strip);
}

static int sources_end_section(struct sources_parser *p)
{
	struct source *src = p->cur;
	const char *missing = NULL;

	if (!src)
		return 0;
	if (!src->sha256[0])
		missing = "sha256";
	else if (!src->nurls)
		missing = "url";
	else if (!src->strip)
		missing = "strip";
	if (missing) {
		if (p->err && p->errlen)
			snprintf(p->err, p->errlen, "%s:%zu: [%s] has no %s", p->path, p->cur_line,
				 src->name, missing);
		return -EINVAL;
	}
	if (!p->have_size)
		src->size_max = SOURCES_SIZE_MAX_DEFAULT;
	p->cur = NULL;
	return 0;
}

static int sources_parse_header(struct sources_parser *p, char *t)
{
	struct sources *s = p->s;
	size_t len = strlen(t);
	char *name;
	int rc;

	if (len < 2 || t[len - 1] != ']')
		return sources_perr(p, "section header must be [name]");
	t[len - 1] = '\0';
	name = t + 1;
	rc = sources_end_section(p);
	if (rc < 0)
		return rc;
	if (!sources_name_ok(name))
		return sources_perr(p, "section name must be 1-%d of A-Z a-z 0-9 . _ + - (not . or ..)",
				    SOURCES_NAME_MAX);
	if (sources_find(s, name))
		return sources_perr(p, "duplicate section [%s]", name);
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 8;
		struct source *v;

		if (ncap > SIZE_MAX / sizeof(*v))
			return -ENOMEM;
		v = realloc(s->v, ncap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = ncap;
	}
	p->cur = &s->v[s->n];
	memset(p->cur, 0, sizeof(*p->cur));
	p->cur->name = strdup(name);
	if (!p->cur->name) {
		p->cur = NULL;
		return -ENOMEM;
	}
	s->n++;
	p->cur_line = p->lineno;
	p->have_size = false;
	p->cur_ext = NULL;
	return 0;
}

static int sources_parse_url(struct sources_parser *p, const char *val)
{
	struct source *src = p->cur;
	const char *ext;
	char **urls;

	if (!sources_url_chars_ok(val))
		return sources_perr(p, "url must not contain spaces or control characters");
	if (!sources_url_scheme_ok(val))
		return sources_perr(p, "url must start with http://, https:// or file://");
	ext = sources_url_ext(val);
	if (!ext)
		return sources_perr(p, "url must end in .tar.xz, .tar.bz2 or .tar.gz");
	if (p->cur_ext && strcmp(ext, p->cur_ext) != 0)
		return sources_perr(p, "url is .tar.%s but the first url of [%s] is .tar.%s", ext,
				    src->name, p->cur_ext);
	if (src->nurls >= SOURCES_URLS_MAX)
		return sources_perr(p, "more than %d urls in [%s]", SOURCES_URLS_MAX, src->name);
	urls = realloc(src->urls, (src->nurls + 1) * sizeof(*urls));
	if (!urls)
		return -ENOMEM;
	src->urls = urls;
	urls[src->nurls] = strdup(val);
	if (!urls[src->nurls])
		return -ENOMEM;
	src->nurls++;
	p->cur_ext = ext;
	return 0;
}

static int sources_parse_kv(struct sources_parser *p, const char *key, const char *val)
{
	struct source *src = p->cur;
	int rc;

	if (strcmp(key, "sha256") != 0 && strcmp(key, "size-max") != 0 && strcmp(key, "url") != 0 &&
	    strcmp(key, "strip") != 0)
		return sources_perr(p, "unknown key '%s'", key);
	if (!src)
		return sources_perr(p, "%s before the first [section]", key);
	if (strcmp(key, "url") == 0)
		return sources_parse_url(p, val);
	if (strcmp(key, "sha256") == 0) {
		if (src->sha256[0])
			return sources_perr(p, "sha256 given twice in [%s]", src->name);
		if (!sources_sha_ok(val))
			return sources_perr(p, "sha256 must be 64 hex digits");
		for (int i = 0; i < 64; i++) /* digest_sha256_fd answers in lowercase */
			src->sha256[i] = (val[i] >= 'A' && val[i] <= 'F') ? (char)(val[i] - 'A' + 'a') : val[i];
		src->sha256[64] = '\0';
		return 0;
	}
	if (strcmp(key, "size-max") == 0) {
		if (p->have_size)
			return sources_perr(p, "size-max given twice in [%s]", src->name);
		rc = sources_parse_size(val, &src->size_max);
		if (rc == -ERANGE)
			return sources_perr(p, "size-max is too large");
		if (rc < 0)
			return sources_perr(p, "size-max must be a positive number with an optional K, M or G suffix");
		p->have_size = true;
		return 0;
	}
	if (src->strip)
		return sources_perr(p, "strip given twice in [%s]", src->name);
	if (!sources_strip_ok(val))
		return sources_perr(p, "strip must be a single directory name (no '/', not . or ..)");
	src->strip = strdup(val);
	return src->strip ? 0 : -ENOMEM;
}

static int sources_parse_line(struct sources_parser *p, char *line, size_t n)
{
	char *t, *eq, *key, *val;

	if (n > SOURCES_LINE_MAX)
		return sources_perr(p, "line longer than %d bytes", SOURCES_LINE_MAX);
	if (strlen(line) != n)
		return sources_perr(p, "line contains a NUL byte");
	t = sources_trim(line);
	if (*t == '\0' || *t == '#')
		return 0;
	if (*t == '[')
		return sources_parse_header(p, t);
	eq = strchr(t, '=');
	if (!eq || eq == t)
		return sources_perr(p, "expected [name] or key = value");
	*eq = '\0';
	key = sources_trim(t);
	val = sources_trim(eq + 1);
	return sources_parse_kv(p, key, val);
}

int sources_load(const char *path, struct sources **out, char *err, size_t errlen)
{
	struct sources_parser p = { .path = path, .err = err, .errlen = errlen };
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;
	int rc = 0;

	*out = NULL;
	f = fopen(path, "re");
	if (!f) {
		rc = -errno;
		goto fail;
	}
	p.s = calloc(1, sizeof(*p.s));
	if (!p.s)
		rc = -ENOMEM;
	while (rc == 0 && (n = getline(&line, &cap, f)) >= 0) {
		p.lineno++;
		rc = sources_parse_line(&p, line, (size_t)n);
	}
	if (rc == 0 && ferror(f))
		rc = -EIO;
	if (rc == 0)
		rc = sources_end_section(&p);
	free(line);
	fclose(f);
	if (rc == 0) {
		*out = p.s;
		return 0;
	}
	sources_free(p.s);
fail:
	/* syntax errors (-EINVAL) have already said file:line */
	if (rc != -EINVAL && err && errlen)
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
	return rc;
}

void sources_free(struct sources *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		sources_source_free(&s->v[i]);
	free(s->v);
	free(s);
}

const struct source *sources_find(const struct sources *s, const char *name)
{
	if (!s || !name)
		return NULL;
	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->v[i].name, name) == 0)
			return &s->v[i];
	}
	return NULL;
}

size_t sources_count(const struct sources *s)
{
	return s ? s->n : 0;
}

const struct source *sources_at(const struct sources *s, size_t i)
{
	return s && i < s->n ? &s->v[i] : NULL;
}

/* ---- removing trees ---- */

/* Each level holds one fd, so refuse depths that would run out of them. */
#define SOURCES_TREE_DEPTH_MAX 256

static int sources_remove_at(int at, const char *name, unsigned depth)
{
	struct dirent *e;
	struct stat st;
	DIR *d;
	int fd, rc = 0;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(at, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	if (depth >= SOURCES_TREE_DEPTH_MAX)
		return -ELOOP;
	/* tar keeps a read-only directory read-only, and then its entries cannot be unlinked */
	if ((st.st_mode & S_IRWXU) != S_IRWXU &&
	    fchmodat(at, name, (st.st_mode & 07777) | S_IRWXU, 0) < 0)
		return -errno;
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		rc = -errno;
		close(fd);
		return rc;
	}
	for (;;) {
		errno = 0;
		e = readdir(d);
		if (!e) {
			rc = errno ? -errno : 0;
			break;
		}
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		rc = sources_remove_at(dirfd(d), e->d_name, depth + 1);
		if (rc < 0)
			break;
	}
	closedir(d);
	if (rc == 0 && unlinkat(at, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		rc = -errno;
	return rc;
}

int sources_remove_tree(int dirfd, const char *name)
{
	if (!name || !*name)
		return -EINVAL;
	return sources_remove_at(dirfd, name, 0);
}

/* ---- fetching and extracting ---- */

/* One sources_fetch or sources_extract call. */
struct sources_op {
	const struct source *s;
	const char *state_dir;
	const char *ext;        /* "xz", "bz2" or "gz" */
	int log_fd;
	char *err;
	size_t errlen;
	int state_fd, sources_fd, tmp_fd, src_fd; /* STATE_DIR and its subdirectories */
};

static void sources_logf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int sources_fail(struct sources_op *op, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* One write per line, so lines stay whole in a log shared with tar's output. */
static void sources_logf(int fd, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	int n;

	if (fd < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(fd, line, (size_t)n) < 0) {
		/* a full log must not fail the fetch */
	}
}

/* Fill err with "NAME: message", copy it to the log and return rc. */
static int sources_fail(struct sources_op *op, int rc, const char *fmt, ...)
{
	char msg[1536];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (op->err && op->errlen)
		snprintf(op->err, op->errlen, "%s: %s", op->s->name, msg);
	sources_logf(op->log_fd, "%s: %s", op->s->name, msg);
	return rc;
}

/* Create a fresh PREFIX.<random> in AT: a file opened into *fd, or with fd NULL a directory. */
static int sources_mktemp(int at, const char *prefix, char *name, size_t len, int *fd)
{
	for (int tries = 0; tries < 16; tries++) {
		uint64_t r;
		int n;

		if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
			return -EIO;
		n = snprintf(name, len, "%s.%016" PRIx64, prefix, r);
		if (n < 0 || (size_t)n >= len)
			return -ENAMETOOLONG;
		if (fd) {
			*fd = openat(at, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
			if (*fd >= 0)
				return 0;
		} else if (mkdirat(at, name, 0700) == 0) {
			return 0;
		}
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

static int sources_mkdir_open(struct sources_op *op, int at, const char *name, int *fd)
{
	if (mkdirat(at, name, 0755) < 0 && errno != EEXIST)
		return sources_fail(op, -errno, "cannot create %s%s%s: %s", op->state_dir,
				    at == AT_FDCWD ? "" : "/", at == AT_FDCWD ? "" : name, strerror(errno));
	*fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fd < 0)
		return sources_fail(op, -errno, "cannot open %s%s%s: %s", op->state_dir,
				    at == AT_FDCWD ? "" : "/", at == AT_FDCWD ? "" : name, strerror(errno));
	return 0;
}

static void sources_op_close(struct sources_op *op)
{
	int *fds[] = { &op->state_fd, &op->sources_fd, &op->tmp_fd, &op->src_fd };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

/* Check the source (callers may build one by hand) and open STATE_DIR's subdirectories. */
static int sources_op_open(struct sources_op *op, const struct source *s, const char *state_dir,
			   int log_fd, char *err, size_t errlen, bool want_src)
{
	static const struct source nameless = { .name = (char *)"(source)" };
	int rc;

	*op = (struct sources_op){ .s = s, .state_dir = state_dir, .log_fd = log_fd, .err = err,
				   .errlen = errlen, .state_fd = -1, .sources_fd = -1, .tmp_fd = -1,
				   .src_fd = -1 };
	if (err && errlen)
		err[0] = '\0';
	if (!s || !s->name || !sources_name_ok(s->name)) {
		op->s = &nameless;
		return sources_fail(op, -EINVAL, "not a valid source name");
	}
	if (!state_dir || !*state_dir)
		return sources_fail(op, -EINVAL, "no state directory");
	if (!sources_sha_ok(s->sha256) || !s->nurls || !s->urls || !s->urls[0] ||
	    !(op->ext = sources_url_ext(s->urls[0])) || !s->size_max ||
	    (want_src && (!s->strip || !sources_strip_ok(s->strip))))
		return sources_fail(op, -EINVAL, "incomplete source definition");
	rc = sources_mkdir_open(op, AT_FDCWD, state_dir, &op->state_fd);
	if (rc == 0)
		rc = sources_mkdir_open(op, op->state_fd, "sources", &op->sources_fd);
	if (rc == 0)
		rc = sources_mkdir_open(op, op->state_fd, "tmp", &op->tmp_fd);
	if (rc == 0 && want_src)
		rc = sources_mkdir_open(op, op->state_fd, "src", &op->src_fd);
	if (rc < 0)
		sources_op_close(op);
	return rc;
}

/* flock, not a mutex: it also keeps out a second daemon sharing STATE_DIR. */
static int sources_lock(struct sources_op *op, int *lock_fd)
{
	char name[SOURCES_NAME_MAX + 8];

	snprintf(name, sizeof(name), "%s.lock", op->s->name);
	*lock_fd = openat(op->sources_fd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (*lock_fd < 0)
		return sources_fail(op, -errno, "cannot open %s/sources/%s: %s", op->state_dir, name,
				    strerror(errno));
	while (flock(*lock_fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int rc = -errno;

			close(*lock_fd);
			*lock_fd = -1;
			return sources_fail(op, rc, "cannot lock %s/sources/%s: %s", op->state_dir, name,
					    strerror(-rc));
		}
	}
	return 0;
}

/* 1: the tarball is in place with the right hash; 0: absent (a wrong one is deleted). */
static int sources_cached(struct sources_op *op, const char *file)
{
	char hex[DIGEST_HEX_LEN];
	struct stat st;
	int fd, rc;

	fd = openat(op->sources_fd, file, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return sources_fail(op, -errno, "cannot open %s/sources/%s: %s", op->state_dir, file,
				    strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return sources_fail(op, -EINVAL, "%s/sources/%s is not a regular file", op->state_dir,
				    file);
	}
	rc = digest_sha256_fd(fd, hex);
	close(fd);
	if (rc < 0)
		return sources_fail(op, rc, "cannot read %s/sources/%s: %s", op->state_dir, file,
				    strerror(-rc));
	if (strcmp(hex, op->s->sha256) == 0)
		return 1;
	sources_logf(op->log_fd, "%s: %s/sources/%s has sha256 %s, expected %s: fetching again",
		     op->s->name, op->state_dir, file, hex, op->s->sha256);
	if (unlinkat(op->sources_fd, file, 0) < 0)
		return sources_fail(op, -errno, "cannot remove %s/sources/%s: %s", op->state_dir, file,
				    strerror(errno));
	return 0;
}

_Static_assert(sizeof(curl_off_t) == sizeof(int64_t), "curl_off_t is 64 bits");

struct sources_xfer {
	int fd;
	uint64_t got, cap;
	bool too_big;
	int werr;   /* errno of a failed write to the temp file */
};

static size_t sources_curl_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sources_xfer *x = arg;
	size_t n = size * nmemb; /* libcurl passes size 1 */
	size_t done = 0;

	if ((uint64_t)n > x->cap - x->got) {
		x->too_big = true;
		return 0;
	}
	while (done < n) {
		ssize_t w = write(x->fd, data + done, n - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			x->werr = w < 0 ? errno : EIO;
			return 0;
		}
		done += (size_t)w;
	}
	x->got += n;
	return n;
}

static int sources_curl_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
				 curl_off_t ultotal, curl_off_t ulnow)
{
	struct sources_xfer *x = arg;

	(void)ultotal;
	(void)ulnow;
	/* dltotal is the announced length: refuse an oversize download before its body comes */
	if ((dltotal > 0 && (uint64_t)dltotal > x->cap) || (dlnow > 0 && (uint64_t)dlnow > x->cap)) {
		x->too_big = true;
		return 1;
	}
	return 0;
}

static int sources_curl_errno(CURL *c, CURLcode res)
{
	long code = 0;

	switch (res) {
	case CURLE_FILE_COULDNT_READ_FILE:
		return -ENOENT;
	case CURLE_HTTP_RETURNED_ERROR:
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		return code == 404 || code == 410 ? -ENOENT : -EIO;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return -EHOSTUNREACH;
	case CURLE_UNSUPPORTED_PROTOCOL:
		return -EPROTONOSUPPORT;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_FILESIZE_EXCEEDED:
		return -EFBIG;
	default:
		return -EIO;
	}
}

/* Run one transfer into x->fd; on failure describe it in msg (without the source name). */
static int sources_curl_get(const char *url, struct sources_xfer *x, char *msg, size_t msglen)
{
	char ebuf[CURL_ERROR_SIZE] = "";
	CURLcode res;
	CURL *c;
	int rc;

	c = curl_easy_init();
	if (!c) {
		snprintf(msg, msglen, "cannot start a transfer for %s", url);
		return -ENOMEM;
	}
	/* a URL, or a redirect, must never reach another protocol (ftp, smb, ...) */
	if (curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK || /* builder threads */
	    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L) != CURLE_OK ||
	    /* a stalled mirror gives up after a minute below 1 KB/s instead of hanging a build */
	    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_USERAGENT, "tinybootd") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sources_curl_write) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, x) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, sources_curl_progress) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_XFERINFODATA, x) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L) != CURLE_OK ||
	    (x->cap <= (uint64_t)INT64_MAX &&
	     curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->cap) != CURLE_OK)) {
		curl_easy_cleanup(c);
		snprintf(msg, msglen, "libcurl refused the options for %s", url);
		return -ENOTSUP;
	}
	res = curl_easy_perform(c);
	rc = res == CURLE_OK ? 0 : sources_curl_errno(c, res);
	if (x->too_big || res == CURLE_FILESIZE_EXCEEDED) {
		rc = -EFBIG;
		snprintf(msg, msglen, "%s is larger than size-max (%" PRIu64 " bytes)", url, x->cap);
	} else if (x->werr) {
		rc = -x->werr;
		snprintf(msg, msglen, "writing the download from %s: %s", url, strerror(x->werr));
	} else if (rc < 0) {
		snprintf(msg, msglen, "fetching %s failed: %s", url,
			 ebuf[0] ? ebuf : curl_easy_strerror(res));
	}
	curl_easy_cleanup(c);
	return rc;
}

/* Download URL into a new file in tmp/ and verify it; on success it is left there as TMPNAME. */
static int sources_download(struct sources_op *op, const char *url, char *tmpname, size_t tmplen,
			    char *msg, size_t msglen)
{
	struct sources_xfer x = { .cap = op->s->size_max };
	char prefix[SOURCES_NAME_MAX + 8], hex[DIGEST_HEX_LEN];
	int rc;

	snprintf(prefix, sizeof(prefix), "fetch.%s", op->s->name);
	rc = sources_mktemp(op->tmp_fd, prefix, tmpname, tmplen, &x.fd);
	if (rc < 0) {
		snprintf(msg, msglen, "cannot create a temp file in %s/tmp: %s", op->state_dir,
			 strerror(-rc));
		return rc;
	}
	sources_logf(op->log_fd, "%s: fetching %s", op->s->name, url);
	rc = sources_curl_get(url, &x, msg, msglen);
	if (rc == 0) {
		rc = digest_sha256_fd(x.fd, hex);
		if (rc < 0)
			snprintf(msg, msglen, "cannot hash the download from %s: %s", url, strerror(-rc));
	}
	if (rc == 0 && strcmp(hex, op->s->sha256) != 0) {
		rc = -EBADMSG;
		snprintf(msg, msglen, "sha256 mismatch from %s: expected %s, got %s", url,
			 op->s->sha256, hex);
	}
	/* the rename that follows must not publish a name whose data is still in the page cache */
	if (rc == 0 && fsync(x.fd) < 0) {
		rc = -errno;
		snprintf(msg, msglen, "fsync of the download from %s: %s", url, strerror(errno));
	}
	close(x.fd);
	if (rc < 0)
		unlinkat(op->tmp_fd, tmpname, 0);
	else
		sources_logf(op->log_fd, "%s: fetched %" PRIu64 " bytes from %s, sha256 ok",
			     op->s->name, x.got, url);
	return rc;
}

#define SOURCES_FILE_MAX (SOURCES_NAME_MAX + 16)

/* The tarball's name in sources/: NAME.tar.EXT */
static void sources_file_name(const struct sources_op *op, char file[SOURCES_FILE_MAX])
{
	snprintf(file, SOURCES_FILE_MAX, "%s.tar.%s", op->s->name, op->ext);
}

/* The caller has checked with sources_out_path that path_out is long enough. */
static int sources_fetch_locked(struct sources_op *op, char *path_out, size_t pathlen)
{
	char file[SOURCES_FILE_MAX], tmpname[NAME_MAX + 1], msg[1536];
	bool mismatch = false;
	int rc, best = -ENOENT;

	sources_file_name(op, file);
	if (path_out)
		snprintf(path_out, pathlen, "%s/sources/%s", op->state_dir, file);
	rc = sources_cached(op, file);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	for (size_t i = 0; i < op->s->nurls; i++) {
		const char *url = op->s->urls[i];

		rc = sources_download(op, url, tmpname, sizeof(tmpname), msg, sizeof(msg));
		if (rc == 0) {
			if (renameat(op->tmp_fd, tmpname, op->sources_fd, file) < 0) {
				rc = -errno;
				unlinkat(op->tmp_fd, tmpname, 0);
				return sources_fail(op, rc, "cannot rename into %s/sources/%s: %s",
						    op->state_dir, file, strerror(-rc));
			}
			if (fsync(op->sources_fd) < 0)
				return sources_fail(op, -errno, "fsync %s/sources: %s", op->state_dir,
						    strerror(errno));
			log_info("%s: fetched %s", op->s->name, url);
			if (op->err && op->errlen)
				op->err[0] = '\0'; /* earlier mirrors' failures are only in the log */
			return 0;
		}
		sources_logf(op->log_fd, "%s: %s", op->s->name, msg);
		/* a bad checksum may be tampering: it outranks later mirrors' plain failures */
		if (!mismatch) {
			best = rc;
			mismatch = rc == -EBADMSG;
			if (op->err && op->errlen)
				snprintf(op->err, op->errlen, "%s: %s", op->s->name, msg);
		}
		if (i + 1 < op->s->nurls)
			sources_logf(op->log_fd, "%s: trying the next url", op->s->name);
	}
	return best;
}

static int sources_out_path(struct sources_op *op, char *out, size_t len, const char *sub,
			    const char *file)
{
	int n;

	if (!out)
		return 0;
	n = snprintf(out, len, "%s/%s/%s", op->state_dir, sub, file);
	if (n < 0 || (size_t)n >= len)
		return sources_fail(op, -ENAMETOOLONG, "%s/%s/%s does not fit the path buffer",
				    op->state_dir, sub, file);
	return 0;
}

int sources_fetch(const struct source *s, const char *state_dir, int log_fd,
		  char *path_out, size_t pathlen, char *err, size_t errlen)
{
	struct sources_op op;
	char file[SOURCES_FILE_MAX];
	int lock_fd = -1, rc;

	rc = sources_op_open(&op, s, state_dir, log_fd, err, errlen, false);
	if (rc < 0)
		return rc;
	sources_file_name(&op, file);
	rc = sources_out_path(&op, path_out, pathlen, "sources", file);
	if (rc == 0)
		rc = sources_lock(&op, &lock_fd);
	if (rc == 0)
		rc = sources_fetch_locked(&op, path_out, pathlen);
	if (lock_fd >= 0)
		close(lock_fd);
	sources_op_close(&op);
	return rc;
}

/* 1: src/<name> is complete for this sha256; 0: absent; 2: something else is there. */
static int sources_tree_state(struct sources_op *op)
{
	char buf[80];
	struct stat st;
	ssize_t n;
	int dfd, mfd;

	if (fstatat(op->src_fd, op->s->name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return sources_fail(op, -errno, "cannot stat %s/src/%s: %s", op->state_dir,
				    op->s->name, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return 2;
	dfd = openat(op->src_fd, op->s->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return 2;
	mfd = openat(dfd, SOURCES_MARKER, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	close(dfd);
	if (mfd < 0)
		return 2;
	if (fstat(mfd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(mfd);
		return 2;
	}
	n = read(mfd, buf, sizeof(buf));
	close(mfd);
	if (n == 65 && memcmp(buf, op->s->sha256, 64) == 0 && buf[64] == '\n')
		return 1;
	return 2;
}

/* Move src/<name> into tmp/ first, so a crash halfway leaves nothing half-removed in src/. */
static int sources_discard_tree(struct sources_op *op)
{
	char prefix[SOURCES_NAME_MAX + 8], stale[NAME_MAX + 1], inner[2 * NAME_MAX + 2];
	int rc;

	snprintf(prefix, sizeof(prefix), "stale.%s", op->s->name);
	rc = sources_mktemp(op->tmp_fd, prefix, stale, sizeof(stale), NULL);
	if (rc < 0)
		return sources_fail(op, rc, "cannot create a temp dir in %s/tmp: %s", op->state_dir,
				    strerror(-rc));
	snprintf(inner, sizeof(inner), "%s/%s", stale, op->s->name);
	if (renameat(op->src_fd, op->s->name, op->tmp_fd, inner) < 0) {
		rc = -errno;
		unlinkat(op->tmp_fd, stale, AT_REMOVEDIR);
		return sources_fail(op, rc, "cannot move %s/src/%s aside: %s", op->state_dir,
				    op->s->name, strerror(-rc));
	}
	rc = sources_remove_tree(op->tmp_fd, stale);
	if (rc < 0) /* it is out of src/ already; start-up cleaning of tmp/ gets another go */
		sources_logf(op->log_fd, "%s: cannot remove %s/tmp/%s: %s", op->s->name,
			     op->state_dir, stale, strerror(-rc));
	return 0;
}

static int sources_write_marker(struct sources_op *op, int xfd)
{
	char line[DIGEST_HEX_LEN];
	int tfd, mfd, rc = 0;
	ssize_t w;

	tfd = openat(xfd, op->s->strip, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (tfd < 0)
		return sources_fail(op, -errno, "cannot open the extracted %s: %s", op->s->strip,
				    strerror(errno));
	/* a tarball that ships its own marker must not vouch for itself */
	if (unlinkat(tfd, SOURCES_MARKER, 0) < 0 && errno != ENOENT) {
		rc = -errno;
		goto out;
	}
	mfd = openat(tfd, SOURCES_MARKER, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (mfd < 0) {
		rc = -errno;
		goto out;
	}
	memcpy(line, op->s->sha256, 64);
	line[64] = '\n';
	w = write(mfd, line, 65);
	if (w != 65)
		rc = w < 0 ? -errno : -EIO;
	else if (fsync(mfd) < 0)
		rc = -errno;
	close(mfd);
	if (rc == 0 && fsync(tfd) < 0)
		rc = -errno;
out:
	close(tfd);
	if (rc < 0)
		return sources_fail(op, rc, "cannot write %s/%s: %s", op->s->strip, SOURCES_MARKER,
				    strerror(-rc));
	return 0;
}

static int sources_extract_locked(struct sources_op *op, const char *tarball)
{
	char prefix[SOURCES_NAME_MAX + 16], xname[NAME_MAX + 1], xpath[PATH_MAX], cmd[PATH_MAX * 2 + 64];
	struct spawn_opts so = { .log_fd = op->log_fd };
	struct stat st;
	int rc, xfd = -1, n;

	snprintf(prefix, sizeof(prefix), "extract.%s", op->s->name);
	rc = sources_mktemp(op->tmp_fd, prefix, xname, sizeof(xname), NULL);
	if (rc < 0)
		return sources_fail(op, rc, "cannot create a temp dir in %s/tmp: %s", op->state_dir,
				    strerror(-rc));
	n = snprintf(xpath, sizeof(xpath), "%s/tmp/%s", op->state_dir, xname);
	if (n < 0 || (size_t)n >= sizeof(xpath)) {
		rc = sources_fail(op, -ENAMETOOLONG, "%s/tmp/%s: path too long", op->state_dir, xname);
		goto out;
	}
	{
		/* never a shell: tar gets the paths as they are */
		char *const argv[] = { "tar", "--no-same-owner", "-x", "-f", (char *)tarball,
				       "-C", xpath, NULL };

		spawn_format(argv, cmd, sizeof(cmd));
		sources_logf(op->log_fd, "%s", cmd);
		rc = spawn_run(argv, &so);
	}
	if (rc < 0) {
		rc = sources_fail(op, rc, "cannot run tar: %s", strerror(-rc));
		goto out;
	}
	if (rc > 0) {
		rc = sources_fail(op, -EIO, "tar failed (status %d) extracting %s", rc, tarball);
		goto out;
	}
	xfd = openat(op->tmp_fd, xname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (xfd < 0) {
		rc = sources_fail(op, -errno, "cannot open %s: %s", xpath, strerror(errno));
		goto out;
	}
	if (fstatat(xfd, op->s->strip, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode)) {
		rc = sources_fail(op, -ENOENT, "%s has no top-level directory %s", tarball,
				  op->s->strip);
		goto out;
	}
	/* the tree's data must be on disk before the marker says it is complete */
	if (syncfs(xfd) < 0) {
		rc = sources_fail(op, -errno, "syncfs %s: %s", xpath, strerror(errno));
		goto out;
	}
	rc = sources_write_marker(op, xfd);
	if (rc < 0)
		goto out;
	if (renameat(xfd, op->s->strip, op->src_fd, op->s->name) < 0) {
		rc = sources_fail(op, -errno, "cannot rename %s/%s to %s/src/%s: %s", xpath,
				  op->s->strip, op->state_dir, op->s->name, strerror(errno));
		goto out;
	}
	if (fsync(op->src_fd) < 0) {
		rc = sources_fail(op, -errno, "fsync %s/src: %s", op->state_dir, strerror(errno));
		goto out;
	}
	sources_logf(op->log_fd, "%s: extracted into %s/src/%s", op->s->name, op->state_dir,
		     op->s->name);
	log_info("%s: extracted into %s/src/%s", op->s->name, op->state_dir, op->s->name);
out:
	if (xfd >= 0)
		close(xfd);
	n = sources_remove_tree(op->tmp_fd, xname);
	if (n < 0)
		sources_logf(op->log_fd, "%s: cannot remove %s: %s", op->s->name, xpath, strerror(-n));
	return rc;
}

int sources_extract(const struct source *s, const char *state_dir, int log_fd,
		    char *tree_out, size_t treelen, char *err, size_t errlen)
{
	struct sources_op op;
	char tarball[PATH_MAX], file[SOURCES_FILE_MAX];
	int lock_fd = -1, rc;

	rc = sources_op_open(&op, s, state_dir, log_fd, err, errlen, true);
	if (rc < 0)
		return rc;
	sources_file_name(&op, file);
	rc = sources_out_path(&op, tree_out, treelen, "src", s->name);
	if (rc == 0)
		rc = sources_out_path(&op, tarball, sizeof(tarball), "sources", file);
	if (rc == 0)
		rc = sources_lock(&op, &lock_fd);
	if (rc == 0)
		rc = sources_tree_state(&op);
	if (rc == 2) {
		sources_logf(log_fd, "%s: removing the incomplete or outdated %s/src/%s", s->name,
			     state_dir, s->name);
		rc = sources_discard_tree(&op);
	}
	if (rc == 1) {
		rc = 0; /* complete already: not even the tarball is needed */
	} else if (rc == 0) {
		rc = sources_fetch_locked(&op, tarball, sizeof(tarball));
		if (rc == 0)
			rc = sources_extract_locked(&op, tarball);
	}
	if (lock_fd >= 0)
		close(lock_fd);
	sources_op_close(&op);
	return rc;
}
