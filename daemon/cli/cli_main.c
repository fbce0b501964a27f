/* cli_main.c - the `tinyboot` command-line client; every transfer goes through libcurl. */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLI_DEFAULT_SERVER "http://127.0.0.1:8080"


static void cli_usage(FILE *out)
{
	fprintf(out,
		"usage: tinyboot [--server URL] COMMAND [ARGS]\n\n"
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
		"                       base a delta needs is not built (--build builds them first)\n\n"
		"The server defaults to $TINYBOOT_SERVER or " CLI_DEFAULT_SERVER ".\n");
}

/* GET server+path into `out`; returns the HTTP status, or -1 with the curl error printed. */
long cli_get(const struct cli *cli, const char *path, FILE *out)
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

int cli_download(const struct cli *cli, const char *path)
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


static size_t cli_buf_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct cli_buf *b = arg;
	size_t n = size * nmemb;
	char *grown;

	if (b->len + n > (16 << 20))
		return 0; /* API answers are small; refuse anything absurd */
	grown = realloc(b->data, b->len + n + 1);
	if (!grown)
		return 0;
	memcpy(grown + b->len, ptr, n);
	b->data = grown;
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

/* One API call; the body lands in out (NUL-terminated). Returns the status or -1. */
long cli_api(const struct cli *cli, const char *path, const char *post, struct cli_buf *out)
{
	char url[4096], errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers = NULL;
	long status = -1;
	CURLcode rc;
	CURL *curl;

	free(out->data);
	out->data = NULL;
	out->len = 0;
	if (snprintf(url, sizeof(url), "%s%s", cli->server, path) >= (int)sizeof(url))
		return -1;
	curl = curl_easy_init();
	if (!curl)
		return -1;
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, cli_buf_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	if (post) {
		headers = curl_slist_append(headers, "Content-Type: application/json");
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, post);
	}
	rc = curl_easy_perform(curl);
	if (rc != CURLE_OK)
		fprintf(stderr, "tinyboot: %s: %s\n", url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
	else
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	if (!out->data) {
		out->data = strdup("");
		out->len = 0;
	}
	return status;
}

static void cli_progress(json_t *b, bool tty, double *last_print)
{
	const char *state = json_string_value(json_object_get(b, "state"));
	const char *step = json_string_value(json_object_get(b, "step"));
	json_t *p = json_object_get(b, "progress");
	long done = (long)json_integer_value(json_object_get(p, "objects_done"));
	long expected = (long)json_integer_value(json_object_get(p, "objects_expected"));
	double elapsed = json_number_value(json_object_get(b, "elapsed_s"));
	int pct = expected > 0 ? (int)(done * 100 / expected) : 0;

	if (pct > 99 && state && strcmp(state, "done") != 0)
		pct = 99;
	if (tty) {
		char bar[31];
		int fill = pct * 30 / 100;

		memset(bar, '#', (size_t)fill);
		memset(bar + fill, '.', (size_t)(30 - fill));
		bar[30] = '\0';
		fprintf(stderr, "\r[%s] %3d%% %-14s %5ld/%-5ld %6.0fs ", bar, pct, step ? step : "",
			done, expected, elapsed);
	} else if (elapsed - *last_print >= 10 || *last_print < 0) {
		fprintf(stderr, "%s: %s, %ld/%ld objects, %.0f s\n", state ? state : "?",
			step ? step : "", done, expected, elapsed);
		*last_print = elapsed;
	}
}

/* POST the build, then poll it until done or failed. Returns 0 when built. */
int cli_build(const struct cli *cli, const char *variant, bool retry, char *artifact, size_t alen)
{
	struct cli_buf buf = { 0 };
	char post[512], path[256], id[65] = "";
	bool tty = isatty(2);
	double last = -1;
	json_t *b = NULL;
	long status;
	int rc = 1;

	json_t *req = json_pack("{s:s, s:b}", "variant", variant, "retry", retry);
	char *body = json_dumps(req, JSON_COMPACT);

	json_decref(req);
	snprintf(post, sizeof(post), "%s", body ? body : "{}");
	free(body);
	status = cli_api(cli, "/api/v1/builds", post, &buf);
	for (;;) {
		if (status != 200 && status != 202) {
			if (status > 0)
				fprintf(stderr, "tinyboot: %s", buf.data);
			break;
		}
		json_decref(b);
		b = json_loads(buf.data, 0, NULL);
		const char *state = json_string_value(json_object_get(b, "state"));

		if (!b || !state) {
			fprintf(stderr, "tinyboot: unexpected answer: %s\n", buf.data);
			break;
		}
		if (!id[0])
			snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(b, "id")));
		cli_progress(b, tty, &last);
		if (strcmp(state, "done") == 0) {
			if (tty)
				fputc('\n', stderr);
			snprintf(artifact, alen, "%s", json_string_value(json_object_get(b, "artifact")));
			fprintf(stderr, "%s: built, artifact %s\n", variant, artifact);
			rc = 0;
			break;
		}
		if (strcmp(state, "failed") == 0) {
			if (tty)
				fputc('\n', stderr);
			fprintf(stderr, "tinyboot: build of %s failed: %s\n--- last lines of build.log ---\n%s\n",
				variant, json_string_value(json_object_get(b, "error")),
				json_string_value(json_object_get(b, "log_tail")));
			break;
		}
		sleep(1);
		snprintf(path, sizeof(path), "/api/v1/builds/%s", id);
		status = cli_api(cli, path, NULL, &buf);
	}
	json_decref(b);
	free(buf.data);
	return rc;
}

static int cli_fetch(struct cli *cli, const char *variant, bool retry)
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
	rc = cli_build(cli, variant, retry, artifact, sizeof(artifact));
	if (rc)
		return rc;
	for (size_t i = 0; i < 3; i++) {
		/* the content-addressed URL: what was just built, whatever happens to the name */
		snprintf(path, sizeof(path), "/artifacts/%s/%s", artifact, files[i]);
		snprintf(out, sizeof(out), "%s/%s", dir, files[i]);
		cli->output = out;
		rc = cli_download(cli, path);
		if (rc)
			break;
		printf("%s\n", out);
	}
	cli->output = dir;
	return rc;
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
	} else if (strcmp(cmd, "build") == 0 && arg) {
		char artifact[128];

		rc = cli_build(&cli, arg, cli.retry, artifact, sizeof(artifact));
	} else if (strcmp(cmd, "fetch") == 0 && arg) {
		rc = cli_fetch(&cli, arg, cli.retry);
	} else if (strcmp(cmd, "boot") == 0 && arg) {
		rc = cli_boot(&cli, arg);
	} else if (strcmp(cmd, "size") == 0 && arg) {
		rc = cli_size(&cli, arg);
	} else {
		cli_usage(stderr);
		rc = 2;
	}
	curl_global_cleanup();
	return rc;
}
