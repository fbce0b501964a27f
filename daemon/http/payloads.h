/* payloads.h - /payloads/: files for guests, generated streams, and each machine's manifest. */
#ifndef TINYBOOT_HTTP_PAYLOADS_H
#define TINYBOOT_HTTP_PAYLOADS_H

#include "http/request.h"

/* GET /payloads/NAME from the payload directory */
enum MHD_Result http_payloads_file(struct request *r, const char *name);
/* GET /payloads/gen/N */
enum MHD_Result http_payloads_gen(struct request *r, const char *size);
/* GET /payloads/manifest?id=NAME: "SHA256 SIZE NAME" per payload of that machine. A payload
 * file NAME may be pinned by NAME.sha256 beside it: that checksum is then the expected one. */
enum MHD_Result http_payloads_manifest(struct request *r);

#endif
