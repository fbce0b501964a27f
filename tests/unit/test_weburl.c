/* test_weburl.c - lib/weburl.c's host and base URL checks, and the site cache in iPXE scripts
 * (boot/ipxe.c with artifact_url, which artifact-base-url sets). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "boot/ipxe.h"
#include "lib/weburl.h"

static void test_base_valid(void **state)
{
	static const char *const good[] = {
		"http://cache", "https://cache.lab.example:3128", "http://10.1.2.3", "http://[::1]:8080",
		"https://[fe80::1]/tinyboot", "http://cache/a/b_c-d.e", "http://c_1:1", "http://c:65535",
	};
	static const char *const bad[] = {
		NULL, "", "cache", "ftp://cache", "http://", "https://", "http:///x", "http://cache/",
		"http://cache/x/", "http://cache/x?y=1", "http://cache/?", "http://cache/#f", "http://cache#f",
		"http://u@cache", "http://u:p@cache", "http://a b", "http://cache:0", "http://cache:99999",
		"http://cache:123456", "http://cache:", "http://cache:8080:80", "http://-cache", "http://.cache",
		"http://cache/${x}", "http://cache/a;b", "http://cache/a\nchain", "http://cache/a\\",
		"http://cache/a&&b", "http://cache/a+b", "http://[::1", "http://[x]", "http://[fe80::1%eth0]",
		"http://cache/a b", "HTTP://cache", "http://ca\xc3\xa9",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!weburl_base_valid(good[i]))
			fail_msg("refused '%s'", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (weburl_base_valid(bad[i]))
			fail_msg("accepted '%s'", bad[i] ? bad[i] : "(null)");
}

static void test_base_length(void **state)
{
	char url[WEBURL_MAX + 2];

	(void)state;
	memset(url, 'a', sizeof(url));
	memcpy(url, "http://c/", 9);
	url[WEBURL_MAX] = '\0';
	assert_true(weburl_base_valid(url));
	url[WEBURL_MAX] = 'a';
	url[WEBURL_MAX + 1] = '\0';
	assert_false(weburl_base_valid(url));
}

/* ipxe_host_valid() is lib's check now: the same answers. */
static void test_host_same(void **state)
{
	static const char *const hosts[] = { "h", "h:80", "[::1]", "[::1]:80", "-h", ".h", "h:0", "[x]", "a b",
					     "h:99999", "" };

	(void)state;
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
		assert_int_equal(ipxe_host_valid(hosts[i]), weburl_host_valid(hosts[i]));
}

/* Kernel and initrd from the cache; the command line's server stays the daemon. */
static void test_script_through_cache(void **state)
{
	static const char want[] =
		"#!ipxe\n"
		"echo tinyboot: booting lab1\n"
		"kernel http://cache.site2:3128/tb/artifacts/ab/bzImage?boot=0123456789abcdef0123456789abcdef "
		"initrd=initrd tinyboot.server=http://10.0.2.2:8080 tinyboot.id=lab1\n"
		"initrd --name initrd http://cache.site2:3128/tb/artifacts/ab/initrd?boot=0123456789abcdef0123456789abcdef\n"
		"boot\n";
	struct ipxe_boot b = {
		.server_url = "http://10.0.2.2:8080",
		.artifact_url = "http://cache.site2:3128/tb",
		.kernel_url = "/artifacts/ab/bzImage?boot=0123456789abcdef0123456789abcdef",
		.initrd_url = "/artifacts/ab/initrd?boot=0123456789abcdef0123456789abcdef",
		.cmdline = "tinyboot.server=http://10.0.2.2:8080 tinyboot.id=lab1",
		.machine = "lab1",
	};
	static const char *const hostile[] = { "http://cache/x?y", "http://cache/\nboot", "ftp://cache",
					       "http://cache/${x}", "http://cache/", "cache" };
	char buf[1024];

	(void)state;
	assert_int_equal(ipxe_machine_script(&b, buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		memcpy(buf, "untouched", 10);
		b.artifact_url = hostile[i];
		if (ipxe_machine_script(&b, buf, sizeof(buf)) != -EINVAL)
			fail_msg("took artifact_url '%s'", hostile[i]);
		assert_string_equal(buf, "untouched");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_valid),
		cmocka_unit_test(test_base_length),
		cmocka_unit_test(test_host_same),
		cmocka_unit_test(test_script_through_cache),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
