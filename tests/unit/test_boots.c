/* test_boots.c - boot records: create, download notes, reports (once, by token, of the right
 * machine), boots the daemon failed, the journal replayed after a reopen (torn tails cut, long
 * lines, timeouts), what memory holds (boots and report bytes, listed and unlisted machines), a
 * journal that cannot be written changing nothing, and compaction. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <dirent.h>

#include "boot/boots.h"
#include "lib/digest.h"
#include "testlib.h"

#define ART "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static struct boots *open_ok(void)
{
	struct boots *b = NULL;
	char err[512] = "";

	if (boots_open(testlib_dir, &b, err, sizeof(err)) != 0)
		fail_msg("boots_open: %s", err);
	assert_non_null(b);
	return b;
}

static void create_ok(struct boots *b, const char *machine, char token[BOOTS_TOKEN_LEN])
{
	struct boots_new n = { .machine = machine, .mac = "52:54:00:12:34:56", .variant = "net",
			       .artifact = ART, .firmware = "bios", .timeout_s = 120 };

	assert_int_equal(boots_create(b, &n, token), 0);
	assert_int_equal(strlen(token), 32);
	assert_int_equal(strspn(token, "0123456789abcdef"), 32);
}

/* Many boots at once, as a storm makes them: each waits for the committer, one sync for many
 * (boots_create would make one sync each). burst_wait: all of them are in memory. */
struct burst {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int left, failed;
};

static void burst_done(void *arg, int rc)
{
	struct burst *bu = arg;

	pthread_mutex_lock(&bu->lock);
	bu->left--;
	if (rc)
		bu->failed++;
	pthread_cond_signal(&bu->cond);
	pthread_mutex_unlock(&bu->lock);
}

static void burst_create(struct burst *bu, struct boots *b, const struct boots_new *n,
			 char token[BOOTS_TOKEN_LEN])
{
	pthread_mutex_lock(&bu->lock);
	bu->left++;
	pthread_mutex_unlock(&bu->lock);
	assert_int_equal(boots_create_async(b, n, token, burst_done, bu), 0);
}

static void burst_wait(struct burst *bu)
{
	pthread_mutex_lock(&bu->lock);
	while (bu->left > 0)
		pthread_cond_wait(&bu->cond, &bu->lock);
	pthread_mutex_unlock(&bu->lock);
	assert_int_equal(bu->failed, 0);
}

/* A report as a guest sends it; the caller owns it. */
static json_t *report_new(const char *token, const char *machine, bool ok)
{
	json_t *r = json_pack("{s:s, s:s, s:s, s:{s:f}, s:[{s:s, s:i, s:s, s:b}]}", "id", machine,
			      "boot", token, "kernel", "6.6.8", "uptime", "init", 0.25, "payloads",
			      "name", "hello.txt", "size", 6, "sha256", "ab", "ok", ok);

	assert_non_null(r);
	return r;
}

/* Is the boot still held in memory? */
static bool known(struct boots *b, const char *token)
{
	json_t *j = boots_boot_json(b, token);

	json_decref(j);
	return j != NULL;
}

static const char *result_of(json_t *boot)
{
	return json_string_value(json_object_get(boot, "result"));
}

static const char *event_at(json_t *boot, size_t i)
{
	return json_string_value(json_object_get(json_array_get(json_object_get(boot, "events"), i), "state"));
}

static size_t events_of(json_t *boot)
{
	return json_array_size(json_object_get(boot, "events"));
}


/* The public id of a token: the first 16 hex digits of its sha256. */
static void id_of(const char *token, char id[BOOTS_ID_LEN])
{
	char hex[DIGEST_HEX_LEN];

	assert_int_equal(digest_sha256_buf(token, strlen(token), hex), 0);
	snprintf(id, BOOTS_ID_LEN, "%.16s", hex);
}

static struct boots *open_limits(const struct boots_limits *l)
{
	struct boots *b = NULL;
	char err[512] = "";

	if (boots_open_limits(testlib_dir, l, &b, err, sizeof(err)) != 0)
		fail_msg("boots_open_limits: %s", err);
	return b;
}

static off_t journal_bytes(void)
{
	char *path = testlib_path("boots.log");
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	free(path);
	return st.st_size;
}

static const char *boot_field(json_t *boot, const char *key)
{
	return json_string_value(json_object_get(boot, key));
}

