/* cli_size.c - `tinyboot size`: a built kernel by section and symbol, and what each fragment adds. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_build.h"
#include "cli/cli_http.h"
#include "cli/cli_size.h"

static long long cli_size_int(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

static const char *cli_size_str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "?";
}

/* GET /api/v1/images/VARIANT/size into buf; the HTTP status, or -1. */
static long cli_size_fetch(const struct cli *cli, const char *variant, struct cli_http_buf *buf)
{
	char path[1024], name[1024];
	int n = -1, rc;

	rc = cli_http_escape(variant, name, sizeof(name));
	if (rc == -ENOMEM)
		return -1;
	if (!rc)
		n = snprintf(path, sizeof(path), "/api/v1/images/%s/size%s%s", name, cli->top ? "?top=" : "",
			     cli->top ? cli->top : "");
	if (n < 0 || (size_t)n >= sizeof(path)) {
		fprintf(stderr, "tinyboot: variant name too long\n");
		return -1;
	}
	return cli_http_api(cli->server, path, NULL, buf);
}

static void cli_size_missing_add(json_t *names, const json_t *entry)
{
	json_t *m, *have;
	size_t i, k;

	json_array_foreach(json_object_get(entry, "missing"), i, m) {
		json_array_foreach(names, k, have)
			if (json_equal(have, m))
				break;
		if (k == json_array_size(names))
			json_array_append(names, m);
	}
}

/* Every variant a fragment or total entry names as not built, once each. */
static json_t *cli_size_missing(const json_t *reply)
{
	json_t *names = json_array(), *entry;
	size_t i;

	json_array_foreach(json_object_get(reply, "fragments"), i, entry)
		cli_size_missing_add(names, entry);
	cli_size_missing_add(names, json_object_get(reply, "total"));
	return names;
}

static void cli_size_print_entry(const char *label, const json_t *e)
{
	const json_t *d = json_object_get(e, "delta");
	const char *state = cli_size_str(e, "state");

	printf("%-16s %-10s ", label, cli_size_str(e, "base"));
	if (strcmp(state, "built") == 0) {
		printf("%+10lld %+10lld %+10lld %+9lld %+9lld %+9lld\n", cli_size_int(d, "bzImage"),
		       cli_size_int(d, "vmlinux"), cli_size_int(d, "text"), cli_size_int(d, "rodata"),
		       cli_size_int(d, "data"), cli_size_int(d, "bss"));
	} else if (strcmp(state, "not built") == 0) {
		const json_t *m;
		size_t i;

		printf("not built:");
		json_array_foreach(json_object_get(e, "missing"), i, m)
			printf("%s %s", i ? "," : "", json_string_value(m));
		printf("\n");
	} else {
		printf("%s: %s\n", state, cli_size_str(e, "error"));
	}
}

