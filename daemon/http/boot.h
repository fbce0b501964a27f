/* boot.h - the boot loop over HTTP: iPXE scripts, boots, reports, machine states. */
#ifndef TINYBOOT_HTTP_BOOT_H
#define TINYBOOT_HTTP_BOOT_H

#include "http/request.h"

#define HTTP_BOOT_REPORT_MAX (16 * 1024)

enum MHD_Result http_boot_generic_script(struct request *r);   /* GET /boot.ipxe */
enum MHD_Result http_boot_machine_script(struct request *r);   /* GET /ipxe?mac=&uuid= */
enum MHD_Result http_boot_create(struct request *r);           /* POST /api/v1/boots */
enum MHD_Result http_boot_get(struct request *r, const char *token); /* GET /api/v1/boots/T */
enum MHD_Result http_boot_report(struct request *r);           /* POST /api/v1/reports */

/* After a kernel or initrd was answered (ret from its handler): a 200 or 206 GET counts as
 * "kernel sent" / "initrd sent" against the request's ?boot=TOKEN, if it had one. Returns ret. */
enum MHD_Result http_boot_counted(struct request *r, enum MHD_Result ret, const char *name);

#endif