static void test_create(void **state)
{
	char t1[BOOTS_TOKEN_LEN], t2[BOOTS_TOKEN_LEN], artifact[65], id[BOOTS_ID_LEN], *text;
	struct boots *b = open_ok();
	json_t *j, *by_id;

	(void)state;
	create_ok(b, "lab1", t1);
	create_ok(b, "lab1", t2);
	assert_string_not_equal(t1, t2);
	j = boots_boot_json(b, t1);
	assert_non_null(j);
	/* the view names the boot by its id: the token stays with the guest and the creator */
	id_of(t1, id);
	assert_string_equal(boot_field(j, "boot"), id);
	text = json_dumps(j, 0);
	assert_null(strstr(text, t1));
	free(text);
	assert_string_equal(boot_field(j, "machine"), "lab1");
	assert_string_equal(boot_field(j, "mac"), "52:54:00:12:34:56");
	assert_string_equal(boot_field(j, "variant"), "net");
	assert_string_equal(boot_field(j, "artifact"), ART);
	assert_string_equal(boot_field(j, "firmware"), "bios");
	assert_true(json_is_null(json_object_get(j, "reason")));
	assert_string_equal(result_of(j), "pending");
	assert_int_equal(events_of(j), 1);
	assert_string_equal(event_at(j, 0), "boot created");
	assert_true(json_is_null(json_object_get(j, "report")));
	/* the id finds the same boot */
	by_id = boots_boot_json(b, id);
	assert_true(json_equal(by_id, j));
	json_decref(by_id);
	json_decref(j);
	assert_int_equal(boots_artifact(b, t1, artifact), 0);
	assert_string_equal(artifact, ART);
	/* an id is no token: it names no artifact and takes no event */
	assert_int_equal(boots_artifact(b, id, artifact), -ENOENT);
	assert_int_equal(boots_event(b, id, "kernel sent"), -ENOENT);
	assert_false(known(b, "lab1"));
	assert_false(known(b, "0123"));

	/* unknown tokens, and a boot created before its build was done */
	assert_false(known(b, "ffffffffffffffffffffffffffffffff"));
	assert_int_equal(boots_event(b, "ffffffffffffffffffffffffffffffff", "kernel sent"), -ENOENT);
	assert_int_equal(boots_artifact(b, "ffffffffffffffffffffffffffffffff", artifact), -ENOENT);
	assert_int_equal(boots_create(b, &(struct boots_new){ .machine = "lab2", .artifact = "" }, t2), 0);
	assert_int_equal(boots_artifact(b, t2, artifact), -ENOENT);
	j = boots_boot_json(b, t2);
	assert_string_equal(boot_field(j, "firmware"), "unknown");
	assert_string_equal(boot_field(j, "mac"), "");
	assert_string_equal(boot_field(j, "variant"), "");
	json_decref(j);
	/* only bios and uefi are firmware names; a machine is required */
	assert_int_equal(boots_create(b, &(struct boots_new){ .machine = "lab3", .firmware = "efi\n" }, t2), 0);
	j = boots_boot_json(b, t2);
	assert_string_equal(boot_field(j, "firmware"), "unknown");
	json_decref(j);
	assert_int_equal(boots_create(b, &(struct boots_new){ .variant = "net" }, t2), -EINVAL);
	boots_free(b);
	boots_free(NULL);
}

static void test_download_notes(void **state)
{
	static const char *const notes[] = { "script served", "kernel sent", "initrd sent" };
	char token[BOOTS_TOKEN_LEN];
	struct boots *b = open_ok();
	off_t full;
	json_t *j;

	(void)state;
	create_ok(b, "lab1", token);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(boots_event(b, token, notes[i]), 0);
	j = boots_boot_json(b, token);
	assert_int_equal(events_of(j), 4);
	for (size_t i = 0; i < 3; i++)
		assert_string_equal(event_at(j, i + 1), notes[i]);
	assert_string_equal(result_of(j), "pending");
	json_decref(j);
	/* a boot keeps its first few events; a looping guest grows neither it nor the journal */
	for (int i = 0; i < 4; i++)
		assert_int_equal(boots_event(b, token, "kernel sent"), 0);
	full = journal_bytes();
	for (int i = 0; i < 20; i++)
		assert_int_equal(boots_event(b, token, "kernel sent"), 0);
	assert_int_equal(journal_bytes(), full);
	j = boots_boot_json(b, token);
	assert_int_equal(events_of(j), 8);
	json_decref(j);
	boots_free(b);
}

