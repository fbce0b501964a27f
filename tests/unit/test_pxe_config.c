/* test_pxe_config.c - boot/pxe_config.c: the dnsmasq lines for proxy and dhcp mode as golden
 * text, reservations from machines.conf (in their own --dhcp-hostsfile, or inline for -n and
 * the example), the example for a dnsmasq of one's own, and values that could inject a
 * directive refused (conf/pxeopts.c's checks: test_pxeopts.c). */
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

#include "boot/pxe_config.h"
#include "conf/machines.h"
#include "conf/pxeopts.h"
#include "testlib.h"

static struct in_addr ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(netif_aton(s, &a), 0);
	return a;
}

/* br0 at 192.0.2.1/24, tinybootd's HTTP on 8080, state in /var/lib/tinyboot. */
static void base(struct pxeopts *o, struct pxe_config *c, enum pxe_mode mode)
{
	memset(o, 0, sizeof(*o));
	o->mode = mode;
	strcpy(o->ifname, "br0");
	strcpy(o->lease, "1h");
	if (mode == PXE_MODE_DHCP) {
		o->has_range = true;
		o->first = ip("192.0.2.100");
		o->last = ip("192.0.2.199");
	}
	memset(c, 0, sizeof(*c));
	c->opts = o;
	c->mode = mode;
	c->net.addr = ip("192.0.2.1");
	c->net.mask = ip("255.255.255.0");
	c->net.net = ip("192.0.2.0");
	c->net.prefix = 24;
	c->server = ip("192.0.2.1");
	c->http_port = 8080;
	c->tftp_root = "/var/lib/tinyboot/tftp";
	c->own = true;
	c->lease_file = "/var/lib/tinyboot/pxe/dnsmasq.leases";
	c->user = "nobody";
}

/* Notes joined with '|'. */
struct notes {
	char all[2048];
};

static void collect(void *ctx, const char *note)
{
	struct notes *n = ctx;
	size_t used = strlen(n->all);

	snprintf(n->all + used, sizeof(n->all) - used, "%s%s", used ? "|" : "", note);
}

static char *render_ok(const struct pxe_config *c, struct notes *n)
{
	char err[512] = "", *text = NULL;
	int rc = pxe_config_render(c, n ? collect : NULL, n, &text, err, sizeof(err));

	if (rc)
		fail_msg("render: %d %s", rc, err);
	assert_non_null(text);
	return text;
}

static void expect_text(const char *got, const char *want)
{
	if (strcmp(got, want) != 0) {
		fprintf(stderr, "---- got\n%s---- want\n%s----\n", got, want);
		fail_msg("configuration differs");
	}
}

/* ---- golden text ---- */

