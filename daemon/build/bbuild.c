/* bbuild.c - busybox: allnoconfig + the recipe's fragment in a persistent O= tree per
 * (source, libc, arch), checked, built static once per final .config. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/build.h"
#include "build/extract.h"
#include "lib/etag.h"
#include "lib/fsutil.h"
#include "build/kconfig.h"

#define BBUILD_CONFIG_MAX (1 << 20)

/* oldconfig asks about options that became visible; Enter takes each default. */
static char bbuild_enters[16384];

/* The C compiler and library per (libc, arch). `files` are the library as installed: their
 * hashes go into every key that names a busybox, so an upgrade of the package that ships them
 * rebuilds it (the compiler itself is ctx->compiler, `gcc --version`: every CC here is gcc). */
struct bbuild_toolchain {
	const char *libc, *arch;
	const char *cc;      /* busybox's make splits it on spaces */
	const char *package; /* the Debian package that ships `files` (scripts/deps.sh) */
	const char *files[2];
};

static const struct bbuild_toolchain bbuild_toolchains[] = {
	{ "musl", "x86_64", "musl-gcc", "musl-dev",
	  { "/usr/lib/x86_64-linux-musl/musl-gcc.specs", "/usr/lib/x86_64-linux-musl/libc.a" } },
	/* Debian's i386 musl-gcc.specs (made for its i386-linux-musl-gcc cross wrapper) replaces
	 * gcc's link spec, which is where -m32 turns into -m elf_i386: without it ld skips libc.a */
	{ "musl", "i386", "gcc -m32 -specs=/usr/lib/i386-linux-musl/musl-gcc.specs -Wl,-melf_i386",
	  "musl-dev:i386",
	  { "/usr/lib/i386-linux-musl/musl-gcc.specs", "/usr/lib/i386-linux-musl/libc.a" } },
	{ "glibc", "x86_64", "gcc", "libc6-dev", { "/usr/lib/x86_64-linux-gnu/libc.a", NULL } },
	{ "glibc", "i386", "gcc -m32", "libc6-dev-i386", { "/usr/lib32/libc.a", NULL } },
};

static const struct bbuild_toolchain *bbuild_toolchain_find(const struct recipe *r)
{
	for (size_t i = 0; i < sizeof(bbuild_toolchains) / sizeof(bbuild_toolchains[0]); i++)
		if (strcmp(bbuild_toolchains[i].libc, r->libc) == 0 &&
		    strcmp(bbuild_toolchains[i].arch, r->arch) == 0)
			return &bbuild_toolchains[i];
	return NULL;
}

const char *bbuild_toolchain_file(size_t i)
{
	size_t n = sizeof(bbuild_toolchains) / sizeof(bbuild_toolchains[0]);

	for (size_t t = 0; t < n; t++)
		for (size_t f = 0; f < 2 && bbuild_toolchains[t].files[f]; f++)
			if (i-- == 0)
				return bbuild_toolchains[t].files[f];
	return NULL;
}

/* One library file as a key line. Hashed through the digest cache: buildkey_compute runs on
 * every image request, and a libc.a is megabytes. */
