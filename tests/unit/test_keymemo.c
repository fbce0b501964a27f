/* test_keymemo.c - build/keymemo.c: a repeat lookup is answered from the memo, and the very next
 * lookup after any edit of an input (no sleep, no event loop) recomputes and sees it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "build/build.h"
#include "build/keymemo.h"
#include "conf/runtime.h"
#include "lib/etag.h"
#include "testlib.h"

static struct etag_cache *digests;
static struct testlib_tree tree;
static struct runtime rt1, rt2;

static int setup(void **state)
{
	if (testlib_tree_setup(state))
		return -1;
	for (struct runtime *rt = &rt1; rt; rt = rt == &rt1 ? &rt2 : NULL) {
		memset(rt, 0, sizeof(*rt));
		testlib_tree_options(&tree, &rt->opts);
	}
	return 0;
}

/* What builder_request does: the memo, else compute and remember. Returns whether it hit. */
static bool lookup(struct keymemo *m, const struct runtime *rt, const char *variant,
		   char key[DIGEST_HEX_LEN])
{
	char name[VARIANT_NAME_MAX + 1], err[2048] = "";
	struct variant *v = NULL;
	struct sources *s = NULL;
	uint64_t gen;
	int rc;

	if (keymemo_get(m, rt, variant, key, name, &gen))
		return true;
	rc = variant_parse(&rt->opts, variant, &v, err, sizeof(err));
	if (!rc)
		rc = sources_load(rt->opts.sources_file, &s, err, sizeof(err));
	if (!rc)
		rc = buildkey_compute(&rt->opts, v, s, "gcc 12", digests, key, err, sizeof(err));
	if (rc)
		fail_msg("%s: %s (%d)", variant, err, rc);
	keymemo_put(m, rt, variant, gen, key, v->name);
	variant_free(v);
	sources_free(s);
	return false;
}

/* Look up twice: the first computes (a miss) and says another key than before; the second hits. */
static void changed(struct keymemo *m, char key[DIGEST_HEX_LEN])
{
	char now[DIGEST_HEX_LEN], again[DIGEST_HEX_LEN];

	assert_false(lookup(m, &rt1, "t", now));
	assert_string_not_equal(now, key);
	assert_true(lookup(m, &rt1, "t", again));
	assert_string_equal(again, now);
	memcpy(key, now, DIGEST_HEX_LEN);
}

static void test_hit(void **state)
{
	struct keymemo *m = keymemo_new();
	char key[DIGEST_HEX_LEN], again[DIGEST_HEX_LEN], name[VARIANT_NAME_MAX + 1];
	struct keymemo_stats st;
	uint64_t gen;

	(void)state;
	testlib_tree_need_toolchain();
	assert_non_null(m);
	assert_false(lookup(m, &rt1, "t+extra", key));
	assert_true(lookup(m, &rt1, "t+extra", again));
	assert_string_equal(key, again);
	assert_true(keymemo_get(m, &rt1, "t+extra", again, name, &gen));
	assert_string_equal(name, "t+extra");
	/* another spelling of the same variant is another entry, with the same answer */
	assert_false(lookup(m, &rt1, "t+extra+extra", again));
	assert_string_equal(key, again);
	keymemo_stats(m, &st);
	assert_true(st.watching);
	assert_int_equal(st.hits, 2);
	/* a file beside sources.conf that is no input changes nothing */
	testlib_tree_put("daemon.log", "written on every request\n");
	assert_true(lookup(m, &rt1, "t+extra", again));
	keymemo_free(m);
}

static void test_edits(void **state)
{
	struct keymemo *m = keymemo_new();
	char key[DIGEST_HEX_LEN];

	(void)state;
	testlib_tree_need_toolchain();
	assert_false(lookup(m, &rt1, "t", key));
	/* written in place: a fragment, a patch, the busybox config, the recipe */
	testlib_tree_put("kconfig/base.config", "CONFIG_PRINTK=n\n");
	changed(m, key);
	testlib_tree_put("kconfig/patches/fix.patch", "--- a/y\n+++ b/y\n");
	changed(m, key);
	testlib_tree_put("rootfs/busybox/mini.config", "CONFIG_STATIC=n\n");
	changed(m, key);
	testlib_tree_put("images/t.image", "# edited\n" "arch = x86_64\nkernel-source = linux\n"
			 "kernel-fragments = base\nkernel-patches = fix\nbusybox-source = bb\n"
			 "busybox-config = mini\nlibc = glibc\noverlays = ov\n");
	changed(m, key);
	testlib_tree_put("images/t.image.tmp", testlib_tree_recipe);
	assert_int_equal(rename(testlib_tree_path("images/t.image.tmp"),
				testlib_tree_path("images/t.image")), 0);
	changed(m, key);
	/* renamed over: an overlay file */
	testlib_tree_put("rootfs/ov/etc/motd.tmp", "bye\n");
	assert_int_equal(rename(testlib_tree_path("rootfs/ov/etc/motd.tmp"),
				testlib_tree_path("rootfs/ov/etc/motd")), 0);
	changed(m, key);
	/* a mode */
	assert_int_equal(chmod(testlib_tree_path("rootfs/ov/etc/motd"), 0600), 0);
	changed(m, key);
	/* sources.conf */
	testlib_tree_put("sources.conf", "# a comment\n[linux]\nsha256 = " TESTLIB_TREE_SHA_B
			 "\nurl = file:///x/l.tar.xz\nstrip = linux\n[bb]\nsha256 = " TESTLIB_TREE_SHA_B
			 "\nurl = file:///x/bb.tar.bz2\nstrip = bb\n");
	changed(m, key);
	keymemo_free(m);
}