static const char proxy_golden[] =
	"# dnsmasq configuration of tinyboot's PXE service (proxy mode on br0), written by tinybootd\n"
	"# on every start and SIGHUP: edit tinybootd.conf, not this file.\n"
	"#\n"
	"# Never DNS: DHCP and TFTP only, and only on br0.\n"
	"port=0\n"
	"no-resolv\n"
	"no-hosts\n"
	"interface=br0\n"
	"bind-interfaces\n"
	"# tinybootd supervises it: no pid file\n"
	"pid-file=\n"
	"# proxyDHCP leases nothing: no lease file\n"
	"leasefile-ro\n"
	"# started as root, it drops to this user once its ports are bound\n"
	"user=nobody\n"
	"#\n"
	"# proxyDHCP: the site's DHCP server hands out the addresses; this adds the boot\n"
	"# information only (ports 67 and 4011).\n"
	"dhcp-range=192.0.2.0,proxy\n"
	"#\n"
	"# Who asks: iPXE (user class iPXE, or its option 175), a legacy BIOS or an x86_64 UEFI\n"
	"# PXE client (option 93: 0; 7 or 9), an x86_64 UEFI HTTP Boot client (HTTPClient:Arch:00016).\n"
	"dhcp-userclass=set:ipxe,iPXE\n"
	"dhcp-match=set:ipxe,175\n"
	"dhcp-match=set:bios,option:client-arch,0\n"
	"dhcp-match=set:efi64,option:client-arch,7\n"
	"dhcp-match=set:efi64,option:client-arch,9\n"
	"dhcp-vendorclass=set:efihttp,HTTPClient:Arch:00016\n"
	"# answer HTTP Boot clients too (proxyDHCP answers PXEClient only by default)\n"
	"dhcp-pxe-vendor=PXEClient,HTTPClient\n"
	"#\n"
	"# iPXE gets tinyboot's boot script over HTTP and never uses TFTP.\n"
	"dhcp-boot=tag:ipxe,http://192.0.2.1:8080/boot.ipxe,,192.0.2.1\n"
	"# UEFI HTTP Boot gets iPXE from tinybootd over HTTP, no TFTP at all.\n"
	"dhcp-boot=tag:efihttp,tag:!ipxe,http://192.0.2.1:8080/pxe/ipxe.efi,,192.0.2.1\n"
	"dhcp-option-force=tag:efihttp,60,HTTPClient\n"
	"# Firmware PXE loads iPXE over TFTP first: undionly.kpxe (BIOS), snponly.efi (UEFI).\n"
	"pxe-service=tag:!ipxe,x86PC,\"tinyboot BIOS\",undionly.kpxe\n"
	"pxe-service=tag:!ipxe,tag:!efihttp,x86-64_EFI,\"tinyboot UEFI\",snponly.efi\n"
	"pxe-service=tag:!ipxe,tag:!efihttp,BC_EFI,\"tinyboot UEFI\",snponly.efi\n"
	"# the BIOS file in the offer too, for clients that skip the menu\n"
	"dhcp-boot=tag:bios,tag:!ipxe,undionly.kpxe,,192.0.2.1\n"
	"#\n"
	"# TFTP on br0: the boot programs tinybootd copied, nothing else; tftp-secure serves\n"
	"# only files owned by the user dnsmasq runs as.\n"
	"enable-tftp=br0\n"
	"tftp-root=/var/lib/tinyboot/tftp\n"
	"tftp-secure\n";

static void test_proxy_golden(void **state)
{
	struct pxeopts o;
	struct pxe_config c;
	char *t;

	(void)state;
	base(&o, &c, PXE_MODE_PROXY);
	t = render_ok(&c, NULL);
	expect_text(t, proxy_golden);
	free(t);
}

static const char machines_conf[] =
	"default           variant=net net=dhcp\n"
	"52:54:00:00:01:01 name=lab1 variant=net ip=192.0.2.50/24\n"
	"52-54-00-00-01-02 name=lab2 variant=net ip=10.0.2.15/24 gw=10.0.2.2\n"
	"52:54:00:00:01:03 name=lab3 variant=net net=dhcp\n"
	"52:54:00:00:01:04 name=lab4 variant=net ip=192.0.2.50/24\n"
	"52:54:00:00:01:05 name=lab5 variant=net ip=192.0.2.1/24\n"
	"52:54:00:00:01:06 name=lab6 variant=net ip=192.0.2.254/24\n"
	"52:54:00:00:01:07 name=lab7 variant=net ip=192.0.2.255/24\n"
	"5254000001AA      name=lab8 variant=net+debug ip=192.0.2.150/24 gw=192.0.2.254\n";

