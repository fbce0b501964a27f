/* test_variant.c - which variant a machine boots on its firmware: BIOS as configured, UEFI
 * VARIANT+efi or its efi-variant, and the UEFI machines that cannot boot (with why). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "boot/ipxe.h"
#include "conf/variant.h"

/* platform x buildarch x recipe arch x efi-variant: what /ipxe decides, step by step as
 * http/boot.c takes them (ipxe_firmware_parse, variant_for_firmware, then under UEFI
 * variant_efi_check with the arch of the chosen variant's recipe). */
static const struct {
	const char *platform, *buildarch;   /* as iPXE sent them (NULL: not sent) */
	const char *variant, *efi_variant;  /* machines.conf */
	const char *arch;                   /* the recipe arch of the chosen variant */
	const char *chosen;                 /* before variant_parse normalises it */
	int rc;
	const char *why;                    /* the start of the reason */
} table[] = {
	/* firmware not said (a /boot.ipxe from before): as configured, efi-variant unused */
	{ NULL, NULL, "net", NULL, "x86_64", "net", 0, NULL },
	{ "", "", "net", "net+debug+efi", "x86_64", "net", 0, NULL },
	{ NULL, NULL, "net32", NULL, "i386", "net32", 0, NULL },
	/* legacy BIOS: as configured, whatever the arch; BIOS iPXE is an i386 build */
	{ "pcbios", "i386", "net", NULL, "x86_64", "net", 0, NULL },
	{ "pcbios", "i386", "net32", NULL, "i386", "net32", 0, NULL },
	{ "pcbios", "x86_64", "net", "net+debug+efi", "x86_64", "net", 0, NULL },
	/* UEFI on x86_64: +efi, or the machine's efi-variant */
	{ "efi", "x86_64", "net", NULL, "x86_64", "net+efi", 0, NULL },
	{ "efi", "x86_64", "net+debug", NULL, "x86_64", "net+debug+efi", 0, NULL },
	{ "efi", "x86_64", "net+efi", NULL, "x86_64", "net+efi+efi", 0, NULL },
	{ "efi", "x86_64", "net", "net+debug+efi", "x86_64", "net+debug+efi", 0, NULL },
	{ "efi", "x86_64", "net32", "net+efi", "x86_64", "net+efi", 0, NULL },
	/* UEFI and an i386 recipe: no EFI kernel */
	{ "efi", "x86_64", "net32", NULL, "i386", "net32+efi", -ENOEXEC,
	  "net32+efi is an i386 variant and UEFI on x86_64 starts x86_64 kernels only" },
	{ "efi", "x86_64", "net", "net32+efi", "i386", "net32+efi", -ENOEXEC,
	  "net32+efi is an i386 variant" },
	/* UEFI on another CPU, or an iPXE that did not say */
	{ "efi", "i386", "net", NULL, "x86_64", "net+efi", -ENOEXEC,
	  "UEFI on i386: tinyboot has EFI kernels for x86_64 only" },
	{ "efi", "arm64", "net", "net+efi", "x86_64", "net+efi", -ENOEXEC, "UEFI on arm64" },
	{ "efi", NULL, "net", NULL, "x86_64", "net+efi", -ENOEXEC,
	  "UEFI iPXE did not say its buildarch" },
	{ "efi", "", "net", NULL, "x86_64", "net+efi", -ENOEXEC, "UEFI iPXE did not say its buildarch" },
};

static void test_firmware_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		char chosen[VARIANT_NAME_MAX + 1], why[512] = "";
		enum ipxe_firmware fw;
		bool uefi;
		int rc = 0;

		assert_int_equal(ipxe_firmware_parse(table[i].platform, &fw), 0);
		assert_true(ipxe_buildarch_valid(table[i].buildarch));
		uefi = fw == IPXE_FIRMWARE_UEFI;
		assert_int_equal(variant_for_firmware(table[i].variant, table[i].efi_variant, uefi, chosen,
						      sizeof(chosen)), 0);
		if (strcmp(chosen, table[i].chosen) != 0)
			fail_msg("row %zu: chose '%s', want '%s'", i, chosen, table[i].chosen);
		if (uefi)
			rc = variant_efi_check(chosen, table[i].arch, table[i].buildarch, why, sizeof(why));
		if (rc != table[i].rc)
			fail_msg("row %zu (%s): rc %d, want %d (%s)", i, chosen, rc, table[i].rc, why);
		if (table[i].why && strncmp(why, table[i].why, strlen(table[i].why)) != 0)
			fail_msg("row %zu: why '%s', want '%s...'", i, why, table[i].why);
		/* the reason goes into an iPXE echo unchanged */
		assert_int_equal(strspn(why, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .,:_+-"),
				 strlen(why));
	}
}

static void test_firmware_name_too_long(void **state)
{
	char name[VARIANT_NAME_MAX + 1], out[VARIANT_NAME_MAX + 1];

	(void)state;
	memset(name, 'a', VARIANT_NAME_MAX - 4);
	name[VARIANT_NAME_MAX - 4] = '\0';
	assert_int_equal(variant_for_firmware(name, NULL, true, out, sizeof(out)), 0);
	assert_int_equal(strlen(out), VARIANT_NAME_MAX);
	assert_int_equal(variant_for_firmware(name, NULL, true, out, sizeof(out) - 1), -ENAMETOOLONG);
	assert_int_equal(variant_for_firmware(name, NULL, false, out, 4), -ENAMETOOLONG);
}

/* With the shipped recipes: +efi lands in the normalised name once, and the recipe's arch is
 * what the check gets. */
static void test_firmware_shipped_recipes(void **state)
{
	static const struct {
		const char *variant;
		bool uefi;
		const char *name, *arch;
	} v[] = {
		{ "net", false, "net", "x86_64" },
		{ "net", true, "net+efi", "x86_64" },
		{ "net+efi", true, "net+efi", "x86_64" },
		{ "net+virtio+efi", true, "net+efi", "x86_64" },
		{ "net+debug", true, "net+debug+efi", "x86_64" },
		{ "net32", true, "net32+efi", "i386" },
		{ "tiny", true, "tiny+efi", "x86_64" },
	};
	struct options o;

	(void)state;
	if (access("images/net.image", R_OK) != 0 || access("kernel-config/efi.config", R_OK) != 0)
		skip(); /* not run from the source tree */
	options_init(&o);
	free(o.recipe_dir);
	free(o.kconfig_dir);
	free(o.rootfs_dir);
	o.recipe_dir = strdup("images");
	o.kconfig_dir = strdup("kernel-config");
	o.rootfs_dir = strdup("rootfs");
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char chosen[VARIANT_NAME_MAX + 1], err[512] = "";
		struct variant *var = NULL;

		assert_int_equal(variant_for_firmware(v[i].variant, NULL, v[i].uefi, chosen, sizeof(chosen)), 0);
		if (variant_parse(&o, chosen, &var, err, sizeof(err)))
			fail_msg("%s: %s", chosen, err);
		assert_string_equal(var->name, v[i].name);
		assert_string_equal(var->recipe->arch, v[i].arch);
		variant_free(var);
	}
	options_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_firmware_table),
		cmocka_unit_test(test_firmware_name_too_long),
		cmocka_unit_test(test_firmware_shipped_recipes),
	};

	return cmocka_run_group_tests_name("variant", tests, NULL, NULL);
}