static int bbuild_file_line(struct etag_cache *digests, const char *path, char *out, size_t outlen)
{
	char quoted[ETAG_LEN];
	struct stat st;
	int fd, rc, n;

	/* on every image request: a FIFO in its place is refused, not waited on */
	fd = fsutil_open_regular(AT_FDCWD, path, 0, &st);
	if (fd < 0)
		return fd;
	rc = etag_cache_get(digests, fd, &st, quoted);
	close(fd);
	if (rc)
		return rc;
	/* the cache answers with the quotes of an ETag around the hex digest */
	n = snprintf(out, outlen, "%s %.*s\n", path, DIGEST_HEX_LEN - 1, quoted + 1);
	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

int bbuild_toolchain_id(const struct recipe *r, struct etag_cache *digests, char *id, size_t idlen,
			char *err, size_t errlen)
{
	const struct bbuild_toolchain *tc = bbuild_toolchain_find(r);
	size_t len;
	int n, rc;

	if (!tc) {
		snprintf(err, errlen, "%s.image: no toolchain for libc %s on %s", r->name, r->libc, r->arch);
		return -EINVAL;
	}
	n = snprintf(id, idlen, "cc %s\n", tc->cc);
	if (n < 0 || (size_t)n >= idlen)
		goto too_long;
	len = (size_t)n;
	for (size_t i = 0; i < 2 && tc->files[i]; i++) {
		rc = bbuild_file_line(digests, tc->files[i], id + len, idlen - len);
		if (rc == -ENAMETOOLONG)
			goto too_long;
		if (rc) {
			snprintf(err, errlen, "%s.image: libc %s on %s: %s: %s (Debian package %s; make deps installs it)",
				 r->name, r->libc, r->arch, tc->files[i], strerror(-rc), tc->package);
			return rc;
		}
		len += strlen(id + len);
	}
	return 0;
too_long:
	snprintf(err, errlen, "%s.image: toolchain id longer than %zu bytes", r->name, idlen);
	return -ENAMETOOLONG;
}

static int bbuild_key(struct build_ctx *ctx, const struct source *bs, const char *toolchain)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char out[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	char head[2048];

	if (!md)
		return -ENOMEM;
	snprintf(head, sizeof(head), "busybox %d\nsource %s %s\nlibc %s\narch %s\ncompiler %s\ntoolchain\n%sconfig\n",
		 BUILD_FORMAT_VERSION, bs->name, bs->sha256, ctx->v->recipe->libc,
		 ctx->v->recipe->arch, ctx->compiler, toolchain);
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	EVP_DigestUpdate(md, head, strlen(head));
	EVP_DigestUpdate(md, ctx->busybox_config, strlen(ctx->busybox_config));
	EVP_DigestFinal_ex(md, out, &len);
	EVP_MD_CTX_free(md);
	for (unsigned i = 0; i < 32; i++)
		snprintf(ctx->busybox_key + 2 * i, 3, "%02x", out[i]);
	return 0;
}

/* The recipe's compiler as make variables: CC, and the kernel's UAPI headers. */
static size_t bbuild_make_cc(struct build_ctx *ctx, char *cc, size_t cclen, char *extra,
			     size_t extralen, char **argv, size_t n)
{
	const struct bbuild_toolchain *tc = bbuild_toolchain_find(ctx->v->recipe);

	/* bbuild_run found it before anything ran */
	snprintf(cc, cclen, "CC=%s%s", ctx->use_ccache ? "ccache " : "", tc->cc);
	argv[n++] = cc;
	/* musl ships no kernel headers, and -m32 lacks the i386 asm/ ones: use the kernel's own */
	if (strcmp(tc->libc, "musl") == 0 || strcmp(tc->arch, "i386") == 0) {
		snprintf(extra, extralen, "EXTRA_CFLAGS=-isystem %s/include", ctx->headers_dir);
		argv[n++] = extra;
	}
	return n;
}

static int bbuild_configure(struct build_ctx *ctx, const char *src, const char *tree)
{
	char obj[BUILD_PATH_MAX + 4], merge[BUILD_PATH_MAX], config[BUILD_PATH_MAX];
	char frag[BUILD_PATH_MAX];
	char *frags[1] = { frag };
	int rc;

	snprintf(obj, sizeof(obj), "O=%s", tree);
	fsutil_path(config, sizeof(config), "%s/.config", tree);
	fsutil_path(frag, sizeof(frag), "%s/busybox/%s.config", ctx->o->rootfs_dir,
		    ctx->v->recipe->busybox_config);
	/* busybox has no merge tool of its own; the kernel's merge_config.sh -m is a plain merge */
	fsutil_path(merge, sizeof(merge), "%s/scripts/kconfig/merge_config.sh", ctx->kernel_src);

	char *allno[] = { "make", "-C", (char *)src, obj, "allnoconfig", NULL };
	rc = build_make(ctx, "busybox allnoconfig", allno, NULL, false);
	if (rc)
		return rc;
	char *argv[] = { merge, "-m", "-O", (char *)tree, config, frag, NULL };
	rc = build_make(ctx, "busybox merge_config.sh", argv, tree, false);
	if (rc)
		return rc;
	if (!bbuild_enters[0])
		memset(bbuild_enters, '\n', sizeof(bbuild_enters) - 1);
	/* oldconfig probes the compiler: give it the same toolchain as the build */
	char cc[256], extra[BUILD_PATH_MAX + 32], *old[12];
	size_t n = 0;

	old[n++] = "make";
	old[n++] = "-C";
	old[n++] = (char *)src;
	old[n++] = obj;
	n = bbuild_make_cc(ctx, cc, sizeof(cc), extra, sizeof(extra), old, n);
	old[n++] = "oldconfig";
	old[n] = NULL;
	rc = build_make_stdin(ctx, "busybox oldconfig", old, bbuild_enters);
	if (rc)
		return rc;
	free(ctx->busybox_config);
	ctx->busybox_config = NULL;
	rc = fsutil_read_file(config, BBUILD_CONFIG_MAX, &ctx->busybox_config, NULL);
	if (rc) {
		snprintf(ctx->error, sizeof(ctx->error), "read %s: %s", config, strerror(-rc));
		return rc;
	}
	rc = kconfig_check(ctx->busybox_config, frags, 1, src, ctx->error, sizeof(ctx->error));
	build_log(ctx, "# busybox fragment check: %s", rc ? ctx->error : "ok");
	return rc;
}

static int bbuild_compile(struct build_ctx *ctx, const char *src, const char *tree)
{
	static const struct store_file outputs[] = {
		{ "busybox", "busybox", 0755 },
		{ "busybox.links", "busybox.links", 0644 },
		{ ".config", "config", 0644 },
	};
	char obj[BUILD_PATH_MAX + 4], jobs[32], cc[256], extra[BUILD_PATH_MAX + 32];
	char *argv[16];
	size_t n = 0;
	int rc;

	snprintf(obj, sizeof(obj), "O=%s", tree);
	snprintf(jobs, sizeof(jobs), "-j%u", ctx->jobs);
	argv[n++] = "make";
	argv[n++] = "-C";
	argv[n++] = (char *)src;
	argv[n++] = obj;
	argv[n++] = jobs;
	n = bbuild_make_cc(ctx, cc, sizeof(cc), extra, sizeof(extra), argv, n);
	argv[n++] = "busybox";
	argv[n++] = "busybox.links";
	argv[n] = NULL;
	rc = build_make(ctx, "busybox build", argv, NULL, false);
	if (rc)
		return rc;
	return store_publish_files(ctx->store, STORE_BUSYBOX, ctx->busybox_key, tree, outputs,
				   sizeof(outputs) / sizeof(outputs[0]), ctx->error, sizeof(ctx->error));
}

static int bbuild_inputs(struct build_ctx *ctx, const struct source *bs, const char *toolchain,
			 char out[DIGEST_HEX_LEN])
{
	const struct recipe *r = ctx->v->recipe;
	char frag[BUILD_PATH_MAX], head[2048];
	char *files[1] = { frag };

	snprintf(head, sizeof(head), "busybox-inputs %d\n%s %s\n%s\n%s\n%s\n%s", BUILD_FORMAT_VERSION,
		 bs->name, bs->sha256, r->libc, r->arch, ctx->compiler, toolchain);
	fsutil_path(frag, sizeof(frag), "%s/busybox/%s.config", ctx->o->rootfs_dir, r->busybox_config);
	return build_hash_files(head, files, 1, out);
}

int bbuild_run(struct build_ctx *ctx)
{
	const struct recipe *r = ctx->v->recipe;
	const struct source *bs = sources_find(ctx->sources, r->busybox_source);
	char src[BUILD_PATH_MAX], tree[BUILD_PATH_MAX], bin[BUILD_PATH_MAX], memo[DIGEST_HEX_LEN] = "";
	char toolchain[BBUILD_TOOLCHAIN_ID_MAX], tree_name[256];
	double start = build_now();
	int rc, lockfd;

	if (ctx->set_step)
		ctx->set_step(ctx->progress, "busybox");
	rc = bbuild_toolchain_id(r, ctx->digests, toolchain, sizeof(toolchain), ctx->error,
				 sizeof(ctx->error));
	if (rc)
		return rc;
	build_log(ctx, "# busybox toolchain: %.*s", (int)strlen(toolchain) - 1, toolchain);
	rc = extract_source(bs, ctx->store, ctx->log_fd, ctx->cancel, src, sizeof(src), ctx->error,
			     sizeof(ctx->error));
	if (rc)
		return rc;
	snprintf(tree_name, sizeof(tree_name), "%s-%s-%s", bs->name, r->libc, r->arch);
	lockfd = store_lock_tree(ctx->store, tree_name, tree, sizeof(tree), ctx->error, sizeof(ctx->error));
	if (lockfd < 0)
		return lockfd;
	/* the same fragment, source, libc, arch, compiler and library: the busybox of last time */
	if (bbuild_inputs(ctx, bs, toolchain, memo) == 0 &&
	    build_from_memo(ctx, STORE_BUSYBOX, memo, "busybox", X_OK, BBUILD_CONFIG_MAX,
			    &ctx->busybox_config, ctx->busybox_key, ctx->busybox_dir, sizeof(ctx->busybox_dir))) {
		ctx->busybox_cached = true;
		build_log(ctx, "# busybox %s: inputs unchanged since it was built", ctx->busybox_key);
		goto out;
	}
	rc = bbuild_configure(ctx, src, tree);
	if (rc)
		goto out;
	bbuild_key(ctx, bs, toolchain);
	store_path(ctx->store, STORE_BUSYBOX, ctx->busybox_key, NULL, ctx->busybox_dir, sizeof(ctx->busybox_dir));
	store_path(ctx->store, STORE_BUSYBOX, ctx->busybox_key, "busybox", bin, sizeof(bin));
	if (access(bin, X_OK) == 0) {
		ctx->busybox_cached = true;
		build_log(ctx, "# busybox %s: already built for this .config", ctx->busybox_key);
	} else {
		rc = bbuild_compile(ctx, src, tree);
	}
	if (!rc && memo[0])
		store_memo_put(ctx->store, STORE_BUSYBOX, memo, ctx->busybox_key);
out:
	ctx->secs_busybox = build_now() - start;
	flock(lockfd, LOCK_UN);
	close(lockfd);
	return rc;
}
