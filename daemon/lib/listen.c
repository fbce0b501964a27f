/* listen.c - create, bind or inherit the listening socket. */
#include "lib/listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"

#define LISTEN_BACKLOG 1024
#define SD_LISTEN_FDS_START 3

int listen_parse(const char *spec, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *port_str;
	char *end;
	unsigned long port;
	size_t hostlen;

	memset(ss, 0, sizeof(*ss));
	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		hostlen = (size_t)(close - spec - 1);
		if (hostlen >= sizeof(host))
			return -EINVAL;
		memcpy(host, spec + 1, hostlen);
		port_str = close + 2;
	} else {
		colon = strrchr(spec, ':');
		if (!colon)
			return -EINVAL;
		hostlen = (size_t)(colon - spec);
		if (hostlen >= sizeof(host))
			return -EINVAL;
		memcpy(host, spec, hostlen);
		port_str = colon + 1;
	}
	host[hostlen] = '\0';
	if (!*port_str || *port_str == '-' || *port_str == '+')
		return -EINVAL;
	errno = 0;
	port = strtoul(port_str, &end, 10);
	if (errno || *end || port > 65535)
		return -EINVAL;

	if (strcmp(host, "*") == 0 || host[0] == '\0') {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_any;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*sin6);
		return 0;
	}
	if (strchr(host, ':')) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return -EINVAL;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*sin6);
		return 0;
	}
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		return -EINVAL;
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	*len = sizeof(*sin);
	return 0;
}

int listen_format(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];
	int n;

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		n = snprintf(buf, len, "[%s]:%u", host, ntohs(sin6->sin6_port));
	} else {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		n = snprintf(buf, len, "%s:%u", host, ntohs(sin->sin_port));
	}
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* systemd socket activation without libsystemd: the protocol is two variables. */
static int listen_inherited(void)
{
	const char *pid = getenv("LISTEN_PID");
	const char *fds = getenv("LISTEN_FDS");

	if (!pid || !fds || strtol(pid, NULL, 10) != (long)getpid())
		return -1;
	if (strtol(fds, NULL, 10) != 1) {
		log_warnx("LISTEN_FDS=%s: expected exactly one socket, ignoring", fds);
		return -1;
	}
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	fcntl(SD_LISTEN_FDS_START, F_SETFD, FD_CLOEXEC);
	return SD_LISTEN_FDS_START;
}

int listen_open(const char *spec, char *bound, size_t boundlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, rc;

	fd = listen_inherited();
	if (fd < 0) {
		if (listen_parse(spec, &ss, &len)) {
			log_error("listen: '%s' is not ADDR:PORT", spec);
			return -EINVAL;
		}
		fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			rc = -errno;
			log_warn("listen: socket");
			return rc;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
			rc = -errno;
			log_warn("listen: bind %s", spec);
			close(fd);
			return rc;
		}
	} else {
		int flags = fcntl(fd, F_GETFL);

		if (flags >= 0)
			fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	}
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0 ||
	    listen_format(&ss, bound, boundlen) < 0) {
		rc = -errno ? -errno : -EINVAL;
		log_warn("listen: getsockname");
		close(fd);
		return rc;
	}
	return fd;
}
