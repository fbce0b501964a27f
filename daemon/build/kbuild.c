/* kbuild.c - the kernel: tinyconfig + fragments in a persistent O= tree per (source, arch),
 * checked, built once per final .config and kept in the store's kernels/KEY. */
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
#include "lib/fsutil.h"
#include "build/kconfig.h"
#include "lib/spawn.h"

#define KBUILD_CONFIG_MAX (4 << 20)
#define KBUILD_OBJECTS_GUESS 1000

static const char *kbuild_config_symbol(const char *compression)
{
	static const struct {
		const char *name, *symbol;
	} map[] = {
		{ "gzip", "KERNEL_GZIP" }, { "xz", "KERNEL_XZ" },   { "lzma", "KERNEL_LZMA" },
		{ "lzo", "KERNEL_LZO" },   { "lz4", "KERNEL_LZ4" }, { "zstd", "KERNEL_ZSTD" },
		{ "bzip2", "KERNEL_BZIP2" },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].name, compression) == 0)
			return map[i].symbol;
	return NULL;
}

static void kbuild_step(struct build_ctx *ctx, const char *step)
{
	if (ctx->set_step)
		ctx->set_step(ctx->progress, step);
}

/* Apply the recipe's patches to a hard-linked copy of the pristine tree (patch(1) replaces
 * files rather than writing through links), published under its own name. */
static int kbuild_patched_tree(struct build_ctx *ctx, const char *name, char *out, size_t outlen)
{
	const struct recipe *r = ctx->v->recipe;
	char tmp[BUILD_PATH_MAX], marker[BUILD_PATH_MAX], patch[BUILD_PATH_MAX], patched[256];
	char hex[DIGEST_HEX_LEN], list[1024] = "";
	int rc;

	for (size_t i = 0; i < r->patches.n; i++) {
		char *data;
		size_t len;
		char one[DIGEST_HEX_LEN];

		fsutil_path(patch, sizeof(patch), "%s/patches/%s.patch", ctx->o->kconfig_dir, r->patches.v[i]);
		rc = fsutil_read_file(patch, 16 << 20, &data, &len);
		if (rc) {
			snprintf(ctx->error, sizeof(ctx->error), "patch %s: %s", r->patches.v[i], strerror(-rc));
			return rc;
		}
		digest_sha256_buf(data, len, one);
		free(data);
		strncat(list, one, sizeof(list) - strlen(list) - 1);
	}
	digest_sha256_buf(list, strlen(list), hex);
	hex[12] = '\0';
	snprintf(patched, sizeof(patched), "%s+p%s", name, hex);
	rc = store_path(ctx->store, STORE_SRC, patched, NULL, out, outlen);
	if (!rc)
		rc = store_tmp_path(ctx->store, STORE_SRC, hex, tmp, sizeof(tmp));
	if (rc)
		return rc;
	fsutil_path(marker, sizeof(marker), "%s/.tinyboot-patched", out);
	if (access(marker, F_OK) == 0)
		return 0;
	{
		char *cp[] = { "cp", "-al", ctx->kernel_src, tmp, NULL };

		rc = build_make(ctx, "copy the kernel source for patching", cp, NULL, false);
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < r->patches.n; i++) {
		char what[128];
		char *argv[] = { "patch", "-p1", "--forward", "--batch", "-d", tmp, "-i", patch, NULL };

		fsutil_path(patch, sizeof(patch), "%s/patches/%s.patch", ctx->o->kconfig_dir, r->patches.v[i]);
		snprintf(what, sizeof(what), "patch %s", r->patches.v[i]);
		rc = build_make(ctx, what, argv, NULL, false);
		if (rc)
			return rc;
	}
	fsutil_path(marker, sizeof(marker), "%s/.tinyboot-patched", tmp);
	rc = fsutil_write_atomic(marker, list, strlen(list));
	if (!rc)
		rc = store_publish(tmp, out);
	return rc;
}

static int kbuild_key(struct build_ctx *ctx, const char *src_id)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char out[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	char head[1024];

	if (!md)
		return -ENOMEM;
	snprintf(head, sizeof(head), "kernel %d\nsource %s\narch %s\ncompiler %s\nconfig\n",
		 BUILD_FORMAT_VERSION, src_id, ctx->v->recipe->arch, ctx->compiler);
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	EVP_DigestUpdate(md, head, strlen(head));
	EVP_DigestUpdate(md, ctx->kernel_config, strlen(ctx->kernel_config));
	EVP_DigestFinal_ex(md, out, &len);
	EVP_MD_CTX_free(md);
	for (unsigned i = 0; i < 32; i++)
		snprintf(ctx->kernel_key + 2 * i, 3, "%02x", out[i]);
	return 0;
}

