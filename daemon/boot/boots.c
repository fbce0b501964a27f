/* boots.c - boot records kept in memory and journaled to STATE/boots.log (reports fsync'd). */
#include "boot/boots.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "lib/digest.h"
#include "lib/log.h"
#include "conf/recipe.h"
#include "lib/names.h"

#define BOOTS_EVENTS_MAX 8
#define BOOTS_JOURNAL_LINE_MAX (64 * 1024)

struct boot_event {
	char state[24];
	double at;
};

struct boot {
	char token[BOOTS_TOKEN_LEN];
	char machine[33];
	char mac[18];
	char variant[256];
	char artifact[65];
	char firmware[8];  /* "bios", "uefi" or "unknown" */
	char reason[BOOTS_REASON_MAX + 1]; /* set when the daemon failed the boot */
	double created;
	unsigned timeout_s;
	struct boot_event events[BOOTS_EVENTS_MAX];
	size_t nevents;
	bool reported, ok, failed;
	json_t *report;
};

struct boots {
	pthread_mutex_t lock;
	int journal_fd;
	struct boot *v[BOOTS_MAX];
	size_t n, next; /* a ring once full */
};

static double boots_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void boots_free_one(struct boot *bt)
{
	if (!bt)
		return;
	json_decref(bt->report);
	free(bt);
}

static struct boot *boots_find(struct boots *b, const char *token)
{
	for (size_t i = 0; i < b->n; i++)
		if (strcmp(b->v[i]->token, token) == 0)
			return b->v[i];
	return NULL;
}

static struct boot *boots_last_of(struct boots *b, const char *machine)
{
	struct boot *best = NULL;

	for (size_t i = 0; i < b->n; i++)
		if (strcmp(b->v[i]->machine, machine) == 0 && (!best || b->v[i]->created > best->created))
			best = b->v[i];
	return best;
}

static void boots_insert(struct boots *b, struct boot *bt)
{
	if (b->n < BOOTS_MAX) {
		b->v[b->n++] = bt;
		return;
	}
	boots_free_one(b->v[b->next]);
	b->v[b->next] = bt;
	b->next = (b->next + 1) % BOOTS_MAX;
}

static void boots_add_event(struct boot *bt, const char *state, double at)
{
	if (bt->nevents == BOOTS_EVENTS_MAX)
		return;
	snprintf(bt->events[bt->nevents].state, sizeof(bt->events[0].state), "%s", state);
	bt->events[bt->nevents].at = at;
	bt->nevents++;
}

/* One JSON object per line; reports are fsync'd so an acknowledged report is never lost. */
static int boots_journal(struct boots *b, json_t *line, bool durable)
{
	char *text = json_dumps(line, JSON_COMPACT | JSON_SORT_KEYS);
	size_t len;
	int rc = 0;

	json_decref(line);
	if (!text)
		return -ENOMEM;
	len = strlen(text);
	text[len] = '\n';
	if (b->journal_fd >= 0 && write(b->journal_fd, text, len + 1) != (ssize_t)(len + 1))
		rc = errno ? -errno : -EIO;
	if (!rc && durable && b->journal_fd >= 0 && fdatasync(b->journal_fd) < 0)
		rc = -errno;
	free(text);
	if (rc)
		log_warnx("boots: journal write failed: %s", strerror(-rc));
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

	if (!bt)
		return NULL;
	snprintf(bt->token, sizeof(bt->token), "%s", token);
	snprintf(bt->machine, sizeof(bt->machine), "%s", n->machine ? n->machine : "");
	snprintf(bt->mac, sizeof(bt->mac), "%s", n->mac ? n->mac : "");
	snprintf(bt->variant, sizeof(bt->variant), "%s", n->variant ? n->variant : "");
	snprintf(bt->artifact, sizeof(bt->artifact), "%s", n->artifact ? n->artifact : "");
	snprintf(bt->firmware, sizeof(bt->firmware), "%s", boots_firmware_name(n->firmware));
	bt->timeout_s = n->timeout_s;
	bt->created = created;
	return bt;
}