static const char dhcp_golden[] =
	"# dnsmasq configuration of tinyboot's PXE service (dhcp mode on br0), written by tinybootd\n"
	"# on every start and SIGHUP: edit tinybootd.conf, not this file.\n"
	"#\n"
	"# Never DNS: DHCP and TFTP only, and only on br0.\n"
	"port=0\n"
	"no-resolv\n"
	"no-hosts\n"
	"interface=br0\n"
	"bind-interfaces\n"
	"# tinybootd supervises it: no pid file\n"
	"pid-file=\n"
	"dhcp-leasefile=/var/lib/tinyboot/pxe/dnsmasq.leases\n"
	"#\n"
	"# The DHCP server of this segment: addresses from the range, and a reserved one for each\n"
	"# machine of machines.conf with a MAC and ip=.\n"
	"dhcp-range=192.0.2.100,192.0.2.199,255.255.255.0,12h\n"
	"dhcp-authoritative\n"
	"dhcp-option=option:router,192.0.2.254\n"
	"dhcp-option=option:dns-server,192.0.2.53,198.51.100.53\n"
	"# the reservations, one MAC,IP a line: when only they change, tinybootd rewrites the file\n"
	"# and sends SIGHUP (no restart: TFTP transfers in flight go on)\n"
	"dhcp-hostsfile=/var/lib/tinyboot/pxe/dnsmasq.hosts\n"
	"#\n"
	"# Who asks: iPXE (user class iPXE, or its option 175), a legacy BIOS or an x86_64 UEFI\n"
	"# PXE client (option 93: 0; 7 or 9), an x86_64 UEFI HTTP Boot client (HTTPClient:Arch:00016).\n"
	"dhcp-userclass=set:ipxe,iPXE\n"
	"dhcp-match=set:ipxe,175\n"
	"dhcp-match=set:bios,option:client-arch,0\n"
	"dhcp-match=set:efi64,option:client-arch,7\n"
	"dhcp-match=set:efi64,option:client-arch,9\n"
	"dhcp-vendorclass=set:efihttp,HTTPClient:Arch:00016\n"
	"#\n"
	"# iPXE gets tinyboot's boot script over HTTP and never uses TFTP.\n"
	"dhcp-boot=tag:ipxe,http://192.0.2.10:8081/boot.ipxe\n"
	"# UEFI HTTP Boot gets iPXE from tinybootd over HTTP, no TFTP at all.\n"
	"dhcp-boot=tag:efihttp,tag:!ipxe,http://192.0.2.10:8081/pxe/ipxe.efi\n"
	"dhcp-option-force=tag:efihttp,60,HTTPClient\n"
	"# Firmware PXE loads iPXE over TFTP first: undionly.kpxe (BIOS), snponly.efi (UEFI).\n"
	"dhcp-boot=tag:efi64,tag:!ipxe,snponly.efi\n"
	"dhcp-boot=tag:bios,tag:!ipxe,undionly.kpxe\n"
	"#\n"
	"# TFTP on br0: the boot programs tinybootd copied, nothing else; tftp-secure serves\n"
	"# only files owned by the user dnsmasq runs as.\n"
	"enable-tftp=br0\n"
	"tftp-root=/var/lib/tinyboot/tftp\n"
	"tftp-secure\n"
	"# tinybootd logs at debug: every DHCP packet's options\n"
	"log-dhcp\n";

/* The reservations, as dnsmasq reads them from its --dhcp-hostsfile (comments allowed). */
static const char hosts_golden[] =
	"# DHCP reservations of tinyboot's PXE service (MAC,IP) from machines.conf, written by "
	"tinybootd\n# on every start and SIGHUP; dnsmasq reads it again on SIGHUP.\n"
	"52:54:00:00:01:01,192.0.2.50\n"
	"# no reservation: machine lab2 (52:54:00:00:01:02): ip 10.0.2.15 is not inside br0's "
	"subnet 192.0.2.0/24\n"
	"# no reservation: machine lab4 (52:54:00:00:01:04): ip 192.0.2.50 is reserved for an "
	"earlier machine already\n"
	"# no reservation: machine lab5 (52:54:00:00:01:05): ip 192.0.2.1 is the address of this "
	"server\n"
	"# no reservation: machine lab6 (52:54:00:00:01:06): ip 192.0.2.254 is the address of the "
	"router\n"
	"# no reservation: machine lab7 (52:54:00:00:01:07): ip 192.0.2.255 is not inside br0's "
	"subnet 192.0.2.0/24\n"
	"52:54:00:00:01:aa,192.0.2.150\n";

static const char notes_golden[] =
	"machine lab2 (52:54:00:00:01:02): ip 10.0.2.15 is not inside br0's subnet 192.0.2.0/24|"
	"machine lab4 (52:54:00:00:01:04): ip 192.0.2.50 is reserved for an earlier machine already|"
	"machine lab5 (52:54:00:00:01:05): ip 192.0.2.1 is the address of this server|"
	"machine lab6 (52:54:00:00:01:06): ip 192.0.2.254 is the address of the router|"
	"machine lab7 (52:54:00:00:01:07): ip 192.0.2.255 is not inside br0's subnet 192.0.2.0/24";

static struct machines *load_machines(const char *text)
{
	struct machines *m = NULL;
	char err[512] = "", *path = testlib_path("machines.conf");

	testlib_write_text(path, text);
	if (machines_load(path, &m, err, sizeof(err)))
		fail_msg("machines: %s", err);
	free(path);
	return m;
}

