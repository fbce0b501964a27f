/* loopback.h - is an address this host's own loopback: 127.0.0.0/8, ::1, ::ffff:127.0.0.0/104. */
#ifndef TINYBOOT_LOOPBACK_H
#define TINYBOOT_LOOPBACK_H

#include <stdbool.h>
#include <sys/socket.h>

/* NULL, a family other than IPv4/IPv6, or a wildcard address (0.0.0.0, ::) is not loopback. */
bool loopback_is(const struct sockaddr *sa);

#endif
