/* ipxe.c - build iPXE scripts; every field is re-checked so no value can change the script. */
#include "boot/ipxe.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "conf/recipe.h"
#include "lib/names.h"
#include "lib/weburl.h"

/*
 * What an iPXE script reader treats specially: a newline ends a command, a trailing '\' joins
 * lines, whole tokens "&&", "||" and ";" chain commands, a token starting with '#' starts a
 * comment, ${...} expands a setting anywhere in a token, a line starting with ':' is a label,
 * and a token starting with '-' before the first plain argument is an option. The allowlists
 * below admit none of '\n', '\\', '&', '|', ';', '#', '$', '{', quotes or controls, and every
 * user-derived value follows a fixed word on its line. '[' and ']' mean nothing to iPXE; they are
 * admitted only around an IPv6 address that inet_pton() takes.
 */
#define IPXE_ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
/* '+' joins a variant's fragments (/images/net+debug/bzImage); iPXE gives it no meaning */
#define IPXE_PATH_CHARS IPXE_ALNUM "./_+-"
#define IPXE_NAME_CHARS "abcdefghijklmnopqrstuvwxyz0123456789_-"
/* recipe_cmdline_valid()'s set today; checked here too so that widening it there cannot open
 * a hole in the scripts */
#define IPXE_CMDLINE_CHARS IPXE_ALNUM " ._,:=/+-@"
#define IPXE_MESSAGE_CHARS IPXE_ALNUM " .,:_+-"
#define IPXE_SERVER_KEY "tinyboot.server="

/* s is 1..max bytes, all from allowed. */
static bool ipxe_chars_ok(const char *s, size_t max, const char *allowed)
{
	size_t n;

	if (!s)
		return false;
	for (n = 0; s[n]; n++) {
		if (n >= max || !strchr(allowed, s[n]))
			return false;
	}
	return n > 0;
}

bool ipxe_host_valid(const char *host)
{
	return weburl_host_valid(host);
}

/* "http://" or "https://", a host as ipxe_host_valid() takes it, then an optional path of
 * IPXE_PATH_CHARS without '+' that does not end in '/': lib/weburl.c keeps the one check. */
static bool ipxe_server_ok(const char *url)
{
	return url && strlen(url) <= IPXE_URL_MAX && weburl_base_valid(url);
}

/* An absolute path, optionally followed by exactly "?boot=" and a 32-hex-digit boot token:
 * the one query the daemon adds so downloads count toward their boot. */
static bool ipxe_path_ok(const char *path)
{
	const char *q = path ? strchr(path, '?') : NULL;
	char plain[IPXE_URL_MAX + 1];
	size_t n;

	if (!path)
		return false;
	n = q ? (size_t)(q - path) : strlen(path);
	if (n == 0 || n > IPXE_URL_MAX || path[0] != '/')
		return false;
	memcpy(plain, path, n);
	plain[n] = '\0';
	if (!ipxe_chars_ok(plain, IPXE_URL_MAX, IPXE_PATH_CHARS))
		return false;
	if (!q)
		return true;
	return strncmp(q, "?boot=", 6) == 0 && names_hex_lower(q + 6, 32);
}

bool ipxe_cmdline_valid(const char *cmdline)
{
	char word[RECIPE_CMDLINE_MAX + 1];
	const char *p;

	if (!cmdline || !cmdline[0])
		return true;
	if (strlen(cmdline) > RECIPE_CMDLINE_MAX)
		return false;
	/* word by word: recipe_cmdline_valid()'s characters, or tinyboot.server= and a server URL,
	 * which alone may hold the brackets of an IPv6 address */
	for (p = cmdline; *p;) {
		size_t n = strcspn(p, " ");

		if (n) {
			bool ok;

			memcpy(word, p, n);
			word[n] = '\0';
			if (strncmp(word, IPXE_SERVER_KEY, strlen(IPXE_SERVER_KEY)) == 0 &&
			    strpbrk(word, "[]"))
				ok = ipxe_server_ok(word + strlen(IPXE_SERVER_KEY));
			else
				ok = recipe_cmdline_valid(word) &&
				     ipxe_chars_ok(word, RECIPE_CMDLINE_MAX, IPXE_CMDLINE_CHARS);
			if (!ok)
				return false;
		}
		p += n;
		while (*p == ' ')
			p++;
	}
	return true;
}

