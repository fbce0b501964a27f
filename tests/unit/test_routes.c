/* test_routes.c - the route table without a server: which path finds which route, its '*'
 * arguments, its methods and its body limit (a trailing '/' changes none of them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "http/boot.h"
#include "http/request.h"
#include "http/routes.h"
#include "http/urlname.h"

#define SMALL HTTP_BOOT_REPORT_MAX
#define ANY HTTP_BODY_MAX_DEFAULT

static const struct {
	const char *path;
	const char *pattern; /* NULL: no route (404) */
	const char *allow;
	size_t body_max;
	const char *arg0, *arg1;
} cases[] = {
	{ "/",                          "/",                     "GET, HEAD", ANY,   NULL, NULL },
	{ "/static/status.js",          "/static/*",             "GET, HEAD", ANY,   "status.js", NULL },
	{ "/healthz",                   "/healthz",              "GET, HEAD", ANY,   NULL, NULL },
	{ "/healthz/",                  "/healthz",              "GET, HEAD", ANY,   NULL, NULL },
	{ "/api/v1/version",            "/api/v1/version",       "GET, HEAD", ANY,   NULL, NULL },
	{ "/payloads/manifest",         "/payloads/manifest",    "GET, HEAD", ANY,   NULL, NULL },
	{ "/payloads/gen/4096",         "/payloads/gen/*",       "GET, HEAD", ANY,   "4096", NULL },
	{ "/payloads/gen",              "/payloads/*",           "GET, HEAD", ANY,   "gen", NULL },
	{ "/payloads/hello.txt",        "/payloads/*",           "GET, HEAD", ANY,   "hello.txt", NULL },
	{ "/payloads/hello.txt/",       "/payloads/*",           "GET, HEAD", ANY,   "hello.txt", NULL },
	{ "/boot.ipxe",                 "/boot.ipxe",            "GET, HEAD", ANY,   NULL, NULL },
	{ "/ipxe",                      "/ipxe",                 "GET, HEAD", ANY,   NULL, NULL },
	{ "/api/v1/boots",              "/api/v1/boots",         "POST",      ANY,   NULL, NULL },
	{ "/api/v1/boots/0123abcd",     "/api/v1/boots/*",       "GET, HEAD", ANY,   "0123abcd", NULL },
	{ "/api/v1/reports",            "/api/v1/reports",       "POST",      SMALL, NULL, NULL },
	{ "/api/v1/reports/",           "/api/v1/reports",       "POST",      SMALL, NULL, NULL },
	{ "/api/v1/machines",           "/api/v1/machines",      "GET, HEAD", ANY,   NULL, NULL },
	{ "/images/net+debug/bzImage",  "/images/*/*",           "GET, HEAD", ANY,   "net+debug", "bzImage" },
	{ "/api/v1/builds",             "/api/v1/builds",        "GET, HEAD, POST", ANY, NULL, NULL },
	{ "/api/v1/builds/42",          "/api/v1/builds/*",      "GET, HEAD", ANY,   "42", NULL },
	{ "/api/v1/images",             "/api/v1/images",        "GET, HEAD", ANY,   NULL, NULL },
	{ "/api/v1/images/net/size",    "/api/v1/images/*/size", "GET, HEAD", ANY,   "net", NULL },
	{ "/artifacts/ab12/initrd",     "/artifacts/*/*",        "GET, HEAD", ANY,   "ab12", "initrd" },
	{ "/pxe/undionly.kpxe",         "/pxe/*",                "GET, HEAD", ANY,   "undionly.kpxe", NULL },
	{ "/api/v1/pxe/config",         "/api/v1/pxe/config",    "GET, HEAD", ANY,   NULL, NULL },
	/* no route: the component count or a fixed name differs */
	{ "/nope",                      NULL, NULL, ANY, NULL, NULL },
	{ "/api",                       NULL, NULL, ANY, NULL, NULL },
	{ "/api/v1",                    NULL, NULL, ANY, NULL, NULL },
	{ "/api/v2/version",            NULL, NULL, ANY, NULL, NULL },
	{ "/api/v1/reports/x",          NULL, NULL, ANY, NULL, NULL },
	{ "/api/v1/boots/a/b",          NULL, NULL, ANY, NULL, NULL },
	{ "/api/v1/images/net/sizes",   NULL, NULL, ANY, NULL, NULL },
	{ "/api/v1/images/net",         NULL, NULL, ANY, NULL, NULL },
	{ "/payloads",                  NULL, NULL, ANY, NULL, NULL },
	{ "/payloads/gen/1/2",          NULL, NULL, ANY, NULL, NULL },
	{ "/images/net",                NULL, NULL, ANY, NULL, NULL },
	{ "/artifacts/ab12/initrd/x",   NULL, NULL, ANY, NULL, NULL },
	{ "/pxe",                       NULL, NULL, ANY, NULL, NULL },
	{ "/pxe/a/b",                   NULL, NULL, ANY, NULL, NULL },
	{ "/api/v1/pxe",                NULL, NULL, ANY, NULL, NULL },
	{ "/healthzz",                  NULL, NULL, ANY, NULL, NULL },
	{ "/Healthz",                   NULL, NULL, ANY, NULL, NULL },
};

