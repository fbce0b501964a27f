/* metrics.c - per-route request and byte counters: an array of atomics indexed by the route's
 * position in the table and the status, so label values are bounded by the table. */
#include "http/metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "http/routes.h"

#define HTTP_METRICS_STATUS_MIN 100
#define HTTP_METRICS_STATUSES 500 /* 100 to 599 */

struct http_metrics {
	size_t nroutes; /* the table's, plus one for "none" */
	atomic_uint_fast64_t *bytes;    /* [route] */
	atomic_uint_fast64_t requests[]; /* [route * HTTP_METRICS_STATUSES + status - 100] */
};

int http_metrics_new(struct http_metrics **out)
{
	size_t nroutes = http_routes_count() + 1;
	struct http_metrics *m;

	m = calloc(1, sizeof(*m) + nroutes * HTTP_METRICS_STATUSES * sizeof(m->requests[0]));
	if (!m)
		return -ENOMEM;
	m->bytes = calloc(nroutes, sizeof(m->bytes[0]));
	if (!m->bytes) {
		free(m);
		return -ENOMEM;
	}
	m->nroutes = nroutes;
	*out = m;
	return 0;
}

void http_metrics_free(struct http_metrics *m)
{
	if (!m)
		return;
	free(m->bytes);
	free(m);
}

void http_metrics_count(struct http_metrics *m, const struct http_route *route, unsigned status,
			unsigned long long body_bytes)
{
	size_t i;

	if (!m || status < HTTP_METRICS_STATUS_MIN ||
	    status >= HTTP_METRICS_STATUS_MIN + HTTP_METRICS_STATUSES)
		return;
	i = route ? http_routes_index(route) : m->nroutes - 1;
	if (i >= m->nroutes)
		return;
	atomic_fetch_add_explicit(&m->requests[i * HTTP_METRICS_STATUSES + status -
					       HTTP_METRICS_STATUS_MIN], 1, memory_order_relaxed);
	if (body_bytes)
		atomic_fetch_add_explicit(&m->bytes[i], body_bytes, memory_order_relaxed);
}

static const char *http_metrics_route_label(const struct http_metrics *m, size_t i)
{
	return i == m->nroutes - 1 ? "none" : http_routes_pattern(i);
}

void http_metrics_write(const struct http_metrics *m, FILE *out)
{
	fputs("# HELP tinyboot_http_requests_total HTTP requests answered, by route pattern and "
	      "status.\n# TYPE tinyboot_http_requests_total counter\n", out);
	for (size_t i = 0; i < m->nroutes; i++)
		for (unsigned s = 0; s < HTTP_METRICS_STATUSES; s++) {
			uint64_t n = atomic_load_explicit(&m->requests[i * HTTP_METRICS_STATUSES + s],
							  memory_order_relaxed);

			if (n)
				fprintf(out, "tinyboot_http_requests_total{route=\"%s\",status=\"%u\"} %"
					PRIu64 "\n", http_metrics_route_label(m, i),
					s + HTTP_METRICS_STATUS_MIN, n);
		}
	fputs("# HELP tinyboot_http_response_bytes_total Response body bytes of responses sent "
	      "in full, by route pattern.\n# TYPE tinyboot_http_response_bytes_total counter\n", out);
	for (size_t i = 0; i < m->nroutes; i++) {
		uint64_t n = atomic_load_explicit(&m->bytes[i], memory_order_relaxed);

		if (n)
			fprintf(out, "tinyboot_http_response_bytes_total{route=\"%s\"} %" PRIu64 "\n",
				http_metrics_route_label(m, i), n);
	}
}
