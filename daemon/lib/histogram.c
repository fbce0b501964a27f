/* histogram.c - fixed-bucket histograms: one atomic add per observation, no lock. */
#include "lib/histogram.h"

#include <string.h>

void histogram_init(struct histogram *h, const double *bounds, size_t nbounds)
{
	memset(h, 0, sizeof(*h));
	h->bounds = bounds;
	h->nbounds = nbounds > HISTOGRAM_BOUNDS_MAX ? HISTOGRAM_BOUNDS_MAX : nbounds;
}

void histogram_observe(struct histogram *h, double value)
{
	size_t i = 0;

	if (!(value > 0)) /* also NaN */
		value = 0;
	if (value > 1e9) /* 31 years: keeps the sum in range */
		value = 1e9;
	while (i < h->nbounds && value > h->bounds[i])
		i++;
	atomic_fetch_add_explicit(&h->counts[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_us, (uint64_t)(value * 1e6 + 0.5), memory_order_relaxed);
}

void histogram_snapshot(const struct histogram *h, struct histogram_snapshot *out)
{
	uint64_t total = 0;

	memset(out, 0, sizeof(*out));
	out->bounds = h->bounds;
	out->nbounds = h->nbounds;
	for (size_t i = 0; i <= h->nbounds; i++) {
		total += atomic_load_explicit(&h->counts[i], memory_order_relaxed);
		out->cumulative[i] = total;
	}
	out->count = total;
	out->sum = (double)atomic_load_explicit(&h->sum_us, memory_order_relaxed) / 1e6;
}
