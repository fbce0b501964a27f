/* journal.c - an append-only file of one record per line: replay, torn-tail cut, safe append,
 * group commit (many records, one fdatasync), rewrite. */
#include "boot/journal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/log.h"

#define JOURNAL_READ_CHUNK (1024 * 1024)

struct journal {
	int fd;
	off_t size;     /* end of the last complete record: where the next one goes */
	bool torn;      /* a failed append could not be cut back: cut before the next one */
	char *buf;      /* the record and its newline, as written */
	size_t bufcap;
	/* Group commit: from the first group record not yet durable (cut_at; -1: none) to the end,
	 * the records written, kept so that a failed sync can take the group ones back and write
	 * the others again. Bounded by what is written while one fdatasync runs. */
	off_t cut_at;
	char *tail;
	size_t tail_len, tail_cap;
	struct journal_rec *recs;
	size_t nrecs, recs_cap;
	unsigned long long syncs; /* fdatasyncs that made records durable */
	char path[];
};

struct journal_rec {
	size_t len; /* with its newline */
	bool group;
};

struct journal_writer {
	FILE *f;
	off_t size;
};

/* Hand each complete line of the file to fn; *good_end is the offset after the last newline. */
static int journal_replay(struct journal *j, journal_line_fn fn, void *ctx, off_t *good_end,
			  size_t *skipped)
{
	size_t cap = JOURNAL_RECORD_MAX + JOURNAL_READ_CHUNK, have = 0;
	char *buf = malloc(cap);
	bool skipping = false; /* inside a line over JOURNAL_RECORD_MAX: drop bytes up to its newline */
	off_t offset = 0;
	int rc = 0;

	if (!buf)
		return -ENOMEM;
	*good_end = 0;
	*skipped = 0;
	for (;;) {
		ssize_t n = pread(j->fd, buf + have, cap - have, offset);
		size_t start = 0;
		char *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			break;
		}
		if (n == 0)
			break;
		offset += n;
		have += (size_t)n;
		while ((nl = memchr(buf + start, '\n', have - start))) {
			size_t len = (size_t)(nl - (buf + start));

			if (skipping)
				skipping = false;
			else if (len > JOURNAL_RECORD_MAX)
				(*skipped)++;
			else
				fn(ctx, buf + start, len);
			start += len + 1;
			*good_end = offset - (off_t)(have - start);
		}
		memmove(buf, buf + start, have - start);
		have -= start;
		if (have > JOURNAL_RECORD_MAX) {
			/* no newline in sight: a line too long to be ours; skip to its end */
			if (!skipping)
				(*skipped)++;
			skipping = true;
			have = 0;
		}
	}
	free(buf);
	return rc;
}

