/* boots.h - every boot the daemon hands out, its events, its report, and its timeout. */
#ifndef TINYBOOT_BOOTS_H
#define TINYBOOT_BOOTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define BOOTS_TOKEN_LEN 33 /* 32 hex digits + NUL */
#define BOOTS_MAX 4096      /* boots kept in memory; older ones live on in the journal only */
#define BOOTS_REASON_MAX 255 /* why the daemon failed a boot */

struct boots;

/* Open STATE/boots.log and replay it, so boots and reports survive restarts. */
int boots_open(const char *state_dir, struct boots **out, char *err, size_t errlen);
void boots_free(struct boots *b);
/* What a new boot is: which machine, what it boots, on which firmware. */
struct boots_new {
	const char *machine;  /* the machine's name; required */
	const char *mac;      /* NULL or "" when not known */
	const char *variant;  /* NULL or "" when not known */
	const char *artifact; /* "" (or NULL) while the variant is still building */
	const char *firmware; /* "bios", "uefi"; NULL or "" is shown as "unknown" */
	unsigned timeout_s;   /* a boot without a report after this long shows as timed out; 0: never */
};

/* A new boot; the token names it in URLs and the report. */
int boots_create(struct boots *b, const struct boots_new *n, char token[BOOTS_TOKEN_LEN]);
/* The daemon itself gave up on the boot (e.g. a UEFI machine whose variant has no EFI kernel):
 * it shows as failed with reason (cut at BOOTS_REASON_MAX bytes) at once, not as pending until
 * it times out. -ENOENT for an unknown token. */
int boots_fail(struct boots *b, const char *token, const char *reason);
/* Record "script served", "kernel sent", "initrd sent". -ENOENT for an unknown token. */
int boots_event(struct boots *b, const char *token, const char *state);
/* The artifact a boot was created for (for /boot/TOKEN/kernel). */
int boots_artifact(struct boots *b, const char *token, char artifact[65]);
/* Store a validated report durably (fsync) before returning. token may be empty: the report is
 * then filed under the machine's last boot, or a new one. */
int boots_report(struct boots *b, const char *token, const char *machine, bool ok, json_t *report);
/* JSON views: one boot, and every machine's last boot. Each boot has "firmware" ("bios", "uefi"
 * or "unknown") and "reason" (why the daemon failed it, else null). */
json_t *boots_boot_json(struct boots *b, const char *token);
json_t *boots_machines_json(struct boots *b);
/* Check a guest's report body; on success *ok says whether every payload checked out. */
int boots_validate_report(json_t *report, const char **token, const char **machine, bool *ok,
			  char *err, size_t errlen);

#endif