static int kbuild_configure(struct build_ctx *ctx, const char *tree)
{
	const struct recipe *r = ctx->v->recipe;
	char arch[32], obj[BUILD_PATH_MAX + 4], merge[BUILD_PATH_MAX], config[BUILD_PATH_MAX];
	char comp_frag[BUILD_PATH_MAX], comp_text[256];
	char *frags[2 * RECIPE_LIST_MAX + 2];
	char *argv[2 * RECIPE_LIST_MAX + 10];
	size_t nfrags = 0, n;
	int rc;

	snprintf(arch, sizeof(arch), "ARCH=%s", r->arch);
	snprintf(obj, sizeof(obj), "O=%s", tree);
	fsutil_path(merge, sizeof(merge), "%s/scripts/kconfig/merge_config.sh", ctx->kernel_src);
	fsutil_path(config, sizeof(config), "%s/.config", tree);

	char *tiny[] = { "make", "-C", ctx->kernel_src, obj, arch, "tinyconfig", NULL };
	rc = build_make(ctx, "make tinyconfig", tiny, NULL, false);
	if (rc)
		return rc;

	/* The recipe's compressions become one more fragment, merged last and checked like the
	 * others: the kernel's own, and the decompressor its initramfs needs (base.config turns
	 * the unused ones off). */
	fsutil_path(comp_frag, sizeof(comp_frag), "%s/.tinyboot-compression.config", tree);
	snprintf(comp_text, sizeof(comp_text),
		 "# from the recipe's kernel-compression and initramfs-compression\nCONFIG_%s=y\n%s",
		 kbuild_config_symbol(r->kernel_compression),
		 strcmp(r->initramfs_compression, "xz") == 0	 ? "CONFIG_RD_XZ=y\n" :
		 strcmp(r->initramfs_compression, "gzip") == 0 ? "CONFIG_RD_GZIP=y\n" : "");
	rc = fsutil_write_atomic(comp_frag, comp_text, strlen(comp_text));
	if (rc) {
		snprintf(ctx->error, sizeof(ctx->error), "write %s: %s", comp_frag, strerror(-rc));
		return rc;
	}
	for (size_t i = 0; i < r->fragments.n + ctx->v->extra.n; i++) {
		const char *name = i < r->fragments.n ? r->fragments.v[i] : ctx->v->extra.v[i - r->fragments.n];

		frags[nfrags] = malloc(BUILD_PATH_MAX);
		if (!frags[nfrags]) {
			rc = -ENOMEM;
			goto out;
		}
		fsutil_path(frags[nfrags++], BUILD_PATH_MAX, "%s/%s.config", ctx->o->kconfig_dir, name);
	}
	frags[nfrags] = strdup(comp_frag);
	if (!frags[nfrags]) {
		rc = -ENOMEM;
		goto out;
	}
	nfrags++;

	/* the kernel's own merge: later fragments override earlier ones, no make run (-m) */
	n = 0;
	argv[n++] = merge;
	argv[n++] = "-m";
	argv[n++] = "-O";
	argv[n++] = (char *)tree;
	argv[n++] = config;
	for (size_t i = 0; i < nfrags; i++)
		argv[n++] = frags[i];
	argv[n] = NULL;
	rc = build_make(ctx, "merge_config.sh", argv, tree, false);
	if (rc)
		goto out;

	char *olddef[] = { "make", "-C", ctx->kernel_src, obj, arch, "olddefconfig", NULL };
	rc = build_make(ctx, "make olddefconfig", olddef, NULL, false);
	if (rc)
		goto out;

	free(ctx->kernel_config);
	ctx->kernel_config = NULL;
	rc = fsutil_read_file(config, KBUILD_CONFIG_MAX, &ctx->kernel_config, NULL);
	if (rc) {
		snprintf(ctx->error, sizeof(ctx->error), "read %s: %s", config, strerror(-rc));
		goto out;
	}
	rc = kconfig_check(ctx->kernel_config, frags, nfrags, ctx->kernel_src, ctx->error,
			   sizeof(ctx->error));
	if (rc)
		build_log(ctx, "# fragment check: %s", ctx->error);
	else
		build_log(ctx, "# fragment check: every requested option is in the final .config");
out:
	for (size_t i = 0; i < nfrags; i++)
		free(frags[i]);
	return rc;
}

