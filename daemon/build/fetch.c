/* fetch.c - fetch a tarball named in sources.conf, check its sha256, keep it in the store. */
#include "build/fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/digest.h"
#include "lib/log.h"
#include "lib/names.h"

/* One write per line, so lines stay whole in a log shared with tar's output. */
void fetch_log(int fd, const char *fmt, ...)
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
int fetch_fail(struct fetch_op *op, int rc, const char *fmt, ...)
{
	char msg[1536];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (op->err && op->errlen)
		snprintf(op->err, op->errlen, "%s: %s", op->s->name, msg);
	fetch_log(op->log_fd, "%s: %s", op->s->name, msg);
	return rc;
}

/* Create a fresh PREFIX.<random> in AT: a file opened into *fd, or with fd NULL a directory. */
int fetch_mktemp(int at, const char *prefix, char *name, size_t len, int *fd)
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

/* Open one of the store's areas for the call (creating it if it went missing). */
static int fetch_dir_open(struct fetch_op *op, enum store_area area, struct fetch_dir *dir)
{
	int rc = store_path(op->store, area, NULL, NULL, dir->path, sizeof(dir->path));

	if (rc < 0)
		return fetch_fail(op, rc, "the state directory %s is too long a path: %s",
				  store_dir(op->store), strerror(-rc));
	dir->fd = store_area_open(op->store, area);
	if (dir->fd < 0)
		return fetch_fail(op, dir->fd, "cannot open %s: %s", dir->path, strerror(-dir->fd));
	return 0;
}

void fetch_op_close(struct fetch_op *op)
{
	struct fetch_dir *dirs[] = { &op->sources, &op->tmp, &op->src };

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (dirs[i]->fd >= 0)
			close(dirs[i]->fd);
		dirs[i]->fd = -1;
	}
}

/* Check the source (callers may build one by hand) and open the store's areas. */
int fetch_op_open(struct fetch_op *op, const struct source *s, const struct store *store,
		  int log_fd, const volatile int *cancel, char *err, size_t errlen, bool want_src)
{
	static const struct source nameless = { .name = (char *)"(source)" };
	int rc;

	op->s = s;
	op->store = store;
	op->ext = NULL;
	op->log_fd = log_fd;
	op->cancel = cancel;
	op->err = err;
	op->errlen = errlen;
	op->sources.fd = op->tmp.fd = op->src.fd = -1;
	op->sources.path[0] = op->tmp.path[0] = op->src.path[0] = '\0';
	if (err && errlen)
		err[0] = '\0';
	if (!s || !s->name || !sources_name_valid(s->name)) {
		op->s = &nameless;
		return fetch_fail(op, -EINVAL, "not a valid source name");
	}
	if (!store)
		return fetch_fail(op, -EINVAL, "no state directory");
	if (!names_hex(s->sha256, 64) || !s->nurls || !s->urls || !s->urls[0] ||
	    !(op->ext = sources_url_ext(s->urls[0])) || !s->size_max ||
	    (want_src && (!s->strip || !sources_strip_valid(s->strip))))
		return fetch_fail(op, -EINVAL, "incomplete source definition");
	rc = fetch_dir_open(op, STORE_SOURCES, &op->sources);
	if (rc == 0)
		rc = fetch_dir_open(op, STORE_TMP, &op->tmp);
	if (rc == 0 && want_src)
		rc = fetch_dir_open(op, STORE_SRC, &op->src);
	if (rc < 0)
		fetch_op_close(op);
	return rc;
}

int fetch_cancelled(struct fetch_op *op)
{
	if (op->cancel && *op->cancel)
		return fetch_fail(op, -ECANCELED, "cancelled (the daemon is stopping)");
	return 0;
}

