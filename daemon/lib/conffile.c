/* conffile.c - the one line reader behind every config file, and its one message format. */
#include "lib/conffile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/names.h"

static const char *conffile_name(const struct conffile *cf)
{
	return cf->name ? cf->name : cf->path;
}

static int conffile_verror(struct conffile *cf, unsigned line, const char *fmt, va_list ap)
{
	char msg[1024];

	if (!cf->err || !cf->errlen)
		return -EINVAL;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (line)
		snprintf(cf->err, cf->errlen, "%s:%u: %s", conffile_name(cf), line, msg);
	else
		snprintf(cf->err, cf->errlen, "%s: %s", conffile_name(cf), msg);
	return -EINVAL;
}

int conffile_error(struct conffile *cf, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	conffile_verror(cf, cf->line, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int conffile_error_at(struct conffile *cf, unsigned line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	conffile_verror(cf, line, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

const char *conffile_shown(const char *s, char out[CONFFILE_SHOWN_MAX + 4])
{
	size_t n;

	for (n = 0; s[n] && n < CONFFILE_SHOWN_MAX; n++)
		out[n] = s[n] >= 0x20 && s[n] < 0x7f ? s[n] : '?';
	if (s[n]) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return out;
}

int conffile_unknown_key(struct conffile *cf, const char *key)
{
	char shown[CONFFILE_SHOWN_MAX + 4];

	return conffile_error(cf, "unknown key '%s'", conffile_shown(key, shown));
}

/* The whole-file errors: "NAME: strerror", or the reason given. */
static int conffile_fail(struct conffile *cf, int rc, const char *why)
{
	if (cf->err && cf->errlen)
		snprintf(cf->err, cf->errlen, "%s: %s", conffile_name(cf), why ? why : strerror(-rc));
	return rc;
}

int conffile_load(struct conffile *cf, char **text, size_t *len)
{
	size_t max = cf->file_max ? cf->file_max : CONFFILE_FILE_MAX;
	size_t got = 0, cap;
	char why[64], *buf = NULL;
	struct stat st;
	int fd, rc;

	*text = NULL;
	/* a FIFO in its place is refused, not waited on: a reload or a request must not hang */
	fd = fsutil_open_regular(AT_FDCWD, cf->path, cf->nofollow ? O_NOFOLLOW : 0, &st);
	if (fd == -EINVAL)
		return conffile_fail(cf, fd, "not a regular file");
	if (fd < 0)
		return conffile_fail(cf, fd, NULL);
	snprintf(why, sizeof(why), "larger than %zu bytes", max);
	if ((unsigned long long)st.st_size > max) {
		rc = conffile_fail(cf, -EFBIG, why);
		goto out;
	}
	/* sized from fstat, with room to notice (and follow) a file that grows while it is read */
	cap = (size_t)st.st_size + 4096;
	for (;;) {
		ssize_t n;

		if (!buf || got == cap - 1) {
			char *nbuf;

			if (buf && cap > max) {
				rc = conffile_fail(cf, -EFBIG, why);
				goto out;
			}
			if (buf)
				cap *= 2;
			nbuf = realloc(buf, cap);
			if (!nbuf) {
				rc = conffile_fail(cf, -ENOMEM, NULL);
				goto out;
			}
			buf = nbuf;
		}
		n = read(fd, buf + got, cap - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = conffile_fail(cf, -errno, NULL);
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > max) {
		rc = conffile_fail(cf, -EFBIG, why);
		goto out;
	}
	buf[got] = '\0';
	*text = buf;
	buf = NULL;
	if (len)
		*len = got;
	rc = 0;
out:
	free(buf);
	close(fd);
	return rc;
}

int conffile_parse(struct conffile *cf, char *text, size_t len, conffile_fn *fn, void *arg)
{
	size_t line_max = cf->line_max ? cf->line_max : CONFFILE_LINE_MAX;
	char *p = text, *end = text + len;
	int rc = 0;

	cf->line = 0;
	while (rc == 0 && p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *t;

		cf->line++;
		/* a NUL would hide the rest of the line from every check after this one; checked
		 * first, so that a binary file is called what it is, not a long line */
		if (memchr(p, '\0', n))
			return conffile_error(cf, "NUL byte in line");
		if (n > line_max)
			return conffile_error(cf, "line longer than %zu bytes", line_max);
		p[n] = '\0';
		t = names_trim(p);
		p += n + 1;
		if (*t == '\0' || *t == '#')
			continue;
		rc = fn(cf, t, arg);
	}
	if (rc < 0 && rc != -EINVAL && cf->err && cf->errlen)
		snprintf(cf->err, cf->errlen, "%s:%u: %s", conffile_name(cf), cf->line, strerror(-rc));
	return rc;
}

int conffile_read(struct conffile *cf, conffile_fn *fn, void *arg)
{
	char *text;
	size_t len;
	int rc;

	rc = conffile_load(cf, &text, &len);
	if (rc < 0)
		return rc;
	rc = conffile_parse(cf, text, len, fn, arg);
	free(text);
	return rc;
}

int conffile_split(struct conffile *cf, char *line, char **key, char **value)
{
	char *eq = strchr(line, '=');

	if (!eq)
		return conffile_error(cf, "expected 'key = value'");
	*eq = '\0';
	*key = names_trim(line);
	*value = names_trim(eq + 1);
	if (!**key)
		return conffile_error(cf, "expected 'key = value'");
	return 0;
}
