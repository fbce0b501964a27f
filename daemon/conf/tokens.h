/* tokens.h - the api-tokens file: who may change things, as NAME TOKEN lines. */
#ifndef TINYBOOT_CONF_TOKENS_H
#define TINYBOOT_CONF_TOKENS_H

#include <stdbool.h>
#include <stddef.h>

#define TOKENS_NAME_MAX 64   /* [A-Za-z0-9._-] */
#define TOKENS_TOKEN_MIN 16  /* a shorter secret is guessed too easily */
#define TOKENS_TOKEN_MAX 256 /* RFC 6750 token68 characters */
#define TOKENS_MAX 1024      /* lines with a token */

struct tokens;

/*
 * Read FILE: one "NAME TOKEN" per line (white space between), '#' comments, blank lines. Names
 * and tokens are unique. The file must be a regular file that others (o) cannot read or write:
 * tokens are secrets (mode 0600 or 0640). 0, or -errno with "FILE:LINE: what" / "FILE: what".
 * A file without a single token is refused (-EINVAL): it would lock everyone out silently.
 */
int tokens_load(const char *path, struct tokens **out, char *err, size_t errlen);
void tokens_free(struct tokens *t);
size_t tokens_count(const struct tokens *t);
/* The name whose token is token[0..len), or NULL. Takes the same time whichever entry (if any)
 * matches and however much of a token is right: every entry is compared in full, in constant
 * time (CRYPTO_memcmp), with the candidate padded to TOKENS_TOKEN_MAX. */
const char *tokens_match(const struct tokens *t, const char *token, size_t len);
/* token68 (RFC 7235): 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=". */
bool tokens_token_valid(const char *s, size_t len);

#endif
