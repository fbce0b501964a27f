/* kconfig.c - fragment verification: olddefconfig silently drops what it cannot satisfy. */
#include "build/kconfig.h"

#include <ctype.h>
#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fsutil.h"

#define KCONFIG_FRAGMENT_MAX (1 << 20)
#define KCONFIG_FILE_MAX (1 << 20)

/* Parse one .config line into name (without CONFIG_) and value; 0 if it is a setting. */
static int kconfig_parse_line(const char *line, size_t linelen, char *name, size_t nlen,
			      char *value, size_t vlen)
{
	const char *p = line, *end = line + linelen, *start;
	size_t n;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (end - p > 9 && strncmp(p, "# CONFIG_", 9) == 0) {
		start = p + 9;
		for (p = start; p < end && (isalnum((unsigned char)*p) || *p == '_'); p++)
			;
		if ((size_t)(end - p) < 11 || strncmp(p, " is not set", 11) != 0)
			return -EINVAL;
		n = (size_t)(p - start);
		if (n == 0 || n >= nlen)
			return -EINVAL;
		memcpy(name, start, n);
		name[n] = '\0';
		snprintf(value, vlen, "n");
		return 0;
	}
	if (end - p < 8 || strncmp(p, "CONFIG_", 7) != 0)
		return -EINVAL;
	start = p + 7;
	for (p = start; p < end && (isalnum((unsigned char)*p) || *p == '_'); p++)
		;
	n = (size_t)(p - start);
	if (n == 0 || n >= nlen || p == end || *p != '=')
		return -EINVAL;
	memcpy(name, start, n);
	name[n] = '\0';
	p++;
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	n = (size_t)(end - p);
	if (n >= vlen)
		n = vlen - 1;
	memcpy(value, p, n);
	value[n] = '\0';
	return 0;
}

/* The next setting at or after *text (comments and blank lines skipped), advancing *text past
 * it; false at the end of the text. */
static bool kconfig_next_setting(const char **text, char *name, size_t nlen, char *value, size_t vlen)
{
	while (**text) {
		const char *line = *text, *nl = strchr(line, '\n');
		size_t linelen = nl ? (size_t)(nl - line) : strlen(line);

		*text += linelen + (nl ? 1 : 0);
		if (kconfig_parse_line(line, linelen, name, nlen, value, vlen) == 0)
			return true;
	}
	return false;
}

int kconfig_value(const char *config_text, const char *name, char *value, size_t len)
{
	char n[128], v[512];

	while (kconfig_next_setting(&config_text, n, sizeof(n), v, sizeof(v))) {
		if (strcmp(n, name) == 0) {
			snprintf(value, len, "%s", v);
			return 0;
		}
	}
	snprintf(value, len, "n");
	return -ENOENT;
}

