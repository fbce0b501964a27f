/* caps.c - capabilities a child inherits, read with prctl (no libcap). */
#include "lib/caps.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

bool caps_child_has(int cap)
{
	if (geteuid() == 0)
		return prctl(PR_CAPBSET_READ, (unsigned long)cap, 0, 0, 0) == 1;
	return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, (unsigned long)cap, 0, 0) == 1;
}

static const char *caps_name(int cap)
{
	switch (cap) {
	case CAP_NET_BIND_SERVICE: return "CAP_NET_BIND_SERVICE";
	case CAP_NET_RAW: return "CAP_NET_RAW";
	case CAP_NET_ADMIN: return "CAP_NET_ADMIN";
	default: return "CAP_?";
	}
}

int caps_child_check(const int *caps, size_t n, char *missing, size_t len)
{
	size_t used = 0;
	int rc = 0;

	if (len)
		missing[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (caps_child_has(caps[i]))
			continue;
		rc = -EPERM;
		if (used < len) {
			int w = snprintf(missing + used, len - used, "%s%s", used ? " " : "", caps_name(caps[i]));

			used += w > 0 ? (size_t)w : 0;
		}
	}
	return rc;
}
