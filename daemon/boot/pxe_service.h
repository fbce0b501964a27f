/* pxe_service.h - dnsmasq as a supervised child: started from an argument vector, its lines in
 * tinybootd's log, restarted with backoff when it dies, restarted when its configuration
 * changes, stopped with SIGTERM (SIGKILL after a grace period). One thread per service. */
#ifndef TINYBOOT_BOOT_PXE_SERVICE_H
#define TINYBOOT_BOOT_PXE_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* dnsmasq logs this once its sockets are bound and its privileges dropped. */
#define PXE_SERVICE_READY "started, version"

struct pxe_service_timing {
	unsigned backoff_min_ms; /* first wait before a restart; doubled after each quick death */
	unsigned backoff_max_ms;
	unsigned healthy_ms;     /* a run this long resets the backoff */
	unsigned grace_ms;       /* SIGTERM, then SIGKILL after this */
	unsigned start_ms;       /* how long pxe_service_run(wait) waits for the ready line */
};

/* 1 s doubling to 60 s, reset after 60 s up; 5 s grace; 10 s to start. */
extern const struct pxe_service_timing pxe_service_default_timing;

struct pxe_service;

/* A service with nothing to run yet; timing NULL: the defaults. 0 or -errno. */
int pxe_service_new(const struct pxe_service_timing *timing, struct pxe_service **out);
/* Stop the child (as pxe_service_halt) and the thread; NULL-tolerant. */
void pxe_service_free(struct pxe_service *s);

/*
 * Run argv (argv[0] a path; copied) whose configuration is text (kept for pxe_service_text).
 * When the same argv and text run already, nothing happens; when the child is waiting out its
 * backoff, it starts now; otherwise the running child is stopped and the new one started.
 * wait: return only once the child logged PXE_SERVICE_READY (0) or exited (-EIO, err says why
 * and what to do) or start_ms passed (-ETIMEDOUT); the service keeps restarting it either way
 * until pxe_service_halt. Without wait: 0 at once.
 */
int pxe_service_run(struct pxe_service *s, char *const argv[], const char *text, bool wait,
		    char *err, size_t errlen);
/* Stop the child and forget argv and text; returns once it is gone. */
void pxe_service_halt(struct pxe_service *s);

/* The configuration text in force (malloc'd), or NULL when nothing runs (or no memory). */
char *pxe_service_text(struct pxe_service *s);
/* How often a child was started, and the one running now (0: none). */
unsigned pxe_service_starts(struct pxe_service *s);
pid_t pxe_service_pid(struct pxe_service *s);

/* What one of dnsmasq's last lines means and what to do about it, or NULL when it is not a
 * known start-up failure. */
const char *pxe_service_explain(const char *line, char *buf, size_t len);

#endif