/* The configuration names the hosts file and depends on no machine: a change of machines.conf
 * leaves it as it is (dnsmasq gets SIGHUP, no restart); the reservations go to the file. */
static void test_dhcp_golden(void **state)
{
	struct machines *m = load_machines(machines_conf), *other;
	struct notes n = { "" };
	struct pxeopts o;
	struct pxe_config c;
	char err[512] = "", *t, *t2, *hosts;
	size_t count = 99;

	(void)state;
	base(&o, &c, PXE_MODE_DHCP);
	strcpy(o.lease, "12h");
	o.has_router = true;
	o.router = ip("192.0.2.254");
	o.ndns = 2;
	o.dns[0] = ip("192.0.2.53");
	o.dns[1] = ip("198.51.100.53");
	c.user = NULL;          /* not root: no user= */
	c.server = ip("192.0.2.10"); /* pxe-server-address: HTTP elsewhere than TFTP */
	c.http_port = 8081;
	c.log_dhcp = true;
	c.machines = m;
	c.hosts_file = "/var/lib/tinyboot/pxe/dnsmasq.hosts";
	t = render_ok(&c, &n);
	expect_text(t, dhcp_golden);
	assert_string_equal(n.all, ""); /* the notes go with the reservations */
	assert_int_equal(pxe_config_hosts(&c, collect, &n, &hosts, &count, err, sizeof(err)), 0);
	expect_text(hosts, hosts_golden);
	assert_int_equal(count, 2);
	assert_string_equal(n.all, notes_golden);
	free(hosts);

	/* another machine: the same configuration, one more reservation */
	other = load_machines("52:54:00:00:0b:03 name=new variant=net ip=192.0.2.78/24\n");
	c.machines = other;
	t2 = render_ok(&c, NULL);
	assert_string_equal(t2, t);
	assert_int_equal(pxe_config_hosts(&c, NULL, NULL, &hosts, &count, err, sizeof(err)), 0);
	assert_int_equal(count, 1);
	assert_non_null(strstr(hosts, "\n52:54:00:00:0b:03,192.0.2.78\n"));
	free(hosts);
	free(t2);

	/* no machines: an empty file (its comment only) */
	c.machines = NULL;
	assert_int_equal(pxe_config_hosts(&c, NULL, NULL, &hosts, &count, err, sizeof(err)), 0);
	assert_int_equal(count, 0);
	assert_null(strstr(hosts, "\n5"));
	free(hosts);

	/* proxy mode has none */
	base(&o, &c, PXE_MODE_PROXY);
	c.hosts_file = "/var/lib/tinyboot/pxe/dnsmasq.hosts";
	hosts = (char *)1;
	assert_int_equal(pxe_config_hosts(&c, NULL, NULL, &hosts, &count, err, sizeof(err)), -EINVAL);
	assert_null(hosts);
	t2 = render_ok(&c, NULL);
	expect_text(t2, proxy_golden);
	free(t2);
	free(t);
	machines_free(other);
	machines_free(m);
}

/* hosts_golden's reservations as configuration lines: dhcp-host=MAC,IP, the notes as they are. */
static char *inline_of(const char *hosts)
{
	char *out = calloc(1, strlen(hosts) * 2 + 1), *o = out;

	assert_non_null(out);
	hosts = strstr(hosts, "SIGHUP.\n") + strlen("SIGHUP.\n"); /* past its heading */
	while (*hosts) {
		size_t len = strcspn(hosts, "\n") + 1;

		o += sprintf(o, "%s%.*s", hosts[0] == '#' ? "" : "dhcp-host=", (int)len, hosts);
		hosts += len;
	}
	return out;
}

/* Without a hosts file (tinybootd -n feeds dnsmasq --test, which would not read one) and in the
 * example for a dnsmasq of one's own: the same reservations inline, self-contained. */
