/* payloads.c - /payloads/ over HTTP: files as they are, gen/N streamed, manifests as text. */
#include "http/payloads.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boots.h"
#include "boot/payloads.h"
#include "conf/machines.h"
#include "http/file.h"
#include "http/reply.h"
#include "http/urlname.h"
#include "lib/names.h"

enum MHD_Result http_payloads_file(struct request *r, const char *name)
{
	return http_file_serve(r, r->rt->payloads_fd, name, HTTP_FILE_REVALIDATE);
}

static ssize_t http_payloads_gen_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	uint64_t total = *(uint64_t *)cls;
	size_t len;

	if (pos >= total)
		return MHD_CONTENT_READER_END_OF_STREAM;
	len = total - pos < max ? (size_t)(total - pos) : max;
	payloads_gen_fill(pos, buf, len);
	return (ssize_t)len;
}

enum MHD_Result http_payloads_gen(struct request *r, const char *size)
{
	struct MHD_Response *resp;
	uint64_t n, *cls;

	if (payloads_gen_size(size, &n))
		return http_send_error(r, MHD_HTTP_BAD_REQUEST,
				       "gen/N takes a size from 1 to %llu bytes",
				       (unsigned long long)PAYLOADS_GEN_MAX);
	cls = malloc(sizeof(*cls));
	if (!cls)
		return MHD_NO;
	*cls = n;
	resp = MHD_create_response_from_callback(n, PAYLOADS_GEN_BLOCK, http_payloads_gen_reader, cls,
						 free);
	if (!resp) {
		free(cls);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	r->body_bytes = n;
	return http_send(r, MHD_HTTP_OK, resp);
}

enum MHD_Result http_payloads_manifest(struct request *r)
{
	const char *id = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "id");
	const struct machine *m;
	const char *failed;
	char *body;
	size_t len;
	enum MHD_Result ret;
	int rc;

	if (!r->rt->machines)
		return http_send_error(r, MHD_HTTP_NOT_FOUND, "no machines are configured");
	if (!id || !names_file_valid(id))
		return http_send_error(r, MHD_HTTP_BAD_REQUEST, "manifest?id=MACHINE is required");
	m = payloads_machine(r->rt->machines, id);
	if (!m)
		return http_send_error(r, MHD_HTTP_NOT_FOUND, "no machine named '%s'", id);
	/* any mac-HEX names the default entry: only one that has booted is a machine */
	if (m->is_default) {
		json_t *seen = boots_machine_json(r->tb->boots, id);

		if (!seen)
			return http_send_error(r, MHD_HTTP_NOT_FOUND, "no boot of '%s' is known: a "
					       "machine on the default entry has a manifest once it boots", id);
		json_decref(seen);
	}
	rc = payloads_manifest(m, r->rt->payloads_fd, r->tb->etags, &body, &len, &failed);
	if (rc && !failed)
		return MHD_NO;
	if (rc)
		return http_send_error(r, rc == -ENOENT ? MHD_HTTP_NOT_FOUND : MHD_HTTP_INTERNAL_SERVER_ERROR,
				       "payload '%s' of %s: %s", failed, id, strerror(-rc));
	ret = http_send_text(r, MHD_HTTP_OK, "text/plain; charset=utf-8", body, len);
	free(body);
	return ret;
}
