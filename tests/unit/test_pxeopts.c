/* test_pxeopts.c - conf/pxeopts.c: the PXE options' checks (nothing that could add a line to
 * dnsmasq's configuration passes) and the set as tinybootd.conf gives it. Moved here from
 * test_pxe_config.c. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "conf/options.h"
#include "conf/pxeopts.h"
#include "lib/netif.h"
#include "testlib.h"

/* The address s in network order, as pxeopts keeps it. */
static in_addr_t addr(const char *s)
{
	struct in_addr a = { 0 };

	assert_int_equal(netif_aton(s, &a), 0);
	return a.s_addr;
}

typedef int check_fn(const char *value, char *err, size_t errlen);

static void expect_opt(check_fn *fn, const char *value, bool ok)
{
	char err[256] = "";
	int rc = fn(value, err, sizeof(err));

	if ((rc == 0) != ok)
		fail_msg("'%s': rc %d (%s), want %s", value, rc, err, ok ? "ok" : "refused");
	if (!ok)
		assert_true(err[0] && !strchr(err, '\n'));
}

static void test_option_checks(void **state)
{
	(void)state;
	expect_opt(pxeopts_check_mode, "off", true);
	expect_opt(pxeopts_check_mode, "proxy", true);
	expect_opt(pxeopts_check_mode, "dhcp", true);
	expect_opt(pxeopts_check_mode, "on", false);
	expect_opt(pxeopts_check_mode, "Proxy", false);
	expect_opt(pxeopts_check_interface, "eth1", true);
	expect_opt(pxeopts_check_interface, "enp0s31f6", true);
	expect_opt(pxeopts_check_interface, "br-lab.10", true);
	expect_opt(pxeopts_check_interface, "eth1\ndhcp-range=1.2.3.4,proxy", false);
	expect_opt(pxeopts_check_interface, "eth1,lo", false);
	expect_opt(pxeopts_check_interface, "eth 1", false);
	expect_opt(pxeopts_check_interface, "eth0:1", false);
	expect_opt(pxeopts_check_interface, "sixteen-bytes-xx", false);
	expect_opt(pxeopts_check_address, "192.0.2.1", true);
	expect_opt(pxeopts_check_address, "192.0.2.1,port=53", false);
	expect_opt(pxeopts_check_address, "192.0.2", false);
	expect_opt(pxeopts_check_address, "256.0.2.1", false);
	expect_opt(pxeopts_check_address, "::1", false);
	expect_opt(pxeopts_check_address, "192.0.2.1\n", false);
	expect_opt(pxeopts_check_range, "192.0.2.100,192.0.2.199", true);
	expect_opt(pxeopts_check_range, "192.0.2.100 , 192.0.2.100", true);
	expect_opt(pxeopts_check_range, "192.0.2.199,192.0.2.100", false);
	expect_opt(pxeopts_check_range, "192.0.2.100", false);
	expect_opt(pxeopts_check_range, "192.0.2.100,192.0.2.199,1h", false);
	expect_opt(pxeopts_check_range, "192.0.2.100,192.0.2.199\nport=53", false);
	expect_opt(pxeopts_check_lease, "1h", true);
	expect_opt(pxeopts_check_lease, "3600", true);
	expect_opt(pxeopts_check_lease, "2m", true);
	expect_opt(pxeopts_check_lease, "1w", true);
	expect_opt(pxeopts_check_lease, "infinite", true);
	expect_opt(pxeopts_check_lease, "90s", false);
	expect_opt(pxeopts_check_lease, "1y", false);
	expect_opt(pxeopts_check_lease, "53w", false);
	expect_opt(pxeopts_check_lease, "1h,port=53", false);
	expect_opt(pxeopts_check_lease, "h", false);
	expect_opt(pxeopts_check_dns, "192.0.2.53", true);
	expect_opt(pxeopts_check_dns, "192.0.2.53, 192.0.2.54,192.0.2.55", true);
	expect_opt(pxeopts_check_dns, "192.0.2.53,192.0.2.54,192.0.2.55,192.0.2.56", false);
	expect_opt(pxeopts_check_dns, "192.0.2.53,", true);
	expect_opt(pxeopts_check_dns, ",", false);
	expect_opt(pxeopts_check_dns, "example.com", false);
	expect_opt(pxeopts_check_path, "/usr/lib/ipxe", true);
	expect_opt(pxeopts_check_path, "/srv/tftp-boot/x86_64+efi", true);
	expect_opt(pxeopts_check_path, "usr/lib/ipxe", false);
	expect_opt(pxeopts_check_path, "/usr/lib/ipxe,br0", false);
	expect_opt(pxeopts_check_path, "/usr/lib/i pxe", false);
	expect_opt(pxeopts_check_path, "/usr/lib/#ipxe", false);
	expect_opt(pxeopts_check_path, "/usr/lib/ipxe\ntftp-root=/", false);
	expect_opt(pxeopts_check_program, "/usr/sbin/dnsmasq", true);
	expect_opt(pxeopts_check_program, "dnsmasq", true);
	expect_opt(pxeopts_check_program, "/opt/dns masq", false);
	expect_opt(pxeopts_check_program, "dnsmasq\n", false);
}

