/* bootlog.h - the records of boots in STATE/boots.log: their lines, their replay, compaction. */
#ifndef TINYBOOT_BOOTLOG_H
#define TINYBOOT_BOOTLOG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct boot;
struct bootset;
struct journal_writer;

/* One JSON object per line, keys sorted (the replay's fast path for reports relies on it). */
json_t *bootlog_boot_line(const struct boot *bt);
json_t *bootlog_event_line(const char *token, const char *state, double at);
json_t *bootlog_fail_line(const char *token, const char *reason, double at);
/* report NULL: a report that is no longer held in memory (written by a compaction) */
json_t *bootlog_report_line(const char *token, bool ok, json_t *report, double at);
/* A record's text as it is written: compact JSON, keys sorted. line is consumed (NULL, as a
 * failed *_line gives, is -ENOMEM); *text is malloc'd. */
int bootlog_text(json_t *line, char **text);
/* Replay one line into the bootset ctx (a journal_line_fn). Lines of boots no longer held, and
 * lines that are not records, are passed over. */
void bootlog_replay(void *ctx, const char *line, size_t len);
/* After a replay: give the boots it kept their public ids. 0 or -errno. */
int bootlog_index(struct bootset *s);
/* Write every boot held as journal records, in the order they were added (a journal_emit_fn;
 * ctx is the bootset): what a replay of the compacted journal rebuilds. */
int bootlog_emit(void *ctx, struct journal_writer *w);

#endif
