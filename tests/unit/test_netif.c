/* test_netif.c - lib/netif.c (interface names, an interface's IPv4 network, bound UDP ports) and
 * lib/caps.c (what a child would inherit). */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/caps.h"
#include "lib/netif.h"

static void test_names(void **state)
{
	static const char *const good[] = { "eth0", "br0", "enp0s31f6", "br-lab.10", "a", "x_y",
					    "fifteen-bytes-x" };
	static const char *const bad[] = { "", ".", "..", "eth0:1", "eth 0", "eth0,lo", "eth0\n",
					   "sixteen-bytes-xx", "eth0#", "eth0\"", "eth/0" };

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(netif_name_valid(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (netif_name_valid(bad[i]))
			fail_msg("'%s' accepted", bad[i]);
}

static void test_loopback(void **state)
{
	struct netif_ipv4 n;
	struct in_addr a;
	char buf[NETIF_ADDR_MAX];

	(void)state;
	assert_int_equal(netif_ipv4("lo", &n), 0);
	assert_string_equal(netif_ntoa(n.addr, buf), "127.0.0.1");
	assert_string_equal(netif_ntoa(n.mask, buf), "255.0.0.0");
	assert_string_equal(netif_ntoa(n.net, buf), "127.0.0.0");
	assert_int_equal(n.prefix, 8);
	assert_true(netif_has_addr("lo", n.addr));
	assert_int_equal(netif_aton("127.9.9.9", &a), 0);
	assert_true(netif_in_net(a, n.net, n.mask));
	assert_false(netif_has_addr("lo", a));
	assert_int_equal(netif_aton("10.0.0.1", &a), 0);
	assert_false(netif_in_net(a, n.net, n.mask));
	assert_int_equal(netif_ipv4("nosuch0", &n), -ENODEV);
	assert_int_equal(netif_ipv4("bad name", &n), -ENODEV);
	assert_int_equal(netif_aton("1.2.3", &a), -EINVAL);
	assert_int_equal(netif_aton("1.2.3.4 ", &a), -EINVAL);
}

static void test_udp_port_bound(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	unsigned port;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	assert_int_equal(netif_udp_port_bound(port), 1);
	close(fd);
	assert_int_equal(netif_udp_port_bound(port), 0);
}

static void test_caps(void **state)
{
	static const int caps[] = { CAP_NET_BIND_SERVICE, CAP_NET_RAW, CAP_NET_ADMIN };
	char missing[128];
	int rc;

	(void)state;
	rc = caps_child_check(caps, 3, missing, sizeof(missing));
	if (geteuid() == 0 && caps_child_has(CAP_NET_ADMIN) && caps_child_has(CAP_NET_RAW) &&
	    caps_child_has(CAP_NET_BIND_SERVICE)) {
		assert_int_equal(rc, 0);
		assert_string_equal(missing, "");
	} else {
		assert_int_equal(rc, -EPERM);
		assert_non_null(strstr(missing, "CAP_"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_udp_port_bound),
		cmocka_unit_test(test_caps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
