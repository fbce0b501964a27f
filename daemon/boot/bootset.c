/* bootset.c - the boots held in memory: found by token, public id or machine, within budgets. */
#include "boot/bootset.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/digest.h"

#define BOOTSET_BUCKETS_MAX (1u << 20)

struct bootset_list {
	struct boot *head, *tail; /* oldest first */
};

struct bootset_class {
	struct bootset_budget budget;
	struct bootset_list live;    /* the last boot of each machine */
	struct bootset_list old;     /* boots a later boot of their machine superseded */
	struct bootset_list reports; /* boots holding report text, in the order it came */
	size_t boots, report_bytes;
};

struct bootset {
	struct bootset_class class[2];
	size_t nbuckets; /* a power of two */
	unsigned long long seq;
	struct boot **by_token, **by_id, **by_machine;
};

/* Only the names the daemon writes; anything else (an older journal has none) is "unknown". */
static const char *bootset_firmware_name(const char *firmware)
{
	if (firmware && (strcmp(firmware, "bios") == 0 || strcmp(firmware, "uefi") == 0))
		return firmware;
	return "unknown";
}

int bootset_boot_id(struct boot *bt)
{
	char hex[DIGEST_HEX_LEN];
	int rc = digest_sha256_buf(bt->token, strlen(bt->token), hex);

	if (!rc)
		snprintf(bt->id, sizeof(bt->id), "%.16s", hex);
	return rc;
}

struct boot *bootset_boot_new(const char *token, const struct boots_new *n, double created, bool with_id)
{
	struct boot *bt = calloc(1, sizeof(*bt));

	if (!bt)
		return NULL;
	snprintf(bt->token, sizeof(bt->token), "%s", token);
	if (with_id && bootset_boot_id(bt)) {
		free(bt);
		return NULL;
	}
	snprintf(bt->machine, sizeof(bt->machine), "%s", n->machine ? n->machine : "");
	snprintf(bt->mac, sizeof(bt->mac), "%s", n->mac ? n->mac : "");
	snprintf(bt->variant, sizeof(bt->variant), "%s", n->variant ? n->variant : "");
	snprintf(bt->artifact, sizeof(bt->artifact), "%s", n->artifact ? n->artifact : "");
	snprintf(bt->firmware, sizeof(bt->firmware), "%s", bootset_firmware_name(n->firmware));
	bt->timeout_s = n->timeout_s;
	bt->unlisted = n->unlisted;
	bt->created = created;
	bootset_note(bt, "boot created", created);
	return bt;
}

void bootset_note(struct boot *bt, const char *state, double at)
{
	if (bt->nevents == BOOTSET_EVENTS_MAX)
		return;
	snprintf(bt->events[bt->nevents].state, sizeof(bt->events[0].state), "%s", state);
	bt->events[bt->nevents].at = at;
	bt->nevents++;
}

void bootset_fail(struct boot *bt, const char *reason, double at)
{
	bt->failed = true;
	snprintf(bt->reason, sizeof(bt->reason), "%s", reason ? reason : "");
	bootset_note(bt, "boot failed", at);
}

static size_t bootset_hash(const struct bootset *s, const char *key)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *key; key++)
		h = (h ^ (unsigned char)*key) * 1099511628211ULL;
	return (size_t)(h & (s->nbuckets - 1));
}

struct bootset *bootset_new(const struct bootset_budget budgets[2])
{
	struct bootset *s = calloc(1, sizeof(*s));
	size_t want;

	if (!s)
		return NULL;
	for (int c = 0; c < 2; c++) {
		s->class[c].budget = budgets[c];
		if (!s->class[c].budget.boots)
			s->class[c].budget.boots = 1;
	}
	want = s->class[0].budget.boots + s->class[1].budget.boots;
	s->nbuckets = 64;
	while (s->nbuckets < want && s->nbuckets < BOOTSET_BUCKETS_MAX)
		s->nbuckets *= 2;
	s->by_token = calloc(s->nbuckets, sizeof(*s->by_token));
	s->by_id = calloc(s->nbuckets, sizeof(*s->by_id));
	s->by_machine = calloc(s->nbuckets, sizeof(*s->by_machine));
	if (!s->by_token || !s->by_id || !s->by_machine) {
		bootset_free(s);
		return NULL;
	}
	return s;
}

static void bootset_free_boot(struct boot *bt)
{
	if (!bt)
		return;
	free(bt->report);
	free(bt);
}

