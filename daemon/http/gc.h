/* gc.h - a retention run over the artifact cache (after each build, on SIGHUP, on POST
 * /api/v1/gc): what machines.conf, boot-once overrides, pins and open boots need is kept. */
#ifndef TINYBOOT_HTTP_GC_H
#define TINYBOOT_HTTP_GC_H

#include <jansson.h>
#include <stdbool.h>

#include "http/request.h"

struct runtime;
struct tinyboot;

/* One run with rt's cache-max-size and keep-builds (dry_run: decide, remove nothing). report
 * (may be NULL) gets {"dry_run", "removed": [...], "freed_bytes", "removed_objects"}. Each
 * removal is logged once. 0 or -errno (the report is set either way when asked for). */
int http_gc_run(struct tinyboot *tb, struct runtime *rt, bool dry_run, json_t **report);
/* A run with the current configuration (arg: struct tinyboot): the builder's on_publish hook, and
 * what SIGHUP does once the configuration is reloaded (or kept). */
void http_gc_current(void *arg);
/* POST /api/v1/gc, body {} or {"dry_run": true}. */
enum MHD_Result http_gc_post(struct request *r);

#endif