/* The set as a whole, as tinybootd.conf gives it. */
static void test_options_together(void **state)
{
	struct options opts;
	struct pxeopts p;
	char err[512] = "", *path;

	(void)state;
	path = testlib_path("tinybootd.conf");
	testlib_write_text(path, "pxe = dhcp\npxe-interface = br0\npxe-range = 192.0.2.100,192.0.2.199\n"
			   "pxe-router = 192.0.2.254\npxe-dns = 192.0.2.53\npxe-lease-time = 30m\n"
			   "pxe-server-address = 192.0.2.10\n");
	options_init(&opts);
	assert_int_equal(options_load_file(&opts, path, err, sizeof(err)), 0);
	assert_int_equal(pxeopts_parse(&opts, &p, err, sizeof(err)), 0);
	assert_int_equal(p.mode, PXE_MODE_DHCP);
	assert_string_equal(p.ifname, "br0");
	assert_true(p.has_range && p.first.s_addr == addr("192.0.2.100") &&
		    p.last.s_addr == addr("192.0.2.199"));
	assert_true(p.has_router && p.router.s_addr == addr("192.0.2.254"));
	assert_int_equal(p.ndns, 1);
	assert_string_equal(p.lease, "30m");
	assert_true(p.has_server && p.server.s_addr == addr("192.0.2.10"));
	options_free(&opts);

	/* the defaults: off, 1h, Debian's ipxe package */
	options_init(&opts);
	assert_int_equal(pxeopts_parse(&opts, &p, err, sizeof(err)), 0);
	assert_int_equal(p.mode, PXE_MODE_OFF);
	assert_string_equal(p.lease, "1h");
	assert_string_equal(opts.pxe_boot_programs, "/usr/lib/ipxe");
	assert_null(opts.pxe_dnsmasq);
	options_free(&opts);

	/* a value that would inject a line stops at its own line, with file:line */
	testlib_write_text(path, "pxe = proxy\npxe-interface = br0,lo\n");
	options_init(&opts);
	assert_int_equal(options_load_file(&opts, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "tinybootd.conf:2: pxe-interface: 'br0,lo' is not an interface name"));
	options_free(&opts);

	/* modes that need more */
	testlib_write_text(path, "pxe = dhcp\npxe-interface = br0\n");
	options_init(&opts);
	assert_int_equal(options_load_file(&opts, path, err, sizeof(err)), 0);
	assert_int_equal(pxeopts_parse(&opts, &p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "pxe = dhcp needs pxe-range = FIRST,LAST"));
	options_free(&opts);
	testlib_write_text(path, "pxe = proxy\n");
	options_init(&opts);
	assert_int_equal(options_load_file(&opts, path, err, sizeof(err)), 0);
	assert_int_equal(pxeopts_parse(&opts, &p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "pxe = proxy needs pxe-interface = NAME"));
	options_free(&opts);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_option_checks),
		cmocka_unit_test_setup_teardown(test_options_together, testlib_setup_tmpdir,
						testlib_teardown_tmpdir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
