/* metrics_page.c - the /metrics scrape: gathers what the other modules know and formats it. */
#include "http/metrics_page.h"

#include <stdio.h>
#include <stdlib.h>

#include "boot/boots.h"
#include "build/builder.h"
#include "build/store_usage.h"
#include "http/conns.h"
#include "http/filecache.h"
#include "http/metrics.h"
#include "http/reply.h"
#include "lib/histogram.h"
#include "lib/log.h"

#define HTTP_METRICS_PAGE_TYPE "text/plain; version=0.0.4; charset=utf-8"
/* Entries one scrape may look at per area: a few hundred per kernel or header tree, so tens of
 * builds are counted exactly, and a scrape stays in the milliseconds. */
#define HTTP_METRICS_PAGE_WALK_BUDGET 50000

/* The areas whose content the cache keeps (trees, src and ccache are working space). */
static const enum store_area http_metrics_page_areas[] = {
	STORE_ARTIFACTS, STORE_KERNELS, STORE_BUSYBOX, STORE_HEADERS, STORE_SOURCES,
};
#define HTTP_METRICS_PAGE_NAREAS \
	(sizeof(http_metrics_page_areas) / sizeof(http_metrics_page_areas[0]))

static void http_metrics_page_family(FILE *out, const char *name, const char *type,
				     const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One histogram's series; label is `key="value"` or NULL. */
static void http_metrics_page_histogram(FILE *out, const char *name, const char *label,
					const struct histogram *h)
{
	struct histogram_snapshot s;
	const char *sep = label ? "," : "";

	label = label ? label : "";
	histogram_snapshot(h, &s);
	for (size_t i = 0; i < s.nbounds; i++)
		fprintf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, label, sep, s.bounds[i],
			(unsigned long long)s.cumulative[i]);
	fprintf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, label, sep,
		(unsigned long long)s.cumulative[s.nbounds]);
	fprintf(out, "%s_sum%s%s%s %.6f\n", name, *label ? "{" : "", label, *label ? "}" : "", s.sum);
	fprintf(out, "%s_count%s%s%s %llu\n", name, *label ? "{" : "", label, *label ? "}" : "",
		(unsigned long long)s.count);
}

static void http_metrics_page_builds(FILE *out, struct builder *b)
{
	unsigned queued, running;

	builder_counts(b, &queued, &running);
	http_metrics_page_family(out, "tinyboot_builds", "gauge",
				 "Builds of this run waiting for a worker (queued) or being built (running).");
	fprintf(out, "tinyboot_builds{state=\"queued\"} %u\n", queued);
	fprintf(out, "tinyboot_builds{state=\"running\"} %u\n", running);
	http_metrics_page_family(out, "tinyboot_build_duration_seconds", "histogram",
				 "Duration of this run's finished builds, by result (cancelled ones are not counted).");
	http_metrics_page_histogram(out, "tinyboot_build_duration_seconds", "result=\"done\"",
				    builder_durations(b, false));
	http_metrics_page_histogram(out, "tinyboot_build_duration_seconds", "result=\"failed\"",
				    builder_durations(b, true));
}

static void http_metrics_page_cache(FILE *out, struct store *s)
{
	struct store_usage u[HTTP_METRICS_PAGE_NAREAS];
	int rc[HTTP_METRICS_PAGE_NAREAS];
	static const struct {
		const char *name, *help;
	} families[] = {
		{ "tinyboot_cache_bytes",
		  "Apparent size of the files in a cache area of the state directory." },
		{ "tinyboot_cache_objects",
		  "Entries in a cache area (artifacts, kernel and busybox keys, header trees, "
		  "source tarballs)." },
		{ "tinyboot_cache_scan_truncated",
		  "1 when the scrape's walk of the area stopped at its budget (the other two are "
		  "then lower bounds)." },
	};

	for (size_t i = 0; i < HTTP_METRICS_PAGE_NAREAS; i++) {
		rc[i] = store_usage_area(s, http_metrics_page_areas[i], HTTP_METRICS_PAGE_WALK_BUDGET, &u[i]);
		if (rc[i])
			log_debug("%s: %s: %d", __func__, store_area_name(http_metrics_page_areas[i]), rc[i]);
	}
	for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++) {
		http_metrics_page_family(out, families[f].name, "gauge", families[f].help);
		for (size_t i = 0; i < HTTP_METRICS_PAGE_NAREAS; i++) {
			unsigned long long v = f == 0 ? u[i].bytes : f == 1 ? u[i].objects : u[i].truncated;

			if (rc[i])
				continue;
			fprintf(out, "%s{kind=\"%s\"} %llu\n", families[f].name,
				store_area_name(http_metrics_page_areas[i]), v);
		}
	}
}

