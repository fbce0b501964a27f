/* histogram.h - a cumulative histogram with fixed buckets, observed lock-free from any thread. */
#ifndef TINYBOOT_HISTOGRAM_H
#define TINYBOOT_HISTOGRAM_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define HISTOGRAM_BOUNDS_MAX 16

struct histogram {
	const double *bounds; /* upper bounds, ascending; borrowed (a static table) */
	size_t nbounds;
	atomic_uint_fast64_t counts[HISTOGRAM_BOUNDS_MAX + 1]; /* per bucket; the last is +Inf */
	atomic_uint_fast64_t sum_us; /* sum of observations in microseconds */
};

/* What a scrape shows: cumulative counts (le bounds[i], then +Inf), their sum and count. */
struct histogram_snapshot {
	const double *bounds;
	size_t nbounds;
	uint64_t cumulative[HISTOGRAM_BOUNDS_MAX + 1];
	uint64_t count;
	double sum;
};

/* nbounds is cut at HISTOGRAM_BOUNDS_MAX. */
void histogram_init(struct histogram *h, const double *bounds, size_t nbounds);
/* Negative values (a clock stepped back) count as 0. */
void histogram_observe(struct histogram *h, double value);
void histogram_snapshot(const struct histogram *h, struct histogram_snapshot *out);

#endif
