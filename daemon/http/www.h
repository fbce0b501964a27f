/* www.h - the status page: index.html at / and its files under /static/. */
#ifndef TINYBOOT_HTTP_WWW_H
#define TINYBOOT_HTTP_WWW_H

#include "http/request.h"

/* GET / : the status page (www/index.html); without a www directory, a plain-text index. */
enum MHD_Result http_www_index(struct request *r);
/* GET /static/NAME : status.css, status.js, ... from the www directory. */
enum MHD_Result http_www_static(struct request *r, const char *name);

#endif
