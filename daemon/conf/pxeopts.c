/* pxeopts.c - PXE option values: mode, interface, addresses, range, lease time, paths. */
#include "conf/pxeopts.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conffile.h"
#include "lib/names.h"

static const char *const pxeopts_modes[] = {
	[PXE_MODE_OFF] = "off",
	[PXE_MODE_PROXY] = "proxy",
	[PXE_MODE_DHCP] = "dhcp",
};

const char *pxeopts_mode_name(enum pxe_mode mode)
{
	return (unsigned)mode <= PXE_MODE_DHCP ? pxeopts_modes[mode] : "?";
}

static int pxeopts_mode_parse(const char *value, enum pxe_mode *mode)
{
	for (unsigned i = 0; i <= PXE_MODE_DHCP; i++) {
		if (strcmp(value, pxeopts_modes[i]) == 0) {
			*mode = (enum pxe_mode)i;
			return 0;
		}
	}
	return -EINVAL;
}

int pxeopts_check_mode(const char *value, char *err, size_t errlen)
{
	char shown[CONFFILE_SHOWN_MAX + 4];
	enum pxe_mode mode;

	if (pxeopts_mode_parse(value, &mode) == 0)
		return 0;
	snprintf(err, errlen, "'%s' is not one of off, proxy, dhcp", conffile_shown(value, shown));
	return -EINVAL;
}

int pxeopts_check_interface(const char *value, char *err, size_t errlen)
{
	char shown[CONFFILE_SHOWN_MAX + 4];
	if (netif_name_valid(value))
		return 0;
	snprintf(err, errlen, "'%s' is not an interface name (1-%d of A-Z a-z 0-9 _ . -)",
		 conffile_shown(value, shown), NETIF_NAME_MAX);
	return -EINVAL;
}

int pxeopts_check_address(const char *value, char *err, size_t errlen)
{
	char shown[CONFFILE_SHOWN_MAX + 4];
	struct in_addr a;

	if (netif_aton(value, &a) == 0)
		return 0;
	snprintf(err, errlen, "'%s' is not an IPv4 address (192.0.2.1)", conffile_shown(value, shown));
	return -EINVAL;
}

/* "FIRST,LAST" (spaces around the comma allowed) into two addresses, first <= last. */
static int pxeopts_range_parse(const char *value, struct in_addr *first, struct in_addr *last)
{
	char buf[64], *comma;

	if (strlen(value) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, value);
	comma = strchr(buf, ',');
	if (!comma)
		return -EINVAL;
	*comma = '\0';
	if (netif_aton(names_trim(buf), first) || netif_aton(names_trim(comma + 1), last))
		return -EINVAL;
	return ntohl(first->s_addr) <= ntohl(last->s_addr) ? 0 : -ERANGE;
}

int pxeopts_check_range(const char *value, char *err, size_t errlen)
{
	char shown[CONFFILE_SHOWN_MAX + 4];
	struct in_addr first, last;
	int rc = pxeopts_range_parse(value, &first, &last);

	if (rc == -ERANGE)
		snprintf(err, errlen, "'%s': the first address comes after the last",
			 conffile_shown(value, shown));
	else if (rc)
		snprintf(err, errlen, "'%s' is not FIRST,LAST (192.0.2.100,192.0.2.199)",
			 conffile_shown(value, shown));
	return rc ? -EINVAL : 0;
}

/* dnsmasq's lease time: seconds, or a number with s, m, h, d or w; "infinite". At least two
 * minutes (dnsmasq's floor), at most a year. */
static int pxeopts_lease_seconds(const char *value, uint64_t *secs)
{
	static const struct {
		char suffix;
		uint64_t mult;
	} units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 }, { 'w', 604800 } };
	size_t digits = strspn(value, "0123456789");
	uint64_t n = 0, mult = 0;

	if (strcmp(value, "infinite") == 0) {
		*secs = UINT64_MAX;
		return 0;
	}
	if (digits == 0 || digits > 8)
		return -EINVAL;
	if (value[digits] == '\0')
		mult = 1;
	else if (value[digits + 1] == '\0')
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (value[digits] == units[i].suffix)
				mult = units[i].mult;
	if (!mult)
		return -EINVAL;
	for (size_t i = 0; i < digits; i++)
		n = n * 10 + (uint64_t)(value[i] - '0');
	*secs = n * mult;
	return *secs >= 120 && *secs <= 366 * 86400ULL ? 0 : -ERANGE;
}

