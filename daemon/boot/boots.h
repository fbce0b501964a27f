/* boots.h - every boot the daemon hands out, its events, its report, and its timeout. */
#ifndef TINYBOOT_BOOTS_H
#define TINYBOOT_BOOTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define BOOTS_TOKEN_LEN 33 /* 32 hex digits + NUL */
#define BOOTS_MAX 4096      /* boots kept in memory; older ones live on in the journal only */

struct boots;

/* Open STATE/boots.log and replay it, so boots and reports survive restarts. */
int boots_open(const char *state_dir, struct boots **out, char *err, size_t errlen);
void boots_free(struct boots *b);
/* A new boot of machine (name, mac) with variant/artifact; the token names it in URLs and the
 * report. A boot without a report after timeout_s seconds shows as timed out. */
int boots_create(struct boots *b, const char *machine, const char *mac, const char *variant,
		 const char *artifact, unsigned timeout_s, char token[BOOTS_TOKEN_LEN]);
/* Record "script served", "kernel sent", "initrd sent". -ENOENT for an unknown token. */
int boots_event(struct boots *b, const char *token, const char *state);
/* The artifact a boot was created for (for /boot/TOKEN/kernel). */
int boots_artifact(struct boots *b, const char *token, char artifact[65]);
/* Store a validated report durably (fsync) before returning. token may be empty: the report is
 * then filed under the machine's last boot, or a new one. */
int boots_report(struct boots *b, const char *token, const char *machine, bool ok, json_t *report);
/* JSON views: one boot, and every machine's last boot. */
json_t *boots_boot_json(struct boots *b, const char *token);
json_t *boots_machines_json(struct boots *b);
/* Check a guest's report body; on success *ok says whether every payload checked out. */
int boots_validate_report(json_t *report, const char **token, const char **machine, bool *ok,
			  char *err, size_t errlen);

#endif
