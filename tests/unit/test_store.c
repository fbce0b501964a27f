/* test_store.c - build/store.c: the state directory's layout, atomic publish, index, failure
 * records, memo, build logs, manifests, listing, tmp clean-up and the one-daemon lock. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "build/store.h"
#include "lib/fsutil.h"
#include "testlib.h"

#define ID1 "1111111111111111111111111111111111111111111111111111111111111111"
#define ID2 "2222222222222222222222222222222222222222222222222222222222222222"
#define ART1 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ART2 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static struct store *st;
static char *state; /* testlib_dir/state */

static int setup(void **s)
{
	if (testlib_setup_tmpdir(s))
		return -1;
	state = testlib_path("state");
	return store_open(state, &st);
}

static int teardown(void **s)
{
	store_free(st);
	st = NULL;
	free(state);
	state = NULL;
	return testlib_teardown_tmpdir(s);
}

/* A path formatted into one of a few static buffers: no leaks in the tests below. */
static const char *pathf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *pathf(const char *fmt, ...)
{
	static char ring[8][4096];
	static unsigned next;
	char *p = ring[next++ % 8];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(p, sizeof(ring[0]), fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof(ring[0]));
	return p;
}

/* STATE/REL */
static const char *at(const char *rel)
{
	return pathf("%s/%s", state, rel);
}

static bool exists_at(const char *rel)
{
	return testlib_exists(at(rel));
}

static void write_at(const char *rel, const char *text)
{
	testlib_write_text(at(rel), text);
}

static void mkdir_at(const char *rel)
{
	assert_int_equal(fsutil_mkdirs(at(rel), 0755), 0);
}

static size_t entries_at(const char *rel)
{
	DIR *d = opendir(at(rel));
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	closedir(d);
	return n;
}

static char *read_at(const char *rel)
{
	char *text = testlib_read_file(at(rel), NULL);

	assert_non_null(text);
	return text;
}

