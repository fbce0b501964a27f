/* cli_machine.h - `tinyboot machine NAME [next VARIANT | local | clear]`. */
#ifndef TINYBOOT_CLI_MACHINE_H
#define TINYBOOT_CLI_MACHINE_H

#include "cli/cli.h"

/* Without sub: NAME's entry of /api/v1/machines (its last boot and "next"). With sub "next" and
 * what: VARIANT (once), "local" (until cleared) or "clear". 0 on success, 1 on a refusal or
 * failure (the daemon's reason on stderr), 2 on bad usage. */
int cli_machine(const struct cli *cli, const char *name, const char *sub, const char *what);

#endif
