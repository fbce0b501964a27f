/* server.h - the libmicrohttpd server: start it on a socket, drain it and stop it. */
#ifndef TINYBOOT_HTTP_SERVER_H
#define TINYBOOT_HTTP_SERVER_H

#include "tinyboot.h"

int http_start(struct tinyboot *tb, int listen_fd);
/* Stop accepting (new connections are answered 503 + Retry-After meanwhile), wait up to
 * `seconds` for requests in flight, then stop the server and close the listening socket. */
void http_drain_and_stop(struct tinyboot *tb, unsigned seconds);

#endif