static void test_dhcp_inline(void **state)
{
	char *lines = inline_of(hosts_golden);
	char *inline_golden = testlib_asprintf("dhcp-option=option:router,192.0.2.254\n%s#\n# Who asks",
					       lines);
	struct machines *m = load_machines(machines_conf);
	struct pxeopts o;
	struct pxe_config c;
	struct notes n = { "" };
	char *t;

	(void)state;
	base(&o, &c, PXE_MODE_DHCP);
	o.has_router = true;
	o.router = ip("192.0.2.254");
	c.machines = m;
	t = render_ok(&c, &n);
	assert_non_null(strstr(t, inline_golden));
	assert_null(strstr(t, "dhcp-hostsfile"));
	assert_string_equal(n.all, notes_golden);
	free(t);
	/* the example ignores a hosts file: it is tinybootd's */
	c.own = false;
	c.hosts_file = "/var/lib/tinyboot/pxe/dnsmasq.hosts";
	t = render_ok(&c, NULL);
	assert_non_null(strstr(t, "# tinyboot's PXE lines (dhcp mode on br0) for a dnsmasq of your own"));
	assert_non_null(strstr(t, inline_golden));
	assert_null(strstr(t, "dhcp-hostsfile"));
	free(t);
	machines_free(m);
	free(inline_golden);
	free(lines);
}

/* What /api/v1/pxe/config shows of a running service: the file, then the reservations as
 * comments (the text stays a configuration dnsmasq accepts). */
static void test_shown(void **state)
{
	char *t = NULL;

	(void)state;
	assert_int_equal(pxe_config_shown("port=0\ndhcp-hostsfile=/s/pxe/dnsmasq.hosts\n",
					  "/s/pxe/dnsmasq.hosts", "# head\n52:54:00:00:0b:03,192.0.2.78\n"
					  "# no reservation: x\n52:54:00:00:0b:04,192.0.2.79", &t), 0);
	expect_text(t, "port=0\ndhcp-hostsfile=/s/pxe/dnsmasq.hosts\n#\n"
		       "# /s/pxe/dnsmasq.hosts (dhcp-hostsfile), as tinybootd wrote it:\n"
		       "# head\n# 52:54:00:00:0b:03,192.0.2.78\n# no reservation: x\n"
		       "# 52:54:00:00:0b:04,192.0.2.79\n");
	free(t);
	assert_int_equal(pxe_config_shown("port=0\n", "/h", "", &t), 0);
	expect_text(t, "port=0\n#\n# /h (dhcp-hostsfile), as tinybootd wrote it:\n");
	free(t);
}

/* No router, no DNS, no machines: the router option is sent empty so clients get none. */
static void test_dhcp_bare(void **state)
{
	struct pxeopts o;
	struct pxe_config c;
	char *t;

	(void)state;
	base(&o, &c, PXE_MODE_DHCP);
	t = render_ok(&c, NULL);
	assert_non_null(strstr(t, "dhcp-range=192.0.2.100,192.0.2.199,255.255.255.0,1h\n"
				  "dhcp-authoritative\n"
				  "# no pxe-router: no default gateway (not even this host)\n"
				  "dhcp-option=option:router\n#\n"));
	assert_null(strstr(t, "dns-server"));
	assert_null(strstr(t, "dhcp-host="));
	assert_null(strstr(t, "log-dhcp"));
	assert_non_null(strstr(t, "user=nobody\n"));
	free(t);
}

/* The lines for a dnsmasq of the admin's own: none of tinybootd's own settings. */
static void test_example(void **state)
{
	struct pxeopts o;
	struct pxe_config c;
	char *t;

	(void)state;
	base(&o, &c, PXE_MODE_PROXY);
	o.mode = PXE_MODE_OFF;
	c.own = false;
	c.tftp_root = "/usr/lib/ipxe";
	c.log_dhcp = true; /* only for tinybootd's own */
	c.listen_note = "tinybootd listens on 127.0.0.1 only";
	t = render_ok(&c, NULL);
	assert_true(strncmp(t, "# tinyboot's PXE lines (proxy mode on br0) for a dnsmasq of your own: "
			       "tinybootd runs none\n# (pxe = off). Merge them into its configuration.\n"
			       "# tinybootd listens on 127.0.0.1 only\n#\n", 180) == 0);
	assert_null(strstr(t, "pid-file"));
	assert_null(strstr(t, "dhcp-leasefile"));
	assert_null(strstr(t, "leasefile-ro"));
	assert_null(strstr(t, "user="));
	assert_null(strstr(t, "\ntftp-secure"));
	assert_null(strstr(t, "log-dhcp"));
	assert_non_null(strstr(t, "dhcp-range=192.0.2.0,proxy\n"));
	assert_non_null(strstr(t, "enable-tftp=br0\ntftp-root=/usr/lib/ipxe\n"));
	free(t);
}