/* A directory in STATE/tmp holding the files of an artifact, as a build assembles it. */
static char *assemble(const char *id, const char *bz)
{
	char path[4096];
	json_t *m = json_pack("{s:s, s:{s:i}}", "variant", bz, "sizes", "bzImage", (int)strlen(bz));

	assert_int_equal(store_tmp_path(st, STORE_ARTIFACTS, id, path, sizeof(path)), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	testlib_write_text(pathf("%s/bzImage", path), bz);
	assert_int_equal(store_manifest_save(path, m), 0);
	json_decref(m);
	return strdup(path);
}

static void test_open_layout_and_lock(void **s)
{
	static const char *const areas[] = { "artifacts", "kernels", "busybox", "trees", "src",
					     "sources", "tmp", "index", "failed", "builds" };
	struct store *second = NULL;

	(void)s;
	for (size_t i = 0; i < sizeof(areas) / sizeof(areas[0]); i++)
		assert_true(exists_at(areas[i]));
	assert_true(exists_at("lock"));
	assert_string_equal(store_dir(st), state);
	/* one daemon per state directory */
	assert_int_equal(store_open(state, &second), -EWOULDBLOCK);
	assert_null(second);
	store_free(st);
	st = NULL;
	assert_int_equal(store_open(state, &st), 0);
	store_free(NULL);
	/* what HTTP serves is never reached through a link, not even the artifacts directory */
	store_free(st);
	st = NULL;
	assert_int_equal(rename(at("artifacts"), at("elsewhere")), 0);
	assert_int_equal(symlink(at("elsewhere"), at("artifacts")), 0);
	assert_true(store_open(state, &st) < 0);
	assert_null(st);
	assert_int_equal(unlink(at("artifacts")), 0);
	assert_int_equal(rename(at("elsewhere"), at("artifacts")), 0);
	assert_int_equal(store_open(state, &st), 0);
}

static void test_paths(void **s)
{
	static const struct {
		enum store_area area;
		const char *name, *file, *want; /* want: relative to STATE, NULL: an error */
		int rc;
	} cases[] = {
		{ STORE_ARTIFACTS, NULL, NULL, "artifacts", 0 },
		{ STORE_KERNELS, "k", "vmlinux", "kernels/k/vmlinux", 0 },
		{ STORE_BUSYBOX, "k", NULL, "busybox/k", 0 },
		{ STORE_HEADERS, "linux-x86_64", NULL, "headers/linux-x86_64", 0 },
		{ STORE_TREES, "t", NULL, "trees/t", 0 },
		{ STORE_SRC, "linux+pabc", NULL, "src/linux+pabc", 0 },
		{ STORE_SOURCES, NULL, NULL, "sources", 0 },
		{ STORE_CCACHE, NULL, NULL, "ccache", 0 },
		{ STORE_TMP, NULL, NULL, "tmp", 0 },
		{ STORE_KERNELS, "..", NULL, NULL, -EINVAL },
		{ STORE_KERNELS, ".", NULL, NULL, -EINVAL },
		{ STORE_KERNELS, "", NULL, NULL, -EINVAL },
		{ STORE_KERNELS, "a/b", NULL, NULL, -EINVAL },
		{ STORE_KERNELS, "k", "../../etc", NULL, -EINVAL },
		{ STORE_AREA_COUNT, NULL, NULL, NULL, -EINVAL },
	};
	char buf[4096], small[8];
	int fd;

	(void)s;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(store_path(st, cases[i].area, cases[i].name, cases[i].file, buf, sizeof(buf)),
				 cases[i].rc);
		if (cases[i].want)
			assert_string_equal(buf, at(cases[i].want));
	}
	assert_int_equal(store_path(st, STORE_TMP, NULL, NULL, small, sizeof(small)), -ENAMETOOLONG);
	/* tmp names say what is assembled and by whom */
	assert_int_equal(store_tmp_path(st, STORE_KERNELS, "k", buf, sizeof(buf)), 0);
	assert_string_equal(buf, pathf("%s/tmp/kernel-k.%ld", state, (long)getpid()));
	assert_int_equal(store_tmp_path(st, STORE_TREES, "t", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(store_tmp_path(st, STORE_KERNELS, "../x", buf, sizeof(buf)), -EINVAL);
	/* an area removed behind the store's back comes back */
	assert_int_equal(store_mkdir(st, STORE_CCACHE), 0);
	assert_true(exists_at("ccache"));
	/* and an area as a directory fd, made again when it went missing */
	assert_int_equal(testlib_rmtree(at("ccache")), 0);
	fd = store_area_open(st, STORE_CCACHE);
	assert_true(fd >= 0);
	assert_true(exists_at("ccache"));
	assert_int_equal(mkdirat(fd, "x", 0755), 0);
	assert_true(exists_at("ccache/x"));
	close(fd);
	assert_int_equal(store_area_open(st, STORE_AREA_COUNT), -EINVAL);
}

/* What a killed build left in tmp/ goes at the next start; nothing outside tmp/ does. */
static void test_clean_tmp(void **s)
{
	(void)s;
	write_at("kernels/keep", "k");
	mkdir_at("tmp/artifact-x.1/sub");
	write_at("tmp/artifact-x.1/sub/f", "half");
	assert_int_equal(chmod(at("tmp/artifact-x.1/sub"), 0500), 0);
	write_at("tmp/loose", "x");
	assert_int_equal(symlink(at("kernels"), at("tmp/link")), 0);
	store_free(st);
	st = NULL;
	assert_int_equal(store_open(state, &st), 0);
	assert_int_equal(entries_at("tmp"), 0);
	assert_true(exists_at("kernels/keep"));
}

static void test_publish(void **s)
{
	char *tmp1 = assemble(ID1, "first"), *tmp2 = assemble(ID2, "second"), *text;
	char final[4096];

	(void)s;
	assert_int_equal(store_path(st, STORE_ARTIFACTS, ART1, NULL, final, sizeof(final)), 0);
	assert_int_equal(store_publish(tmp1, final), 0);
	assert_false(testlib_exists(tmp1));
	/* the same key again: the first stays, the second's tmp goes */
	assert_int_equal(store_publish(tmp2, final), 0);
	assert_false(testlib_exists(tmp2));
	text = read_at("artifacts/" ART1 "/bzImage");
	assert_string_equal(text, "first");
	free(text);
	assert_int_equal(entries_at("tmp"), 0);
	/* a tmp that is gone cannot be published */
	assert_int_equal(store_publish(tmp1, final), -ENOENT);
	free(tmp1);
	free(tmp2);
}

static void test_publish_files(void **s)
{
	static const struct store_file files[] = {
		{ "out/bin", "bin", 0755 },
		{ ".config", "config", 0644 },
	};
	static const struct store_file missing[] = {
		{ ".config", "config", 0644 },
		{ "not-built", "bin", 0755 },
	};
	char *tree = testlib_path("tree"), err[1024] = "", *text, path[4096];
	struct stat sb;

	(void)s;
	assert_int_equal(fsutil_mkdirs(pathf("%s/out", tree), 0755), 0);
	testlib_write_text(pathf("%s/out/bin", tree), "ELF");
	testlib_write_text(pathf("%s/.config", tree), "CONFIG_X=y\n");
	/* an earlier attempt that failed half-way left its tmp behind */
	assert_int_equal(store_tmp_path(st, STORE_BUSYBOX, ART1, path, sizeof(path)), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	testlib_write_text(pathf("%s/junk", path), "x");
	assert_int_equal(store_publish_files(st, STORE_BUSYBOX, ART1, tree, files, 2, err, sizeof(err)), 0);
	assert_false(exists_at("busybox/" ART1 "/junk"));
	assert_int_equal(entries_at("tmp"), 0);
	text = read_at("busybox/" ART1 "/config");
	assert_string_equal(text, "CONFIG_X=y\n");
	free(text);
	assert_int_equal(stat(at("busybox/" ART1 "/bin"), &sb), 0);
	assert_true(sb.st_mode & S_IXUSR);
	/* a half-written entry is never published */
	assert_int_equal(store_publish_files(st, STORE_KERNELS, ART2, tree, missing, 2, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "copy "));
	assert_non_null(strstr(err, "not-built"));
	assert_false(exists_at("kernels/" ART2));
	assert_int_equal(store_publish_files(st, STORE_TREES, "t", tree, files, 2, err, sizeof(err)), -EINVAL);
	free(tree);
}

struct listed {
	char ids[8][DIGEST_HEX_LEN], arts[8][DIGEST_HEX_LEN], variants[8][32];
	size_t n;
};

static void list_one(void *arg, const char *id, const char *artifact, json_t *manifest)
{
	struct listed *l = arg;

	assert_true(l->n < 8);
	snprintf(l->ids[l->n], DIGEST_HEX_LEN, "%s", id);
	snprintf(l->arts[l->n], DIGEST_HEX_LEN, "%s", artifact);
	snprintf(l->variants[l->n], 32, "%s", json_string_value(json_object_get(manifest, "variant")));
	l->n++;
}

#define ID4 "4444444444444444444444444444444444444444444444444444444444444444"
#define ID5 "5555555555555555555555555555555555555555555555555555555555555555"
#define ART3 "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define ART_UPPER "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

static void test_index_and_listing(void **s)
{
	char *tmp1 = assemble(ID1, "one"), *tmp2 = assemble(ID2, "two"), *half = assemble(ID4, "half");
	char art[DIGEST_HEX_LEN], err[1024] = "";
	struct listed l = { .n = 0 };
	int fd;

	(void)s;
	assert_int_equal(store_index_get(st, ID1, art), -ENOENT);
	assert_int_equal(store_artifact_publish(st, tmp1, ID1, ART1, err, sizeof(err)), 0);
	assert_int_equal(store_artifact_publish(st, tmp2, ID2, ART2, err, sizeof(err)), 0);
	assert_int_equal(store_index_get(st, ID1, art), 0);
	assert_string_equal(art, ART1);
	assert_int_equal(store_index_get(st, ID2, art), 0);
	assert_string_equal(art, ART2);
	/* the directory is opened through the store */
	fd = store_artifact_open(st, ART2);
	assert_true(fd >= 0);
	assert_int_equal(faccessat(fd, "bzImage", R_OK, 0), 0);
	close(fd);
	assert_int_equal(store_artifact_open(st, "../" ART2), -ENOENT);
	assert_int_equal(store_artifact_open(st, ART3), -ENOENT);
	/* only 64 lower-case hex digits, and a link to an artifact is never followed */
	assert_int_equal(store_artifact_open(st, ART_UPPER), -ENOENT);
	assert_int_equal(store_artifact_open(st, "aaaa"), -ENOENT);
	assert_int_equal(symlink(at("artifacts/" ART1), at("artifacts/" ID4)), 0);
	assert_true(store_artifact_open(st, ID4) < 0); /* ENOTDIR from Linux (O_DIRECTORY first) */
	assert_int_equal(unlink(at("artifacts/" ID4)), 0);
	assert_int_equal(store_index_get(st, "../index/" ID1, art), -ENOENT);

	/* entries that name a missing artifact, one without its bzImage, names that are no ids */
	write_at("index/" ID5, ART3);
	write_at("index/not-an-id", ART1);
	assert_int_equal(store_index_get(st, ID5, art), -ENOENT);
	assert_int_equal(unlink(at("artifacts/" ART2 "/bzImage")), 0);
	assert_int_equal(store_index_get(st, ID2, art), -ENOENT);

	/* listed: every indexed artifact with a manifest, never the half-assembled one in tmp/ */
	assert_int_equal(store_list_built(st, list_one, &l), 0);
	assert_int_equal(l.n, 2);
	for (size_t i = 0; i < l.n; i++) {
		bool first = strcmp(l.ids[i], ID1) == 0;

		assert_true(first || strcmp(l.ids[i], ID2) == 0);
		assert_string_equal(l.arts[i], first ? ART1 : ART2);
		assert_string_equal(l.variants[i], first ? "one" : "two");
	}
	assert_true(testlib_exists(half));
	free(tmp1);
	free(tmp2);
	free(half);
}

static void test_manifest(void **s)
{
	json_t *m = json_pack("{s:s, s:i}", "variant", "net", "n", 3), *back = NULL;
	char err[1024] = "", *text;

	(void)s;
	mkdir_at("artifacts/" ART1);
	assert_int_equal(store_manifest_save(at("artifacts/" ART1), m), 0);
	text = read_at("artifacts/" ART1 "/manifest.json");
	assert_string_equal(text, "{\n  \"n\": 3,\n  \"variant\": \"net\"\n}"); /* indented, sorted */
	free(text);
	assert_int_equal(store_manifest_load(st, ART1, 1 << 20, &back, err, sizeof(err)), 0);
	assert_true(json_equal(m, back));
	json_decref(back);
	assert_int_equal(store_manifest_load(st, ART1, 10, &back, err, sizeof(err)), -EFBIG);
	assert_int_equal(store_manifest_load(st, ART2, 1 << 20, &back, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "artifacts/" ART2 "/manifest.json"));
	write_at("artifacts/" ART1 "/manifest.json", "{ broken");
	assert_int_equal(store_manifest_load(st, ART1, 1 << 20, &back, err, sizeof(err)), -EBADMSG);
	assert_int_equal(store_manifest_load(st, "..", 1 << 20, &back, err, sizeof(err)), -EINVAL);
	json_decref(m);
}

static void test_failures_and_logs(void **s)
{
	char path[4096], error[1024], *tail = NULL;
	int fd;

	(void)s;
	tail = store_log_tail(st, ID1);
	assert_string_equal(tail, "(no build log)");
	free(tail);
	assert_int_equal(store_failure_get(st, ID1, error, sizeof(error), &tail), -ENOENT);
	assert_null(tail);

	fd = store_log_open(st, ID1, path, sizeof(path));
	assert_true(fd >= 0);
	assert_string_equal(path, at("builds/" ID1 ".log"));
	for (int i = 1; i <= 100; i++)
		assert_true(dprintf(fd, "line %d\n", i) > 0);
	close(fd);
	/* the last lines: the 40 before the last one, and the last */
	tail = store_log_tail(st, ID1);
	assert_true(strncmp(tail, "line 60\n", 8) == 0);
	assert_int_equal(strlen(tail), 40 * strlen("line 60\n") + strlen("line 100\n"));
	free(tail);

	assert_int_equal(store_failure_put(st, ID1, "make failed (exit 2)"), 0);
	assert_int_equal(store_failure_get(st, ID1, error, sizeof(error), &tail), 0);
	assert_string_equal(error, "make failed (exit 2)");
	assert_non_null(tail);
	assert_true(strncmp(tail, "line 60\n", 8) == 0);
	assert_non_null(strstr(tail, "line 100\n"));
	free(tail);
	/* a new log truncates the old one */
	fd = store_log_open(st, ID1, path, sizeof(path));
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(entries_at("builds"), 1);
	store_failure_clear(st, ID1);
	assert_int_equal(store_failure_get(st, ID1, error, sizeof(error), &tail), -ENOENT);
	store_failure_clear(st, ID1); /* twice: fine */
	assert_int_equal(store_failure_put(st, "../x", "no"), -EINVAL);
}

static void test_memo_and_trees(void **s)
{
	char key[DIGEST_HEX_LEN], tree[4096], err[1024];
	int fd;

	(void)s;
	assert_int_equal(store_memo_get(st, STORE_KERNELS, ID1, key), -ENOENT);
	store_memo_put(st, STORE_KERNELS, ID1, ART1);
	store_memo_put(st, STORE_BUSYBOX, ID1, ART2);
	assert_int_equal(store_memo_get(st, STORE_KERNELS, ID1, key), 0);
	assert_string_equal(key, ART1);
	assert_int_equal(store_memo_get(st, STORE_BUSYBOX, ID1, key), 0);
	assert_string_equal(key, ART2);
	assert_true(exists_at("memo/kernel-" ID1));
	write_at("memo/kernel-" ID2, "not a key");
	assert_int_equal(store_memo_get(st, STORE_KERNELS, ID2, key), -EINVAL);
	assert_int_equal(store_memo_get(st, STORE_TREES, ID1, key), -EINVAL);

	fd = store_lock_tree(st, "linux-x86_64", tree, sizeof(tree), err, sizeof(err));
	assert_true(fd >= 0);
	assert_string_equal(tree, at("trees/linux-x86_64"));
	assert_true(exists_at("trees/linux-x86_64/.tinyboot-lock"));
	close(fd);
	assert_int_equal(store_lock_tree(st, "../escape", tree, sizeof(tree), err, sizeof(err)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_layout_and_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clean_tmp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_publish, setup, teardown),
		cmocka_unit_test_setup_teardown(test_publish_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_and_listing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_manifest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failures_and_logs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memo_and_trees, setup, teardown),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
