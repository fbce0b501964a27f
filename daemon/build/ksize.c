/* ksize.c - a vmlinux's sections and largest symbols, computed once per kernel and cached. */
#include "build/ksize.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/store.h"
#include "lib/digest.h"
#include "lib/fsutil.h"
#include "lib/log.h"

#define KSIZE_CACHE_MAX (4 << 20)

struct ksize_sym {
	const char *name; /* points into the open Elf */
	GElf_Xword size;
	bool func;
	size_t shndx;
};

/* One ELF file being read: what the steps share, and where they report. */
struct ksize_elf {
	const char *path;
	size_t file_size;
	Elf *e;
	size_t shnum;
	const char **names; /* section index -> name */
	Elf_Scn *symtab;
	char *err;
	size_t errlen;
};

/* libelf wants its version set once per process before any other call. */
static pthread_once_t ksize_once = PTHREAD_ONCE_INIT;
static unsigned ksize_version = EV_NONE;

static void ksize_init(void)
{
	ksize_version = elf_version(EV_CURRENT);
}

static int ksize_fail(struct ksize_elf *k, const char *what)
{
	/* libelf keeps its last error per thread */
	snprintf(k->err, k->errlen, "%s: corrupt ELF file: %s: %s", k->path, what, elf_errmsg(-1));
	return -ENOEXEC;
}

static json_t *ksize_string(const char *s)
{
	json_t *j = json_string(s);

	return j ? j : json_string("?"); /* not UTF-8: JSON cannot carry it as is */
}

/* The column size(1) counts a section in (BFD: code -> text, read-only -> text, no contents
 * -> bss, the rest -> data); read-only data is kept apart as rodata. */
static const char *ksize_group(const GElf_Shdr *sh)
{
	if (sh->sh_flags & SHF_EXECINSTR)
		return "text";
	if (!(sh->sh_flags & SHF_WRITE))
		return "rodata";
	return sh->sh_type == SHT_NOBITS ? "bss" : "data";
}

static int ksize_sections(struct ksize_elf *k, json_t *sections, json_t *totals)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	GElf_Ehdr eh;

	if (!gelf_getehdr(k->e, &eh))
		return ksize_fail(k, "ELF header");
	if (elf_getshdrnum(k->e, &k->shnum) || elf_getshdrstrndx(k->e, &shstrndx))
		return ksize_fail(k, "section headers");
	/* libelf answers "no sections" rather than an error when the table lies past the end */
	if (!k->shnum || !eh.e_shentsize || eh.e_shoff >= k->file_size ||
	    (k->file_size - eh.e_shoff) / eh.e_shentsize < k->shnum) {
		snprintf(k->err, k->errlen, "%s: corrupt ELF file: no section header table, or one past "
			 "the end of the file", k->path);
		return -ENOEXEC;
	}
	k->names = calloc(k->shnum ? k->shnum : 1, sizeof(*k->names));
	if (!k->names)
		return -ENOMEM;
	while ((scn = elf_nextscn(k->e, scn))) {
		size_t i = elf_ndxscn(scn);
		const char *name, *group;
		char addr[24];
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) || i >= k->shnum)
			return ksize_fail(k, "section header");
		name = elf_strptr(k->e, shstrndx, sh.sh_name);
		if (!name)
			return ksize_fail(k, "section name");
		k->names[i] = name;
		if (sh.sh_type == SHT_SYMTAB)
			k->symtab = scn;
		if (!(sh.sh_flags & SHF_ALLOC))
			continue;
		group = ksize_group(&sh);
		json_object_set_new(totals, group, json_integer(json_integer_value(json_object_get(totals, group)) +
								(json_int_t)sh.sh_size));
		snprintf(addr, sizeof(addr), "0x%" PRIx64, (uint64_t)sh.sh_addr);
		json_array_append_new(sections, json_pack("{s:o, s:I, s:s, s:b, s:b, s:b, s:s}", "name",
							  ksize_string(name), "size", (json_int_t)sh.sh_size,
							  "addr", addr, "alloc", 1, "exec",
							  (sh.sh_flags & SHF_EXECINSTR) != 0, "write",
							  (sh.sh_flags & SHF_WRITE) != 0, "group", group));
	}
	return 0;
}

static int ksize_sym_cmp(const void *a, const void *b)
{
	const struct ksize_sym *x = a, *y = b;
	int c;

	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	c = strcmp(x->name, y->name);
	return c ? c : (x->shndx > y->shndx) - (x->shndx < y->shndx);
}

static const char *ksize_sym_section(const struct ksize_elf *k, size_t shndx)
{
	if (shndx == SHN_ABS)
		return "*ABS*";
	if (shndx == SHN_COMMON)
		return "*COM*";
	if (shndx >= SHN_LORESERVE || shndx >= k->shnum || !k->names[shndx])
		return "?";
	return k->names[shndx];
}

