/* buildkey.c - the input key: a SHA-256 over every file and setting that shapes a variant. */
#include "build/build.h"

#include <errno.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fsutil.h"

#define BUILDKEY_FILE_MAX (256 << 20)

struct buildkey_entry {
	char *line;
};

static __thread struct {
	size_t rootlen;
	char **lines;
	size_t n, cap;
	int error;
} buildkey_walk;

static int buildkey_add_line(const char *line)
{
	if (buildkey_walk.n == buildkey_walk.cap) {
		size_t cap = buildkey_walk.cap ? buildkey_walk.cap * 2 : 64;
		char **grown = realloc(buildkey_walk.lines, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		buildkey_walk.lines = grown;
		buildkey_walk.cap = cap;
	}
	buildkey_walk.lines[buildkey_walk.n] = strdup(line);
	if (!buildkey_walk.lines[buildkey_walk.n])
		return -ENOMEM;
	buildkey_walk.n++;
	return 0;
}

/* One line per overlay entry: path, type+mode, content hash or link target. */
static int buildkey_visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	const char *rel = path + buildkey_walk.rootlen;
	char line[8192], hex[DIGEST_HEX_LEN], target[4096];
	char *data = NULL;
	size_t len = 0;
	ssize_t n;

	(void)ftw;
	if (*rel == '/')
		rel++;
	if (!*rel)
		return 0;
	if (type == FTW_SL) {
		n = readlink(path, target, sizeof(target) - 1);
		if (n < 0)
			return buildkey_walk.error = -errno;
		target[n] = '\0';
		snprintf(line, sizeof(line), "%s l -> %s", rel, target);
	} else if (type == FTW_F && S_ISREG(st->st_mode)) {
		int rc = fsutil_read_file(path, BUILDKEY_FILE_MAX, &data, &len);

		if (rc)
			return buildkey_walk.error = rc;
		digest_sha256_buf(data, len, hex);
		free(data);
		snprintf(line, sizeof(line), "%s f %o %s", rel, (unsigned)(st->st_mode & 07777), hex);
	} else if (type == FTW_D) {
		snprintf(line, sizeof(line), "%s d %o", rel, (unsigned)(st->st_mode & 07777));
	} else {
		return buildkey_walk.error = -EINVAL; /* fifos and devices never enter an image */
	}
	return buildkey_walk.error = buildkey_add_line(line);
}

