/* cli_http.h - every transfer of the `tinyboot` client: GET to a file, JSON API calls, escaping. */
#ifndef TINYBOOT_CLI_HTTP_H
#define TINYBOOT_CLI_HTTP_H

#include <stddef.h>
#include <stdio.h>

/* An API answer's body, NUL-terminated; free data with free() or cli_http_buf_free(). */
struct cli_http_buf {
	char *data;
	size_t len;
};

/* Once per process, around every other call. */
/* token: sent as Authorization: Bearer on every request ("" or NULL: none); copied. */
void cli_http_init(const char *token);
void cli_http_cleanup(void);

/* GET server+path into out; the HTTP status, or -1 with the reason printed. */
long cli_http_get(const char *server, const char *path, FILE *out);
/* GET server+path into file (stdout when NULL). 0 on 2xx; 1 on any failure (a partial file is
 * removed); 2 when path does not start with '/'. */
int cli_http_download(const char *server, const char *path, const char *file);
/* One API call (a JSON POST when post is set); the body lands in out, replacing what it held.
 * Returns the status, or -1 with the reason printed. */
long cli_http_api(const char *server, const char *path, const char *post, struct cli_http_buf *out);
/* The same with any method (GET when NULL; PUT, DELETE...) and an optional JSON body. */
long cli_http_api_method(const char *server, const char *path, const char *method, const char *body,
			 struct cli_http_buf *out);
/* s percent-escaped for one path component into out; 0, -ENAMETOOLONG or -ENOMEM. */
int cli_http_escape(const char *s, char *out, size_t len);
void cli_http_buf_free(struct cli_http_buf *b);

#endif
