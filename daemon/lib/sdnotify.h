/* sdnotify.h - tell systemd about readiness, reloads and shutdown (Type=notify). */
#ifndef TINYBOOT_SDNOTIFY_H
#define TINYBOOT_SDNOTIFY_H

/* Send "READY=1" etc. to $NOTIFY_SOCKET; a no-op without it. Returns 0 or -errno. */
int sdnotify(const char *state);

#endif
