/* test_boots.c - boot records: create, download notes, reports, boots the daemon failed, the
 * journal replayed after a reopen (cut lines skipped, timeouts), the in-memory ring, and report
 * validation. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "boot/boots.h"
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

static void test_create(void **state)
{
	char t1[BOOTS_TOKEN_LEN], t2[BOOTS_TOKEN_LEN], artifact[65];
	struct boots *b = open_ok();
	json_t *j;

	(void)state;
	create_ok(b, "lab1", t1);
	create_ok(b, "lab1", t2);
	assert_string_not_equal(t1, t2);
	j = boots_boot_json(b, t1);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "boot")), t1);
	assert_string_equal(json_string_value(json_object_get(j, "machine")), "lab1");
	assert_string_equal(json_string_value(json_object_get(j, "mac")), "52:54:00:12:34:56");
	assert_string_equal(json_string_value(json_object_get(j, "variant")), "net");
	assert_string_equal(json_string_value(json_object_get(j, "artifact")), ART);
	assert_string_equal(json_string_value(json_object_get(j, "firmware")), "bios");
	assert_true(json_is_null(json_object_get(j, "reason")));
	assert_string_equal(result_of(j), "pending");
	assert_int_equal(events_of(j), 1);
	assert_string_equal(event_at(j, 0), "boot created");
	assert_true(json_is_null(json_object_get(j, "report")));
	json_decref(j);
	assert_int_equal(boots_artifact(b, t1, artifact), 0);
	assert_string_equal(artifact, ART);

	/* unknown tokens, and a boot created before its build was done */
	assert_false(known(b, "ffffffffffffffffffffffffffffffff"));
	assert_int_equal(boots_event(b, "ffffffffffffffffffffffffffffffff", "kernel sent"), -ENOENT);
	assert_int_equal(boots_artifact(b, "ffffffffffffffffffffffffffffffff", artifact), -ENOENT);
	assert_int_equal(boots_create(b, &(struct boots_new){ .machine = "lab2", .artifact = "" }, t2), 0);
	assert_int_equal(boots_artifact(b, t2, artifact), -ENOENT);
	j = boots_boot_json(b, t2);
	assert_string_equal(json_string_value(json_object_get(j, "firmware")), "unknown");
	assert_string_equal(json_string_value(json_object_get(j, "mac")), "");
	assert_string_equal(json_string_value(json_object_get(j, "variant")), "");
	json_decref(j);
	/* only bios and uefi are firmware names; a machine is required */
	assert_int_equal(boots_create(b, &(struct boots_new){ .machine = "lab3", .firmware = "efi\n" }, t2), 0);
	j = boots_boot_json(b, t2);
	assert_string_equal(json_string_value(json_object_get(j, "firmware")), "unknown");
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
	/* a boot keeps its first few events; a looping guest cannot grow it */
	for (int i = 0; i < 20; i++)
		assert_int_equal(boots_event(b, token, "kernel sent"), 0);
	j = boots_boot_json(b, token);
	assert_int_equal(events_of(j), 8);
	json_decref(j);
	boots_free(b);
}

static void test_report(void **state)
{
	char t1[BOOTS_TOKEN_LEN], t2[BOOTS_TOKEN_LEN];
	struct boots *b = open_ok();
	json_t *rep, *j, *all;

	(void)state;
	create_ok(b, "lab1", t1);
	create_ok(b, "lab1", t2);
	rep = report_new(t1, "lab1", true);
	assert_int_equal(boots_report(b, t1, "lab1", true, rep), 0);
	j = boots_boot_json(b, t1);
	assert_string_equal(result_of(j), "ok");
	assert_true(json_equal(json_object_get(j, "report"), rep));
	assert_string_equal(event_at(j, events_of(j) - 1), "report: payloads ok");
	json_decref(j);
	json_decref(rep);

	rep = report_new(t2, "lab1", false);
	assert_int_equal(boots_report(b, t2, "lab1", false, rep), 0);
	json_decref(rep);
	j = boots_boot_json(b, t2);
	assert_string_equal(result_of(j), "failed");
	assert_string_equal(event_at(j, events_of(j) - 1), "report: payloads failed");
	json_decref(j);

	/* no token: a guest booted by other means is filed as a boot of its own */
	rep = report_new("", "lab9", true);
	assert_int_equal(boots_report(b, "", "lab9", true, rep), 0);
	json_decref(rep);

	all = boots_machines_json(b);
	assert_int_equal(json_object_size(all), 2);
	/* lab1's last boot is the later one */
	assert_string_equal(json_string_value(json_object_get(json_object_get(all, "lab1"), "boot")), t2);
	assert_string_equal(result_of(json_object_get(all, "lab9")), "ok");
	assert_string_equal(json_string_value(json_object_get(json_object_get(all, "lab9"), "mac")), "");
	json_decref(all);
	boots_free(b);
}

