/* testlib.h - unit test fixtures: a temp dir per test, files, a source tarball, an input tree, an
 * HTTP server. */
#ifndef TINYBOOT_TESTLIB_H
#define TINYBOOT_TESTLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/sources.h"

/* The current test's directory (set by testlib_setup_tmpdir, removed by testlib_teardown_tmpdir). */
extern char testlib_dir[];

/* cmocka group or test fixtures: a fresh mkdtemp directory, removed with everything in it. */
int testlib_setup_tmpdir(void **state);
int testlib_teardown_tmpdir(void **state);

/* "testlib_dir/NAME" in a new string (the caller frees it). */
char *testlib_path(const char *name);
char *testlib_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Write, or read back NUL-terminated (NULL when it cannot be opened); a failure fails the test. */
void testlib_write_file(const char *path, const void *data, size_t len);
void testlib_write_text(const char *path, const char *text);
char *testlib_read_file(const char *path, size_t *len);
bool testlib_exists(const char *path);
/* Remove a tree (no shell); 0 or -errno. */
int testlib_rmtree(const char *path);
/* Entries in a directory besides . and .. (each named on stderr); a failure fails the test. */
int testlib_dir_count(const char *path);
/* How often needle occurs in the file (0 if it cannot be read). */
int testlib_file_count(const char *path, const char *needle);

/* ---- a small source tarball, and a store to fetch and extract it in ---- */

struct store;

#define TESTLIB_PKG_HELLO "hello, tinyboot\n"
#define TESTLIB_PKG_DEEP_LEN 4096

struct testlib_pkg {
	char *tarball;    /* DIR/origin/pkg.tar.gz: pkg-1.0/hello.txt, pkg-1.0/sub/deep.bin */
	char *url;        /* file:// URL of it */
	char sha256[65];
	size_t len;       /* over 2 KiB: deep.bin does not compress */
	unsigned char deep[TESTLIB_PKG_DEEP_LEN];
	char *state;      /* DIR/state: the state directory under test */
	struct store *store; /* open on state (store_open made its areas) */
	char *log_path;   /* DIR/build.log, open for appending in log_fd */
	int log_fd;
	struct source src; /* [pkg], as testlib_pkg_source() last set it */
	char *urls[2];
};

/* Build all of it below testlib_dir (tar -czf) and open the store. */
void testlib_pkg_make(struct testlib_pkg *pkg);
void testlib_pkg_free(struct testlib_pkg *pkg);
/* Set pkg->src to [pkg] with one or two urls (url2 NULL: one); size_max 0 is sources.conf's
 * default. Returns &pkg->src. */
const struct source *testlib_pkg_source(struct testlib_pkg *pkg, const char *sha, uint64_t size_max,
					const char *url1, const char *url2, const char *strip);
/* "STATE/rel" in a new string. */
char *testlib_pkg_path(const struct testlib_pkg *pkg, const char *rel);
/* How often needle occurs in the build log. */
int testlib_pkg_log_count(const struct testlib_pkg *pkg, const char *needle);

/* ---- one variant's inputs, t: its recipe, fragments, patch, busybox config, overlays ---- */

struct options;

#define TESTLIB_TREE_SHA_K "1111111111111111111111111111111111111111111111111111111111111111"
#define TESTLIB_TREE_SHA_B "2222222222222222222222222222222222222222222222222222222222222222"
/* The glibc toolchain of the recipe: its libc.a is hashed into the key. */
#define TESTLIB_TREE_LIBC_A "/usr/lib/x86_64-linux-gnu/libc.a"

/* images/t.image (kernel linux, fragment base, patch fix, busybox bb with config mini, glibc,
 * overlay ov, a cmdline) and sources.conf ([linux] sha256 SHA_K, [bb] SHA_B, file:// urls). */
extern const char testlib_tree_recipe[];
extern const char testlib_tree_sources[];

/* Where testlib_tree_options points a struct options. */
struct testlib_tree {
	char recipe_dir[4096], kconfig_dir[4096], rootfs_dir[4096], sources_file[4096];
};

/* cmocka fixture: testlib_setup_tmpdir, then in it images/t.image, kconfig/{base,extra,unused}.config,
 * kconfig/patches/fix.patch, rootfs/busybox/mini.config, overlay ov (etc/motd, etc/issue a symlink
 * to /etc/motd, bin/run), overlay other (x; t does not use it), sources.conf. */
int testlib_tree_setup(void **state);
/* Point o's recipe, kconfig and rootfs dirs and sources file at the tree; t holds the strings. */
void testlib_tree_options(struct testlib_tree *t, struct options *o);
/* "testlib_dir/REL" in one of four static buffers, reused in turn. */
const char *testlib_tree_path(const char *rel);
/* Write text to REL; make REL and its parents. A failure fails the test. */
void testlib_tree_put(const char *rel, const char *text);
void testlib_tree_mkdirs(const char *rel);
/* Skip the test (saying why) where the recipe's toolchain is missing (libc6-dev). */
void testlib_tree_need_toolchain(void);

/* ---- a one-request-at-a-time HTTP server on 127.0.0.1 ---- */

/* Answer one GET of path on fd with a whole response; the server closes the connection after. */
typedef void testlib_http_fn(int fd, const char *path, void *arg);
struct testlib_http;

struct testlib_http *testlib_http_start(testlib_http_fn *fn, void *arg);
void testlib_http_stop(struct testlib_http *h); /* NULL-tolerant */
/* "http://127.0.0.1:PORT" + path, in a new string. */
char *testlib_http_url(const struct testlib_http *h, const char *path);
/* Send all of data (a peer that hangs up ends it quietly). */
void testlib_http_send(int fd, const void *data, size_t len);

#endif
