/* boot_wait.c - a new boot's request waits, suspended, until the boot is on disk; then answers. */
#include "http/boot_wait.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/reply.h"
#include "lib/log.h"

static void http_boot_wait_free(void *arg)
{
	struct http_boot_wait *w = arg;

	if (!w)
		return;
	free(w->script);
	json_decref(w->reply);
	free(w);
}

void http_boot_wait_woken(void *arg, int rc)
{
	struct request *r = arg;

	r->parked_rc = rc;
	MHD_resume_connection(r->conn); /* from now on r is the connection's thread's again */
}

int http_boot_wait_start(struct request *r, const struct boots_new *n, const char *name,
			 const struct nextboot_entry *next, struct http_boot_wait **out)
{
	struct http_boot_wait *w = calloc(1, sizeof(*w));
	int rc;

	*out = w;
	if (!w)
		return -ENOMEM; /* not parked: the caller answers now */
	snprintf(w->name, sizeof(w->name), "%s", name);
	if (next)
		w->next = *next;
	r->parked_data = w;
	r->parked_free = http_boot_wait_free;
	/* Suspended before the committer can know of it: woken once the boot's sync (one for every
	 * record written meanwhile) is done, the worker serving others meanwhile. A failed write
	 * comes back the same way, at once. */
	r->parked = true;
	MHD_suspend_connection(r->conn);
	rc = boots_create_async(r->tb->boots, n, w->token, http_boot_wait_woken, r);
	if (rc)
		http_boot_wait_woken(r, rc);
	return rc;
}

/* Give back a one-time variant the boot took when it was not made after all. */
static void http_boot_wait_untake(struct request *r, struct http_boot_wait *w)
{
	int rc = nextboot_untake(r->tb->next, w->name, &w->next);

	if (rc)
		log_warnx("machine %s: next-boot variant %s lost: %s", w->name, w->next.variant, strerror(-rc));
}

enum MHD_Result http_boot_wait_answer(struct request *r)
{
	struct http_boot_wait *w = r->parked_data;
	json_t *reply;
	int rc = r->parked_rc;

	if (rc) {
		log_warnx("machine %s: boot not recorded: %s", w->name, strerror(-rc));
		http_boot_wait_untake(r, w);
		if (w->fail[0] && w->script)
			return http_send_text(r, MHD_HTTP_OK, "text/plain; charset=utf-8", w->script,
					      strlen(w->script));
		return http_send_error(r, rc == -ENOMEM ? MHD_HTTP_INTERNAL_SERVER_ERROR :
				       MHD_HTTP_INSUFFICIENT_STORAGE, "cannot record the boot of %s: %s",
				       w->name, strerror(-rc));
	}
	if (w->fail[0] || w->unprepared) {
		rc = boots_fail(r->tb->boots, w->token, w->unprepared ? w->unprepared : w->fail);
		if (rc)
			log_warnx("machine %s: boot not marked failed: %s", w->name, strerror(-rc));
	}
	if (w->unprepared)
		return http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s (machine %s)", w->unprepared, w->name);
	if (w->event)
		boots_event(r->tb->boots, w->token, w->event);
	if (w->reply) {
		reply = w->reply;
		w->reply = NULL;
		return http_send_json(r, MHD_HTTP_CREATED, reply);
	}
	if (w->script)
		return http_send_text(r, MHD_HTTP_OK, "text/plain; charset=utf-8", w->script, strlen(w->script));
	return http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot build the answer for %s", w->name);
}
