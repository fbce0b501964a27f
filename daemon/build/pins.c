/* pins.c - what the admin pinned: an artifact or a variant's current build stays in the cache. */
#include "build/pins.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "build/store.h"
#include "lib/fsutil.h"
#include "lib/names.h"

#define PINS_PATH_MAX 4096

bool pins_name_valid(const char *name)
{
	/* a variant's characters; a hash is one too, lowercase hex */
	return name && name[0] && names_charset(name, PINS_NAME_MAX, NAMES_LOWER | NAMES_DIGIT, "_+-");
}

int pins_add(const struct store *s, const char *name)
{
	char path[PINS_PATH_MAX];
	int rc;

	if (!pins_name_valid(name))
		return -EINVAL;
	rc = store_mkdir(s, STORE_PINS);
	if (!rc)
		rc = store_path(s, STORE_PINS, name, NULL, path, sizeof(path));
	return rc ? rc : fsutil_write_atomic(path, "", 0);
}

int pins_remove(const struct store *s, const char *name)
{
	char path[PINS_PATH_MAX];
	int rc;

	if (!pins_name_valid(name))
		return -EINVAL;
	rc = store_path(s, STORE_PINS, name, NULL, path, sizeof(path));
	if (rc)
		return rc;
	if (unlink(path) < 0)
		return -errno;
	return fsutil_fsync_parent(path);
}

int pins_list(const struct store *s, void (*fn)(void *arg, const char *name), void *arg)
{
	char path[PINS_PATH_MAX];
	struct dirent *de;
	DIR *d;
	int rc;

	rc = store_path(s, STORE_PINS, NULL, NULL, path, sizeof(path));
	if (rc)
		return rc;
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d)))
		if (pins_name_valid(de->d_name))
			fn(arg, de->d_name);
	closedir(d);
	return 0;
}
