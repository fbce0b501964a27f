/* sources.c - parse sources.conf: checksummed source tarballs, each a [section]. */
#include "conf/sources.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/conffile.h"
#include "lib/names.h"

struct sources {
	struct source *v;
	size_t n, cap;
};

struct sources_parser {
	struct conffile *cf;
	struct sources *s;
	struct source *cur;     /* section being filled; NULL before the first header */
	unsigned cur_line;      /* its header's line, where a missing key is reported */
	bool have_size;
	const char *cur_ext;    /* compression of its first url: every url must name the same bytes */
};

/* Section names become file names under STATE_DIR, so "." and ".." are out too. */
bool sources_name_valid(const char *name)
{
	return strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
	       names_charset(name, SOURCES_NAME_MAX, NAMES_ALNUM, "._+-");
}

bool sources_strip_valid(const char *strip)
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

/* The compression named by the URL's path ("xz", "bz2", "gz"), or NULL. */
const char *sources_url_ext(const char *url)
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
	if (missing)
		return conffile_error_at(p->cf, p->cur_line, "[%s] has no %s", src->name, missing);
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
		return conffile_error(p->cf, "section header must be [name]");
	t[len - 1] = '\0';
	name = t + 1;
	rc = sources_end_section(p);
	if (rc < 0)
		return rc;
	if (!sources_name_valid(name))
		return conffile_error(p->cf, "section name must be 1-%d of A-Z a-z 0-9 . _ + - (not . or ..)",
				      SOURCES_NAME_MAX);
	if (sources_find(s, name))
		return conffile_error(p->cf, "duplicate section [%s]", name);
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
	p->cur_line = p->cf->line;
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
		return conffile_error(p->cf, "url must not contain spaces or control characters");
	if (!sources_url_scheme_ok(val))
		return conffile_error(p->cf, "url must start with http://, https:// or file://");
	ext = sources_url_ext(val);
	if (!ext)
		return conffile_error(p->cf, "url must end in .tar.xz, .tar.bz2 or .tar.gz");
	if (p->cur_ext && strcmp(ext, p->cur_ext) != 0)
		return conffile_error(p->cf, "url is .tar.%s but the first url of [%s] is .tar.%s", ext,
				      src->name, p->cur_ext);
	if (src->nurls >= SOURCES_URLS_MAX)
		return conffile_error(p->cf, "more than %d urls in [%s]", SOURCES_URLS_MAX, src->name);
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
		return conffile_unknown_key(p->cf, key);
	if (!src)
		return conffile_error(p->cf, "%s before the first [section]", key);
	if (strcmp(key, "url") == 0)
		return sources_parse_url(p, val);
	if (strcmp(key, "sha256") == 0) {
		if (src->sha256[0])
			return conffile_error(p->cf, "sha256 given twice in [%s]", src->name);
		if (!names_hex(val, 64))
			return conffile_error(p->cf, "sha256 must be 64 hex digits");
		for (int i = 0; i < 64; i++) /* digest_sha256_fd answers in lowercase */
			src->sha256[i] = names_lower(val[i]);
		src->sha256[64] = '\0';
		return 0;
	}
	if (strcmp(key, "size-max") == 0) {
		if (p->have_size)
			return conffile_error(p->cf, "size-max given twice in [%s]", src->name);
		rc = sources_parse_size(val, &src->size_max);
		if (rc == -ERANGE)
			return conffile_error(p->cf, "size-max is too large");
		if (rc < 0)
			return conffile_error(p->cf, "size-max must be a positive number with an optional K, M or G suffix");
		p->have_size = true;
		return 0;
	}
	if (src->strip)
		return conffile_error(p->cf, "strip given twice in [%s]", src->name);
	if (!sources_strip_valid(val))
		return conffile_error(p->cf, "strip must be a single directory name (no '/', not . or ..)");
	src->strip = strdup(val);
	return src->strip ? 0 : -ENOMEM;
}

static int sources_parse_line(struct conffile *cf, char *line, void *arg)
{
	struct sources_parser *p = arg;
	char *key, *val;
	int rc;

	if (*line == '[')
		return sources_parse_header(p, line);
	rc = conffile_split(cf, line, &key, &val);
	if (rc)
		return rc;
	return sources_parse_kv(p, key, val);
}

int sources_load(const char *path, struct sources **out, char *err, size_t errlen)
{
	struct conffile cf = { .path = path, .line_max = SOURCES_LINE_MAX, .err = err,
			       .errlen = errlen };
	struct sources_parser p = { .cf = &cf };
	int rc;

	*out = NULL;
	p.s = calloc(1, sizeof(*p.s));
	if (!p.s)
		return -ENOMEM;
	rc = conffile_read(&cf, sources_parse_line, &p);
	if (rc == 0)
		rc = sources_end_section(&p);
	if (rc) {
		sources_free(p.s);
		return rc;
	}
	*out = p.s;
	return 0;
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
