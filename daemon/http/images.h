/* images.h - images by variant name, the build API and the image catalogue. */
#ifndef TINYBOOT_HTTP_IMAGES_H
#define TINYBOOT_HTTP_IMAGES_H

#include "http/request.h"

/* GET/HEAD /images/VARIANT/NAME[?wait=1] */
enum MHD_Result http_images_file(struct request *r, const char *variant, const char *name);
/* POST /api/v1/builds {"variant": "net+debug", "retry": false} */
enum MHD_Result http_images_build_post(struct request *r);
/* GET /api/v1/builds: this run's builds, newest first, with their progress */
enum MHD_Result http_images_builds_list(struct request *r);
/* GET /api/v1/builds/ID */
enum MHD_Result http_images_build_get(struct request *r, const char *id);
/* GET /api/v1/images */
enum MHD_Result http_images_list(struct request *r);

#endif
