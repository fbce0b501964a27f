/* cli_main.c - the `tinyboot` command-line client: parse the flags, run one command. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_boot.h"
#include "cli/cli_build.h"
#include "cli/cli_fetch.h"
#include "cli/cli_gc.h"
#include "cli/cli_http.h"
#include "cli/cli_machine.h"
#include "cli/cli_pxe.h"
#include "cli/cli_size.h"
#include "cli/cli_token.h"

#define CLI_DEFAULT_SERVER "http://127.0.0.1:8080"

static void cli_main_usage(FILE *out)
{
	fprintf(out,
		"usage: tinyboot [--server URL] [--token-file FILE] COMMAND [ARGS]\n\n"
		"commands:\n"
		"  version              the daemon's version (JSON)\n"
		"  health               the daemon's health (JSON); exit 0 when healthy\n"
		"  get PATH [-o FILE]   download PATH (e.g. /payloads/x) to FILE or stdout\n"
		"  build VARIANT        build VARIANT (e.g. net+debug), show progress; --retry after a failure\n"
		"  fetch VARIANT -o DIR download VARIANT's bzImage, initrd and cmdline into DIR\n"
		"  boot VARIANT [--nic e1000|virtio] [--arch i386|x86_64] [--mac MAC] [--ipxe] [--shell]\n"
		"                       [--timeout S]: build, boot in QEMU, show the console; exit 0 when\n"
		"                       the guest reports every payload ok, 1 when it reports a failure,\n"
		"                       3 when no report came in time\n"
		"  size VARIANT [--top N] [--json] [--build]\n"
		"                       the kernel's sections, its N largest symbols (default 20) and what\n"
		"                       each extra fragment adds over the recipe; exit 1 when VARIANT or a\n"
		"                       base a delta needs is not built (--build builds them first)\n"
		"  pxe-config           the dnsmasq lines of the daemon's PXE service (with pxe = off:\n"
		"                       for a dnsmasq of your own, once pxe-interface is set)\n"
		"  machine NAME         NAME's last boot and what it boots next (JSON)\n"
		"  machine NAME next VARIANT | local | clear\n"
		"                       NAME's next boot uses VARIANT once; or boots from its local disk\n"
		"                       until cleared; or is again as machines.conf says\n"
		"  gc [--dry-run] [--json]\n"
		"                       evict what cache-max-size and keep-builds let go (or only show\n"
		"                       it): each artifact, kernel and busybox object, and the bytes freed\n"
		"  pin NAME             keep an artifact (its hash) or a variant's current build cached\n"
		"  unpin NAME           let it be evicted again\n\n"
		"The server defaults to $TINYBOOT_SERVER or " CLI_DEFAULT_SERVER ".\n"
		"Every request carries Authorization: Bearer TOKEN when --token-file FILE (its first\n"
		"line, or NAME TOKEN) or $TINYBOOT_TOKEN gives one: the daemon's api-tokens.\n");
}

/* version, health: the answer on stdout; exit 0 on 2xx. */
static int cli_main_show(const struct cli *cli, const char *path)
{
	long status = cli_http_get(cli->server, path, stdout);

	return status >= 200 && status < 300 ? 0 : 1;
}

/* Options may come before or after the command: tinyboot get /x -o file. 0 parsed, 1 help
 * asked for, -1 bad usage. */
