/* test_payloads.c - gen/N bytes (golden, offset-independent), their checksums, gen/N sizes, and
 * the manifest lines a machine's payloads give (pinned checksums, default-entry names, errors). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "boot/payloads.h"
#include "conf/machines.h"
#include "lib/digest.h"
#include "lib/etag.h"
#include "testlib.h"

/* splitmix64 of word indexes 0, 1, 2, little-endian (computed outside C) */
static const unsigned char gen_golden[20] = {
	0xaf, 0xcd, 0x1d, 0x7b, 0x39, 0xa8, 0x20, 0xe2, 0xc1, 0x5c,
	0x02, 0x89, 0xec, 0x2d, 0x0a, 0x91, 0xce, 0x56, 0x97, 0x1c,
};
/* sha256 of the first 1000000 bytes (computed outside C) */
#define GEN_1000000_SHA "cb846afbee33342985b074783807c97d14a62683a7dabf534628d980e3c00471"

static void test_gen_golden(void **state)
{
	char buf[20];

	(void)state;
	payloads_gen_fill(0, buf, sizeof(buf));
	assert_memory_equal(buf, gen_golden, sizeof(buf));
}

/* Any slice of the stream is the same bytes, whatever offset and length it is asked with. */
static void test_gen_fill_any_offset(void **state)
{
	static const uint64_t offsets[] = { 0, 1, 3, 7, 8, 9, 15, 16, 4095, 65535, 65536, 100003 };
	static const size_t lengths[] = { 0, 1, 2, 7, 8, 9, 63, 1000 };
	size_t total = 200000;
	char *whole = malloc(total), part[1000];

	(void)state;
	assert_non_null(whole);
	payloads_gen_fill(0, whole, total);
	for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		for (size_t j = 0; j < sizeof(lengths) / sizeof(lengths[0]); j++) {
			memset(part, 0x55, sizeof(part));
			payloads_gen_fill(offsets[i], part, lengths[j]);
			assert_memory_equal(part, whole + offsets[i], lengths[j]);
		}
	}
	/* deterministic: a second fill gives the same bytes */
	payloads_gen_fill(100003, part, sizeof(part));
	assert_memory_equal(part, whole + 100003, sizeof(part));
	free(whole);
}

static void test_gen_sha256(void **state)
{
	static const uint64_t sizes[] = { 1, 7, 8, 65535, 65536, 65537, 200001 };
	char want[DIGEST_HEX_LEN], got[DIGEST_HEX_LEN];
	char *buf = malloc(200001);

	(void)state;
	assert_non_null(buf);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		payloads_gen_fill(0, buf, sizes[i]);
		assert_int_equal(digest_sha256_buf(buf, sizes[i], want), 0);
		assert_int_equal(payloads_gen_sha256(sizes[i], got), 0);
		assert_string_equal(got, want);
		/* the second answer comes from the remembered sizes */
		assert_int_equal(payloads_gen_sha256(sizes[i], got), 0);
		assert_string_equal(got, want);
	}
	free(buf);
	assert_int_equal(payloads_gen_sha256(1000000, got), 0);
	assert_string_equal(got, GEN_1000000_SHA);
}

