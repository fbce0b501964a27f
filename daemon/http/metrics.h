/* metrics.h - request counters by route and status, and body bytes sent, kept lock-free. */
#ifndef TINYBOOT_HTTP_METRICS_H
#define TINYBOOT_HTTP_METRICS_H

#include <stdio.h>

struct http_metrics;
struct http_route;

/* Counters for every route of the table (and "none" for paths no route matches). */
int http_metrics_new(struct http_metrics **out);
void http_metrics_free(struct http_metrics *m); /* NULL-tolerant */
/* A request is over: its response had this status and body_bytes of its body were sent. route
 * is NULL when no route matched. Two relaxed atomic adds; m may be NULL. */
void http_metrics_count(struct http_metrics *m, const struct http_route *route, unsigned status,
			unsigned long long body_bytes);
/* tinyboot_http_requests_total and tinyboot_http_response_bytes_total in the Prometheus text
 * format, the series that have counted something only. */
void http_metrics_write(const struct http_metrics *m, FILE *out);

#endif
