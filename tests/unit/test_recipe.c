/* test_recipe.c - recipe errors with file:line, and variant normalisation. */
#include <errno.h>
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

#include "conf/recipe.h"
#include "conf/variant.h"
#include "testlib.h"

static char recipes[4200], kconfig[4200], rootfs[4200];

/* len bytes of text (0: strlen) into DIR/NAME */
static void put_len(const char *dir, const char *name, const char *text, size_t len)
{
	char *path = testlib_asprintf("%s/%s", dir, name);

	testlib_write_file(path, text, len ? len : strlen(text));
	free(path);
}

static void put(const char *dir, const char *name, const char *text)
{
	put_len(dir, name, text, 0);
}

static const char good[] =
	"# good.image\n"
	"description = a test\n"
	"arch = x86_64\n"
	"kernel-source = linux-6.1-debian\n"
	"kernel-fragments = base net\n"
	"busybox-source = busybox-1.35.0\n"
	"busybox-config = minimal\n"
	"overlays = base\n"
	"cmdline = console=ttyS0 panic=-1\n";

/* A fresh tree per test: images/, kernel-config/ and rootfs/ with what good.image names. */
static int setup(void **state)
{
	char path[4300];

	if (testlib_setup_tmpdir(state))
		return -1;
	snprintf(recipes, sizeof(recipes), "%s/images", testlib_dir);
	snprintf(kconfig, sizeof(kconfig), "%s/kernel-config", testlib_dir);
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", testlib_dir);
	if (mkdir(recipes, 0755) || mkdir(kconfig, 0755) || mkdir(rootfs, 0755))
		return -1;
	snprintf(path, sizeof(path), "%s/base", rootfs);
	if (mkdir(path, 0755))
		return -1;
	snprintf(path, sizeof(path), "%s/busybox", rootfs);
	if (mkdir(path, 0755))
		return -1;
	put(path, "minimal.config", "CONFIG_STATIC=y\n");
	put(kconfig, "base.config", "CONFIG_PRINTK=y\n");
	put(kconfig, "net.config", "CONFIG_NET=y\n");
	put(kconfig, "debug.config", "CONFIG_DEBUG_FS=y\n");
	put(kconfig, "virtio.config", "CONFIG_VIRTIO=y\n");
	put(recipes, "good.image", good);
	return 0;
}

static void test_good_recipe(void **state)
{
	struct recipe *r = NULL;
	char err[512] = "";

	(void)state;
	assert_int_equal(recipe_load(recipes, kconfig, rootfs, "good", &r, err, sizeof(err)), 0);
	assert_string_equal(r->arch, "x86_64");
	assert_int_equal(r->fragments.n, 2);
	assert_string_equal(r->fragments.v[1], "net");
	assert_string_equal(r->libc, "musl");               /* default */
	assert_string_equal(r->kernel_compression, "xz");   /* default */
	assert_string_equal(r->initramfs_compression, "gzip");
	assert_string_equal(r->cmdline, "console=ttyS0 panic=-1");
	recipe_free(r);
	recipe_free(NULL);
}