/* A report needs the token of an open boot of its machine, and is taken once. */
static void test_report_once_by_token(void **state)
{
	char t1[BOOTS_TOKEN_LEN], t2[BOOTS_TOKEN_LEN], t3[BOOTS_TOKEN_LEN], id[BOOTS_ID_LEN];
	struct boots *b = open_ok();
	json_t *rep, *other, *j;

	(void)state;
	create_ok(b, "lab1", t1);
	create_ok(b, "lab1", t2);
	create_ok(b, "lab2", t3);
	rep = report_new(t1, "lab1", true);
	assert_int_equal(boots_report(b, t1, "lab1", true, rep), 0);
	j = boots_boot_json(b, t1);
	assert_string_equal(result_of(j), "ok");
	assert_true(json_equal(json_object_get(j, "report"), rep));
	assert_string_equal(event_at(j, events_of(j) - 1), "report: payloads ok");
	json_decref(j);

	/* a second report for the boot is refused; the first one stays */
	other = report_new(t1, "lab1", false);
	assert_int_equal(boots_report(b, t1, "lab1", false, other), -EALREADY);
	j = boots_boot_json(b, t1);
	assert_string_equal(result_of(j), "ok");
	assert_true(json_equal(json_object_get(j, "report"), rep));
	assert_int_equal(events_of(j), 2);
	json_decref(j);
	json_decref(other);

	/* lab2's token under lab1's name, lab1's under lab2's: refused, and nothing changes */
	other = report_new(t3, "lab1", true);
	assert_int_equal(boots_report(b, t3, "lab1", true, other), -EPERM);
	json_decref(other);
	other = report_new(t2, "lab2", true);
	assert_int_equal(boots_report(b, t2, "lab2", true, other), -EPERM);
	json_decref(other);
	j = boots_boot_json(b, t2);
	assert_string_equal(result_of(j), "pending");
	json_decref(j);
	j = boots_boot_json(b, t3);
	assert_string_equal(result_of(j), "pending");
	json_decref(j);

	/* a token nobody handed out, for a machine nobody knows: no boot is made up for it */
	other = report_new("ffffffffffffffffffffffffffffffff", "lab9", true);
	assert_int_equal(boots_report(b, "ffffffffffffffffffffffffffffffff", "lab9", true, other), -ENOENT);
	assert_null(boots_machine_json(b, "lab9"));
	/* nor does a boot's public id stand in for its token */
	id_of(t2, id);
	assert_int_equal(boots_report(b, id, "lab1", true, other), -ENOENT);
	json_decref(other);

	other = report_new(t2, "lab1", false);
	assert_int_equal(boots_report(b, t2, "lab1", false, other), 0);
	json_decref(other);
	j = boots_boot_json(b, t2);
	assert_string_equal(result_of(j), "failed");
	assert_string_equal(event_at(j, events_of(j) - 1), "report: payloads failed");
	json_decref(j);
	/* lab1's last boot is the later one, shown by its id */
	j = boots_machine_json(b, "lab1");
	assert_string_equal(boot_field(j, "boot"), id);
	json_decref(j);
	boots_free(b);

	/* and after a restart a repeat is still refused */
	b = open_ok();
	assert_int_equal(boots_report(b, t1, "lab1", true, rep), -EALREADY);
	boots_free(b);
	json_decref(rep);
}

/* A slow guest (TCG) may report after the boot showed as timed out: the report is taken. */
static void test_late_report_is_taken(void **state)
{
	char *path = testlib_path("boots.log"), *text;
	struct boots *b;
	json_t *rep, *j;

	(void)state;
	text = testlib_asprintf("{\"type\":\"boot\",\"token\":\"%032d\",\"machine\":\"slow\",\"timeout_s\":5,"
				"\"at\":%.3f}\n", 7, (double)time(NULL) - 1000);
	testlib_write_text(path, text);
	b = open_ok();
	j = boots_boot_json(b, "00000000000000000000000000000007");
	assert_string_equal(result_of(j), "timed out");
	json_decref(j);
	rep = report_new("00000000000000000000000000000007", "slow", true);
	assert_int_equal(boots_report(b, "00000000000000000000000000000007", "slow", true, rep), 0);
	json_decref(rep);
	j = boots_boot_json(b, "00000000000000000000000000000007");
	assert_string_equal(result_of(j), "ok");
	assert_string_equal(event_at(j, events_of(j) - 1), "report: payloads ok");
	json_decref(j);
	boots_free(b);
	free(text);
	free(path);
}

/* A boot the daemon refused (a UEFI machine with an i386 variant) is failed at once, with its
 * reason, and never times out, takes no report, and survives a reopen. */
