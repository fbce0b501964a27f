/* cli.h - what the `tinyboot` commands share: the server, libcurl calls, builds. */
#ifndef TINYBOOT_CLI_H
#define TINYBOOT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct cli {
	const char *server;
	const char *output;
	bool retry;
	/* boot */
	const char *nic, *arch, *mac, *timeout;
	bool ipxe, shell;
	/* size */
	const char *top;
	bool json, build;
};

struct cli_buf {
	char *data;
	size_t len;
};

long cli_get(const struct cli *cli, const char *path, FILE *out);
/* GET path into cli->output (or stdout); 0 on 2xx, a partial file is removed. */
int cli_download(const struct cli *cli, const char *path);
/* One API call (POST when post is set); the body lands in out. Returns the status or -1. */
long cli_api(const struct cli *cli, const char *path, const char *post, struct cli_buf *out);
/* Ask for VARIANT and follow the build to its end. 0 when built (artifact filled). */
int cli_build(const struct cli *cli, const char *variant, bool retry, char *artifact, size_t alen);
/* cli_boot.c */
int cli_boot(struct cli *cli, const char *variant);
/* cli_size.c: 0 when everything asked for was shown, 1 when something is not built or broken. */
int cli_size(struct cli *cli, const char *variant);

#endif