/* Split the path the way the server does, then match it. */
static void match(struct request *r, const char *path)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->split, sizeof(r->split), "%s", path);
	r->nparts = urlname_split(r->split, r->parts, URLNAME_MAX_COMPONENTS);
	assert_true(r->nparts >= 0);
	http_routes_match(r);
}

static void test_table(void **state)
{
	struct request r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("%s\n", cases[i].path);
		match(&r, cases[i].path);
		assert_int_equal(r.body_max, cases[i].body_max);
		if (!cases[i].pattern) {
			assert_null(r.route);
			continue;
		}
		assert_non_null(r.route);
		assert_string_equal(r.route->pattern, cases[i].pattern);
		assert_string_equal(http_routes_allow(r.route), cases[i].allow);
		assert_int_equal(r.route->body_max, cases[i].body_max);
		assert_non_null(r.route->handler);
		if (cases[i].arg0)
			assert_string_equal(r.args[0], cases[i].arg0);
		if (cases[i].arg1)
			assert_string_equal(r.args[1], cases[i].arg1);
	}
}

static void test_methods(void **state)
{
	struct request r;

	(void)state;
	match(&r, "/payloads/hello.txt");
	assert_true(http_routes_allows(r.route, "GET"));
	assert_true(http_routes_allows(r.route, "HEAD"));
	assert_false(http_routes_allows(r.route, "POST"));
	assert_false(http_routes_allows(r.route, "PUT"));
	assert_false(http_routes_allows(r.route, "DELETE"));
	assert_false(http_routes_allows(r.route, "get")); /* methods are case-sensitive */

	match(&r, "/api/v1/reports/");
	assert_true(http_routes_allows(r.route, "POST"));
	assert_false(http_routes_allows(r.route, "GET"));
	assert_false(http_routes_allows(r.route, "HEAD"));
	assert_false(http_routes_allows(r.route, "OPTIONS"));
}

/* The Allow header is made from the methods, whatever the route. */
static void test_allow_strings(void **state)
{
	struct http_route get = { .methods = HTTP_ROUTE_GET };
	struct http_route post = { .methods = HTTP_ROUTE_POST };
	struct http_route both = { .methods = HTTP_ROUTE_GET | HTTP_ROUTE_POST };

	(void)state;
	assert_string_equal(http_routes_allow(&get), "GET, HEAD");
	assert_string_equal(http_routes_allow(&post), "POST");
	assert_string_equal(http_routes_allow(&both), "GET, HEAD, POST");
	assert_true(http_routes_allows(&both, "HEAD"));
	assert_true(http_routes_allows(&both, "POST"));
}

/* The server matches once per request; args point into the request's own split path. */
static void test_args_point_into_the_request(void **state)
{
	struct request r;

	(void)state;
	match(&r, "/images/tiny/initrd");
	assert_ptr_equal(r.args[0], r.parts[1]);
	assert_ptr_equal(r.args[1], r.parts[2]);
	assert_true(r.args[0] >= r.split && r.args[0] < r.split + sizeof(r.split));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_methods),
		cmocka_unit_test(test_allow_strings),
		cmocka_unit_test(test_args_point_into_the_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
