/* cli_machine.h - `tinyboot machine NAME [next VARIANT | local | clear]`. */
#ifndef TINYBOOT_CLI_MACHINE_H
#define TINYBOOT_CLI_MACHINE_H

#include <jansson.h>

#include "cli/cli.h"
#include "cli/cli_http.h"

/* Without sub: NAME's entry of /api/v1/machines (its last boot and "next"). With sub "next" and
 * what: VARIANT (once), "local" (until cleared) or "clear". 0 on success, 1 on a refusal or
 * failure (the daemon's reason on stderr), 2 on bad usage. */
int cli_machine(const struct cli *cli, const char *name, const char *sub, const char *what);

/* Every page of GET /api/v1/machines merged into one object keyed by machine name, or NULL with
 * status set to the HTTP status of the page that failed (0: no answer or no JSON) and buf holding
 * its body. buf holds the last page's body on success too; the caller frees it. */
json_t *cli_machines_all(const struct cli *cli, struct cli_http_buf *buf, long *status);

#endif
