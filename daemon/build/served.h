/* served.h - when each artifact was last served: kept in memory, and written to disk as the
 * artifact directory's mtime (at most once a minute per artifact), so the order in which
 * retention evicts survives restarts without a file of its own. */
#ifndef TINYBOOT_SERVED_H
#define TINYBOOT_SERVED_H

#include "lib/digest.h"

struct served;

/* artifacts_fd: STATE/artifacts (borrowed: it must outlive the table). 0 or -ENOMEM. */
int served_new(int artifacts_fd, struct served **out);
void served_free(struct served *sv); /* NULL-tolerant */
/* An artifact (64 hex digits) is being sent now. Cheap: a lock and a short scan; the mtime is
 * written when the one on disk is a minute old. */
void served_note(struct served *sv, const char *artifact);
/* When the artifact was last served, as far as this run knows (Unix seconds); 0 when not. */
double served_get(struct served *sv, const char *artifact);
/* Forget an artifact (it was removed). */
void served_forget(struct served *sv, const char *artifact);

#endif
