/* fileversion.h - what tells one version of a file's content from another without reading it:
 * device, inode, size, mtime and ctime, all equal. The caches of ready responses and of ETag
 * hashes keep one of these beside what they remember. */
#ifndef TINYBOOT_LIB_FILEVERSION_H
#define TINYBOOT_LIB_FILEVERSION_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

struct fileversion {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
};

void fileversion_set(struct fileversion *v, const struct stat *st);
bool fileversion_same(const struct fileversion *v, const struct stat *st);

/* Changed so lately that it could be rewritten in place with the same size within one tick of
 * a coarse file-system clock (Linux before 6.13), keeping size, mtime and ctime: what is
 * learnt of it now must not be remembered by its version. */
bool fileversion_fresh(const struct stat *st);

#endif
