/* variant.h - "NAME+frag+frag": a recipe plus extra kernel fragments, normalised. */
#ifndef TINYBOOT_VARIANT_H
#define TINYBOOT_VARIANT_H

#include <stdbool.h>
#include <stddef.h>

#include "conf/options.h"
#include "conf/recipe.h"

#define VARIANT_NAME_MAX 255

struct variant {
	struct recipe *recipe;
	struct name_list extra;  /* sorted, unique, none already in the recipe */
	char name[VARIANT_NAME_MAX + 1]; /* normalised: recipe+extra+extra */
};

/* Parse and check against what exists. -ENOENT: unknown recipe or fragment, and err lists the
 * valid names; -EINVAL: malformed; -EBADMSG: a broken recipe (err has file:line). */
int variant_parse(const struct options *o, const char *text, struct variant **out, char *err,
		  size_t errlen);
void variant_free(struct variant *v);

/* The kernel fragment with the EFI stub (kernel-config/efi.config). */
#define VARIANT_EFI_FRAGMENT "efi"

/* The variant a machine boots under its firmware: under BIOS (or unknown firmware) variant as
 * configured; under UEFI efi_variant when machines.conf names one, else variant+efi (which
 * variant_parse reduces to variant when its recipe has the fragment already). 0, or
 * -ENAMETOOLONG when it does not fit in out. */
int variant_for_firmware(const char *variant, const char *efi_variant, bool uefi, char *out,
			 size_t len);
/* Whether variant NAME, built for recipe arch ARCH, can start under a UEFI iPXE of buildarch:
 * tinyboot's EFI kernels are x86_64 and UEFI loads only kernels of its own architecture. 0, or
 * -ENOEXEC with why filled in (one line, [A-Za-z0-9 .,:_+-], for the console and the boot). */
int variant_efi_check(const char *name, const char *arch, const char *buildarch, char *why,
		      size_t whylen);

#endif
