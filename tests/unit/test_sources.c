/* test_sources.c - sources.conf parsing, fetch over file:// and a local HTTP server, extraction. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "lib/digest.h"
#include "lib/log.h"
#include "conf/sources.h"
#include "lib/spawn.h"

#define SHA_A "4d415b3d364834fd818270e88813e90323bbfce4f519a0e6bd4940ddcd7df693"
#define SHA_ZERO "0000000000000000000000000000000000000000000000000000000000000000"
#define HELLO "hello, tinyboot\n"
#define DEEP_LEN 4096  /* incompressible, so the tarball is well over 1K */

/* ---- helpers ---- */

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	assert_true(n >= 0);
	return s;
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* The file's bytes, NUL-terminated; NULL if it cannot be read. */
static char *read_file(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	buf[st.st_size] = '\0';
	close(fd);
	if (len)
		*len = (size_t)st.st_size;
	return buf;
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static void assert_dir_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int left = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		fprintf(stderr, "left in %s: %s\n", path, e->d_name);
		left++;
	}
	closedir(d);
	assert_int_equal(left, 0);
}

static int count_in(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* ---- parsing ---- */

struct parse_case {
	const char *name;
	const char *text;
	size_t len;            /* 0: strlen(text) */
	const char *want_err;  /* "LINE: message" after the path; NULL: the file loads */
};

#define SEC "[a]\nsha256 = " SHA_A "\nurl = file:///x/a.tar.gz\nstrip = a-1\n"

static const struct parse_case parse_cases[] = {
	{ "empty file", "", 0, NULL },
	{ "comments only", "# one\n   # two\n\n\t\n", 0, NULL },
	{ "minimal", SEC, 0, NULL },
	{ "crlf and spacing", "  [a]  \r\nsha256=" SHA_A "\r\n url =file:///x/a.tar.gz \r\nstrip\t=\ta-1\r\n",
	  0, NULL },
	{ "short sha256", "[a]\nsha256 = abc\n", 0, "2: sha256 must be 64 hex digits" },
	{ "non-hex sha256", "[a]\nsha256 = " "g" SHA_A "\n", 0, "2: sha256 must be 64 hex digits" },
	{ "trailing comment is not a comment", "[a]\nsha256 = " SHA_A " # pinned\n", 0,
	  "2: sha256 must be 64 hex digits" },
	{ "no sha256", "[a]\nurl = file:///x/a.tar.gz\nstrip = a\n", 0, "1: [a] has no sha256" },
	{ "no url", "\n[a]\nsha256 = " SHA_A "\nstrip = a\n", 0, "2: [a] has no url" },
	{ "no strip, next section", "# c\n[a]\nsha256 = " SHA_A "\nurl = file:///x/a.tar.gz\n[b]\n", 0,
	  "2: [a] has no strip" },
	{ "bad section name", "[a/b]\n", 0,
	  "1: section name must be 1-64 of A-Z a-z 0-9 . _ + - (not . or ..)" },
	{ "dotdot section name", "[..]\n", 0,
	  "1: section name must be 1-64 of A-Z a-z 0-9 . _ + - (not . or ..)" },
	{ "empty section name", "[]\n", 0,
	  "1: section name must be 1-64 of A-Z a-z 0-9 . _ + - (not . or ..)" },
	{ "65-char section name",
	  "[a1234567890123456789012345678901234567890123456789012345678901234]\n", 0,
	  "1: section name must be 1-64 of A-Z a-z 0-9 . _ + - (not . or ..)" },
	{ "64-char section name ok",
	  "[a123456789012345678901234567890123456789012345678901234567890123]\nsha256 = " SHA_A
	  "\nurl = file:///x/a.tar.gz\nstrip = a\n", 0, NULL },
	{ "unclosed header", "[abc\n", 0, "1: section header must be [name]" },
	{ "duplicate section", SEC "\n[a]\n", 0, "6: duplicate section [a]" },
	{ "key before section", "# x\nsha256 = " SHA_A "\n", 0, "2: sha256 before the first [section]" },
	{ "unknown key", "[a]\nmd5 = 1234\n", 0, "2: unknown key 'md5'" },
	{ "no equals", "[a]\nurl file:///x/a.tar.gz\n", 0, "2: expected [name] or key = value" },
	{ "no key", "[a]\n= x\n", 0, "2: expected [name] or key = value" },
	{ "size-max suffix", "[a]\nsize-max = 12X\n", 0,
	  "2: size-max must be a positive number with an optional K, M or G suffix" },
	{ "size-max zero", "[a]\nsize-max = 0\n", 0,
	  "2: size-max must be a positive number with an optional K, M or G suffix" },
	{ "size-max empty", "[a]\nsize-max =\n", 0,
	  "2: size-max must be a positive number with an optional K, M or G suffix" },
	{ "size-max negative", "[a]\nsize-max = -1\n", 0,
	  "2: size-max must be a positive number with an optional K, M or G suffix" },
	{ "size-max overflow", "[a]\nsize-max = 18446744073709551616\n", 0, "2: size-max is too large" },
	{ "size-max suffix overflow", "[a]\nsize-max = 17179869184G\n", 0, "2: size-max is too large" },
	{ "size-max twice", "[a]\nsize-max = 1M\nsize-max = 2M\n", 0, "3: size-max given twice in [a]" },
	{ "sha256 twice", "[a]\nsha256 = " SHA_A "\nsha256 = " SHA_A "\n", 0, "3: sha256 given twice in [a]" },
	{ "strip twice", "[a]\nstrip = a\nstrip = b\n", 0, "3: strip given twice in [a]" },
	{ "ftp url", "[a]\nurl = ftp://x/a.tar.gz\n", 0,
	  "2: url must start with http://, https:// or file://" },
	{ "relative url", "[a]\nurl = a.tar.gz\n", 0,
	  "2: url must start with http://, https:// or file://" },
	{ "zip url", "[a]\nurl = https://x/a.zip\n", 0, "2: url must end in .tar.xz, .tar.bz2 or .tar.gz" },
	{ "bare .tar.gz", "[a]\nurl = https://x/a.tar.gz2\n", 0,
	  "2: url must end in .tar.xz, .tar.bz2 or .tar.gz" },
	{ "url with space", "[a]\nurl = file:///a b.tar.gz\n", 0,
	  "2: url must not contain spaces or control characters" },
	{ "urls disagree", "[a]\nurl = https://x/a.tar.xz\nurl = file:///a.tar.gz\n", 0,
	  "3: url is .tar.gz but the first url of [a] is .tar.xz" },
	{ "strip with slash", "[a]\nstrip = a/b\n", 0,
	  "2: strip must be a single directory name (no '/', not . or ..)" },
	{ "strip dotdot", "[a]\nstrip = ..\n", 0,
	  "2: strip must be a single directory name (no '/', not . or ..)" },
	{ "strip empty", "[a]\nstrip =\n", 0,
	  "2: strip must be a single directory name (no '/', not . or ..)" },
	{ "NUL byte", "[a]\nstrip = a\0b\n", 17, "2: line contains a NUL byte" },
};

static char *tmp_root(void)
{
	char *dir = xasprintf("%s/test_sources.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");

	assert_non_null(mkdtemp(dir));
	return dir;
}

static void remove_root(char *dir)
{
	assert_int_equal(sources_remove_tree(AT_FDCWD, dir), 0);
	free(dir);
}

static int load_text(const char *dir, const char *text, size_t len, struct sources **out,
		     char *err, size_t errlen, char **pathp)
{
	char *path = xasprintf("%s/sources.conf", dir);
	int rc;

	write_file(path, text, len);
	rc = sources_load(path, out, err, errlen);
	*pathp = path;
	return rc;
}

static void test_parse_table(void **state)
{
	char *dir = tmp_root();

	(void)state;
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct sources *s = (struct sources *)1;
		char err[512] = "", *path, *want;
		int rc = load_text(dir, c->text, c->len ? c->len : strlen(c->text), &s, err,
				   sizeof(err), &path);

		want = c->want_err ? xasprintf("%s:%s", path, c->want_err) : xasprintf("%s", "");
		if (strcmp(err, want) != 0 || rc != (c->want_err ? -EINVAL : 0))
			fprintf(stderr, "case '%s': rc %d, err '%s', want '%s'\n", c->name, rc, err, want);
		assert_string_equal(err, want);
		assert_int_equal(rc, c->want_err ? -EINVAL : 0);
		if (c->want_err)
			assert_null(s);
		else
			assert_non_null(s);
		sources_free(s);
		free(want);
		free(path);
	}
	remove_root(dir);
}