/* A boot the daemon refused (a UEFI machine with an i386 variant) is failed at once, with its
 * reason, and never times out; it survives a reopen. */
static void test_failed_by_daemon(void **state)
{
	static const char why[] = "net32+efi is an i386 variant and UEFI on x86_64 starts x86_64 kernels only";
	struct boots_new n = { .machine = "old-pc", .mac = "52:54:00:00:00:09", .variant = "net32+efi",
			       .artifact = "", .firmware = "uefi", .timeout_s = 1 };
	char token[BOOTS_TOKEN_LEN], t2[BOOTS_TOKEN_LEN], big[BOOTS_REASON_MAX + 50];
	struct boots *b = open_ok();
	json_t *j, *before, *all;

	(void)state;
	assert_int_equal(boots_create(b, &n, token), 0);
	assert_int_equal(boots_fail(b, token, why), 0);
	assert_int_equal(boots_fail(b, "ffffffffffffffffffffffffffffffff", why), -ENOENT);
	j = boots_boot_json(b, token);
	assert_string_equal(result_of(j), "failed");
	assert_string_equal(json_string_value(json_object_get(j, "reason")), why);
	assert_string_equal(json_string_value(json_object_get(j, "firmware")), "uefi");
	assert_string_equal(json_string_value(json_object_get(j, "variant")), "net32+efi");
	assert_string_equal(json_string_value(json_object_get(j, "artifact")), "");
	assert_int_equal(events_of(j), 2);
	assert_string_equal(event_at(j, 1), "boot failed");
	assert_true(json_is_null(json_object_get(j, "report")));
	json_decref(j);

	/* the reason is cut, not refused */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	create_ok(b, "lab1", t2);
	assert_int_equal(boots_fail(b, t2, big), 0);
	j = boots_boot_json(b, t2);
	assert_int_equal(strlen(json_string_value(json_object_get(j, "reason"))), BOOTS_REASON_MAX);
	json_decref(j);

	/* past its timeout it is still failed, not timed out; and it is the machine's last boot */
	sleep(2);
	before = boots_boot_json(b, token);
	assert_string_equal(result_of(before), "failed");
	assert_int_equal(events_of(before), 2);
	all = boots_machines_json(b);
	assert_string_equal(json_string_value(json_object_get(json_object_get(all, "old-pc"), "boot")), token);
	assert_string_equal(json_string_value(json_object_get(json_object_get(all, "old-pc"), "reason")), why);
	boots_free(b);

	b = open_ok();
	j = boots_boot_json(b, token);
	assert_true(json_equal(j, before));
	json_decref(j);
	j = boots_machines_json(b);
	assert_true(json_equal(j, all));
	json_decref(j);
	json_decref(before);
	json_decref(all);
	boots_free(b);
}

/* Everything a reopened journal shows is what the running daemon showed. */
static void test_replay_after_reopen(void **state)
{
	char t1[BOOTS_TOKEN_LEN], t2[BOOTS_TOKEN_LEN];
	struct boots *b = open_ok();
	json_t *rep, *before1, *before2, *all, *j;
	char *path, *log;

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
	all = boots_machines_json(b);
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
	j = boots_machines_json(b);
	assert_true(json_equal(j, all));
	json_decref(j);

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
	json_decref(all);
	free(path);
}

/* A journal written earlier: a boot long past its timeout, a line for a boot nobody knows, and
 * a last line cut short by a crash. */
