/* nextboot.c - machines' boot overrides (a variant once, or the local disk): memory and file. */
#include "boot/nextboot.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf/recipe.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/names.h"

struct nextboot {
	pthread_mutex_t lock; /* one writer at a time, so a take is one step */
	char *path;
	json_t *all;          /* {"NAME": {"variant": V, "set_at": T} | {"action": "local", ...}} */
};

static bool nextboot_variant_ok(const char *v)
{
	return v[0] != '-' && v[0] != '+' && names_charset(v, VARIANT_NAME_MAX, NAMES_LOWER | NAMES_DIGIT, "_+-");
}

/* An entry of the file (or of memory) as a struct; -EINVAL when it does not check out. */
static int nextboot_entry_parse(json_t *j, struct nextboot_entry *e)
{
	const char *variant = json_string_value(json_object_get(j, "variant"));
	const char *action = json_string_value(json_object_get(j, "action"));

	memset(e, 0, sizeof(*e));
	e->set_at = json_integer_value(json_object_get(j, "set_at"));
	if (variant && !action && nextboot_variant_ok(variant)) {
		e->action = NEXTBOOT_VARIANT;
		snprintf(e->variant, sizeof(e->variant), "%s", variant);
		return 0;
	}
	if (action && !variant && strcmp(action, "local") == 0) {
		e->action = NEXTBOOT_LOCAL;
		return 0;
	}
	return -EINVAL;
}

json_t *nextboot_entry_json(const struct nextboot_entry *e)
{
	switch (e->action) {
	case NEXTBOOT_VARIANT:
		return json_pack("{s:s, s:I}", "variant", e->variant, "set_at", (json_int_t)e->set_at);
	case NEXTBOOT_LOCAL:
		return json_pack("{s:s, s:I}", "action", "local", "set_at", (json_int_t)e->set_at);
	default:
		return json_null();
	}
}

/* Write next (a whole new set) to the file; on success it replaces what memory holds.
 * Called with the lock held; next is taken over either way. */