/* Count, then format: buf is written only when the whole script fits. */
static int ipxe_format(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int ipxe_format(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if (!buf || (size_t)n >= len)
		return -ENOSPC;
	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

int ipxe_boot_script(const char *server_url, char *buf, size_t len)
{
	if (!ipxe_server_ok(server_url))
		return -EINVAL;
	/* :hexhyp gives 52-54-00-12-34-56 (no ':' to confuse a URL); ${uuid} is typed uuid, so it
	 * expands to hex and hyphens or to nothing; ${platform} and ${buildarch} are iPXE's build
	 * (pcbios/efi, i386/x86_64/...), the daemon checks them against a list. A lone '&' inside a
	 * token is plain text to iPXE (only a whole "&&" token chains). --replace ends this script,
	 * --autofree drops it. */
	return ipxe_format(buf, len,
			   "#!ipxe\n"
			   "chain --replace --autofree %s" IPXE_MACHINE_PATH
			   "?mac=${net0/mac:hexhyp}&uuid=${uuid}&platform=${platform}&buildarch=${buildarch}\n",
			   server_url);
}

int ipxe_machine_script(const struct ipxe_boot *b, char *buf, size_t len)
{
	const char *cmdline, *files;

	if (!b || !ipxe_server_ok(b->server_url) ||
	    (b->artifact_url && !ipxe_server_ok(b->artifact_url)) || !ipxe_path_ok(b->kernel_url) ||
	    !ipxe_path_ok(b->initrd_url) || !ipxe_cmdline_valid(b->cmdline) ||
	    !ipxe_chars_ok(b->machine, IPXE_MACHINE_MAX, IPXE_NAME_CHARS))
		return -EINVAL;
	cmdline = b->cmdline ? b->cmdline : "";
	files = b->artifact_url ? b->artifact_url : b->server_url;
	return ipxe_format(buf, len,
			   "#!ipxe\n"
			   "echo tinyboot: booting %s\n"
			   "kernel %s%s initrd=initrd%s%s\n"
			   "initrd --name initrd %s%s\n"
			   "boot\n",
			   b->machine,
			   files, b->kernel_url, cmdline[0] ? " " : "", cmdline,
			   files, b->initrd_url);
}

int ipxe_local_script(const char *machine, char *buf, size_t len)
{
	if (!ipxe_chars_ok(machine, IPXE_MACHINE_MAX, IPXE_NAME_CHARS))
		return -EINVAL;
	/* status 0: not a failure, the firmware goes on to its next boot device (the disk) */
	return ipxe_format(buf, len,
			   "#!ipxe\n"
			   "echo tinyboot: %s boots from its local disk\n"
			   "exit 0\n",
			   machine);
}

int ipxe_exit_script(const char *message, char *buf, size_t len)
{
	char clean[IPXE_MESSAGE_MAX + 1];
	size_t n = 0;

	if (message) {
		for (; message[n] && n < IPXE_MESSAGE_MAX; n++)
			clean[n] = strchr(IPXE_MESSAGE_CHARS, message[n]) ? message[n] : '_';
	}
	clean[n] = '\0';
	return ipxe_format(buf, len,
			   "#!ipxe\n"
			   "echo tinyboot: %s\n"
			   "exit 1\n",
			   clean);
}

int ipxe_firmware_parse(const char *platform, enum ipxe_firmware *out)
{
	if (!platform || !*platform)
		*out = IPXE_FIRMWARE_UNKNOWN;
	else if (strcmp(platform, "pcbios") == 0)
		*out = IPXE_FIRMWARE_BIOS;
	else if (strcmp(platform, "efi") == 0)
		*out = IPXE_FIRMWARE_UEFI;
	else
		return -EINVAL;
	return 0;
}

const char *ipxe_firmware_name(enum ipxe_firmware firmware)
{
	switch (firmware) {
	case IPXE_FIRMWARE_BIOS:
		return "bios";
	case IPXE_FIRMWARE_UEFI:
		return "uefi";
	case IPXE_FIRMWARE_UNKNOWN:
		break;
	}
	return "unknown";
}

bool ipxe_buildarch_valid(const char *buildarch)
{
	static const char *const arches[] = { "i386", "x86_64", "arm32", "arm64", "riscv32", "riscv64",
					      "loong64" };

	if (!buildarch || !*buildarch)
		return true;
	for (size_t i = 0; i < sizeof(arches) / sizeof(arches[0]); i++)
		if (strcmp(buildarch, arches[i]) == 0)
			return true;
	return false;
}
