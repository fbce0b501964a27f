/* test_auth.c - which requests need a permitted client: every method but GET/HEAD, on every
 * route (and none), except a route marked HTTP_ROUTE_NO_TOKEN (reports). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "http/auth.h"
#include "http/request.h"
#include "http/routes.h"
#include "http/urlname.h"

static bool needed(const char *method, const char *path)
{
	struct request r;

	memset(&r, 0, sizeof(r));
	r.method = method;
	snprintf(r.split, sizeof(r.split), "%s", path);
	r.nparts = urlname_split(r.split, r.parts, URLNAME_MAX_COMPONENTS);
	assert_true(r.nparts >= 0);
	http_routes_match(&r);
	return http_auth_needed(&r);
}

static void test_needed(void **state)
{
	static const struct {
		const char *method, *path;
		bool needed;
	} v[] = {
		{ "POST", "/api/v1/builds", true },
		{ "GET", "/api/v1/builds", false },
		{ "HEAD", "/api/v1/builds", false },
		{ "POST", "/api/v1/boots", true },
		{ "POST", "/api/v1/reports", false },   /* the boot token is the proof */
		{ "PUT", "/api/v1/reports", true },     /* only what the route takes is open */
		{ "GET", "/images/tiny/bzImage", false }, /* reads: the build gate decides */
		{ "GET", "/ipxe", false },
		{ "DELETE", "/api/v1/machines", true }, /* methods a route does not take yet */
		{ "PUT", "/nope", true },               /* no route */
		{ "OPTIONS", "/healthz", true },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (needed(v[i].method, v[i].path) != v[i].needed)
			fail_msg("%s %s: needed is not %d", v[i].method, v[i].path, v[i].needed);
}

/* The flag is no method: the reports route still allows only POST. */
static void test_flag_is_no_method(void **state)
{
	struct http_route reports = { .methods = HTTP_ROUTE_POST | HTTP_ROUTE_NO_TOKEN };

	(void)state;
	assert_string_equal(http_routes_allow(&reports), "POST");
	assert_true(http_routes_allows(&reports, "POST"));
	assert_false(http_routes_allows(&reports, "GET"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_needed),
		cmocka_unit_test(test_flag_is_no_method),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
