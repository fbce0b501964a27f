/* bootset.h - the boots held in memory: found by token, public id or machine, within budgets. */
#ifndef TINYBOOT_BOOTSET_H
#define TINYBOOT_BOOTSET_H

#include <stdbool.h>
#include <stddef.h>

#include "boot/boots.h"

#define BOOTSET_EVENTS_MAX 8

struct boot_event {
	char state[24];
	double at;
};

struct boot {
	char token[BOOTS_TOKEN_LEN]; /* the secret: only the guest and the boot's creator have it */
	char id[BOOTS_ID_LEN];       /* what the API shows: sha256(token), first 16 hex digits */
	char machine[33];
	char mac[18];
	char variant[256];
	char artifact[65];
	char firmware[8]; /* "bios", "uefi" or "unknown" */
	char reason[BOOTS_REASON_MAX + 1]; /* set when the daemon failed the boot */
	double created, reported_at;
	unsigned timeout_s;
	struct boot_event events[BOOTSET_EVENTS_MAX];
	size_t nevents;
	bool reported, ok, failed;
	bool reporting; /* its report is written and waits for the journal's sync */
	bool unlisted; /* a machine on the default entry: counted against a budget of its own */
	char *report;  /* the stored report, compact JSON; NULL before it came or once dropped */
	size_t report_len;
	/* bootset.c's own */
	unsigned long long seq; /* the order boots were added in */
	bool superseded; /* a later boot of the same machine is held */
	struct boot *prev, *next;   /* its class's list of last boots, or of superseded ones */
	struct boot *rprev, *rnext; /* its class's list of boots holding report text, oldest first */
	struct boot *chain_token, *chain_id, *chain_machine;
};

/* How much one class of boots (machines named in machines.conf, or unlisted MACs on the default
 * entry) may hold. */
struct bootset_budget {
	size_t boots;        /* boots held; past it the oldest superseded boot goes, else the oldest */
	size_t report_bytes; /* stored report text; past it the oldest report text is dropped (the
			      * boot, its result and events stay) */
};

struct bootset;
struct boots_new;

/* A new boot (not held yet) with its "boot created" event. with_id: compute its public id now
 * (a replay leaves it for the boots it keeps). NULL when out of memory. */
struct boot *bootset_boot_new(const char *token, const struct boots_new *n, double created, bool with_id);
/* Set bt->id from its token: 0 or -errno. */
int bootset_boot_id(struct boot *bt);
/* What happened to a boot: an event (kept while there is room), the daemon failing it (reason
 * cut at BOOTS_REASON_MAX), its report (text taken over: NULL when not held in memory). */
void bootset_note(struct boot *bt, const char *state, double at);
void bootset_fail(struct boot *bt, const char *reason, double at);
void bootset_reported(struct bootset *s, struct boot *bt, bool ok, char *text, double at);

/* budgets[0]: listed machines, budgets[1]: unlisted ones; each at least one boot. */
struct bootset *bootset_new(const struct bootset_budget budgets[2]);
void bootset_free(struct bootset *s);
/* Hold bt (taken over): it becomes its machine's last boot; the class is trimmed to budget. */
void bootset_add(struct bootset *s, struct boot *bt);
struct boot *bootset_by_token(const struct bootset *s, const char *token);
struct boot *bootset_by_id(const struct bootset *s, const char *id);
struct boot *bootset_last_of(const struct bootset *s, const char *machine);
/* Give bt its report text (taken over; it replaces any); older report text of the class is
 * dropped past the budget, never bt's own. */
void bootset_hold_report(struct bootset *s, struct boot *bt, char *text, size_t len);
/* Index bt (held) by its id, once bt->id is set (a replay sets ids after it, for the boots it
 * kept: bootset_add indexes only a boot whose id is set). */
void bootset_index_id(struct bootset *s, struct boot *bt);
/* Every boot held, in the order they were added; *out is malloc'd (NULL when none). */
int bootset_held(const struct bootset *s, struct boot ***out, size_t *n);
/* Every machine's last boot, sorted by machine name; *out is malloc'd (NULL when none). */
int bootset_machines(const struct bootset *s, const struct boot ***out, size_t *n);
/* What class (0 listed, 1 unlisted) holds now. */
void bootset_usage(const struct bootset *s, int class, size_t *boots, size_t *report_bytes);

#endif
