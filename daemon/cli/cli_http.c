/* cli_http.c - every libcurl call of the `tinyboot` client: downloads, JSON API calls, escaping. */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_http.h"

/* API answers are small; refuse anything absurd */
#define CLI_HTTP_API_MAX (16 << 20)

/* The bearer token of this run, or NULL: set once by cli_http_init, before any transfer. */
static char *cli_http_token;

void cli_http_init(const char *token)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (token && *token)
		cli_http_token = strdup(token);
}

void cli_http_cleanup(void)
{
	free(cli_http_token);
	cli_http_token = NULL;
	curl_global_cleanup();
}

void cli_http_buf_free(struct cli_http_buf *b)
{
	if (!b)
		return;
	free(b->data);
	b->data = NULL;
	b->len = 0;
}

/* A handle for server+path with the settings every transfer shares; NULL after an error
 * (reported here). url must outlive the transfer. */
static CURL *cli_http_open(const char *server, const char *path, char *url, size_t ulen, char *errbuf)
{
	CURL *curl;
	int n;

	n = snprintf(url, ulen, "%s%s", server, path);
	if (n < 0 || (size_t)n >= ulen) {
		fprintf(stderr, "tinyboot: URL too long\n");
		return NULL;
	}
	curl = curl_easy_init();
	if (!curl)
		return NULL;
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	if (cli_http_token) {
		/* sent at once (one method set); libcurl keeps it from hosts a redirect leads to */
		curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
		curl_easy_setopt(curl, CURLOPT_XOAUTH2_BEARER, cli_http_token);
	}
	return curl;
}

/* Run the transfer; the HTTP status, or -1 with curl's reason printed. Frees the handle. */
static long cli_http_perform(CURL *curl, const char *url, const char *errbuf)
{
	long status = -1;
	CURLcode rc;

	rc = curl_easy_perform(curl);
	if (rc != CURLE_OK)
		fprintf(stderr, "tinyboot: %s: %s\n", url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
	else
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(curl);
	return status;
}

long cli_http_get(const char *server, const char *path, FILE *out)
{
	char url[4096], errbuf[CURL_ERROR_SIZE] = "";
	CURL *curl = cli_http_open(server, path, url, sizeof(url), errbuf);

	if (!curl)
		return -1;
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
	return cli_http_perform(curl, url, errbuf);
}

int cli_http_download(const char *server, const char *path, const char *file)
{
	FILE *out = stdout;
	long status;

	if (!path || path[0] != '/') {
		fprintf(stderr, "tinyboot: get: PATH must start with '/'\n");
		return 2;
	}
	if (file) {
		out = fopen(file, "wbe");
		if (!out) {
			fprintf(stderr, "tinyboot: %s: %s\n", file, strerror(errno));
			return 1;
		}
	}
	status = cli_http_get(server, path, out);
	if (out != stdout && fclose(out) != 0) {
		fprintf(stderr, "tinyboot: %s: %s\n", file, strerror(errno));
		return 1;
	}
	if (status < 200 || status >= 300) {
		if (status > 0)
			fprintf(stderr, "tinyboot: %s: HTTP %ld\n", path, status);
		if (file)
			remove(file);
		return 1;
	}
	return 0;
}

static size_t cli_http_buf_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct cli_http_buf *b = arg;
	size_t n = size * nmemb;
	char *grown;

	if (n > CLI_HTTP_API_MAX || b->len > CLI_HTTP_API_MAX - n)
		return 0;
	grown = realloc(b->data, b->len + n + 1);
	if (!grown)
		return 0;
	memcpy(grown + b->len, ptr, n);
	b->data = grown;
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

long cli_http_api(const char *server, const char *path, const char *post, struct cli_http_buf *out)
{
	return cli_http_api_method(server, path, post ? "POST" : NULL, post, out);
}

long cli_http_api_method(const char *server, const char *path, const char *method, const char *body,
			 struct cli_http_buf *out)
{
	char url[4096], errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers = NULL;
	long status = -1;
	CURL *curl;

	cli_http_buf_free(out);
	curl = cli_http_open(server, path, url, sizeof(url), errbuf);
	if (curl) {
		curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, cli_http_buf_write);
		curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
		if (body) {
			headers = curl_slist_append(headers, "Content-Type: application/json");
			curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
			curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
		}
		/* after POSTFIELDS, which would make it a POST */
		if (method && strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
			curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
		status = cli_http_perform(curl, url, errbuf);
		curl_slist_free_all(headers);
	}
	if (!out->data) {
		/* callers print the body of a failed call: give them an empty one */
		out->data = strdup("");
		out->len = 0;
	}
	return status;
}

int cli_http_escape(const char *s, char *out, size_t len)
{
	char *escaped = curl_easy_escape(NULL, s, 0);
	int n;

	if (!escaped)
		return -ENOMEM;
	n = snprintf(out, len, "%s", escaped);
	curl_free(escaped);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}