static void test_failed_by_daemon(void **state)
{
	static const char why[] = "net32+efi is an i386 variant and UEFI on x86_64 starts x86_64 kernels only";
	struct boots_new n = { .machine = "old-pc", .mac = "52:54:00:00:00:09", .variant = "net32+efi",
			       .artifact = "", .firmware = "uefi", .timeout_s = 1 };
	char token[BOOTS_TOKEN_LEN], t2[BOOTS_TOKEN_LEN], big[BOOTS_REASON_MAX + 50], id[BOOTS_ID_LEN];
	struct boots *b = open_ok();
	json_t *j, *before, *last, *rep;

	(void)state;
	assert_int_equal(boots_create(b, &n, token), 0);
	assert_int_equal(boots_fail(b, token, why), 0);
	assert_int_equal(boots_fail(b, "ffffffffffffffffffffffffffffffff", why), -ENOENT);
	j = boots_boot_json(b, token);
	assert_string_equal(result_of(j), "failed");
	assert_string_equal(boot_field(j, "reason"), why);
	assert_string_equal(boot_field(j, "firmware"), "uefi");
	assert_string_equal(boot_field(j, "variant"), "net32+efi");
	assert_string_equal(boot_field(j, "artifact"), "");
	assert_int_equal(events_of(j), 2);
	assert_string_equal(event_at(j, 1), "boot failed");
	assert_true(json_is_null(json_object_get(j, "report")));
	json_decref(j);
	rep = report_new(token, "old-pc", true);
	assert_int_equal(boots_report(b, token, "old-pc", true, rep), -EALREADY);
	json_decref(rep);

	/* the reason is cut, not refused */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	create_ok(b, "lab1", t2);
	assert_int_equal(boots_fail(b, t2, big), 0);
	j = boots_boot_json(b, t2);
	assert_int_equal(strlen(boot_field(j, "reason")), BOOTS_REASON_MAX);
	json_decref(j);

	/* past its timeout it is still failed, not timed out; and it is the machine's last boot */
	sleep(2);
	before = boots_boot_json(b, token);
	assert_string_equal(result_of(before), "failed");
	assert_int_equal(events_of(before), 2);
	last = boots_machine_json(b, "old-pc");
	id_of(token, id);
	assert_string_equal(boot_field(last, "boot"), id);
	assert_string_equal(boot_field(last, "reason"), why);
	boots_free(b);

	b = open_ok();
	j = boots_boot_json(b, token);
	assert_true(json_equal(j, before));
	json_decref(j);
	j = boots_machine_json(b, "old-pc");
	assert_true(json_equal(j, last));
	json_decref(j);
	json_decref(before);
	json_decref(last);
	boots_free(b);
}