/* flock, not a mutex: it also keeps out another process working in the same store. */
int fetch_lock(struct fetch_op *op, int *lock_fd)
{
	char name[SOURCES_NAME_MAX + 8];

	snprintf(name, sizeof(name), "%s.lock", op->s->name);
	*lock_fd = openat(op->sources.fd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (*lock_fd < 0)
		return fetch_fail(op, -errno, "cannot open %s/%s: %s", op->sources.path, name,
				  strerror(errno));
	while (flock(*lock_fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int rc = -errno;

			close(*lock_fd);
			*lock_fd = -1;
			return fetch_fail(op, rc, "cannot lock %s/%s: %s", op->sources.path, name,
					  strerror(-rc));
		}
	}
	return 0;
}

/* 1: the tarball is in place with the right hash; 0: absent (a wrong one is deleted). */
static int fetch_cached(struct fetch_op *op, const char *file)
{
	char hex[DIGEST_HEX_LEN];
	struct stat st;
	int fd, rc;

	fd = openat(op->sources.fd, file, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return fetch_fail(op, -errno, "cannot open %s/%s: %s", op->sources.path, file,
				  strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return fetch_fail(op, -EINVAL, "%s/%s is not a regular file", op->sources.path,
				  file);
	}
	rc = digest_sha256_fd(fd, hex);
	close(fd);
	if (rc < 0)
		return fetch_fail(op, rc, "cannot read %s/%s: %s", op->sources.path, file,
				  strerror(-rc));
	if (strcmp(hex, op->s->sha256) == 0)
		return 1;
	fetch_log(op->log_fd, "%s: %s/%s has sha256 %s, expected %s: fetching again",
		  op->s->name, op->sources.path, file, hex, op->s->sha256);
	if (unlinkat(op->sources.fd, file, 0) < 0)
		return fetch_fail(op, -errno, "cannot remove %s/%s: %s", op->sources.path, file,
				  strerror(errno));
	return 0;
}

_Static_assert(sizeof(curl_off_t) == sizeof(int64_t), "curl_off_t is 64 bits");

struct fetch_xfer {
	int fd;
	uint64_t got, cap;
	bool too_big;
	int werr;   /* errno of a failed write to the temp file */
	const volatile int *cancel;
	bool cancelled;
};

static size_t fetch_curl_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct fetch_xfer *x = arg;
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

static int fetch_curl_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
			       curl_off_t ultotal, curl_off_t ulnow)
{
	struct fetch_xfer *x = arg;

	(void)ultotal;
	(void)ulnow;
	/* libcurl calls this at least about once a second, even on a stalled transfer */
	if (x->cancel && *x->cancel) {
		x->cancelled = true;
		return 1;
	}
	/* dltotal is the announced length: refuse an oversize download before its body comes */
	if ((dltotal > 0 && (uint64_t)dltotal > x->cap) || (dlnow > 0 && (uint64_t)dlnow > x->cap)) {
		x->too_big = true;
		return 1;
	}
	return 0;
}

static int fetch_curl_errno(CURL *c, CURLcode res)
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
static int fetch_curl_get(const char *url, struct fetch_xfer *x, char *msg, size_t msglen)
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
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fetch_curl_write) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, x) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, fetch_curl_progress) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_XFERINFODATA, x) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L) != CURLE_OK ||
	    (x->cap <= (uint64_t)INT64_MAX &&
	     curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->cap) != CURLE_OK)) {
		curl_easy_cleanup(c);
		snprintf(msg, msglen, "libcurl refused the options for %s", url);
		return -ENOTSUP;
	}
	res = curl_easy_perform(c);
	rc = res == CURLE_OK ? 0 : fetch_curl_errno(c, res);
	if (x->cancelled) {
		rc = -ECANCELED;
		snprintf(msg, msglen, "the download from %s was cancelled (the daemon is stopping)", url);
	} else if (x->too_big || res == CURLE_FILESIZE_EXCEEDED) {
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

/* Download URL into a new temp file and verify it; on success it is left there as TMPNAME. */
static int fetch_download(struct fetch_op *op, const char *url, char *tmpname, size_t tmplen,
			  char *msg, size_t msglen)
{
	struct fetch_xfer x = { .cap = op->s->size_max, .cancel = op->cancel };
	char prefix[SOURCES_NAME_MAX + 8], hex[DIGEST_HEX_LEN];
	int rc;

	snprintf(prefix, sizeof(prefix), "fetch.%s", op->s->name);
	rc = fetch_mktemp(op->tmp.fd, prefix, tmpname, tmplen, &x.fd);
	if (rc < 0) {
		snprintf(msg, msglen, "cannot create a temp file in %.1400s: %s", op->tmp.path,
			 strerror(-rc));
		return rc;
	}
	fetch_log(op->log_fd, "%s: fetching %s", op->s->name, url);
	rc = fetch_curl_get(url, &x, msg, msglen);
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
		unlinkat(op->tmp.fd, tmpname, 0);
	else
		fetch_log(op->log_fd, "%s: fetched %" PRIu64 " bytes from %s, sha256 ok",
			  op->s->name, x.got, url);
	return rc;
}

/* The tarball's name in STORE_SOURCES: NAME.tar.EXT */
void fetch_file_name(const struct fetch_op *op, char file[FETCH_FILE_MAX])
{
	snprintf(file, FETCH_FILE_MAX, "%s.tar.%s", op->s->name, op->ext);
}

/* The caller has checked with fetch_out_path that path_out is long enough. */
int fetch_locked(struct fetch_op *op, char *path_out, size_t pathlen)
{
	char file[FETCH_FILE_MAX], tmpname[NAME_MAX + 1], msg[1536];
	bool mismatch = false;
	int rc, best = -ENOENT;

	fetch_file_name(op, file);
	if (path_out)
		snprintf(path_out, pathlen, "%s/%s", op->sources.path, file);
	rc = fetch_cached(op, file);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	for (size_t i = 0; i < op->s->nurls; i++) {
		const char *url = op->s->urls[i];

		rc = fetch_cancelled(op);
		if (rc)
			return rc;
		rc = fetch_download(op, url, tmpname, sizeof(tmpname), msg, sizeof(msg));
		if (rc == 0) {
			if (renameat(op->tmp.fd, tmpname, op->sources.fd, file) < 0) {
				rc = -errno;
				unlinkat(op->tmp.fd, tmpname, 0);
				return fetch_fail(op, rc, "cannot rename into %s/%s: %s",
						  op->sources.path, file, strerror(-rc));
			}
			if (fsync(op->sources.fd) < 0)
				return fetch_fail(op, -errno, "fsync %s: %s", op->sources.path,
						  strerror(errno));
			log_info("%s: fetched %s", op->s->name, url);
			if (op->err && op->errlen)
				op->err[0] = '\0'; /* earlier mirrors' failures are only in the log */
			return 0;
		}
		if (rc == -ECANCELED) /* the next mirror would be cancelled too */
			return fetch_fail(op, rc, "%s", msg);
		fetch_log(op->log_fd, "%s: %s", op->s->name, msg);
		/* a bad checksum may be tampering: it outranks later mirrors' plain failures */
		if (!mismatch) {
			best = rc;
			mismatch = rc == -EBADMSG;
			if (op->err && op->errlen)
				snprintf(op->err, op->errlen, "%s: %s", op->s->name, msg);
		}
		if (i + 1 < op->s->nurls)
			fetch_log(op->log_fd, "%s: trying the next url", op->s->name);
	}
	return best;
}

int fetch_out_path(struct fetch_op *op, char *out, size_t len, const struct fetch_dir *dir,
		   const char *file)
{
	int n;

	if (!out)
		return 0;
	n = snprintf(out, len, "%s/%s", dir->path, file);
	if (n < 0 || (size_t)n >= len)
		return fetch_fail(op, -ENAMETOOLONG, "%s/%s does not fit the path buffer",
				  dir->path, file);
	return 0;
}

int fetch_source(const struct source *s, const struct store *store, int log_fd,
		 const volatile int *cancel, char *path_out, size_t pathlen, char *err, size_t errlen)
{
	struct fetch_op op;
	char file[FETCH_FILE_MAX];
	int lock_fd = -1, rc;

	rc = fetch_op_open(&op, s, store, log_fd, cancel, err, errlen, false);
	if (rc < 0)
		return rc;
	fetch_file_name(&op, file);
	rc = fetch_out_path(&op, path_out, pathlen, &op.sources, file);
	if (rc == 0)
		rc = fetch_lock(&op, &lock_fd);
	if (rc == 0)
		rc = fetch_locked(&op, path_out, pathlen);
	if (lock_fd >= 0)
		close(lock_fd);
	fetch_op_close(&op);
	return rc;
}

