/* cli_fetch.c - `tinyboot fetch`: build a variant, then download its boot files into a directory. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli_build.h"
#include "cli/cli_fetch.h"
#include "cli/cli_http.h"

int cli_fetch(const struct cli *cli, const char *variant)
{
	static const char *const files[] = { "bzImage", "initrd", "cmdline" };
	char artifact[128], path[512], out[4096];
	const char *dir = cli->output;
	int rc;

	if (!dir) {
		fprintf(stderr, "tinyboot: fetch needs -o DIR\n");
		return 2;
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "tinyboot: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	rc = cli_build_follow(cli, variant, artifact, sizeof(artifact));
	if (rc)
		return rc;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		/* the content-addressed URL: what was just built, whatever happens to the name */
		snprintf(path, sizeof(path), "/artifacts/%s/%s", artifact, files[i]);
		snprintf(out, sizeof(out), "%s/%s", dir, files[i]);
		rc = cli_http_download(cli->server, path, out);
		if (rc)
			break;
		printf("%s\n", out);
	}
	return rc;
}