static int kbuild_compile(struct build_ctx *ctx, const char *tree)
{
	const struct recipe *r = ctx->v->recipe;
	char arch[32], obj[BUILD_PATH_MAX + 4], jobs[32], count_path[BUILD_PATH_MAX], countbuf[32];
	static const struct store_file outputs[] = {
		{ "arch/x86/boot/bzImage", "bzImage", 0644 },
		{ "vmlinux", "vmlinux", 0644 },
		{ "System.map", "System.map", 0644 },
		{ ".config", "config", 0644 },
	};
	char *argv[12];
	size_t n = 0;
	char *text = NULL;
	int rc;

	snprintf(arch, sizeof(arch), "ARCH=%s", r->arch);
	snprintf(obj, sizeof(obj), "O=%s", tree);
	snprintf(jobs, sizeof(jobs), "-j%u", ctx->jobs);
	fsutil_path(count_path, sizeof(count_path), "%s/.tinyboot-objects", tree);
	atomic_store(&ctx->progress->objects_done, 0);
	atomic_store(&ctx->progress->objects_expected, KBUILD_OBJECTS_GUESS);
	if (fsutil_read_file(count_path, 64, &text, NULL) == 0) {
		unsigned expected = (unsigned)strtoul(text, NULL, 10);

		if (expected)
			atomic_store(&ctx->progress->objects_expected, expected);
		free(text);
	}

	argv[n++] = "make";
	argv[n++] = "-C";
	argv[n++] = ctx->kernel_src;
	argv[n++] = obj;
	argv[n++] = arch;
	argv[n++] = jobs;
	if (ctx->use_ccache)
		argv[n++] = "CC=ccache gcc";
	argv[n++] = "bzImage";
	argv[n] = NULL;
	rc = build_make(ctx, "kernel build", argv, NULL, true);
	if (rc)
		return rc;
	/* a full build's object count is the next build's progress estimate */
	if (atomic_load(&ctx->progress->objects_done) > KBUILD_OBJECTS_GUESS / 2) {
		snprintf(countbuf, sizeof(countbuf), "%u\n", atomic_load(&ctx->progress->objects_done));
		fsutil_write_atomic(count_path, countbuf, strlen(countbuf));
	}
	return store_publish_files(ctx->store, STORE_KERNELS, ctx->kernel_key, tree, outputs,
				   sizeof(outputs) / sizeof(outputs[0]), ctx->error, sizeof(ctx->error));
}

/* UAPI headers for musl-gcc, which ships none of its own. */
static int kbuild_headers(struct build_ctx *ctx, const char *tree, const char *tree_name)
{
	char arch[32], obj[BUILD_PATH_MAX + 4], tmp[BUILD_PATH_MAX], path[BUILD_PATH_MAX + 32];
	int rc;

	rc = store_path(ctx->store, STORE_HEADERS, tree_name, NULL, ctx->headers_dir, sizeof(ctx->headers_dir));
	if (!rc)
		rc = store_tmp_path(ctx->store, STORE_HEADERS, tree_name, tmp, sizeof(tmp));
	if (rc)
		return rc;
	fsutil_path(path, sizeof(path), "%s/include/linux/version.h", ctx->headers_dir);
	if (access(path, F_OK) == 0)
		return 0;
	store_mkdir(ctx->store, STORE_HEADERS);
	snprintf(arch, sizeof(arch), "ARCH=%s", ctx->v->recipe->arch);
	snprintf(obj, sizeof(obj), "O=%s", tree);
	snprintf(path, sizeof(path), "INSTALL_HDR_PATH=%s", tmp);
	char *argv[] = { "make", "-C", ctx->kernel_src, obj, arch, path, "headers_install", NULL };
	rc = build_make(ctx, "make headers_install", argv, NULL, false);
	if (rc)
		return rc;
	return store_publish(tmp, ctx->headers_dir);
}

