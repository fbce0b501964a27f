/* cli_token.c - the bearer token the client sends: --token-file FILE or $TINYBOOT_TOKEN. */
#include "cli/cli_token.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A token is one word of visible ASCII; anything else would break the header. */
static int cli_token_set(const char *from, const char *s, size_t len, char out[CLI_TOKEN_MAX + 1])
{
	if (len == 0 || len > CLI_TOKEN_MAX) {
		fprintf(stderr, "tinyboot: %s: the token must be 1-%d characters\n", from, CLI_TOKEN_MAX);
		return 2;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] <= ' ' || s[i] > '~') {
			fprintf(stderr, "tinyboot: %s: the token must be one word of visible ASCII\n", from);
			return 2;
		}
	}
	memcpy(out, s, len);
	out[len] = '\0';
	return 0;
}

static int cli_token_file(const char *file, char out[CLI_TOKEN_MAX + 1])
{
	char line[1024];
	FILE *f = fopen(file, "re");
	int rc = -1;

	if (!f) {
		fprintf(stderr, "tinyboot: --token-file %s: %s\n", file, strerror(errno));
		return 2;
	}
	while (rc < 0 && fgets(line, sizeof(line), f)) {
		char *s = line + strspn(line, " \t"), *word;
		size_t len = strcspn(s, "\r\n");

		while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		s[len] = '\0';
		if (!*s || *s == '#')
			continue;
		/* NAME TOKEN: the last word */
		word = strrchr(s, ' ');
		if (!word || (strrchr(s, '\t') && strrchr(s, '\t') > word))
			word = strrchr(s, '\t');
		word = word ? word + 1 : s;
		rc = cli_token_set(file, word, strlen(word), out);
	}
	fclose(f);
	if (rc < 0) {
		fprintf(stderr, "tinyboot: --token-file %s: no token in it\n", file);
		return 2;
	}
	return rc;
}

int cli_token_get(const char *file, char out[CLI_TOKEN_MAX + 1])
{
	const char *env = getenv("TINYBOOT_TOKEN");

	out[0] = '\0';
	if (file)
		return cli_token_file(file, out);
	if (env && *env)
		return cli_token_set("TINYBOOT_TOKEN", env, strlen(env), out);
	return 0;
}
