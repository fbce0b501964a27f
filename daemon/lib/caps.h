/* caps.h - may a child we start use a capability (dnsmasq binding ports 67 and 69)? */
#ifndef TINYBOOT_CAPS_H
#define TINYBOOT_CAPS_H

#include <stdbool.h>
#include <stddef.h>

/* Would a program we execve (neither set-uid nor with file capabilities) hold capability cap
 * (a CAP_* number)? As root: when cap is in the bounding set. Otherwise: when it is an ambient
 * capability (systemd's AmbientCapabilities=), the only kind that survives execve then. */
bool caps_child_has(int cap);
/* Check every capability of caps[] (n of them) with caps_child_has; 0, or -EPERM with the
 * missing ones named in missing ("CAP_NET_RAW CAP_NET_ADMIN"). */
int caps_child_check(const int *caps, size_t n, char *missing, size_t len);

#endif