static int cli_main_parse(struct cli *cli, int argc, char *argv[], const char **cmd, const char **arg,
			  const char *more[2])
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **slot = NULL;

		if (strcmp(a, "-s") == 0 || strcmp(a, "--server") == 0)
			slot = &cli->server;
		else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0)
			slot = &cli->output;
		else if (strcmp(a, "--token-file") == 0)
			slot = &cli->token_file;
		else if (strncmp(a, "--token-file=", 13) == 0)
			cli->token_file = a + 13;
		else if (strncmp(a, "--server=", 9) == 0)
			cli->server = a + 9;
		else if (strncmp(a, "--output=", 9) == 0)
			cli->output = a + 9;
		else if (strcmp(a, "--retry") == 0)
			cli->retry = true;
		else if (strcmp(a, "--ipxe") == 0)
			cli->ipxe = true;
		else if (strcmp(a, "--shell") == 0)
			cli->shell = true;
		else if (strcmp(a, "--nic") == 0)
			slot = &cli->nic;
		else if (strcmp(a, "--arch") == 0)
			slot = &cli->arch;
		else if (strcmp(a, "--mac") == 0)
			slot = &cli->mac;
		else if (strcmp(a, "--timeout") == 0)
			slot = &cli->timeout;
		else if (strcmp(a, "--top") == 0)
			slot = &cli->top;
		else if (strcmp(a, "--json") == 0)
			cli->json = true;
		else if (strcmp(a, "--build") == 0)
			cli->build = true;
		else if (strcmp(a, "--dry-run") == 0)
			cli->dry_run = true;
		else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
			return 1;
		else if (a[0] == '-' && a[1] != '\0')
			return -1;
		else if (!*cmd)
			*cmd = a;
		else if (!*arg)
			*arg = a;
		else if (!more[0])
			more[0] = a;
		else if (!more[1])
			more[1] = a;
		else
			return -1;
		if (slot) {
			if (++i == argc)
				return -1;
			*slot = argv[i];
		}
	}
	return *cmd ? 0 : -1;
}

int main(int argc, char *argv[])
{
	struct cli cli = { .server = getenv("TINYBOOT_SERVER") };
	const char *cmd = NULL, *arg = NULL, *more[2] = { NULL, NULL };
	char token[CLI_TOKEN_MAX + 1];
	int rc;

	if (!cli.server || !*cli.server)
		cli.server = CLI_DEFAULT_SERVER;
	rc = cli_main_parse(&cli, argc, argv, &cmd, &arg, more);
	if (rc) {
		cli_main_usage(rc > 0 ? stdout : stderr);
		return rc > 0 ? 0 : 2;
	}
	rc = cli_token_get(cli.token_file, token);
	if (rc)
		return rc;
	cli_http_init(token);
	memset(token, 0, sizeof(token));
	if (more[0] && strcmp(cmd, "machine") != 0) {
		/* only `machine NAME next WHAT` takes more than one argument */
		cli_main_usage(stderr);
		rc = 2;
	} else if (strcmp(cmd, "machine") == 0 && arg) {
		rc = cli_machine(&cli, arg, more[0], more[1]);
	} else if (strcmp(cmd, "version") == 0 && !arg) {
		rc = cli_main_show(&cli, "/api/v1/version");
	} else if (strcmp(cmd, "health") == 0 && !arg) {
		rc = cli_main_show(&cli, "/healthz");
	} else if (strcmp(cmd, "get") == 0 && arg) {
		rc = cli_http_download(cli.server, arg, cli.output);
	} else if (strcmp(cmd, "build") == 0 && arg) {
		rc = cli_build(&cli, arg);
	} else if (strcmp(cmd, "fetch") == 0 && arg) {
		rc = cli_fetch(&cli, arg);
	} else if (strcmp(cmd, "boot") == 0 && arg) {
		rc = cli_boot(&cli, arg);
	} else if (strcmp(cmd, "size") == 0 && arg) {
		rc = cli_size(&cli, arg);
	} else if (strcmp(cmd, "gc") == 0 && !arg) {
		rc = cli_gc(&cli);
	} else if ((strcmp(cmd, "pin") == 0 || strcmp(cmd, "unpin") == 0) && arg) {
		rc = cli_gc_pin(&cli, arg, strcmp(cmd, "pin") == 0);
	} else if (strcmp(cmd, "pxe-config") == 0 && !arg) {
		rc = cli_pxe_config(&cli);
	} else {
		cli_main_usage(stderr);
		rc = 2;
	}
	cli_http_cleanup();
	return rc;
}
