/* recipe.c - parse and check image recipes; every name is looked up, never trusted. */
#include "conf/recipe.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool recipe_name_valid(const char *name)
{
	size_t n;

	if (!name[0] || name[0] == '-')
		return false;
	for (n = 0; name[n]; n++) {
		char c = name[n];

		if (n >= RECIPE_NAME_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

bool recipe_cmdline_valid(const char *cmdline)
{
	size_t n;

	for (n = 0; cmdline[n]; n++) {
		char c = cmdline[n];

		if (n >= 1024)
			return false;
		if (!(isalnum((unsigned char)c) || strchr(" ._,:=/+-@", c)))
			return false;
	}
	return true;
}

void name_list_clear(struct name_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	l->n = 0;
}

bool name_list_has(const struct name_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], name) == 0)
			return true;
	return false;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int recipe_list_dir(const char *dir, const char *suffix, struct name_list *out)
{
	size_t slen = strlen(suffix);
	struct dirent *de;
	DIR *d;

	out->n = 0;
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d)) && out->n < RECIPE_LIST_MAX) {
		size_t len = strlen(de->d_name);
		char name[RECIPE_NAME_MAX + 1];

		if (slen) {
			if (len <= slen || strcmp(de->d_name + len - slen, suffix) != 0 ||
			    len - slen > RECIPE_NAME_MAX)
				continue;
			memcpy(name, de->d_name, len - slen);
			name[len - slen] = '\0';
		} else {
			if (len > RECIPE_NAME_MAX || de->d_type != DT_DIR)
				continue;
			memcpy(name, de->d_name, len + 1);
		}
		if (!recipe_name_valid(name))
			continue;
		out->v[out->n] = strdup(name);
		if (!out->v[out->n])
			break;
		out->n++;
	}
	closedir(d);
	qsort(out->v, out->n, sizeof(out->v[0]), name_cmp);
	return 0;
}

void recipe_free(struct recipe *r)
{
	if (!r)
		return;
	free(r->text);
	free(r->description);
	free(r->arch);
	free(r->kernel_source);
	free(r->kernel_compression);
	name_list_clear(&r->fragments);
	name_list_clear(&r->patches);
	free(r->busybox_source);
	free(r->busybox_config);
	free(r->libc);
	name_list_clear(&r->overlays);
	free(r->cmdline);
	free(r->initramfs_compression);
	free(r);
}

