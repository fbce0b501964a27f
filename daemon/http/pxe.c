/* pxe.c - /pxe/NAME (the boot programs) and /api/v1/pxe/config (the dnsmasq lines). */
#include "http/pxe.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot/pxe_files.h"
#include "boot/pxe_service.h"
#include "boot/pxe_setup.h"
#include "build/builder.h"
#include "build/store.h"
#include "http/file.h"
#include "http/reply.h"

enum MHD_Result http_pxe_program(struct request *r, const char *name)
{
	enum MHD_Result ret;
	int dirfd;

	/* a table of three names, never a path */
	if (!pxe_files_known(name))
		return http_send_error(r, MHD_HTTP_NOT_FOUND, "no boot program '%s' (undionly.kpxe, "
				       "snponly.efi, ipxe.efi)", name);
	dirfd = store_area_open(builder_store(r->tb->builder), STORE_TFTP);
	if (dirfd < 0)
		return http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot open the TFTP root");
	ret = http_file_serve(r, dirfd, name, HTTP_FILE_IMMUTABLE);
	close(dirfd);
	return ret;
}

static enum MHD_Result http_pxe_text(struct request *r, char *text)
{
	enum MHD_Result ret = http_send_text(r, MHD_HTTP_OK, "text/plain; charset=utf-8", text,
					     strlen(text));

	free(text);
	return ret;
}

enum MHD_Result http_pxe_config(struct request *r)
{
	const struct options *o = &r->rt->opts;
	char err[1024], *text;
	int rc;

	/* the running dnsmasq's configuration, with its reservations (dhcp mode) */
	text = r->tb->pxe ? pxe_service_shown(r->tb->pxe) : NULL;
	if (text)
		return http_pxe_text(r, text);
	if (o->pxe && strcmp(o->pxe, "off") != 0)
		return http_send_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "pxe = %s but the PXE service "
				       "is not configured: see tinybootd's log", o->pxe);
	rc = pxe_setup_example(o, r->rt->machines, r->tb->listen_address, &text, err, sizeof(err));
	if (rc == -ENOENT)
		return http_send_error(r, MHD_HTTP_CONFLICT, "pxe = off and pxe-interface is not set: "
				       "set pxe-interface = NAME (the interface on the lab network) for "
				       "the lines of a dnsmasq of your own, or pxe = proxy or dhcp to "
				       "have tinybootd run one");
	if (rc == -ENOMEM)
		return MHD_NO;
	if (rc)
		return http_send_error(r, MHD_HTTP_CONFLICT, "%s", err);
	return http_pxe_text(r, text);
}
