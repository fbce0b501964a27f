/* pxe_config.h - the dnsmasq configuration of the PXE service, made from tinyboot's settings
 * alone (no I/O): the daemon runs it, `tinyboot pxe-config` prints it, tests compare it. */
#ifndef TINYBOOT_BOOT_PXE_CONFIG_H
#define TINYBOOT_BOOT_PXE_CONFIG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include "conf/pxeopts.h"
#include "lib/netif.h"

struct machines;

/* The boot programs (Debian's ipxe package), by who asks for them. */
#define PXE_CONFIG_BIOS "undionly.kpxe"   /* legacy BIOS PXE, over TFTP */
#define PXE_CONFIG_EFI "snponly.efi"      /* x86_64 UEFI PXE, over TFTP */
#define PXE_CONFIG_EFI_HTTP "ipxe.efi"    /* UEFI HTTP Boot, over HTTP from /pxe/ */

struct pxe_config {
	const struct pxeopts *opts;  /* interface, range, lease time, router, DNS */
	enum pxe_mode mode;          /* proxy or dhcp (opts->mode may be off for an example) */
	struct netif_ipv4 net;       /* the interface's address (TFTP, proxyDHCP) and network */
	struct in_addr server;       /* in the boot URLs: tinybootd's HTTP side */
	unsigned http_port;
	const char *tftp_root;       /* written as tftp-root= */
	bool own;                    /* tinybootd runs it: lease file, no pid file, tftp-secure,
	                              * user; else an example for a dnsmasq of the admin's own */
	const char *lease_file;      /* own: dhcp-leasefile= */
	const char *user;            /* own: user= (the uid dnsmasq drops to when started as root);
	                              * NULL: no line (dnsmasq keeps the uid it was started with) */
	bool log_dhcp;               /* log-dhcp: every DHCP packet's options (debug) */
	const struct machines *machines; /* dhcp mode: reservations by MAC; may be NULL */
	const char *hosts_file;      /* own, dhcp mode: the reservations live in this file
	                              * (dhcp-hostsfile=, see pxe_config_hosts), so a change of
	                              * them needs a SIGHUP, not a restart; NULL: dhcp-host= lines */
	const char *listen_note;     /* a comment line to add (e.g. tinybootd is not reachable) */
};

/* A reservation left out, and why ("machine lab1 (52:54:..): ip 10.0.2.15 is outside ..."). */
typedef void pxe_config_note_fn(void *ctx, const char *note);

/* The configuration text in *out (malloc'd, NUL-terminated). Every value written is checked
 * first, so nothing can add a line or split a field: -EINVAL when a value cannot be written
 * safely (a path with a comma, a bad interface name), -ERANGE when an address is outside the
 * interface's subnet (range, router) or the range holds the interface's own address, -ENOMEM;
 * err says which. note (may be NULL) hears about each machine left without a reservation. */
int pxe_config_render(const struct pxe_config *c, pxe_config_note_fn *note, void *ctx, char **out,
		      char *err, size_t errlen);

/* dhcp mode: the reservations in dnsmasq's --dhcp-hostsfile format for c->hosts_file, one
 * "MAC,IP" a line (MAC and address checked and written back in canonical form), the machines
 * left out as comments; *count gets the number of reservations. Errors as pxe_config_render;
 * -EINVAL in proxy mode. */
int pxe_config_hosts(const struct pxe_config *c, pxe_config_note_fn *note, void *ctx, char **out,
		     size_t *count, char *err, size_t errlen);

/* What an admin is shown for a running service: the configuration conf, then the reservations
 * of hosts_file (its text hosts) as comments. *out is malloc'd; 0 or -ENOMEM. */
int pxe_config_shown(const char *conf, const char *hosts_file, const char *hosts, char **out);

#endif
