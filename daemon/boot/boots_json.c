/* boots_json.c - what memory holds, as the API shows it: one boot, a machine's last boot, the
 * machines, usage and outcome counts. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "boot/boots.h"
#include "boot/boots_internal.h"
#include "boot/bootset.h"
#include "boot/report.h"
#include "lib/names.h"

static const char *const boots_outcome_names[BOOTS_OUTCOMES] = {
	[BOOTS_OK] = "ok", [BOOTS_FAILED] = "failed", [BOOTS_TIMED_OUT] = "timed out",
	[BOOTS_PENDING] = "pending",
};

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
