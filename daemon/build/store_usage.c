/* store_usage.c - size and object count of a state directory area, walked on demand. */
#include "build/store_usage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORE_USAGE_DEPTH_MAX 16

/* Add up fd0's tree (fd0 is closed); *budget counts down the entries looked at. */
static void store_usage_walk(int fd0, unsigned depth, size_t *budget, struct store_usage *u)
{
	DIR *d = fdopendir(fd0);
	struct dirent *e;

	if (!d) {
		close(fd0);
		return;
	}
	while ((e = readdir(d))) {
		struct stat st;
		int fd;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (*budget == 0) {
			u->truncated = true;
			break;
		}
		--*budget;
		if (depth == 0)
			u->objects++;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue; /* removed while we looked (gc, a publish): not there */
		if (S_ISREG(st.st_mode)) {
			u->bytes += (uint64_t)st.st_size;
			continue;
		}
		if (!S_ISDIR(st.st_mode))
			continue;
		if (depth + 1 >= STORE_USAGE_DEPTH_MAX) {
			u->truncated = true;
			continue;
		}
		fd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0)
			store_usage_walk(fd, depth + 1, budget, u);
	}
	closedir(d);
}

int store_usage_area(const struct store *s, enum store_area area, size_t budget,
		     struct store_usage *out)
{
	char path[4096];
	int fd, rc;

	memset(out, 0, sizeof(*out));
	rc = store_path(s, area, NULL, NULL, path, sizeof(path));
	if (rc)
		return rc;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	store_usage_walk(fd, 0, &budget, out);
	return 0;
}
