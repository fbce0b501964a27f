/* pxe_setup.h - from tinybootd's options and this host to a running PXE service: the
 * interface's address, dnsmasq's path, privileges, the TFTP root, the configuration file; and
 * the checks that make a bad set-up say what to do (tinybootd -n runs them, writing nothing). */
#ifndef TINYBOOT_BOOT_PXE_SETUP_H
#define TINYBOOT_BOOT_PXE_SETUP_H

#include <stdbool.h>
#include <stddef.h>

#include "conf/options.h"

struct machines;
struct pxe_service;

/* Where the service keeps its files in the state directory (tinybootd.c asks the store). */
struct pxe_paths {
	const char *conf;   /* dnsmasq's configuration file */
	const char *leases; /* its lease file */
	const char *hosts;  /* its DHCP reservations (dhcp-hostsfile=), beside conf */
	const char *tftp;   /* the TFTP root */
};

/*
 * Errors of the functions below, with err saying what to do:
 *   -EINVAL  a setting (pxe = dhcp without pxe-range, listen unreachable from the lab, a path
 *            dnsmasq cannot hold), -ERANGE an address outside the interface's subnet,
 *   -ENODEV  no such interface, -EADDRNOTAVAIL no IPv4 address on it,
 *   -ENOENT  dnsmasq or the boot programs not installed, -EPERM capabilities missing,
 *   -EIO     dnsmasq failed to start or refused the configuration (its reason, translated),
 *   -ETIMEDOUT it did not report start-up, other -errno from the disk.
 */

/* tinybootd -n: every check, and `dnsmasq --test` on the configuration (fed on stdin). Nothing
 * is written. listen is the configured ADDR:PORT (port 0: any). pxe = off: 0. */
int pxe_setup_check(const struct options *o, const struct machines *m, const char *listen,
		    const struct pxe_paths *paths, char *err, size_t errlen);

/* Start and SIGHUP: configure svc and (re)start dnsmasq, or halt it for pxe = off. listen is
 * the address HTTP is bound to. wait: as pxe_service_run. In dhcp mode the reservations go to
 * paths->hosts: when only they changed, the running dnsmasq gets SIGHUP and reads them again
 * instead of a restart. The boot programs are copied into the TFTP root in every mode (they are
 * served under /pxe/ too); with pxe = off quietly, and only when pxe-boot-programs holds them. */
int pxe_setup_apply(struct pxe_service *svc, const struct options *o, const struct machines *m,
		    const char *listen, const struct pxe_paths *paths, bool wait, char *err,
		    size_t errlen);

/* With pxe = off: the lines for a dnsmasq of the admin's own (proxy mode; dhcp mode when
 * pxe-range is set), with the TFTP root in pxe-boot-programs. -ENOENT when pxe-interface is
 * not set; other errors as above. *text is malloc'd. */
int pxe_setup_example(const struct options *o, const struct machines *m, const char *listen,
		      char **text, char *err, size_t errlen);

#endif
