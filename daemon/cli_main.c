/* cli_main.c - the `tinyboot` command-line client; every transfer goes through libcurl. */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLI_DEFAULT_SERVER "http://127.0.0.1:8080"

struct cli {
	const char *server;
	const char *output;
};

static void cli_usage(FILE *out)
{
	fprintf(out,
		"usage: tinyboot [--server URL] COMMAND [ARGS]\n\n"
		"commands:\n"
		"  version              the daemon's version (JSON)\n"
		"  health               the daemon's health (JSON); exit 0 when healthy\n"
		"  get PATH [-o FILE]   download PATH (e.g. /payloads/x) to FILE or stdout\n\n"
		"The server defaults to $TINYBOOT_SERVER or " CLI_DEFAULT_SERVER ".\n");
}

/* GET server+path into `out`; returns the HTTP status, or -1 with the curl error printed. */
static long cli_get(const struct cli *cli, const char *path, FILE *out)
{
	char url[4096], errbuf[CURL_ERROR_SIZE] = "";
	long status = -1;
	CURLcode rc;
	CURL *curl;
	int n;

	n = snprintf(url, sizeof(url), "%s%s", cli->server, path);
	if (n < 0 || (size_t)n >= sizeof(url)) {
		fprintf(stderr, "tinyboot: URL too long\n");
		return -1;
	}
	curl = curl_easy_init();
	if (!curl)
		return -1;
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	rc = curl_easy_perform(curl);
	if (rc != CURLE_OK)
		fprintf(stderr, "tinyboot: %s: %s\n", url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
	else
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(curl);
	return status;
}

static int cli_simple(const struct cli *cli, const char *path)
{
	long status = cli_get(cli, path, stdout);

	return status >= 200 && status < 300 ? 0 : 1;
}

static int cli_download(const struct cli *cli, const char *path)
{
	FILE *out = stdout;
	long status;

	if (path[0] != '/') {
		fprintf(stderr, "tinyboot: get: PATH must start with '/'\n");
		return 2;
	}
	if (cli->output) {
		out = fopen(cli->output, "wbe");
		if (!out) {
			fprintf(stderr, "tinyboot: %s: %s\n", cli->output, strerror(errno));
			return 1;
		}
	}
	status = cli_get(cli, path, out);
	if (out != stdout && fclose(out) != 0) {
		fprintf(stderr, "tinyboot: %s: %s\n", cli->output, strerror(errno));
		return 1;
	}
	if (status < 200 || status >= 300) {
		if (status > 0)
			fprintf(stderr, "tinyboot: %s: HTTP %ld\n", path, status);
		if (cli->output)
			remove(cli->output);
		return 1;
	}
	return 0;
}

/* Options may come before or after the command: tinyboot get /x -o file. */
static int cli_parse(struct cli *cli, int argc, char *argv[], const char **cmd, const char **arg)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **slot = NULL;

		if (strcmp(a, "-s") == 0 || strcmp(a, "--server") == 0)
			slot = &cli->server;
		else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0)
			slot = &cli->output;
		else if (strncmp(a, "--server=", 9) == 0)
			cli->server = a + 9;
		else if (strncmp(a, "--output=", 9) == 0)
			cli->output = a + 9;
		else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
			return 1;
		else if (a[0] == '-' && a[1] != '\0')
			return -1;
		else if (!*cmd)
			*cmd = a;
		else if (!*arg)
			*arg = a;
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
	const char *cmd = NULL, *arg = NULL;
	int rc;

	if (!cli.server || !*cli.server)
		cli.server = CLI_DEFAULT_SERVER;
	rc = cli_parse(&cli, argc, argv, &cmd, &arg);
	if (rc) {
		cli_usage(rc > 0 ? stdout : stderr);
		return rc > 0 ? 0 : 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (strcmp(cmd, "version") == 0 && !arg) {
		rc = cli_simple(&cli, "/api/v1/version");
	} else if (strcmp(cmd, "health") == 0 && !arg) {
		rc = cli_simple(&cli, "/healthz");
	} else if (strcmp(cmd, "get") == 0 && arg) {
		rc = cli_download(&cli, arg);
	} else {
		cli_usage(stderr);
		rc = 2;
	}
	curl_global_cleanup();
	return rc;
}
