/* boots.c - boot records: created, noted, failed and reported, journaled before memory changes;
 * reports wait for a committer thread that makes many durable with one fdatasync. */
#include "boot/boots.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "boot/bootlog.h"
#include "boot/bootset.h"
#include "boot/journal.h"
#include "boot/report.h"
#include "lib/histogram.h"
#include "lib/log.h"
#include "lib/names.h"

/* A report written to the journal, waiting for the sync that makes it durable. */
struct boots_waiter {
	struct boots_waiter *next;
	char token[BOOTS_TOKEN_LEN];
	bool ok;
	char *stored; /* the report text memory takes once it is durable */
	double at;
	boots_done_fn done;
	void *arg;
};

struct boots {
	pthread_mutex_t lock;
	pthread_cond_t wake;    /* the committer: reports wait, or stop */
	pthread_t committer;
	bool committer_running, stopping;
	bool syncing;           /* the committer's fdatasync runs, outside the lock */
	struct boots_waiter *waiting, **waiting_end; /* written, not in a sync yet */
	struct journal *journal;
	struct bootset *set;
	size_t compact_bytes;
	unsigned keep_archives;
	off_t compact_at; /* the journal is compacted once it is this large */
	struct histogram report_delay; /* report time minus "kernel sent" time, this run's reports */
};

/* A guest reports once its payloads ran: seconds for a tiny initramfs, minutes for real work. */
static const double boots_report_delay_bounds[] = { 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800 };

static const char *const boots_outcome_names[BOOTS_OUTCOMES] = {
	[BOOTS_OK] = "ok", [BOOTS_FAILED] = "failed", [BOOTS_TIMED_OUT] = "timed out",
	[BOOTS_PENDING] = "pending",
};

static double boots_now(void)
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

int boots_create(struct boots *b, const struct boots_new *n, char token[BOOTS_TOKEN_LEN])
{
	unsigned char rnd[16];
	double now = boots_now();
	struct boot *bt;
	int rc;

	if (!n || !n->machine)
		return -EINVAL;
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return -EIO;
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(token + 2 * i, 3, "%02x", rnd[i]);
	bt = bootset_boot_new(token, n, now, true);
	if (!bt)
		return -ENOMEM;
	pthread_mutex_lock(&b->lock);
	rc = boots_journal(b, bootlog_boot_line(bt), false);
	if (rc) {
		free(bt);
	} else {
		bootset_add(b->set, bt);
		boots_journal_done(b);
	}
	pthread_mutex_unlock(&b->lock);
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
		*b->waiting_end = w;
		b->waiting_end = &w->next;
		pthread_cond_signal(&b->wake);
	}
	pthread_mutex_unlock(&b->lock);
	if (rc) {
		free(w->stored);
		free(w);
	}
	return rc;
}

/* Under the lock, after the sync of w's record: memory takes the report when it is durable. */
static void boots_commit_one(struct boots *b, struct boots_waiter *w, int rc)
{
	/* the boot may have left memory meanwhile (a flood of newer boots): the record stays */
	struct boot *bt = bootset_by_token(b->set, w->token);

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

/* The committer: one fdatasync for every report written before it began (those written while
 * it runs go with the next), then memory takes them and each is answered. */
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
			free(w->stored);
			free(w);
		}
		pthread_mutex_lock(&b->lock);
	}
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

struct boots_report_wait {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	int rc;
};

static void boots_report_woken(void *arg, int rc)
{
	struct boots_report_wait *rw = arg;

	pthread_mutex_lock(&rw->lock);
	rw->rc = rc;
	rw->done = true;
	pthread_cond_signal(&rw->cond);
	pthread_mutex_unlock(&rw->lock);
}

int boots_report(struct boots *b, const char *token, const char *machine, bool ok, json_t *report)
{
	struct boots_report_wait rw = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, 0 };
	int rc = boots_report_async(b, token, machine, ok, report, boots_report_woken, &rw);

	if (!rc) {
		pthread_mutex_lock(&rw.lock);
		while (!rw.done)
			pthread_cond_wait(&rw.cond, &rw.lock);
		rc = rw.rc;
		pthread_mutex_unlock(&rw.lock);
	}
	pthread_cond_destroy(&rw.cond);
	pthread_mutex_destroy(&rw.lock);
	return rc;
}

unsigned long long boots_journal_syncs(struct boots *b)
{
	return journal_syncs(b->journal);
}

static enum boots_outcome boots_outcome_of(const struct boot *bt, double now)
{
	if (bt->reported)
		return bt->ok ? BOOTS_OK : BOOTS_FAILED;
	if (bt->failed)
		return BOOTS_FAILED;
	if (bt->timeout_s && now - bt->created > bt->timeout_s)
		return BOOTS_TIMED_OUT;
	return BOOTS_PENDING;
}

