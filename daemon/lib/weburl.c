/* weburl.c - check a host and a base URL before either may reach an iPXE script or a config. */
#include "lib/weburl.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#define WEBURL_ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
/* a host name or IPv4 address; an IPv6 address comes in brackets and is checked on its own */
#define WEBURL_HOST_CHARS WEBURL_ALNUM ".-_"
#define WEBURL_IPV6_CHARS "0123456789abcdefABCDEF:."
#define WEBURL_PATH_CHARS WEBURL_ALNUM "./_-"

/* The first n bytes of s are 1..max bytes, all from allowed. */
static bool weburl_span_ok(const char *s, size_t n, size_t max, const char *allowed)
{
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!s[i] || !strchr(allowed, s[i]))
			return false;
	return true;
}

/* ":PORT" or nothing; PORT is 1..65535 in at most five digits. */
static bool weburl_port_ok(const char *p)
{
	unsigned long port = 0;
	size_t n;

	if (*p == '\0')
		return true;
	if (*p++ != ':')
		return false;
	for (n = 0; p[n]; n++) {
		if (n >= 5 || p[n] < '0' || p[n] > '9')
			return false;
		port = port * 10 + (unsigned long)(p[n] - '0');
	}
	return n > 0 && port >= 1 && port <= 65535;
}

bool weburl_host_valid(const char *host)
{
	const char *end;

	if (!host || strlen(host) > WEBURL_HOST_MAX)
		return false;
	if (host[0] == '[') {
		char addr[INET6_ADDRSTRLEN];
		struct in6_addr a;
		size_t n;

		end = strchr(host, ']');
		if (!end)
			return false;
		n = (size_t)(end - host - 1);
		/* no zone ("%eth0"): it would name an interface of the guest's, not ours */
		if (!weburl_span_ok(host + 1, n, sizeof(addr) - 1, WEBURL_IPV6_CHARS))
			return false;
		memcpy(addr, host + 1, n);
		addr[n] = '\0';
		return inet_pton(AF_INET6, addr, &a) == 1 && weburl_port_ok(end + 1);
	}
	end = strchr(host, ':');
	if (!end)
		end = host + strlen(host);
	/* a leading '-' could read as an option, a leading '.' is no name */
	return host[0] != '-' && host[0] != '.' &&
	       weburl_span_ok(host, (size_t)(end - host), WEBURL_HOST_NAME_MAX, WEBURL_HOST_CHARS) &&
	       weburl_port_ok(end);
}

bool weburl_base_valid(const char *url)
{
	char host[WEBURL_HOST_MAX + 1];
	const char *path;
	size_t n;

	if (!url || strlen(url) > WEBURL_MAX)
		return false;
	if (strncmp(url, "http://", 7) == 0)
		url += 7;
	else if (strncmp(url, "https://", 8) == 0)
		url += 8;
	else
		return false;
	path = strchr(url, '/');
	n = path ? (size_t)(path - url) : strlen(url);
	if (n == 0 || n > WEBURL_HOST_MAX)
		return false;
	memcpy(host, url, n);
	host[n] = '\0';
	if (!weburl_host_valid(host))
		return false;
	/* paths are appended with their own leading '/' */
	return !path || (weburl_span_ok(path, strlen(path), WEBURL_MAX, WEBURL_PATH_CHARS) &&
			 path[strlen(path) - 1] != '/');
}
