/* test_report.c - a guest's report: each field checked, the boot token required, and only the
 * known fields kept. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "boot/report.h"

#define TOK "0123456789abcdef0123456789abcdef"
#define HEAD "{\"id\":\"lab1\",\"boot\":\"" TOK "\","

static const struct {
	const char *json;
	int rc;
	bool ok;
	const char *err; /* a part of the message */
} reports[] = {
	{ HEAD "\"kernel\":\"6.6\",\"uptime\":{},\"payloads\":[]}", 0, true, NULL },
	{ HEAD "\"kernel\":\"6.6\",\"arch\":\"x86_64\",\"uptime\":{\"init\":0.5},"
	  "\"addresses\":[\"10.0.2.15/24\"],\"payloads\":[{\"name\":\"a\",\"size\":1,\"sha256\":\"x\",\"ok\":true}]}",
	  0, true, NULL },
	/* what S50tinyboot sends for each payload */
	{ HEAD "\"kernel\":\"6.6\",\"uptime\":{},\"payloads\":[{\"name\":\"a\",\"size\":1,\"expected_size\":1,"
	  "\"sha256\":\"x\",\"expected_sha256\":\"x\",\"ok\":true,\"start\":1.5,\"end\":2}]}", 0, true, NULL },
	{ HEAD "\"kernel\":\"6.6\",\"uptime\":{},"
	  "\"payloads\":[{\"name\":\"a\",\"size\":1,\"sha256\":\"x\",\"ok\":false}]}", 0, false, NULL },
	{ HEAD "\"kernel\":\"6.6\",\"uptime\":{},\"payloads\":[],\"ok\":false}", 0, false, NULL },
	{ "[]", -EINVAL, false, "a report is a JSON object" },
	{ "{\"boot\":\"" TOK "\",\"kernel\":\"6.6\",\"uptime\":{},\"payloads\":[]}", -EINVAL, false, "\"id\" must be" },
	{ "{\"id\":\"../etc\",\"boot\":\"" TOK "\",\"kernel\":\"6.6\",\"uptime\":{},\"payloads\":[]}", -EINVAL,
	  false, "\"id\" must be" },
	/* the token proves the report comes from the boot: without it, no report */
	{ "{\"id\":\"lab1\",\"kernel\":\"6.6\",\"uptime\":{},\"payloads\":[]}", -EINVAL, false, "\"boot\" must be" },
	{ "{\"id\":\"lab1\",\"boot\":\"\",\"kernel\":\"6.6\",\"uptime\":{},\"payloads\":[]}", -EINVAL, false,
	  "\"boot\" must be" },
	{ "{\"id\":\"lab1\",\"boot\":\"xyz\",\"kernel\":\"6.6\",\"uptime\":{},\"payloads\":[]}", -EINVAL, false,
	  "\"boot\" must be" },
	{ "{\"id\":\"lab1\",\"boot\":\"0123456789ABCDEF0123456789ABCDEF\",\"kernel\":\"6.6\",\"uptime\":{},"
	  "\"payloads\":[]}", -EINVAL, false, "\"boot\" must be" },
	{ HEAD "\"uptime\":{},\"payloads\":[]}", -EINVAL, false, "\"kernel\" must be" },
	{ HEAD "\"kernel\":\"6.6\",\"arch\":1,\"uptime\":{},\"payloads\":[]}", -EINVAL, false, "\"arch\" must be" },
	{ HEAD "\"kernel\":\"6.6\",\"uptime\":[],\"payloads\":[]}", -EINVAL, false, "\"uptime\" must be" },
	{ HEAD "\"kernel\":\"6.6\",\"uptime\":{\"init\":\"soon\"},\"payloads\":[]}", -EINVAL, false,
	  "\"uptime\".init must be" },
	{ HEAD "\"kernel\":\"6.6\",\"uptime\":{},\"addresses\":\"x\",\"payloads\":[]}", -EINVAL, false,
	  "\"addresses\" must be an array" },
	{ HEAD "\"kernel\":\"6.6\",\"uptime\":{}}", -EINVAL, false, "\"payloads\" must be" },
	{ HEAD "\"kernel\":\"6.6\",\"uptime\":{},\"payloads\":[{\"name\":\"a\",\"size\":1,\"ok\":true}]}",
	  -EINVAL, false, "payload 0 needs" },
	{ HEAD "\"kernel\":\"6.6\",\"uptime\":{},\"payloads\":[{\"name\":\"a\",\"size\":1,\"sha256\":\"x\","
	  "\"ok\":true,\"start\":\"early\"}]}", -EINVAL, false, "payload 0 needs" },
	{ HEAD "\"kernel\":\"6.6\",\"uptime\":{},\"payloads\":[{\"name\":\"a\",\"size\":1,\"sha256\":\"x\","
	  "\"ok\":true,\"expected_size\":1.5}]}", -EINVAL, false, "payload 0 needs" },
	{ HEAD "\"kernel\":\"6.6\",\"uptime\":{},\"payloads\":[],\"ok\":\"yes\"}", -EINVAL, false, "\"ok\" must be" },
};