void bootset_free(struct bootset *s)
{
	if (!s)
		return;
	for (int c = 0; c < 2; c++) {
		struct bootset_list *lists[] = { &s->class[c].live, &s->class[c].old };

		for (size_t l = 0; l < 2; l++) {
			for (struct boot *bt = lists[l]->head, *next; bt; bt = next) {
				next = bt->next;
				bootset_free_boot(bt);
			}
		}
	}
	free(s->by_token);
	free(s->by_id);
	free(s->by_machine);
	free(s);
}

static void bootset_list_append(struct bootset_list *l, struct boot *bt)
{
	bt->next = NULL;
	bt->prev = l->tail;
	if (l->tail)
		l->tail->next = bt;
	else
		l->head = bt;
	l->tail = bt;
}

static void bootset_list_remove(struct bootset_list *l, struct boot *bt)
{
	if (bt->prev)
		bt->prev->next = bt->next;
	else
		l->head = bt->next;
	if (bt->next)
		bt->next->prev = bt->prev;
	else
		l->tail = bt->prev;
	bt->prev = bt->next = NULL;
}

static void bootset_reports_append(struct bootset_list *l, struct boot *bt)
{
	bt->rnext = NULL;
	bt->rprev = l->tail;
	if (l->tail)
		l->tail->rnext = bt;
	else
		l->head = bt;
	l->tail = bt;
}

static void bootset_reports_remove(struct bootset_list *l, struct boot *bt)
{
	if (bt->rprev)
		bt->rprev->rnext = bt->rnext;
	else
		l->head = bt->rnext;
	if (bt->rnext)
		bt->rnext->rprev = bt->rprev;
	else
		l->tail = bt->rprev;
	bt->rprev = bt->rnext = NULL;
}

/* The three hash chains differ only in their link and key; one helper per operation. */
enum bootset_key { BOOTSET_TOKEN, BOOTSET_ID, BOOTSET_MACHINE };

static struct boot **bootset_link(struct boot *bt, enum bootset_key k)
{
	return k == BOOTSET_TOKEN ? &bt->chain_token : k == BOOTSET_ID ? &bt->chain_id : &bt->chain_machine;
}

static const char *bootset_keyof(const struct boot *bt, enum bootset_key k)
{
	return k == BOOTSET_TOKEN ? bt->token : k == BOOTSET_ID ? bt->id : bt->machine;
}

static struct boot **bootset_table(const struct bootset *s, enum bootset_key k)
{
	return k == BOOTSET_TOKEN ? s->by_token : k == BOOTSET_ID ? s->by_id : s->by_machine;
}

static void bootset_hash_add(struct bootset *s, struct boot *bt, enum bootset_key k)
{
	struct boot **bucket = &bootset_table(s, k)[bootset_hash(s, bootset_keyof(bt, k))];

	*bootset_link(bt, k) = *bucket;
	*bucket = bt;
}

static void bootset_hash_remove(struct bootset *s, struct boot *bt, enum bootset_key k)
{
	struct boot **p = &bootset_table(s, k)[bootset_hash(s, bootset_keyof(bt, k))];

	while (*p && *p != bt)
		p = bootset_link(*p, k);
	if (*p)
		*p = *bootset_link(bt, k);
	*bootset_link(bt, k) = NULL;
}

static struct boot *bootset_hash_find(const struct bootset *s, const char *key, enum bootset_key k)
{
	struct boot *bt = bootset_table(s, k)[bootset_hash(s, key)];

	while (bt && strcmp(bootset_keyof(bt, k), key) != 0)
		bt = *bootset_link(bt, k);
	return bt;
}

struct boot *bootset_by_token(const struct bootset *s, const char *token)
{
	return bootset_hash_find(s, token, BOOTSET_TOKEN);
}

struct boot *bootset_by_id(const struct bootset *s, const char *id)
{
	return bootset_hash_find(s, id, BOOTSET_ID);
}

struct boot *bootset_last_of(const struct bootset *s, const char *machine)
{
	return bootset_hash_find(s, machine, BOOTSET_MACHINE);
}

static void bootset_drop_report(struct bootset_class *c, struct boot *bt)
{
	if (!bt->report)
		return;
	bootset_reports_remove(&c->reports, bt);
	c->report_bytes -= bt->report_len;
	free(bt->report);
	bt->report = NULL;
	bt->report_len = 0;
}

