/* netif.c - interface names, IPv4 addresses by getifaddrs, bound UDP ports from /proc/net. */
#include "lib/netif.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "lib/names.h"

bool netif_name_valid(const char *name)
{
	return names_charset(name, NETIF_NAME_MAX, NAMES_ALNUM, "_.-") && strcmp(name, ".") != 0 &&
	       strcmp(name, "..") != 0;
}

static unsigned netif_prefix(struct in_addr mask)
{
	return (unsigned)__builtin_popcount(mask.s_addr);
}

int netif_ipv4(const char *name, struct netif_ipv4 *out)
{
	struct ifaddrs *list, *ifa;
	int rc = -EADDRNOTAVAIL;

	if (!netif_name_valid(name))
		return -ENODEV;
	if (getifaddrs(&list) < 0)
		return -errno;
	for (ifa = list; ifa; ifa = ifa->ifa_next) {
		if (!ifa->ifa_addr || ifa->ifa_addr->sa_family != AF_INET || !ifa->ifa_netmask ||
		    strcmp(ifa->ifa_name, name) != 0)
			continue;
		out->addr = ((const struct sockaddr_in *)(const void *)ifa->ifa_addr)->sin_addr;
		out->mask = ((const struct sockaddr_in *)(const void *)ifa->ifa_netmask)->sin_addr;
		out->net.s_addr = out->addr.s_addr & out->mask.s_addr;
		out->prefix = netif_prefix(out->mask);
		rc = 0;
		break;
	}
	freeifaddrs(list);
	if (rc == -EADDRNOTAVAIL && if_nametoindex(name) == 0)
		rc = -ENODEV;
	return rc;
}

bool netif_has_addr(const char *name, struct in_addr addr)
{
	struct ifaddrs *list, *ifa;
	bool found = false;

	if (getifaddrs(&list) < 0)
		return false;
	for (ifa = list; ifa && !found; ifa = ifa->ifa_next)
		found = ifa->ifa_addr && ifa->ifa_addr->sa_family == AF_INET &&
			strcmp(ifa->ifa_name, name) == 0 &&
			((const struct sockaddr_in *)(const void *)ifa->ifa_addr)->sin_addr.s_addr == addr.s_addr;
	freeifaddrs(list);
	return found;
}

bool netif_in_net(struct in_addr a, struct in_addr net, struct in_addr mask)
{
	return (a.s_addr & mask.s_addr) == (net.s_addr & mask.s_addr);
}

const char *netif_ntoa(struct in_addr a, char buf[NETIF_ADDR_MAX])
{
	if (!inet_ntop(AF_INET, &a, buf, NETIF_ADDR_MAX))
		snprintf(buf, NETIF_ADDR_MAX, "0.0.0.0");
	return buf;
}

int netif_aton(const char *s, struct in_addr *a)
{
	return inet_pton(AF_INET, s, a) == 1 ? 0 : -EINVAL;
}

/* One /proc/net/udp* table: "sl local_address:port rem_address ..." with the port in hex. */
static int netif_udp_table(const char *path, unsigned port)
{
	char line[512];
	int found = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return errno == ENOENT ? 0 : -errno;
	if (!fgets(line, sizeof(line), f)) { /* the header */
		fclose(f);
		return 0;
	}
	while (!found && fgets(line, sizeof(line), f)) {
		char local[80];
		unsigned p;
		char *colon;

		if (sscanf(line, "%*s %79s", local) != 1 || !(colon = strrchr(local, ':')))
			continue;
		if (sscanf(colon + 1, "%x", &p) == 1 && p == port)
			found = 1;
	}
	fclose(f);
	return found;
}

int netif_udp_port_bound(unsigned port)
{
	int rc = netif_udp_table("/proc/net/udp", port);

	if (rc == 0)
		rc = netif_udp_table("/proc/net/udp6", port);
	return rc;
}
