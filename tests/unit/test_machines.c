/* test_machines.c - machines.conf parsing, its error messages, MAC/UUID forms and lookups. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf/machines.h"
#include "testlib.h"

/* Each test runs inside its own temporary directory, so error messages name "m.conf" exactly. */
static int orig_dir = -1;

static int setup(void **state)
{
	if (testlib_setup_tmpdir(state) || chdir(testlib_dir) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	if (fchdir(orig_dir) < 0)
		return -1;
	return testlib_teardown_tmpdir(state);
}

static void write_conf(const char *text)
{
	FILE *f = fopen("m.conf", "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

static struct machines *load_ok(const char *text)
{
	struct machines *m = NULL;
	char err[512] = "";

	write_conf(text);
	if (machines_load("m.conf", &m, err, sizeof(err)) != 0)
		fail_msg("unexpected error: %s", err);
	assert_non_null(m);
	return m;
}

/* ---- a good file, field by field ---- */

static const char good_conf[] =
	"# lab machines\n"
	"\n"
	"default              variant=net net=dhcp payloads=hello.txt\n"
	"52:54:00:12:34:56    name=lab1 variant=net ip=10.0.2.15/24 gw=10.0.2.2 "
	"payloads=hello.txt,gen/1048576 args=quiet,loglevel=3 "
	"uuid=8C2F7A1E-3B4D-4E5F-9A0B-1C2D3E4F5A6B\n"
	"   # an indented comment\n"
	"52-54-00-AB-CD-EF\tvariant=net+debug\tip=192.168.1.7/32  net=static efi-variant=net+debug+efi\r\n"
	"5254000000FF variant=tiny_1 net=dhcp payloads=gen/1,gen/1073741824,a.b+c_d-e\n"
	"\t \n"
	"02:00:00:00:00:01 variant=x ip=0.0.0.0/0";  /* no final newline */

static void test_good_file(void **state)
{
	struct machines *m;
	const struct machine *e;

	(void)state;
	m = load_ok(good_conf);
	assert_int_equal(machines_count(m), 5);

	e = machines_at(m, 0);
	assert_true(e->is_default);
	assert_string_equal(e->mac, "");
	assert_string_equal(e->name, "default");
	assert_string_equal(e->uuid, "");
	assert_string_equal(e->variant, "net");
	assert_null(e->efi_variant);
	assert_string_equal(e->ip, "");
	assert_string_equal(e->gw, "");
	assert_true(e->dhcp);
	assert_int_equal(e->npayloads, 1);
	assert_string_equal(e->payloads[0], "hello.txt");
	assert_string_equal(e->args, "");
	assert_int_equal(e->line, 3);

	e = machines_at(m, 1);
	assert_false(e->is_default);
	assert_string_equal(e->mac, "52:54:00:12:34:56");
	assert_string_equal(e->name, "lab1");
	assert_string_equal(e->uuid, "8c2f7a1e-3b4d-4e5f-9a0b-1c2d3e4f5a6b");
	assert_string_equal(e->variant, "net");
	assert_string_equal(e->ip, "10.0.2.15/24");
	assert_string_equal(e->gw, "10.0.2.2");
	assert_false(e->dhcp);
	assert_int_equal(e->npayloads, 2);
	assert_string_equal(e->payloads[0], "hello.txt");
	assert_string_equal(e->payloads[1], "gen/1048576");
	assert_string_equal(e->args, "quiet loglevel=3");
	assert_int_equal(e->line, 4);

	e = machines_at(m, 2);
	assert_string_equal(e->mac, "52:54:00:ab:cd:ef");
	assert_string_equal(e->name, "mac-525400abcdef");
	assert_string_equal(e->variant, "net+debug");
	assert_string_equal(e->efi_variant, "net+debug+efi");
	assert_string_equal(e->ip, "192.168.1.7/32");
	assert_false(e->dhcp);
	assert_int_equal(e->npayloads, 0);
	assert_null(e->payloads);
	assert_string_equal(e->args, "");
	assert_int_equal(e->line, 6);

	e = machines_at(m, 3);
	assert_string_equal(e->mac, "52:54:00:00:00:ff");
	assert_string_equal(e->name, "mac-5254000000ff");
	assert_string_equal(e->variant, "tiny_1");
	assert_true(e->dhcp);
	assert_int_equal(e->npayloads, 3);
	assert_string_equal(e->payloads[0], "gen/1");
	assert_string_equal(e->payloads[1], "gen/1073741824");
	assert_string_equal(e->payloads[2], "a.b+c_d-e");
	assert_int_equal(e->line, 7);

	e = machines_at(m, 4);
	assert_string_equal(e->ip, "0.0.0.0/0");
	assert_false(e->dhcp);   /* ip given, net not: static */
	assert_int_equal(e->line, 9);

	assert_null(machines_at(m, 5));
	machines_free(m);
}

static void test_empty_file(void **state)
{
	struct machines *m;

	(void)state;
	m = load_ok("# nothing yet\n\n");
	assert_int_equal(machines_count(m), 0);
	assert_null(machines_at(m, 0));
	assert_null(machines_find(m, "52:54:00:12:34:56", NULL));
	machines_free(m);
}

/* The shipped example must stay loadable. */
static void test_example_file(void **state)
{
	struct machines *m = NULL;
	char err[512] = "";
	int rc;

	(void)state;
	assert_int_equal(fchdir(orig_dir), 0);
	rc = machines_load("etc/machines.conf", &m, err, sizeof(err));
	assert_int_equal(chdir(testlib_dir), 0);
	if (rc == -ENOENT)
		skip();   /* not run from the source tree */
	if (rc != 0)
		fail_msg("etc/machines.conf: %s", err);
	assert_non_null(machines_by_name(m, "default"));
	assert_non_null(machines_by_name(m, "lab1"));
	assert_string_equal(machines_find(m, "52-54-00-12-34-56", NULL)->name, "lab1");
	machines_free(m);
}

/* ---- every error, with its exact text ---- */

static void test_errors(void **state)
{
	static const struct {
		const char *text;
		const char *err;
	} v[] = {
		{ "default variant=a\n\ndefault variant=b\n",
		  "m.conf:3: second 'default' entry (the first is on line 1)" },
		{ "52:54:00:12:34:56 variant=a\n52-54-00-12-34-56 variant=b\n",
		  "m.conf:2: duplicate MAC 52:54:00:12:34:56 (first on line 1)" },
		{ "525400123456 variant=a\n# c\n52:54:00:12:34:56 variant=b\n",
		  "m.conf:3: duplicate MAC 52:54:00:12:34:56 (first on line 1)" },
		{ "52:54:00:12:34:56 name=x variant=a\n52:54:00:12:34:57 name=x variant=a\n",
		  "m.conf:2: duplicate name 'x' (first on line 1)" },
		/* an explicit name can collide with a generated one */
		{ "52:54:00:12:34:56 variant=a\n52:54:00:12:34:57 name=mac-525400123456 variant=a\n",
		  "m.conf:2: duplicate name 'mac-525400123456' (first on line 1)" },
		{ "default variant=a\n52:54:00:12:34:56 name=default variant=a\n",
		  "m.conf:2: duplicate name 'default' (first on line 1)" },
		{ "52:54:00:12:34:56 variant=a uuid=8c2f7a1e-3b4d-4e5f-9a0b-1c2d3e4f5a6b\n"
		  "52:54:00:12:34:57 variant=a uuid=8C2F7A1E-3B4D-4E5F-9A0B-1C2D3E4F5A6B\n",
		  "m.conf:2: duplicate uuid 8c2f7a1e-3b4d-4e5f-9a0b-1c2d3e4f5a6b (first on line 1)" },
		{ "52:54:00:12:34:56 variant=a color=red\n", "m.conf:1: unknown key 'color'" },
		{ "52:54:00:12:34:56 variant=a Name=x\n", "m.conf:1: unknown key 'Name'" },
		{ "52:54:00:12:34:56 variant=a quiet\n", "m.conf:1: expected key=value, got 'quiet'" },
		{ "52:54:00:12:34:56 variant=a =x\n", "m.conf:1: expected key=value, got '=x'" },
		{ "52:54:00:12:34:56 variant=a # trailing comment\n",
		  "m.conf:1: expected key=value, got '#'" },
		{ "52:54:00:12:34:56 variant=a variant=b\n", "m.conf:1: variant given twice" },
		{ "52:54:00:12:34:56 variant=\n", "m.conf:1: variant= is empty" },
		{ "52:54:00:12:34:56 name=lab1\n", "m.conf:1: missing variant=" },
		{ "52:54:00:12:34:5g variant=a\n",
		  "m.conf:1: '52:54:00:12:34:5g' is not a MAC address or 'default'" },
		{ "Default variant=a\n", "m.conf:1: 'Default' is not a MAC address or 'default'" },
		{ "variant=a\n", "m.conf:1: 'variant=a' is not a MAC address or 'default'" },
		{ "52:54:00:12:34:56 name=Lab1 variant=a\n",
		  "m.conf:1: bad name 'Lab1': want 1-32 of [a-z0-9_-]" },
		{ "52:54:00:12:34:56 name=abcdefghijklmnopqrstuvwxyz0123456 variant=a\n",
		  "m.conf:1: bad name 'abcdefghijklmnopqrstuvwxyz0123456': want 1-32 of [a-z0-9_-]" },
		{ "52:54:00:12:34:56 variant=net.x\n",
		  "m.conf:1: bad variant 'net.x': want 1-255 of [a-z0-9_+-]" },
		{ "52:54:00:12:34:56 variant=a efi-variant=net/efi\n",
		  "m.conf:1: bad efi-variant 'net/efi': want 1-255 of [a-z0-9_+-]" },
		{ "52:54:00:12:34:56 variant=a efi-variant=\n", "m.conf:1: efi-variant= is empty" },
		{ "52:54:00:12:34:56 variant=a efi-variant=b efi-variant=c\n",
		  "m.conf:1: efi-variant given twice" },
		{ "52:54:00:12:34:56 efi-variant=net+efi\n", "m.conf:1: missing variant=" },
		{ "52:54:00:12:34:56 variant=a EFI-variant=b\n", "m.conf:1: unknown key 'EFI-variant'" },
		{ "52:54:00:12:34:56 variant=a ip=10.0.2.15\n",
		  "m.conf:1: bad ip '10.0.2.15': want an IPv4 address and /prefix (0-32)" },
		{ "52:54:00:12:34:56 variant=a ip=10.0.2.15/33\n",
		  "m.conf:1: bad ip '10.0.2.15/33': want an IPv4 address and /prefix (0-32)" },
		{ "52:54:00:12:34:56 variant=a ip=10.0.2.15/024\n",
		  "m.conf:1: bad ip '10.0.2.15/024': want an IPv4 address and /prefix (0-32)" },
		{ "52:54:00:12:34:56 variant=a ip=10.0.2.15/08\n",
		  "m.conf:1: bad ip '10.0.2.15/08': want an IPv4 address and /prefix (0-32)" },
		{ "52:54:00:12:34:56 variant=a ip=10.0.2/24\n",
		  "m.conf:1: bad ip '10.0.2/24': want an IPv4 address and /prefix (0-32)" },
		{ "52:54:00:12:34:56 variant=a ip=10.0.2.256/24\n",
		  "m.conf:1: bad ip '10.0.2.256/24': want an IPv4 address and /prefix (0-32)" },
		{ "52:54:00:12:34:56 variant=a ip=10.0.2.15/\n",
		  "m.conf:1: bad ip '10.0.2.15/': want an IPv4 address and /prefix (0-32)" },
		{ "52:54:00:12:34:56 variant=a ip=fe80::1/64\n",
		  "m.conf:1: bad ip 'fe80::1/64': want an IPv4 address and /prefix (0-32)" },
		{ "52:54:00:12:34:56 variant=a ip=10.0.2.15/24 gw=10.0.2\n",
		  "m.conf:1: bad gw '10.0.2': want an IPv4 address" },
		{ "52:54:00:12:34:56 variant=a ip=10.0.2.15/24 gw=10.0.2.2/24\n",
		  "m.conf:1: bad gw '10.0.2.2/24': want an IPv4 address" },
		{ "52:54:00:12:34:56 variant=a net=DHCP\n",
		  "m.conf:1: bad net 'DHCP': want static or dhcp" },
		{ "52:54:00:12:34:56 variant=a net=static\n", "m.conf:1: net=static needs ip=" },
		{ "52:54:00:12:34:56 variant=a net=dhcp ip=10.0.2.15/24\n",
		  "m.conf:1: net=dhcp conflicts with ip=" },
		{ "52:54:00:12:34:56 variant=a gw=10.0.2.2\n", "m.conf:1: gw= needs ip=" },
		{ "52:54:00:12:34:56 variant=a payloads=a,,b\n",
		  "m.conf:1: bad payload '': want a file name or gen/N (N 1-1073741824)" },
		{ "52:54:00:12:34:56 variant=a payloads=a,\n",
		  "m.conf:1: bad payload '': want a file name or gen/N (N 1-1073741824)" },
		{ "52:54:00:12:34:56 variant=a payloads=.hidden\n",
		  "m.conf:1: bad payload '.hidden': want a file name or gen/N (N 1-1073741824)" },
		{ "52:54:00:12:34:56 variant=a payloads=../etc/passwd\n",
		  "m.conf:1: bad payload '../etc/passwd': want a file name or gen/N (N 1-1073741824)" },
		{ "52:54:00:12:34:56 variant=a payloads=gen/0\n",
		  "m.conf:1: bad payload 'gen/0': want a file name or gen/N (N 1-1073741824)" },
		{ "52:54:00:12:34:56 variant=a payloads=gen/1073741825\n",
		  "m.conf:1: bad payload 'gen/1073741825': want a file name or gen/N (N 1-1073741824)" },
		{ "52:54:00:12:34:56 variant=a payloads=gen/99999999999\n",
		  "m.conf:1: bad payload 'gen/99999999999': want a file name or gen/N (N 1-1073741824)" },
		{ "52:54:00:12:34:56 variant=a payloads=gen/012\n",
		  "m.conf:1: bad payload 'gen/012': want a file name or gen/N (N 1-1073741824)" },
		{ "52:54:00:12:34:56 variant=a payloads=gen/-1\n",
		  "m.conf:1: bad payload 'gen/-1': want a file name or gen/N (N 1-1073741824)" },
		{ "52:54:00:12:34:56 variant=a payloads=gen/\n",
		  "m.conf:1: bad payload 'gen/': want a file name or gen/N (N 1-1073741824)" },
		{ "52:54:00:12:34:56 variant=a payloads=a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,u,v,"
		  "w,x,y,z,a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,u,v,w,x,y,z,a,b,c,d,e,f,g,h,i,j,k,l,m\n",
		  "m.conf:1: too many payloads (at most 64)" },
		{ "52:54:00:12:34:56 variant=a args=quiet,,x\n",
		  "m.conf:1: bad kernel argument ''" },
		{ "52:54:00:12:34:56 variant=a args=a${x}\n",
		  "m.conf:1: bad kernel argument 'a${x}'" },
		{ "52:54:00:12:34:56 variant=a args=quiet,x&&y\n",
		  "m.conf:1: bad kernel argument 'x&&y'" },
		{ "52:54:00:12:34:56 variant=a args=a#b\n", "m.conf:1: bad kernel argument 'a#b'" },
		{ "52:54:00:12:34:56 variant=a args=a\"b\n", "m.conf:1: bad kernel argument 'a\"b'" },
		{ "52:54:00:12:34:56 variant=a args=a\x01\n", "m.conf:1: bad kernel argument 'a?'" },
		{ "52:54:00:12:34:56 variant=a uuid=8c2f7a1e3b4d4e5f9a0b1c2d3e4f5a6b\n",
		  "m.conf:1: bad uuid '8c2f7a1e3b4d4e5f9a0b1c2d3e4f5a6b': want 8-4-4-4-12 hex digits" },
		{ "52:54:00:12:34:56 variant=a uuid=00000000-0000-0000-0000-000000000000\n",
		  "m.conf:1: uuid 00000000-0000-0000-0000-000000000000 is a firmware placeholder, "
		  "not one machine's" },
		{ "52:54:00:12:34:56 variant=a uuid=FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF\n",
		  "m.conf:1: uuid ffffffff-ffff-ffff-ffff-ffffffffffff is a firmware placeholder, "
		  "not one machine's" },
		/* a quoted value is cut short and stays printable */
		{ "52:54:00:12:34:56 variant=a name=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
		  "m.conf:1: bad name 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...': "
		  "want 1-32 of [a-z0-9_-]" },
		{ "default variant=a\n52:54:00:12:34:56 variant=a\x1b[2J\n",
		  "m.conf:2: bad variant 'a?[2J': want 1-255 of [a-z0-9_+-]" },
		{ "default variant=a\nde\0fault variant=b\n", "m.conf:2: NUL byte in line" },
		{ "52:54:00:12:34:56 variant=a co\x01lor=red\n", "m.conf:1: unknown key 'co?lor'" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct machines *m = (struct machines *)1;
		char err[512] = "";
		size_t len = strlen(v[i].text);
		FILE *f;

		/* the NUL case needs its real length */
		if (strstr(v[i].err, "NUL byte"))
			len = sizeof("default variant=a\nde\0fault variant=b\n") - 1;
		f = fopen("m.conf", "w");
		assert_non_null(f);
		assert_int_equal(fwrite(v[i].text, 1, len, f), len);
		assert_int_equal(fclose(f), 0);
		assert_int_equal(machines_load("m.conf", &m, err, sizeof(err)), -EINVAL);
		assert_null(m);
		assert_string_equal(err, v[i].err);
	}
}

static void test_long_args(void **state)
{
	char text[2048];
	char err[512] = "";
	struct machines *m = NULL;
	size_t n;

	(void)state;
	/* 300 args "ab" joined by spaces: 899 bytes, fits in 1024 */
	n = (size_t)snprintf(text, sizeof(text), "52:54:00:12:34:56 variant=a args=ab");
	for (int i = 1; i < 300; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, ",ab");
	text[n++] = '\n';
	text[n] = '\0';
	m = load_ok(text);
	assert_int_equal(strlen(machines_at(m, 0)->args), 899);
	machines_free(m);

	/* 400 of them is 1199 bytes: too long for a kernel command line written by tinyboot */
	n = (size_t)snprintf(text, sizeof(text), "52:54:00:12:34:56 variant=a args=ab");
	for (int i = 1; i < 400; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, ",ab");
	text[n] = '\0';
	write_conf(text);
	assert_int_equal(machines_load("m.conf", &m, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "m.conf:1: args too long");
}

static void test_long_line(void **state)
{
	size_t len = MACHINES_LINE_MAX + 100;
	char *text = malloc(len + 1);
	char err[512] = "";
	struct machines *m = NULL;

	(void)state;
	assert_non_null(text);
	memcpy(text, "# ok\n", 5);
	memset(text + 5, 'x', len - 5);
	text[len] = '\0';
	write_conf(text);
	free(text);
	assert_int_equal(machines_load("m.conf", &m, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "m.conf:2: line longer than 65536 bytes");
}

static void test_io_errors(void **state)
{
	struct machines *m = (struct machines *)1;
	char err[512] = "";

	(void)state;
	assert_int_equal(machines_load("missing.conf", &m, err, sizeof(err)), -ENOENT);
	assert_null(m);
	assert_string_equal(err, "missing.conf: No such file or directory");

	assert_int_equal(mkdir("sub", 0700), 0);
	assert_int_equal(machines_load("sub", &m, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "sub: not a regular file");

	/* a size cap, checked before anything is read */
	write_conf("");
	assert_int_equal(truncate("m.conf", MACHINES_FILE_MAX + 1), 0);
	assert_int_equal(machines_load("m.conf", &m, err, sizeof(err)), -EFBIG);
	assert_null(m);
	assert_string_equal(err, "m.conf: larger than 16777216 bytes");

	/* no error buffer: still the code */
	assert_int_equal(machines_load("missing.conf", &m, NULL, 0), -ENOENT);
	write_conf("junk\n");
	assert_int_equal(machines_load("m.conf", &m, NULL, 0), -EINVAL);
	/* a tiny buffer is cut, not overrun */
	assert_int_equal(machines_load("m.conf", &m, err, 8), -EINVAL);
	assert_string_equal(err, "m.conf:");
}

/* ---- MAC and UUID spellings ---- */

static void test_normalize_mac(void **state)
{
	static const struct {
		const char *in, *out;
	} good[] = {
		{ "52:54:00:12:34:56", "52:54:00:12:34:56" },
		{ "52-54-00-12-34-56", "52:54:00:12:34:56" },
		{ "525400123456", "52:54:00:12:34:56" },
		{ "52:54:00:AB:cd:EF", "52:54:00:ab:cd:ef" },
		{ "52-54-00-AB-CD-EF", "52:54:00:ab:cd:ef" },
		{ "525400ABCDEF", "52:54:00:ab:cd:ef" },
		{ "ff:ff:ff:ff:ff:ff", "ff:ff:ff:ff:ff:ff" },
	};
	static const char *const bad[] = {
		"",
		"52540012345",             /* 11 hex digits */
		"5254001234567",           /* 13 */
		"52:54:00:12:34:5",
		"52:54:00:12:34:567",
		"52:54:00:12:34:56:",
		"52:54:00:12:34:5g",       /* not hex */
		"52545400123g",
		"52:54-00:12:34:56",       /* mixed separators */
		"52-54-00-12-34:56",
		"52.54.00.12.34.56",
		"5254.0012.3456",
		"52 54 00 12 34 56",
		"52:54:00:12:34:56 ",
		" 52:54:00:12:34:56",
		"+52:54:00:12:34:5",
		"52::54:00:12:34:56",
		"0x5254001234",
		"default",
	};
	char out[18];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		memset(out, 'x', sizeof(out));
		assert_int_equal(machines_normalize_mac(good[i].in, out), 0);
		assert_string_equal(out, good[i].out);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strcpy(out, "untouched");
		if (machines_normalize_mac(bad[i], out) != -EINVAL)
			fail_msg("accepted MAC '%s'", bad[i]);
		assert_string_equal(out, "untouched");
	}
	assert_int_equal(machines_normalize_mac(NULL, out), -EINVAL);
}

static void test_normalize_uuid(void **state)
{
	static const struct {
		const char *in, *out;
	} good[] = {
		{ "8c2f7a1e-3b4d-4e5f-9a0b-1c2d3e4f5a6b", "8c2f7a1e-3b4d-4e5f-9a0b-1c2d3e4f5a6b" },
		{ "8C2F7A1E-3B4D-4E5F-9A0B-1C2D3E4F5A6B", "8c2f7a1e-3b4d-4e5f-9a0b-1c2d3e4f5a6b" },
		{ "00000000-0000-0000-0000-000000000000", "00000000-0000-0000-0000-000000000000" },
	};
	static const char *const bad[] = {
		"",
		"8c2f7a1e3b4d4e5f9a0b1c2d3e4f5a6b",
		"{8c2f7a1e-3b4d-4e5f-9a0b-1c2d3e4f5a6b}",
		"8c2f7a1e-3b4d-4e5f-9a0b-1c2d3e4f5a6",
		"8c2f7a1e-3b4d-4e5f-9a0b-1c2d3e4f5a6b0",
		"8c2f7a1e-3b4d-4e5f-9a0b_1c2d3e4f5a6b",
		"8c2f7a1e-3b4d-4e5f-9a0b-1c2d3e4f5a6g",
		"8c2f7a1-e3b4d-4e5f-9a0b-1c2d3e4f5a6b",
		"8c2f7a1e:3b4d:4e5f:9a0b:1c2d3e4f5a6b",
		"8c2f7a1e-3b4d-4e5f-9a0b-1c2d3e4f5a6\n",
	};
	char out[37];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(machines_normalize_uuid(good[i].in, out), 0);
		assert_string_equal(out, good[i].out);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strcpy(out, "untouched");
		if (machines_normalize_uuid(bad[i], out) != -EINVAL)
			fail_msg("accepted UUID '%s'", bad[i]);
		assert_string_equal(out, "untouched");
	}
	assert_int_equal(machines_normalize_uuid(NULL, out), -EINVAL);
}

/* ---- lookups ---- */

#define UUID_A "8c2f7a1e-3b4d-4e5f-9a0b-1c2d3e4f5a6b"
#define UUID_B "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"

static void test_find_order(void **state)
{
	static const char conf[] =
		"52:54:00:00:00:01 name=by-mac variant=a uuid=" UUID_A "\n"
		"52:54:00:00:00:02 name=by-uuid variant=b uuid=" UUID_B "\n"
		"default name=fallback variant=c\n";
	static const struct {
		const char *mac, *uuid, *want;
	} v[] = {
		{ "52:54:00:00:00:01", NULL, "by-mac" },
		{ "52-54-00-00-00-01", "", "by-mac" },
		{ "525400000001", UUID_A, "by-mac" },
		/* the MAC wins over another machine's UUID */
		{ "52:54:00:00:00:01", UUID_B, "by-mac" },
		/* an unknown MAC (a second NIC) falls back to the UUID, in either case */
		{ "52:54:00:00:00:99", UUID_B, "by-uuid" },
		{ "52:54:00:00:00:99", "0F1E2D3C-4B5A-4978-8695-A4B3C2D1E0F9", "by-uuid" },
		{ NULL, UUID_A, "by-mac" },
		{ "", UUID_B, "by-uuid" },
		{ "garbage", UUID_B, "by-uuid" },
		/* then the default */
		{ "52:54:00:00:00:99", NULL, "fallback" },
		{ "52:54:00:00:00:99", "", "fallback" },
		{ "52:54:00:00:00:99", "not-a-uuid", "fallback" },
		{ "52:54:00:00:00:99", "11111111-2222-3333-4444-555555555555", "fallback" },
		{ NULL, NULL, "fallback" },
		{ "52:54:00:00:00:0", NULL, "fallback" },
	};
	struct machines *m;

	(void)state;
	m = load_ok(conf);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		const struct machine *e = machines_find(m, v[i].mac, v[i].uuid);

		assert_non_null(e);
		if (strcmp(e->name, v[i].want) != 0)
			fail_msg("find(%s, %s) gave %s, want %s", v[i].mac ? v[i].mac : "NULL",
				 v[i].uuid ? v[i].uuid : "NULL", e->name, v[i].want);
	}
	assert_string_equal(machines_by_name(m, "by-uuid")->mac, "52:54:00:00:00:02");
	assert_true(machines_by_name(m, "fallback")->is_default);
	assert_null(machines_by_name(m, "nobody"));
	assert_null(machines_by_name(m, NULL));
	machines_free(m);
}

static void test_find_without_default(void **state)
{
	struct machines *m;

	(void)state;
	m = load_ok("52:54:00:00:00:01 variant=a\n"
		    "52:54:00:00:00:02 variant=a uuid=" UUID_B "\n");
	assert_string_equal(machines_find(m, "52:54:00:00:00:01", NULL)->name, "mac-525400000001");
	assert_null(machines_find(m, "52:54:00:00:00:03", NULL));
	assert_null(machines_find(m, "52:54:00:00:00:03", UUID_A));
	/* the placeholder UUIDs firmware reports never match anything */
	assert_null(machines_find(m, NULL, "00000000-0000-0000-0000-000000000000"));
	assert_null(machines_find(m, NULL, "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF"));
	assert_null(machines_find(m, NULL, NULL));
	machines_free(m);
}

static void test_null_tolerant(void **state)
{
	(void)state;
	machines_free(NULL);
	assert_null(machines_find(NULL, "52:54:00:00:00:01", UUID_A));
	assert_null(machines_by_name(NULL, "x"));
	assert_int_equal(machines_count(NULL), 0);
	assert_null(machines_at(NULL, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_example_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_io_errors, setup, teardown),
		cmocka_unit_test(test_normalize_mac),
		cmocka_unit_test(test_normalize_uuid),
		cmocka_unit_test_setup_teardown(test_find_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_find_without_default, setup, teardown),
		cmocka_unit_test(test_null_tolerant),
	};

	orig_dir = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (orig_dir < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
