/* pxe.h - the PXE service over HTTP: the boot programs, and the dnsmasq lines it uses. */
#ifndef TINYBOOT_HTTP_PXE_H
#define TINYBOOT_HTTP_PXE_H

#include "http/request.h"

/* GET /pxe/NAME: undionly.kpxe, snponly.efi or ipxe.efi from the TFTP root (UEFI HTTP Boot
 * loads ipxe.efi here); immutable, strong ETag. Any other name: 404. */
enum MHD_Result http_pxe_program(struct request *r, const char *name);
/* GET /api/v1/pxe/config: the dnsmasq configuration in force (text/plain). With pxe = off:
 * the lines for a dnsmasq of the admin's own when pxe-interface is set, else 409 saying what
 * to set. */
enum MHD_Result http_pxe_config(struct request *r);

#endif