static const char *kconfig_basename(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Append "; unmet: A=n B=n" for the plain symbols of deps that are off in the final config. */
static void kconfig_unmet(const char *config_text, char *deps, size_t len)
{
	char copy[1024], unmet[512] = "";
	size_t used = 0;

	snprintf(copy, sizeof(copy), "%s", deps);
	for (char *p = copy; *p;) {
		char sym[128], value[64];
		size_t n = 0;

		while (*p && !(isupper((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_'))
			p++;
		while ((isupper((unsigned char)p[n]) || isdigit((unsigned char)p[n]) || p[n] == '_') &&
		       n < sizeof(sym) - 1)
			n++;
		if (!n)
			break;
		memcpy(sym, p, n);
		sym[n] = '\0';
		p += n;
		if (strcmp(sym, "m") == 0 || strcmp(sym, "y") == 0 || strcmp(sym, "n") == 0 ||
		    isdigit((unsigned char)sym[0]) || strstr(unmet, sym))
			continue;
		kconfig_value(config_text, sym, value, sizeof(value));
		if (strcmp(value, "n") == 0 && used < sizeof(unmet))
			used += (size_t)snprintf(unmet + used, sizeof(unmet) - used, " %s=n", sym);
	}
	if (unmet[0]) {
		size_t dl = strlen(deps);

		snprintf(deps + dl, len - dl, "; unmet:%s", unmet);
	}
}

/* Does any of texts[0..n) set NAME? Then it overrides an earlier fragment's line, as it does in
 * merge_config.sh, which applies the fragments in this order. */
static bool kconfig_set_in(char *const texts[], size_t n, const char *name)
{
	char value[512];

	for (size_t i = 0; i < n; i++)
		if (kconfig_value(texts[i], name, value, sizeof(value)) == 0)
			return true;
	return false;
}

static int kconfig_check_fragment(const char *config_text, char *const texts[], size_t nfragments,
				  size_t i, const char *fragment, const char *srctree, char *err,
				  size_t errlen)
{
	const char *text = texts[i];
	char name[128], want[512], got[512], deps[1024];

	while (kconfig_next_setting(&text, name, sizeof(name), want, sizeof(want))) {
		if (kconfig_set_in(texts + i + 1, nfragments - i - 1, name))
			continue;
		kconfig_value(config_text, name, got, sizeof(got));
		if (strcmp(want, got) == 0)
			continue;
		deps[0] = '\0';
		if (srctree && kconfig_depends(srctree, name, deps, sizeof(deps)) == 0)
			kconfig_unmet(config_text, deps, sizeof(deps));
		snprintf(err, errlen, "CONFIG_%s=%s from %s is not in the final .config (it is %s)%s%s",
			 name, want, kconfig_basename(fragment), got, deps[0] ? "; it depends on " : "",
			 deps);
		return -EINVAL;
	}
	return 0;
}

int kconfig_check(const char *config_text, char *const fragments[], size_t nfragments,
		  const char *srctree, char *err, size_t errlen)
{
	char **texts = calloc(nfragments ? nfragments : 1, sizeof(*texts));
	int rc = texts ? 0 : -ENOMEM;

	for (size_t i = 0; !rc && i < nfragments; i++) {
		rc = fsutil_read_file(fragments[i], KCONFIG_FRAGMENT_MAX, &texts[i], NULL);
		if (rc)
			snprintf(err, errlen, "%s: %s", fragments[i], strerror(-rc));
	}
	for (size_t i = 0; !rc && i < nfragments; i++)
		rc = kconfig_check_fragment(config_text, texts, nfragments, i, fragments[i], srctree,
					    err, errlen);
	for (size_t i = 0; texts && i < nfragments; i++)
		free(texts[i]);
	free(texts);
	return rc;
}

/* nftw has no user pointer: the search state lives here, guarded by the caller's single use. */
static __thread struct {
	const char *name;
	char *out;
	size_t len;
	int found;
} kconfig_search;

#define KCONFIG_IF_DEPTH 16

static void kconfig_append(const char *p, size_t n)
{
	size_t used = strlen(kconfig_search.out);

	snprintf(kconfig_search.out + used, kconfig_search.len - used, "%s(%.*s)", used ? " && " : "",
		 (int)n, p);
	kconfig_search.found = 1;
}

/* The symbol's own "depends on" lines, and the "if" blocks around it in the same file. */
static void kconfig_collect(const char *text)
{
	char want1[160], want2[160];
	const char *line = text;
	const char *ifs[KCONFIG_IF_DEPTH];
	size_t iflen[KCONFIG_IF_DEPTH];
	int depth = 0, in_block = 0;

	snprintf(want1, sizeof(want1), "config %s", kconfig_search.name);
	snprintf(want2, sizeof(want2), "menuconfig %s", kconfig_search.name);
	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t linelen = nl ? (size_t)(nl - line) : strlen(line);
		const char *p = line;
		size_t rest;

		while (p < line + linelen && (*p == ' ' || *p == '\t'))
			p++;
		rest = (size_t)(line + linelen - p);
		while (rest && isspace((unsigned char)p[rest - 1]))
			rest--;
		if (strncmp(p, "if ", 3) == 0 && rest > 3) {
			if (depth < KCONFIG_IF_DEPTH) {
				ifs[depth] = p + 3;
				iflen[depth] = rest - 3;
			}
			depth++;
		} else if (strncmp(p, "endif", 5) == 0 && depth > 0) {
			depth--;
		}
		if ((rest == strlen(want1) && strncmp(p, want1, rest) == 0) ||
		    (rest == strlen(want2) && strncmp(p, want2, rest) == 0)) {
			in_block = 1;
			for (int i = 0; i < depth && i < KCONFIG_IF_DEPTH; i++)
				kconfig_append(ifs[i], iflen[i]);
		} else if (in_block && (strncmp(p, "config ", 7) == 0 || strncmp(p, "menuconfig ", 11) == 0 ||
					strncmp(p, "endmenu", 7) == 0 || strncmp(p, "endchoice", 9) == 0 ||
					strncmp(p, "endif", 5) == 0 || strncmp(p, "menu ", 5) == 0 ||
					strncmp(p, "choice", 6) == 0 || strncmp(p, "source ", 7) == 0 ||
					strncmp(p, "if ", 3) == 0 || strncmp(p, "comment ", 8) == 0)) {
			in_block = 0;
		} else if (in_block && rest > 11 && strncmp(p, "depends on ", 11) == 0) {
			kconfig_append(p + 11, rest - 11);
		}
		line += linelen + (nl ? 1 : 0);
	}
}

static int kconfig_visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	const char *base = path + ftw->base;
	char *text = NULL;

	(void)st;
	if (type == FTW_D && (strcmp(base, ".git") == 0 || strcmp(base, "Documentation") == 0 ||
			      strcmp(base, "tools") == 0))
		return FTW_SKIP_SUBTREE;
	if (type != FTW_F || strncmp(base, "Kconfig", 7) != 0)
		return FTW_CONTINUE;
	if (fsutil_read_file(path, KCONFIG_FILE_MAX, &text, NULL) == 0) {
		if (strstr(text, kconfig_search.name))
			kconfig_collect(text);
		free(text);
	}
	return FTW_CONTINUE;
}

int kconfig_depends(const char *srctree, const char *name, char *out, size_t len)
{
	if (len == 0)
		return -EINVAL;
	out[0] = '\0';
	kconfig_search.name = name;
	kconfig_search.out = out;
	kconfig_search.len = len;
	kconfig_search.found = 0;
	if (nftw(srctree, kconfig_visit, 32, FTW_PHYS | FTW_ACTIONRETVAL) < 0)
		return -errno;
	return kconfig_search.found ? 0 : -ENOENT;
}
