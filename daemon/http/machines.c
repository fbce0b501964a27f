/* machines.c - GET /api/v1/machines: every machine, its last boot and what it boots next. */
#include "http/machines.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boots.h"
#include "boot/nextboot.h"
#include "conf/machines.h"
#include "conf/recipe.h"
#include "http/reply.h"

/* A page of GET /api/v1/machines. A stored report is at most ~20 KB of JSON (a 16 KiB body cut
 * to the known fields), so a page is at most ~20 MB; a lab rarely has more machines than a page
 * (unlisted MACs are held to BOOTS_UNLISTED_MAX boots); the CLI follows the pages. */
#define HTTP_MACHINES_DEFAULT 1000
#define HTTP_MACHINES_MAX 1000

static int http_machines_name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ?limit=N (1..HTTP_MACHINES_MAX, default HTTP_MACHINES_DEFAULT) and ?after=NAME. */
static int http_machines_query(struct request *r, size_t *limit, const char **after)
{
	const char *v = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "limit");
	char *end;
	unsigned long n;

	*limit = HTTP_MACHINES_DEFAULT;
	*after = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "after");
	if (*after && strlen(*after) > 64)
		return -EINVAL;
	if (!v)
		return 0;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (!*v || *v < '0' || *v > '9' || *end || errno || n < 1 || n > HTTP_MACHINES_MAX)
		return -EINVAL;
	*limit = n;
	return 0;
}

/* The page as JSON, with a Link to the next one when there is more (RFC 8288, as GitHub does):
 * the body stays one object keyed by machine name. */
static enum MHD_Result http_machines_send(struct request *r, json_t *out, const char *next,
					       size_t limit)
{
	struct MHD_Response *resp;
	char *text = json_dumps(out, JSON_INDENT(2) | JSON_SORT_KEYS), link[256];
	size_t len;

	json_decref(out);
	if (!text)
		return http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	len = strlen(text);
	text[len] = '\n'; /* json_dumps leaves room for its NUL: the newline takes it */
	resp = MHD_create_response_from_buffer(len + 1, text, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (next && recipe_name_valid(next) && snprintf(link, sizeof(link), "</api/v1/machines?limit=%zu&after=%s>; rel=\"next\"",
			     limit, next) < (int)sizeof(link))
		MHD_add_response_header(resp, "Link", link);
	r->body_bytes = len + 1;
	return http_send(r, MHD_HTTP_OK, resp);
}

enum MHD_Result http_machines_list(struct request *r)
{
	size_t nbooted = 0, nconf = r->rt->machines ? machines_count(r->rt->machines) : 0, n = 0, limit, shown = 0;
	char(*booted)[33] = NULL, (*overridden)[NEXTBOOT_NAME_MAX + 1] = NULL;
	size_t noverridden = 0;
	const char **names = NULL, *after, *next = NULL, *last = NULL;
	json_t *out;
	enum MHD_Result ret;

	if (http_machines_query(r, &limit, &after))
		return http_send_error(r, MHD_HTTP_BAD_REQUEST, "limit must be 1..%d; after a machine name",
				       HTTP_MACHINES_MAX);
	if (boots_machine_names(r->tb->boots, &booted, &nbooted))
		return http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	if (nextboot_names(r->tb->next, &overridden, &noverridden)) {
		free(booted);
		return http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	}
	/* every machine with a boot, the configured ones that never booted and those told what to
	 * boot next, by name */
	names = malloc((nbooted + nconf + noverridden + 1) * sizeof(*names));
	out = json_object();
	if (!names || !out) {
		free(booted);
		free(overridden);
		free(names);
		json_decref(out);
		return http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	}
	for (size_t i = 0; i < nbooted; i++)
		names[n++] = booted[i];
	for (size_t i = 0; i < nconf; i++)
		names[n++] = machines_at(r->rt->machines, i)->name;
	for (size_t i = 0; i < noverridden; i++)
		names[n++] = overridden[i];
	qsort(names, n, sizeof(*names), http_machines_name_cmp);
	for (size_t i = 0; i < n; i++) {
		struct nextboot_entry e;
		json_t *j;

		if ((i > 0 && strcmp(names[i], names[i - 1]) == 0) || (after && strcmp(names[i], after) <= 0))
			continue;
		if (shown == limit) {
			next = last; /* the cursor: the last name on this page */
			break;
		}
		j = boots_machine_json(r->tb->boots, names[i]);
		if (!j) {
			const struct machine *m = r->rt->machines ? machines_by_name(r->rt->machines, names[i]) : NULL;

			j = json_pack("{s:s, s:s, s:s, s:[]}", "machine", names[i], "mac", m ? m->mac : "",
				      "result", "never booted", "events");
		}
		nextboot_get(r->tb->next, names[i], &e);
		json_object_set_new(j, "next", nextboot_entry_json(&e));
		json_object_set_new(out, names[i], j);
		last = names[i];
		shown++;
	}
	ret = http_machines_send(r, out, next, limit);
	free(names);
	free(booted);
	free(overridden);
	return ret;
}
