/* fsutil.h - small file-system helpers: read with a cap, atomic write, fsync, mkdir -p, rm -r. */
#ifndef TINYBOOT_FSUTIL_H
#define TINYBOOT_FSUTIL_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* mkdir -p: every missing directory of path, with mode; existing ones are fine. */
int fsutil_mkdirs(const char *path, mode_t mode);
/* Open name below dirfd (AT_FDCWD: a path) to read, without ever waiting: a FIFO or a device is
 * opened O_NONBLOCK and refused after fstat; a regular file gets its O_NONBLOCK cleared. flags
 * may hold O_NOFOLLOW (a final symlink is then -ELOOP). Returns the fd with *st filled, -EINVAL
 * when name is not a regular file, or -errno of openat/fstat. */
int fsutil_open_regular(int dirfd, const char *name, int flags, struct stat *st);
/* Read a whole regular file (not following a final symlink) into a NUL-terminated buffer;
 * -EINVAL for anything else (a FIFO is never waited on). */
int fsutil_read_file(const char *path, size_t max, char **out, size_t *len);
/* Read fd to its end into a NUL-terminated malloc'd buffer; hint is the expected size (the file
 * may change while it is read). -EFBIG past max bytes. */
int fsutil_read_fd(int fd, size_t hint, size_t max, char **out, size_t *len);
/* Write data to path through a unique path.tmp.XXXXXX, fsync, rename, fsync the directory. */
int fsutil_write_atomic(const char *path, const void *data, size_t len);
/* Copy the regular file src (-EINVAL for anything else) to dst (created with mode), fsync dst. */
int fsutil_copy_file(const char *src, const char *dst, mode_t mode);
int fsutil_fsync_path(const char *path);
/* write(2) until all len bytes are out (EINTR retried); 0 or -errno. */
int fsutil_write_all(int fd, const void *data, size_t len);
/* fsync the directory that holds path. */
int fsutil_fsync_parent(const char *path);
/* Remove name (relative to dirfd, or a path with AT_FDCWD) and, if it is a directory, all it
 * holds, without a shell: symlinks are removed, never followed; read-only directories are made
 * writable first. A name that does not exist is not an error. Returns 0 or -errno. */
int fsutil_rmtree(int dirfd, const char *name);
/* snprintf into buf; -ENAMETOOLONG if it does not fit. */
int fsutil_path(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
