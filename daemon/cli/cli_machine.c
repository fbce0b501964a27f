/* cli_machine.c - `tinyboot machine NAME`: show a machine, or set or clear what it boots next. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_http.h"
#include "cli/cli_machine.h"

static void cli_machine_refused(const char *name, long status, const struct cli_http_buf *buf)
{
	if (status > 0)
		fprintf(stderr, "tinyboot: machine %s: HTTP %ld: %s%s", name, status, buf->data,
			buf->len && buf->data[buf->len - 1] == '\n' ? "" : "\n");
}

/* The daemon pages the list (1000 machines a page, the last name on a page is the cursor): a
 * page shorter than that is the last one. The page count is bounded so a daemon that keeps
 * answering full pages cannot keep the CLI forever. */
#define CLI_MACHINES_PAGE 1000
#define CLI_MACHINES_PAGES_MAX 10000

json_t *cli_machines_all(const struct cli *cli, struct cli_http_buf *buf, long *status)
{
	char after[256] = "", path[400];
	json_t *all = json_object();

	for (unsigned page = 0; all && page < CLI_MACHINES_PAGES_MAX; page++) {
		const char *key, *last = NULL;
		json_t *got, *m;
		size_t n;

		snprintf(path, sizeof(path), "/api/v1/machines?limit=%d%s%s", CLI_MACHINES_PAGE,
			 after[0] ? "&after=" : "", after);
		*status = cli_http_api(cli->server, path, NULL, buf);
		got = *status == 200 ? json_loads(buf->data, 0, NULL) : NULL;
		if (!json_is_object(got)) {
			*status = *status == 200 ? 0 : *status;
			json_decref(got);
			break;
		}
		n = json_object_size(got);
		json_object_foreach(got, key, m) {
			if (!last || strcmp(key, last) > 0)
				last = key;
		}
		json_object_update(all, got);
		if (n < CLI_MACHINES_PAGE || !last || cli_http_escape(last, after, sizeof(after))) {
			json_decref(got);
			return all;
		}
		json_decref(got);
	}
	json_decref(all);
	return NULL;
}

/* NAME's entry of the machine list; a machine that is unknown there (never booted, not in
 * machines.conf) is asked about directly, which says why it is unknown. */
static int cli_machine_show(const struct cli *cli, const char *name, const char *path)
{
	struct cli_http_buf buf = { 0 };
	json_t *all, *m;
	long status;
	char *text;

	all = cli_machines_all(cli, &buf, &status);
	if (!all) {
		cli_machine_refused(name, status, &buf);
		cli_http_buf_free(&buf);
		return 1;
	}
	m = json_object_get(all, name);
	if (!m) {
		json_decref(all);
		status = cli_http_api(cli->server, path, NULL, &buf);
		if (status == 200)
			fwrite(buf.data, 1, buf.len, stdout);
		else
			cli_machine_refused(name, status, &buf);
		cli_http_buf_free(&buf);
		return status == 200 ? 0 : 1;
	}
	text = json_dumps(m, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (text)
		printf("%s\n", text);
	free(text);
	json_decref(all);
	cli_http_buf_free(&buf);
	return text ? 0 : 1;
}

int cli_machine(const struct cli *cli, const char *name, const char *sub, const char *what)
{
	struct cli_http_buf buf = { 0 };
	char escaped[256], path[512], *body = NULL;
	const char *method = "PUT";
	long status;
	json_t *req;

	if (cli_http_escape(name, escaped, sizeof(escaped)) ||
	    snprintf(path, sizeof(path), "/api/v1/machines/%s/next", escaped) >= (int)sizeof(path)) {
		fprintf(stderr, "tinyboot: machine name too long\n");
		return 2;
	}
	if (!sub)
		return cli_machine_show(cli, name, path);
	if (strcmp(sub, "next") != 0 || !what) {
		fprintf(stderr, "usage: tinyboot machine NAME [next VARIANT | next local | next clear]\n");
		return 2;
	}
	if (strcmp(what, "clear") == 0) {
		method = "DELETE";
	} else {
		req = strcmp(what, "local") == 0 ? json_pack("{s:s}", "action", "local") : json_pack("{s:s}", "variant", what);
		body = json_dumps(req, JSON_COMPACT);
		json_decref(req);
		if (!body) {
			fprintf(stderr, "tinyboot: out of memory\n");
			return 1;
		}
	}
	status = cli_http_api_method(cli->server, path, method, body, &buf);
	free(body);
	if (status == 200)
		fwrite(buf.data, 1, buf.len, stdout);
	else
		cli_machine_refused(name, status, &buf);
	cli_http_buf_free(&buf);
	return status == 200 ? 0 : 1;
}
