/* weburl.h - the one check of a host and a base URL that may reach an iPXE script or a config. */
#ifndef TINYBOOT_WEBURL_H
#define TINYBOOT_WEBURL_H

#include <stdbool.h>

#define WEBURL_MAX 1024          /* a whole base URL */
#define WEBURL_HOST_NAME_MAX 253 /* a DNS name */
#define WEBURL_HOST_MAX 260      /* HOST[:PORT] */

/* HOST[:PORT]: a DNS name or IPv4 address of [A-Za-z0-9._-] that starts with neither '-' nor
 * '.', or an IPv6 address in brackets ("[::1]", no zone), then optionally ':' and a port
 * 1..65535. */
bool weburl_host_valid(const char *host);

/* "http://" or "https://", HOST[:PORT] as weburl_host_valid() takes it, then optionally a path
 * of [A-Za-z0-9./_-] that does not end in '/': no query, fragment, user info, space or anything
 * an iPXE script or a kernel command line would read specially. At most WEBURL_MAX bytes. */
bool weburl_base_valid(const char *url);

#endif
