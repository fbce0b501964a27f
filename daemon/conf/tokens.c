/* tokens.c - read the api-tokens file and match a bearer token against it in constant time. */
#include "conf/tokens.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/conffile.h"
#include "lib/names.h"

struct tokens_entry {
	char name[TOKENS_NAME_MAX + 1];
	char token[TOKENS_TOKEN_MAX]; /* zero-padded: every comparison reads all of it */
	size_t len;
};

struct tokens {
	size_t n;
	struct tokens_entry v[TOKENS_MAX];
};

bool tokens_token_valid(const char *s, size_t len)
{
	size_t i = 0;

	if (len == 0 || len > TOKENS_TOKEN_MAX)
		return false;
	while (i < len && s[i] && (names_charset((char[]){ s[i], '\0' }, 1, NAMES_ALNUM, NULL) ||
				   strchr("-._~+/", s[i])))
		i++;
	if (i == 0)
		return false;
	while (i < len && s[i] == '=')
		i++;
	return i == len;
}

static int tokens_line(struct conffile *cf, char *line, void *arg)
{
	struct tokens *t = arg;
	struct tokens_entry *e;
	char *name = line, *token, *rest, shown[CONFFILE_SHOWN_MAX + 4];
	size_t len;

	token = line + strcspn(line, " \t");
	if (*token)
		*token++ = '\0';
	token += strspn(token, " \t");
	rest = token + strcspn(token, " \t");
	if (!*token || *(rest + strspn(rest, " \t")))
		return conffile_error(cf, "expected 'NAME TOKEN'");
	*rest = '\0';
	if (!names_charset(name, TOKENS_NAME_MAX, NAMES_ALNUM, "._-"))
		return conffile_error(cf, "name '%s' is not 1-%d of [A-Za-z0-9._-]",
				      conffile_shown(name, shown), TOKENS_NAME_MAX);
	len = strlen(token);
	/* the token itself never goes into a message: the log may be read by more people */
	if (len < TOKENS_TOKEN_MIN || len > TOKENS_TOKEN_MAX || !tokens_token_valid(token, len))
		return conffile_error(cf, "token of %s must be %d-%d characters of [A-Za-z0-9-._~+/] "
				      "(e.g. openssl rand -hex 32)", name, TOKENS_TOKEN_MIN, TOKENS_TOKEN_MAX);
	for (size_t i = 0; i < t->n; i++) {
		if (strcmp(t->v[i].name, name) == 0)
			return conffile_error(cf, "name %s appears twice", name);
		if (t->v[i].len == len && memcmp(t->v[i].token, token, len) == 0)
			return conffile_error(cf, "token of %s is also the token of %s", name, t->v[i].name);
	}
	if (t->n == TOKENS_MAX)
		return conffile_error(cf, "more than %d tokens", TOKENS_MAX);
	e = &t->v[t->n++];
	snprintf(e->name, sizeof(e->name), "%s", name);
	memcpy(e->token, token, len);
	e->len = len;
	return 0;
}

int tokens_load(const char *path, struct tokens **out, char *err, size_t errlen)
{
	struct conffile cf = { .path = path, .err = err, .errlen = errlen, .file_max = 1 << 20 };
	struct tokens *t;
	struct stat st;
	int rc;

	*out = NULL;
	if (stat(path, &st) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	if (S_ISREG(st.st_mode) && (st.st_mode & S_IRWXO)) {
		snprintf(err, errlen, "%s: others may read or write it (mode %04o): tokens are secrets, "
			 "chmod o-rwx %s", path, (unsigned)(st.st_mode & 07777), path);
		return -EINVAL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	rc = conffile_read(&cf, tokens_line, t);
	if (!rc && t->n == 0)
		rc = conffile_error_at(&cf, 0, "no tokens: every request that changes state would be refused");
	if (rc) {
		tokens_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

void tokens_free(struct tokens *t)
{
	if (!t)
		return;
	/* secrets do not outlive their use in freed memory */
	OPENSSL_cleanse(t, sizeof(*t));
	free(t);
}

size_t tokens_count(const struct tokens *t)
{
	return t ? t->n : 0;
}

const char *tokens_match(const struct tokens *t, const char *token, size_t len)
{
	char padded[TOKENS_TOKEN_MAX] = { 0 };
	const char *found = NULL;

	if (!t || len == 0 || len > TOKENS_TOKEN_MAX)
		return NULL;
	memcpy(padded, token, len);
	for (size_t i = 0; i < t->n; i++) {
		/* no early exit, no data-dependent branch inside the comparison */
		int same = CRYPTO_memcmp(padded, t->v[i].token, TOKENS_TOKEN_MAX) == 0 && t->v[i].len == len;

		if (same)
			found = t->v[i].name;
	}
	OPENSSL_cleanse(padded, sizeof(padded));
	return found;
}