/* Everything a reopened journal shows is what the running daemon showed. */
static void test_replay_after_reopen(void **state)
{
	char t1[BOOTS_TOKEN_LEN], t2[BOOTS_TOKEN_LEN], (*names)[33];
	struct boots *b = open_ok();
	json_t *rep, *before1, *before2, *last1, *j;
	char *path, *log;
	size_t n;

	(void)state;
	create_ok(b, "lab1", t1);
	create_ok(b, "lab2", t2);
	assert_int_equal(boots_event(b, t1, "kernel sent"), 0);
	assert_int_equal(boots_event(b, t2, "initrd sent"), 0);
	rep = report_new(t1, "lab1", true);
	assert_int_equal(boots_report(b, t1, "lab1", true, rep), 0);
	json_decref(rep);
	before1 = boots_boot_json(b, t1);
	before2 = boots_boot_json(b, t2);
	last1 = boots_machine_json(b, "lab1");
	assert_true(json_equal(last1, before1));
	boots_free(b);

	path = testlib_path("boots.log");
	log = testlib_read_file(path, NULL);
	assert_non_null(log);
	assert_non_null(strstr(log, "\"type\":\"report\""));
	free(log);

	b = open_ok();
	j = boots_boot_json(b, t1);
	assert_true(json_equal(j, before1));
	json_decref(j);
	j = boots_boot_json(b, t2);
	assert_true(json_equal(j, before2));
	json_decref(j);
	j = boots_machine_json(b, "lab1");
	assert_true(json_equal(j, last1));
	json_decref(j);
	assert_int_equal(boots_machine_names(b, &names, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "lab1");
	assert_string_equal(names[1], "lab2");
	free(names);

	/* the reopened journal takes new lines, and they replay too */
	assert_int_equal(boots_event(b, t2, "kernel sent"), 0);
	boots_free(b);
	b = open_ok();
	j = boots_boot_json(b, t2);
	assert_int_equal(events_of(j), events_of(before2) + 1);
	assert_string_equal(event_at(j, events_of(j) - 1), "kernel sent");
	json_decref(j);
	boots_free(b);
	json_decref(before1);
	json_decref(before2);
	json_decref(last1);
	free(path);
}

/* A journal written earlier: a boot long past its timeout, a line for a boot nobody knows, a
 * report line over 64 KiB with fields no longer kept, and a last line cut short by a crash,
 * which is cut off so that the record written after it survives the next reopen. */
static void test_replay_timeouts_and_torn_lines(void **state)
{
	char *path = testlib_path("boots.log"), *text, *junk, token[BOOTS_TOKEN_LEN];
	double old = (double)time(NULL) - 1000;
	size_t good;
	struct boots *b;
	json_t *j, *rep;

	(void)state;
	junk = malloc(80 * 1024);
	assert_non_null(junk);
	memset(junk, 'j', 80 * 1024 - 1);
	junk[80 * 1024 - 1] = '\0';
	text = testlib_asprintf(
		"{\"type\":\"boot\",\"token\":\"%032d\",\"machine\":\"late\",\"mac\":\"\",\"variant\":\"net\","
		"\"artifact\":\"\",\"timeout_s\":5,\"at\":%.3f}\n"
		"{\"type\":\"event\",\"token\":\"%032d\",\"state\":\"kernel sent\",\"at\":%.3f}\n"
		"{\"type\":\"boot\",\"token\":\"%032d\",\"machine\":\"patient\",\"timeout_s\":0,\"at\":%.3f}\n"
		"{\"type\":\"event\",\"token\":\"%032d\",\"state\":\"kernel sent\",\"at\":%.3f}\n"
		"not json at all\n"
		"{\"type\":\"boot\",\"token\":\"%032d\",\"machine\":\"big\",\"timeout_s\":0,\"at\":%.3f}\n"
		"{\"type\":\"report\",\"token\":\"%032d\",\"ok\":true,\"at\":%.3f,\"report\":{\"id\":\"big\","
		"\"kernel\":\"6.1\",\"uptime\":{},\"payloads\":[],\"junk\":\"%s\"}}\n"
		"{\"type\":\"boot\",\"token\":\"%032d\",\"machine\":\"cut\",\"timeout_s\":0,\"at\":1",
		1, old, 1, old + 1, 2, old, 9, old, 4, old, 4, old + 2, junk, 3);
	good = strrchr(text, '\n') - text + 1;
	testlib_write_text(path, text);
	b = open_ok();
	/* the torn record is gone from the file */
	assert_int_equal(journal_bytes(), (off_t)good);
	j = boots_boot_json(b, "00000000000000000000000000000001");
	assert_non_null(j);
	assert_string_equal(result_of(j), "timed out");
	assert_int_equal(events_of(j), 3);
	assert_string_equal(event_at(j, 0), "boot created");
	assert_string_equal(event_at(j, 1), "kernel sent");
	assert_string_equal(event_at(j, 2), "timed out");
	/* a journal from before firmware was recorded */
	assert_string_equal(boot_field(j, "firmware"), "unknown");
	assert_true(json_is_null(json_object_get(j, "reason")));
	json_decref(j);
	j = boots_boot_json(b, "00000000000000000000000000000002");
	assert_string_equal(result_of(j), "pending"); /* no timeout: pending for ever */
	json_decref(j);
	assert_false(known(b, "00000000000000000000000000000009"));
	assert_false(known(b, "00000000000000000000000000000003"));
	/* the long line came back, without the field a report no longer keeps */
	j = boots_boot_json(b, "00000000000000000000000000000004");
	assert_string_equal(result_of(j), "ok");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "report"), "kernel")), "6.1");
	assert_null(json_object_get(json_object_get(j, "report"), "junk"));
	json_decref(j);

	/* what comes after the cut is a record of its own, and survives the next reopen */
	create_ok(b, "after", token);
	rep = report_new(token, "after", true);
	assert_int_equal(boots_report(b, token, "after", true, rep), 0);
	json_decref(rep);
	boots_free(b);
	b = open_ok();
	j = boots_boot_json(b, token);
	assert_non_null(j);
	assert_string_equal(result_of(j), "ok");
	json_decref(j);
	boots_free(b);
	free(junk);
	free(text);
	free(path);
}

/* A report far over 64 KiB once stored comes back after a reopen. */
static void test_long_report_survives(void **state)
{
	char token[BOOTS_TOKEN_LEN], *kernel = malloc(100 * 1024);
	struct boots *b = open_ok();
	json_t *rep, *j;

	(void)state;
	assert_non_null(kernel);
	memset(kernel, 'k', 100 * 1024 - 1);
	kernel[100 * 1024 - 1] = '\0';
	create_ok(b, "lab1", token);
	rep = report_new(token, "lab1", true);
	json_object_set_new(rep, "kernel", json_string(kernel));
	assert_int_equal(boots_report(b, token, "lab1", true, rep), 0);
	boots_free(b);
	b = open_ok();
	j = boots_boot_json(b, token);
	assert_true(json_equal(json_object_get(j, "report"), rep));
	json_decref(j);
	json_decref(rep);
	boots_free(b);
	free(kernel);
}

