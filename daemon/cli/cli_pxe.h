/* cli_pxe.h - `tinyboot pxe-config`: the dnsmasq lines of the daemon's PXE service. */
#ifndef TINYBOOT_CLI_PXE_H
#define TINYBOOT_CLI_PXE_H

#include "cli/cli.h"

/* Print GET /api/v1/pxe/config on stdout. Exit code: 0 printed; 1 the daemon says why not
 * (its message on stderr: 409 with pxe = off and no pxe-interface) or cannot be reached. */
int cli_pxe_config(const struct cli *cli);

#endif