static void boots_apply_fail(struct boot *bt, const char *reason, double at)
{
	bt->failed = true;
	snprintf(bt->reason, sizeof(bt->reason), "%s", reason ? reason : "");
	boots_add_event(bt, "boot failed", at);
}

static void boots_apply_report(struct boot *bt, bool ok, json_t *report, double at)
{
	bt->reported = true;
	bt->ok = ok;
	json_decref(bt->report);
	bt->report = json_incref(report);
	boots_add_event(bt, ok ? "report: payloads ok" : "report: payloads failed", at);
}

static void boots_replay_line(struct boots *b, json_t *line)
{
	const char *type = json_string_value(json_object_get(line, "type"));
	const char *token = json_string_value(json_object_get(line, "token"));
	double at = json_number_value(json_object_get(line, "at"));
	struct boot *bt;

	if (!type || !token)
		return;
	if (strcmp(type, "boot") == 0) {
		struct boots_new n = {
			.machine = json_string_value(json_object_get(line, "machine")),
			.mac = json_string_value(json_object_get(line, "mac")),
			.variant = json_string_value(json_object_get(line, "variant")),
			.artifact = json_string_value(json_object_get(line, "artifact")),
			.firmware = json_string_value(json_object_get(line, "firmware")),
			.timeout_s = (unsigned)json_integer_value(json_object_get(line, "timeout_s")),
		};

		bt = boots_new_boot(token, &n, at);
		if (bt) {
			boots_add_event(bt, "boot created", at);
			boots_insert(b, bt);
		}
		return;
	}
	bt = boots_find(b, token);
	if (!bt)
		return;
	if (strcmp(type, "event") == 0)
		boots_add_event(bt, json_string_value(json_object_get(line, "state")) ?: "?", at);
	else if (strcmp(type, "report") == 0)
		boots_apply_report(bt, json_is_true(json_object_get(line, "ok")),
				   json_object_get(line, "report"), at);
	else if (strcmp(type, "fail") == 0)
		boots_apply_fail(bt, json_string_value(json_object_get(line, "reason")), at);
}

int boots_open(const char *state_dir, struct boots **out, char *err, size_t errlen)
{
	char path[4096], line[BOOTS_JOURNAL_LINE_MAX];
	struct boots *b;
	FILE *f;

	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	pthread_mutex_init(&b->lock, NULL);
	snprintf(path, sizeof(path), "%s/boots.log", state_dir);
	f = fopen(path, "re");
	if (f) {
		/* a line cut short by a crash is skipped; every complete line is replayed */
		while (fgets(line, sizeof(line), f)) {
			json_t *j = json_loads(line, 0, NULL);

			if (j)
				boots_replay_line(b, j);
			json_decref(j);
		}
		fclose(f);
	}
	b->journal_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (b->journal_fd < 0) {
		int rc = -errno;

		snprintf(err, errlen, "open %s: %s", path, strerror(errno));
		boots_free(b);
		return rc;
	}
	*out = b;
	return 0;
}

void boots_free(struct boots *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++)
		boots_free_one(b->v[i]);
	if (b->journal_fd >= 0)
		close(b->journal_fd);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

/* The journal line of a new boot, from what was stored (so replay sees the same values). */
static json_t *boots_boot_line(const struct boot *bt)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:f}", "type", "boot", "token",
			 bt->token, "machine", bt->machine, "mac", bt->mac, "variant", bt->variant,
			 "artifact", bt->artifact, "firmware", bt->firmware, "timeout_s",
			 (int)bt->timeout_s, "at", bt->created);
}

