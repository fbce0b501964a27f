/* cli_gc.c - `tinyboot gc [--dry-run]` and `tinyboot pin|unpin NAME`: the cache's retention. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_gc.h"
#include "cli/cli_http.h"

static void cli_gc_refused(const char *what, long status, const struct cli_http_buf *buf)
{
	if (status > 0)
		fprintf(stderr, "tinyboot: %s: HTTP %ld: %s%s", what, status, buf->data ? buf->data : "",
			buf->len && buf->data[buf->len - 1] == '\n' ? "" : "\n");
}

static void cli_gc_print(const json_t *answer, bool dry_run)
{
	const json_t *removed = json_object_get(answer, "removed"), *it;
	size_t i;

	json_array_foreach(removed, i, it) {
		const char *variant = json_string_value(json_object_get(it, "variant"));

		printf("%s %-8s %s %12lld bytes  %s%s%s\n", dry_run ? "would remove" : "removed",
		       json_string_value(json_object_get(it, "kind")),
		       json_string_value(json_object_get(it, "hash")),
		       (long long)json_integer_value(json_object_get(it, "bytes")),
		       json_string_value(json_object_get(it, "reason")), variant ? " " : "",
		       variant ? variant : "");
	}
	printf("%s %lld objects, %lld bytes\n", dry_run ? "would free" : "freed",
	       (long long)json_integer_value(json_object_get(answer, "removed_objects")),
	       (long long)json_integer_value(json_object_get(answer, "freed_bytes")));
}

int cli_gc(const struct cli *cli)
{
	struct cli_http_buf buf = { 0 };
	const char *body = cli->dry_run ? "{\"dry_run\": true}" : "{}";
	json_t *answer;
	long status;

	status = cli_http_api(cli->server, "/api/v1/gc", body, &buf);
	if (status != 200) {
		cli_gc_refused("gc", status, &buf);
		cli_http_buf_free(&buf);
		return 1;
	}
	if (cli->json) {
		fwrite(buf.data, 1, buf.len, stdout);
		cli_http_buf_free(&buf);
		return 0;
	}
	answer = json_loads(buf.data, 0, NULL);
	cli_http_buf_free(&buf);
	if (!answer) {
		fprintf(stderr, "tinyboot: gc: the answer is not JSON\n");
		return 1;
	}
	cli_gc_print(answer, cli->dry_run);
	json_decref(answer);
	return 0;
}

int cli_gc_pin(const struct cli *cli, const char *name, bool pin)
{
	struct cli_http_buf buf = { 0 };
	char escaped[600], path[700];
	long status;

	if (cli_http_escape(name, escaped, sizeof(escaped)) ||
	    snprintf(path, sizeof(path), "/api/v1/pins/%s", escaped) >= (int)sizeof(path)) {
		fprintf(stderr, "tinyboot: pin name too long\n");
		return 2;
	}
	status = cli_http_api_method(cli->server, path, pin ? "PUT" : "DELETE", NULL, &buf);
	if (status == 200)
		printf("%s %s\n", pin ? "pinned" : "unpinned", name);
	else
		cli_gc_refused(pin ? "pin" : "unpin", status, &buf);
	cli_http_buf_free(&buf);
	return status == 200 ? 0 : 1;
}
