/* ksize.h - a kernel's size by section and its largest symbols, read from its vmlinux (libelf). */
#ifndef TINYBOOT_KSIZE_H
#define TINYBOOT_KSIZE_H

#include <jansson.h>
#include <stddef.h>

struct store;

/* Symbols kept in size.json; a request asks for at most this many. */
#define KSIZE_TOP_MAX 200
/* Bump when the JSON below changes: an older size.json is then computed again. */
#define KSIZE_FORMAT 1

/* Read the ELF file at path into
 *   {"format", "vmlinux": file bytes, "totals": {"text", "rodata", "data", "bss"},
 *    "sections": [{"name", "size", "addr", "alloc", "exec", "write", "group"}],
 *    "symbols": [{"name", "size", "type": "func"|"object", "section"}], "symbols_total"}
 * Sections are every SHF_ALLOC section in file order; groups follow size(1): executable ->
 * text, read-only -> rodata (size(1) adds it to its text column), writable without file
 * contents -> bss, other writable -> data. Symbols: the `top` largest functions and objects of
 * .symtab, largest first. Errors: -ENOENT no file, -ENOEXEC not ELF or corrupt, -ENODATA no
 * .symtab (stripped); err says which file and why. */
int ksize_read(const char *path, size_t top, json_t **out, char *err, size_t errlen);
/* The store's kernels/KEY/size.json: read it, or compute it from the vmlinux beside it (with
 * KSIZE_TOP_MAX symbols) and write it atomically. Errors as ksize_read, -EINVAL for a bad key. */
int ksize_get(const struct store *store, const char *kernel_key, json_t **out, char *err, size_t errlen);

#endif
