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

static char top[64], recipes[128], kconfig[128], rootfs[128];

static void put(const char *dir, const char *name, const char *text)
{
	char path[300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
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

static int setup(void **state)
{
	char path[200];

	(void)state;
	strcpy(top, "/tmp/tinyboot-recipe-XXXXXX");
	if (!mkdtemp(top))
		return -1;
	snprintf(recipes, sizeof(recipes), "%s/images", top);
	snprintf(kconfig, sizeof(kconfig), "%s/kernel-config", top);
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", top);
	mkdir(recipes, 0755);
	mkdir(kconfig, 0755);
	mkdir(rootfs, 0755);
	snprintf(path, sizeof(path), "%s/base", rootfs);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/busybox", rootfs);
	mkdir(path, 0755);
	put(path, "minimal.config", "CONFIG_STATIC=y\n");
	put(kconfig, "base.config", "CONFIG_PRINTK=y\n");
	put(kconfig, "net.config", "CONFIG_NET=y\n");
	put(kconfig, "debug.config", "CONFIG_DEBUG_FS=y\n");
	put(kconfig, "virtio.config", "CONFIG_VIRTIO=y\n");
	put(recipes, "good.image", good);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
	return system(cmd) == 0 ? 0 : -1;
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

static void test_bad_recipes(void **state)
{
	static const struct {
		const char *text, *err;
	} v[] = {
		{ "arch = x86_64\ncolour = blue\n", "bad.image:2: unknown key 'colour'" },
		{ "\n\narch = sparc\n", "bad.image:3: arch 'sparc' is not x86_64 or i386" },
		{ "kernel-fragments = base ../etc\n", "bad.image:1: '../etc' is not a valid name" },
		{ "kernel-fragments = base missing\n", "bad.image:1: fragment 'missing' does not exist" },
		{ "overlays = nothere\n", "bad.image:1: overlay 'nothere' does not exist" },
		{ "cmdline = console=ttyS0 ${evil}\n", "bad.image:1: cmdline may only hold letters, digits, spaces and ._,:=/+-@" },
		{ "cmdline = a\"b\n", "bad.image:1: cmdline may only hold letters, digits, spaces and ._,:=/+-@" },
		{ "libc = bionic\n", "bad.image:1: libc 'bionic' is not musl or glibc" },
		{ "just words\n", "bad.image:1: expected 'key = value'" },
		{ "arch = x86_64\n", "bad.image: arch, kernel-source, kernel-fragments, busybox-source and busybox-config are required" },
		{ "busybox-config = huge\n", "bad.image:1: no busybox config rootfs/busybox/huge.config" },
		{ "kernel-source = a/b\n", "bad.image:1: kernel-source: invalid source name" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct recipe *r = NULL;
		char err[512] = "";

		put(recipes, "bad.image", v[i].text);
		assert_int_not_equal(recipe_load(recipes, kconfig, rootfs, "bad", &r, err, sizeof(err)), 0);
		if (strcmp(err, v[i].err) != 0)
			fail_msg("'%s': got '%s', want '%s'", v[i].text, err, v[i].err);
		assert_null(r);
	}
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
	put(recipes, "bad.image", "arch = x86_64\n"); /* left by test_bad_recipes: a broken recipe is listed too */
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_recipe),
		cmocka_unit_test(test_bad_recipes),
		cmocka_unit_test(test_variants),
	};
	return cmocka_run_group_tests_name("recipe", tests, setup, teardown);
}
