/* conns.h - every open connection, its phase and its deadline; a reaper closes late heads and
 * bodies and, when the table is full and clients wait, the oldest heads still coming in. */
#ifndef TINYBOOT_HTTP_CONNS_H
#define TINYBOOT_HTTP_CONNS_H

#include <microhttpd.h>

#include "tinyboot.h"

/* What a connection is doing, which says which deadline holds. */
enum http_conn_phase {
	HTTP_CONN_HEAD,  /* waiting for (the rest of) a request head: header-timeout */
	HTTP_CONN_BODY,  /* the head is in, the body is on its way: body-timeout */
	HTTP_CONN_REPLY, /* the request is complete: the answer is being made or sent */
};

struct http_conns;

/* A table for up to `capacity` connections (MHD's connection limit) and its reaper thread,
 * which reads header-timeout and body-timeout from tb's current runtime on every pass and,
 * while the table is full, sheds for the clients waiting in listen_fd's accept queue. */
int http_conns_new(struct tinyboot *tb, unsigned capacity, int listen_fd, struct http_conns **out);
/* Stop the reaper and free the table; after MHD_stop_daemon (which reports every close). */
void http_conns_free(struct http_conns *cs);
/* MHD_OPTION_NOTIFY_CONNECTION: cls is the table. */
void http_conns_notify(void *cls, struct MHD_Connection *c, void **socket_context,
		       enum MHD_ConnectionNotificationCode code);
/* The connection moved to `phase`; its deadline counts from now. From the connection's thread;
 * cs may be NULL. */
void http_conns_phase(struct http_conns *cs, struct MHD_Connection *c, enum http_conn_phase phase);
/* Connections open now (those shut down here but not yet closed by MHD included); cs may be NULL. */
unsigned http_conns_open(struct http_conns *cs);

#endif