/* Past BOOTS_MAX boots, the oldest superseded boot is forgotten in memory (after a reopen too);
 * a machine's last boot stays while there are superseded ones to forget. */
static void test_ring(void **state)
{
	char first[BOOTS_TOKEN_LEN], second[BOOTS_TOKEN_LEN], token[BOOTS_TOKEN_LEN], solo[BOOTS_TOKEN_LEN];
	struct burst bu = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 };
	struct boots *b = open_ok();
	size_t boots, bytes;

	(void)state;
	create_ok(b, "solo", solo);
	create_ok(b, "m", first);
	create_ok(b, "m", second);
	for (int i = 3; i < BOOTS_MAX; i++)
		burst_create(&bu, b, &(struct boots_new){ .machine = "m", .mac = "52:54:00:12:34:56", .variant = "net",
							  .artifact = ART, .firmware = "bios", .timeout_s = 120 }, token);
	burst_wait(&bu);
	assert_true(known(b, first)); /* exactly full: nothing forgotten yet */
	boots_usage(b, false, &boots, &bytes);
	assert_int_equal(boots, BOOTS_MAX);
	create_ok(b, "m", token);
	assert_false(known(b, first));
	assert_int_equal(boots_event(b, first, "kernel sent"), -ENOENT);
	assert_true(known(b, second));
	assert_true(known(b, token));
	assert_true(known(b, solo)); /* older than all of them, but solo's last boot */
	boots_usage(b, false, &boots, &bytes);
	assert_int_equal(boots, BOOTS_MAX);
	boots_free(b);

	b = open_ok();
	assert_false(known(b, first));
	assert_true(known(b, second));
	assert_true(known(b, token));
	assert_true(known(b, solo));
	boots_free(b);
}

/* GET /ipxe with made-up MACs on the default entry makes boots of unlisted machines: however
 * many, the pending boots of listed machines stay. */
static void test_unlisted_flood_keeps_listed_boots(void **state)
{
	char listed[3][BOOTS_TOKEN_LEN], token[BOOTS_TOKEN_LEN], name[40];
	struct burst bu = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 };
	struct boots *b = open_ok();
	size_t boots, bytes;
	json_t *j;

	(void)state;
	for (int i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "lab%d", i);
		create_ok(b, name, listed[i]);
	}
	for (int i = 0; i < 3 * BOOTS_UNLISTED_MAX; i++) {
		snprintf(name, sizeof(name), "mac-525400%06x", i);
		burst_create(&bu, b, &(struct boots_new){ .machine = name, .unlisted = true }, token);
	}
	burst_wait(&bu);
	boots_usage(b, true, &boots, &bytes);
	assert_int_equal(boots, BOOTS_UNLISTED_MAX);
	boots_usage(b, false, &boots, &bytes);
	assert_int_equal(boots, 3);
	for (int i = 0; i < 3; i++) {
		j = boots_boot_json(b, listed[i]);
		assert_string_equal(result_of(j), "pending");
		json_decref(j);
	}
	assert_true(known(b, token));
	boots_free(b);
	/* the journal remembers which were unlisted */
	b = open_ok();
	boots_usage(b, true, &boots, &bytes);
	assert_int_equal(boots, BOOTS_UNLISTED_MAX);
	for (int i = 0; i < 3; i++)
		assert_true(known(b, listed[i]));
	boots_free(b);
}

/* Report text held in memory is capped by bytes: the oldest report text goes first (its boot,
 * result and events stay; the journal keeps every report), per class. */
