/* boots.h - every boot the daemon hands out, its events, its report, and its timeout. */
#ifndef TINYBOOT_BOOTS_H
#define TINYBOOT_BOOTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define BOOTS_TOKEN_LEN 33 /* 32 hex digits + NUL */
#define BOOTS_ID_LEN 17    /* 16 hex digits + NUL: a boot as the API shows it */
#define BOOTS_REASON_MAX 255 /* why the daemon failed a boot */
/* What memory holds; older boots and reports live on in STATE/boots.log only. */
#define BOOTS_MAX 4096                       /* boots of machines named in machines.conf */
#define BOOTS_REPORT_BYTES (64 * 1024 * 1024) /* their stored reports (compact JSON) */
#define BOOTS_UNLISTED_MAX 1024              /* boots of unlisted MACs on the default entry */
#define BOOTS_UNLISTED_REPORT_BYTES (16 * 1024 * 1024)
/* The journal is rewritten with what memory holds once it has grown by this much past that
 * (at start-up, or as it grows); the file it replaces stays as STATE/boots.log.<UTC time>. */
#define BOOTS_COMPACT_BYTES (64 * 1024 * 1024)
#define BOOTS_LOG_KEEP 4 /* archives of boots.log kept; older ones are deleted */

struct boots;
struct histogram;

struct boots_limits {
	size_t boots, report_bytes;                   /* listed machines */
	size_t unlisted_boots, unlisted_report_bytes; /* machines on the default entry */
	size_t compact_bytes;   /* boots-log-max-size: growth past what memory holds that rotates */
	unsigned keep_archives; /* boots-log-keep: old journals kept after a rotation */
};

/* Open STATE/boots.log and replay it, so boots and reports survive restarts; a torn last
 * record is cut, and a journal far larger than what memory holds is compacted. boots_open uses
 * the BOOTS_* limits above. */
int boots_open(const char *state_dir, struct boots **out, char *err, size_t errlen);
int boots_open_limits(const char *state_dir, const struct boots_limits *limits, struct boots **out,
		      char *err, size_t errlen);
void boots_free(struct boots *b);
/* What a new boot is: which machine, what it boots, on which firmware. */
struct boots_new {
	const char *machine;  /* the machine's name; required */
	const char *mac;      /* NULL or "" when not known */
	const char *variant;  /* NULL or "" when not known */
	const char *artifact; /* "" (or NULL) while the variant is still building */
	const char *firmware; /* "bios", "uefi"; NULL or "" is shown as "unknown" */
	unsigned timeout_s;   /* a boot without a report after this long shows as timed out; 0: never */
	bool unlisted;        /* the MAC fell to the default entry: a budget of its own, so a flood
			       * of unknown MACs never pushes out the boots of listed machines */
};

/* A new boot, durable before it exists: its record is written to the journal and fdatasync'd
 * (by the committer, as boots_create_async) before memory takes it; the token names it in URLs
 * and the report. -errno of the journal write or sync when it cannot be recorded (then there is
 * no boot, in memory or on disk). Waits for the disk: boots_create_async is for request threads. */
int boots_create(struct boots *b, const struct boots_new *n, char token[BOOTS_TOKEN_LEN]);
typedef void (*boots_done_fn)(void *arg, int rc);
/* boots_create without waiting for the disk. The token is made and the record written now: an
 * error is returned at once (no boot) and done is never called. On 0 the boot waits for the
 * journal's committer, which makes every record written meanwhile durable with one fdatasync;
 * until then it is unknown to every other call (no event, failure or report for its token, not
 * listed), as it may still be taken back. Then memory takes it and done(arg, rc) is called once,
 * from the committer's thread, possibly before boots_create_async returns: rc 0 (on disk, in
 * memory) or the sync's -errno (the boot is neither on disk nor in memory). */
int boots_create_async(struct boots *b, const struct boots_new *n, char token[BOOTS_TOKEN_LEN],
		       boots_done_fn done, void *arg);
/* The daemon itself gave up on the boot (e.g. a UEFI machine whose variant has no EFI kernel):
 * it shows as failed with reason (cut at BOOTS_REASON_MAX bytes) at once, not as pending until
 * it times out. -ENOENT for an unknown token. */
int boots_fail(struct boots *b, const char *token, const char *reason);
/* Record "script served", "kernel sent", "initrd sent" (a boot keeps its first few events; later
 * ones are neither kept nor journaled). Written, not fdatasync'd: events are hints, and a power
 * loss may take the last ones. -ENOENT for an unknown token. */
int boots_event(struct boots *b, const char *token, const char *state);
/* The artifact a boot was created for (for /boot/TOKEN/kernel). */
int boots_artifact(struct boots *b, const char *token, char artifact[65]);
/* Store a checked report (boot/report.h) of the boot with this token, once: -ENOENT no such
 * boot (never made, or no longer held in memory), -EPERM the boot is another machine's,
 * -EALREADY it has its report or the daemon failed it. Late reports (past the boot's timeout)
 * are taken. The report is journaled and fsync'd first; a journal error is returned as its
 * -errno and changes nothing, in memory or on disk. */
int boots_report(struct boots *b, const char *token, const char *machine, bool ok, json_t *report);
/* boots_report without waiting for the disk. The checks and the journal write happen now: an
 * error is returned at once and done is never called. On 0 the report waits for the journal's
 * committer, which makes every report written meanwhile durable with one fdatasync, and only
 * then puts it in memory and calls done(arg, rc) once, from its own thread, possibly before
 * boots_report_async returns: rc 0 (on disk, in memory) or the sync's -errno (then the report is
 * neither on disk nor in memory). Until then a second report for the boot is -EALREADY. */
int boots_report_async(struct boots *b, const char *token, const char *machine, bool ok,
		       json_t *report, boots_done_fn done, void *arg);
/* fdatasyncs of the journal that made records durable, this run. */
unsigned long long boots_journal_syncs(struct boots *b);
/* JSON views. A boot has "boot" (its public id, never the token), "firmware" ("bios", "uefi" or
 * "unknown") and "reason" (why the daemon failed it, else null). key is a token or a public id. */
json_t *boots_boot_json(struct boots *b, const char *key);
/* The last boot of machine, or NULL. */
json_t *boots_machine_json(struct boots *b, const char *machine);
/* The names of the machines with a boot in memory, sorted (strcmp); *names is malloc'd. */
int boots_machine_names(struct boots *b, char (**names)[33], size_t *n);
/* Boots and report bytes held now: listed machines (unlisted false) or the default entry's. */
void boots_usage(struct boots *b, bool unlisted, size_t *boots, size_t *report_bytes);

/* What became of a boot, as "result" in the JSON views shows it. */
enum boots_outcome { BOOTS_OK, BOOTS_FAILED, BOOTS_TIMED_OUT, BOOTS_PENDING, BOOTS_OUTCOMES };
const char *boots_outcome_name(enum boots_outcome o); /* "ok", "failed", "timed out", "pending" */
/* The boots held in memory (see BOOTS_MAX) by outcome now: 0 or -ENOMEM. */
int boots_outcomes(struct boots *b, size_t counts[BOOTS_OUTCOMES]);
/* fn(arg, artifact) for every boot still pending (no report, not failed, not timed out) that
 * was given an artifact: retention keeps those. 0 or -ENOMEM. */
int boots_pending_artifacts(struct boots *b, void (*fn)(void *arg, const char *artifact), void *arg);
/* Seconds from "kernel sent" to the report, for the reports of this run whose boot had that
 * event. */
const struct histogram *boots_report_delay(const struct boots *b);

#endif
