/* testlib.c - fixtures shared by the unit tests: temp dirs, files, a tarball, an input tree, an
 * HTTP server. */
#include "testlib.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "build/store.h"
#include "conf/options.h"
#include "lib/digest.h"
#include "lib/fsutil.h"
#include "lib/spawn.h"

char testlib_dir[PATH_MAX];

static int testlib_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

int testlib_rmtree(const char *path)
{
	if (nftw(path, testlib_rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
		return errno == ENOENT ? 0 : -errno;
	return 0;
}

int testlib_setup_tmpdir(void **state)
{
	const char *tmp = getenv("TMPDIR");

	(void)state;
	snprintf(testlib_dir, sizeof(testlib_dir), "%s/tinyboot-unit.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	return mkdtemp(testlib_dir) ? 0 : -1;
}

int testlib_teardown_tmpdir(void **state)
{
	int rc;

	(void)state;
	if (!testlib_dir[0])
		return 0;
	/* a test may have left read-only directories behind on purpose */
	rc = testlib_rmtree(testlib_dir);
	testlib_dir[0] = '\0';
	return rc ? -1 : 0;
}

char *testlib_asprintf(const char *fmt, ...)
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

char *testlib_path(const char *name)
{
	return testlib_asprintf("%s/%s", testlib_dir, name);
}

void testlib_write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

void testlib_write_text(const char *path, const char *text)
{
	testlib_write_file(path, text, strlen(text));
}

char *testlib_read_file(const char *path, size_t *len)
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

bool testlib_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

int testlib_dir_count(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		fprintf(stderr, "in %s: %s\n", path, e->d_name);
		n++;
	}
	closedir(d);
	return n;
}

int testlib_file_count(const char *path, const char *needle)
{
	char *text = testlib_read_file(path, NULL);
	int n = 0;

	if (!text)
		return 0;
	for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	free(text);
	return n;
}

/* ---- a small source tarball ---- */

static void testlib_mkdir(const char *dir, const char *name)
{
	char *p = testlib_asprintf("%s/%s", dir, name);

	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
}

void testlib_pkg_make(struct testlib_pkg *pkg)
{
	const char *dir = testlib_dir;
	char *tree = testlib_asprintf("%s/tree", dir), *p;
	struct spawn_opts so = { .log_fd = 2 };
	uint32_t x = 2463534242u;
	int fd;

	memset(pkg, 0, sizeof(*pkg));
	testlib_mkdir(dir, "tree");
	testlib_mkdir(dir, "tree/pkg-1.0");
	testlib_mkdir(dir, "tree/pkg-1.0/sub");
	testlib_mkdir(dir, "origin");
	p = testlib_asprintf("%s/pkg-1.0/hello.txt", tree);
	testlib_write_text(p, TESTLIB_PKG_HELLO);
	free(p);
	for (size_t i = 0; i < TESTLIB_PKG_DEEP_LEN; i++) { /* xorshift32: incompressible, reproducible */
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		pkg->deep[i] = (unsigned char)x;
	}
	p = testlib_asprintf("%s/pkg-1.0/sub/deep.bin", tree);
	testlib_write_file(p, pkg->deep, TESTLIB_PKG_DEEP_LEN);
	free(p);
	pkg->tarball = testlib_asprintf("%s/origin/pkg.tar.gz", dir);
	{
		char *argv[] = { "tar", "-czf", pkg->tarball, "-C", tree, "pkg-1.0", NULL };

		assert_int_equal(spawn_run(argv, &so), 0);
	}
	free(tree);
	fd = open(pkg->tarball, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(digest_sha256_fd(fd, pkg->sha256), 0);
	pkg->len = (size_t)lseek(fd, 0, SEEK_END);
	close(fd);
	assert_true(pkg->len > 2048);
	pkg->url = testlib_asprintf("file://%s", pkg->tarball);
	pkg->state = testlib_asprintf("%s/state", dir);
	assert_int_equal(store_open(pkg->state, &pkg->store), 0);
	pkg->log_path = testlib_asprintf("%s/build.log", dir);
	pkg->log_fd = open(pkg->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	assert_true(pkg->log_fd >= 0);
}

static void testlib_pkg_source_clear(struct testlib_pkg *pkg)
{
	for (size_t i = 0; i < 2; i++) {
		free(pkg->urls[i]);
		pkg->urls[i] = NULL;
	}
	free(pkg->src.strip);
	memset(&pkg->src, 0, sizeof(pkg->src));
}

void testlib_pkg_free(struct testlib_pkg *pkg)
{
	testlib_pkg_source_clear(pkg);
	store_free(pkg->store);
	if (pkg->log_fd > 0)
		close(pkg->log_fd);
	free(pkg->tarball);
	free(pkg->url);
	free(pkg->state);
	free(pkg->log_path);
	memset(pkg, 0, sizeof(*pkg));
}

const struct source *testlib_pkg_source(struct testlib_pkg *pkg, const char *sha, uint64_t size_max,
					const char *url1, const char *url2, const char *strip)
{
	testlib_pkg_source_clear(pkg);
	pkg->urls[0] = strdup(url1);
	pkg->urls[1] = url2 ? strdup(url2) : NULL;
	pkg->src.name = (char *)"pkg";
	snprintf(pkg->src.sha256, sizeof(pkg->src.sha256), "%s", sha);
	pkg->src.size_max = size_max ? size_max : SOURCES_SIZE_MAX_DEFAULT;
	pkg->src.urls = pkg->urls;
	pkg->src.nurls = url2 ? 2 : 1;
	pkg->src.strip = strdup(strip);
	assert_non_null(pkg->urls[0]);
	assert_non_null(pkg->src.strip);
	return &pkg->src;
}

char *testlib_pkg_path(const struct testlib_pkg *pkg, const char *rel)
{
	return testlib_asprintf("%s/%s", pkg->state, rel);
}

int testlib_pkg_log_count(const struct testlib_pkg *pkg, const char *needle)
{
	return testlib_file_count(pkg->log_path, needle);
}

/* ---- one variant's input tree ---- */

const char testlib_tree_recipe[] =
	"# t.image\n"
	"arch = x86_64\n"
	"kernel-source = linux\n"
	"kernel-fragments = base\n"
	"kernel-patches = fix\n"
	"busybox-source = bb\n"
	"busybox-config = mini\n"
	"libc = glibc\n"
	"overlays = ov\n"
	"cmdline = console=ttyS0\n";

const char testlib_tree_sources[] =
	"[linux]\nsha256 = " TESTLIB_TREE_SHA_K "\nurl = file:///x/linux.tar.xz\nstrip = linux\n"
	"[bb]\nsha256 = " TESTLIB_TREE_SHA_B "\nurl = file:///x/bb.tar.bz2\nstrip = bb\n";

const char *testlib_tree_path(const char *rel)
{
	static char ring[4][PATH_MAX];
	static unsigned next;
	char *p = ring[next++ % 4];

	assert_true(snprintf(p, sizeof(ring[0]), "%s/%s", testlib_dir, rel) < (int)sizeof(ring[0]));
	return p;
}

void testlib_tree_put(const char *rel, const char *text)
{
	testlib_write_text(testlib_tree_path(rel), text);
}

void testlib_tree_mkdirs(const char *rel)
{
	assert_int_equal(fsutil_mkdirs(testlib_tree_path(rel), 0755), 0);
}

int testlib_tree_setup(void **state)
{
	if (testlib_setup_tmpdir(state))
		return -1;
	testlib_tree_mkdirs("images");
	testlib_tree_mkdirs("kconfig/patches");
	testlib_tree_mkdirs("rootfs/busybox");
	testlib_tree_mkdirs("rootfs/ov/etc");
	testlib_tree_mkdirs("rootfs/ov/bin");
	testlib_tree_mkdirs("rootfs/other");
	testlib_tree_put("images/t.image", testlib_tree_recipe);
	testlib_tree_put("kconfig/base.config", "CONFIG_PRINTK=y\n");
	testlib_tree_put("kconfig/extra.config", "CONFIG_DEBUG_KERNEL=y\n");
	testlib_tree_put("kconfig/unused.config", "CONFIG_UNUSED=y\n");
	testlib_tree_put("kconfig/patches/fix.patch", "--- a/x\n+++ b/x\n");
	testlib_tree_put("rootfs/busybox/mini.config", "CONFIG_STATIC=y\n");
	testlib_tree_put("rootfs/ov/etc/motd", "hello\n");
	testlib_tree_put("rootfs/ov/bin/run", "#!/bin/sh\n");
	assert_int_equal(symlink("/etc/motd", testlib_tree_path("rootfs/ov/etc/issue")), 0);
	testlib_tree_put("rootfs/other/x", "not in t\n");
	testlib_tree_put("sources.conf", testlib_tree_sources);
	return 0;
}

void testlib_tree_options(struct testlib_tree *t, struct options *o)
{
	snprintf(t->recipe_dir, sizeof(t->recipe_dir), "%s", testlib_tree_path("images"));
	snprintf(t->kconfig_dir, sizeof(t->kconfig_dir), "%s", testlib_tree_path("kconfig"));
	snprintf(t->rootfs_dir, sizeof(t->rootfs_dir), "%s", testlib_tree_path("rootfs"));
	snprintf(t->sources_file, sizeof(t->sources_file), "%s", testlib_tree_path("sources.conf"));
	o->recipe_dir = t->recipe_dir;
	o->kconfig_dir = t->kconfig_dir;
	o->rootfs_dir = t->rootfs_dir;
	o->sources_file = t->sources_file;
}

void testlib_tree_need_toolchain(void)
{
	if (access(TESTLIB_TREE_LIBC_A, R_OK) != 0) {
		print_message("no %s (libc6-dev): skipped\n", TESTLIB_TREE_LIBC_A);
		skip();
	}
}

/* ---- a one-request-at-a-time HTTP server on 127.0.0.1 ---- */

struct testlib_http {
	int fd;
	int port;
	volatile int stop;
	pthread_t thread;
	testlib_http_fn *fn;
	void *arg;
};

void testlib_http_send(int fd, const void *data, size_t len)
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

static void *testlib_http_main(void *arg)
{
	struct testlib_http *h = arg;

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
			h->fn(c, path, h->arg);
		close(c);
	}
	return NULL;
}

struct testlib_http *testlib_http_start(testlib_http_fn *fn, void *arg)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t slen = sizeof(sa);
	struct testlib_http *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	h->fn = fn;
	h->arg = arg;
	h->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(h->fd >= 0);
	assert_int_equal(bind(h->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(h->fd, 16), 0);
	assert_int_equal(getsockname(h->fd, (struct sockaddr *)&sa, &slen), 0);
	h->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&h->thread, NULL, testlib_http_main, h), 0);
	return h;
}

void testlib_http_stop(struct testlib_http *h)
{
	if (!h)
		return;
	h->stop = 1;
	pthread_join(h->thread, NULL);
	close(h->fd);
	free(h);
}

char *testlib_http_url(const struct testlib_http *h, const char *path)
{
	return testlib_asprintf("http://127.0.0.1:%d%s", h->port, path);
}