static void test_report_bytes_are_capped(void **state)
{
	struct boots_limits l = { 100, 0, 10, 1 << 20, 1 << 30, 1000 };
	char tokens[5][BOOTS_TOKEN_LEN], name[16], *stored;
	struct boots *b;
	size_t len, boots, bytes;
	json_t *rep, *j;

	(void)state;
	rep = report_new("", "x", true);
	stored = json_dumps(rep, JSON_COMPACT | JSON_SORT_KEYS);
	len = strlen(stored) + 2; /* each report below names its machine, lab0..lab4 */
	free(stored);
	json_decref(rep);
	l.report_bytes = 3 * (len + 32) + len / 2; /* three reports, not four */
	b = open_limits(&l);
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "lab%d", i);
		create_ok(b, name, tokens[i]);
		rep = report_new(tokens[i], name, true);
		assert_int_equal(boots_report(b, tokens[i], name, true, rep), 0);
		json_decref(rep);
	}
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < 5; i++) {
			j = boots_boot_json(b, tokens[i]);
			assert_string_equal(result_of(j), "ok");
			assert_string_equal(event_at(j, events_of(j) - 1), "report: payloads ok");
			if (i < 2)
				assert_true(json_is_null(json_object_get(j, "report")));
			else
				assert_true(json_is_object(json_object_get(j, "report")));
			json_decref(j);
		}
		boots_usage(b, false, &boots, &bytes);
		assert_int_equal(boots, 5);
		assert_true(bytes <= l.report_bytes);
		/* a restart holds the same, whatever the journal holds */
		boots_free(b);
		b = open_limits(&l);
	}
	boots_free(b);
	{
		char *path = testlib_path("boots.log");

		assert_int_equal(testlib_file_count(path, "\"type\":\"report\""), 5);
		free(path);
	}
}

/* A journal that cannot take the record (the disk is full: RLIMIT_FSIZE stands in for it)
 * changes nothing: the report is refused with the real error and not shown, no boot is made;
 * with room again the same report is taken, and it survives a restart. */
static void test_full_journal_changes_nothing(void **state)
{
	char token[BOOTS_TOKEN_LEN], other[BOOTS_TOKEN_LEN];
	struct boots *b = open_ok();
	struct rlimit old, lim;
	json_t *rep, *j;
	off_t size;
	int rc1, rc2;

	(void)state;
	signal(SIGXFSZ, SIG_IGN);
	create_ok(b, "lab1", token);
	rep = report_new(token, "lab1", true);
	size = journal_bytes();
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)size + 20; /* a record starts, and does not fit */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	rc1 = boots_report(b, token, "lab1", true, rep);
	rc2 = boots_create(b, &(struct boots_new){ .machine = "lab2" }, other);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(rc1, -EFBIG);
	assert_int_equal(rc2, -EFBIG);
	assert_int_equal(journal_bytes(), size);
	j = boots_boot_json(b, token);
	assert_string_equal(result_of(j), "pending");
	assert_true(json_is_null(json_object_get(j, "report")));
	assert_int_equal(events_of(j), 1);
	json_decref(j);
	assert_null(boots_machine_json(b, "lab2"));

	assert_int_equal(boots_report(b, token, "lab1", true, rep), 0);
	boots_free(b);
	b = open_ok();
	j = boots_boot_json(b, token);
	assert_string_equal(result_of(j), "ok");
	assert_true(json_equal(json_object_get(j, "report"), rep));
	json_decref(j);
	json_decref(rep);
	boots_free(b);
}

/* How many of the tokens have a report line in the journal or one of its archives. */
static size_t reports_on_disk(char tokens[][BOOTS_TOKEN_LEN], size_t n, int *archives)
{
	char *all = strdup(""), *path, *text, *needle;
	size_t found = 0, len = 0;
	struct dirent *e;
	DIR *d = opendir(testlib_dir);

	assert_non_null(d);
	*archives = 0;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "boots.log", 9) != 0)
			continue;
		if (e->d_name[9] == '.')
			(*archives)++;
		path = testlib_path(e->d_name);
		text = testlib_read_file(path, NULL);
		all = realloc(all, len + strlen(text) + 1);
		memcpy(all + len, text, strlen(text) + 1);
		len += strlen(text);
		free(text);
		free(path);
	}
	closedir(d);
	for (size_t i = 0; i < n; i++) {
		needle = testlib_asprintf("\"token\":\"%s\",\"type\":\"report\"", tokens[i]);
		found += strstr(all, needle) != NULL;
		free(needle);
	}
	free(all);
	return found;
}

/* A journal that grew far past what memory holds is rewritten with what memory holds (the old
 * one kept as an archive): the next start reads little and shows exactly what was shown; every
 * acknowledged report stays on disk. */
