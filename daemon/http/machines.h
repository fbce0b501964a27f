/* machines.h - GET /api/v1/machines, paged: each machine's last boot and its "next". */
#ifndef TINYBOOT_HTTP_MACHINES_H
#define TINYBOOT_HTTP_MACHINES_H

#include "http/request.h"

enum MHD_Result http_machines_list(struct request *r); /* GET /api/v1/machines?limit=&after= */

#endif