static void test_parse_line_too_long(void **state)
{
	char *dir = tmp_root(), *text, *path, *want, err[512] = "";
	struct sources *s = NULL;
	size_t n = SOURCES_LINE_MAX + 10;

	(void)state;
	text = malloc(n + 16);
	assert_non_null(text);
	strcpy(text, "[a]\n#");
	memset(text + 5, 'x', n);
	strcpy(text + 5 + n, "\n");
	assert_int_equal(load_text(dir, text, strlen(text), &s, err, sizeof(err), &path), -EINVAL);
	want = xasprintf("%s:2: line longer than %d bytes", path, SOURCES_LINE_MAX);
	assert_string_equal(err, want);
	free(want);
	free(path);
	free(text);
	remove_root(dir);
}

static void test_parse_too_many_urls(void **state)
{
	char *dir = tmp_root(), text[4096] = "[a]\n", *path, *want, err[512] = "";
	struct sources *s = NULL;

	(void)state;
	for (int i = 0; i <= SOURCES_URLS_MAX; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "url = file:///m%d/a.tar.gz\n", i);
	assert_int_equal(load_text(dir, text, strlen(text), &s, err, sizeof(err), &path), -EINVAL);
	want = xasprintf("%s:%d: more than %d urls in [a]", path, SOURCES_URLS_MAX + 2, SOURCES_URLS_MAX);
	assert_string_equal(err, want);
	free(want);
	free(path);
	remove_root(dir);
}

