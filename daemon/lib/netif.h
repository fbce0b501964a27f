/* netif.h - network interfaces: a valid name, an interface's IPv4 address and network, who
 * holds a UDP port. */
#ifndef TINYBOOT_NETIF_H
#define TINYBOOT_NETIF_H

#include <netinet/in.h>
#include <stdbool.h>

#define NETIF_NAME_MAX 15 /* IFNAMSIZ - 1 */
#define NETIF_ADDR_MAX 16 /* "255.255.255.255" and its NUL */

struct netif_ipv4 {
	struct in_addr addr; /* the interface's address */
	struct in_addr mask;
	struct in_addr net;  /* addr & mask */
	unsigned prefix;     /* bits set in mask */
};

/* 1..NETIF_NAME_MAX bytes of [A-Za-z0-9_.-], not "." or "..": what Linux allows, minus every
 * byte a config file (dnsmasq's or ours) would split on or treat as a comment. */
bool netif_name_valid(const char *name);
/* The first IPv4 address of interface name (getifaddrs order). 0, -ENODEV when there is no such
 * interface, -EADDRNOTAVAIL when it has no IPv4 address, or another -errno. */
int netif_ipv4(const char *name, struct netif_ipv4 *out);
/* Does interface name hold the address addr? */
bool netif_has_addr(const char *name, struct in_addr addr);
/* a lies in the network net/mask. */
bool netif_in_net(struct in_addr a, struct in_addr net, struct in_addr mask);
/* Dotted quad of a into buf (NETIF_ADDR_MAX bytes); returns buf. */
const char *netif_ntoa(struct in_addr a, char buf[NETIF_ADDR_MAX]);
/* Strict dotted quad (inet_pton): 0 or -EINVAL. */
int netif_aton(const char *s, struct in_addr *a);
/* Is UDP port bound by some socket of this network namespace (/proc/net/udp, udp6)? 1 yes,
 * 0 no, -errno when the tables cannot be read. */
int netif_udp_port_bound(unsigned port);

#endif
