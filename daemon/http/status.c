/* status.c - errnos in, HTTP statuses out: the one place the two meet. */
#include "http/status.h"

#include <errno.h>
#include <microhttpd.h>

unsigned http_status_from_errno(int rc)
{
	switch (rc) {
	case -ENOENT:
		return MHD_HTTP_NOT_FOUND;
	case -EINVAL:
		return MHD_HTTP_BAD_REQUEST;
	case -EAGAIN:
		return MHD_HTTP_CONFLICT;
	case -ESHUTDOWN:
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	default:
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}