/* Hash of everything the configuration steps read: source, arch, compiler, fragments. */
static int kbuild_inputs(struct build_ctx *ctx, const char *src_id, char out[DIGEST_HEX_LEN])
{
	const struct recipe *r = ctx->v->recipe;
	char *files[2 * RECIPE_LIST_MAX];
	char head[1024];
	size_t n = 0;
	int rc;

	snprintf(head, sizeof(head), "kernel-inputs %d\n%s\n%s\n%s\n%s\n", BUILD_FORMAT_VERSION, src_id,
		 r->arch, ctx->compiler, r->kernel_compression);
	for (size_t i = 0; i < r->fragments.n + ctx->v->extra.n; i++) {
		const char *name = i < r->fragments.n ? r->fragments.v[i] : ctx->v->extra.v[i - r->fragments.n];

		files[n] = malloc(BUILD_PATH_MAX);
		if (!files[n])
			break;
		fsutil_path(files[n++], BUILD_PATH_MAX, "%s/%s.config", ctx->o->kconfig_dir, name);
	}
	rc = n == r->fragments.n + ctx->v->extra.n ? build_hash_files(head, files, n, out) : -ENOMEM;
	for (size_t i = 0; i < n; i++)
		free(files[i]);
	return rc;
}

int kbuild_run(struct build_ctx *ctx)
{
	const struct recipe *r = ctx->v->recipe;
	const struct source *ks = sources_find(ctx->sources, r->kernel_source);
	char tree[BUILD_PATH_MAX], tree_name[256], bz[BUILD_PATH_MAX];
	char src_id[256], memo[DIGEST_HEX_LEN] = "";
	double start;
	int rc, lockfd;

	kbuild_step(ctx, "kernel source");
	rc = extract_source(ks, ctx->store, ctx->log_fd, ctx->cancel, ctx->kernel_src,
			     sizeof(ctx->kernel_src), ctx->error, sizeof(ctx->error));
	if (rc)
		return rc;
	snprintf(src_id, sizeof(src_id), "%s %s", ks->name, ks->sha256);
	snprintf(tree_name, sizeof(tree_name), "%s-%s", ks->name, r->arch);
	if (r->patches.n) {
		char patched[BUILD_PATH_MAX];

		rc = kbuild_patched_tree(ctx, ks->name, patched, sizeof(patched));
		if (rc)
			return rc;
		memcpy(ctx->kernel_src, patched, sizeof(patched));
		snprintf(src_id, sizeof(src_id), "%s", strrchr(patched, '/') + 1);
		snprintf(tree_name, sizeof(tree_name), "%s-%s", strrchr(patched, '/') + 1, r->arch);
	}
	lockfd = store_lock_tree(ctx->store, tree_name, tree, sizeof(tree), ctx->error, sizeof(ctx->error));
	if (lockfd < 0)
		return lockfd;

	/* the same fragments on the same source, arch and compiler: the kernel of last time */
	if (kbuild_inputs(ctx, src_id, memo) == 0 &&
	    build_from_memo(ctx, STORE_KERNELS, memo, "bzImage", R_OK, KBUILD_CONFIG_MAX,
			    &ctx->kernel_config, ctx->kernel_key, ctx->kernel_dir, sizeof(ctx->kernel_dir))) {
		ctx->kernel_cached = true;
		build_log(ctx, "# kernel %s: inputs unchanged since it was built", ctx->kernel_key);
		goto headers;
	}
	kbuild_step(ctx, "kernel config");
	start = build_now();
	rc = kbuild_configure(ctx, tree);
	ctx->secs_kernel_config = build_now() - start;
	if (rc)
		goto out;
	kbuild_key(ctx, src_id);
	store_path(ctx->store, STORE_KERNELS, ctx->kernel_key, NULL, ctx->kernel_dir, sizeof(ctx->kernel_dir));
	store_path(ctx->store, STORE_KERNELS, ctx->kernel_key, "bzImage", bz, sizeof(bz));
	if (access(bz, F_OK) == 0) {
		ctx->kernel_cached = true;
		build_log(ctx, "# kernel %s: already built for this .config", ctx->kernel_key);
	} else {
		kbuild_step(ctx, "kernel");
		start = build_now();
		rc = kbuild_compile(ctx, tree);
		ctx->secs_kernel = build_now() - start;
		if (rc)
			goto out;
	}
	if (memo[0])
		store_memo_put(ctx->store, STORE_KERNELS, memo, ctx->kernel_key);
headers:
	/* busybox builds against these headers (musl has none, -m32 lacks asm/) */
	kbuild_step(ctx, "kernel headers");
	rc = kbuild_headers(ctx, tree, tree_name);
out:
	flock(lockfd, LOCK_UN);
	close(lockfd);
	return rc;
}