/* A directory made after the memo started watching, and a file in it, each seen at once. */
static void test_new_subdirectory(void **state)
{
	struct keymemo *m = keymemo_new();
	char key[DIGEST_HEX_LEN];

	(void)state;
	testlib_tree_need_toolchain();
	assert_false(lookup(m, &rt1, "t", key));
	testlib_tree_mkdirs("rootfs/ov/new");
	changed(m, key);
	testlib_tree_put("rootfs/ov/new/file", "one\n");
	changed(m, key);
	/* made and filled between two lookups */
	testlib_tree_mkdirs("rootfs/ov/new/deeper/still");
	testlib_tree_put("rootfs/ov/new/deeper/still/file", "two\n");
	changed(m, key);
	testlib_tree_put("rootfs/ov/new/deeper/still/file", "three\n");
	changed(m, key);
	keymemo_free(m);
}

/* An answer computed while an input changed is not kept. */
static void test_stale_put(void **state)
{
	struct keymemo *m = keymemo_new();
	char key[DIGEST_HEX_LEN], name[VARIANT_NAME_MAX + 1];
	uint64_t gen;

	(void)state;
	testlib_tree_need_toolchain();
	assert_false(keymemo_get(m, &rt1, "t", key, name, &gen));
	memset(key, 'a', DIGEST_HEX_LEN - 1);
	key[DIGEST_HEX_LEN - 1] = '\0';
	testlib_tree_put("kconfig/base.config", "CONFIG_PRINTK=n\n"); /* after the "computation" read it */
	keymemo_put(m, &rt1, "t", gen, key, "t");
	assert_false(keymemo_get(m, &rt1, "t", key, name, &gen));
	keymemo_free(m);
}

/* Another runtime (a SIGHUP) is never answered from the old one's memo. */
static void test_runtime(void **state)
{
	struct keymemo *m = keymemo_new();
	char key[DIGEST_HEX_LEN], other[DIGEST_HEX_LEN];

	(void)state;
	testlib_tree_need_toolchain();
	assert_false(lookup(m, &rt1, "t", key));
	assert_true(lookup(m, &rt1, "t", key));
	assert_false(lookup(m, &rt2, "t", other));
	assert_string_equal(key, other);
	assert_true(lookup(m, &rt2, "t", other));
	/* the same runtime object with other directories: not the same configuration */
	testlib_tree_mkdirs("kconfig2/patches");
	testlib_tree_put("kconfig2/base.config", "CONFIG_OTHER=y\n");
	testlib_tree_put("kconfig2/patches/fix.patch", "--- a/x\n+++ b/x\n");
	snprintf(tree.kconfig_dir, sizeof(tree.kconfig_dir), "%s", testlib_tree_path("kconfig2"));
	assert_false(lookup(m, &rt2, "t", other));
	assert_string_not_equal(key, other);
	keymemo_free(m);
}

/* At most KEYMEMO_MAX entries: the next one empties the memo. */
static void test_bound(void **state)
{
	struct keymemo *m = keymemo_new();
	char key[DIGEST_HEX_LEN], name[VARIANT_NAME_MAX + 1], variant[32];
	uint64_t gen;

	(void)state;
	testlib_tree_need_toolchain();
	memset(key, 'b', DIGEST_HEX_LEN - 1);
	key[DIGEST_HEX_LEN - 1] = '\0';
	for (unsigned i = 0; i <= KEYMEMO_MAX; i++) {
		snprintf(variant, sizeof(variant), "v%u", i);
		assert_false(keymemo_get(m, &rt1, variant, key, name, &gen));
		keymemo_put(m, &rt1, variant, gen, key, variant);
		if (i == KEYMEMO_MAX - 1)
			assert_true(keymemo_get(m, &rt1, "v0", key, name, &gen));
	}
	assert_false(keymemo_get(m, &rt1, "v0", key, name, &gen));
	snprintf(variant, sizeof(variant), "v%u", KEYMEMO_MAX);
	assert_true(keymemo_get(m, &rt1, variant, key, name, &gen));
	assert_string_equal(name, variant);
	keymemo_free(m);
}

/* Inputs that cannot be watched: nothing is remembered (every lookup computes, as without it). */
static void test_unwatchable(void **state)
{
	struct keymemo *m = keymemo_new();
	char key[DIGEST_HEX_LEN], name[VARIANT_NAME_MAX + 1];
	struct keymemo_stats st;
	uint64_t gen;

	(void)state;
	testlib_tree_need_toolchain();
	snprintf(tree.sources_file, sizeof(tree.sources_file), "%s",
		 testlib_tree_path("missing/sources.conf"));
	memset(key, 'c', DIGEST_HEX_LEN - 1);
	key[DIGEST_HEX_LEN - 1] = '\0';
	for (int i = 0; i < 2; i++) {
		assert_false(keymemo_get(m, &rt1, "t", key, name, &gen));
		keymemo_put(m, &rt1, "t", gen, key, "t");
	}
	keymemo_stats(m, &st);
	assert_false(st.watching);
	/* once it can be, it is */
	testlib_tree_mkdirs("missing");
	assert_false(keymemo_get(m, &rt1, "t", key, name, &gen));
	keymemo_put(m, &rt1, "t", gen, key, "t");
	assert_true(keymemo_get(m, &rt1, "t", key, name, &gen));
	keymemo_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hit, setup, testlib_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_edits, setup, testlib_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_new_subdirectory, setup, testlib_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_stale_put, setup, testlib_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_runtime, setup, testlib_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_bound, setup, testlib_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_unwatchable, setup, testlib_teardown_tmpdir),
	};
	int rc;

	digests = etag_cache_new();
	if (!digests)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	etag_cache_free(digests);
	return rc;
}
