/* testlib.h - fixtures shared by the unit tests: a temp directory per test, files in it. */
#ifndef TINYBOOT_TESTLIB_H
#define TINYBOOT_TESTLIB_H

#include <stdbool.h>
#include <stddef.h>

/* The current test's directory (set by testlib_setup_tmpdir, removed by testlib_teardown_tmpdir). */
extern char testlib_dir[];

/* cmocka group or test fixtures: a fresh mkdtemp directory, removed with everything in it. */
int testlib_setup_tmpdir(void **state);
int testlib_teardown_tmpdir(void **state);

/* "testlib_dir/NAME" in a new string (the caller frees it). */
char *testlib_path(const char *name);
char *testlib_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Write, or read back NUL-terminated (NULL when it cannot be opened); a failure fails the test. */
void testlib_write_file(const char *path, const void *data, size_t len);
void testlib_write_text(const char *path, const char *text);
char *testlib_read_file(const char *path, size_t *len);
bool testlib_exists(const char *path);
/* Remove a tree (no shell); 0 or -errno. */
int testlib_rmtree(const char *path);

#endif
