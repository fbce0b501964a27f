/* cli_gc.h - `tinyboot gc [--dry-run]`, `tinyboot pin NAME`, `tinyboot unpin NAME`. */
#ifndef TINYBOOT_CLI_GC_H
#define TINYBOOT_CLI_GC_H

#include "cli/cli.h"

/* Run retention (cli->dry_run: only show): one line per artifact or object removed, then the
 * totals; with --json the daemon's answer. 0 on success, 1 on a refusal or failure. */
int cli_gc(const struct cli *cli);
/* Pin (pin true) or unpin NAME, an artifact hash or a variant. 0, or 1 with the reason. */
int cli_gc_pin(const struct cli *cli, const char *name, bool pin);

#endif
