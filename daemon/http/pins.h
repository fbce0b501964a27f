/* pins.h - /api/v1/pins: pinned artifacts and variants (build/pins over HTTP). */
#ifndef TINYBOOT_HTTP_PINS_H
#define TINYBOOT_HTTP_PINS_H

#include "http/request.h"

/* GET /api/v1/pins: {"pins": [NAME...]} sorted. */
enum MHD_Result http_pins_list(struct request *r);
/* PUT pins NAME (an artifact hash or a variant), DELETE unpins it (404 when not pinned). */
enum MHD_Result http_pins_one(struct request *r, const char *name);

#endif