static void test_compaction(void **state)
{
	struct boots_limits l = { 20, 1 << 20, 5, 1 << 20, 8192, 1000 };
	char tokens[200][BOOTS_TOKEN_LEN], name[40], failed[BOOTS_TOKEN_LEN], unlisted[BOOTS_TOKEN_LEN];
	json_t *before[200] = { 0 }, *rep, *j;
	struct boots *b = open_limits(&l);
	size_t boots, bytes;
	int archives;

	(void)state;
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "lab%03d", i % 50);
		create_ok(b, name, tokens[i]);
		assert_int_equal(boots_event(b, tokens[i], "kernel sent"), 0);
		rep = report_new(tokens[i], name, i % 3 != 0);
		assert_int_equal(boots_report(b, tokens[i], name, i % 3 != 0, rep), 0);
		json_decref(rep);
	}
	create_ok(b, "lab-failed", failed);
	assert_int_equal(boots_fail(b, failed, "no EFI kernel"), 0);
	assert_int_equal(boots_create(b, &(struct boots_new){ .machine = "mac-525400000001", .unlisted = true },
				      unlisted), 0);
	/* compacted as it grew: about what memory holds, not 200 reports */
	assert_true(journal_bytes() < 8192 + 20 * 1024);
	for (int i = 0; i < 200; i++)
		before[i] = boots_boot_json(b, tokens[i]);
	j = boots_boot_json(b, failed);
	boots_free(b);
	assert_int_equal(reports_on_disk(tokens, 200, &archives), 200);
	assert_true(archives >= 1);

	b = open_limits(&l);
	for (int i = 0; i < 200; i++) {
		json_t *now = boots_boot_json(b, tokens[i]);

		if (!before[i])
			assert_null(now);
		else if (!json_equal(now, before[i]))
			fail_msg("boot %d differs after the compacted replay", i);
		json_decref(now);
		json_decref(before[i]);
	}
	rep = boots_boot_json(b, failed);
	assert_true(json_equal(rep, j));
	assert_string_equal(boot_field(rep, "reason"), "no EFI kernel");
	json_decref(rep);
	json_decref(j);
	boots_usage(b, true, &boots, &bytes);
	assert_int_equal(boots, 1);
	assert_true(known(b, unlisted));
	boots_free(b);
}

/* A long journal from before (far past what memory holds) is compacted at start-up. */
static void test_compaction_at_start(void **state)
{
	struct boots_limits l = { 10, 1 << 20, 5, 1 << 20, 4096, 1000 };
	char *path = testlib_path("boots.log"), tokens[300][BOOTS_TOKEN_LEN];
	struct boots *b;
	FILE *f;
	int archives;
	json_t *j;

	(void)state;
	f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < 300; i++) {
		snprintf(tokens[i], BOOTS_TOKEN_LEN, "%032x", i + 1);
		fprintf(f, "{\"at\":%d,\"machine\":\"m%d\",\"timeout_s\":0,\"token\":\"%s\",\"type\":\"boot\"}\n",
			1000 + i, i, tokens[i]);
		fprintf(f, "{\"at\":%d.5,\"ok\":true,\"report\":{\"id\":\"m%d\",\"kernel\":\"6.1\",\"junk\":[1,2,3],"
			"\"payloads\":[],\"uptime\":{}},\"token\":\"%s\",\"type\":\"report\"}\n", 1000 + i, i, tokens[i]);
	}
	fclose(f);
	b = open_limits(&l);
	assert_true(journal_bytes() < 4096);
	assert_false(known(b, tokens[289]));
	j = boots_boot_json(b, tokens[299]);
	assert_string_equal(result_of(j), "ok");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "report"), "kernel")), "6.1");
	assert_null(json_object_get(json_object_get(j, "report"), "junk"));
	json_decref(j);
	boots_free(b);
	assert_int_equal(reports_on_disk(tokens, 300, &archives), 300);
	assert_int_equal(archives, 1);
	/* the compacted journal holds the reports without the fields no longer kept */
	assert_int_equal(testlib_file_count(path, "junk"), 0);
	free(path);
}

static void test_open_fails_without_directory(void **state)
{
	char *missing = testlib_path("no/such/dir"), err[512] = "";
	struct boots *b = NULL;

	(void)state;
	assert_int_equal(boots_open(missing, &b, err, sizeof(err)), -ENOENT);
	assert_null(b);
	assert_non_null(strstr(err, "boots.log"));
	free(missing);
}

#define T(f) cmocka_unit_test_setup_teardown(f, testlib_setup_tmpdir, testlib_teardown_tmpdir)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_create),
		T(test_download_notes),
		T(test_report_once_by_token),
		T(test_late_report_is_taken),
		T(test_failed_by_daemon),
		T(test_replay_after_reopen),
		T(test_replay_timeouts_and_torn_lines),
		T(test_long_report_survives),
		T(test_ring),
		T(test_unlisted_flood_keeps_listed_boots),
		T(test_report_bytes_are_capped),
		T(test_full_journal_changes_nothing),
		T(test_compaction),
		T(test_compaction_at_start),
		T(test_open_fails_without_directory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