const char *boots_outcome_name(enum boots_outcome o)
{
	return o < BOOTS_OUTCOMES ? boots_outcome_names[o] : "?";
}

static json_t *boots_one_json(const struct boot *bt, double now)
{
	json_t *events = json_array(), *report = NULL, *held;
	const char *result;

	for (size_t i = 0; i < bt->nevents; i++) {
		char stamp[32];
		time_t t = (time_t)bt->events[i].at;
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
		json_array_append_new(events, json_pack("{s:s, s:s, s:f}", "state", bt->events[i].state,
							"at", stamp, "after_s",
							bt->events[i].at - bt->created));
	}
	result = boots_outcome_name(boots_outcome_of(bt, now));
	if (!bt->reported && strcmp(result, "timed out") == 0)
		json_array_append_new(events, json_pack("{s:s, s:f}", "state", "timed out", "after_s",
							(double)bt->timeout_s));
	if (bt->report) {
		/* a replay keeps report text as the journal had it: show the known fields only */
		held = json_loadb(bt->report, bt->report_len, 0, NULL);
		report = report_filter(held);
		json_decref(held);
	}
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s?, s:f, s:o, s:o?}", "boot", bt->id,
			 "machine", bt->machine, "mac", bt->mac, "variant", bt->variant, "artifact",
			 bt->artifact, "firmware", bt->firmware, "result", result, "reason",
			 bt->failed ? bt->reason : NULL, "created", bt->created, "events", events,
			 "report", report);
}

json_t *boots_boot_json(struct boots *b, const char *key)
{
	struct boot *bt = NULL;
	json_t *j = NULL;

	pthread_mutex_lock(&b->lock);
	if (names_hex_lower(key, 32))
		bt = bootset_by_token(b->set, key);
	else if (names_hex_lower(key, BOOTS_ID_LEN - 1))
		bt = bootset_by_id(b->set, key);
	if (bt)
		j = boots_one_json(bt, boots_now());
	pthread_mutex_unlock(&b->lock);
	return j;
}

json_t *boots_machine_json(struct boots *b, const char *machine)
{
	struct boot *bt;
	json_t *j = NULL;

	pthread_mutex_lock(&b->lock);
	bt = bootset_last_of(b->set, machine);
	if (bt)
		j = boots_one_json(bt, boots_now());
	pthread_mutex_unlock(&b->lock);
	return j;
}

int boots_machine_names(struct boots *b, char (**names)[33], size_t *n)
{
	const struct boot **v;
	int rc;

	*names = NULL;
	pthread_mutex_lock(&b->lock);
	rc = bootset_machines(b->set, &v, n);
	if (!rc && *n) {
		*names = malloc(*n * sizeof(**names));
		if (!*names)
			rc = -ENOMEM;
		for (size_t i = 0; !rc && i < *n; i++)
			memcpy((*names)[i], v[i]->machine, sizeof((*names)[i]));
	}
	pthread_mutex_unlock(&b->lock);
	free(v);
	if (rc)
		*n = 0;
	return rc;
}

void boots_usage(struct boots *b, bool unlisted, size_t *boots, size_t *report_bytes)
{
	pthread_mutex_lock(&b->lock);
	bootset_usage(b->set, unlisted, boots, report_bytes);
	pthread_mutex_unlock(&b->lock);
}

int boots_outcomes(struct boots *b, size_t counts[BOOTS_OUTCOMES])
{
	struct boot **held;
	double now = boots_now();
	size_t n;
	int rc;

	memset(counts, 0, BOOTS_OUTCOMES * sizeof(counts[0]));
	pthread_mutex_lock(&b->lock);
	rc = bootset_held(b->set, &held, &n);
	for (size_t i = 0; !rc && i < n; i++)
		counts[boots_outcome_of(held[i], now)]++;
	pthread_mutex_unlock(&b->lock);
	if (!rc)
		free(held);
	return rc;
}

int boots_pending_artifacts(struct boots *b, void (*fn)(void *arg, const char *artifact), void *arg)
{
	struct boot **held;
	double now = boots_now();
	size_t n;
	int rc;

	pthread_mutex_lock(&b->lock);
	rc = bootset_held(b->set, &held, &n);
	for (size_t i = 0; !rc && i < n; i++)
		if (held[i]->artifact[0] && boots_outcome_of(held[i], now) == BOOTS_PENDING)
			fn(arg, held[i]->artifact);
	pthread_mutex_unlock(&b->lock);
	if (!rc)
		free(held);
	return rc;
}

const struct histogram *boots_report_delay(const struct boots *b)
{
	return &b->report_delay;
}
