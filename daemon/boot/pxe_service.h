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

/* True when argv with text runs (or is starting) now: pxe_service_run would do nothing. */
bool pxe_service_runs(struct pxe_service *s, char *const argv[], const char *text);
/* Send sig to the child: at once when it is up; when it is starting, once it logged
 * PXE_SERVICE_READY (before that, dnsmasq may not handle it yet). 0, or -ESRCH when no child
 * runs (nothing is sent). dnsmasq re-reads its --dhcp-hostsfile on SIGHUP. */
int pxe_service_signal(struct pxe_service *s, int sig);

/* The configuration text in force (malloc'd), or NULL when nothing runs (or no memory). */
char *pxe_service_text(struct pxe_service *s);
/* What to show an admin instead of that text (e.g. with the reservations; NULL: the text
 * itself), kept until the next call or pxe_service_halt. True when it differs from the one
 * kept before. */
bool pxe_service_show(struct pxe_service *s, const char *shown);
/* The text to show (malloc'd): what pxe_service_show kept, else pxe_service_text. */
char *pxe_service_shown(struct pxe_service *s);
/* How often a child was started, and the one running now (0: none). */
unsigned pxe_service_starts(struct pxe_service *s);
pid_t pxe_service_pid(struct pxe_service *s);

/* What one of dnsmasq's last lines means and what to do about it, or NULL when it is not a
 * known start-up failure. */
const char *pxe_service_explain(const char *line, char *buf, size_t len);

#endif