/* The shape of etc/sources.conf, read field by field. */
static void test_parse_good(void **state)
{
	static const char text[] =
		"# tinyboot source tarballs\n"
		"\n"
		"[linux-6.1-debian]\n"
		"sha256 = " SHA_A "\n"
		"size-max = 200M\n"
		"url = file:///usr/src/linux-source-6.1.tar.xz\n"
		"strip = linux-source-6.1\n"
		"\n"
		"# comment between sections\n"
		"[busybox-1.35.0]\n"
		"sha256 = FAEEB244C35A348A334F4A59E44626EE870FB07B6884D68C10AE8BC19F83A694\n"
		"size-max = 8m\n"
		"url = https://busybox.net/downloads/busybox-1.35.0.tar.bz2\n"
		"url = file:///var/cache/tinyboot/sources/busybox_1.35.0.orig.tar.bz2\n"
		"strip = busybox-1.35.0\n"
		"[x_y+z.1]\n"
		"url = http://example.org/get/x.tar.gz?mirror=1\n"
		"strip = x y\n"
		"sha256 = " SHA_A "\n";
	char *dir = tmp_root(), *path, err[512] = "";
	struct sources *s = NULL;
	const struct source *src;

	(void)state;
	assert_int_equal(load_text(dir, text, strlen(text), &s, err, sizeof(err), &path), 0);
	assert_string_equal(err, "");
	assert_int_equal(sources_count(s), 3);

	src = sources_at(s, 0);
	assert_string_equal(src->name, "linux-6.1-debian");
	assert_string_equal(src->sha256, SHA_A);
	assert_true(src->size_max == 200ull << 20);
	assert_int_equal(src->nurls, 1);
	assert_string_equal(src->urls[0], "file:///usr/src/linux-source-6.1.tar.xz");
	assert_string_equal(src->strip, "linux-source-6.1");

	src = sources_find(s, "busybox-1.35.0");
	assert_ptr_equal(src, sources_at(s, 1));
	assert_string_equal(src->sha256, "faeeb244c35a348a334f4a59e44626ee870fb07b6884d68c10ae8bc19f83a694");
	assert_true(src->size_max == 8ull << 20);
	assert_int_equal(src->nurls, 2);
	assert_string_equal(src->urls[0], "https://busybox.net/downloads/busybox-1.35.0.tar.bz2");
	assert_string_equal(src->urls[1], "file:///var/cache/tinyboot/sources/busybox_1.35.0.orig.tar.bz2");

	src = sources_find(s, "x_y+z.1");
	assert_non_null(src);
	assert_true(src->size_max == SOURCES_SIZE_MAX_DEFAULT);
	assert_string_equal(src->strip, "x y");

	assert_null(sources_find(s, "busybox"));
	assert_null(sources_at(s, 3));
	sources_free(s);
	free(path);
	remove_root(dir);
}

/* The real file, when the tests run from the top of the tree. */
static void test_parse_etc(void **state)
{
	struct sources *s = NULL;
	char err[512] = "";

	(void)state;
	if (access("etc/sources.conf", R_OK) != 0)
		skip();
	assert_int_equal(sources_load("etc/sources.conf", &s, err, sizeof(err)), 0);
	assert_true(sources_count(s) > 0);
	sources_free(s);
}

static void test_parse_missing_file(void **state)
{
	struct sources *s = (struct sources *)1;
	char err[512];

	(void)state;
	assert_int_equal(sources_load("/nonexistent/sources.conf", &s, err, sizeof(err)), -ENOENT);
	assert_null(s);
	assert_string_equal(err, "/nonexistent/sources.conf: No such file or directory");
}

static void test_null_tolerant(void **state)
{
	(void)state;
	sources_free(NULL);
	assert_int_equal(sources_count(NULL), 0);
	assert_null(sources_at(NULL, 0));
	assert_null(sources_find(NULL, "a"));
	assert_int_equal(sources_remove_tree(AT_FDCWD, "/nonexistent/tree"), 0);
}

/* ---- a one-request-at-a-time HTTP server on 127.0.0.1 ---- */

struct httpd {
	int fd;
	int port;
	volatile int stop;
	pthread_t thread;
	const char *tarball;      /* path of the good tarball */
	const char *origin_url;   /* file:// URL of it, for the refused redirect */
};

static void send_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

