/* cli_build.c - `tinyboot build`: POST the build, then poll it and show its progress to the end. */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli_build.h"
#include "cli/cli_http.h"

/* A bar on a terminal; elsewhere (logs, CI) one line every 10 s. */
static void cli_build_progress(json_t *b, bool tty, double *last_print)
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

int cli_build_follow(const struct cli *cli, const char *variant, char *artifact, size_t alen)
{
	struct cli_http_buf buf = { 0 };
	char post[512], path[256], id[65] = "";
	bool tty = isatty(2);
	double last = -1;
	json_t *b = NULL;
	long status;
	int rc = 1;

	json_t *req = json_pack("{s:s, s:b}", "variant", variant, "retry", cli->retry);
	char *body = json_dumps(req, JSON_COMPACT);

	json_decref(req);
	snprintf(post, sizeof(post), "%s", body ? body : "{}");
	free(body);
	status = cli_http_api(cli->server, "/api/v1/builds", post, &buf);
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
		cli_build_progress(b, tty, &last);
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
		status = cli_http_api(cli->server, path, NULL, &buf);
	}
	json_decref(b);
	cli_http_buf_free(&buf);
	return rc;
}

int cli_build(const struct cli *cli, const char *variant)
{
	char artifact[128];

	return cli_build_follow(cli, variant, artifact, sizeof(artifact));
}
