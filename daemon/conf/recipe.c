/* recipe.c - parse and check image recipes; every name is looked up, never trusted. */
#include "conf/recipe.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/conffile.h"
#include "lib/names.h"

bool recipe_name_valid(const char *name)
{
	return name[0] != '-' && names_charset(name, RECIPE_NAME_MAX, NAMES_LOWER | NAMES_DIGIT, "_-");
}

bool recipe_cmdline_valid(const char *cmdline)
{
	return !cmdline[0] || names_charset(cmdline, RECIPE_CMDLINE_MAX, NAMES_ALNUM, " ._,:=/+-@");
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

struct recipe_parser {
	struct recipe *r;
	const char *kconfig_dir, *rootfs_dir;
};

static int recipe_names(struct conffile *cf, struct recipe_parser *p, const char *key,
			char *value)
{
	struct recipe *r = p->r;
	struct name_list *l = key[0] == 'o' ? &r->overlays :
			      key[7] == 'f' ? &r->fragments : &r->patches;
	char bad[64];
	int rc;

	rc = recipe_split_names(value, l, bad, sizeof(bad));
	if (rc == -EINVAL)
		return conffile_error(cf, "'%s' is not a valid name", bad);
	for (size_t i = 0; !rc && i < l->n; i++) {
		bool ok = l == &r->overlays ?
			recipe_exists(p->rootfs_dir, "", l->v[i], "", true) :
			l == &r->fragments ?
			recipe_exists(p->kconfig_dir, "", l->v[i], ".config", false) :
			recipe_exists(p->kconfig_dir, "/patches", l->v[i], ".patch", false);

		if (!ok)
			return conffile_error(cf, "%s '%s' does not exist",
					      l == &r->overlays ? "overlay" :
					      l == &r->fragments ? "fragment" : "patch", l->v[i]);
	}
	return rc;
}

/* One "key = value" line of a recipe. */
static int recipe_line(struct conffile *cf, char *line, void *arg)
{
	static const char *const arches[] = { "x86_64", "i386", NULL };
	static const char *const kcomp[] = { "gzip", "xz", "lzma", "lzo", "lz4", "zstd", "bzip2", NULL };
	static const char *const icomp[] = { "gzip", "xz", "none", NULL };
	static const char *const libcs[] = { "musl", "glibc", NULL };
	struct recipe_parser *p = arg;
	struct recipe *r = p->r;
	char *key, *value;
	int rc;

	rc = conffile_split(cf, line, &key, &value);
	if (rc)
		return rc;
	if (strcmp(key, "description") == 0)
		return recipe_set_string(&r->description, value);
	if (strcmp(key, "arch") == 0) {
		if (!recipe_one_of(value, arches))
			return conffile_error(cf, "arch '%s' is not x86_64 or i386", value);
		return recipe_set_string(&r->arch, value);
	}
	if (strcmp(key, "kernel-source") == 0 || strcmp(key, "busybox-source") == 0) {
		/* the spelling of a sources.conf section */
		if (!names_charset(value, 64, NAMES_ALNUM, "._+-"))
			return conffile_error(cf, "%s: invalid source name", key);
		return recipe_set_string(key[0] == 'k' ? &r->kernel_source : &r->busybox_source, value);
	}
	if (strcmp(key, "kernel-compression") == 0) {
		if (!recipe_one_of(value, kcomp))
			return conffile_error(cf, "kernel-compression '%s' is not one of gzip, xz, lzma, lzo, lz4, zstd, bzip2",
					      value);
		return recipe_set_string(&r->kernel_compression, value);
	}
	if (strcmp(key, "initramfs-compression") == 0) {
		if (!recipe_one_of(value, icomp))
			return conffile_error(cf, "initramfs-compression '%s' is not gzip, xz or none",
					      value);
		return recipe_set_string(&r->initramfs_compression, value);
	}
	if (strcmp(key, "libc") == 0) {
		if (!recipe_one_of(value, libcs))
			return conffile_error(cf, "libc '%s' is not musl or glibc", value);
		return recipe_set_string(&r->libc, value);
	}
	if (strcmp(key, "busybox-config") == 0) {
		if (!recipe_name_valid(value))
			return conffile_error(cf, "invalid busybox-config name");
		if (!recipe_exists(p->rootfs_dir, "/busybox", value, ".config", false))
			return conffile_error(cf, "no busybox config rootfs/busybox/%s.config", value);
		return recipe_set_string(&r->busybox_config, value);
	}
	if (strcmp(key, "cmdline") == 0) {
		if (!recipe_cmdline_valid(value))
			return conffile_error(cf, "cmdline may only hold letters, digits, spaces and ._,:=/+-@");
		return recipe_set_string(&r->cmdline, value);
	}
	if (strcmp(key, "kernel-fragments") == 0 || strcmp(key, "kernel-patches") == 0 ||
	    strcmp(key, "overlays") == 0)
		return recipe_names(cf, p, key, value);
	return conffile_unknown_key(cf, key);
}

/* What a recipe must say, then the defaults for what it may leave out. */
static int recipe_finish(struct conffile *cf, struct recipe *r)
{
	if (!r->arch || !r->kernel_source || !r->busybox_source || !r->busybox_config ||
	    r->fragments.n == 0)
		return conffile_error_at(cf, 0, "arch, kernel-source, kernel-fragments, busybox-source and busybox-config are required");
	if ((!r->libc && recipe_set_string(&r->libc, "musl")) ||
	    (!r->kernel_compression && recipe_set_string(&r->kernel_compression, "xz")) ||
	    (!r->initramfs_compression && recipe_set_string(&r->initramfs_compression, "gzip")) ||
	    (!r->cmdline && recipe_set_string(&r->cmdline, "console=ttyS0")))
		return -ENOMEM;
	return 0;
}

int recipe_load(const char *recipe_dir, const char *kconfig_dir, const char *rootfs_dir,
		const char *name, struct recipe **out, char *err, size_t errlen)
{
	char file[RECIPE_NAME_MAX + 8], path[4096];
	struct recipe_parser p = { .kconfig_dir = kconfig_dir, .rootfs_dir = rootfs_dir };
	struct conffile cf = { .path = path, .name = file, .file_max = RECIPE_FILE_MAX,
			       .nofollow = true, .err = err, .errlen = errlen };
	char *copy = NULL;
	size_t len;
	int rc;

	*out = NULL;
	if (!recipe_name_valid(name)) {
		snprintf(err, errlen, "'%s' is not a valid recipe name", name);
		return -EINVAL;
	}
	snprintf(file, sizeof(file), "%s.image", name);
	if (snprintf(path, sizeof(path), "%s/%s", recipe_dir, file) >= (int)sizeof(path)) {
		snprintf(err, errlen, "%s: %s", file, strerror(ENAMETOOLONG));
		return -ENAMETOOLONG;
	}
	p.r = calloc(1, sizeof(*p.r));
	if (!p.r)
		return -ENOMEM;
	snprintf(p.r->name, sizeof(p.r->name), "%s", name);
	rc = conffile_load(&cf, &p.r->text, &len);
	if (rc == -ENOENT)
		snprintf(err, errlen, "%s: no such recipe", file);
	if (rc)
		goto fail;
	/* the text as read is hashed into the build key: parse a copy */
	copy = malloc(len + 1);
	if (!copy) {
		rc = -ENOMEM;
		goto fail;
	}
	memcpy(copy, p.r->text, len + 1);
	rc = conffile_parse(&cf, copy, len, recipe_line, &p);
	if (rc == 0) {
		rc = recipe_finish(&cf, p.r);
		if (rc == -ENOMEM)
			snprintf(err, errlen, "out of memory");
	}
	if (rc)
		goto fail;
	free(copy);
	*out = p.r;
	return 0;
fail:
	free(copy);
	recipe_free(p.r);
	return rc;
}
