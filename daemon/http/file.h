/* file.h - static files: GET/HEAD, ranges, validators, zero-copy bodies. */
#ifndef TINYBOOT_HTTP_FILE_H
#define TINYBOOT_HTTP_FILE_H

#include "http/request.h"

enum http_file_policy {
	HTTP_FILE_REVALIDATE, /* may change: clients revalidate with the ETag */
	HTTP_FILE_IMMUTABLE,  /* content-addressed: cache for a year */
};

/* Serve `name` (already a valid single component) from the directory dirfd. */
enum MHD_Result http_file_serve(struct request *r, int dirfd, const char *name,
				enum http_file_policy policy);
/* /artifacts/HASH/NAME from the state directory's artifact cache. */
enum MHD_Result http_file_serve_artifact(struct request *r, const char *hash, const char *name);
const char *http_file_content_type(const char *name);

#endif