static void cli_size_print(const json_t *j)
{
	const json_t *sizes = json_object_get(j, "sizes"), *t = json_object_get(j, "totals"), *o;
	const json_t *fragments = json_object_get(j, "fragments");
	size_t i;

	printf("%s  artifact %.12s  kernel %.12s\n", cli_size_str(j, "variant"), cli_size_str(j, "artifact"),
	       cli_size_str(j, "kernel_key"));
	printf("sizes: bzImage %lld  initrd %lld  busybox %lld  vmlinux %lld\n", cli_size_int(sizes, "bzImage"),
	       cli_size_int(sizes, "initrd"), cli_size_int(sizes, "busybox"), cli_size_int(sizes, "vmlinux"));
	printf("vmlinux: text %lld  rodata %lld  data %lld  bss %lld  (size(1) text = text + rodata)\n\n",
	       cli_size_int(t, "text"), cli_size_int(t, "rodata"), cli_size_int(t, "data"), cli_size_int(t, "bss"));

	printf("%-24s %10s  %-6s %s\n", "section", "size", "flags", "group");
	json_array_foreach(json_object_get(j, "sections"), i, o) {
		char flags[4];
		int n = 0;

		if (json_is_true(json_object_get(o, "write")))
			flags[n++] = 'W';
		flags[n++] = 'A';
		if (json_is_true(json_object_get(o, "exec")))
			flags[n++] = 'X';
		flags[n] = '\0';
		printf("%-24s %10lld  %-6s %s\n", cli_size_str(o, "name"), cli_size_int(o, "size"), flags,
		       cli_size_str(o, "group"));
	}

	printf("\nlargest %zu of %lld symbols\n%10s  %-6s  %-20s %s\n", json_array_size(json_object_get(j, "symbols")),
	       cli_size_int(j, "symbols_total"), "size", "type", "section", "name");
	json_array_foreach(json_object_get(j, "symbols"), i, o)
		printf("%10lld  %-6s  %-20s %s\n", cli_size_int(o, "size"), cli_size_str(o, "type"),
		       cli_size_str(o, "section"), cli_size_str(o, "name"));

	if (json_array_size(fragments) == 0) {
		printf("\n%s has no extra fragments: no deltas to show\n", cli_size_str(j, "variant"));
		return;
	}
	printf("\n%-16s %-10s %10s %10s %10s %9s %9s %9s\n", "fragment", "over", "bzImage", "vmlinux", "text",
	       "rodata", "data", "bss");
	json_array_foreach(fragments, i, o) {
		char label[64];

		snprintf(label, sizeof(label), "+%s", cli_size_str(o, "fragment"));
		cli_size_print_entry(label, o);
	}
	cli_size_print_entry("all fragments", json_object_get(j, "total"));
}

/* Fetch and parse; on 409 with --build, build the variant and fetch again. NULL after an error
 * (reported here). */
static json_t *cli_size_get(const struct cli *cli, const char *variant, struct cli_http_buf *buf)
{
	char artifact[128];
	long status = cli_size_fetch(cli, variant, buf);
	json_t *j;

	if (status == 409 && cli->build) {
		if (cli_build_follow(cli, variant, artifact, sizeof(artifact)))
			return NULL;
		status = cli_size_fetch(cli, variant, buf);
	}
	if (status != 200) {
		if (status > 0)
			fprintf(stderr, "tinyboot: %s", buf->data);
		if (status == 409)
			fprintf(stderr, "tinyboot: `tinyboot size %s --build` builds it first\n", variant);
		return NULL;
	}
	j = json_loads(buf->data, 0, NULL);
	if (!j)
		fprintf(stderr, "tinyboot: unexpected answer: %.200s\n", buf->data);
	return j;
}

int cli_size(const struct cli *cli, const char *variant)
{
	struct cli_http_buf buf = { 0 };
	json_t *j, *missing = NULL, *name;
	const json_t *e;
	char artifact[128];
	size_t i;
	int rc = 1;

	if (cli->top && (!cli->top[0] || strspn(cli->top, "0123456789") != strlen(cli->top))) {
		fprintf(stderr, "tinyboot: --top takes a number\n");
		return 2;
	}
	j = cli_size_get(cli, variant, &buf);
	if (!j)
		goto out;
	missing = cli_size_missing(j);
	if (json_array_size(missing) && cli->build) {
		/* the bases a delta needs: built through the same API as `tinyboot build` */
		json_array_foreach(missing, i, name)
			if (cli_build_follow(cli, json_string_value(name), artifact, sizeof(artifact)))
				goto out;
		json_decref(j);
		json_decref(missing);
		missing = NULL;
		j = cli_size_get(cli, variant, &buf);
		if (!j)
			goto out;
		missing = cli_size_missing(j);
	}
	if (cli->json)
		fputs(buf.data, stdout);
	else
		cli_size_print(j);
	rc = 0;
	if (json_array_size(missing)) {
		char *names = json_dumps(missing, JSON_COMPACT);

		fprintf(stderr, "tinyboot: not built, so some deltas are missing: %s; --build builds them\n",
			names ? names : "?");
		free(names);
		rc = 1;
	}
	json_array_foreach(json_object_get(j, "fragments"), i, e)
		if (strcmp(cli_size_str(e, "state"), "error") == 0)
			rc = 1;
out:
	json_decref(missing);
	json_decref(j);
	cli_http_buf_free(&buf);
	return rc;
}