static void httpd_answer(struct httpd *h, int fd, const char *path)
{
	char head[1024];
	char junk[5000];
	size_t len = 0;
	char *body;

	memset(junk, 'j', sizeof(junk));
	if (strcmp(path, "/pkg.tar.gz") == 0) {
		body = read_file(h->tarball, &len);
		snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", len);
		send_all(fd, head, strlen(head));
		send_all(fd, body, len);
		free(body);
	} else if (strcmp(path, "/big.tar.gz") == 0) {
		/* announces far more than size-max, then sends 10 bytes and hangs up */
		snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\nConnection: close\r\n\r\n");
		send_all(fd, head, strlen(head));
		send_all(fd, junk, 10);
	} else if (strcmp(path, "/nolength.tar.gz") == 0) {
		snprintf(head, sizeof(head), "HTTP/1.0 200 OK\r\nConnection: close\r\n\r\n");
		send_all(fd, head, strlen(head));
		send_all(fd, junk, sizeof(junk));
	} else if (strcmp(path, "/to-file.tar.gz") == 0) {
		snprintf(head, sizeof(head), "HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
			 h->origin_url);
		send_all(fd, head, strlen(head));
	} else if (strcmp(path, "/moved.tar.gz") == 0) {
		snprintf(head, sizeof(head), "HTTP/1.1 301 Moved\r\nLocation: /pkg.tar.gz\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
		send_all(fd, head, strlen(head));
	} else {
		snprintf(head, sizeof(head), "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
		send_all(fd, head, strlen(head));
	}
}

static void *httpd_main(void *arg)
{
	struct httpd *h = arg;

	while (!h->stop) {
		struct pollfd pfd = { .fd = h->fd, .events = POLLIN };
		char req[4096], path[256];
		size_t used = 0;
		int c;

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		c = accept4(h->fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		while (used < sizeof(req) - 1) {
			ssize_t n = recv(c, req + used, sizeof(req) - 1 - used, 0);

			if (n <= 0)
				break;
			used += (size_t)n;
			req[used] = '\0';
			if (strstr(req, "\r\n\r\n"))
				break;
		}
		req[used] = '\0';
		if (sscanf(req, "GET %255s ", path) == 1)
			httpd_answer(h, c, path);
		close(c);
	}
	return NULL;
}

static void httpd_start(struct httpd *h)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t slen = sizeof(sa);

	h->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(h->fd >= 0);
	assert_int_equal(bind(h->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(h->fd, 16), 0);
	assert_int_equal(getsockname(h->fd, (struct sockaddr *)&sa, &slen), 0);
	h->port = ntohs(sa.sin_port);
	h->stop = 0;
	assert_int_equal(pthread_create(&h->thread, NULL, httpd_main, h), 0);
}

static void httpd_stop(struct httpd *h)
{
	h->stop = 1;
	pthread_join(h->thread, NULL);
	close(h->fd);
}

/* ---- fetch and extract fixture ---- */

struct fx {
	char *dir;          /* everything below is inside */
	char *state;        /* the STATE_DIR under test */
	char *tarball;      /* origin/pkg.tar.gz: pkg-1.0/hello.txt, pkg-1.0/sub/deep.bin */
	char *url;          /* file:// URL of it */
	char *conf;
	char sha[DIGEST_HEX_LEN];
	unsigned char deep[DEEP_LEN];
	size_t tarball_len;
	struct sources *srcs;
	int log_fd;
	char *log_path;
	char err[1024];
	char out[PATH_MAX];
	struct httpd httpd;
	bool httpd_on;
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char *p, *tree;
	uint32_t x = 2463534242u;
	int fd;

	assert_non_null(f);
	f->dir = tmp_root();
	f->state = xasprintf("%s/state", f->dir);
	tree = xasprintf("%s/tree", f->dir);
	assert_int_equal(mkdir(tree, 0755), 0);
	p = xasprintf("%s/pkg-1.0", tree);
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	p = xasprintf("%s/pkg-1.0/sub", tree);
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	p = xasprintf("%s/pkg-1.0/hello.txt", tree);
	write_file(p, HELLO, strlen(HELLO));
	free(p);
	for (size_t i = 0; i < DEEP_LEN; i++) { /* xorshift32: incompressible, reproducible */
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		f->deep[i] = (unsigned char)x;
	}
	p = xasprintf("%s/pkg-1.0/sub/deep.bin", tree);
	write_file(p, f->deep, DEEP_LEN);
	free(p);
	p = xasprintf("%s/origin", f->dir);
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	f->tarball = xasprintf("%s/origin/pkg.tar.gz", f->dir);
	{
		char *argv[] = { "tar", "-czf", f->tarball, "-C", tree, "pkg-1.0", NULL };
		struct spawn_opts so = { .log_fd = 2 };

		assert_int_equal(spawn_run(argv, &so), 0);
	}
	free(tree);
	fd = open(f->tarball, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(digest_sha256_fd(fd, f->sha), 0);
	f->tarball_len = (size_t)lseek(fd, 0, SEEK_END);
	close(fd);
	assert_true(f->tarball_len > 2048);
	f->url = xasprintf("file://%s", f->tarball);
	f->conf = xasprintf("%s/sources.conf", f->dir);
	f->log_path = xasprintf("%s/build.log", f->dir);
	f->log_fd = open(f->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	assert_true(f->log_fd >= 0);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	if (f->httpd_on)
		httpd_stop(&f->httpd);
	sources_free(f->srcs);
	close(f->log_fd);
	assert_int_equal(sources_remove_tree(AT_FDCWD, f->dir), 0);
	free(f->dir);
	free(f->state);
	free(f->tarball);
	free(f->url);
	free(f->conf);
	free(f->log_path);
	free(f);
	return 0;
}

static void fx_httpd(struct fx *f)
{
	f->httpd.tarball = f->tarball;
	f->httpd.origin_url = f->url;
	httpd_start(&f->httpd);
	f->httpd_on = true;
}

static char *fx_http_url(struct fx *f, const char *path)
{
	return xasprintf("http://127.0.0.1:%d%s", f->httpd.port, path);
}

/* Load a one-section sources.conf for [pkg]; url2 may be NULL. */
static const struct source *fx_source(struct fx *f, const char *sha, const char *size_max,
				      const char *url1, const char *url2, const char *strip)
{
	char *text = xasprintf("[pkg]\nsha256 = %s\n%s%s%surl = %s\n%s%s%sstrip = %s\n", sha,
			       size_max ? "size-max = " : "", size_max ? size_max : "",
			       size_max ? "\n" : "", url1, url2 ? "url = " : "", url2 ? url2 : "",
			       url2 ? "\n" : "", strip);
	char err[512] = "";

	write_file(f->conf, text, strlen(text));
	free(text);
	sources_free(f->srcs);
	f->srcs = NULL;
	assert_int_equal(sources_load(f->conf, &f->srcs, err, sizeof(err)), 0);
	return sources_find(f->srcs, "pkg");
}

static char *fx_path(struct fx *f, const char *rel)
{
	return xasprintf("%s/%s", f->state, rel);
}

static int fx_log_count(struct fx *f, const char *needle)
{
	char *log = read_file(f->log_path, NULL);
	int n;

	assert_non_null(log);
	n = count_in(log, needle);
	free(log);
	return n;
}

static void fx_assert_placed(struct fx *f)
{
	char *want = fx_path(f, "sources/pkg.tar.gz"), *tmp = fx_path(f, "tmp");
	char hex[DIGEST_HEX_LEN];
	int fd;

	assert_string_equal(f->out, want);
	fd = open(want, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(digest_sha256_fd(fd, hex), 0);
	close(fd);
	assert_string_equal(hex, f->sha);
	assert_dir_empty(tmp);
	free(want);
	free(tmp);
}

static void fx_assert_nothing_placed(struct fx *f)
{
	char *file = fx_path(f, "sources/pkg.tar.gz"), *tmp = fx_path(f, "tmp");

	assert_false(exists(file));
	assert_dir_empty(tmp);
	free(file);
	free(tmp);
}

static int fx_fetch(struct fx *f, const struct source *s)
{
	f->err[0] = '\0';
	f->out[0] = '\0';
	return sources_fetch(s, f->state, f->log_fd, f->out, sizeof(f->out), f->err, sizeof(f->err));
}

static int fx_extract(struct fx *f, const struct source *s)
{
	f->err[0] = '\0';
	f->out[0] = '\0';
	return sources_extract(s, f->state, f->log_fd, f->out, sizeof(f->out), f->err, sizeof(f->err));
}

/* ---- fetch ---- */

static void test_fetch_ok(void **state)
{
	struct fx *f = *state;
	const struct source *s = fx_source(f, f->sha, "1M", f->url, NULL, "pkg-1.0");

	assert_int_equal(fx_fetch(f, s), 0);
	assert_string_equal(f->err, "");
	fx_assert_placed(f);
	assert_int_equal(fx_log_count(f, "pkg: fetching file://"), 1);
	assert_int_equal(fx_log_count(f, "sha256 ok"), 1);
}

static void test_fetch_bad_sha(void **state)
{
	struct fx *f = *state;
	const struct source *s = fx_source(f, SHA_ZERO, NULL, f->url, NULL, "pkg-1.0");
	char *want = xasprintf("pkg: sha256 mismatch from %s: expected %s, got %s", f->url, SHA_ZERO, f->sha);

	assert_int_equal(fx_fetch(f, s), -EBADMSG);
	assert_string_equal(f->err, want);
	assert_int_equal(fx_log_count(f, want), 1);
	fx_assert_nothing_placed(f);
	free(want);
}

static void test_fetch_too_big(void **state)
{
	struct fx *f = *state;
	const struct source *s = fx_source(f, f->sha, "1K", f->url, NULL, "pkg-1.0");
	char *want = xasprintf("pkg: %s is larger than size-max (1024 bytes)", f->url);

	assert_int_equal(fx_fetch(f, s), -EFBIG);
	assert_string_equal(f->err, want);
	fx_assert_nothing_placed(f);
	free(want);
}

static void test_fetch_cached_no_network(void **state)
{
	struct fx *f = *state;
	const struct source *s = fx_source(f, f->sha, NULL, f->url, NULL, "pkg-1.0");

	assert_int_equal(fx_fetch(f, s), 0);
	assert_int_equal(unlink(f->tarball), 0);
	assert_int_equal(fx_fetch(f, s), 0);
	assert_string_equal(f->err, "");
	fx_assert_placed(f);
	assert_int_equal(fx_log_count(f, "pkg: fetching"), 1);
}

static void test_fetch_cached_corrupt_refetched(void **state)
{
	struct fx *f = *state;
	const struct source *s = fx_source(f, f->sha, NULL, f->url, NULL, "pkg-1.0");
	char *placed = fx_path(f, "sources/pkg.tar.gz");

	assert_int_equal(fx_fetch(f, s), 0);
	write_file(placed, "garbage", 7);
	assert_int_equal(fx_fetch(f, s), 0);
	fx_assert_placed(f);
	assert_int_equal(fx_log_count(f, "fetching again"), 1);
	assert_int_equal(fx_log_count(f, "pkg: fetching file://"), 2);
	free(placed);
}

static void test_fetch_first_url_missing(void **state)
{
	struct fx *f = *state;
	char *missing = xasprintf("file://%s/origin/missing.tar.gz", f->dir);
	const struct source *s = fx_source(f, f->sha, NULL, missing, f->url, "pkg-1.0");

	assert_int_equal(fx_fetch(f, s), 0);
	assert_string_equal(f->err, "");
	fx_assert_placed(f);
	assert_int_equal(fx_log_count(f, "trying the next url"), 1);
	free(missing);
}

static void test_fetch_all_missing(void **state)
{
	struct fx *f = *state;
	char *m1 = xasprintf("file://%s/origin/m1.tar.gz", f->dir);
	char *m2 = xasprintf("file://%s/origin/m2.tar.gz", f->dir);
	const struct source *s = fx_source(f, f->sha, NULL, m1, m2, "pkg-1.0");
	char *want = xasprintf("pkg: fetching %s failed: ", m2);

	assert_int_equal(fx_fetch(f, s), -ENOENT);
	assert_memory_equal(f->err, want, strlen(want));
	fx_assert_nothing_placed(f);
	free(m1);
	free(m2);
	free(want);
}

/* A mirror serving other bytes is reported even when a later mirror fails otherwise. */
static void test_fetch_mismatch_outranks(void **state)
{
	struct fx *f = *state;
	char *other = xasprintf("%s/origin/other.tar.gz", f->dir);
	char *u1 = xasprintf("file://%s", other);
	char *u2 = xasprintf("file://%s/origin/m2.tar.gz", f->dir);
	const struct source *s = fx_source(f, f->sha, NULL, u1, u2, "pkg-1.0");
	char *want = xasprintf("pkg: sha256 mismatch from %s: expected %s, got ", u1, f->sha);

	write_file(other, "not the tarball", 15);
	assert_int_equal(fx_fetch(f, s), -EBADMSG);
	assert_memory_equal(f->err, want, strlen(want));
	fx_assert_nothing_placed(f);
	free(other);
	free(u1);
	free(u2);
	free(want);
}

static void test_fetch_path_too_small(void **state)
{
	struct fx *f = *state;
	const struct source *s = fx_source(f, f->sha, NULL, f->url, NULL, "pkg-1.0");
	char small[8];

	assert_int_equal(sources_fetch(s, f->state, -1, small, sizeof(small), f->err, sizeof(f->err)),
			 -ENAMETOOLONG);
	assert_memory_equal(f->err, "pkg: ", 5);
}

static void test_fetch_bad_source(void **state)
{
	struct fx *f = *state;
	char *urls[] = { "file:///x/a.zip" };
	struct source s = { .name = "pkg", .sha256 = SHA_A, .size_max = 10, .urls = urls, .nurls = 1 };

	assert_int_equal(fx_fetch(f, &s), -EINVAL);
	assert_string_equal(f->err, "pkg: incomplete source definition");
	s.name = "../x";
	assert_int_equal(fx_fetch(f, &s), -EINVAL);
	assert_string_equal(f->err, "(source): not a valid source name");
}

/* ---- fetch over HTTP ---- */

static void test_http_ok_after_404(void **state)
{
	struct fx *f = *state;
	char *u1, *u2;
	const struct source *s;

	fx_httpd(f);
	u1 = fx_http_url(f, "/missing.tar.gz");
	u2 = fx_http_url(f, "/moved.tar.gz"); /* a redirect within http is followed */
	s = fx_source(f, f->sha, "1M", u1, u2, "pkg-1.0");
	assert_int_equal(fx_fetch(f, s), 0);
	fx_assert_placed(f);
	assert_int_equal(fx_log_count(f, "returned error: 404"), 1);
	free(u1);
	free(u2);
}

static void test_http_content_length_over_cap(void **state)
{
	struct fx *f = *state;
	char *u, *want;
	const struct source *s;

	fx_httpd(f);
	u = fx_http_url(f, "/big.tar.gz");
	s = fx_source(f, f->sha, "1M", u, NULL, "pkg-1.0");
	want = xasprintf("pkg: %s is larger than size-max (1048576 bytes)", u);
	/* only an up-front refusal gives EFBIG: the body is 10 bytes, then the server hangs up */
	assert_int_equal(fx_fetch(f, s), -EFBIG);
	assert_string_equal(f->err, want);
	fx_assert_nothing_placed(f);
	free(u);
	free(want);
}

static void test_http_no_length_over_cap(void **state)
{
	struct fx *f = *state;
	char *u;
	const struct source *s;

	fx_httpd(f);
	u = fx_http_url(f, "/nolength.tar.gz");
	s = fx_source(f, f->sha, "1K", u, NULL, "pkg-1.0");
	assert_int_equal(fx_fetch(f, s), -EFBIG);
	fx_assert_nothing_placed(f);
	free(u);
}

static void test_http_redirect_to_file_refused(void **state)
{
	struct fx *f = *state;
	char *u;
	const struct source *s;

	fx_httpd(f);
	u = fx_http_url(f, "/to-file.tar.gz");
	s = fx_source(f, f->sha, "1M", u, NULL, "pkg-1.0");
	assert_true(fx_fetch(f, s) < 0);
	assert_non_null(strstr(f->err, "failed"));
	fx_assert_nothing_placed(f);
	free(u);
}

/* ---- extract ---- */

static void fx_assert_tree(struct fx *f)
{
	char *tree = fx_path(f, "src/pkg"), *p, *data, *want_marker, *tmp = fx_path(f, "tmp");
	size_t len;

	assert_string_equal(f->out, tree);
	p = xasprintf("%s/hello.txt", tree);
	data = read_file(p, NULL);
	assert_non_null(data);
	assert_string_equal(data, HELLO);
	free(data);
	free(p);
	p = xasprintf("%s/sub/deep.bin", tree);
	data = read_file(p, &len);
	assert_non_null(data);
	assert_int_equal(len, DEEP_LEN);
	assert_memory_equal(data, f->deep, DEEP_LEN);
	free(data);
	free(p);
	p = xasprintf("%s/" SOURCES_MARKER, tree);
	data = read_file(p, NULL);
	want_marker = xasprintf("%s\n", f->sha);
	assert_non_null(data);
	assert_string_equal(data, want_marker);
	free(want_marker);
	free(data);
	free(p);
	p = xasprintf("%s/junk", tree);
	assert_false(exists(p));
	free(p);
	assert_dir_empty(tmp);
	free(tmp);
	free(tree);
}

static void test_extract_ok(void **state)
{
	struct fx *f = *state;
	const struct source *s = fx_source(f, f->sha, NULL, f->url, NULL, "pkg-1.0");

	assert_int_equal(fx_extract(f, s), 0);
	assert_string_equal(f->err, "");
	fx_assert_tree(f);
	assert_int_equal(fx_log_count(f, "$ tar "), 1);
}

/* A tree there already: without a marker (half extracted) or with another sha (old version). */
static void stale_tree(struct fx *f, const char *marker)
{
	char *p;

	p = fx_path(f, "src");
	assert_int_equal(mkdir(f->state, 0755), 0);
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	p = fx_path(f, "src/pkg");
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	p = fx_path(f, "src/pkg/junk");
	write_file(p, "x", 1);
	free(p);
	if (marker) {
		p = fx_path(f, "src/pkg/" SOURCES_MARKER);
		write_file(p, marker, strlen(marker));
		free(p);
	}
}

static void test_extract_replaces_unmarked(void **state)
{
	struct fx *f = *state;
	const struct source *s = fx_source(f, f->sha, NULL, f->url, NULL, "pkg-1.0");

	stale_tree(f, NULL);
	assert_int_equal(fx_extract(f, s), 0);
	fx_assert_tree(f);
	assert_int_equal(fx_log_count(f, "removing the incomplete or outdated"), 1);
}

static void test_extract_replaces_other_sha(void **state)
{
	struct fx *f = *state;
	const struct source *s = fx_source(f, f->sha, NULL, f->url, NULL, "pkg-1.0");

	stale_tree(f, SHA_A "\n");
	assert_int_equal(fx_extract(f, s), 0);
	fx_assert_tree(f);
}

static void test_extract_present_needs_nothing(void **state)
{
	struct fx *f = *state;
	const struct source *s = fx_source(f, f->sha, NULL, f->url, NULL, "pkg-1.0");
	char *placed = fx_path(f, "sources/pkg.tar.gz");

	assert_int_equal(fx_extract(f, s), 0);
	assert_int_equal(unlink(placed), 0);
	assert_int_equal(unlink(f->tarball), 0);
	assert_int_equal(fx_extract(f, s), 0);
	fx_assert_tree(f);
	assert_int_equal(fx_log_count(f, "$ tar "), 1);
	assert_int_equal(fx_log_count(f, "pkg: fetching"), 1);
	free(placed);
}

static void test_extract_wrong_strip(void **state)
{
	struct fx *f = *state;
	const struct source *s = fx_source(f, f->sha, NULL, f->url, NULL, "pkg-2.0");
	char *tree = fx_path(f, "src/pkg"), *tmp = fx_path(f, "tmp");
	char *want = xasprintf("pkg: %s/sources/pkg.tar.gz has no top-level directory pkg-2.0", f->state);

	assert_int_equal(fx_extract(f, s), -ENOENT);
	assert_string_equal(f->err, want);
	assert_false(exists(tree));
	assert_dir_empty(tmp);
	free(tree);
	free(tmp);
	free(want);
}

static void test_extract_bad_sha_never_extracts(void **state)
{
	struct fx *f = *state;
	const struct source *s = fx_source(f, SHA_ZERO, NULL, f->url, NULL, "pkg-1.0");
	char *tree = fx_path(f, "src/pkg");

	assert_int_equal(fx_extract(f, s), -EBADMSG);
	assert_non_null(strstr(f->err, "sha256 mismatch"));
	assert_false(exists(tree));
	fx_assert_nothing_placed(f);
	assert_int_equal(fx_log_count(f, "$ tar "), 0);
	free(tree);
}

/* Right checksum, but not a tarball: tar's failure is reported and nothing is left behind. */
static void test_extract_tar_fails(void **state)
{
	struct fx *f = *state;
	char *bogus = xasprintf("%s/origin/bogus.tar.gz", f->dir), *url = xasprintf("file://%s", bogus);
	char *tree = fx_path(f, "src/pkg"), *tmp = fx_path(f, "tmp"), *want, hex[DIGEST_HEX_LEN];
	const struct source *s;

	write_file(bogus, "this is not gzip", 16);
	assert_int_equal(digest_sha256_buf("this is not gzip", 16, hex), 0);
	s = fx_source(f, hex, NULL, url, NULL, "pkg-1.0");
	want = xasprintf("pkg: tar failed (status 2) extracting %s/sources/pkg.tar.gz", f->state);
	assert_int_equal(fx_extract(f, s), -EIO);
	assert_string_equal(f->err, want);
	assert_false(exists(tree));
	assert_dir_empty(tmp);
	free(bogus);
	free(url);
	free(tree);
	free(tmp);
	free(want);
}

struct extract_job {
	struct fx *f;
	const struct source *s;
	int rc;
	char err[512];
	char out[PATH_MAX];
};

static void *extract_thread(void *arg)
{
	struct extract_job *j = arg;

	j->rc = sources_extract(j->s, j->f->state, j->f->log_fd, j->out, sizeof(j->out), j->err,
				sizeof(j->err));
	return NULL;
}

/* Builders asking for one source at once: one fetch, one tar, everyone gets the tree. */
static void test_extract_concurrent(void **state)
{
	struct fx *f = *state;
	const struct source *s = fx_source(f, f->sha, NULL, f->url, NULL, "pkg-1.0");
	struct extract_job jobs[4];
	pthread_t th[4];

	for (int i = 0; i < 4; i++) {
		jobs[i] = (struct extract_job){ .f = f, .s = s, .rc = -1 };
		assert_int_equal(pthread_create(&th[i], NULL, extract_thread, &jobs[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(jobs[i].rc, 0);
		assert_string_equal(jobs[i].err, "");
	}
	strcpy(f->out, jobs[0].out);
	fx_assert_tree(f);
	assert_int_equal(fx_log_count(f, "$ tar "), 1);
	assert_int_equal(fx_log_count(f, "pkg: fetching"), 1);
}

/* ---- sources_remove_tree ---- */

static void test_remove_tree(void **state)
{
	struct fx *f = *state;
	char *t = xasprintf("%s/t", f->dir), *p, *keep = xasprintf("%s/origin/keep", f->dir);
	int dfd;

	write_file(keep, "k", 1);
	assert_int_equal(mkdir(t, 0755), 0);
	p = xasprintf("%s/a", t);
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	p = xasprintf("%s/a/b", t);
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	p = xasprintf("%s/a/b/file", t);
	write_file(p, "x", 1);
	free(p);
	p = xasprintf("%s/a/b", t);
	assert_int_equal(chmod(p, 0555), 0); /* read-only, as tar may leave it */
	free(p);
	p = xasprintf("%s/link", t); /* must be removed, never followed */
	{
		char *target = xasprintf("%s/origin", f->dir);

		assert_int_equal(symlink(target, p), 0);
		free(target);
	}
	free(p);
	dfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	assert_int_equal(sources_remove_tree(dfd, "t"), 0);
	close(dfd);
	assert_false(exists(t));
	assert_true(exists(keep));
	assert_true(exists(f->tarball));
	assert_int_equal(sources_remove_tree(AT_FDCWD, t), 0); /* gone already: fine */
	assert_int_equal(sources_remove_tree(AT_FDCWD, ""), -EINVAL);
	free(t);
	free(keep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_parse_line_too_long),
		cmocka_unit_test(test_parse_too_many_urls),
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_etc),
		cmocka_unit_test(test_parse_missing_file),
		cmocka_unit_test(test_null_tolerant),
		cmocka_unit_test_setup_teardown(test_fetch_ok, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_fetch_bad_sha, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_fetch_too_big, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_fetch_cached_no_network, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_fetch_cached_corrupt_refetched, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_fetch_first_url_missing, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_fetch_all_missing, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_fetch_mismatch_outranks, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_fetch_path_too_small, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_fetch_bad_source, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_http_ok_after_404, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_http_content_length_over_cap, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_http_no_length_over_cap, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_http_redirect_to_file_refused, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_extract_ok, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_extract_replaces_unmarked, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_extract_replaces_other_sha, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_extract_present_needs_nothing, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_extract_wrong_strip, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_extract_bad_sha_never_extracts, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_extract_tar_fails, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_extract_concurrent, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_remove_tree, fx_setup, fx_teardown),
	};
	int rc;

	/* the daemon's main does this once; the local test server must not go through a proxy */
	if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
		return 1;
	setenv("no_proxy", "*", 1);
	log_set_level(LOG_LEVEL_WARN);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
