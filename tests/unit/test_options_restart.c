/* test_options_restart.c - which settings a SIGHUP may not change, and how the refusal names them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "conf/options.h"

/* Replace a string option's value (the table's strings are malloc'd). */
static void set_str(char **slot, const char *value)
{
	free(*slot);
	*slot = value ? strdup(value) : NULL;
	assert_true(!value || *slot);
}

static void test_unchanged(void **state)
{
	struct options a, b;
	char names[256] = "junk";

	(void)state;
	options_init(&a);
	options_init(&b);
	assert_int_equal(options_restart_changes(&a, &b, names, sizeof(names)), 0);
	assert_string_equal(names, "");
	options_free(&a);
	options_free(&b);
}

static void test_each_restart_only_setting(void **state)
{
	static const struct {
		const char *name;
		size_t offset;
		unsigned value;
	} uints[] = {
		{ "threads", offsetof(struct options, threads), 3 },
		{ "connection-timeout", offsetof(struct options, connection_timeout), 7 },
		{ "max-connections", offsetof(struct options, max_connections), 9 },
		{ "max-connections-per-ip", offsetof(struct options, max_connections_per_ip), 2 },
		{ "connection-memory", offsetof(struct options, connection_memory), 16384 },
		{ "max-kernel-builds", offsetof(struct options, max_kernel_builds), 4 },
	};
	struct options a, b;
	char names[256];

	(void)state;
	options_init(&a);
	for (size_t i = 0; i < sizeof(uints) / sizeof(uints[0]); i++) {
		options_init(&b);
		*(unsigned *)((char *)&b + uints[i].offset) = uints[i].value;
		assert_int_equal(options_restart_changes(&a, &b, names, sizeof(names)), 1);
		assert_string_equal(names, uints[i].name);
		options_free(&b);
	}
	options_init(&b);
	set_str(&b.listen, "127.0.0.1:9");
	assert_int_equal(options_restart_changes(&a, &b, names, sizeof(names)), 1);
	assert_string_equal(names, "listen");
	options_free(&b);
	options_init(&b);
	set_str(&b.state_dir, "/elsewhere");
	assert_int_equal(options_restart_changes(&a, &b, names, sizeof(names)), 1);
	assert_string_equal(names, "state");
	options_free(&b);
	options_free(&a);
}

/* What a reload is for: directories, files, build and boot settings, PXE, the log level. */
static void test_reloadable_settings_pass(void **state)
{
	struct options a, b;
	char names[256];

	(void)state;
	options_init(&a);
	options_init(&b);
	set_str(&b.payload_dir, "/p");
	set_str(&b.recipe_dir, "/r");
	set_str(&b.machines_file, "/m.conf");
	set_str(&b.sources_file, "/s.conf");
	set_str(&b.pxe, "proxy");
	set_str(&b.pxe_interface, "lab0");
	b.drain_timeout = 1;
	b.build_jobs = 3;
	b.retry_after = 9;
	b.max_waiting = 1;
	b.report_timeout = 5;
	b.log_level = LOG_LEVEL_DEBUG;
	assert_int_equal(options_restart_changes(&a, &b, names, sizeof(names)), 0);
	assert_string_equal(names, "");
	options_free(&a);
	options_free(&b);
}

static void test_all_named_in_table_order_and_cut(void **state)
{
	struct options a, b;
	char names[256], small[12];

	(void)state;
	options_init(&a);
	options_init(&b);
	set_str(&b.state_dir, "relative/state");
	set_str(&b.listen, "[::1]:0");
	b.threads = 2;
	b.max_connections = 5;
	set_str(&b.payload_dir, "/p");
	assert_int_equal(options_restart_changes(&a, &b, names, sizeof(names)), 4);
	assert_string_equal(names, "listen, state, threads, max-connections");
	assert_int_equal(options_restart_changes(&a, &b, small, sizeof(small)), 4);
	assert_string_equal(small, "listen, sta");
	options_free(&a);
	options_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unchanged),
		cmocka_unit_test(test_each_restart_only_setting),
		cmocka_unit_test(test_reloadable_settings_pass),
		cmocka_unit_test(test_all_named_in_table_order_and_cut),
	};

	return cmocka_run_group_tests_name("options_restart", tests, NULL, NULL);
}
