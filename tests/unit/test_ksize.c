/* test_ksize.c - sections, totals and symbols of a real ELF file (this test binary), every way a
 * vmlinux can be missing, stripped or corrupt, and the size.json cache. */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "build/ksize.h"
#include "build/store.h"
#include "lib/fsutil.h"
#include "testlib.h"

static char *self;
static size_t self_len;
static char *written; /* write_file's last path */

static int setup(void **state)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	(void)state;
	if (n < 0)
		return -1;
	exe[n] = '\0';
	/* this binary is built with -g and not stripped: a real ELF file with a .symtab */
	return fsutil_read_file(exe, 1 << 30, &self, &self_len);
}

static int teardown(void **state)
{
	(void)state;
	free(self);
	free(written);
	return 0;
}

/* testlib_dir/NAME holding data; the path is valid until the next call. */
static const char *write_file(const char *name, const void *data, size_t len)
{
	free(written);
	written = testlib_path(name);
	testlib_write_file(written, data, len);
	return written;
}

/* A copy of this binary with its .symtab section header changed by fn. */
static const char *write_patched(const char *name, void (*fn)(Elf64_Shdr *sh))
{
	char *copy = malloc(self_len);
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)copy;
	const char *path;
	int patched = 0;

	assert_non_null(copy);
	memcpy(copy, self, self_len);
	assert_int_equal(eh->e_ident[EI_CLASS], ELFCLASS64);
	for (size_t i = 0; i < eh->e_shnum; i++) {
		Elf64_Shdr *sh = (Elf64_Shdr *)(copy + eh->e_shoff + i * eh->e_shentsize);

		if (sh->sh_type == SHT_SYMTAB) {
			fn(sh);
			patched++;
		}
	}
	assert_int_equal(patched, 1);
	path = write_file(name, copy, self_len);
	free(copy);
	return path;
}

static void symtab_beyond_eof(Elf64_Shdr *sh) { sh->sh_offset = self_len + 4096; }
static void symtab_stripped(Elf64_Shdr *sh) { sh->sh_type = SHT_PROGBITS; }

static void test_self(void **state)
{
	char err[512] = "";
	json_t *j = NULL, *s, *prev = NULL;
	json_int_t sum = 0, groups = 0, text = 0;
	const char *path = write_file("self", self, self_len), *key;
	size_t i;

	(void)state;
	assert_int_equal(ksize_read(path, 5, &j, err, sizeof(err)), 0);
	assert_int_equal(json_integer_value(json_object_get(j, "format")), KSIZE_FORMAT);
	assert_int_equal(json_integer_value(json_object_get(j, "vmlinux")), (json_int_t)self_len);
	json_array_foreach(json_object_get(j, "sections"), i, s) {
		const char *group = json_string_value(json_object_get(s, "group"));

		assert_true(json_is_true(json_object_get(s, "alloc")));
		assert_non_null(json_object_get(json_object_get(j, "totals"), group));
		if (strcmp(json_string_value(json_object_get(s, "name")), ".text") == 0) {
			text = json_integer_value(json_object_get(s, "size"));
			assert_true(json_is_true(json_object_get(s, "exec")));
			assert_false(json_is_true(json_object_get(s, "write")));
			assert_string_equal(group, "text");
		}
		if (strcmp(json_string_value(json_object_get(s, "name")), ".bss") == 0)
			assert_string_equal(group, "bss");
		sum += json_integer_value(json_object_get(s, "size"));
	}
	assert_true(text > 0);
	/* .comment, .debug_* and .symtab are not SHF_ALLOC and must not be listed */
	json_array_foreach(json_object_get(j, "sections"), i, s)
		assert_string_not_equal(json_string_value(json_object_get(s, "name")), ".symtab");
	json_object_foreach(json_object_get(j, "totals"), key, s)
		groups += json_integer_value(s);
	assert_int_equal(sum, groups);

	assert_int_equal(json_array_size(json_object_get(j, "symbols")), 5);
	assert_true(json_integer_value(json_object_get(j, "symbols_total")) > 5);
	prev = NULL;
	json_array_foreach(json_object_get(j, "symbols"), i, s) {
		const char *type = json_string_value(json_object_get(s, "type"));

		assert_true(strcmp(type, "func") == 0 || strcmp(type, "object") == 0);
		assert_non_null(json_string_value(json_object_get(s, "section")));
		if (prev)
			assert_true(json_integer_value(json_object_get(prev, "size")) >=
				    json_integer_value(json_object_get(s, "size")));
		prev = s;
	}
	json_decref(j);
}

