/* recipe.h - images/NAME.image: what one image is built from. */
#ifndef TINYBOOT_RECIPE_H
#define TINYBOOT_RECIPE_H

#include <stdbool.h>
#include <stddef.h>

#define RECIPE_NAME_MAX 32
#define RECIPE_LIST_MAX 32
#define RECIPE_FILE_MAX (64 * 1024)
#define RECIPE_CMDLINE_MAX 1024

struct name_list {
	char *v[RECIPE_LIST_MAX];
	size_t n;
};

struct recipe {
	char name[RECIPE_NAME_MAX + 1];
	char *text;                 /* the file as read, hashed into the build key */
	char *description;
	char *arch;                 /* x86_64 or i386 */
	char *kernel_source;        /* a [section] of sources.conf */
	char *kernel_compression;   /* gzip, xz, lzma, lzo, lz4, zstd, bzip2 */
	struct name_list fragments; /* kernel-config/NAME.config, applied in order */
	struct name_list patches;   /* kernel-config/patches/NAME.patch */
	char *busybox_source;
	char *busybox_config;       /* rootfs/busybox/NAME.config */
	char *libc;                 /* musl or glibc */
	struct name_list overlays;  /* rootfs/NAME/ */
	char *cmdline;
	char *initramfs_compression; /* gzip, xz or none */
};

/* A name for a recipe, fragment, overlay or patch: [a-z0-9_-]{1,32}, not starting with '-'. */
bool recipe_name_valid(const char *name);
/* Characters allowed on a kernel command line written by tinyboot (they also reach iPXE scripts). */
bool recipe_cmdline_valid(const char *cmdline);
/* Load and check recipe `name` from recipe_dir. Every name it mentions is checked against what
 * exists in kconfig_dir and rootfs_dir. Read through lib/conffile: errors carry NAME.image:line.
 * -ENOENT if there is no such recipe, -EINVAL for a bad one. */
int recipe_load(const char *recipe_dir, const char *kconfig_dir, const char *rootfs_dir,
		const char *name, struct recipe **out, char *err, size_t errlen);
void recipe_free(struct recipe *r);
/* Names of NAME.SUFFIX files in dir, sorted (for listings and 404 bodies). */
int recipe_list_dir(const char *dir, const char *suffix, struct name_list *out);
void name_list_clear(struct name_list *l);
bool name_list_has(const struct name_list *l, const char *name);

#endif
