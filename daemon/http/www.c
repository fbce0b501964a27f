/* www.c - the status page: index.html at / and its files under /static/, from the www directory. */
#include "http/www.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "http/api.h"
#include "http/file.h"
#include "http/reply.h"

/* Opened per request: the directory may be installed or replaced while the daemon runs, and a
 * reload may name another one. */
static int http_www_open(struct request *r)
{
	return open(r->rt->opts.www_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

enum MHD_Result http_www_index(struct request *r)
{
	enum MHD_Result ret;
	int dirfd = http_www_open(r);

	if (dirfd < 0)
		return http_api_index(r);
	ret = http_file_serve(r, dirfd, "index.html", HTTP_FILE_REVALIDATE);
	close(dirfd);
	return ret;
}

enum MHD_Result http_www_static(struct request *r, const char *name)
{
	enum MHD_Result ret;
	int dirfd = http_www_open(r);

	if (dirfd < 0)
		return http_send_error(r, MHD_HTTP_NOT_FOUND, "no status page files in %s",
				       r->rt->opts.www_dir);
	ret = http_file_serve(r, dirfd, name, HTTP_FILE_REVALIDATE);
	close(dirfd);
	return ret;
}
