/* fileversion.c - a file's version (device, inode, size, mtime, ctime) and whether it is too
 * fresh to be told apart from its next rewrite. */
#include "lib/fileversion.h"

/* A clock tick is at most a few milliseconds; seconds leave room for a clock read coarsely. */
#define FILEVERSION_FRESH_S 2

void fileversion_set(struct fileversion *v, const struct stat *st)
{
	v->dev = st->st_dev;
	v->ino = st->st_ino;
	v->size = st->st_size;
	v->mtime = st->st_mtim;
	v->ctime = st->st_ctim;
}

bool fileversion_same(const struct fileversion *v, const struct stat *st)
{
	return v->dev == st->st_dev && v->ino == st->st_ino && v->size == st->st_size &&
	       v->mtime.tv_sec == st->st_mtim.tv_sec && v->mtime.tv_nsec == st->st_mtim.tv_nsec &&
	       v->ctime.tv_sec == st->st_ctim.tv_sec && v->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

bool fileversion_fresh(const struct stat *st)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME_COARSE, &now);
	return st->st_ctim.tv_sec + FILEVERSION_FRESH_S > now.tv_sec ||
	       st->st_mtim.tv_sec + FILEVERSION_FRESH_S > now.tv_sec;
}
