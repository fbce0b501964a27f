/* extract.c - unpack a verified source tarball into the store (STORE_SRC), whole or not at all. */
#include "build/extract.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/fetch.h"
#include "lib/digest.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/spawn.h"

/* 1: the tree is complete for this sha256; 0: absent; 2: something else is there. */
static int extract_tree_state(struct fetch_op *op)
{
	char buf[80];
	struct stat st;
	ssize_t n;
	int dfd, mfd;

	if (fstatat(op->src.fd, op->s->name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return fetch_fail(op, -errno, "cannot stat %s/%s: %s", op->src.path,
				  op->s->name, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return 2;
	dfd = openat(op->src.fd, op->s->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return 2;
	mfd = openat(dfd, EXTRACT_MARKER, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	close(dfd);
	if (mfd < 0)
		return 2;
	if (fstat(mfd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(mfd);
		return 2;
	}
	n = read(mfd, buf, sizeof(buf));
	close(mfd);
	if (n == 65 && memcmp(buf, op->s->sha256, 64) == 0 && buf[64] == '\n')
		return 1;
	return 2;
}

/* Move the tree into STORE_TMP first: a crash halfway leaves nothing half-removed in STORE_SRC. */
static int extract_discard_tree(struct fetch_op *op)
{
	char prefix[SOURCES_NAME_MAX + 8], stale[NAME_MAX + 1], inner[2 * NAME_MAX + 2];
	int rc;

	snprintf(prefix, sizeof(prefix), "stale.%s", op->s->name);
	rc = fetch_mktemp(op->tmp.fd, prefix, stale, sizeof(stale), NULL);
	if (rc < 0)
		return fetch_fail(op, rc, "cannot create a temp dir in %s: %s", op->tmp.path,
				  strerror(-rc));
	snprintf(inner, sizeof(inner), "%s/%s", stale, op->s->name);
	if (renameat(op->src.fd, op->s->name, op->tmp.fd, inner) < 0) {
		rc = -errno;
		unlinkat(op->tmp.fd, stale, AT_REMOVEDIR);
		return fetch_fail(op, rc, "cannot move %s/%s aside: %s", op->src.path,
				  op->s->name, strerror(-rc));
	}
	rc = fsutil_rmtree(op->tmp.fd, stale);
	if (rc < 0) /* out of STORE_SRC already; the store's start-up clean-up has another go */
		fetch_log(op->log_fd, "%s: cannot remove %s/%s: %s", op->s->name,
			  op->tmp.path, stale, strerror(-rc));
	return 0;
}

static int extract_write_marker(struct fetch_op *op, int xfd)
{
	char line[DIGEST_HEX_LEN];
	int tfd, mfd, rc = 0;
	ssize_t w;

	tfd = openat(xfd, op->s->strip, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (tfd < 0)
		return fetch_fail(op, -errno, "cannot open the extracted %s: %s", op->s->strip,
				  strerror(errno));
	/* a tarball that ships its own marker must not vouch for itself */
	if (unlinkat(tfd, EXTRACT_MARKER, 0) < 0 && errno != ENOENT) {
		rc = -errno;
		goto out;
	}
	mfd = openat(tfd, EXTRACT_MARKER, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (mfd < 0) {
		rc = -errno;
		goto out;
	}
	memcpy(line, op->s->sha256, 64);
	line[64] = '\n';
	w = write(mfd, line, 65);
	if (w != 65)
		rc = w < 0 ? -errno : -EIO;
	else if (fsync(mfd) < 0)
		rc = -errno;
	close(mfd);
	if (rc == 0 && fsync(tfd) < 0)
		rc = -errno;
out:
	close(tfd);
	if (rc < 0)
		return fetch_fail(op, rc, "cannot write %s/%s: %s", op->s->strip, EXTRACT_MARKER,
				  strerror(-rc));
	return 0;
}

static int extract_locked(struct fetch_op *op, const char *tarball)
{
	char prefix[SOURCES_NAME_MAX + 16], xname[NAME_MAX + 1], xpath[PATH_MAX], cmd[PATH_MAX * 2 + 64];
	struct spawn_opts so = { .log_fd = op->log_fd, .cancel = op->cancel };
	struct stat st;
	int rc, xfd = -1, n;

	snprintf(prefix, sizeof(prefix), "extract.%s", op->s->name);
	rc = fetch_mktemp(op->tmp.fd, prefix, xname, sizeof(xname), NULL);
	if (rc < 0)
		return fetch_fail(op, rc, "cannot create a temp dir in %s: %s", op->tmp.path,
				  strerror(-rc));
	n = snprintf(xpath, sizeof(xpath), "%s/%s", op->tmp.path, xname);
	if (n < 0 || (size_t)n >= sizeof(xpath)) {
		rc = fetch_fail(op, -ENAMETOOLONG, "%s/%s: path too long", op->tmp.path, xname);
		goto out;
	}
	{
		/* never a shell: tar gets the paths as they are */
		char *const argv[] = { "tar", "--no-same-owner", "-x", "-f", (char *)tarball,
				       "-C", xpath, NULL };

		spawn_format(argv, cmd, sizeof(cmd));
		fetch_log(op->log_fd, "%s", cmd);
		rc = spawn_run(argv, &so);
	}
	if (rc < 0) {
		rc = fetch_fail(op, rc, "cannot run tar: %s", strerror(-rc));
		goto out;
	}
	if (rc > 0 && op->cancel && *op->cancel) {
		rc = fetch_cancelled(op);
		goto out;
	}
	if (rc > 0) {
		rc = fetch_fail(op, -EIO, "tar failed (status %d) extracting %s", rc, tarball);
		goto out;
	}
	xfd = openat(op->tmp.fd, xname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (xfd < 0) {
		rc = fetch_fail(op, -errno, "cannot open %s: %s", xpath, strerror(errno));
		goto out;
	}
	if (fstatat(xfd, op->s->strip, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode)) {
		rc = fetch_fail(op, -ENOENT, "%s has no top-level directory %s", tarball,
				op->s->strip);
		goto out;
	}
	/* the tree's data must be on disk before the marker says it is complete */
	if (syncfs(xfd) < 0) {
		rc = fetch_fail(op, -errno, "syncfs %s: %s", xpath, strerror(errno));
		goto out;
	}
	rc = extract_write_marker(op, xfd);
	if (rc < 0)
		goto out;
	if (renameat(xfd, op->s->strip, op->src.fd, op->s->name) < 0) {
		rc = fetch_fail(op, -errno, "cannot rename %s/%s to %s/%s: %s", xpath,
				op->s->strip, op->src.path, op->s->name, strerror(errno));
		goto out;
	}
	if (fsync(op->src.fd) < 0) {
		rc = fetch_fail(op, -errno, "fsync %s: %s", op->src.path, strerror(errno));
		goto out;
	}
	fetch_log(op->log_fd, "%s: extracted into %s/%s", op->s->name, op->src.path, op->s->name);
	log_info("%s: extracted into %s/%s", op->s->name, op->src.path, op->s->name);
out:
	if (xfd >= 0)
		close(xfd);
	n = fsutil_rmtree(op->tmp.fd, xname);
	if (n < 0)
		fetch_log(op->log_fd, "%s: cannot remove %s: %s", op->s->name, xpath, strerror(-n));
	return rc;
}

int extract_source(const struct source *s, const struct store *store, int log_fd,
		   const volatile int *cancel, char *tree_out, size_t treelen, char *err, size_t errlen)
{
	struct fetch_op op;
	char tarball[PATH_MAX], file[FETCH_FILE_MAX];
	int lock_fd = -1, rc;

	rc = fetch_op_open(&op, s, store, log_fd, cancel, err, errlen, true);
	if (rc < 0)
		return rc;
	fetch_file_name(&op, file);
	rc = fetch_out_path(&op, tree_out, treelen, &op.src, s->name);
	if (rc == 0)
		rc = fetch_out_path(&op, tarball, sizeof(tarball), &op.sources, file);
	if (rc == 0)
		rc = fetch_lock(&op, &lock_fd);
	if (rc == 0)
		rc = extract_tree_state(&op);
	if (rc == 2) {
		fetch_log(log_fd, "%s: removing the incomplete or outdated %s/%s", s->name,
			  op.src.path, s->name);
		rc = extract_discard_tree(&op);
	}
	if (rc == 1) {
		rc = 0; /* complete already: not even the tarball is needed */
	} else if (rc == 0) {
		rc = fetch_locked(&op, tarball, sizeof(tarball));
		if (rc == 0)
			rc = fetch_cancelled(&op);
		if (rc == 0)
			rc = extract_locked(&op, tarball);
	}
	if (lock_fd >= 0)
		close(lock_fd);
	fetch_op_close(&op);
	return rc;
}
