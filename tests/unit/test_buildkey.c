/* test_buildkey.c - build/buildkey.c: the same inputs give the same key (wherever they live),
 * a change to any input gives another, and what is no input changes nothing. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "build/build.h"
#include "lib/etag.h"
#include "testlib.h"

#define COMPILER "gcc (Debian 12.2.0-14) 12.2.0"

static struct etag_cache *digests;

static int group_setup(void **state)
{
	(void)state;
	digests = etag_cache_new();
	return digests ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	etag_cache_free(digests);
	return 0;
}

/* The key of variant in testlib_dir's inputs; rc as buildkey_compute (or variant_parse). */
static int key_of(const char *variant, const char *compiler, char key[DIGEST_HEX_LEN], char *err,
		  size_t errlen)
{
	struct testlib_tree t;
	struct options o = { 0 };
	struct variant *v = NULL;
	struct sources *s = NULL;
	int rc;

	testlib_tree_options(&t, &o);
	rc = variant_parse(&o, variant, &v, err, errlen);
	if (!rc)
		rc = sources_load(o.sources_file, &s, err, errlen);
	if (!rc)
		rc = buildkey_compute(&o, v, s, compiler, digests, key, err, errlen);
	variant_free(v);
	sources_free(s);
	return rc;
}

static void key_ok(const char *variant, const char *compiler, char key[DIGEST_HEX_LEN])
{
	char err[2048] = "";
	int rc = key_of(variant, compiler, key, err, sizeof(err));

	if (rc)
		fail_msg("%s: %s (%d)", variant, err, rc);
	assert_true(digest_is_hex(key));
}

static void test_same_inputs_same_key(void **state)
{
	char a[DIGEST_HEX_LEN], b[DIGEST_HEX_LEN];

	(void)state;
	testlib_tree_need_toolchain();
	key_ok("t", COMPILER, a);
	key_ok("t", COMPILER, b);
	assert_string_equal(a, b);
	/* the same inputs in another directory: the key names contents, not paths */
	assert_int_equal(testlib_teardown_tmpdir(NULL), 0);
	assert_int_equal(testlib_tree_setup(NULL), 0);
	key_ok("t", COMPILER, b);
	assert_string_equal(a, b);
	/* a variant is its normalised name: order and repeats of fragments do not matter */
	key_ok("t+extra+unused", COMPILER, a);
	key_ok("t+unused+extra+extra", COMPILER, b);
	assert_string_equal(a, b);
	key_ok("t+base", COMPILER, a); /* base is in the recipe already */
	key_ok("t", COMPILER, b);
	assert_string_equal(a, b);
}

/* The recipe with one piece of text replaced. */
static void put_recipe(const char *from, const char *to)
{
	const char *at = strstr(testlib_tree_recipe, from);
	char *text;

	assert_non_null(at);
	text = testlib_asprintf("%.*s%s%s", (int)(at - testlib_tree_recipe), testlib_tree_recipe, to,
				at + strlen(from));
	testlib_tree_put("images/t.image", text);
	free(text);
}

static void edit_cmdline(void) { put_recipe("console=ttyS0", "console=ttyS1"); }
static void edit_recipe_comment(void) { put_recipe("# t.image\n", "# t.image, edited\n"); }
static void edit_fragment(void) { testlib_tree_put("kconfig/base.config", "CONFIG_PRINTK=n\n"); }
static void edit_extra_fragment(void) { testlib_tree_put("kconfig/extra.config", "CONFIG_DEBUG_KERNEL=n\n"); }
static void edit_patch(void) { testlib_tree_put("kconfig/patches/fix.patch", "--- a/y\n+++ b/y\n"); }
static void edit_busybox_config(void) { testlib_tree_put("rootfs/busybox/mini.config", "CONFIG_STATIC=n\n"); }
static void edit_overlay_file(void) { testlib_tree_put("rootfs/ov/etc/motd", "hullo\n"); }
static void edit_overlay_mode(void) { assert_int_equal(chmod(testlib_tree_path("rootfs/ov/bin/run"), 0755), 0); }
static void edit_overlay_dir_mode(void) { assert_int_equal(chmod(testlib_tree_path("rootfs/ov/bin"), 0700), 0); }
static void edit_overlay_new_file(void) { testlib_tree_put("rootfs/ov/etc/new", ""); }
static void edit_overlay_new_dir(void) { testlib_tree_mkdirs("rootfs/ov/var"); }
static void edit_overlay_rename(void) { assert_int_equal(rename(testlib_tree_path("rootfs/ov/etc/motd"), testlib_tree_path("rootfs/ov/etc/motd2")), 0); }
static void edit_overlay_symlink(void)
{
	assert_int_equal(unlink(testlib_tree_path("rootfs/ov/etc/issue")), 0);
	assert_int_equal(symlink("/etc/issue.net", testlib_tree_path("rootfs/ov/etc/issue")), 0);
}
static void edit_kernel_sha(void) { testlib_tree_put("sources.conf", "[linux]\nsha256 = " TESTLIB_TREE_SHA_B "\nurl = file:///x/linux.tar.xz\nstrip = linux\n[bb]\nsha256 = " TESTLIB_TREE_SHA_B "\nurl = file:///x/bb.tar.bz2\nstrip = bb\n"); }
static void edit_busybox_sha(void) { testlib_tree_put("sources.conf", "[linux]\nsha256 = " TESTLIB_TREE_SHA_K "\nurl = file:///x/linux.tar.xz\nstrip = linux\n[bb]\nsha256 = " TESTLIB_TREE_SHA_K "\nurl = file:///x/bb.tar.bz2\nstrip = bb\n"); }
/* not inputs */
static void edit_nothing(void) {}
static void edit_unused_fragment(void) { testlib_tree_put("kconfig/unused.config", "CONFIG_UNUSED=n\n"); }
static void edit_other_overlay(void) { testlib_tree_put("rootfs/other/x", "changed\n"); }
static void edit_mirror(void) { testlib_tree_put("sources.conf", "[linux]\nsha256 = " TESTLIB_TREE_SHA_K "\nurl = https://mirror.example/linux.tar.xz\nstrip = linux\n[bb]\nsha256 = " TESTLIB_TREE_SHA_B "\nurl = file:///y/bb.tar.bz2\nstrip = bb\n"); }
static void edit_touch(void)
{
	struct timespec ts[2] = { { .tv_sec = 1000000000 }, { .tv_sec = 1000000000 } };

	assert_int_equal(utimensat(AT_FDCWD, testlib_tree_path("kconfig/base.config"), ts, 0), 0);
	assert_int_equal(utimensat(AT_FDCWD, testlib_tree_path("rootfs/ov/etc/motd"), ts, 0), 0);
}