/* Spaces around '=', CRLF line ends, a last line without '\n': the same recipe. */
static void test_crlf_recipe(void **state)
{
	static const char text[] =
		"# crlf.image\r\n"
		"\r\n"
		"  arch=x86_64 \r\n"
		"kernel-source\t=\tlinux-6.1-debian\r\n"
		"kernel-fragments = base   net\r\n"
		"   # indented comment\r\n"
		"busybox-source = busybox-1.35.0\r\n"
		"busybox-config = minimal";
	struct recipe *r = NULL;
	char err[512] = "";

	(void)state;
	put(recipes, "crlf.image", text);
	if (recipe_load(recipes, kconfig, rootfs, "crlf", &r, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(r->arch, "x86_64");
	assert_string_equal(r->kernel_source, "linux-6.1-debian");
	assert_int_equal(r->fragments.n, 2);
	assert_string_equal(r->busybox_config, "minimal");
	assert_string_equal(r->text, text); /* hashed into the build key as read */
	recipe_free(r);
}

static void test_bad_recipes(void **state)
{
	static const struct {
		const char *text, *err;
		size_t len; /* 0: strlen(text) */
	} v[] = {
		{ "arch = x86_64\ncolour = blue\n", "bad.image:2: unknown key 'colour'", 0 },
		{ "arch = x86_64\nColour\t= blue\n", "bad.image:2: unknown key 'Colour'", 0 },
		/* a NUL byte used to end the recipe there, silently */
		{ "arch = x86_64\nkernel-source = a\0b\n", "bad.image:2: NUL byte in line", 34 },
		{ "# c\0\n", "bad.image:1: NUL byte in line", 5 },
		{ "= x86_64\n", "bad.image:1: expected 'key = value'", 0 },
		{ "\n\narch = sparc\n", "bad.image:3: arch 'sparc' is not x86_64 or i386", 0 },
		{ "kernel-fragments = base ../etc\n", "bad.image:1: '../etc' is not a valid name", 0 },
		{ "kernel-fragments = base missing\n", "bad.image:1: fragment 'missing' does not exist", 0 },
		{ "overlays = nothere\n", "bad.image:1: overlay 'nothere' does not exist", 0 },
		{ "cmdline = console=ttyS0 ${evil}\n", "bad.image:1: cmdline may only hold letters, digits, spaces and ._,:=/+-@", 0 },
		{ "cmdline = a\"b\n", "bad.image:1: cmdline may only hold letters, digits, spaces and ._,:=/+-@", 0 },
		{ "libc = bionic\n", "bad.image:1: libc 'bionic' is not musl or glibc", 0 },
		{ "just words\n", "bad.image:1: expected 'key = value'", 0 },
		{ "arch = x86_64\n", "bad.image: arch, kernel-source, kernel-fragments, busybox-source and busybox-config are required", 0 },
		{ "busybox-config = huge\n", "bad.image:1: no busybox config rootfs/busybox/huge.config", 0 },
		{ "kernel-source = a/b\n", "bad.image:1: kernel-source: invalid source name", 0 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct recipe *r = NULL;
		char err[512] = "";

		put_len(recipes, "bad.image", v[i].text, v[i].len);
		assert_int_equal(recipe_load(recipes, kconfig, rootfs, "bad", &r, err, sizeof(err)), -EINVAL);
		if (strcmp(err, v[i].err) != 0)
			fail_msg("'%s': got '%s', want '%s'", v[i].text, err, v[i].err);
		assert_null(r);
	}
}

/* The file itself: missing, not a regular file, too big, a symlink. */
static void test_recipe_files(void **state)
{
	struct recipe *r = NULL;
	char err[512] = "", *big, *path, *target;

	(void)state;
	assert_int_equal(recipe_load(recipes, kconfig, rootfs, "nope", &r, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "nope.image: no such recipe");
	path = testlib_asprintf("%s/dir.image", recipes);
	assert_int_equal(mkdir(path, 0755), 0);
	free(path);
	assert_int_equal(recipe_load(recipes, kconfig, rootfs, "dir", &r, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "dir.image: not a regular file");
	big = calloc(1, RECIPE_FILE_MAX + 2);
	assert_non_null(big);
	memset(big, '#', RECIPE_FILE_MAX + 1);
	put(recipes, "big.image", big);
	free(big);
	assert_int_equal(recipe_load(recipes, kconfig, rootfs, "big", &r, err, sizeof(err)), -EFBIG);
	assert_string_equal(err, "big.image: larger than 65536 bytes");
	/* recipes are never followed through a symlink */
	path = testlib_asprintf("%s/link.image", recipes);
	target = testlib_asprintf("%s/good.image", recipes);
	assert_int_equal(symlink(target, path), 0);
	free(path);
	free(target);
	assert_int_equal(recipe_load(recipes, kconfig, rootfs, "link", &r, err, sizeof(err)), -ELOOP);
	assert_string_equal(err, "link.image: Too many levels of symbolic links");
	assert_int_equal(recipe_load(recipes, kconfig, rootfs, "Bad", &r, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "'Bad' is not a valid recipe name");
	assert_null(r);
}

static void test_variants(void **state)
{
	static const struct {
		const char *in, *name;
		int rc;
		const char *err;
	} v[] = {
		{ "good", "good", 0, NULL },
		{ "good+virtio+debug", "good+debug+virtio", 0, NULL },
		{ "good+debug+virtio+debug", "good+debug+virtio", 0, NULL },
		{ "good+net", "good", 0, NULL },          /* already in the recipe */
		{ "good+nope", NULL, -ENOENT,
		  "unknown fragment 'nope'; valid fragments: base, debug, net, virtio" },
		{ "other", NULL, -ENOENT, "unknown recipe 'other'; valid recipes: bad, good" },
		{ "good++debug", NULL, -EINVAL, NULL },
		{ "good+", NULL, -EINVAL, NULL },
		{ "good+../x", NULL, -EINVAL, "'../x' is not a valid fragment name" },
		{ "+good", NULL, -EINVAL, NULL },
		{ "", NULL, -EINVAL, NULL },
	};
	struct options o;

	(void)state;
	options_init(&o);
	free(o.recipe_dir);
	free(o.kconfig_dir);
	free(o.rootfs_dir);
	o.recipe_dir = strdup(recipes);
	o.kconfig_dir = strdup(kconfig);
	o.rootfs_dir = strdup(rootfs);
	put(recipes, "bad.image", "arch = x86_64\n"); /* a broken recipe is listed too */
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct variant *var = NULL;
		char err[512] = "";
		int rc = variant_parse(&o, v[i].in, &var, err, sizeof(err));

		if (rc != v[i].rc)
			fail_msg("'%s': rc %d want %d (%s)", v[i].in, rc, v[i].rc, err);
		if (rc == 0)
			assert_string_equal(var->name, v[i].name);
		if (v[i].err)
			assert_string_equal(err, v[i].err);
		variant_free(var);
	}
	options_free(&o);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, testlib_teardown_tmpdir)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_good_recipe),
		T(test_crlf_recipe),
		T(test_bad_recipes),
		T(test_recipe_files),
		T(test_variants),
	};
	return cmocka_run_group_tests_name("recipe", tests, NULL, NULL);
}
