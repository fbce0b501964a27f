/* drain.h - while tinybootd drains: new connections answered 503 + Retry-After, not reset. */
#ifndef TINYBOOT_HTTP_DRAIN_H
#define TINYBOOT_HTTP_DRAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define HTTP_DRAIN_SLOTS 64       /* connections being answered at once; the rest wait in the backlog */
#define HTTP_DRAIN_HEAD_MS 2000   /* a client's time to send its request head */
#define HTTP_DRAIN_LINGER_MS 1000 /* reading what it sends after the answer, so no RST eats it */
#define HTTP_DRAIN_HEAD_MAX 16384 /* bytes of request head read before answering anyway */

struct http_drain_slot {
	int fd;             /* -1: free */
	bool answered;      /* the 503 is out: reading until EOF (lingering close) */
	char method[5];     /* the request's first bytes: "HEAD " gets no body */
	unsigned nmethod;
	unsigned newlines;  /* line ends in a row ('\r' aside): two end the head */
	size_t got;
	struct timespec deadline;
};

struct http_drain {
	int listen_fd;      /* -1: none (nothing is accepted) */
	unsigned retry_after;
	struct http_drain_slot slots[HTTP_DRAIN_SLOTS];
};

/* Take over the listening socket libmicrohttpd let go of (MHD_quiesce_daemon; -1: none). */
void http_drain_open(struct http_drain *d, int listen_fd, unsigned retry_after);
/* Accept new connections, read their request heads and answer them 503, for up to timeout_ms. */
void http_drain_poll(struct http_drain *d, int timeout_ms);
/* Answer the connections still sending their heads, close them all and the listening socket. */
void http_drain_close(struct http_drain *d);

#endif
