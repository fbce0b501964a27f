/* api.c - the JSON endpoints that describe the daemon itself. */
#include "http/api.h"

#include <time.h>
#include <zlib.h>

#include "http/reply.h"

enum MHD_Result http_api_index(struct request *r)
{
	static const char body[] =
		"tinybootd " TINYBOOT_VERSION "\n"
		"  GET /healthz                 liveness (JSON)\n"
		"  GET /api/v1/version          version (JSON)\n"
		"  GET /payloads/NAME           files for guests\n"
		"  GET /artifacts/HASH/NAME     content-addressed build artifacts\n";

	return http_send_text(r, MHD_HTTP_OK, "text/plain; charset=utf-8", body, sizeof(body) - 1);
}

enum MHD_Result http_api_healthz(struct request *r)
{
	bool draining = atomic_load(&r->tb->draining);
	json_t *obj;

	obj = json_pack("{s:s, s:I, s:b}", "status", draining ? "draining" : "ok", "uptime_s",
			(json_int_t)(time(NULL) - r->tb->started), "draining", draining);
	return http_send_json(r, draining ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_OK, obj);
}

enum MHD_Result http_api_version(struct request *r)
{
	json_t *obj;

	obj = json_pack("{s:s, s:s, s:i, s:{s:s, s:s, s:s}}", "name", "tinybootd", "version",
			TINYBOOT_VERSION, "api", 1, "libraries", "libmicrohttpd", MHD_get_version(),
			"jansson", JANSSON_VERSION, "zlib", zlibVersion());
	return http_send_json(r, MHD_HTTP_OK, obj);
}