static void bootset_remove(struct bootset *s, struct boot *bt)
{
	struct bootset_class *c = &s->class[bt->unlisted];

	bootset_drop_report(c, bt);
	bootset_list_remove(bt->superseded ? &c->old : &c->live, bt);
	bootset_hash_remove(s, bt, BOOTSET_TOKEN);
	if (bt->id[0])
		bootset_hash_remove(s, bt, BOOTSET_ID);
	if (!bt->superseded)
		bootset_hash_remove(s, bt, BOOTSET_MACHINE);
	c->boots--;
	bootset_free_boot(bt);
}

void bootset_add(struct bootset *s, struct boot *bt)
{
	struct bootset_class *c = &s->class[bt->unlisted];
	struct boot *prev = bootset_last_of(s, bt->machine);

	if (prev) {
		struct bootset_class *pc = &s->class[prev->unlisted];

		bootset_hash_remove(s, prev, BOOTSET_MACHINE);
		bootset_list_remove(&pc->live, prev);
		prev->superseded = true;
		bootset_list_append(&pc->old, prev);
	}
	bt->seq = ++s->seq;
	bt->superseded = false;
	bt->report = NULL;
	bt->report_len = 0;
	bootset_list_append(&c->live, bt);
	bootset_hash_add(s, bt, BOOTSET_TOKEN);
	if (bt->id[0])
		bootset_hash_add(s, bt, BOOTSET_ID);
	bootset_hash_add(s, bt, BOOTSET_MACHINE);
	c->boots++;
	/* superseded boots go first: each machine keeps its last boot as long as it can */
	while (c->boots > c->budget.boots)
		bootset_remove(s, c->old.head ? c->old.head : c->live.head);
}

void bootset_hold_report(struct bootset *s, struct boot *bt, char *text, size_t len)
{
	struct bootset_class *c = &s->class[bt->unlisted];

	bootset_drop_report(c, bt);
	bt->report = text;
	bt->report_len = len;
	bootset_reports_append(&c->reports, bt);
	c->report_bytes += len;
	while (c->report_bytes > c->budget.report_bytes && c->reports.head != bt)
		bootset_drop_report(c, c->reports.head);
}

void bootset_index_id(struct bootset *s, struct boot *bt)
{
	bootset_hash_add(s, bt, BOOTSET_ID);
}

static int bootset_by_seq(const void *a, const void *b)
{
	const struct boot *const *x = a, *const *y = b;

	return (*x)->seq < (*y)->seq ? -1 : (*x)->seq > (*y)->seq;
}

int bootset_held(const struct bootset *s, struct boot ***out, size_t *n)
{
	size_t count = s->class[0].boots + s->class[1].boots, i = 0;
	struct boot **v;

	*out = NULL;
	*n = 0;
	if (!count)
		return 0;
	v = malloc(count * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (int c = 0; c < 2; c++) {
		const struct bootset_list *lists[] = { &s->class[c].old, &s->class[c].live };

		for (size_t l = 0; l < 2; l++)
			for (struct boot *bt = lists[l]->head; bt && i < count; bt = bt->next)
				v[i++] = bt;
	}
	qsort(v, i, sizeof(*v), bootset_by_seq);
	*out = v;
	*n = i;
	return 0;
}

static int bootset_by_machine_name(const void *a, const void *b)
{
	const struct boot *const *x = a, *const *y = b;

	return strcmp((*x)->machine, (*y)->machine);
}

void bootset_reported(struct bootset *s, struct boot *bt, bool ok, char *text, double at)
{
	bt->reported = true;
	bt->ok = ok;
	bt->reported_at = at;
	if (text)
		bootset_hold_report(s, bt, text, strlen(text));
	bootset_note(bt, ok ? "report: payloads ok" : "report: payloads failed", at);
}

int bootset_machines(const struct bootset *s, const struct boot ***out, size_t *n)
{
	size_t count = 0;
	const struct boot **v;

	*out = NULL;
	*n = 0;
	for (int c = 0; c < 2; c++)
		for (struct boot *bt = s->class[c].live.head; bt; bt = bt->next)
			count++;
	if (!count)
		return 0;
	v = malloc(count * sizeof(*v));
	if (!v)
		return -ENOMEM;
	count = 0;
	for (int c = 0; c < 2; c++)
		for (struct boot *bt = s->class[c].live.head; bt; bt = bt->next)
			v[count++] = bt;
	qsort(v, count, sizeof(*v), bootset_by_machine_name);
	*out = v;
	*n = count;
	return 0;
}

void bootset_usage(const struct bootset *s, int class, size_t *boots, size_t *report_bytes)
{
	*boots = s->class[class].boots;
	*report_bytes = s->class[class].report_bytes;
}
