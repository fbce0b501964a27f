/* pxe_orphans.h - stop a dnsmasq that an earlier tinybootd on this state directory left running. */
#ifndef TINYBOOT_BOOT_PXE_ORPHANS_H
#define TINYBOOT_BOOT_PXE_ORPHANS_H

#include <sys/types.h>

/*
 * Stop (SIGTERM, SIGKILL after 3 s) every dnsmasq whose command line has the argument conf_arg
 * ("--conf-file=STATE/pxe/dnsmasq.conf"), except own (0: none). Only one tinybootd holds a state
 * directory (its lock), so such a dnsmasq was started by an earlier one that died without
 * stopping it. Each one is logged. Returns how many were stopped.
 */
int pxe_orphans_stop(const char *conf_arg, pid_t own);

#endif