int pxeopts_check_lease(const char *value, char *err, size_t errlen)
{
	char shown[CONFFILE_SHOWN_MAX + 4];
	uint64_t secs;
	int rc = pxeopts_lease_seconds(value, &secs);

	if (rc == -ERANGE)
		snprintf(err, errlen, "'%s' is not between 2m and 366d", conffile_shown(value, shown));
	else if (rc)
		snprintf(err, errlen, "'%s' is not a lease time (3600, 45m, 12h, 2d, 1w or infinite)",
			 conffile_shown(value, shown));
	return rc ? -EINVAL : 0;
}

/* "A[,B[,C]]" into dns[]. */
static int pxeopts_dns_parse(const char *value, struct in_addr dns[PXEOPTS_DNS_MAX], size_t *n)
{
	char buf[128], *p, *save = NULL;

	if (strlen(value) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, value);
	*n = 0;
	for (p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		if (*n == PXEOPTS_DNS_MAX || netif_aton(names_trim(p), &dns[*n]))
			return -EINVAL;
		(*n)++;
	}
	return *n ? 0 : -EINVAL;
}

int pxeopts_check_dns(const char *value, char *err, size_t errlen)
{
	char shown[CONFFILE_SHOWN_MAX + 4];
	struct in_addr dns[PXEOPTS_DNS_MAX];
	size_t n;

	if (pxeopts_dns_parse(value, dns, &n) == 0)
		return 0;
	snprintf(err, errlen, "'%s' is not 1 to %d IPv4 addresses separated by commas",
		 conffile_shown(value, shown), PXEOPTS_DNS_MAX);
	return -EINVAL;
}

bool pxeopts_path_valid(const char *path)
{
	return path[0] == '/' && names_charset(path, PXEOPTS_PATH_MAX, NAMES_ALNUM, "/._+@%=:~-");
}

int pxeopts_check_path(const char *value, char *err, size_t errlen)
{
	char shown[CONFFILE_SHOWN_MAX + 4];
	if (pxeopts_path_valid(value))
		return 0;
	snprintf(err, errlen, "'%s' is not an absolute path of A-Z a-z 0-9 / . _ + @ %% = : ~ - "
		 "(a dnsmasq configuration cannot hold other bytes safely)", conffile_shown(value, shown));
	return -EINVAL;
}

int pxeopts_check_program(const char *value, char *err, size_t errlen)
{
	char shown[CONFFILE_SHOWN_MAX + 4];
	for (const char *p = value; *p; p++) {
		if (*p <= ' ' || *p > '~') {
			snprintf(err, errlen, "'%s' holds a space or a control byte",
				 conffile_shown(value, shown));
			return -EINVAL;
		}
	}
	return 0;
}

int pxeopts_parse(const struct options *o, struct pxeopts *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	/* every value passed its check when it was set: these parse */
	if (pxeopts_mode_parse(o->pxe ? o->pxe : "off", &out->mode)) {
		snprintf(err, errlen, "pxe: bad mode");
		return -EINVAL;
	}
	if (o->pxe_interface) {
		if (!netif_name_valid(o->pxe_interface)) {
			snprintf(err, errlen, "pxe-interface: bad name");
			return -EINVAL;
		}
		strcpy(out->ifname, o->pxe_interface);
	}
	if (o->pxe_server_address) {
		if (netif_aton(o->pxe_server_address, &out->server)) {
			snprintf(err, errlen, "pxe-server-address: bad address");
			return -EINVAL;
		}
		out->has_server = true;
	}
	if (o->pxe_range) {
		if (pxeopts_range_parse(o->pxe_range, &out->first, &out->last)) {
			snprintf(err, errlen, "pxe-range: bad range");
			return -EINVAL;
		}
		out->has_range = true;
	}
	snprintf(out->lease, sizeof(out->lease), "%s", o->pxe_lease_time ? o->pxe_lease_time : "1h");
	if (o->pxe_router) {
		if (netif_aton(o->pxe_router, &out->router)) {
			snprintf(err, errlen, "pxe-router: bad address");
			return -EINVAL;
		}
		out->has_router = true;
	}
	if (o->pxe_dns && pxeopts_dns_parse(o->pxe_dns, out->dns, &out->ndns)) {
		snprintf(err, errlen, "pxe-dns: bad addresses");
		return -EINVAL;
	}
	if (out->mode != PXE_MODE_OFF && !out->ifname[0]) {
		snprintf(err, errlen, "pxe = %s needs pxe-interface = NAME (the interface on the lab "
			 "network, e.g. eth1)", pxeopts_mode_name(out->mode));
		return -EINVAL;
	}
	if (out->mode == PXE_MODE_DHCP && !out->has_range) {
		snprintf(err, errlen, "pxe = dhcp needs pxe-range = FIRST,LAST (the addresses to lease, "
			 "e.g. 192.0.2.100,192.0.2.199)");
		return -EINVAL;
	}
	return 0;
}