/* ---- refused ---- */

static void expect_refused(const struct pxe_config *c, int want, const char *why)
{
	char err[512] = "", *text = (char *)1;
	int rc = pxe_config_render(c, NULL, NULL, &text, err, sizeof(err));

	if (rc != want)
		fail_msg("%s: rc %d, want %d (%s)", why, rc, want, err);
	assert_null(text);
	assert_true(err[0] != '\0');
	assert_null(strchr(err, '\n'));
}

static void test_injection_refused(void **state)
{
	static const char *const bad_paths[] = {
		"/var/lib/tinyboot/tftp\nport=53", "/var/lib/tiny boot", "/var/lib/a,b", "/var/#x",
		"/var/\"x\"", "relative/tftp", "", "/var/lib/x\\y", "/var/lib/tinyboot/t\rftp",
	};
	static const char *const bad_ifnames[] = {
		"br0\nport=53", "br 0", "br0,lo", "", "abcdefghijklmnop", "br0#", "..", "br0\"",
	};
	struct pxeopts o;
	struct pxe_config c;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_paths) / sizeof(bad_paths[0]); i++) {
		base(&o, &c, PXE_MODE_PROXY);
		c.tftp_root = bad_paths[i];
		expect_refused(&c, -EINVAL, bad_paths[i]);
		base(&o, &c, PXE_MODE_DHCP);
		c.lease_file = bad_paths[i];
		expect_refused(&c, -EINVAL, bad_paths[i]);
	}
	for (size_t i = 0; i < sizeof(bad_ifnames) / sizeof(bad_ifnames[0]); i++) {
		base(&o, &c, PXE_MODE_PROXY);
		snprintf(o.ifname, sizeof(o.ifname), "%s", bad_ifnames[i]);
		if (strlen(bad_ifnames[i]) >= sizeof(o.ifname)) /* too long to fit: cut, still bad */
			memcpy(o.ifname, "br0\nport=53abcd", sizeof(o.ifname));
		expect_refused(&c, -EINVAL, bad_ifnames[i]);
	}
	for (size_t i = 0; i < sizeof(bad_paths) / sizeof(bad_paths[0]); i++) {
		base(&o, &c, PXE_MODE_DHCP);
		c.hosts_file = bad_paths[i];
		expect_refused(&c, -EINVAL, bad_paths[i]);
	}
	base(&o, &c, PXE_MODE_PROXY);
	c.user = "nobody\nport=53";
	expect_refused(&c, -EINVAL, "user");
	base(&o, &c, PXE_MODE_PROXY);
	c.listen_note = "two\nlines";
	expect_refused(&c, -EINVAL, "note");
	base(&o, &c, PXE_MODE_PROXY);
	c.http_port = 0;
	expect_refused(&c, -EINVAL, "port 0");
	base(&o, &c, PXE_MODE_OFF);
	expect_refused(&c, -EINVAL, "mode off");
}

static void test_addresses_refused(void **state)
{
	static const struct {
		const char *first, *last, *router;
	} cases[] = {
		{ "10.0.0.1", "10.0.0.9", NULL },         /* outside */
		{ "192.0.2.100", "192.0.3.9", NULL },     /* last outside */
		{ "192.0.2.0", "192.0.2.9", NULL },       /* the network address */
		{ "192.0.2.200", "192.0.2.255", NULL },   /* the broadcast address */
		{ "192.0.2.1", "192.0.2.9", NULL },       /* the server's own address */
		{ "192.0.2.100", "192.0.2.199", "10.0.0.1" }, /* router outside */
	};
	struct pxeopts o;
	struct pxe_config c;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		base(&o, &c, PXE_MODE_DHCP);
		o.first = ip(cases[i].first);
		o.last = ip(cases[i].last);
		if (cases[i].router) {
			o.has_router = true;
			o.router = ip(cases[i].router);
		}
		expect_refused(&c, -ERANGE, cases[i].first);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proxy_golden),
		cmocka_unit_test_setup_teardown(test_dhcp_golden, testlib_setup_tmpdir, testlib_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_dhcp_inline, testlib_setup_tmpdir, testlib_teardown_tmpdir),
		cmocka_unit_test(test_shown),
		cmocka_unit_test(test_dhcp_bare),
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_injection_refused),
		cmocka_unit_test(test_addresses_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