static int ksize_symbols(struct ksize_elf *k, size_t top, json_t *out, size_t *total)
{
	struct ksize_sym *syms;
	size_t entsize = gelf_fsize(k->e, ELF_T_SYM, 1, EV_CURRENT), n, kept = 0;
	Elf_Data *d;
	GElf_Shdr sh;

	if (!k->symtab) {
		snprintf(k->err, k->errlen, "%s: no .symtab (the file is stripped)", k->path);
		return -ENODATA;
	}
	if (!gelf_getshdr(k->symtab, &sh) || !(d = elf_getdata(k->symtab, NULL)) || !entsize)
		return ksize_fail(k, ".symtab");
	n = d->d_size / entsize;
	syms = calloc(n ? n : 1, sizeof(*syms));
	if (!syms)
		return -ENOMEM;
	for (size_t i = 1; i < n; i++) { /* entry 0 is the null symbol */
		GElf_Sym s;
		int type;

		if (!gelf_getsym(d, (int)i, &s)) {
			free(syms);
			return ksize_fail(k, "symbol");
		}
		type = GELF_ST_TYPE(s.st_info);
		if ((type != STT_FUNC && type != STT_OBJECT) || !s.st_size || s.st_shndx == SHN_UNDEF)
			continue;
		syms[kept].name = elf_strptr(k->e, sh.sh_link, s.st_name);
		if (!syms[kept].name) {
			free(syms);
			return ksize_fail(k, "symbol name");
		}
		syms[kept].size = s.st_size;
		syms[kept].func = type == STT_FUNC;
		syms[kept].shndx = s.st_shndx;
		kept++;
	}
	qsort(syms, kept, sizeof(*syms), ksize_sym_cmp);
	for (size_t i = 0; i < kept && i < top; i++)
		json_array_append_new(out, json_pack("{s:o, s:I, s:s, s:s}", "name", ksize_string(syms[i].name),
						     "size", (json_int_t)syms[i].size, "type",
						     syms[i].func ? "func" : "object", "section",
						     ksize_sym_section(k, syms[i].shndx)));
	*total = kept;
	free(syms);
	return 0;
}

int ksize_read(const char *path, size_t top, json_t **out, char *err, size_t errlen)
{
	struct ksize_elf k = { .path = path, .err = err, .errlen = errlen };
	json_t *sections = json_array(), *symbols = json_array(), *totals;
	size_t nsyms = 0;
	struct stat st;
	int fd, rc;

	totals = json_pack("{s:i, s:i, s:i, s:i}", "text", 0, "rodata", 0, "data", 0, "bss", 0);
	if (!sections || !symbols || !totals) {
		rc = -ENOMEM;
		goto out;
	}
	pthread_once(&ksize_once, ksize_init);
	if (ksize_version == EV_NONE) {
		snprintf(err, errlen, "libelf: %s", elf_errmsg(-1));
		rc = -ENOSYS;
		goto out;
	}
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC); /* a FIFO: refused below */
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		rc = -ENOEXEC;
		snprintf(err, errlen, "%s: not a regular file", path);
		goto close_fd;
	}
	k.file_size = (size_t)st.st_size;
	k.e = elf_begin(fd, ELF_C_READ, NULL);
	if (!k.e || elf_kind(k.e) != ELF_K_ELF) {
		rc = -ENOEXEC;
		snprintf(err, errlen, "%s: not an ELF file", path);
		goto end_elf;
	}
	rc = ksize_sections(&k, sections, totals);
	if (!rc)
		rc = ksize_symbols(&k, top, symbols, &nsyms);
	if (!rc) {
		*out = json_pack("{s:i, s:I, s:O, s:O, s:O, s:I}", "format", KSIZE_FORMAT, "vmlinux",
				 (json_int_t)st.st_size, "totals", totals, "sections", sections, "symbols",
				 symbols, "symbols_total", (json_int_t)nsyms);
		rc = *out ? 0 : -ENOMEM;
	}
end_elf:
	free(k.names);
	elf_end(k.e);
close_fd:
	close(fd);
out:
	json_decref(sections);
	json_decref(symbols);
	json_decref(totals);
	return rc;
}

/* A size.json written by this format, with every part a reader uses. */
static bool ksize_cache_ok(const json_t *j)
{
	return json_integer_value(json_object_get(j, "format")) == KSIZE_FORMAT &&
	       json_is_object(json_object_get(j, "totals")) && json_is_array(json_object_get(j, "sections")) &&
	       json_is_array(json_object_get(j, "symbols"));
}

int ksize_get(const struct store *store, const char *kernel_key, json_t **out, char *err, size_t errlen)
{
	char cache[4096], vmlinux[4096], *text = NULL;
	json_t *j;
	int rc;

	if (!digest_is_hex(kernel_key)) {
		snprintf(err, errlen, "'%.80s' is not a kernel key", kernel_key);
		return -EINVAL;
	}
	if (store_path(store, STORE_KERNELS, kernel_key, "size.json", cache, sizeof(cache)) ||
	    store_path(store, STORE_KERNELS, kernel_key, "vmlinux", vmlinux, sizeof(vmlinux))) {
		snprintf(err, errlen, "state directory path too long");
		return -ENAMETOOLONG;
	}
	if (fsutil_read_file(cache, KSIZE_CACHE_MAX, &text, NULL) == 0) {
		j = json_loads(text, 0, NULL);
		free(text);
		if (ksize_cache_ok(j)) {
			*out = j;
			return 0;
		}
		json_decref(j); /* an older format: computed again below */
	}
	rc = ksize_read(vmlinux, KSIZE_TOP_MAX, &j, err, errlen);
	if (rc)
		return rc;
	json_object_set_new(j, "kernel_key", json_string(kernel_key));
	text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	rc = text ? fsutil_write_atomic(cache, text, strlen(text)) : -ENOMEM;
	if (rc) /* answered all the same; the next request computes it again */
		log_warnx("%s: write %s: %s", __func__, cache, strerror(-rc));
	free(text);
	*out = j;
	return 0;
}
