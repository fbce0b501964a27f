/* machines.h - machines.conf: the variant, address, payloads and kernel args of each machine. */
#ifndef TINYBOOT_MACHINES_H
#define TINYBOOT_MACHINES_H

#include <stdbool.h>
#include <stddef.h>

#define MACHINES_NAME_MAX 32
#define MACHINES_VARIANT_MAX 255
#define MACHINES_PAYLOADS_MAX 64
#define MACHINES_LINE_MAX (64 * 1024)
#define MACHINES_FILE_MAX (16 * 1024 * 1024)

struct machine {
	char mac[18];       /* "52:54:00:12:34:56"; "" for the default entry */
	char name[33];      /* [a-z0-9_-]{1,32}; "mac-" + 12 hex digits, or "default", when not given */
	char uuid[37];      /* lowercase 8-4-4-4-12, or "" */
	char *variant;      /* [a-z0-9_+-]{1,255}; always set (the key is required) */
	char *efi_variant;  /* the same syntax; what the machine boots under UEFI instead of
			     * variant+efi; NULL when not given */
	char ip[19];        /* "10.0.2.15/24", or "" */
	char gw[16];        /* "10.0.2.2", or "" */
	bool dhcp;          /* net=dhcp; the default when ip is not set */
	char **payloads;    /* file names (names_file_valid) or "gen/N" (names_gen_size); NULL when none */
	size_t npayloads;
	char *args;         /* extra kernel args joined by single spaces; "" when none, never NULL */
	bool is_default;
	unsigned line;      /* where the entry is in the file */
};

struct machines;

/* Parse path (read by lib/conffile). Errors are written to err as "FILE:LINE: message" (or
 * "FILE: reason" for I/O), and the return is -EINVAL for a bad file, another -errno for I/O or
 * memory. *out is NULL on failure. */
int machines_load(const char *path, struct machines **out, char *err, size_t errlen);
void machines_free(struct machines *m);
/* 52:54:00:12:34:56, 52-54-00-12-34-56 or 525400123456, either case; exactly 12 hex digits.
 * 0 or -EINVAL; out gets the lowercase colon form. */
int machines_normalize_mac(const char *in, char out[18]);
/* 8-4-4-4-12 hex digits, either case. 0 or -EINVAL; out gets the lowercase form. */
int machines_normalize_uuid(const char *in, char out[37]);
/* By MAC first, then by UUID, then the default entry; NULL if none. mac and uuid may be NULL,
 * empty or malformed (then that step is skipped); any MAC form above is accepted. The all-zero
 * and all-ones UUIDs that firmware reports when it has none never match. */
const struct machine *machines_find(const struct machines *m, const char *mac, const char *uuid);
const struct machine *machines_by_name(const struct machines *m, const char *name);
size_t machines_count(const struct machines *m);
/* Entries in file order (the default entry included); NULL past the end. */
const struct machine *machines_at(const struct machines *m, size_t i);

#endif