int journal_open(const char *path, journal_line_fn fn, void *ctx, struct journal **out, char *err,
		 size_t errlen)
{
	size_t plen = strlen(path), skipped = 0;
	struct journal *j;
	struct stat st;
	off_t good_end = 0;
	char stale[4200];
	int rc;

	*out = NULL;
	/* a compaction that a crash interrupted before its rename: never read */
	if (snprintf(stale, sizeof(stale), "%s.compact", path) < (int)sizeof(stale))
		unlink(stale);
	j = calloc(1, sizeof(*j) + plen + 1);
	if (!j)
		return -ENOMEM;
	memcpy(j->path, path, plen + 1);
	j->cut_at = -1;
	/* O_APPEND: every record goes to the end, also after a cut back */
	j->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
	if (j->fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "open %s: %s", path, strerror(-rc));
		goto fail;
	}
	if (fstat(j->fd, &st) < 0) {
		rc = -errno;
		snprintf(err, errlen, "stat %s: %s", path, strerror(-rc));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		snprintf(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	rc = journal_replay(j, fn, ctx, &good_end, &skipped);
	if (rc) {
		snprintf(err, errlen, "read %s: %s", path, strerror(-rc));
		goto fail;
	}
	if (skipped)
		log_warnx("%s: skipped %zu lines longer than %d bytes", path, skipped, JOURNAL_RECORD_MAX);
	if (fstat(j->fd, &st) == 0 && st.st_size > good_end) {
		/* a record torn by a crash or a full disk: it was never acknowledged, and the next
		 * record must not be glued to it */
		if (ftruncate(j->fd, good_end) < 0 || fdatasync(j->fd) < 0) {
			rc = -errno;
			snprintf(err, errlen, "cut the torn end of %s: %s", path, strerror(-rc));
			goto fail;
		}
		log_warnx("%s: cut %lld bytes of a torn last record", path,
			  (long long)(st.st_size - good_end));
	}
	j->size = good_end;
	*out = j;
	return 0;
fail:
	journal_close(j);
	return rc;
}

void journal_close(struct journal *j)
{
	if (!j)
		return;
	if (j->fd >= 0)
		close(j->fd);
	free(j->buf);
	free(j->tail);
	free(j->recs);
	free(j);
}

off_t journal_size(const struct journal *j)
{
	return j->size;
}

/* Write rec and its newline at the end; on failure the file is cut back to where it was. */
static int journal_write_line(struct journal *j, const char *rec, size_t len)
{
	int rc;

	if (j->bufcap < len + 1) {
		char *nb = realloc(j->buf, len + 1);

		if (!nb)
			return -ENOMEM;
		j->buf = nb;
		j->bufcap = len + 1;
	}
	memcpy(j->buf, rec, len);
	j->buf[len] = '\n';
	if (j->torn) {
		if (ftruncate(j->fd, j->size) < 0) {
			rc = -errno;
			log_warnx("%s: cut a torn record: %s", j->path, strerror(-rc));
			return rc;
		}
		j->torn = false;
	}
	rc = fsutil_write_all(j->fd, j->buf, len + 1);
	if (rc) {
		log_warnx("%s: append a record: %s", j->path, strerror(-rc));
		/* whatever part reached the file goes: the next record must start on a line of its own */
		if (ftruncate(j->fd, j->size) < 0)
			j->torn = true;
		return rc;
	}
	j->size += (off_t)(len + 1);
	return 0;
}

/* Room in the kept tail for one more record of len bytes (newline included). */
static int journal_tail_reserve(struct journal *j, size_t len)
{
	if (j->tail_cap - j->tail_len < len) {
		size_t cap = j->tail_cap ? j->tail_cap : 4096;
		char *nt;

		while (cap - j->tail_len < len)
			cap *= 2;
		nt = realloc(j->tail, cap);
		if (!nt)
			return -ENOMEM;
		j->tail = nt;
		j->tail_cap = cap;
	}
	if (j->nrecs == j->recs_cap) {
		size_t cap = j->recs_cap ? j->recs_cap * 2 : 64;
		struct journal_rec *nr = realloc(j->recs, cap * sizeof(*nr));

		if (!nr)
			return -ENOMEM;
		j->recs = nr;
		j->recs_cap = cap;
	}
	return 0;
}

int journal_write(struct journal *j, const char *rec, size_t len, bool group)
{
	bool keep = group || j->cut_at >= 0;
	off_t before = j->size;
	int rc;

	if (len > JOURNAL_RECORD_MAX || memchr(rec, '\n', len))
		return -EINVAL;
	if (keep && (rc = journal_tail_reserve(j, len + 1)))
		return rc;
	rc = journal_write_line(j, rec, len);
	if (rc || !keep)
		return rc;
	if (j->cut_at < 0)
		j->cut_at = before;
	memcpy(j->tail + j->tail_len, j->buf, len + 1);
	j->tail_len += len + 1;
	j->recs[j->nrecs++] = (struct journal_rec){ len + 1, group };
	return 0;
}

int journal_sync(struct journal *j)
{
	if (fdatasync(j->fd) < 0) {
		int rc = -errno;

		log_warnx("%s: sync: %s", j->path, strerror(-rc));
		return rc;
	}
	__atomic_add_fetch(&j->syncs, 1, __ATOMIC_RELAXED); /* journal_sync runs outside any lock */
	return 0;
}

/* Forget the first n kept records (their bytes start the tail). */
static void journal_tail_drop(struct journal *j, size_t n)
{
	size_t bytes = 0;

	for (size_t i = 0; i < n; i++)
		bytes += j->recs[i].len;
	memmove(j->tail, j->tail + bytes, j->tail_len - bytes);
	j->tail_len -= bytes;
	memmove(j->recs, j->recs + n, (j->nrecs - n) * sizeof(*j->recs));
	j->nrecs -= n;
	j->cut_at += (off_t)bytes;
}

void journal_synced(struct journal *j, off_t upto, int rc)
{
	size_t i = 0, rewritten = 0, lost = 0, taken = 0;
	off_t at;

	if (j->cut_at < 0)
		return;
	if (!rc) {
		/* durable now: what ends by upto; then the other records before the next group
		 * record, which a failed sync would no longer need to write again */
		for (at = j->cut_at; i < j->nrecs && at + (off_t)j->recs[i].len <= upto; i++)
			at += (off_t)j->recs[i].len;
		while (i < j->nrecs && !j->recs[i].group)
			i++;
		journal_tail_drop(j, i);
		if (!j->nrecs)
			j->cut_at = -1;
		return;
	}
	/* Nothing written since the first group record is known to be on disk: it all goes, so a
	 * later record never follows a torn one; the records that were never promised durable
	 * (written by others meanwhile, already in memory) are written again. */
	if (ftruncate(j->fd, j->cut_at) < 0)
		j->torn = true;
	j->size = j->cut_at;
	for (size_t off = 0; i < j->nrecs; off += j->recs[i++].len) {
		if (j->recs[i].group)
			taken++;
		else if (journal_write_line(j, j->tail + off, j->recs[i].len - 1) == 0)
			rewritten++;
		else
			lost++;
	}
	log_warnx("%s: sync failed: took back %zu record(s) waiting for it; wrote %zu other(s) again, %zu lost",
		  j->path, taken, rewritten, lost);
	j->tail_len = 0;
	j->nrecs = 0;
	j->cut_at = -1;
}

bool journal_pending(const struct journal *j)
{
	return j->cut_at >= 0;
}

unsigned long long journal_syncs(const struct journal *j)
{
	return __atomic_load_n(&j->syncs, __ATOMIC_RELAXED);
}

int journal_append(struct journal *j, const char *rec, size_t len, bool durable)
{
	off_t before = j->size;
	int rc = journal_write(j, rec, len, false);

	if (rc || !durable)
		return rc;
	rc = journal_sync(j);
	if (rc) {
		/* only this record goes: the group records before it are journal_synced's */
		if (ftruncate(j->fd, before) < 0)
			j->torn = true;
		j->size = before;
		if (j->nrecs) {
			j->nrecs--;
			j->tail_len -= len + 1;
		}
		return rc;
	}
	journal_synced(j, j->size, 0);
	return 0;
}

int journal_put(struct journal_writer *w, const char *rec, size_t len)
{
	if (len > JOURNAL_RECORD_MAX || memchr(rec, '\n', len))
		return -EINVAL;
	if (fwrite(rec, 1, len, w->f) != len || putc('\n', w->f) == EOF)
		return errno ? -errno : -EIO;
	w->size += (off_t)(len + 1);
	return 0;
}

/* PATH.YYYYMMDDTHHMMSSZ (or -2, -3... when taken) as a second name of the current file. */
static int journal_archive(const struct journal *j, char *archive, size_t len)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (int n = 1; n < 100; n++) {
		int w = n == 1 ? snprintf(archive, len, "%s.%s", j->path, stamp)
			       : snprintf(archive, len, "%s.%s-%d", j->path, stamp, n);

		if (w < 0 || (size_t)w >= len)
			return -ENAMETOOLONG;
		if (link(j->path, archive) == 0)
			return 0;
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

int journal_rewrite(struct journal *j, journal_emit_fn emit, void *ctx, char *archive,
		    size_t archivelen)
{
	struct journal_writer w = { 0 };
	char tmp[4200];
	int fd, rc;

	archive[0] = '\0';
	if (j->cut_at >= 0)
		return -EBUSY; /* records wait for their sync: memory does not hold them yet */
	if (snprintf(tmp, sizeof(tmp), "%s.compact", j->path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	/* the new file's descriptor is the journal's from the rename on */
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		rc = -errno;
		log_warnx("%s: compact: open %s: %s", j->path, tmp, strerror(-rc));
		return rc;
	}
	w.f = fdopen(dup(fd), "w");
	if (!w.f) {
		rc = -errno;
		goto fail;
	}
	errno = 0;
	rc = emit(ctx, &w);
	if (fclose(w.f) != 0 && !rc)
		rc = errno ? -errno : -EIO;
	if (!rc && fsync(fd) < 0)
		rc = -errno;
	if (!rc)
		rc = journal_archive(j, archive, archivelen);
	if (rc)
		goto fail;
	if (rename(tmp, j->path) < 0) {
		rc = -errno;
		unlink(archive);
		archive[0] = '\0';
		goto fail;
	}
	fsutil_fsync_parent(j->path);
	close(j->fd);
	j->fd = fd;
	j->size = w.size;
	j->torn = false;
	return 0;
fail:
	log_warnx("%s: compact: %s", j->path, strerror(-rc));
	close(fd);
	unlink(tmp);
	return rc;
}

/* NAME is BASE.YYYYMMDDTHHMMSSZ or BASE.YYYYMMDDTHHMMSSZ-N: an archive journal_archive made. */
static bool journal_is_archive(const char *name, const char *base, unsigned *seq)
{
	size_t blen = strlen(base);
	const char *p = name + blen + 1;

	if (strncmp(name, base, blen) != 0 || name[blen] != '.')
		return false;
	for (int i = 0; i < 16; i++) {
		bool want_digit = i != 8 && i != 15;

		if (want_digit ? !isdigit((unsigned char)p[i]) : p[i] != (i == 8 ? 'T' : 'Z'))
			return false;
	}
	*seq = 1;
	if (p[16] == '\0')
		return true;
	if (p[16] != '-' || !isdigit((unsigned char)p[17]))
		return false;
	*seq = (unsigned)strtoul(p + 17, (char **)&p, 10);
	return *p == '\0';
}

struct journal_old {
	char name[256];
	char stamp[17]; /* YYYYMMDDTHHMMSSZ */
	unsigned seq;
};

/* Oldest first: by time stamp, then by the -N that journal_archive added within one second. */
static int journal_old_cmp(const void *a, const void *b)
{
	const struct journal_old *x = a, *y = b;
	int c = strcmp(x->stamp, y->stamp);

	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

int journal_prune_archives(const struct journal *j, unsigned keep)
{
	char dir[4096], base[256];
	struct journal_old *old = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	int deleted = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s", j->path);
	snprintf(base, sizeof(base), "%s", strrchr(j->path, '/') ? strrchr(j->path, '/') + 1 : j->path);
	d = opendir(dirname(dir));
	if (!d)
		return -errno;
	while ((e = readdir(d)) != NULL) {
		unsigned seq;

		if (strlen(e->d_name) >= sizeof(old->name) || !journal_is_archive(e->d_name, base, &seq))
			continue;
		if (n == cap) {
			struct journal_old *grown = realloc(old, (cap = cap ? cap * 2 : 16) * sizeof(*old));

			if (!grown)
				break;
			old = grown;
		}
		snprintf(old[n].name, sizeof(old[n].name), "%s", e->d_name);
		snprintf(old[n].stamp, sizeof(old[n].stamp), "%s", e->d_name + strlen(base) + 1);
		old[n++].seq = seq;
	}
	if (n > keep) {
		qsort(old, n, sizeof(*old), journal_old_cmp);
		for (size_t i = 0; i < n - keep; i++) {
			if (unlinkat(dirfd(d), old[i].name, 0) == 0) {
				log_info("%s: deleted the old journal %s (keeping the newest %u)", j->path,
					 old[i].name, keep);
				deleted++;
			} else {
				log_warn("%s: delete the old journal %s", j->path, old[i].name);
			}
		}
	}
	closedir(d);
	free(old);
	return deleted;
}
