/* cli_fetch.h - `tinyboot fetch`: a variant's boot files into a directory. */
#ifndef TINYBOOT_CLI_FETCH_H
#define TINYBOOT_CLI_FETCH_H

#include "cli/cli.h"

/* Build VARIANT, then download its bzImage, initrd and cmdline into cli->output (a directory),
 * printing each path. Exit code: 0 done, 1 failed, 2 without -o. */
int cli_fetch(const struct cli *cli, const char *variant);

#endif
