/* ipxe.h - the iPXE scripts tinybootd serves, built as strings from checked fields. */
#ifndef TINYBOOT_IPXE_H
#define TINYBOOT_IPXE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/weburl.h"

/* The generic script chains to SERVER IPXE_MACHINE_PATH "?mac=" MAC "&uuid=" UUID "&platform="
 * PLATFORM "&buildarch=" BUILDARCH, with MAC as 52-54-00-12-34-56, UUID lowercase 8-4-4-4-12 or
 * empty (no SMBIOS UUID), and iPXE's own ${platform} and ${buildarch} settings. */
#define IPXE_MACHINE_PATH "/ipxe"

#define IPXE_URL_MAX 1024        /* server_url, kernel_url and initrd_url each */
/* lib/weburl.c checks hosts and server URLs for the scripts and for artifact-base-url */
#define IPXE_HOST_NAME_MAX WEBURL_HOST_NAME_MAX /* a DNS name */
#define IPXE_HOST_MAX WEBURL_HOST_MAX           /* HOST[:PORT] as ipxe_host_valid() takes it */
#define IPXE_MACHINE_MAX 32
#define IPXE_MESSAGE_MAX 200

/* Every function returns 0, -EINVAL when a field holds a character outside its allowlist (or
 * is NULL, empty or too long), or -ENOSPC when buf is too small. buf is left untouched unless
 * the result is 0. */

/* HOST[:PORT] as a URL may name the server: a DNS name or IPv4 address of [A-Za-z0-9._-] that
 * starts with neither '-' nor '.', or an IPv6 address in brackets ("[::1]", no zone), then
 * optionally ':' and a port 1..65535. What an HTTP Host header must be before it reaches a
 * script. */
bool ipxe_host_valid(const char *host);

/* A kernel command line fit for a script: at most RECIPE_CMDLINE_MAX bytes of words of
 * recipe_cmdline_valid()'s characters, except that a word "tinyboot.server=URL" whose URL is a
 * server URL as below may hold an IPv6 address's brackets. NULL or "" is fine. */
bool ipxe_cmdline_valid(const char *cmdline);

/* The script served at /boot.ipxe: it names the machine by ${net0/mac} and ${uuid}, and says
 * which firmware and CPU the iPXE runs on (${platform}, ${buildarch}).
 * server_url: "http://" or "https://", HOST[:PORT] as ipxe_host_valid() takes it, then
 * optionally a path of [A-Za-z0-9./_-] that does not end in '/'. */
int ipxe_boot_script(const char *server_url, char *buf, size_t len);

struct ipxe_boot {
	const char *server_url;   /* as for ipxe_boot_script */
	const char *kernel_url;   /* absolute path, [A-Za-z0-9./_+-]: /artifacts/HEX/bzImage or
				   * /images/net+debug/bzImage; optionally ?boot=TOKEN (32 hex) */
	const char *initrd_url;   /* the same */
	const char *artifact_url; /* as server_url: where kernel_url and initrd_url are fetched
				   * from (a site cache, artifact-base-url); NULL: server_url */
	const char *cmdline;      /* must pass ipxe_cmdline_valid(); NULL means none */
	const char *machine;      /* [a-z0-9_-]{1,32}, shown on the console */
};

/* Loads kernel and initrd and boots. The initrd is named "initrd" and the kernel gets
 * initrd=initrd, which is how the EFI stub finds it; BIOS kernels ignore the extra word. */
int ipxe_machine_script(const struct ipxe_boot *b, char *buf, size_t len);

/* Prints "tinyboot: MESSAGE" and exits with status 1 so the firmware tries its next boot
 * device. MESSAGE (NULL means empty) is reduced to [A-Za-z0-9 .,:_+-], any other byte becoming
 * '_', and cut at IPXE_MESSAGE_MAX bytes; it never fails with -EINVAL. */
int ipxe_exit_script(const char *message, char *buf, size_t len);

/* A machine set to boot locally: says so and exits with status 0, so the firmware goes on to
 * its next boot device. machine as in struct ipxe_boot. */
int ipxe_local_script(const char *machine, char *buf, size_t len);

/* The firmware iPXE runs on, from its ${platform} setting. */
enum ipxe_firmware {
	IPXE_FIRMWARE_UNKNOWN, /* not sent: a script from before tinyboot asked */
	IPXE_FIRMWARE_BIOS,    /* "pcbios" */
	IPXE_FIRMWARE_UEFI,    /* "efi" */
};

/* platform NULL or "" gives UNKNOWN, "pcbios" BIOS, "efi" UEFI; anything else is -EINVAL. */
int ipxe_firmware_parse(const char *platform, enum ipxe_firmware *out);
/* "unknown", "bios" or "uefi": how a boot records it. */
const char *ipxe_firmware_name(enum ipxe_firmware firmware);
/* iPXE's ${buildarch}: NULL or "" (not sent) or one of the architectures iPXE builds for
 * (i386, x86_64, arm32, arm64, riscv32, riscv64, loong64). */
bool ipxe_buildarch_valid(const char *buildarch);

#endif
