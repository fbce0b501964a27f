/* pxe_files.c - fill the TFTP root with undionly.kpxe, snponly.efi and ipxe.efi. */
#include "boot/pxe_files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/pxe_config.h"
#include "lib/fsutil.h"

static const char *const pxe_files_names[] = { PXE_CONFIG_BIOS, PXE_CONFIG_EFI, PXE_CONFIG_EFI_HTTP };
#define PXE_FILES_COUNT (sizeof(pxe_files_names) / sizeof(pxe_files_names[0]))

bool pxe_files_known(const char *name)
{
	for (size_t i = 0; i < PXE_FILES_COUNT; i++)
		if (strcmp(name, pxe_files_names[i]) == 0)
			return true;
	return false;
}

/* The copy in dirfd already holds data with the right mode and owner. */
static bool pxe_files_same(int dirfd, const char *name, const char *data, size_t len, uid_t uid)
{
	struct stat st;
	char *have = NULL;
	size_t hlen = 0;
	bool same;
	int fd;

	fd = fsutil_open_regular(dirfd, name, O_NOFOLLOW, &st); /* a FIFO: not the same */
	if (fd < 0)
		return false;
	/* (uid_t)-1: ours, which a copy left by a run as root (owned by dnsmasq's user) is not */
	if (uid == (uid_t)-1)
		uid = geteuid();
	same = (size_t)st.st_size == len &&
	       (st.st_mode & 07777) == 0444 && st.st_uid == uid &&
	       fsutil_read_fd(fd, len, PXE_FILES_MAX, &have, &hlen) == 0 && hlen == len &&
	       memcmp(have, data, len) == 0;
	free(have);
	close(fd);
	return same;
}

/* dir/.NAME.XXXXXX, then rename over dir/NAME. */
static int pxe_files_put(const char *dir, const char *name, const char *data, size_t len, uid_t uid,
			 gid_t gid)
{
	char tmp[4096], final[4096];
	int fd, rc;

	rc = fsutil_path(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name);
	if (!rc)
		rc = fsutil_path(final, sizeof(final), "%s/%s", dir, name);
	if (rc)
		return rc;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = fsutil_write_all(fd, data, len);
	if (!rc && fchmod(fd, 0444) < 0)
		rc = -errno;
	if (!rc && uid != (uid_t)-1 && fchown(fd, uid, gid) < 0)
		rc = -errno;
	if (!rc && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	if (!rc && rename(tmp, final) < 0)
		rc = -errno;
	if (rc) {
		unlink(tmp);
		return rc;
	}
	return fsutil_fsync_parent(final);
}

/* Remove what is not a known program (a temp file a crash left, anything put there by hand). */
static void pxe_files_sweep(int dirfd)
{
	int fd = dup(dirfd);
	struct dirent *de;
	DIR *d;

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 || pxe_files_known(de->d_name))
			continue;
		fsutil_rmtree(dirfd, de->d_name);
	}
	closedir(d);
}

static void pxe_files_missing(char *missing, size_t mlen, size_t *used, const char *name)
{
	if (*used < mlen) {
		int n = snprintf(missing + *used, mlen - *used, "%s%s", *used ? " " : "", name);

		*used += n > 0 ? (size_t)n : 0;
	}
}

static int pxe_files_none(const char *from_dir, char *err, size_t errlen)
{
	snprintf(err, errlen, "no boot programs in %s (" PXE_CONFIG_BIOS ", " PXE_CONFIG_EFI ", "
		 PXE_CONFIG_EFI_HTTP "): install them (apt-get install ipxe) or set "
		 "pxe-boot-programs = DIR", from_dir);
	return -ENOENT;
}

int pxe_files_check(const char *from_dir, char *missing, size_t mlen, char *err, size_t errlen)
{
	size_t found = 0, used = 0;

	if (mlen)
		missing[0] = '\0';
	for (size_t i = 0; i < PXE_FILES_COUNT; i++) {
		char src[4096];
		struct stat st;

		if (fsutil_path(src, sizeof(src), "%s/%s", from_dir, pxe_files_names[i]) == 0 &&
		    stat(src, &st) == 0 && S_ISREG(st.st_mode) && access(src, R_OK) == 0)
			found++;
		else
			pxe_files_missing(missing, mlen, &used, pxe_files_names[i]);
	}
	return found ? 0 : pxe_files_none(from_dir, err, errlen);
}

int pxe_files_install(const char *from_dir, const char *dir, uid_t uid, gid_t gid, char *missing,
		      size_t mlen, char *err, size_t errlen)
{
	size_t found = 0, mused = 0;
	int dirfd, rc = 0;

	if (mlen)
		missing[0] = '\0';
	rc = fsutil_mkdirs(dir, 0755);
	if (rc) {
		snprintf(err, errlen, "create %s: %s", dir, strerror(-rc));
		return rc;
	}
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		rc = -errno;
		snprintf(err, errlen, "open %s: %s", dir, strerror(errno));
		return rc;
	}
	for (size_t i = 0; i < PXE_FILES_COUNT && !rc; i++) {
		const char *name = pxe_files_names[i];
		char src[4096], *data = NULL;
		struct stat st;
		size_t len = 0;
		int fd;

		rc = fsutil_path(src, sizeof(src), "%s/%s", from_dir, name);
		if (rc) {
			snprintf(err, errlen, "%s/%s: path too long", from_dir, name);
			break;
		}
		/* start and SIGHUP get here: a FIFO in its place is missing, not waited on */
		fd = fsutil_open_regular(AT_FDCWD, src, 0, &st);
		if (fd < 0) {
			pxe_files_missing(missing, mlen, &mused, name);
			continue;
		}
		rc = fsutil_read_fd(fd, (size_t)st.st_size, PXE_FILES_MAX, &data, &len);
		close(fd);
		if (!rc && !pxe_files_same(dirfd, name, data, len, uid))
			rc = pxe_files_put(dir, name, data, len, uid, gid);
		free(data);
		if (rc)
			snprintf(err, errlen, "copy %s to %s: %s", src, dir, strerror(-rc));
		else
			found++;
	}
	if (!rc)
		pxe_files_sweep(dirfd);
	close(dirfd);
	if (!rc && !found)
		return pxe_files_none(from_dir, err, errlen);
	return rc;
}
