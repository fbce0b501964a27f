/* metrics_page.h - GET /metrics: the daemon's metrics in the Prometheus text format. */
#ifndef TINYBOOT_HTTP_METRICS_PAGE_H
#define TINYBOOT_HTTP_METRICS_PAGE_H

#include "http/request.h"

/* Request counters, connections, builds, cache usage (a bounded walk of the store's areas at
 * each scrape), boots by outcome and the histograms, as text format 0.0.4. */
enum MHD_Result http_metrics_page(struct request *r);

#endif
