/* build.h - one build's context, shared by the kernel, busybox and initramfs steps. */
#ifndef TINYBOOT_BUILD_H
#define TINYBOOT_BUILD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/digest.h"
#include "conf/options.h"
#include "conf/sources.h"
#include "conf/variant.h"
#include "build/store.h"

/* Bump when the builder's own output changes for the same inputs (layout of the initramfs...). */
#define BUILD_FORMAT_VERSION 1
#define BUILD_PATH_MAX 4096

struct etag_cache;

struct build_progress {
	atomic_uint objects_done;
	atomic_uint objects_expected;
	char step[32]; /* written by the worker, read under the builder lock */
};

struct build_ctx {
	/* inputs */
	struct store *store;       /* where everything is read from and published to */
	const struct options *o;
	const struct variant *v;
	struct sources *sources;
	struct etag_cache *digests; /* SHA-256 per file version (the toolchain's libraries) */
	const char *compiler;      /* `gcc --version`, first line */
	unsigned jobs;
	bool use_ccache;
	int log_fd;
	volatile int *cancel;
	struct build_progress *progress;
	void (*set_step)(struct build_progress *p, const char *step);
	/* kernel outputs */
	char kernel_src[BUILD_PATH_MAX];
	char kernel_dir[BUILD_PATH_MAX]; /* the store's kernels/KEY: bzImage, vmlinux, System.map, config */
	char kernel_key[DIGEST_HEX_LEN];
	char *kernel_config;
	char headers_dir[BUILD_PATH_MAX]; /* UAPI headers for musl-gcc */
	bool kernel_cached;
	double secs_kernel_config, secs_kernel;
	/* busybox outputs */
	char busybox_dir[BUILD_PATH_MAX]; /* the store's busybox/KEY: busybox, busybox.links, config */
	char busybox_key[DIGEST_HEX_LEN];
	char *busybox_config;
	bool busybox_cached;
	double secs_busybox;
	/* initramfs */
	double secs_initramfs;
	char error[8192];
};

/* buildkey.c: the hash of every input of a variant, known before anything is built. */
int buildkey_compute(const struct options *o, const struct variant *v, const struct sources *s,
		     const char *compiler, struct etag_cache *digests, char key[DIGEST_HEX_LEN],
		     char *err, size_t errlen);

/* kbuild.c */
int kbuild_run(struct build_ctx *ctx);
/* bbuild.c */
int bbuild_run(struct build_ctx *ctx);
/* What names the recipe's busybox toolchain: its CC and the SHA-256 of its C library's files, as
 * lines for a key. Returns 0, or -errno with err naming the missing file and its Debian package. */
#define BBUILD_TOOLCHAIN_ID_MAX 1024
int bbuild_toolchain_id(const struct recipe *r, struct etag_cache *digests, char *id, size_t idlen,
			char *err, size_t errlen);
/* The i-th library file any toolchain's id hashes (keymemo watches them); NULL past the last. */
const char *bbuild_toolchain_file(size_t i);
/* initramfs.c: write the compressed cpio to path and its sha256 to sha. */
int initramfs_write(struct build_ctx *ctx, const char *path, char sha[DIGEST_HEX_LEN]);
/* artifact.c: once kernel and busybox are built, assemble build ID's artifact (initrd, bzImage,
 * cmdline, manifest.json, build.log from log_path), publish and index it; artifact gets its key. */
int artifact_publish(struct build_ctx *ctx, const char *id, const char *log_path, double started,
		     char artifact[DIGEST_HEX_LEN]);

/* shared by the steps (kbuild.c) */
int build_make(struct build_ctx *ctx, const char *what, char *const argv[], const char *cwd,
	       bool count_objects);
/* The same, with text fed on stdin (answers to configuration prompts). */
int build_make_stdin(struct build_ctx *ctx, const char *what, char *const argv[], const char *stdin_text);
void build_log(struct build_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
double build_now(void);
/* A memo hit in AREA (kernels: bzImage, busybox: busybox): the entry the memo names must still
 * hold `product` (passing access(2) with product_mode) and `config`; then *config, key and dir
 * are filled. */
bool build_from_memo(struct build_ctx *ctx, enum store_area area, const char *memo, const char *product,
		     int product_mode, size_t config_max, char **config, char key[DIGEST_HEX_LEN],
		     char *dir, size_t dirlen);
/* SHA-256 over a header line and the contents of files (in order). */
int build_hash_files(const char *head, char *const files[], size_t n, char out[DIGEST_HEX_LEN]);
#endif
