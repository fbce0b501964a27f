/* kconfig.h - check that a final .config holds what the fragments asked for. */
#ifndef TINYBOOT_KCONFIG_H
#define TINYBOOT_KCONFIG_H

#include <stddef.h>

/* The value of CONFIG_<name> in .config text: "y", "m", "\"str\"", "123", or "n" for
 * "# CONFIG_X is not set" and for absent symbols. Returns 0, or -ENOENT if absent. */
int kconfig_value(const char *config_text, const char *name, char *value, size_t len);
/* Every line of every fragment must hold in the final config. On a mismatch returns -EINVAL with
 * err naming the option, the fragment, the final value and (when srctree is given) what the
 * option depends on in Kconfig. */
int kconfig_check(const char *config_text, char *const fragments[], size_t nfragments,
		  const char *srctree, char *err, size_t errlen);
/* The "depends on" lines of config NAME in the Kconfig files below srctree, joined with " && ". */
int kconfig_depends(const char *srctree, const char *name, char *out, size_t len);

#endif