static int buildkey_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void buildkey_update(EVP_MD_CTX *md, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buildkey_update(EVP_MD_CTX *md, const char *fmt, ...)
{
	char buf[8192];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		EVP_DigestUpdate(md, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static int buildkey_file(EVP_MD_CTX *md, const char *label, const char *path)
{
	char hex[DIGEST_HEX_LEN];
	char *data;
	size_t len;
	int rc = fsutil_read_file(path, BUILDKEY_FILE_MAX, &data, &len);

	if (rc)
		return rc;
	digest_sha256_buf(data, len, hex);
	free(data);
	buildkey_update(md, "%s %s\n", label, hex);
	return 0;
}

static int buildkey_overlay(EVP_MD_CTX *md, const char *dir)
{
	int rc;

	memset(&buildkey_walk, 0, sizeof(buildkey_walk));
	buildkey_walk.rootlen = strlen(dir);
	if (nftw(dir, buildkey_visit, 16, FTW_PHYS) != 0 && !buildkey_walk.error)
		buildkey_walk.error = -errno;
	rc = buildkey_walk.error;
	if (!rc) {
		qsort(buildkey_walk.lines, buildkey_walk.n, sizeof(char *), buildkey_cmp);
		for (size_t i = 0; i < buildkey_walk.n; i++)
			buildkey_update(md, "  %s\n", buildkey_walk.lines[i]);
	}
	for (size_t i = 0; i < buildkey_walk.n; i++)
		free(buildkey_walk.lines[i]);
	free(buildkey_walk.lines);
	memset(&buildkey_walk, 0, sizeof(buildkey_walk));
	return rc;
}

int buildkey_compute(const struct options *o, const struct variant *v, const struct sources *s,
		     const char *compiler, struct etag_cache *digests, char key[DIGEST_HEX_LEN],
		     char *err, size_t errlen)
{
	const struct recipe *r = v->recipe;
	const struct source *ks, *bs;
	unsigned char md_out[EVP_MAX_MD_SIZE];
	char path[BUILD_PATH_MAX], hex_recipe[DIGEST_HEX_LEN], toolchain[BBUILD_TOOLCHAIN_ID_MAX];
	unsigned mdlen = 0;
	EVP_MD_CTX *md;
	int rc = 0;

	ks = sources_find(s, r->kernel_source);
	bs = sources_find(s, r->busybox_source);
	if (!ks || !bs) {
		snprintf(err, errlen, "%s.image: source '%s' is not declared in %s", r->name,
			 !ks ? r->kernel_source : r->busybox_source, o->sources_file);
		return -ENOENT;
	}
	/* busybox's compiler and C library: a musl or glibc upgrade is a new build */
	rc = bbuild_toolchain_id(r, digests, toolchain, sizeof(toolchain), err, errlen);
	if (rc)
		return rc;
	md = EVP_MD_CTX_new();
	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return -ENOMEM;
	}
	digest_sha256_buf(r->text, strlen(r->text), hex_recipe);
	buildkey_update(md, "tinyboot-build %d\nrecipe %s %s\nvariant %s\n", BUILD_FORMAT_VERSION,
			r->name, hex_recipe, v->name);
	buildkey_update(md, "source kernel %s %s\nsource busybox %s %s\ncompiler %s\n", ks->name,
			ks->sha256, bs->name, bs->sha256, compiler);
	buildkey_update(md, "toolchain\n%s", toolchain);
	for (size_t i = 0; !rc && i < r->fragments.n + v->extra.n; i++) {
		const char *name = i < r->fragments.n ? r->fragments.v[i] : v->extra.v[i - r->fragments.n];
		char label[128];

		snprintf(label, sizeof(label), "fragment %s", name);
		rc = fsutil_path(path, sizeof(path), "%s/%s.config", o->kconfig_dir, name);
		if (!rc)
			rc = buildkey_file(md, label, path);
	}
	for (size_t i = 0; !rc && i < r->patches.n; i++) {
		char label[128];

		snprintf(label, sizeof(label), "patch %s", r->patches.v[i]);
		rc = fsutil_path(path, sizeof(path), "%s/patches/%s.patch", o->kconfig_dir, r->patches.v[i]);
		if (!rc)
			rc = buildkey_file(md, label, path);
	}
	if (!rc)
		rc = fsutil_path(path, sizeof(path), "%s/busybox/%s.config", o->rootfs_dir, r->busybox_config);
	if (!rc)
		rc = buildkey_file(md, "busybox-config", path);
	for (size_t i = 0; !rc && i < r->overlays.n; i++) {
		buildkey_update(md, "overlay %s\n", r->overlays.v[i]);
		rc = fsutil_path(path, sizeof(path), "%s/%s", o->rootfs_dir, r->overlays.v[i]);
		if (!rc)
			rc = buildkey_overlay(md, path);
	}
	if (rc) {
		snprintf(err, errlen, "reading the inputs of %s: %s (%s)", v->name, strerror(-rc), path);
		EVP_MD_CTX_free(md);
		return rc;
	}
	if (EVP_DigestFinal_ex(md, md_out, &mdlen) != 1 || mdlen != 32) {
		EVP_MD_CTX_free(md);
		return -EIO;
	}
	EVP_MD_CTX_free(md);
	for (unsigned i = 0; i < 32; i++)
		snprintf(key + 2 * i, 3, "%02x", md_out[i]);
	return 0;
}
