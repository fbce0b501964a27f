/* test_kconfig.c - fragment verification and the "depends on" lookup. */
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

#include "build/kconfig.h"
#include "lib/fsutil.h"
#include "testlib.h"

static const char final_config[] =
	"#\n# Automatically generated file; DO NOT EDIT.\n#\n"
	"CONFIG_NET=y\n"
	"CONFIG_E1000=y\n"
	"# CONFIG_IPV6 is not set\n"
	"CONFIG_CMDLINE=\"console=ttyS0\"\n"
	"CONFIG_LOG_BUF_SHIFT=14\n";

/* Paths write_file handed out in this test, freed by teardown. */
static char *written[8];
static size_t nwritten;

static int teardown(void **state)
{
	for (size_t i = 0; i < nwritten; i++)
		free(written[i]);
	nwritten = 0;
	return testlib_teardown_tmpdir(state);
}

/* testlib_dir/NAME holding text; the path lives until the test ends. */
static char *write_file(const char *name, const char *text)
{
	char *p = testlib_path(name);

	assert_true(nwritten < sizeof(written) / sizeof(written[0]));
	testlib_write_text(p, text);
	return written[nwritten++] = p;
}

static void test_value(void **state)
{
	static const struct {
		const char *name, *want;
		int rc;
	} v[] = {
		{ "NET", "y", 0 },           { "IPV6", "n", 0 },
		{ "CMDLINE", "\"console=ttyS0\"", 0 }, { "LOG_BUF_SHIFT", "14", 0 },
		{ "ACPI", "n", -ENOENT },    { "NE", "n", -ENOENT }, /* a prefix is not a match */
	};
	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char got[64];

		assert_int_equal(kconfig_value(final_config, v[i].name, got, sizeof(got)), v[i].rc);
		assert_string_equal(got, v[i].want);
	}
}

static void test_check(void **state)
{
	char err[1024];
	char *frags[2];

	(void)state;
	frags[0] = write_file("ok.config", "# ok\nCONFIG_NET=y\n# CONFIG_IPV6 is not set\n# CONFIG_ACPI is not set\n");
	frags[1] = write_file("more.config", "CONFIG_LOG_BUF_SHIFT=14\n\n# a comment\n");
	assert_int_equal(kconfig_check(final_config, frags, 2, NULL, err, sizeof(err)), 0);

	frags[1] = write_file("bad.config", "CONFIG_NET=y\nCONFIG_VIRTIO_NET=y\n");
	assert_int_equal(kconfig_check(final_config, frags, 2, NULL, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "CONFIG_VIRTIO_NET=y from bad.config is not in the final .config (it is n)");

	frags[1] = write_file("off.config", "# CONFIG_E1000 is not set\n");
	assert_int_equal(kconfig_check(final_config, frags, 2, NULL, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "CONFIG_E1000=n from off.config is not in the final .config (it is y)");

	frags[1] = "/nonexistent/x.config";
	assert_int_equal(kconfig_check(final_config, frags, 2, NULL, err, sizeof(err)), -ENOENT);
}

/* merge_config.sh lets a later fragment redefine a symbol: only the last word counts */
static void test_check_later_fragment_overrides(void **state)
{
	char err[1024];
	char *frags[3];

	(void)state;
	frags[0] = write_file("base.config", "# CONFIG_E1000 is not set\nCONFIG_LOG_BUF_SHIFT=12\n");
	frags[1] = write_file("nic.config", "CONFIG_E1000=y\n");
	frags[2] = write_file("log.config", "CONFIG_LOG_BUF_SHIFT=14\n");
	assert_int_equal(kconfig_check(final_config, frags, 3, NULL, err, sizeof(err)), 0);
	/* in the other order the base's word is the last one, and the final .config breaks it */
	frags[0] = frags[1];
	frags[1] = write_file("base2.config", "# CONFIG_E1000 is not set\n");
	assert_int_equal(kconfig_check(final_config, frags, 2, NULL, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "CONFIG_E1000=n from base2.config is not in the final .config (it is y)");
}

static void test_depends(void **state)
{
	char dir[320], out[512], err[1024];
	char *frags[1];

	(void)state;
	snprintf(dir, sizeof(dir), "%s/src/drivers/net", testlib_dir);
	assert_int_equal(fsutil_mkdirs(dir, 0755), 0);
	write_file("src/drivers/net/Kconfig",
		   "menuconfig NETDEVICES\n\tbool \"Network device support\"\n\tdepends on NET\n\n"
		   "config VIRTIO_NET\n\ttristate \"Virtio network driver\"\n"
		   "\tdepends on VIRTIO\n\tdepends on NETDEVICES && NET_CORE\n\thelp\n\t  text\n\n"
		   "config OTHER\n\tdepends on FOO\n");
	snprintf(dir, sizeof(dir), "%s/src", testlib_dir);
	assert_int_equal(kconfig_depends(dir, "VIRTIO_NET", out, sizeof(out)), 0);
	assert_string_equal(out, "(VIRTIO) && (NETDEVICES && NET_CORE)");
	assert_int_equal(kconfig_depends(dir, "NOPE", out, sizeof(out)), -ENOENT);

	frags[0] = write_file("v.config", "CONFIG_VIRTIO_NET=y\n");
	assert_int_equal(kconfig_check(final_config, frags, 1, dir, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "CONFIG_VIRTIO_NET=y from v.config is not in the final .config (it is n); "
				 "it depends on (VIRTIO) && (NETDEVICES && NET_CORE); unmet: VIRTIO=n NETDEVICES=n NET_CORE=n");

	/* dependencies that come from enclosing "if" blocks, as for E1000 */
	write_file("src/drivers/net/Kconfig.eth",
		   "if NET\nif ETHERNET\nconfig E1000X\n\ttristate \"e1000\"\n\tdepends on PCI\nendif\nendif\n"
		   "config AFTER\n\tdepends on NOTHING\n");
	assert_int_equal(kconfig_depends(dir, "E1000X", out, sizeof(out)), 0);
	assert_string_equal(out, "(NET) && (ETHERNET) && (PCI)");
	assert_int_equal(kconfig_depends(dir, "AFTER", out, sizeof(out)), 0);
	assert_string_equal(out, "(NOTHING)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_value),
		cmocka_unit_test_setup_teardown(test_check, testlib_setup_tmpdir, teardown),
		cmocka_unit_test_setup_teardown(test_check_later_fragment_overrides, testlib_setup_tmpdir,
						teardown),
		cmocka_unit_test_setup_teardown(test_depends, testlib_setup_tmpdir, teardown),
	};
	return cmocka_run_group_tests_name("kconfig", tests, NULL, NULL);
}
