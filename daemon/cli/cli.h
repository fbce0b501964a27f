/* cli.h - the options of one `tinyboot` run, as main parsed them; every command reads them. */
#ifndef TINYBOOT_CLI_H
#define TINYBOOT_CLI_H

#include <stdbool.h>

struct cli {
	const char *server;
	const char *output;
	const char *token_file; /* --token-file; the token itself goes to cli_http_init */
	bool retry;
	/* boot */
	const char *nic, *arch, *mac, *timeout;
	bool ipxe, shell;
	/* size */
	const char *top;
	bool json, build;
	/* gc */
	bool dry_run;
};

#endif
