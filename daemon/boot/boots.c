/* boots.c - boot records: created, noted, failed and reported, journaled before memory changes;
 * new boots and reports wait for a committer thread that makes many durable with one fdatasync. */
#include "boot/boots.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "boot/bootlog.h"
#include "boot/boots_internal.h"
#include "boot/bootset.h"
#include "boot/journal.h"
#include "boot/report.h"
#include "lib/histogram.h"
#include "lib/log.h"
#include "lib/names.h"

/* A guest reports once its payloads ran: seconds for a tiny initramfs, minutes for real work. */
static const double boots_report_delay_bounds[] = { 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800 };

double boots_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *boots_committer(void *arg);

/* Rewrite the journal with what memory holds; the old file stays as an archive. */
static void boots_compact(struct boots *b, const char *why)
{
	off_t before = journal_size(b->journal);
	char archive[4200];
	int rc = journal_rewrite(b->journal, bootlog_emit, b->set, archive, sizeof(archive));

	/* failed or not: the next try waits until the journal has grown again */
	b->compact_at = journal_size(b->journal) + (off_t)b->compact_bytes;
	if (!rc) {
		log_info("boots.log: compacted %s: %lld bytes -> %lld (the old journal is %s)", why,
			 (long long)before, (long long)journal_size(b->journal), archive);
		journal_prune_archives(b->journal, b->keep_archives);
	}
}

/* One JSON object per line (line is consumed); reports are fsync'd before they are answered. */
static int boots_journal(struct boots *b, json_t *line, bool durable)
{
	char *text;
	int rc = bootlog_text(line, &text);

	if (rc)
		return rc;
	rc = journal_append(b->journal, text, strlen(text), durable);
	free(text);
	return rc;
}

/* After memory took the record: compact a journal that grew too large. Not while reports wait
 * for their sync: the rewrite writes what memory holds, and memory does not hold them yet (the
 * committer tries again once they are in). */
static void boots_journal_done(struct boots *b)
{
	if (b->syncing || journal_pending(b->journal))
		return;
	if (journal_size(b->journal) > b->compact_at)
		boots_compact(b, "as it grew");
}

int boots_open_limits(const char *state_dir, const struct boots_limits *limits, struct boots **out,
		      char *err, size_t errlen)
{
	struct bootset_budget budgets[2] = {
		{ limits->boots, limits->report_bytes },
		{ limits->unlisted_boots, limits->unlisted_report_bytes },
	};
	size_t boots[2], bytes[2];
	char path[4096];
	struct boots *b;
	int rc;

	*out = NULL;
	if (snprintf(path, sizeof(path), "%s/boots.log", state_dir) >= (int)sizeof(path)) {
		snprintf(err, errlen, "state directory path too long");
		return -ENAMETOOLONG;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->wake, NULL);
	b->waiting_end = &b->waiting;
	histogram_init(&b->report_delay, boots_report_delay_bounds,
		       sizeof(boots_report_delay_bounds) / sizeof(boots_report_delay_bounds[0]));
	b->compact_bytes = limits->compact_bytes;
	b->keep_archives = limits->keep_archives;
	b->set = bootset_new(budgets);
	rc = b->set ? journal_open(path, bootlog_replay, b->set, &b->journal, err, errlen) : -ENOMEM;
	if (!rc && (rc = bootlog_index(b->set)))
		snprintf(err, errlen, "index the boots of %s: %s", path, strerror(-rc));
	if (rc) {
		boots_free(b);
		return rc;
	}
	/* what a compacted journal would hold, roughly; past it by compact_bytes, compact now, so
	 * the next start reads about what memory holds */
	bootset_usage(b->set, 0, &boots[0], &bytes[0]);
	bootset_usage(b->set, 1, &boots[1], &bytes[1]);
	b->compact_at = (off_t)(bytes[0] + bytes[1] + 512 * (boots[0] + boots[1]) + b->compact_bytes);
	if (journal_size(b->journal) > b->compact_at)
		boots_compact(b, "at start-up");
	rc = pthread_create(&b->committer, NULL, boots_committer, b);
	if (rc) {
		snprintf(err, errlen, "start the journal's committer: %s", strerror(rc));
		boots_free(b);
		return -rc;
	}
	b->committer_running = true;
	*out = b;
	return 0;
}

int boots_open(const char *state_dir, struct boots **out, char *err, size_t errlen)
{
	static const struct boots_limits defaults = {
		BOOTS_MAX, BOOTS_REPORT_BYTES, BOOTS_UNLISTED_MAX, BOOTS_UNLISTED_REPORT_BYTES,
		BOOTS_COMPACT_BYTES, BOOTS_LOG_KEEP,
	};

	return boots_open_limits(state_dir, &defaults, out, err, errlen);
}

