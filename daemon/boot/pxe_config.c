/* pxe_config.c - render dnsmasq's lines for proxyDHCP or DHCP, TFTP and the boot URLs. */
#include "boot/pxe_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/machines.h"
#include "lib/conffile.h"

struct pxe_config_buf {
	char *data;
	size_t len, cap;
	int rc;
};

static void pxe_config_add(struct pxe_config_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Append one formatted piece; the first failure sticks in b->rc. */
static void pxe_config_add(struct pxe_config_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->rc)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->rc = -EINVAL;
		return;
	}
	if ((size_t)n >= b->cap - b->len) {
		size_t cap = b->cap ? b->cap : 4096;
		char *grown;

		while ((size_t)n >= cap - b->len)
			cap *= 2;
		grown = realloc(b->data, cap);
		if (!grown) {
			b->rc = -ENOMEM;
			return;
		}
		b->data = grown;
		b->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static bool pxe_config_in_range(struct in_addr a, struct in_addr first, struct in_addr last)
{
	return ntohl(a.s_addr) >= ntohl(first.s_addr) && ntohl(a.s_addr) <= ntohl(last.s_addr);
}

/* A usable host address of the network: inside it, neither its network nor broadcast address. */
static bool pxe_config_host_in_net(struct in_addr a, const struct netif_ipv4 *net)
{
	uint32_t host = ntohl(a.s_addr) & ~ntohl(net->mask.s_addr);

	if (!netif_in_net(a, net->net, net->mask))
		return false;
	return net->prefix >= 31 || (host != 0 && host != ~ntohl(net->mask.s_addr));
}

/* The reservations go to a file of their own: tinybootd's dnsmasq in dhcp mode only. */
static const char *pxe_config_hosts_file(const struct pxe_config *c)
{
	return c->own && c->mode == PXE_MODE_DHCP ? c->hosts_file : NULL;
}

/* Everything written below is checked here first. */
static int pxe_config_check(const struct pxe_config *c, char *err, size_t errlen)
{
	const struct pxeopts *o = c->opts;
	char a[NETIF_ADDR_MAX], b[NETIF_ADDR_MAX], net[NETIF_ADDR_MAX];
	char shown[CONFFILE_SHOWN_MAX + 4];

	if (c->mode != PXE_MODE_PROXY && c->mode != PXE_MODE_DHCP) {
		snprintf(err, errlen, "pxe: a configuration is made for proxy or dhcp mode only");
		return -EINVAL;
	}
	if (!netif_name_valid(o->ifname)) {
		snprintf(err, errlen, "pxe-interface: '%s' is not an interface name",
			 conffile_shown(o->ifname, shown));
		return -EINVAL;
	}
	if (!c->tftp_root || !pxeopts_path_valid(c->tftp_root) ||
	    (c->own && c->lease_file && !pxeopts_path_valid(c->lease_file)) ||
	    (pxe_config_hosts_file(c) && !pxeopts_path_valid(c->hosts_file))) {
		const char *bad = c->lease_file;

		if (c->tftp_root && !pxeopts_path_valid(c->tftp_root))
			bad = c->tftp_root;
		else if (pxe_config_hosts_file(c) && !pxeopts_path_valid(c->hosts_file))
			bad = c->hosts_file;
		snprintf(err, errlen, "the path '%s' cannot be written into a dnsmasq configuration "
			 "(use only A-Z a-z 0-9 / . _ + @ %% = : ~ -)", conffile_shown(bad, shown));
		return -EINVAL;
	}
	if (c->own && c->user && !netif_name_valid(c->user)) {
		snprintf(err, errlen, "bad user name for dnsmasq");
		return -EINVAL;
	}
	if (c->http_port == 0 || c->http_port > 65535) {
		snprintf(err, errlen, "the HTTP port %u cannot be reached by PXE clients", c->http_port);
		return -EINVAL;
	}
	if (c->listen_note && strpbrk(c->listen_note, "\r\n")) {
		snprintf(err, errlen, "a note may not span lines");
		return -EINVAL;
	}
	netif_ntoa(c->net.net, net);
	if (c->mode != PXE_MODE_DHCP)
		return 0;
	if (!pxe_config_host_in_net(o->first, &c->net) || !pxe_config_host_in_net(o->last, &c->net)) {
		snprintf(err, errlen, "pxe-range %s,%s is not inside %s's subnet %s/%u: use addresses "
			 "of that subnet", netif_ntoa(o->first, a), netif_ntoa(o->last, b), o->ifname,
			 net, c->net.prefix);
		return -ERANGE;
	}
	if (pxe_config_in_range(c->net.addr, o->first, o->last)) {
		snprintf(err, errlen, "pxe-range %s,%s holds %s's own address %s: leave it out",
			 netif_ntoa(o->first, a), netif_ntoa(o->last, b), o->ifname,
			 netif_ntoa(c->net.addr, net));
		return -ERANGE;
	}
	if (o->has_router && !pxe_config_host_in_net(o->router, &c->net)) {
		snprintf(err, errlen, "pxe-router %s is not inside %s's subnet %s/%u",
			 netif_ntoa(o->router, a), o->ifname, net, c->net.prefix);
		return -ERANGE;
	}
	return 0;
}

static void pxe_config_note(pxe_config_note_fn *note, void *ctx, struct pxe_config_buf *b,
			    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* A reservation left out: a comment in the file and a note for the log. */
static void pxe_config_note(pxe_config_note_fn *note, void *ctx, struct pxe_config_buf *b,
			    const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pxe_config_add(b, "# no reservation: %s\n", msg);
	if (note)
		note(ctx, msg);
}

/* PREFIXMAC,IP for every machine with a MAC and ip= in the subnet; each address once. prefix:
 * "dhcp-host=" in a configuration, "" in a --dhcp-hostsfile. */
static void pxe_config_reservations(const struct pxe_config *c, pxe_config_note_fn *note, void *ctx,
				    const char *prefix, size_t *count, struct pxe_config_buf *b)
{
	size_t n = c->machines ? machines_count(c->machines) : 0;
	struct in_addr *taken = n ? calloc(n, sizeof(*taken)) : NULL;
	size_t ntaken = 0;
	char net[NETIF_ADDR_MAX], ipbuf[NETIF_ADDR_MAX];

	if (n && !taken) {
		b->rc = -ENOMEM;
		return;
	}
	netif_ntoa(c->net.net, net);
	for (size_t i = 0; i < n; i++) {
		const struct machine *m = machines_at(c->machines, i);
		char ip[sizeof(m->ip)], *slash, mac[18];
		struct in_addr a;
		bool dup = false;

		if (!m->mac[0] || !m->ip[0])
			continue;
		snprintf(ip, sizeof(ip), "%s", m->ip);
		slash = strchr(ip, '/');
		if (slash)
			*slash = '\0';
		if (machines_normalize_mac(m->mac, mac) || netif_aton(ip, &a)) {
			pxe_config_note(note, ctx, b, "machine %s: unreadable MAC or ip", m->name);
			continue;
		}
		if (!pxe_config_host_in_net(a, &c->net)) {
			pxe_config_note(note, ctx, b, "machine %s (%s): ip %s is not inside %s's subnet "
					"%s/%u", m->name, mac, ip, c->opts->ifname, net, c->net.prefix);
			continue;
		}
		if (a.s_addr == c->net.addr.s_addr ||
		    (c->opts->has_router && a.s_addr == c->opts->router.s_addr)) {
			pxe_config_note(note, ctx, b, "machine %s (%s): ip %s is the address of %s", m->name,
					mac, ip, a.s_addr == c->net.addr.s_addr ? "this server" : "the router");
			continue;
		}
		for (size_t k = 0; k < ntaken; k++)
			dup = dup || taken[k].s_addr == a.s_addr;
		if (dup) {
			pxe_config_note(note, ctx, b, "machine %s (%s): ip %s is reserved for an earlier "
					"machine already", m->name, mac, ip);
			continue;
		}
		taken[ntaken++] = a;
		pxe_config_add(b, "%s%s,%s\n", prefix, mac, netif_ntoa(a, ipbuf));
	}
	free(taken);
	if (count)
		*count = ntaken;
}

static void pxe_config_head(const struct pxe_config *c, struct pxe_config_buf *b)
{
	const char *ifname = c->opts->ifname, *mode = pxeopts_mode_name(c->mode);

	if (c->own)
		pxe_config_add(b, "# dnsmasq configuration of tinyboot's PXE service (%s mode on %s), "
			       "written by tinybootd\n# on every start and SIGHUP: edit tinybootd.conf, "
			       "not this file.\n", mode, ifname);
	else
		pxe_config_add(b, "# tinyboot's PXE lines (%s mode on %s) for a dnsmasq of your own: "
			       "tinybootd runs none\n# (pxe = off). Merge them into its configuration.\n",
			       mode, ifname);
	if (c->listen_note)
		pxe_config_add(b, "# %s\n", c->listen_note);
	pxe_config_add(b, "#\n# Never DNS: DHCP and TFTP only, and only on %s.\n"
		       "port=0\nno-resolv\nno-hosts\ninterface=%s\nbind-interfaces\n", ifname, ifname);
	if (!c->own)
		return;
	pxe_config_add(b, "# tinybootd supervises it: no pid file\npid-file=\n");
	if (c->mode == PXE_MODE_PROXY)
		pxe_config_add(b, "# proxyDHCP leases nothing: no lease file\nleasefile-ro\n");
	else if (c->lease_file)
		pxe_config_add(b, "dhcp-leasefile=%s\n", c->lease_file);
	if (c->user)
		pxe_config_add(b, "# started as root, it drops to this user once its ports are bound\n"
			       "user=%s\n", c->user);
}

static void pxe_config_addresses(const struct pxe_config *c, pxe_config_note_fn *note, void *ctx,
				 struct pxe_config_buf *b)
{
	const struct pxeopts *o = c->opts;
	char a[NETIF_ADDR_MAX], z[NETIF_ADDR_MAX], mask[NETIF_ADDR_MAX];

	if (c->mode == PXE_MODE_PROXY) {
		pxe_config_add(b, "#\n# proxyDHCP: the site's DHCP server hands out the addresses; this "
			       "adds the boot\n# information only (ports 67 and 4011).\n"
			       "dhcp-range=%s,proxy\n", netif_ntoa(c->net.net, a));
		return;
	}
	pxe_config_add(b, "#\n# The DHCP server of this segment: addresses from the range, and a "
		       "reserved one for each\n# machine of machines.conf with a MAC and ip=.\n"
		       "dhcp-range=%s,%s,%s,%s\ndhcp-authoritative\n", netif_ntoa(o->first, a),
		       netif_ntoa(o->last, z), netif_ntoa(c->net.mask, mask), o->lease);
	if (o->has_router)
		pxe_config_add(b, "dhcp-option=option:router,%s\n", netif_ntoa(o->router, a));
	else
		pxe_config_add(b, "# no pxe-router: no default gateway (not even this host)\n"
			       "dhcp-option=option:router\n");
	if (o->ndns) {
		pxe_config_add(b, "dhcp-option=option:dns-server");
		for (size_t i = 0; i < o->ndns; i++)
			pxe_config_add(b, ",%s", netif_ntoa(o->dns[i], a));
		pxe_config_add(b, "\n");
	}
	if (!pxe_config_hosts_file(c)) {
		pxe_config_reservations(c, note, ctx, "dhcp-host=", NULL, b);
		return;
	}
	pxe_config_add(b, "# the reservations, one MAC,IP a line: when only they change, tinybootd "
		       "rewrites the file\n# and sends SIGHUP (no restart: TFTP transfers in flight go "
		       "on)\ndhcp-hostsfile=%s\n", c->hosts_file);
}

static void pxe_config_boot(const struct pxe_config *c, struct pxe_config_buf *b)
{
	char url[64], tftp[NETIF_ADDR_MAX], next[NETIF_ADDR_MAX + 2] = "";

	snprintf(url, sizeof(url), "http://%s:%u", netif_ntoa(c->server, tftp), c->http_port);
	netif_ntoa(c->net.addr, tftp);
	pxe_config_add(b, "#\n# Who asks: iPXE (user class iPXE, or its option 175), a legacy BIOS or "
		       "an x86_64 UEFI\n# PXE client (option 93: 0; 7 or 9), an x86_64 UEFI HTTP Boot "
		       "client (HTTPClient:Arch:00016).\n"
		       "dhcp-userclass=set:ipxe,iPXE\n"
		       "dhcp-match=set:ipxe,175\n"
		       "dhcp-match=set:bios,option:client-arch,0\n"
		       "dhcp-match=set:efi64,option:client-arch,7\n"
		       "dhcp-match=set:efi64,option:client-arch,9\n"
		       "dhcp-vendorclass=set:efihttp,HTTPClient:Arch:00016\n");
	if (c->mode == PXE_MODE_PROXY)
		pxe_config_add(b, "# answer HTTP Boot clients too (proxyDHCP answers PXEClient only "
			       "by default)\ndhcp-pxe-vendor=PXEClient,HTTPClient\n");
	/* a proxy reply needs siaddr, or Debian's iPXE ignores it ("Nothing to boot") */
	if (c->mode == PXE_MODE_PROXY)
		snprintf(next, sizeof(next), ",,%s", tftp);
	pxe_config_add(b, "#\n# iPXE gets tinyboot's boot script over HTTP and never uses TFTP.\n"
		       "dhcp-boot=tag:ipxe,%s/boot.ipxe%s\n", url, next);
	pxe_config_add(b, "# UEFI HTTP Boot gets iPXE from tinybootd over HTTP, no TFTP at all.\n"
		       "dhcp-boot=tag:efihttp,tag:!ipxe,%s/pxe/" PXE_CONFIG_EFI_HTTP "%s\n"
		       "dhcp-option-force=tag:efihttp,60,HTTPClient\n", url, next);
	pxe_config_add(b, "# Firmware PXE loads iPXE over TFTP first: " PXE_CONFIG_BIOS " (BIOS), "
		       PXE_CONFIG_EFI " (UEFI).\n");
	if (c->mode == PXE_MODE_PROXY)
		pxe_config_add(b, "pxe-service=tag:!ipxe,x86PC,\"tinyboot BIOS\"," PXE_CONFIG_BIOS "\n"
			       "pxe-service=tag:!ipxe,tag:!efihttp,x86-64_EFI,\"tinyboot UEFI\","
			       PXE_CONFIG_EFI "\n"
			       "pxe-service=tag:!ipxe,tag:!efihttp,BC_EFI,\"tinyboot UEFI\","
			       PXE_CONFIG_EFI "\n"
			       "# the BIOS file in the offer too, for clients that skip the menu\n"
			       "dhcp-boot=tag:bios,tag:!ipxe," PXE_CONFIG_BIOS ",,%s\n", tftp);
	else
		pxe_config_add(b, "dhcp-boot=tag:efi64,tag:!ipxe," PXE_CONFIG_EFI "\n"
			       "dhcp-boot=tag:bios,tag:!ipxe," PXE_CONFIG_BIOS "\n");
}

static void pxe_config_tftp(const struct pxe_config *c, struct pxe_config_buf *b)
{
	const char *ifname = c->opts->ifname;

	if (c->own)
		pxe_config_add(b, "#\n# TFTP on %s: the boot programs tinybootd copied, nothing else; "
			       "tftp-secure serves\n# only files owned by the user dnsmasq runs as.\n"
			       "enable-tftp=%s\ntftp-root=%s\ntftp-secure\n", ifname, ifname, c->tftp_root);
	else
		pxe_config_add(b, "#\n# TFTP on %s from Debian's ipxe package. Add tftp-secure once "
			       "the files are owned by\n# the user your dnsmasq runs as (as root it "
			       "serves world-readable files only).\n"
			       "enable-tftp=%s\ntftp-root=%s\n", ifname, ifname, c->tftp_root);
	if (c->own && c->log_dhcp)
		pxe_config_add(b, "# tinybootd logs at debug: every DHCP packet's options\nlog-dhcp\n");
}

/* The text built in b to *out, or its first failure (what says what was built, for err). */
static int pxe_config_finish(struct pxe_config_buf *b, char **out, const char *what, char *err,
			     size_t errlen)
{
	if (!b->rc && !b->data)
		b->rc = -ENOMEM;
	if (b->rc) {
		free(b->data);
		if (err)
			snprintf(err, errlen, "cannot build the %s: %s", what, strerror(-b->rc));
		return b->rc;
	}
	*out = b->data;
	return 0;
}

int pxe_config_render(const struct pxe_config *c, pxe_config_note_fn *note, void *ctx, char **out,
		      char *err, size_t errlen)
{
	struct pxe_config_buf b = { .rc = 0 };
	int rc;

	*out = NULL;
	rc = pxe_config_check(c, err, errlen);
	if (rc)
		return rc;
	pxe_config_head(c, &b);
	pxe_config_addresses(c, note, ctx, &b);
	pxe_config_boot(c, &b);
	pxe_config_tftp(c, &b);
	return pxe_config_finish(&b, out, "dnsmasq configuration", err, errlen);
}

int pxe_config_hosts(const struct pxe_config *c, pxe_config_note_fn *note, void *ctx, char **out,
		     size_t *count, char *err, size_t errlen)
{
	struct pxe_config_buf b = { .rc = 0 };
	int rc;

	*out = NULL;
	*count = 0;
	rc = pxe_config_check(c, err, errlen);
	if (rc)
		return rc;
	if (c->mode != PXE_MODE_DHCP) {
		snprintf(err, errlen, "pxe: reservations are made in dhcp mode only");
		return -EINVAL;
	}
	pxe_config_add(&b, "# DHCP reservations of tinyboot's PXE service (MAC,IP) from machines.conf, "
		       "written by tinybootd\n# on every start and SIGHUP; dnsmasq reads it again on "
		       "SIGHUP.\n");
	pxe_config_reservations(c, note, ctx, "", count, &b);
	rc = pxe_config_finish(&b, out, "DHCP reservations", err, errlen);
	if (rc)
		*count = 0;
	return rc;
}

int pxe_config_shown(const char *conf, const char *hosts_file, const char *hosts, char **out)
{
	struct pxe_config_buf b = { .rc = 0 };

	*out = NULL;
	pxe_config_add(&b, "%s#\n# %s (dhcp-hostsfile), as tinybootd wrote it:\n", conf, hosts_file);
	for (const char *line = hosts; *line;) {
		size_t len = strcspn(line, "\n");

		pxe_config_add(&b, "%s%.*s\n", line[0] == '#' ? "" : "# ", (int)len, line);
		line += len + (line[len] == '\n');
	}
	return pxe_config_finish(&b, out, "configuration shown", NULL, 0);
}