static void test_gen_size(void **state)
{
	static const struct {
		const char *in;
		int rc;
		uint64_t n;
	} cases[] = {
		{ "1", 0, 1 },
		{ "4096", 0, 4096 },
		{ "1073741824", 0, PAYLOADS_GEN_MAX },
		{ "1073741825", -ERANGE, 0 },
		{ "9999999999", -ERANGE, 0 },
		{ "10000000000", -EINVAL, 0 }, /* 11 digits */
		{ "0", -EINVAL, 0 },
		{ "01", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 },
		{ "+1", -EINVAL, 0 },
		{ "12a", -EINVAL, 0 },
		{ " 1", -EINVAL, 0 },
		{ "1k", -EINVAL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t n = 12345;

		print_message("'%s'\n", cases[i].in);
		assert_int_equal(payloads_gen_size(cases[i].in, &n), cases[i].rc);
		assert_true(n == (cases[i].rc ? 12345 : cases[i].n));
	}
}

/* A payload directory and a machines.conf naming files in it. */
struct fixture {
	struct machines *machines;
	struct etag_cache *etags;
	int dirfd;
};

static const char hello[] = "hello\n";
static const char pinned_sha[] = "1111111111111111111111111111111111111111111111111111111111111111";

static const struct {
	const char *name, *text;
} fx_files[] = {
	{ "hello.txt", hello },
	{ "pinned.bin", "whatever the bytes\n" },
	{ "pinned.bin.sha256", pinned_sha },
	{ "badpin.bin", "x" },
	{ "badpin.bin.sha256", "not a checksum\n" }, /* too short: the file's own checksum stands */
	{ "fifopin.bin", "y" },                       /* its .sha256 is a FIFO (fx_setup) */
};

static int fx_setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char err[512] = "", *path;

	if (!fx || testlib_setup_tmpdir(state))
		return -1;
	for (size_t i = 0; i < sizeof(fx_files) / sizeof(fx_files[0]); i++) {
		path = testlib_path(fx_files[i].name);
		testlib_write_text(path, fx_files[i].text);
		free(path);
	}
	/* FIFOs: a payload, and a pin; neither may block the thread that builds a manifest */
	for (size_t i = 0; i < 2; i++) {
		path = testlib_path(i ? "fifo.bin" : "fifopin.bin.sha256");
		if (mkfifo(path, 0644))
			return -1;
		free(path);
	}
	path = testlib_path("machines.conf");
	testlib_write_text(path,
			   "52:54:00:12:34:56 name=lab1 variant=net payloads=hello.txt,gen/1000000,pinned.bin\n"
			   "52:54:00:12:34:57 name=bare variant=net\n"
			   "52:54:00:12:34:58 name=broken variant=net payloads=hello.txt,missing.bin\n"
			   "52:54:00:12:34:59 name=badpin variant=net payloads=badpin.bin\n"
			   "52:54:00:12:34:5a name=fifopin variant=net payloads=fifopin.bin\n"
			   "52:54:00:12:34:5b name=fifo variant=net payloads=hello.txt,fifo.bin\n"
			   "default variant=net payloads=gen/1\n");
	if (machines_load(path, &fx->machines, err, sizeof(err)))
		fail_msg("machines_load: %s", err);
	free(path);
	fx->etags = etag_cache_new();
	fx->dirfd = open(testlib_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!fx->etags || fx->dirfd < 0)
		return -1;
	*state = fx;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fixture *fx = *state;

	machines_free(fx->machines);
	etag_cache_free(fx->etags);
	close(fx->dirfd);
	free(fx);
	return testlib_teardown_tmpdir(state);
}

static char *manifest_ok(struct fixture *fx, const char *id)
{
	const struct machine *m = payloads_machine(fx->machines, id);
	const char *failed = "unset";
	char *out = NULL;
	size_t len = 0;

	assert_non_null(m);
	assert_int_equal(payloads_manifest(m, fx->dirfd, fx->etags, &out, &len, &failed), 0);
	assert_non_null(out);
	assert_int_equal(strlen(out), len);
	return out;
}

/* id's manifest is want (freed here). */
static void expect_manifest(struct fixture *fx, const char *id, char *want)
{
	char *got = manifest_ok(fx, id);

	assert_string_equal(got, want);
	free(got);
	free(want);
}

static void test_manifest_lines(void **state)
{
	struct fixture *fx = *state;
	char hello_sha[DIGEST_HEX_LEN];

	assert_int_equal(digest_sha256_buf(hello, strlen(hello), hello_sha), 0);
	/* twice: the second time the checksums are remembered */
	for (int i = 0; i < 2; i++)
		expect_manifest(fx, "lab1",
				testlib_asprintf("%s 6 hello.txt\n" GEN_1000000_SHA " 1000000 gen/1000000\n"
						 "%s 19 pinned.bin\n", hello_sha, pinned_sha));
	expect_manifest(fx, "bare", testlib_asprintf("%s", ""));
}

static void test_manifest_bad_pin_is_ignored(void **state)
{
	struct fixture *fx = *state;
	char sha[DIGEST_HEX_LEN];

	assert_int_equal(digest_sha256_buf("x", 1, sha), 0);
	expect_manifest(fx, "badpin", testlib_asprintf("%s 1 badpin.bin\n", sha));
}

/* A FIFO named as a payload is not one (404), and a FIFO as its pin is ignored; neither is waited
 * on (the alarm fails a test that hangs). */