static void http_metrics_page_boots(FILE *out, struct boots *b)
{
	/* label values without spaces; the JSON API says "timed out" */
	static const char *const labels[BOOTS_OUTCOMES] = {
		[BOOTS_OK] = "ok", [BOOTS_FAILED] = "failed", [BOOTS_TIMED_OUT] = "timed_out",
		[BOOTS_PENDING] = "pending",
	};
	size_t counts[BOOTS_OUTCOMES];

	if (boots_outcomes(b, counts) == 0) {
		http_metrics_page_family(out, "tinyboot_boots", "gauge",
					 "Boots held in memory, by outcome (as the boots API shows their result).");
		for (int o = 0; o < BOOTS_OUTCOMES; o++)
			fprintf(out, "tinyboot_boots{outcome=\"%s\"} %zu\n", labels[o], counts[o]);
	}
	http_metrics_page_family(out, "tinyboot_journal_syncs_total", "counter",
				 "fdatasyncs of STATE/boots.log that made records durable (one for many reports arriving together).");
	fprintf(out, "tinyboot_journal_syncs_total %llu\n", boots_journal_syncs(b));
	http_metrics_page_family(out, "tinyboot_boot_report_delay_seconds", "histogram",
				 "Time from sending a boot's kernel to its report, for this run's reports.");
	http_metrics_page_histogram(out, "tinyboot_boot_report_delay_seconds", NULL,
				    boots_report_delay(b));
}

enum MHD_Result http_metrics_page(struct request *r)
{
	struct tinyboot *tb = r->tb;
	enum MHD_Result ret;
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	if (!out)
		return http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	http_metrics_page_family(out, "tinyboot_start_time_seconds", "gauge",
				 "When the daemon started, in seconds since the Unix epoch.");
	fprintf(out, "tinyboot_start_time_seconds %lld\n", (long long)tb->started);
	if (tb->metrics)
		http_metrics_write(tb->metrics, out);
	http_metrics_page_family(out, "tinyboot_cache_evictions_total", "counter",
				 "Artifacts, kernels and busybox objects removed by retention.");
	fprintf(out, "tinyboot_cache_evictions_total %llu\n", (unsigned long long)atomic_load(&tb->evictions));
	http_metrics_page_family(out, "tinyboot_cache_evicted_bytes_total", "counter",
				 "Bytes retention removed from the cache.");
	fprintf(out, "tinyboot_cache_evicted_bytes_total %llu\n",
		(unsigned long long)atomic_load(&tb->evicted_bytes));
	http_metrics_page_family(out, "tinyboot_http_connections_open", "gauge",
				 "HTTP connections open now.");
	fprintf(out, "tinyboot_http_connections_open %u\n", http_conns_open(tb->conns));
	http_filecache_write(tb->files, out);
	if (tb->builder) {
		http_metrics_page_builds(out, tb->builder);
		http_metrics_page_cache(out, builder_store(tb->builder));
	}
	if (tb->boots)
		http_metrics_page_boots(out, tb->boots);
	if (fclose(out) != 0 || !text) {
		free(text);
		return http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	}
	ret = http_send_text(r, MHD_HTTP_OK, HTTP_METRICS_PAGE_TYPE, text, len);
	free(text);
	return ret;
}
