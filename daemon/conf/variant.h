/* variant.h - "NAME+frag+frag": a recipe plus extra kernel fragments, normalised. */
#ifndef TINYBOOT_VARIANT_H
#define TINYBOOT_VARIANT_H

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

#endif
