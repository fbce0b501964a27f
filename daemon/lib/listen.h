/* listen.h - the listening socket: ADDR:PORT, or one inherited from systemd. */
#ifndef TINYBOOT_LISTEN_H
#define TINYBOOT_LISTEN_H

#include <stddef.h>
#include <sys/socket.h>

/* Parse "1.2.3.4:80", "[::1]:80" or "*:80". Returns 0 or -EINVAL. */
int listen_parse(const char *spec, struct sockaddr_storage *ss, socklen_t *len);
/* A socket passed by systemd (LISTEN_FDS/LISTEN_PID), else a new one bound to spec.
 * Fills `bound` with the address actually bound ("127.0.0.1:41234"). Returns fd or -errno. */
int listen_open(const char *spec, char *bound, size_t boundlen);
int listen_format(const struct sockaddr_storage *ss, char *buf, size_t len);

#endif
