/* report.c - a guest's report: checked field by field, and cut down to the fields it may hold. */
#include "boot/report.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conf/recipe.h"
#include "lib/names.h"

#define REPORT_UPTIME_MAX 16
#define REPORT_ADDRESSES_MAX 16
#define REPORT_PAYLOADS_MAX 64

/* What rootfs/net/etc/init.d/S50tinyboot sends; anything else a guest adds is dropped. */
static const char *const report_fields[] = { "id", "boot", "kernel", "arch", "ok", "uptime",
					     "addresses", "payloads" };
static const char *const report_payload_fields[] = { "name", "size", "sha256", "ok", "expected_size",
						     "expected_sha256", "start", "end" };

static bool report_short_string(json_t *v, size_t max)
{
	return json_is_string(v) && json_string_length(v) <= max;
}

static json_t *report_pick(json_t *from, const char *const *keys, size_t nkeys)
{
	json_t *out = json_object();

	for (size_t i = 0; out && i < nkeys; i++) {
		json_t *v = json_object_get(from, keys[i]);

		if (v && json_object_set(out, keys[i], v)) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

json_t *report_filter(json_t *report)
{
	json_t *out, *payloads, *p, *kept;
	size_t i;

	if (!json_is_object(report))
		return NULL;
	out = report_pick(report, report_fields, sizeof(report_fields) / sizeof(report_fields[0]));
	payloads = json_object_get(out, "payloads");
	if (!out || !json_is_array(payloads))
		return out;
	kept = json_array();
	json_array_foreach(payloads, i, p) {
		json_t *one = json_is_object(p) ? report_pick(p, report_payload_fields,
							      sizeof(report_payload_fields) /
								      sizeof(report_payload_fields[0]))
						: json_incref(p);

		if (!one || json_array_append_new(kept, one)) {
			json_decref(kept);
			json_decref(out);
			return NULL;
		}
	}
	if (json_object_set_new(out, "payloads", kept)) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* A payload's result: the four fields every guest sends, and the optional ones well typed. */
static bool report_payload_valid(json_t *p)
{
	json_t *v;

	if (!json_is_object(p) || !report_short_string(json_object_get(p, "name"), 255) ||
	    !json_is_boolean(json_object_get(p, "ok")) || !json_is_integer(json_object_get(p, "size")) ||
	    !report_short_string(json_object_get(p, "sha256"), 64))
		return false;
	if ((v = json_object_get(p, "expected_size")) && !json_is_integer(v))
		return false;
	if ((v = json_object_get(p, "expected_sha256")) && !report_short_string(v, 64))
		return false;
	if ((v = json_object_get(p, "start")) && !json_is_number(v))
		return false;
	return !(v = json_object_get(p, "end")) || json_is_number(v);
}

static int report_check(json_t *report, struct report_info *info, char *err, size_t errlen)
{
	json_t *payloads, *uptime, *addresses, *p, *v;
	const char *key;
	size_t i;

	if (!json_is_object(report)) {
		snprintf(err, errlen, "a report is a JSON object");
		return -EINVAL;
	}
	info->machine = json_string_value(json_object_get(report, "id"));
	if (!info->machine || !recipe_name_valid(info->machine)) {
		snprintf(err, errlen, "\"id\" must be a machine name ([a-z0-9_-], 1-32)");
		return -EINVAL;
	}
	info->token = json_string_value(json_object_get(report, "boot"));
	if (!info->token || !names_hex_lower(info->token, 32)) {
		snprintf(err, errlen, "\"boot\" must be the 32-hex-digit token from the command line "
			 "(tinyboot.boot=)");
		return -EINVAL;
	}
	if (!report_short_string(json_object_get(report, "kernel"), 128)) {
		snprintf(err, errlen, "\"kernel\" must be a string (uname -r)");
		return -EINVAL;
	}
	v = json_object_get(report, "arch");
	if (v && !report_short_string(v, 32)) {
		snprintf(err, errlen, "\"arch\" must be a short string (uname -m)");
		return -EINVAL;
	}
	uptime = json_object_get(report, "uptime");
	if (!json_is_object(uptime) || json_object_size(uptime) > REPORT_UPTIME_MAX) {
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
		if (!report_short_string(v, 64) || i >= REPORT_ADDRESSES_MAX) {
			snprintf(err, errlen, "\"addresses\" must hold at most 16 short strings");
			return -EINVAL;
		}
	}
	payloads = json_object_get(report, "payloads");
	if (!json_is_array(payloads) || json_array_size(payloads) > REPORT_PAYLOADS_MAX) {
		snprintf(err, errlen, "\"payloads\" must be an array of at most 64 results");
		return -EINVAL;
	}
	info->ok = true;
	json_array_foreach(payloads, i, p) {
		if (!report_payload_valid(p)) {
			snprintf(err, errlen, "payload %zu needs name, size, sha256 and ok (and "
				 "expected_size, expected_sha256, start, end well typed)", i);
			return -EINVAL;
		}
		if (!json_is_true(json_object_get(p, "ok")))
			info->ok = false;
	}
	v = json_object_get(report, "ok");
	if (v && !json_is_boolean(v)) {
		snprintf(err, errlen, "\"ok\" must be true or false");
		return -EINVAL;
	}
	if (json_is_false(v))
		info->ok = false;
	return 0;
}

int report_validate(json_t *report, json_t **clean, struct report_info *info, char *err,
		    size_t errlen)
{
	int rc = report_check(report, info, err, errlen);

	*clean = NULL;
	if (rc)
		return rc;
	*clean = report_filter(report);
	if (!*clean) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* the same strings, now held by the copy */
	info->machine = json_string_value(json_object_get(*clean, "id"));
	info->token = json_string_value(json_object_get(*clean, "boot"));
	return 0;
}
