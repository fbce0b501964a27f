/* cli_token.h - the bearer token the client sends: --token-file FILE or $TINYBOOT_TOKEN. */
#ifndef TINYBOOT_CLI_TOKEN_H
#define TINYBOOT_CLI_TOKEN_H

#include <stddef.h>

#define CLI_TOKEN_MAX 256

/* The token from file (its first line that is neither blank nor a '#' comment; "NAME TOKEN",
 * as in the daemon's api-tokens file, gives TOKEN), else from $TINYBOOT_TOKEN, else "". 0, or 2
 * (usage) with the reason on stderr. */
int cli_token_get(const char *file, char out[CLI_TOKEN_MAX + 1]);

#endif