int boots_create(struct boots *b, const struct boots_new *n, char token[BOOTS_TOKEN_LEN])
{
	unsigned char rnd[16];
	double now = boots_now();
	struct boot *bt;

	if (!n || !n->machine)
		return -EINVAL;
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return -EIO;
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(token + 2 * i, 3, "%02x", rnd[i]);
	bt = boots_new_boot(token, n, now);
	if (!bt)
		return -ENOMEM;
	boots_add_event(bt, "boot created", now);
	pthread_mutex_lock(&b->lock);
	boots_insert(b, bt);
	boots_journal(b, boots_boot_line(bt), false);
	pthread_mutex_unlock(&b->lock);
	return 0;
}

int boots_fail(struct boots *b, const char *token, const char *reason)
{
	double now = boots_now();
	struct boot *bt;

	pthread_mutex_lock(&b->lock);
	bt = boots_find(b, token);
	if (!bt) {
		pthread_mutex_unlock(&b->lock);
		return -ENOENT;
	}
	boots_apply_fail(bt, reason, now);
	boots_journal(b, json_pack("{s:s, s:s, s:s, s:f}", "type", "fail", "token", token, "reason",
				   bt->reason, "at", now), false);
	pthread_mutex_unlock(&b->lock);
	return 0;
}

int boots_event(struct boots *b, const char *token, const char *state)
{
	double now = boots_now();
	struct boot *bt;

	pthread_mutex_lock(&b->lock);
	bt = boots_find(b, token);
	if (!bt) {
		pthread_mutex_unlock(&b->lock);
		return -ENOENT;
	}
	boots_add_event(bt, state, now);
	boots_journal(b, json_pack("{s:s, s:s, s:s, s:f}", "type", "event", "token", token, "state",
				   state, "at", now), false);
	pthread_mutex_unlock(&b->lock);
	return 0;
}

int boots_artifact(struct boots *b, const char *token, char artifact[65])
{
	struct boot *bt;
	int rc = -ENOENT;

	pthread_mutex_lock(&b->lock);
	bt = boots_find(b, token);
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
	struct boot *bt = NULL;
	int rc;

	pthread_mutex_lock(&b->lock);
	if (token && *token)
		bt = boots_find(b, token);
	if (!bt) {
		/* a guest booted by other means: file it as a boot of its own */
		unsigned char rnd[16];
		char fresh[BOOTS_TOKEN_LEN];

		if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
			pthread_mutex_unlock(&b->lock);
			return -EIO;
		}
		for (size_t i = 0; i < sizeof(rnd); i++)
			snprintf(fresh + 2 * i, 3, "%02x", rnd[i]);
		bt = boots_new_boot(fresh, &(struct boots_new){ .machine = machine }, now);
		if (!bt) {
			pthread_mutex_unlock(&b->lock);
			return -ENOMEM;
		}
		boots_add_event(bt, "boot created", now);
		boots_insert(b, bt);
		boots_journal(b, boots_boot_line(bt), false);
	}
	boots_apply_report(bt, ok, report, now);
	rc = boots_journal(b, json_pack("{s:s, s:s, s:b, s:O, s:f}", "type", "report", "token",
					bt->token, "ok", ok, "report", report, "at", now), true);
	pthread_mutex_unlock(&b->lock);
	return rc;
}

static json_t *boots_one_json(const struct boot *bt, double now)
{
	json_t *events = json_array();
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
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s?, s:f, s:o, s:O?}", "boot", bt->token,
			 "machine", bt->machine, "mac", bt->mac, "variant", bt->variant, "artifact",
			 bt->artifact, "firmware", bt->firmware, "result", result, "reason",
			 bt->failed ? bt->reason : NULL, "created", bt->created, "events", events,
			 "report", bt->report);
}

json_t *boots_boot_json(struct boots *b, const char *token)
{
	struct boot *bt;
	json_t *j = NULL;

	pthread_mutex_lock(&b->lock);
	bt = boots_find(b, token);
	if (bt)
		j = boots_one_json(bt, boots_now());
	pthread_mutex_unlock(&b->lock);
	return j;
}

