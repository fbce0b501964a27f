/* next.h - /api/v1/machines/NAME/next: what a machine boots next (boot/nextboot over HTTP). */
#ifndef TINYBOOT_HTTP_NEXT_H
#define TINYBOOT_HTTP_NEXT_H

#include "http/request.h"

/* GET shows NAME's override, PUT {"variant": V} or {"action": "local"} sets it, DELETE clears
 * it. NAME is a machines.conf name, or mac-HEX (12 lowercase hex digits) of a machine that
 * boots on the default entry; anything else is 404. */
enum MHD_Result http_next_machine(struct request *r, const char *name);
/* The status for a write of the overrides' file that failed with rc: 507 when the state
 * directory is full or failing, else 500. */
unsigned http_next_write_status(int rc);

#endif