static void test_manifest_fifo(void **state)
{
	struct fixture *fx = *state;
	const struct machine *m = payloads_machine(fx->machines, "fifo");
	const char *failed = NULL;
	char sha[DIGEST_HEX_LEN], *out = NULL;
	size_t len = 0;

	alarm(10);
	assert_int_equal(digest_sha256_buf("y", 1, sha), 0);
	expect_manifest(fx, "fifopin", testlib_asprintf("%s 1 fifopin.bin\n", sha));
	assert_non_null(m);
	assert_int_equal(payloads_manifest(m, fx->dirfd, fx->etags, &out, &len, &failed), -ENOENT);
	assert_string_equal(failed, "fifo.bin");
	assert_null(out);
	alarm(0);
}

static void test_manifest_missing_payload(void **state)
{
	struct fixture *fx = *state;
	const struct machine *m = payloads_machine(fx->machines, "broken");
	const char *failed = NULL;
	char *out = NULL;
	size_t len = 0;

	assert_non_null(m);
	assert_int_equal(payloads_manifest(m, fx->dirfd, fx->etags, &out, &len, &failed), -ENOENT);
	assert_string_equal(failed, "missing.bin");
	assert_null(out);
}

/* Machines on the default entry are named after their MAC, and their manifest is found so. */
static void test_machine_by_name_or_mac(void **state)
{
	struct fixture *fx = *state;
	const struct machine *m;
	char sha[DIGEST_HEX_LEN];

	m = payloads_machine(fx->machines, "lab1");
	assert_non_null(m);
	assert_string_equal(m->name, "lab1");
	m = payloads_machine(fx->machines, "mac-525400123456");
	assert_non_null(m);
	assert_string_equal(m->name, "lab1"); /* a configured MAC finds its own entry */
	m = payloads_machine(fx->machines, "mac-0200000000aa");
	assert_non_null(m);
	assert_true(m->is_default);
	assert_null(payloads_machine(fx->machines, "nobody"));
	assert_null(payloads_machine(fx->machines, "mac-02000000"));     /* too short */
	/* not a MAC as the daemon names one: no machine, not the default entry */
	assert_null(payloads_machine(fx->machines, "mac-0200000000zz"));
	assert_null(payloads_machine(fx->machines, "mac-0200000000AA"));
	assert_null(payloads_machine(fx->machines, "mac-0200000000aa0"));
	assert_null(payloads_machine(fx->machines, "mac-02:00:00:00:00:aa"));
	assert_null(payloads_machine(fx->machines, "mac-"));

	assert_int_equal(payloads_gen_sha256(1, sha), 0);
	expect_manifest(fx, "mac-0200000000aa", testlib_asprintf("%s 1 gen/1\n", sha));
}

/* Without a default entry an unconfigured MAC names no machine. */
static void test_machine_without_default(void **state)
{
	char err[512] = "", *path = testlib_path("nodefault.conf");
	struct machines *ms = NULL;
	const struct machine *m;

	(void)state;
	testlib_write_text(path, "52:54:00:12:34:56 name=lab1 variant=net\n");
	if (machines_load(path, &ms, err, sizeof(err)))
		fail_msg("machines_load: %s", err);
	m = payloads_machine(ms, "mac-525400123456");
	assert_non_null(m);
	assert_string_equal(m->name, "lab1");
	assert_null(payloads_machine(ms, "mac-0200000000aa"));
	assert_null(payloads_machine(ms, "default"));
	machines_free(ms);
	free(path);
}

static void test_entry(void **state)
{
	struct fixture *fx = *state;
	char hex[DIGEST_HEX_LEN];
	uint64_t size = 0;

	assert_int_equal(payloads_entry(fx->dirfd, fx->etags, "gen/8", &size, hex), 0);
	assert_true(size == 8);
	assert_int_equal(payloads_entry(fx->dirfd, fx->etags, "gen/0", &size, hex), -EINVAL);
	assert_int_equal(payloads_entry(fx->dirfd, fx->etags, "gen/2000000000", &size, hex), -ERANGE);
	assert_int_equal(payloads_entry(fx->dirfd, fx->etags, "missing.bin", &size, hex), -ENOENT);
	assert_int_equal(payloads_entry(fx->dirfd, fx->etags, "pinned.bin", &size, hex), 0);
	assert_string_equal(hex, pinned_sha);
	assert_true(size == 19);
}

#define FX(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gen_golden),
		cmocka_unit_test(test_gen_fill_any_offset),
		cmocka_unit_test(test_gen_sha256),
		cmocka_unit_test(test_gen_size),
		FX(test_manifest_lines),
		FX(test_manifest_bad_pin_is_ignored),
		FX(test_manifest_fifo),
		FX(test_manifest_missing_payload),
		FX(test_machine_by_name_or_mac),
		FX(test_machine_without_default),
		FX(test_entry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