static void test_broken(void **state)
{
	static const char garbage[] = "this is not an ELF file, just text that sits where vmlinux should be\n";
	const struct {
		const char *name; /* a file in testlib_dir */
		int rc;
		const char *says;
	} cases[] = {
		{ "absent", -ENOENT, "No such file" },
		{ "dir", -ENOEXEC, "not a regular file" },
		{ "empty", -ENOEXEC, "not an ELF file" },
		{ "garbage", -ENOEXEC, "not an ELF file" },
		{ "header-only", -ENOEXEC, "corrupt ELF file" },
		{ "first-half", -ENOEXEC, "corrupt ELF file" },
		{ "symtab-past-eof", -ENOEXEC, "corrupt ELF file: .symtab" },
		{ "stripped", -ENODATA, "no .symtab (the file is stripped)" },
	};
	char *dir = testlib_path("dir");

	(void)state;
	assert_int_equal(mkdir(dir, 0755), 0);
	free(dir);
	write_file("empty", "", 0);
	write_file("garbage", garbage, sizeof(garbage));
	write_file("header-only", self, 64);
	write_file("first-half", self, self_len / 2);
	write_patched("symtab-past-eof", symtab_beyond_eof);
	write_patched("stripped", symtab_stripped);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[512] = "", *path = testlib_path(cases[i].name);
		json_t *j = NULL;
		int rc;

		rc = ksize_read(path, 10, &j, err, sizeof(err));
		if (rc != cases[i].rc || !strstr(err, cases[i].says) || !strstr(err, path))
			fail_msg("%s: rc %d (%s), want %d and '%s'", cases[i].name, rc, err, cases[i].rc, cases[i].says);
		assert_null(j);
		free(path);
	}
}

static void test_cache(void **state)
{
	const char *key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	char dir[4096], vmlinux[4200], cache[4200], err[512] = "", *text = NULL, *statedir;
	struct store *store = NULL;
	json_t *j = NULL;
	struct stat st;

	(void)state;
	statedir = testlib_path("state");
	assert_int_equal(store_open(statedir, &store), 0);
	assert_int_equal(store_path(store, STORE_KERNELS, key, NULL, dir, sizeof(dir)), 0);
	assert_int_equal(fsutil_mkdirs(dir, 0755), 0);
	snprintf(vmlinux, sizeof(vmlinux), "%s/vmlinux", dir);
	snprintf(cache, sizeof(cache), "%s/size.json", dir);
	assert_int_equal(fsutil_write_atomic(vmlinux, self, self_len), 0);

	assert_int_equal(ksize_get(store, key, &j, err, sizeof(err)), 0);
	assert_int_equal(json_array_size(json_object_get(j, "symbols")), KSIZE_TOP_MAX);
	assert_string_equal(json_string_value(json_object_get(j, "kernel_key")), key);
	json_decref(j);
	assert_int_equal(stat(cache, &st), 0);

	/* the second answer comes from size.json, not from the (now broken) vmlinux */
	assert_int_equal(fsutil_write_atomic(vmlinux, "junk", 4), 0);
	assert_int_equal(ksize_get(store, key, &j, err, sizeof(err)), 0);
	assert_int_equal(json_array_size(json_object_get(j, "symbols")), KSIZE_TOP_MAX);
	json_decref(j);

	/* a size.json of another format is computed again: here from the broken vmlinux */
	assert_int_equal(fsutil_read_file(cache, 1 << 22, &text, NULL), 0);
	assert_non_null(strstr(text, "\"format\":1"));
	free(text);
	assert_int_equal(fsutil_write_atomic(cache, "{\"format\": 0}", 13), 0);
	j = NULL;
	assert_int_equal(ksize_get(store, key, &j, err, sizeof(err)), -ENOEXEC);
	assert_non_null(strstr(err, "not an ELF file"));
	assert_null(j);

	assert_int_equal(ksize_get(store, "../../etc", &j, err, sizeof(err)), -EINVAL);
	store_free(store);
	free(statedir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_self, testlib_setup_tmpdir, testlib_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_broken, testlib_setup_tmpdir, testlib_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_cache, testlib_setup_tmpdir, testlib_teardown_tmpdir),
	};
	return cmocka_run_group_tests_name("ksize", tests, setup, teardown);
}
