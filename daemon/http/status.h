/* status.h - the HTTP status that answers an errno from the layers below http/. */
#ifndef TINYBOOT_HTTP_STATUS_H
#define TINYBOOT_HTTP_STATUS_H

/*
 *   -ENOENT     404 Not Found        (no such recipe, fragment, build)
 *   -EINVAL     400 Bad Request      (a malformed name)
 *   -EAGAIN     409 Conflict         (the name is fine, its artifact does not exist yet)
 *   -ESHUTDOWN  503 Service Unavailable (the daemon is stopping)
 *   any other   500 Internal Server Error (-EBADMSG: the daemon's own inputs are broken, -ENOMEM...)
 */
unsigned http_status_from_errno(int rc);

#endif