static void test_replay_timeouts_and_cut_lines(void **state)
{
	char *path = testlib_path("boots.log"), *text;
	double old = (double)time(NULL) - 1000;
	struct boots *b;
	json_t *j;

	(void)state;
	text = testlib_asprintf(
		"{\"type\":\"boot\",\"token\":\"%032d\",\"machine\":\"late\",\"mac\":\"\",\"variant\":\"net\","
		"\"artifact\":\"\",\"timeout_s\":5,\"at\":%.3f}\n"
		"{\"type\":\"event\",\"token\":\"%032d\",\"state\":\"kernel sent\",\"at\":%.3f}\n"
		"{\"type\":\"boot\",\"token\":\"%032d\",\"machine\":\"patient\",\"timeout_s\":0,\"at\":%.3f}\n"
		"{\"type\":\"event\",\"token\":\"%032d\",\"state\":\"kernel sent\",\"at\":%.3f}\n"
		"not json at all\n"
		"{\"type\":\"boot\",\"token\":\"%032d\",\"machine\":\"cut\",\"timeout_s\":0,\"at\":1",
		1, old, 1, old + 1, 2, old, 9, old, 3);
	testlib_write_text(path, text);
	b = open_ok();
	j = boots_boot_json(b, "00000000000000000000000000000001");
	assert_non_null(j);
	assert_string_equal(result_of(j), "timed out");
	assert_int_equal(events_of(j), 3);
	assert_string_equal(event_at(j, 0), "boot created");
	assert_string_equal(event_at(j, 1), "kernel sent");
	assert_string_equal(event_at(j, 2), "timed out");
	/* a journal from before firmware was recorded */
	assert_string_equal(json_string_value(json_object_get(j, "firmware")), "unknown");
	assert_true(json_is_null(json_object_get(j, "reason")));
	json_decref(j);
	j = boots_boot_json(b, "00000000000000000000000000000002");
	assert_string_equal(result_of(j), "pending"); /* no timeout: pending for ever */
	json_decref(j);
	assert_false(known(b, "00000000000000000000000000000009"));
	assert_false(known(b, "00000000000000000000000000000003"));
	boots_free(b);
	free(text);
	free(path);
}

