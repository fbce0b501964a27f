/* pxe_files.h - the TFTP root: copies of the boot programs and nothing else, each replaced
 * atomically. HTTP serves the same files under /pxe/. */
#ifndef TINYBOOT_BOOT_PXE_FILES_H
#define TINYBOOT_BOOT_PXE_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define PXE_FILES_MAX (32 << 20) /* bytes of one boot program */

/* undionly.kpxe, snponly.efi, ipxe.efi: the only names the TFTP root and /pxe/ hold. */
bool pxe_files_known(const char *name);

/*
 * Copy each known program found in from_dir (symlinks followed: Debian links ipxe.efi to /boot)
 * into dir: written beside its final name, fsync'd, renamed, so TFTP and HTTP readers see the
 * old file or the new one. A copy whose bytes are the same stays as it is (its ETag too). Mode
 * 0444, owned by uid:gid unless uid is (uid_t)-1 (dnsmasq's tftp-secure serves only files of
 * the user it runs as). Anything else in dir is removed. missing gets the programs not found
 * ("" when none). 0, -ENOENT when not one was found (err says what to install), -errno.
 */
int pxe_files_install(const char *from_dir, const char *dir, uid_t uid, gid_t gid, char *missing,
		      size_t mlen, char *err, size_t errlen);

/* Without copying (tinybootd -n): which known programs from_dir lacks (in missing); -ENOENT
 * with err when it has none. */
int pxe_files_check(const char *from_dir, char *missing, size_t mlen, char *err, size_t errlen);

#endif