static int recipe_read_file(const char *dir, const char *name, char **out)
{
	char path[4096];
	struct stat st;
	int fd, rc;
	char *buf;

	if (snprintf(path, sizeof(path), "%s/%s.image", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > RECIPE_FILE_MAX) {
		rc = S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;
		close(fd);
		return rc;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	rc = (int)read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (rc != st.st_size) {
		free(buf);
		return -EIO;
	}
	buf[st.st_size] = '\0';
	*out = buf;
	return 0;
}

static bool recipe_exists(const char *dir, const char *sub, const char *name, const char *suffix,
			  bool want_dir)
{
	char path[4096];
	struct stat st;

	if (snprintf(path, sizeof(path), "%s%s/%s%s", dir, sub, name, suffix) >= (int)sizeof(path))
		return false;
	if (lstat(path, &st) < 0)
		return false;
	return want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode);
}

static bool recipe_one_of(const char *v, const char *const *allowed)
{
	for (; *allowed; allowed++)
		if (strcmp(v, *allowed) == 0)
			return true;
	return false;
}

/* Split a space-separated list of names into l; every name must be valid. */
static int recipe_split_names(char *value, struct name_list *l, char *bad, size_t badlen)
{
	char *save = NULL;

	name_list_clear(l);
	for (char *tok = strtok_r(value, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (!recipe_name_valid(tok) || l->n == RECIPE_LIST_MAX) {
			snprintf(bad, badlen, "%s", tok);
			return -EINVAL;
		}
		if (name_list_has(l, tok))
			continue;
		l->v[l->n] = strdup(tok);
		if (!l->v[l->n])
			return -ENOMEM;
		l->n++;
	}
	return 0;
}

static int recipe_set_string(char **slot, const char *value)
{
	char *copy = strdup(value);

	if (!copy)
		return -ENOMEM;
	free(*slot);
	*slot = copy;
	return 0;
}

static char *recipe_trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

#define RECIPE_FAIL(...)                                                       \
	do {                                                                   \
		snprintf(err, errlen, __VA_ARGS__);                            \
		rc = -EINVAL;                                                  \
		goto fail;                                                     \
	} while (0)

int recipe_load(const char *recipe_dir, const char *kconfig_dir, const char *rootfs_dir,
		const char *name, struct recipe **out, char *err, size_t errlen)
{
	static const char *const arches[] = { "x86_64", "i386", NULL };
	static const char *const kcomp[] = { "gzip", "xz", "lzma", "lzo", "lz4", "zstd", "bzip2", NULL };
	static const char *const icomp[] = { "gzip", "xz", "none", NULL };
	static const char *const libcs[] = { "musl", "glibc", NULL };
	char file[RECIPE_NAME_MAX + 8], bad[64];
	struct recipe *r = NULL;
	char *copy = NULL, *line, *save = NULL;
	unsigned lineno = 0;
	int rc;

	if (!recipe_name_valid(name)) {
		snprintf(err, errlen, "'%s' is not a valid recipe name", name);
		return -EINVAL;
	}
	snprintf(file, sizeof(file), "%s.image", name);
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	snprintf(r->name, sizeof(r->name), "%s", name);
	rc = recipe_read_file(recipe_dir, name, &r->text);
	if (rc) {
		snprintf(err, errlen, "%s: %s", file, rc == -ENOENT ? "no such recipe" : strerror(-rc));
		goto fail;
	}
	copy = strdup(r->text);
	if (!copy) {
		rc = -ENOMEM;
		goto fail;
	}
	/* strsep keeps empty lines, so line numbers stay right */
	save = copy;
	while ((line = strsep(&save, "\n"))) {
		char *key, *value, *eq;

		lineno++;
		key = recipe_trim(line);
		if (!*key || *key == '#')
			continue;
		eq = strchr(key, '=');
		if (!eq)
			RECIPE_FAIL("%s:%u: expected 'key = value'", file, lineno);
		*eq = '\0';
		value = recipe_trim(eq + 1);
		key = recipe_trim(key);
		rc = 0;
		if (strcmp(key, "description") == 0) {
			rc = recipe_set_string(&r->description, value);
		} else if (strcmp(key, "arch") == 0) {
			if (!recipe_one_of(value, arches))
				RECIPE_FAIL("%s:%u: arch '%s' is not x86_64 or i386", file, lineno, value);
			rc = recipe_set_string(&r->arch, value);
		} else if (strcmp(key, "kernel-source") == 0 || strcmp(key, "busybox-source") == 0) {
			if (!*value || strlen(value) > 64 || strspn(value, "abcdefghijklmnopqrstuvwxyz"
				"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-") != strlen(value))
				RECIPE_FAIL("%s:%u: %s: invalid source name", file, lineno, key);
			rc = recipe_set_string(key[0] == 'k' ? &r->kernel_source : &r->busybox_source, value);
		} else if (strcmp(key, "kernel-compression") == 0) {
			if (!recipe_one_of(value, kcomp))
				RECIPE_FAIL("%s:%u: kernel-compression '%s' is not one of gzip, xz, lzma, lzo, lz4, zstd, bzip2",
					    file, lineno, value);
			rc = recipe_set_string(&r->kernel_compression, value);
		} else if (strcmp(key, "initramfs-compression") == 0) {
			if (!recipe_one_of(value, icomp))
				RECIPE_FAIL("%s:%u: initramfs-compression '%s' is not gzip, xz or none",
					    file, lineno, value);
			rc = recipe_set_string(&r->initramfs_compression, value);
		} else if (strcmp(key, "libc") == 0) {
			if (!recipe_one_of(value, libcs))
				RECIPE_FAIL("%s:%u: libc '%s' is not musl or glibc", file, lineno, value);
			rc = recipe_set_string(&r->libc, value);
		} else if (strcmp(key, "busybox-config") == 0) {
			if (!recipe_name_valid(value))
				RECIPE_FAIL("%s:%u: invalid busybox-config name", file, lineno);
			if (!recipe_exists(rootfs_dir, "/busybox", value, ".config", false))
				RECIPE_FAIL("%s:%u: no busybox config rootfs/busybox/%s.config", file, lineno, value);
			rc = recipe_set_string(&r->busybox_config, value);
		} else if (strcmp(key, "cmdline") == 0) {
			if (!recipe_cmdline_valid(value))
				RECIPE_FAIL("%s:%u: cmdline may only hold letters, digits, spaces and ._,:=/+-@",
					    file, lineno);
			rc = recipe_set_string(&r->cmdline, value);
		} else if (strcmp(key, "kernel-fragments") == 0 || strcmp(key, "kernel-patches") == 0 ||
			   strcmp(key, "overlays") == 0) {
			struct name_list *l = key[0] == 'o' ? &r->overlays :
					      key[7] == 'f' ? &r->fragments : &r->patches;

			rc = recipe_split_names(value, l, bad, sizeof(bad));
			if (rc == -EINVAL)
				RECIPE_FAIL("%s:%u: '%s' is not a valid name", file, lineno, bad);
			for (size_t i = 0; !rc && i < l->n; i++) {
				bool ok = l == &r->overlays ?
					recipe_exists(rootfs_dir, "", l->v[i], "", true) :
					l == &r->fragments ?
					recipe_exists(kconfig_dir, "", l->v[i], ".config", false) :
					recipe_exists(kconfig_dir, "/patches", l->v[i], ".patch", false);

				if (!ok)
					RECIPE_FAIL("%s:%u: %s '%s' does not exist", file, lineno,
						    l == &r->overlays ? "overlay" :
						    l == &r->fragments ? "fragment" : "patch", l->v[i]);
			}
		} else {
			RECIPE_FAIL("%s:%u: unknown key '%s'", file, lineno, key);
		}
		if (rc)
			goto fail;
	}
	if (!r->arch || !r->kernel_source || !r->busybox_source || !r->busybox_config ||
	    r->fragments.n == 0)
		RECIPE_FAIL("%s: arch, kernel-source, kernel-fragments, busybox-source and busybox-config are required",
			    file);
	if (!r->libc && recipe_set_string(&r->libc, "musl"))
		goto nomem;
	if (!r->kernel_compression && recipe_set_string(&r->kernel_compression, "xz"))
		goto nomem;
	if (!r->initramfs_compression && recipe_set_string(&r->initramfs_compression, "gzip"))
		goto nomem;
	if (!r->cmdline && recipe_set_string(&r->cmdline, "console=ttyS0"))
		goto nomem;
	free(copy);
	*out = r;
	return 0;
nomem:
	rc = -ENOMEM;
	snprintf(err, errlen, "out of memory");
fail:
	free(copy);
	recipe_free(r);
	return rc;
}
