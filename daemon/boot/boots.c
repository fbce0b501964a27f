/* boots.c - boot records: created, noted, failed and reported, journaled before memory changes. */
#include "boot/boots.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "boot/bootset.h"
#include "boot/journal.h"
#include "boot/report.h"
#include "lib/digest.h"
#include "lib/log.h"
#include "lib/names.h"

struct boots {
	pthread_mutex_t lock;
	struct journal *journal;
	struct bootset *set;
};

static double boots_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void boots_add_event(struct boot *bt, const char *state, double at)
{
	if (bt->nevents == BOOTSET_EVENTS_MAX)
		return;
	snprintf(bt->events[bt->nevents].state, sizeof(bt->events[0].state), "%s", state);
	bt->events[bt->nevents].at = at;
	bt->nevents++;
}

/* One JSON object per line (line is consumed); reports are fsync'd before they are answered. */
static int boots_journal(struct boots *b, json_t *line, bool durable)
{
	char *text;
	int rc;

	if (!line)
		return -ENOMEM;
	text = json_dumps(line, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(line);
	if (!text)
		return -ENOMEM;
	rc = journal_append(b->journal, text, strlen(text), durable);
	free(text);
	return rc;
}

/* Only the names the daemon writes; anything else (an older journal has none) is "unknown". */
static const char *boots_firmware_name(const char *firmware)
{
	if (firmware && (strcmp(firmware, "bios") == 0 || strcmp(firmware, "uefi") == 0))
		return firmware;
	return "unknown";
}

static struct boot *boots_new_boot(const char *token, const struct boots_new *n, double created)
{
	struct boot *bt = calloc(1, sizeof(*bt));
	char hex[DIGEST_HEX_LEN];

	if (!bt)
		return NULL;
	if (digest_sha256_buf(token, strlen(token), hex)) {
		free(bt);
		return NULL;
	}
	snprintf(bt->token, sizeof(bt->token), "%s", token);
	snprintf(bt->id, sizeof(bt->id), "%.16s", hex);
	snprintf(bt->machine, sizeof(bt->machine), "%s", n->machine ? n->machine : "");
	snprintf(bt->mac, sizeof(bt->mac), "%s", n->mac ? n->mac : "");
	snprintf(bt->variant, sizeof(bt->variant), "%s", n->variant ? n->variant : "");
	snprintf(bt->artifact, sizeof(bt->artifact), "%s", n->artifact ? n->artifact : "");
	snprintf(bt->firmware, sizeof(bt->firmware), "%s", boots_firmware_name(n->firmware));
	bt->timeout_s = n->timeout_s;
	bt->unlisted = n->unlisted;
	bt->created = created;
	boots_add_event(bt, "boot created", created);
	return bt;
}

static void boots_apply_fail(struct boot *bt, const char *reason, double at)
{
	bt->failed = true;
	snprintf(bt->reason, sizeof(bt->reason), "%s", reason ? reason : "");
	boots_add_event(bt, "boot failed", at);
}

/* text: the stored report, taken over (NULL: none kept in memory) */
static void boots_apply_report(struct boots *b, struct boot *bt, bool ok, char *text, double at)
{
	bt->reported = true;
	bt->ok = ok;
	if (text)
		bootset_hold_report(b->set, bt, text, strlen(text));
	boots_add_event(bt, ok ? "report: payloads ok" : "report: payloads failed", at);
}

static void boots_replay_boot(struct boots *b, json_t *line, const char *token, double at)
{
	struct boots_new n = {
		.machine = json_string_value(json_object_get(line, "machine")),
		.mac = json_string_value(json_object_get(line, "mac")),
		.variant = json_string_value(json_object_get(line, "variant")),
		.artifact = json_string_value(json_object_get(line, "artifact")),
		.firmware = json_string_value(json_object_get(line, "firmware")),
		.timeout_s = (unsigned)json_integer_value(json_object_get(line, "timeout_s")),
		.unlisted = json_is_true(json_object_get(line, "unlisted")),
	};
	struct boot *bt;

	if (!names_hex_lower(token, 32))
		return;
	bt = boots_new_boot(token, &n, at);
	if (bt)
		bootset_add(b->set, bt);
}

static void boots_replay_line(void *ctx, const char *text, size_t len)
{
	struct boots *b = ctx;
	json_t *line = json_loadb(text, len, 0, NULL);
	const char *type = json_string_value(json_object_get(line, "type"));
	const char *token = json_string_value(json_object_get(line, "token"));
	double at = json_number_value(json_object_get(line, "at"));
	struct boot *bt;

	if (!type || !token)
		goto out;
	if (strcmp(type, "boot") == 0) {
		boots_replay_boot(b, line, token, at);
		goto out;
	}
	bt = bootset_by_token(b->set, token);
	if (!bt)
		goto out; /* a boot no longer held: its lines stay in the journal only */
	if (strcmp(type, "event") == 0) {
		boots_add_event(bt, json_string_value(json_object_get(line, "state")) ?: "?", at);
	} else if (strcmp(type, "report") == 0) {
		/* journals from before reports were cut down hold whatever the guest sent */
		json_t *report = report_filter(json_object_get(line, "report"));
		char *stored = report ? json_dumps(report, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

		json_decref(report);
		boots_apply_report(b, bt, json_is_true(json_object_get(line, "ok")), stored, at);
	} else if (strcmp(type, "fail") == 0) {
		boots_apply_fail(bt, json_string_value(json_object_get(line, "reason")), at);
	}
out:
	json_decref(line);
}

int boots_open_limits(const char *state_dir, const struct boots_limits *limits, struct boots **out,
		      char *err, size_t errlen)
{
	struct bootset_budget budgets[2] = {
		{ limits->boots, limits->report_bytes },
		{ limits->unlisted_boots, limits->unlisted_report_bytes },
	};
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
	b->set = bootset_new(budgets);
	if (!b->set) {
		boots_free(b);
		return -ENOMEM;
	}
	rc = journal_open(path, boots_replay_line, b, &b->journal, err, errlen);
	if (rc) {
		boots_free(b);
		return rc;
	}
	*out = b;
	return 0;
}

int boots_open(const char *state_dir, struct boots **out, char *err, size_t errlen)
{
	static const struct boots_limits defaults = {
		BOOTS_MAX, BOOTS_REPORT_BYTES, BOOTS_UNLISTED_MAX, BOOTS_UNLISTED_REPORT_BYTES,
	};

	return boots_open_limits(state_dir, &defaults, out, err, errlen);
}

void boots_free(struct boots *b)
{
	if (!b)
		return;
	bootset_free(b->set);
	journal_close(b->journal);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

/* The journal line of a new boot, from what was stored (so replay sees the same values). */
static json_t *boots_boot_line(const struct boot *bt)
{
	json_t *line = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:f}", "type", "boot", "token",
				 bt->token, "machine", bt->machine, "mac", bt->mac, "variant", bt->variant,
				 "artifact", bt->artifact, "firmware", bt->firmware, "timeout_s",
				 (int)bt->timeout_s, "at", bt->created);

	if (line && bt->unlisted && json_object_set_new(line, "unlisted", json_true())) {
		json_decref(line);
		return NULL;
	}
	return line;
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
	bt = boots_new_boot(token, n, now);
	if (!bt)
		return -ENOMEM;
	pthread_mutex_lock(&b->lock);
	rc = boots_journal(b, boots_boot_line(bt), false);
	if (rc)
		free(bt);
	else
		bootset_add(b->set, bt);
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
	if (bt)
		rc = boots_journal(b, json_pack("{s:s, s:s, s:s, s:f}", "type", "fail", "token", token,
						"reason", cut, "at", now), false);
	if (!rc)
		boots_apply_fail(bt, cut, now);
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
		rc = bt->nevents == BOOTSET_EVENTS_MAX
			     ? 0
			     : boots_journal(b, json_pack("{s:s, s:s, s:s, s:f}", "type", "event", "token",
							  token, "state", state, "at", now), false);
	if (bt && !rc)
		boots_add_event(bt, state, now);
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

int boots_report(struct boots *b, const char *token, const char *machine, bool ok, json_t *report)
{
	double now = boots_now();
	struct boot *bt;
	char *stored;
	int rc;

	if (!token || !machine || !json_is_object(report))
		return -EINVAL;
	stored = json_dumps(report, JSON_COMPACT | JSON_SORT_KEYS);
	if (!stored)
		return -ENOMEM;
	pthread_mutex_lock(&b->lock);
	bt = bootset_by_token(b->set, token);
	if (!bt)
		rc = -ENOENT;
	else if (strcmp(bt->machine, machine) != 0)
		rc = -EPERM;
	else if (bt->reported || bt->failed)
		rc = -EALREADY;
	else
		rc = boots_journal(b, json_pack("{s:s, s:s, s:b, s:O, s:f}", "type", "report", "token",
						bt->token, "ok", ok, "report", report, "at", now), true);
	if (!rc) {
		boots_apply_report(b, bt, ok, stored, now);
		stored = NULL;
	}
	pthread_mutex_unlock(&b->lock);
	free(stored);
	return rc;
}

static json_t *boots_one_json(const struct boot *bt, double now)
{
	json_t *events = json_array(), *report = NULL;
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
	if (bt->reported)
		result = bt->ok ? "ok" : "failed";
	else if (bt->failed)
		result = "failed";
	else if (bt->timeout_s && now - bt->created > bt->timeout_s)
		result = "timed out";
	else
		result = "pending";
	if (!bt->reported && strcmp(result, "timed out") == 0)
		json_array_append_new(events, json_pack("{s:s, s:f}", "state", "timed out", "after_s",
							(double)bt->timeout_s));
	if (bt->report)
		report = json_loadb(bt->report, bt->report_len, 0, NULL);
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
