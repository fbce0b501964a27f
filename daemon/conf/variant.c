/* variant.c - variants are normalised so that fragment order and repeats never cause a rebuild. */
#include "conf/variant.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fsutil.h"

void variant_free(struct variant *v)
{
	if (!v)
		return;
	recipe_free(v->recipe);
	name_list_clear(&v->extra);
	free(v);
}

static int variant_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void variant_join(const struct name_list *l, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < l->n && used < len; i++) {
		int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", l->v[i]);

		if (n < 0)
			break;
		used += (size_t)n;
	}
}

static void variant_unknown(const char *what, const char *name, const char *dir,
			    const char *suffix, char *err, size_t errlen)
{
	struct name_list valid = { .n = 0 };
	char names[2048];

	recipe_list_dir(dir, suffix, &valid);
	variant_join(&valid, names, sizeof(names));
	snprintf(err, errlen, "unknown %s '%s'; valid %ss: %s", what, name, what, names);
	name_list_clear(&valid);
}

int variant_parse(const struct options *o, const char *text, struct variant **out, char *err,
		  size_t errlen)
{
	char buf[VARIANT_NAME_MAX + 1], *save = NULL, *tok;
	struct variant *v;
	size_t used;
	int rc;

	if (strlen(text) > VARIANT_NAME_MAX) {
		snprintf(err, errlen, "variant name too long");
		return -EINVAL;
	}
	/* strtok would skip empty parts; "+net", "net+" and "net++x" are malformed, not "net" */
	if (text[0] == '+' || (text[0] && text[strlen(text) - 1] == '+') || strstr(text, "++")) {
		snprintf(err, errlen, "'%s' is not a variant (NAME or NAME+fragment+...)", text);
		return -EINVAL;
	}
	memcpy(buf, text, strlen(text) + 1);
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	tok = strtok_r(buf, "+", &save);
	if (!tok || !recipe_name_valid(tok)) {
		snprintf(err, errlen, "'%s' is not a variant (NAME or NAME+fragment+...)", text);
		rc = -EINVAL;
		goto fail;
	}
	rc = recipe_load(o->recipe_dir, o->kconfig_dir, o->rootfs_dir, tok, &v->recipe, err, errlen);
	if (rc == -ENOENT) {
		variant_unknown("recipe", tok, o->recipe_dir, ".image", err, errlen);
		goto fail;
	}
	if (rc) {
		rc = rc == -ENOMEM ? rc : -EBADMSG; /* the recipe file is broken: the server's fault */
		goto fail;
	}
	while ((tok = strtok_r(NULL, "+", &save))) {
		char path[4096];
		struct stat st;
		int fd;

		if (!recipe_name_valid(tok)) {
			snprintf(err, errlen, "'%s' is not a valid fragment name", tok);
			rc = -EINVAL;
			goto fail;
		}
		snprintf(path, sizeof(path), "%s/%s.config", o->kconfig_dir, tok);
		/* requests get here: a FIFO in its place is refused, not waited on */
		fd = fsutil_open_regular(AT_FDCWD, path, 0, &st);
		if (fd < 0) {
			variant_unknown("fragment", tok, o->kconfig_dir, ".config", err, errlen);
			rc = -ENOENT;
			goto fail;
		}
		close(fd);
		/* already in the recipe, or asked for twice: changes nothing */
		if (name_list_has(&v->recipe->fragments, tok) || name_list_has(&v->extra, tok))
			continue;
		if (v->extra.n == RECIPE_LIST_MAX) {
			snprintf(err, errlen, "too many fragments");
			rc = -EINVAL;
			goto fail;
		}
		v->extra.v[v->extra.n] = strdup(tok);
		if (!v->extra.v[v->extra.n]) {
			rc = -ENOMEM;
			goto fail;
		}
		v->extra.n++;
	}
	qsort(v->extra.v, v->extra.n, sizeof(v->extra.v[0]), variant_cmp);
	used = (size_t)snprintf(v->name, sizeof(v->name), "%s", v->recipe->name);
	for (size_t i = 0; i < v->extra.n && used < sizeof(v->name); i++)
		used += (size_t)snprintf(v->name + used, sizeof(v->name) - used, "+%s", v->extra.v[i]);
	*out = v;
	return 0;
fail:
	variant_free(v);
	return rc;
}

int variant_for_firmware(const char *variant, const char *efi_variant, bool uefi, char *out,
			 size_t len)
{
	int n;

	if (!uefi)
		n = snprintf(out, len, "%s", variant);
	else if (efi_variant && *efi_variant)
		n = snprintf(out, len, "%s", efi_variant);
	else
		n = snprintf(out, len, "%s+" VARIANT_EFI_FRAGMENT, variant);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int variant_efi_check(const char *name, const char *arch, const char *buildarch, char *why,
		      size_t whylen)
{
	if (!buildarch || !*buildarch) {
		snprintf(why, whylen, "UEFI iPXE did not say its buildarch: no kernel for %s", name);
		return -ENOEXEC;
	}
	if (strcmp(buildarch, "x86_64") != 0) {
		snprintf(why, whylen, "UEFI on %s: tinyboot has EFI kernels for x86_64 only", buildarch);
		return -ENOEXEC;
	}
	if (strcmp(arch, "x86_64") != 0) {
		snprintf(why, whylen,
			 "%s is an %s variant and UEFI on x86_64 starts x86_64 kernels only: "
			 "set efi-variant in machines.conf", name, arch);
		return -ENOEXEC;
	}
	return 0;
}