/* Past BOOTS_MAX boots, the oldest is forgotten in memory, after a reopen too. */
static void test_ring(void **state)
{
	char first[BOOTS_TOKEN_LEN], second[BOOTS_TOKEN_LEN], token[BOOTS_TOKEN_LEN];
	struct boots *b = open_ok();

	(void)state;
	create_ok(b, "m", first);
	create_ok(b, "m", second);
	for (int i = 2; i < BOOTS_MAX; i++)
		create_ok(b, "m", token);
	assert_true(known(b, first)); /* exactly full: nothing forgotten yet */
	create_ok(b, "m", token);
	assert_false(known(b, first));
	assert_int_equal(boots_event(b, first, "kernel sent"), -ENOENT);
	assert_true(known(b, second));
	assert_true(known(b, token));
	boots_free(b);

	b = open_ok();
	assert_false(known(b, first));
	assert_true(known(b, second));
	assert_true(known(b, token));
	boots_free(b);
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

static const struct {
	const char *json;
	int rc;
	bool ok;
	const char *err; /* a part of the message */
} reports[] = {
	{ "{\"id\":\"lab1\",\"kernel\":\"6.6\",\"uptime\":{},\"payloads\":[]}", 0, true, NULL },
	{ "{\"id\":\"lab1\",\"boot\":\"\",\"kernel\":\"6.6\",\"arch\":\"x86_64\",\"uptime\":{\"init\":0.5},"
	  "\"addresses\":[\"10.0.2.15/24\"],\"payloads\":[{\"name\":\"a\",\"size\":1,\"sha256\":\"x\",\"ok\":true}]}",
	  0, true, NULL },
	{ "{\"id\":\"lab1\",\"kernel\":\"6.6\",\"uptime\":{},"
	  "\"payloads\":[{\"name\":\"a\",\"size\":1,\"sha256\":\"x\",\"ok\":false}]}", 0, false, NULL },
	{ "{\"id\":\"lab1\",\"kernel\":\"6.6\",\"uptime\":{},\"payloads\":[],\"ok\":false}", 0, false, NULL },
	{ "[]", -EINVAL, false, "a report is a JSON object" },
	{ "{\"kernel\":\"6.6\",\"uptime\":{},\"payloads\":[]}", -EINVAL, false, "\"id\" must be" },
	{ "{\"id\":\"../etc\",\"kernel\":\"6.6\",\"uptime\":{},\"payloads\":[]}", -EINVAL, false, "\"id\" must be" },
	{ "{\"id\":\"lab1\",\"boot\":\"xyz\",\"kernel\":\"6.6\",\"uptime\":{},\"payloads\":[]}", -EINVAL, false,
	  "\"boot\" must be" },
	{ "{\"id\":\"lab1\",\"uptime\":{},\"payloads\":[]}", -EINVAL, false, "\"kernel\" must be" },
	{ "{\"id\":\"lab1\",\"kernel\":\"6.6\",\"arch\":1,\"uptime\":{},\"payloads\":[]}", -EINVAL, false,
	  "\"arch\" must be" },
	{ "{\"id\":\"lab1\",\"kernel\":\"6.6\",\"uptime\":[],\"payloads\":[]}", -EINVAL, false, "\"uptime\" must be" },
	{ "{\"id\":\"lab1\",\"kernel\":\"6.6\",\"uptime\":{\"init\":\"soon\"},\"payloads\":[]}", -EINVAL, false,
	  "\"uptime\".init must be" },
	{ "{\"id\":\"lab1\",\"kernel\":\"6.6\",\"uptime\":{},\"addresses\":\"x\",\"payloads\":[]}", -EINVAL, false,
	  "\"addresses\" must be an array" },
	{ "{\"id\":\"lab1\",\"kernel\":\"6.6\",\"uptime\":{}}", -EINVAL, false, "\"payloads\" must be" },
	{ "{\"id\":\"lab1\",\"kernel\":\"6.6\",\"uptime\":{},\"payloads\":[{\"name\":\"a\",\"size\":1,\"ok\":true}]}",
	  -EINVAL, false, "payload 0 needs" },
	{ "{\"id\":\"lab1\",\"kernel\":\"6.6\",\"uptime\":{},\"payloads\":[],\"ok\":\"yes\"}", -EINVAL, false,
	  "\"ok\" must be" },
};

static void test_validate_report(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(reports) / sizeof(reports[0]); i++) {
		const char *token = NULL, *machine = NULL;
		json_t *j = json_loads(reports[i].json, 0, NULL);
		char err[512] = "";
		bool ok = false;
		int rc;

		assert_non_null(j);
		rc = boots_validate_report(j, &token, &machine, &ok, err, sizeof(err));
		if (rc != reports[i].rc)
			fail_msg("report %zu: rc %d, want %d (%s)", i, rc, reports[i].rc, err);
		if (rc == 0) {
			assert_int_equal(ok, reports[i].ok);
			assert_string_equal(machine, "lab1");
		} else if (!strstr(err, reports[i].err)) {
			fail_msg("report %zu: '%s' lacks '%s'", i, err, reports[i].err);
		}
		json_decref(j);
	}
}

/* At most 16 addresses, each a short string. */
static void test_validate_report_addresses(void **state)
{
	json_t *j = json_pack("{s:s, s:s, s:{}, s:[]}", "id", "lab1", "kernel", "6.6", "uptime", "payloads");
	json_t *addresses = json_array();
	const char *token, *machine;
	char err[512];
	bool ok;

	(void)state;
	for (int i = 0; i < 17; i++)
		json_array_append_new(addresses, json_string("10.0.2.15/24"));
	json_object_set_new(j, "addresses", addresses);
	assert_int_equal(boots_validate_report(j, &token, &machine, &ok, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "\"addresses\" must hold at most 16 short strings");
	json_array_remove(addresses, 0);
	assert_int_equal(boots_validate_report(j, &token, &machine, &ok, err, sizeof(err)), 0);
	json_decref(j);
}

#define T(f) cmocka_unit_test_setup_teardown(f, testlib_setup_tmpdir, testlib_teardown_tmpdir)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_create),
		T(test_download_notes),
		T(test_report),
		T(test_failed_by_daemon),
		T(test_replay_after_reopen),
		T(test_replay_timeouts_and_cut_lines),
		T(test_ring),
		T(test_open_fails_without_directory),
		cmocka_unit_test(test_validate_report),
		cmocka_unit_test(test_validate_report_addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