static void test_every_input_counts(void **state)
{
	static const struct {
		const char *name;
		void (*edit)(void);
		const char *variant, *compiler; /* after the edit (NULL: t, COMPILER) */
		bool changes;
	} cases[] = {
		{ "recipe cmdline", edit_cmdline, NULL, NULL, true },
		{ "recipe comment (the recipe file is hashed whole)", edit_recipe_comment, NULL, NULL, true },
		{ "fragment", edit_fragment, NULL, NULL, true },
		{ "an extra fragment", edit_nothing, "t+extra", NULL, true },
		{ "patch", edit_patch, NULL, NULL, true },
		{ "busybox config", edit_busybox_config, NULL, NULL, true },
		{ "overlay file content", edit_overlay_file, NULL, NULL, true },
		{ "overlay file mode", edit_overlay_mode, NULL, NULL, true },
		{ "overlay dir mode", edit_overlay_dir_mode, NULL, NULL, true },
		{ "overlay new file", edit_overlay_new_file, NULL, NULL, true },
		{ "overlay new dir", edit_overlay_new_dir, NULL, NULL, true },
		{ "overlay file renamed", edit_overlay_rename, NULL, NULL, true },
		{ "overlay symlink target", edit_overlay_symlink, NULL, NULL, true },
		{ "kernel source sha256", edit_kernel_sha, NULL, NULL, true },
		{ "busybox source sha256", edit_busybox_sha, NULL, NULL, true },
		{ "compiler", edit_nothing, NULL, "gcc (Debian 12.2.0-15) 12.2.0", true },
		{ "nothing", edit_nothing, NULL, NULL, false },
		{ "a fragment the variant does not use", edit_unused_fragment, NULL, NULL, false },
		{ "an overlay the recipe does not use", edit_other_overlay, NULL, NULL, false },
		{ "a source's urls (mirrors of the same bytes)", edit_mirror, NULL, NULL, false },
		{ "mtimes", edit_touch, NULL, NULL, false },
	};
	char before[DIGEST_HEX_LEN], after[DIGEST_HEX_LEN];

	(void)state;
	testlib_tree_need_toolchain();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("%s\n", cases[i].name);
		/* every case on fresh inputs: none sees another's edit */
		assert_int_equal(testlib_teardown_tmpdir(NULL), 0);
		assert_int_equal(testlib_tree_setup(NULL), 0);
		key_ok("t", COMPILER, before);
		cases[i].edit();
		key_ok(cases[i].variant ? cases[i].variant : "t",
		       cases[i].compiler ? cases[i].compiler : COMPILER, after);
		if (cases[i].changes)
			assert_string_not_equal(before, after);
		else
			assert_string_equal(before, after);
	}
	/* and a used extra fragment's content counts too */
	key_ok("t+extra", COMPILER, before);
	edit_extra_fragment();
	key_ok("t+extra", COMPILER, after);
	assert_string_not_equal(before, after);
}

static void test_errors(void **state)
{
	char key[DIGEST_HEX_LEN], err[2048] = "";

	(void)state;
	testlib_tree_need_toolchain();
	/* a source the recipe names but sources.conf does not declare */
	testlib_tree_put("sources.conf", "[linux]\nsha256 = " TESTLIB_TREE_SHA_K "\nurl = file:///x/linux.tar.xz\nstrip = linux\n");
	assert_int_equal(key_of("t", COMPILER, key, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "source 'bb' is not declared"));
	testlib_tree_put("sources.conf", testlib_tree_sources);
	/* an overlay may not hold a fifo: it could never go into an initramfs */
	assert_int_equal(mkfifo(testlib_tree_path("rootfs/ov/etc/fifo"), 0644), 0);
	assert_int_equal(key_of("t", COMPILER, key, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "reading the inputs of t"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_same_inputs_same_key, testlib_tree_setup, testlib_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_every_input_counts, testlib_tree_setup, testlib_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_errors, testlib_tree_setup, testlib_teardown_tmpdir),
	};

	return cmocka_run_group_tests_name("buildkey", tests, group_setup, group_teardown);
}