void boots_free(struct boots *b)
{
	if (!b)
		return;
	if (b->committer_running) {
		/* it answers every report still waiting first */
		pthread_mutex_lock(&b->lock);
		b->stopping = true;
		pthread_cond_signal(&b->wake);
		pthread_mutex_unlock(&b->lock);
		pthread_join(b->committer, NULL);
	}
	bootset_free(b->set);
	journal_close(b->journal);
	pthread_cond_destroy(&b->wake);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

/* Under the lock: w's record is written; it waits for the committer's next sync. */
static void boots_wait(struct boots *b, struct boots_waiter *w)
{
	*b->waiting_end = w;
	b->waiting_end = &w->next;
	pthread_cond_signal(&b->wake);
}

static void boots_waiter_free(struct boots_waiter *w)
{
	free(w->created);
	free(w->stored);
	free(w);
}

int boots_create_async(struct boots *b, const struct boots_new *n, char token[BOOTS_TOKEN_LEN],
		       boots_done_fn done, void *arg)
{
	unsigned char rnd[16];
	struct boots_waiter *w;
	char *text;
	int rc;

	if (!n || !n->machine || !done)
		return -EINVAL;
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return -EIO;
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(token + 2 * i, 3, "%02x", rnd[i]);
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->created = bootset_boot_new(token, n, boots_now(), true);
	if (!w->created) {
		free(w);
		return -ENOMEM;
	}
	memcpy(w->token, token, sizeof(w->token));
	w->done = done;
	w->arg = arg;
	pthread_mutex_lock(&b->lock);
	/* a group record: only the sync makes the boot exist; until then its token is unknown to
	 * every call (no event, report or failure lands on a boot that may still be taken back) */
	rc = bootlog_text(bootlog_boot_line(w->created), &text);
	if (!rc) {
		rc = journal_write(b->journal, text, strlen(text), true);
		free(text);
	}
	if (!rc)
		boots_wait(b, w);
	pthread_mutex_unlock(&b->lock);
	if (rc)
		boots_waiter_free(w);
	return rc;
}

int boots_fail(struct boots *b, const char *token, const char *reason)
{
	double now = boots_now();
	char cut[BOOTS_REASON_MAX + 1];
	struct boot *bt;
	int rc = -ENOENT;

	snprintf(cut, sizeof(cut), "%s", reason ? reason : "");
	pthread_mutex_lock(&b->lock);
	bt = bootset_by_token(b->set, token);
	if (bt && bt->reporting)
		rc = -EALREADY; /* the guest's own word is on its way to the disk */
	else if (bt)
		rc = boots_journal(b, bootlog_fail_line(token, cut, now), false);
	if (!rc) {
		bootset_fail(bt, cut, now);
		boots_journal_done(b);
	}
	pthread_mutex_unlock(&b->lock);
	return rc;
}

int boots_event(struct boots *b, const char *token, const char *state)
{
	double now = boots_now();
	struct boot *bt;
	int rc = -ENOENT;

	pthread_mutex_lock(&b->lock);
	bt = bootset_by_token(b->set, token);
	/* a full event list takes nothing more: a looping guest grows neither memory nor the file */
	if (bt)
		rc = bt->nevents == BOOTSET_EVENTS_MAX ? 0 : boots_journal(b, bootlog_event_line(token, state, now), false);
	if (bt && !rc && bt->nevents < BOOTSET_EVENTS_MAX) {
		bootset_note(bt, state, now);
		boots_journal_done(b);
	}
	pthread_mutex_unlock(&b->lock);
	return rc;
}

int boots_artifact(struct boots *b, const char *token, char artifact[65])
{
	struct boot *bt;
	int rc = -ENOENT;

	pthread_mutex_lock(&b->lock);
	bt = bootset_by_token(b->set, token);
	if (bt && bt->artifact[0]) {
		memcpy(artifact, bt->artifact, 65);
		rc = 0;
	}
	pthread_mutex_unlock(&b->lock);
	return rc;
}

int boots_report_async(struct boots *b, const char *token, const char *machine, bool ok,
		       json_t *report, boots_done_fn done, void *arg)
{
	struct boots_waiter *w;
	struct boot *bt;
	char *text;
	int rc;

	if (!token || !machine || !json_is_object(report) || !done)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->stored = json_dumps(report, JSON_COMPACT | JSON_SORT_KEYS);
	if (!w->stored) {
		free(w);
		return -ENOMEM;
	}
	w->ok = ok;
	w->at = boots_now();
	w->done = done;
	w->arg = arg;
	pthread_mutex_lock(&b->lock);
	bt = bootset_by_token(b->set, token);
	if (!bt)
		rc = -ENOENT;
	else if (strcmp(bt->machine, machine) != 0)
		rc = -EPERM;
	else if (bt->reported || bt->reporting || bt->failed)
		rc = -EALREADY;
	else
		rc = bootlog_text(bootlog_report_line(bt->token, ok, report, w->at), &text);
	if (!rc) {
		rc = journal_write(b->journal, text, strlen(text), true);
		free(text);
	}
	if (!rc) {
		memcpy(w->token, bt->token, sizeof(w->token));
		bt->reporting = true; /* a second report is a 409 from now on */
		boots_wait(b, w);
	}
	pthread_mutex_unlock(&b->lock);
	if (rc)
		boots_waiter_free(w);
	return rc;
}

/* Under the lock, after the sync of w's record: memory takes the boot or the report when it is
 * durable. */
static void boots_commit_one(struct boots *b, struct boots_waiter *w, int rc)
{
	struct boot *bt;

	if (w->created) {
		if (!rc) {
			bootset_add(b->set, w->created);
			w->created = NULL;
		}
		return;
	}
	/* the boot may have left memory meanwhile (a flood of newer boots): the record stays */
	bt = bootset_by_token(b->set, w->token);
	if (!bt)
		return;
	bt->reporting = false;
	if (rc)
		return;
	for (size_t i = 0; i < bt->nevents; i++)
		if (strcmp(bt->events[i].state, "kernel sent") == 0) {
			histogram_observe(&b->report_delay, w->at - bt->events[i].at);
			break;
		}
	bootset_reported(b->set, bt, w->ok, w->stored, w->at);
	w->stored = NULL;
}

/* The committer: one fdatasync for every new boot and report written before it began (those
 * written while it runs go with the next), then memory takes them and each is answered. */
static void *boots_committer(void *arg)
{
	struct boots *b = arg;

	pthread_mutex_lock(&b->lock);
	for (;;) {
		struct boots_waiter *batch, *w, *next;
		off_t upto;
		int rc;

		while (!b->waiting && !b->stopping)
			pthread_cond_wait(&b->wake, &b->lock);
		if (!b->waiting)
			break;
		batch = b->waiting;
		b->waiting = NULL;
		b->waiting_end = &b->waiting;
		upto = journal_size(b->journal);
		b->syncing = true;
		pthread_mutex_unlock(&b->lock);
		rc = journal_sync(b->journal);
		pthread_mutex_lock(&b->lock);
		b->syncing = false;
		journal_synced(b->journal, upto, rc);
		if (rc) {
			/* the reports written during the failed sync were taken back with it */
			for (w = batch; w->next; w = w->next)
				;
			w->next = b->waiting;
			b->waiting = NULL;
			b->waiting_end = &b->waiting;
		}
		for (w = batch; w; w = w->next)
			boots_commit_one(b, w, rc);
		boots_journal_done(b);
		pthread_mutex_unlock(&b->lock);
		for (w = batch; w; w = next) {
			next = w->next;
			w->done(w->arg, rc);
			boots_waiter_free(w);
		}
		pthread_mutex_lock(&b->lock);
	}
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

struct boots_sync_wait {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	int rc;
};

static void boots_sync_woken(void *arg, int rc)
{
	struct boots_sync_wait *rw = arg;

	pthread_mutex_lock(&rw->lock);
	rw->rc = rc;
	rw->done = true;
	pthread_cond_signal(&rw->cond);
	pthread_mutex_unlock(&rw->lock);
}

/* Wait for what an _async call started (rc 0) to be answered by the committer. */
static int boots_sync_await(struct boots_sync_wait *rw, int rc)
{
	if (!rc) {
		pthread_mutex_lock(&rw->lock);
		while (!rw->done)
			pthread_cond_wait(&rw->cond, &rw->lock);
		rc = rw->rc;
		pthread_mutex_unlock(&rw->lock);
	}
	pthread_cond_destroy(&rw->cond);
	pthread_mutex_destroy(&rw->lock);
	return rc;
}

int boots_report(struct boots *b, const char *token, const char *machine, bool ok, json_t *report)
{
	struct boots_sync_wait rw = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, 0 };

	return boots_sync_await(&rw, boots_report_async(b, token, machine, ok, report, boots_sync_woken, &rw));
}

int boots_create(struct boots *b, const struct boots_new *n, char token[BOOTS_TOKEN_LEN])
{
	struct boots_sync_wait rw = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, 0 };

	return boots_sync_await(&rw, boots_create_async(b, n, token, boots_sync_woken, &rw));
}

unsigned long long boots_journal_syncs(struct boots *b)
{
	return journal_syncs(b->journal);
}