static void test_validate(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(reports) / sizeof(reports[0]); i++) {
		json_t *j = json_loads(reports[i].json, 0, NULL), *clean = (json_t *)1;
		struct report_info info = { 0 };
		char err[512] = "";
		int rc;

		assert_non_null(j);
		rc = report_validate(j, &clean, &info, err, sizeof(err));
		if (rc != reports[i].rc)
			fail_msg("report %zu: rc %d, want %d (%s)", i, rc, reports[i].rc, err);
		if (rc == 0) {
			assert_int_equal(info.ok, reports[i].ok);
			assert_string_equal(info.machine, "lab1");
			assert_string_equal(info.token, TOK);
			/* everything here is a known field: the copy is the report */
			assert_true(json_equal(clean, j));
		} else {
			assert_null(clean);
			if (!strstr(err, reports[i].err))
				fail_msg("report %zu: '%s' lacks '%s'", i, err, reports[i].err);
		}
		json_decref(clean);
		json_decref(j);
	}
}

/* At most 16 addresses, each a short string. */
static void test_validate_addresses(void **state)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:{}, s:[]}", "id", "lab1", "boot", TOK, "kernel", "6.6",
			      "uptime", "payloads");
	json_t *addresses = json_array(), *clean;
	struct report_info info;
	char err[512];

	(void)state;
	for (int i = 0; i < 17; i++)
		json_array_append_new(addresses, json_string("10.0.2.15/24"));
	json_object_set_new(j, "addresses", addresses);
	assert_int_equal(report_validate(j, &clean, &info, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "\"addresses\" must hold at most 16 short strings");
	json_array_remove(addresses, 0);
	assert_int_equal(report_validate(j, &clean, &info, err, sizeof(err)), 0);
	json_decref(clean);
	json_decref(j);
}

/* Whatever else a sender adds is not stored: the report keeps its schema's fields only, at the
 * top and in each payload; the caller's object is left as it was. */
static void test_unknown_fields_dropped(void **state)
{
	json_t *j = json_loads(HEAD "\"kernel\":\"6.6\",\"uptime\":{\"net\":1},\"junk\":[9e99,9e99,9e99],"
			       "\"payloads\":[{\"name\":\"a\",\"size\":1,\"sha256\":\"x\",\"ok\":true,"
			       "\"extra\":\"xxxxxxxx\",\"start\":1}],\"more\":{\"a\":1}}", 0, NULL);
	json_t *want = json_loads(HEAD "\"kernel\":\"6.6\",\"uptime\":{\"net\":1},"
				  "\"payloads\":[{\"name\":\"a\",\"size\":1,\"sha256\":\"x\",\"ok\":true,"
				  "\"start\":1}]}", 0, NULL);
	json_t *clean, *filtered;
	struct report_info info;
	char err[512];

	(void)state;
	assert_int_equal(report_validate(j, &clean, &info, err, sizeof(err)), 0);
	assert_true(json_equal(clean, want));
	assert_non_null(json_object_get(j, "junk"));
	/* the same cut for a journal line written before it (no checks there) */
	filtered = report_filter(j);
	assert_true(json_equal(filtered, want));
	json_decref(filtered);
	filtered = json_array();
	assert_null(report_filter(filtered));
	json_decref(filtered);
	json_decref(clean);
	json_decref(want);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_validate_addresses),
		cmocka_unit_test(test_unknown_fields_dropped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