static int nextboot_commit(struct nextboot *nb, json_t *next)
{
	char *text = next ? json_dumps(next, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
	int rc;

	if (!text) {
		json_decref(next);
		return -ENOMEM;
	}
	rc = fsutil_write_atomic(nb->path, text, strlen(text));
	free(text);
	if (rc) {
		log_warnx("%s: cannot write %s: %s", __func__, nb->path, strerror(-rc));
		json_decref(next);
		return rc;
	}
	json_decref(nb->all);
	nb->all = next;
	return 0;
}

static int nextboot_load(struct nextboot *nb, char *err, size_t errlen)
{
	char *text = NULL, bad[4200];
	json_error_t jerr;
	const char *name;
	json_t *j, *v;
	size_t len;
	int rc;

	rc = fsutil_read_file(nb->path, NEXTBOOT_FILE_MAX, &text, &len);
	if (rc == -ENOENT)
		return 0;
	if (rc) {
		snprintf(err, errlen, "%s: %s", nb->path, strerror(-rc));
		return rc;
	}
	j = json_loadb(text, len, 0, &jerr);
	free(text);
	if (!json_is_object(j)) {
		/* not ours to lose silently, not worth refusing to start over: kept aside */
		json_decref(j);
		if (snprintf(bad, sizeof(bad), "%s.bad", nb->path) < (int)sizeof(bad) && rename(nb->path, bad) == 0)
			log_warnx("%s: not a JSON object (%s); kept as %s, no boot overrides hold", nb->path,
				  jerr.text, bad);
		else
			log_warnx("%s: not a JSON object (%s); no boot overrides hold", nb->path, jerr.text);
		return 0;
	}
	json_object_foreach(j, name, v) {
		struct nextboot_entry e;

		if (!recipe_name_valid(name) || nextboot_entry_parse(v, &e)) {
			log_warnx("%s: dropped the override of \"%.40s\": not a machine name with a variant or \"action\": \"local\"",
				  nb->path, name);
			continue;
		}
		json_object_set_new(nb->all, name, nextboot_entry_json(&e));
	}
	json_decref(j);
	return 0;
}

int nextboot_open(const char *path, struct nextboot **out, char *err, size_t errlen)
{
	struct nextboot *nb = calloc(1, sizeof(*nb));
	int rc;

	*out = NULL;
	if (!nb || !(nb->path = strdup(path)) || !(nb->all = json_object())) {
		nextboot_free(nb);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&nb->lock, NULL);
	rc = nextboot_load(nb, err, errlen);
	if (rc) {
		nextboot_free(nb);
		return rc;
	}
	*out = nb;
	return 0;
}

void nextboot_free(struct nextboot *nb)
{
	if (!nb)
		return;
	if (nb->all)
		pthread_mutex_destroy(&nb->lock);
	json_decref(nb->all);
	free(nb->path);
	free(nb);
}

int nextboot_set(struct nextboot *nb, const char *machine, const struct nextboot_entry *e)
{
	struct nextboot_entry clean = *e;
	json_t *next;
	int rc;

	if (!recipe_name_valid(machine) || (e->action == NEXTBOOT_VARIANT && !nextboot_variant_ok(e->variant)) ||
	    (e->action != NEXTBOOT_VARIANT && e->action != NEXTBOOT_LOCAL))
		return -EINVAL;
	if (e->action == NEXTBOOT_LOCAL)
		clean.variant[0] = '\0';
	if (!clean.set_at)
		clean.set_at = (long long)time(NULL);
	pthread_mutex_lock(&nb->lock);
	next = json_copy(nb->all);
	if (next)
		json_object_set_new(next, machine, nextboot_entry_json(&clean));
	rc = nextboot_commit(nb, next);
	pthread_mutex_unlock(&nb->lock);
	return rc;
}

int nextboot_clear(struct nextboot *nb, const char *machine)
{
	json_t *next;
	int rc;

	pthread_mutex_lock(&nb->lock);
	if (!json_object_get(nb->all, machine)) {
		pthread_mutex_unlock(&nb->lock);
		return -ENOENT;
	}
	next = json_copy(nb->all);
	if (next)
		json_object_del(next, machine);
	rc = nextboot_commit(nb, next);
	pthread_mutex_unlock(&nb->lock);
	return rc;
}

void nextboot_get(struct nextboot *nb, const char *machine, struct nextboot_entry *out)
{
	json_t *j;

	pthread_mutex_lock(&nb->lock);
	j = json_object_get(nb->all, machine);
	if (!j || nextboot_entry_parse(j, out))
		memset(out, 0, sizeof(*out));
	pthread_mutex_unlock(&nb->lock);
}

int nextboot_take(struct nextboot *nb, const char *machine, struct nextboot_entry *out)
{
	json_t *j, *next;
	int rc = 0;

	pthread_mutex_lock(&nb->lock);
	j = json_object_get(nb->all, machine);
	if (!j || nextboot_entry_parse(j, out)) {
		memset(out, 0, sizeof(*out));
	} else if (out->action == NEXTBOOT_VARIANT) {
		next = json_copy(nb->all);
		if (next)
			json_object_del(next, machine);
		rc = nextboot_commit(nb, next);
		if (rc)
			memset(out, 0, sizeof(*out));
	}
	pthread_mutex_unlock(&nb->lock);
	return rc;
}

int nextboot_untake(struct nextboot *nb, const char *machine, const struct nextboot_entry *e)
{
	json_t *next;
	int rc = 0;

	if (e->action != NEXTBOOT_VARIANT)
		return 0;
	pthread_mutex_lock(&nb->lock);
	if (!json_object_get(nb->all, machine)) {
		next = json_copy(nb->all);
		if (next)
			json_object_set_new(next, machine, nextboot_entry_json(e));
		rc = nextboot_commit(nb, next);
	}
	pthread_mutex_unlock(&nb->lock);
	return rc;
}

int nextboot_names(struct nextboot *nb, char (**names)[NEXTBOOT_NAME_MAX + 1], size_t *n)
{
	const char *name;
	json_t *v;
	size_t i = 0;

	pthread_mutex_lock(&nb->lock);
	*names = malloc((json_object_size(nb->all) + 1) * sizeof(**names));
	if (!*names) {
		pthread_mutex_unlock(&nb->lock);
		return -ENOMEM;
	}
	json_object_foreach(nb->all, name, v) {
		(void)v;
		snprintf((*names)[i++], NEXTBOOT_NAME_MAX + 1, "%s", name);
	}
	pthread_mutex_unlock(&nb->lock);
	*n = i;
	return 0;
}
