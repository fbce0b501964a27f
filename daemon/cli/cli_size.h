/* cli_size.h - `tinyboot size`: a built kernel by section and symbol, and what fragments add. */
#ifndef TINYBOOT_CLI_SIZE_H
#define TINYBOOT_CLI_SIZE_H

#include "cli/cli.h"

/* Exit code: 0 when everything asked for was shown, 1 when something is not built or broken,
 * 2 bad flags. */
int cli_size(const struct cli *cli, const char *variant);

#endif