json_t *boots_machines_json(struct boots *b)
{
	json_t *out = json_object();
	double now = boots_now();

	pthread_mutex_lock(&b->lock);
	for (size_t i = 0; i < b->n; i++) {
		struct boot *last = boots_last_of(b, b->v[i]->machine);

		if (last == b->v[i])
			json_object_set_new(out, last->machine, boots_one_json(last, now));
	}
	pthread_mutex_unlock(&b->lock);
	return out;
}

static bool boots_short_string(json_t *v, size_t max)
{
	return json_is_string(v) && json_string_length(v) <= max;
}

int boots_validate_report(json_t *report, const char **token, const char **machine, bool *ok,
			  char *err, size_t errlen)
{
	json_t *payloads, *uptime, *addresses, *p, *v;
	const char *key;
	size_t i;

	if (!json_is_object(report)) {
		snprintf(err, errlen, "a report is a JSON object");
		return -EINVAL;
	}
	*machine = json_string_value(json_object_get(report, "id"));
	if (!*machine || !recipe_name_valid(*machine)) {
		snprintf(err, errlen, "\"id\" must be a machine name ([a-z0-9_-], 1-32)");
		return -EINVAL;
	}
	*token = json_string_value(json_object_get(report, "boot"));
	if (*token && **token && !names_hex_lower(*token, 32)) {
		snprintf(err, errlen, "\"boot\" must be the 32-hex-digit token from the command line");
		return -EINVAL;
	}
	if (!boots_short_string(json_object_get(report, "kernel"), 128)) {
		snprintf(err, errlen, "\"kernel\" must be a string (uname -r)");
		return -EINVAL;
	}
	v = json_object_get(report, "arch");
	if (v && !boots_short_string(v, 32)) {
		snprintf(err, errlen, "\"arch\" must be a short string (uname -m)");
		return -EINVAL;
	}
	uptime = json_object_get(report, "uptime");
	if (!json_is_object(uptime) || json_object_size(uptime) > 16) {
		snprintf(err, errlen, "\"uptime\" must be an object of step -> seconds");
		return -EINVAL;
	}
	json_object_foreach(uptime, key, v) {
		if (!json_is_number(v) || strlen(key) > 32) {
			snprintf(err, errlen, "\"uptime\".%.32s must be a number of seconds", key);
			return -EINVAL;
		}
	}
	addresses = json_object_get(report, "addresses");
	if (addresses && !json_is_array(addresses)) {
		snprintf(err, errlen, "\"addresses\" must be an array");
		return -EINVAL;
	}
	json_array_foreach(addresses, i, v) {
		if (!boots_short_string(v, 64) || i >= 16) {
			snprintf(err, errlen, "\"addresses\" must hold at most 16 short strings");
			return -EINVAL;
		}
	}
	payloads = json_object_get(report, "payloads");
	if (!json_is_array(payloads) || json_array_size(payloads) > 64) {
		snprintf(err, errlen, "\"payloads\" must be an array of at most 64 results");
		return -EINVAL;
	}
	*ok = true;
	json_array_foreach(payloads, i, p) {
		json_t *name = json_object_get(p, "name"), *pok = json_object_get(p, "ok");

		if (!json_is_object(p) || !boots_short_string(name, 255) || !json_is_boolean(pok) ||
		    !json_is_integer(json_object_get(p, "size")) ||
		    !boots_short_string(json_object_get(p, "sha256"), 64)) {
			snprintf(err, errlen, "payload %zu needs name, size, sha256 and ok", i);
			return -EINVAL;
		}
		if (!json_is_true(pok))
			*ok = false;
	}
	v = json_object_get(report, "ok");
	if (v && !json_is_boolean(v)) {
		snprintf(err, errlen, "\"ok\" must be true or false");
		return -EINVAL;
	}
	if (json_is_false(v))
		*ok = false;
	return 0;
}
