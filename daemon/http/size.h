/* size.h - a built variant's kernel size: sections, largest symbols, cost of each fragment. */
#ifndef TINYBOOT_HTTP_SIZE_H
#define TINYBOOT_HTTP_SIZE_H

#include "http/request.h"

/* GET /api/v1/images/VARIANT/size[?top=N]: never starts a build; 409 when not built. */
enum MHD_Result http_size_get(struct request *r, const char *variant);

#endif
