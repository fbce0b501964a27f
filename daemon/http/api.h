/* api.h - small JSON endpoints: index, health, version. */
#ifndef TINYBOOT_API_H
#define TINYBOOT_API_H

#include "http/request.h"

enum MHD_Result http_api_index(struct request *r);
enum MHD_Result http_api_healthz(struct request *r);
enum MHD_Result http_api_version(struct request *r);

#endif
