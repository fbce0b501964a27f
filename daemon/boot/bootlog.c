/* bootlog.c - the records of boots in STATE/boots.log: their lines, their replay, compaction. */
#include "boot/bootlog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boots.h"
#include "boot/bootset.h"
#include "boot/journal.h"
#include "boot/report.h"
#include "lib/names.h"

json_t *bootlog_boot_line(const struct boot *bt)
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

json_t *bootlog_event_line(const char *token, const char *state, double at)
{
	return json_pack("{s:s, s:s, s:s, s:f}", "type", "event", "token", token, "state", state, "at", at);
}

json_t *bootlog_fail_line(const char *token, const char *reason, double at)
{
	return json_pack("{s:s, s:s, s:s, s:f}", "type", "fail", "token", token, "reason", reason, "at", at);
}

json_t *bootlog_report_line(const char *token, bool ok, json_t *report, double at)
{
	return json_pack("{s:s, s:s, s:b, s:O?, s:f}", "type", "report", "token", token, "ok", ok, "report",
			 report, "at", at);
}

static void bootlog_replay_boot(struct bootset *s, json_t *line, const char *token, double at)
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
	/* the id (a sha256) waits for the end of the replay: most boots of a long journal go */
	bt = bootset_boot_new(token, &n, at, false);
	if (bt)
		bootset_add(s, bt);
}

/* A report line as the daemon writes it,
 *   {"at":N,"ok":B,"report":{...},"token":"T","type":"report"}
 * is the bulk of a journal: its report is kept as text, without parsing it (the view parses what
 * is shown, and cuts it to the known fields). False: not in that form, parse it. */
static bool bootlog_replay_report_fast(struct bootset *s, const char *text, size_t len)
{
	static const char head[] = "{\"at\":", tok[] = "},\"token\":\"", tail[] = "\",\"type\":\"report\"}";
	static const char yes[] = ",\"ok\":true,\"report\":", no[] = ",\"ok\":false,\"report\":";
	const size_t hl = sizeof(head) - 1, kl = sizeof(tok) - 1, tl = sizeof(tail) - 1;
	char token[BOOTS_TOKEN_LEN], num[40], *end;
	const char *p, *report_end;
	struct boot *bt;
	size_t n;
	double at;
	bool ok;

	if (len < hl + sizeof(no) + kl + 32 + tl || memcmp(text, head, hl) != 0 ||
	    memcmp(text + len - tl, tail, tl) != 0 || memcmp(text + len - tl - 32 - kl, tok, kl) != 0)
		return false;
	memcpy(token, text + len - tl - 32, 32);
	token[32] = '\0';
	if (!names_hex_lower(token, 32))
		return false;
	p = text + hl;
	n = 0;
	while (n < sizeof(num) - 1 && p + n < text + len && p[n] && strchr("0123456789.eE+-", p[n]))
		n++;
	memcpy(num, p, n);
	num[n] = '\0';
	at = strtod(num, &end);
	if (!n || *end)
		return false;
	p += n;
	report_end = text + len - tl - 32 - kl + 1; /* after the report's closing brace */
	if ((size_t)(report_end - p) > sizeof(yes) && memcmp(p, yes, sizeof(yes) - 1) == 0) {
		ok = true;
		p += sizeof(yes) - 1;
	} else if ((size_t)(report_end - p) > sizeof(no) && memcmp(p, no, sizeof(no) - 1) == 0) {
		ok = false;
		p += sizeof(no) - 1;
	} else {
		return false;
	}
	if (*p != '{')
		return false;
	bt = bootset_by_token(s, token);
	if (bt)
		bootset_reported(s, bt, ok, strndup(p, (size_t)(report_end - p)), at);
	return true;
}

void bootlog_replay(void *ctx, const char *text, size_t len)
{
	struct bootset *s = ctx;
	json_t *line, *report;
	const char *type, *token;
	struct boot *bt;
	double at;

	if (bootlog_replay_report_fast(s, text, len))
		return;
	line = json_loadb(text, len, 0, NULL);
	type = json_string_value(json_object_get(line, "type"));
	token = json_string_value(json_object_get(line, "token"));
	at = json_number_value(json_object_get(line, "at"));
	if (!type || !token)
		goto out;
	if (strcmp(type, "boot") == 0) {
		bootlog_replay_boot(s, line, token, at);
		goto out;
	}
	bt = bootset_by_token(s, token);
	if (!bt)
		goto out; /* a boot no longer held: its lines stay in the journal only */
	if (strcmp(type, "event") == 0) {
		bootset_note(bt, json_string_value(json_object_get(line, "state")) ?: "?", at);
	} else if (strcmp(type, "report") == 0) {
		/* journals from before reports were cut down hold whatever the guest sent */
		report = report_filter(json_object_get(line, "report"));
		bootset_reported(s, bt, json_is_true(json_object_get(line, "ok")),
				 report ? json_dumps(report, JSON_COMPACT | JSON_SORT_KEYS) : NULL, at);
		json_decref(report);
	} else if (strcmp(type, "fail") == 0) {
		bootset_fail(bt, json_string_value(json_object_get(line, "reason")), at);
	}
out:
	json_decref(line);
}

int bootlog_index(struct bootset *s)
{
	struct boot **v;
	size_t n;
	int rc = bootset_held(s, &v, &n);

	for (size_t i = 0; !rc && i < n; i++) {
		if (v[i]->id[0])
			continue;
		rc = bootset_boot_id(v[i]);
		if (!rc)
			bootset_index_id(s, v[i]);
	}
	free(v);
	return rc;
}

int bootlog_text(json_t *line, char **text)
{
	if (!line)
		return -ENOMEM;
	*text = json_dumps(line, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(line);
	return *text ? 0 : -ENOMEM;
}

static int bootlog_put(struct journal_writer *w, json_t *line)
{
	char *text;
	int rc = bootlog_text(line, &text);

	if (rc)
		return rc;
	rc = journal_put(w, text, strlen(text));
	free(text);
	return rc;
}

/* One boot's records: the boot, its events and failure in order, then its report. */
static int bootlog_emit_one(struct journal_writer *w, const struct boot *bt)
{
	json_t *report = NULL, *held;
	int rc = bootlog_put(w, bootlog_boot_line(bt));
	bool failed = false;

	for (size_t i = 1; !rc && i < bt->nevents; i++) {
		const char *state = bt->events[i].state;

		if (strncmp(state, "report: ", 8) == 0)
			continue;
		if (strcmp(state, "boot failed") == 0) {
			rc = bootlog_put(w, bootlog_fail_line(bt->token, bt->reason, bt->events[i].at));
			failed = true;
		} else {
			rc = bootlog_put(w, bootlog_event_line(bt->token, state, bt->events[i].at));
		}
	}
	/* failed or reported with no room left for the event: the record still says so */
	if (!rc && bt->failed && !failed)
		rc = bootlog_put(w, bootlog_fail_line(bt->token, bt->reason, bt->created));
	if (rc || !bt->reported)
		return rc;
	if (bt->report) {
		held = json_loadb(bt->report, bt->report_len, 0, NULL);
		report = report_filter(held);
		json_decref(held);
	}
	rc = bootlog_put(w, bootlog_report_line(bt->token, bt->ok, report, bt->reported_at));
	json_decref(report);
	return rc;
}

int bootlog_emit(void *ctx, struct journal_writer *w)
{
	struct boot **v;
	size_t n;
	int rc = bootset_held(ctx, &v, &n);

	for (size_t i = 0; !rc && i < n; i++)
		rc = bootlog_emit_one(w, v[i]);
	free(v);
	return rc;
}
