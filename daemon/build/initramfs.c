/* initramfs.c - the initramfs, written in-process: skeleton, busybox and its links, device
 * nodes, then the recipe's overlays (later ones win), as one deterministic compressed cpio. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/build.h"
#include "build/cpio.h"
#include "lib/fsutil.h"

#define INITRAMFS_MTIME 1767225600u /* 2026-01-01: fixed, so equal inputs give equal bytes */
#define INITRAMFS_BUSYBOX_MAX (64 << 20)

static const struct {
	const char *path;
	mode_t mode;
} initramfs_dirs[] = {
	{ "bin", 0755 }, { "sbin", 0755 }, { "usr/bin", 0755 }, { "usr/sbin", 0755 },
	{ "etc", 0755 }, { "proc", 0555 }, { "sys", 0555 },     { "dev", 0755 },
	{ "tmp", 01777 }, { "root", 0700 }, { "run", 0755 },    { "var/log", 0755 },
};

/* busybox.links lists "/bin/sh" etc.: each becomes a link to /bin/busybox. */
static int initramfs_links(struct cpio *c, const char *links)
{
	const char *line = links;
	int rc = 0;

	while (*line && !rc) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char path[256];

		if (len > 1 && len < sizeof(path) && line[0] == '/') {
			memcpy(path, line + 1, len - 1);
			path[len - 1] = '\0';
			if (strcmp(path, "bin/busybox") != 0)
				rc = cpio_add_symlink(c, path, "/bin/busybox");
		}
		line += len + (nl ? 1 : 0);
	}
	return rc;
}

static enum cpio_compress initramfs_compression(const char *name)
{
	if (strcmp(name, "xz") == 0)
		return CPIO_COMPRESS_XZ;
	if (strcmp(name, "none") == 0)
		return CPIO_COMPRESS_NONE;
	return CPIO_COMPRESS_GZIP;
}

int initramfs_write(struct build_ctx *ctx, const char *path, char sha[DIGEST_HEX_LEN])
{
	const struct recipe *r = ctx->v->recipe;
	char file[BUILD_PATH_MAX];
	char *busybox = NULL, *links = NULL;
	size_t busybox_len = 0;
	double start = build_now();
	struct cpio *c;
	int rc, fd;

	if (ctx->set_step)
		ctx->set_step(ctx->progress, "initramfs");
	c = cpio_new(INITRAMFS_MTIME);
	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(initramfs_dirs) / sizeof(initramfs_dirs[0]); i++) {
		rc = cpio_add_dir(c, initramfs_dirs[i].path, initramfs_dirs[i].mode);
		if (rc)
			goto out;
	}
	/* the kernel opens /dev/console before any devtmpfs is mounted */
	rc = cpio_add_node(c, "dev/console", S_IFCHR | 0600, 5, 1);
	if (!rc)
		rc = cpio_add_node(c, "dev/null", S_IFCHR | 0666, 1, 3);
	if (rc)
		goto out;

	fsutil_path(file, sizeof(file), "%s/busybox", ctx->busybox_dir);
	rc = fsutil_read_file(file, INITRAMFS_BUSYBOX_MAX, &busybox, &busybox_len);
	if (!rc)
		rc = cpio_add_data(c, "bin/busybox", 0755, busybox, busybox_len);
	if (rc)
		goto out;
	fsutil_path(file, sizeof(file), "%s/busybox.links", ctx->busybox_dir);
	rc = fsutil_read_file(file, 1 << 20, &links, NULL);
	if (!rc)
		rc = initramfs_links(c, links);
	/* busybox run as /init is its init applet; an overlay may replace /init */
	if (!rc)
		rc = cpio_add_symlink(c, "init", "bin/busybox");
	if (rc)
		goto out;

	for (size_t i = 0; i < r->overlays.n; i++) {
		int dirfd;

		fsutil_path(file, sizeof(file), "%s/%s", ctx->o->rootfs_dir, r->overlays.v[i]);
		dirfd = open(file, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dirfd < 0) {
			rc = -errno;
			goto out;
		}
		rc = cpio_add_tree(c, dirfd, "");
		close(dirfd);
		if (rc)
			goto out;
	}

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	rc = cpio_write(c, fd, initramfs_compression(r->initramfs_compression), 9);
	if (!rc && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	if (!rc) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		rc = fd < 0 ? -errno : digest_sha256_fd(fd, sha);
		if (fd >= 0)
			close(fd);
	}
	build_log(ctx, "# initramfs: %zu entries, %s, %.2f s", cpio_count(c), r->initramfs_compression,
		  build_now() - start);
out:
	if (rc)
		snprintf(ctx->error, sizeof(ctx->error), "initramfs: %s (%s)", strerror(-rc), file);
	ctx->secs_initramfs = build_now() - start;
	free(busybox);
	free(links);
	cpio_free(c);
	return rc;
}
