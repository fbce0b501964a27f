/* boot_wait.h - a new boot's request, suspended until the boot's journal record is durable; its
 * answer is prepared meanwhile and sent once the committer says the boot exists. */
#ifndef TINYBOOT_HTTP_BOOT_WAIT_H
#define TINYBOOT_HTTP_BOOT_WAIT_H

#include <jansson.h>

#include "boot/boots.h"
#include "boot/nextboot.h"
#include "http/request.h"

struct http_boot_wait {
	char token[BOOTS_TOKEN_LEN];
	char name[40];                /* the machine, for logs */
	struct nextboot_entry next;   /* what nextboot_take gave this boot: given back if it is not made */
	char fail[BOOTS_REASON_MAX + 1]; /* the daemon gives up on the boot once it exists: why */
	const char *unprepared;       /* the answer could not be built with the token: why (static) */
	const char *event;            /* noted once the boot exists ("script served"), or NULL */
	char *script;                 /* the answer: a 200 iPXE script ... */
	json_t *reply;                /* ... or a 201 JSON body */
};

/* Park r (suspend its connection) and create the boot n of machine name (with next, taken for it)
 * through the journal's group commit. 0: the record is written, the token is in (*out)->token,
 * and the caller prepares (*out)'s answer now (the handler is called again only after it
 * returns). -errno: no boot; when r->parked is set the caller returns MHD_YES and its second call
 * answers the error, else (no memory to park) it answers now. The second call (r->parked) is
 * http_boot_wait_answer. */
int http_boot_wait_start(struct request *r, const struct boots_new *n, const char *name,
			 const struct nextboot_entry *next, struct http_boot_wait **out);
/* The second call: the boot exists (answer as prepared; a failure noted, an event noted) or it
 * does not (507 with the real error, the one-time variant given back; an iPXE refusal script is
 * sent either way). */
enum MHD_Result http_boot_wait_answer(struct request *r);
/* MHD resumes r, parked for its journal sync, with rc (a boots_done_fn). */
void http_boot_wait_woken(void *arg, int rc);

#endif
