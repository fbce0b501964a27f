/* cli_build.h - `tinyboot build`, and the build-and-follow step fetch, boot and size share. */
#ifndef TINYBOOT_CLI_BUILD_H
#define TINYBOOT_CLI_BUILD_H

#include <stddef.h>

#include "cli/cli.h"

/* Ask the daemon for VARIANT (cli->retry after a failure) and follow the build to its end,
 * showing progress on stderr. 0 when built (artifact filled), 1 otherwise (reported here). */
int cli_build_follow(const struct cli *cli, const char *variant, char *artifact, size_t alen);
/* The `build` command: exit code 0 when built, 1 when not. */
int cli_build(const struct cli *cli, const char *variant);

#endif
