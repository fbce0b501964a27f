/* journal.h - an append-only file of one record per line that survives crashes and full disks. */
#ifndef TINYBOOT_JOURNAL_H
#define TINYBOOT_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The longest record journal_append takes, and so the longest line a replay must read. */
#define JOURNAL_RECORD_MAX (1024 * 1024)

struct journal;

/* Called once per complete line, in file order, without the newline. */
typedef void (*journal_line_fn)(void *ctx, const char *line, size_t len);

/* Open (create) path and hand every complete line to fn. A last line without its newline is a
 * record torn by a crash or a full disk (never acknowledged): it is cut off the file, and the
 * number of bytes cut is logged. Lines over JOURNAL_RECORD_MAX (never written by
 * journal_append) are skipped and counted. 0 or -errno with err filled. */
int journal_open(const char *path, journal_line_fn fn, void *ctx, struct journal **out, char *err,
		 size_t errlen);
void journal_close(struct journal *j);
/* Append rec (len bytes, no newline in it) and its newline; durable: fdatasync before
 * returning. On any failure the file is cut back to where it was, so a later record never
 * follows a torn one; the error is logged once with its real errno and returned. */
int journal_append(struct journal *j, const char *rec, size_t len, bool durable);
/* Group commit: many records, one fdatasync. journal_write appends without waiting for the
 * disk (0, or -errno with the file cut back); a group record is one a later journal_sync makes
 * durable and a failed one takes back. journal_sync is the fdatasync alone: it may run outside
 * the caller's lock while others write (never beside journal_rewrite). Under the lock again,
 * journal_synced(j, upto, rc) with upto = journal_size before the sync: rc 0 makes the group
 * records up to upto durable; a failure takes back every group record not yet durable (also
 * those written during the sync): the file is cut where the first began, so a later record
 * never follows a torn one, and the other records written since (never promised durable, held
 * in memory already) are written again. */
int journal_write(struct journal *j, const char *rec, size_t len, bool group);
int journal_sync(struct journal *j);
void journal_synced(struct journal *j, off_t upto, int rc);
/* Group records written and not yet durable: journal_rewrite waits (-EBUSY) until none. */
bool journal_pending(const struct journal *j);
/* fdatasyncs that made records durable (journal_sync, durable journal_append). */
unsigned long long journal_syncs(const struct journal *j);
/* Bytes of complete records in the file. */
off_t journal_size(const struct journal *j);

/* The new file of a journal_rewrite, being written. */
struct journal_writer;
/* Writes the records of the new file through journal_put; 0 or -errno. */
typedef int (*journal_emit_fn)(void *ctx, struct journal_writer *w);
int journal_put(struct journal_writer *w, const char *rec, size_t len);
/* Replace the file by the records emit writes, crash-safely: the new file is written beside it
 * (PATH.compact) and fsync'd; the old one is kept as PATH.YYYYMMDDTHHMMSSZ (archive names it; a
 * file the daemon never reads again); the new one takes PATH in one rename. At every step a crash
 * leaves PATH whole (old or new). On failure nothing changed; 0 or -errno, logged. */
/* Keep the newest `keep` archives of this journal (PATH.YYYYMMDDTHHMMSSZ[-N]) and delete the
 * older ones, each logged. Returns how many were deleted, or -errno when the directory cannot be
 * read. */
int journal_prune_archives(const struct journal *j, unsigned keep);
int journal_rewrite(struct journal *j, journal_emit_fn emit, void *ctx, char *archive,
		    size_t archivelen);

#endif
