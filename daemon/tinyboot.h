/* tinyboot.h - the one daemon-wide state, handed around explicitly. */
#ifndef TINYBOOT_TINYBOOT_H
#define TINYBOOT_TINYBOOT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "conf/runtime.h"

#define TINYBOOT_VERSION "0.1.0"

struct etag_cache;
struct MHD_Daemon;
struct builder;
struct boots;
struct nextboot;
struct pxe_service;
struct http_conns;
struct http_metrics;
struct http_filecache;

struct tinyboot {
	struct runtime_slot current;
	struct etag_cache *etags;
	struct builder *builder;
	struct boots *boots;
	struct nextboot *next;    /* what machines boot next instead of machines.conf */
	struct pxe_service *pxe; /* dnsmasq, supervised (idle with pxe = off) */
	struct MHD_Daemon *mhd;
	struct http_conns *conns; /* open connections and their deadlines (http/conns.c) */
	struct http_metrics *metrics; /* request counters for /metrics (http/metrics.c) */
	struct http_filecache *files; /* ready responses for static files (http/filecache.c) */
	atomic_uint requests_in_flight;
	atomic_uint waiting;  /* ?wait=1 requests parked on a build (capped by max-waiting) */
	atomic_bool draining; /* set first on SIGTERM: nothing new is parked or built */
	atomic_ullong evictions, evicted_bytes; /* retention's removals (http/gc.c), for /metrics */
	char listen_address[80];
	time_t started;
};

#endif
