/* cli_boot.h - `tinyboot boot`: a variant booted in QEMU, judged by the guest's report. */
#ifndef TINYBOOT_CLI_BOOT_H
#define TINYBOOT_CLI_BOOT_H

#include "cli/cli.h"

/* Exit code: 0 every payload ok, 1 a failure reported (or the build failed), 2 bad flags,
 * 3 no report within --timeout. */
int cli_boot(const struct cli *cli, const char *variant);

#endif
