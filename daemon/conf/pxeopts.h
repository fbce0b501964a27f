/* pxeopts.h - the PXE settings of tinybootd.conf: each value checked as the option table reads
 * it, then the set checked as a whole and turned into addresses. */
#ifndef TINYBOOT_CONF_PXEOPTS_H
#define TINYBOOT_CONF_PXEOPTS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include "conf/options.h"
#include "lib/netif.h"

#define PXEOPTS_DNS_MAX 3
#define PXEOPTS_LEASE_MAX 15
#define PXEOPTS_PATH_MAX 1000 /* a dnsmasq configuration line holds at most 1024 bytes */

enum pxe_mode { PXE_MODE_OFF, PXE_MODE_PROXY, PXE_MODE_DHCP };

struct pxeopts {
	enum pxe_mode mode;
	char ifname[NETIF_NAME_MAX + 1]; /* "" when not set */
	bool has_server;
	struct in_addr server;           /* pxe-server-address */
	bool has_range;
	struct in_addr first, last;      /* pxe-range, first <= last */
	char lease[PXEOPTS_LEASE_MAX + 1]; /* pxe-lease-time as dnsmasq spells it: 3600, 45m, 1h, infinite */
	bool has_router;
	struct in_addr router;
	size_t ndns;
	struct in_addr dns[PXEOPTS_DNS_MAX];
};

/* The option table's checks (conf/options.c), one per kind of value: 0, or -EINVAL with what
 * is wanted in err (the caller adds the option's name and file:line). */
int pxeopts_check_mode(const char *value, char *err, size_t errlen);
int pxeopts_check_interface(const char *value, char *err, size_t errlen);
int pxeopts_check_address(const char *value, char *err, size_t errlen);
int pxeopts_check_range(const char *value, char *err, size_t errlen);
int pxeopts_check_lease(const char *value, char *err, size_t errlen);
int pxeopts_check_dns(const char *value, char *err, size_t errlen);
/* A path that may be written into a dnsmasq configuration: absolute, at most PXEOPTS_PATH_MAX
 * bytes of [A-Za-z0-9/._+@%=:~-], so no comma, quote, '#', space or newline can split a line. */
bool pxeopts_path_valid(const char *path);
int pxeopts_check_path(const char *value, char *err, size_t errlen);
/* A program name or path (pxe-dnsmasq): printable ASCII, no spaces. */
int pxeopts_check_program(const char *value, char *err, size_t errlen);

const char *pxeopts_mode_name(enum pxe_mode mode);
/* The PXE settings of o, each parsed, then together: proxy and dhcp need pxe-interface; dhcp
 * needs pxe-range. 0, or -EINVAL with err. */
int pxeopts_parse(const struct options *o, struct pxeopts *out, char *err, size_t errlen);

#endif
