/* pins.c - GET /api/v1/pins, PUT and DELETE /api/v1/pins/NAME. */
#include "http/pins.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "build/builder.h"
#include "build/pins.h"
#include "http/reply.h"

static void http_pins_add(void *arg, const char *name)
{
	json_array_append_new(arg, json_string(name));
}

static int http_pins_cmp(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

enum MHD_Result http_pins_list(struct request *r)
{
	json_t *a = json_array(), **v;
	size_t n;
	int rc = pins_list(builder_store(r->tb->builder), http_pins_add, a);

	if (rc) {
		json_decref(a);
		return http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "pins: %s", strerror(-rc));
	}
	/* directory order is no order: sort in place */
	n = json_array_size(a);
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v) {
		json_decref(a);
		return http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(a, i));
	qsort(v, n, sizeof(v[0]), http_pins_cmp);
	json_array_clear(a);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, v[i]);
	free(v);
	return http_send_json(r, MHD_HTTP_OK, json_pack("{s:o}", "pins", a));
}

enum MHD_Result http_pins_one(struct request *r, const char *name)
{
	const struct store *s = builder_store(r->tb->builder);
	bool put = strcmp(r->method, MHD_HTTP_METHOD_PUT) == 0;
	int rc;

	if (!pins_name_valid(name))
		return http_send_error(r, MHD_HTTP_BAD_REQUEST,
				       "a pin is an artifact (64 hex digits) or a variant ([a-z0-9_+-])");
	rc = put ? pins_add(s, name) : pins_remove(s, name);
	if (rc == -ENOENT)
		return http_send_error(r, MHD_HTTP_NOT_FOUND, "%s is not pinned", name);
	if (rc)
		return http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "pin %s: %s", name, strerror(-rc));
	return http_send_json(r, MHD_HTTP_OK, json_pack("{s:s, s:b}", "pin", name, "pinned", put));
}
