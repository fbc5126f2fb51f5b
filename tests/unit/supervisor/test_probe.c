/* Tests of supervisor/probe.c's pure helpers: URL splitting and status lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "probe.h"

static int url(const char *u, const char *h, const char *p, const char *path)
{
	char host[64], port[16], pa[128];
	if (probe_parse_url(u, host, sizeof host, port, sizeof port, pa, sizeof pa) < 0)
		return -1;
	return strcmp(host, h) == 0 && strcmp(port, p) == 0 && strcmp(pa, path) == 0 ? 0 : 1;
}

static void splits_urls(void **state)
{
	(void)state;
	assert_int_equal(url("http://127.0.0.1:8080/health", "127.0.0.1", "8080", "/health"), 0);
	assert_int_equal(url("http://localhost", "localhost", "80", "/"), 0);
	assert_int_equal(url("http://localhost/", "localhost", "80", "/"), 0);
	assert_int_equal(url("http://[::1]:81/a?b=c", "::1", "81", "/a?b=c"), 0);
	assert_int_equal(url("https://x/", "", "", ""), -1);
	assert_int_equal(url("http://:80/", "", "", ""), -1);
	assert_int_equal(url("http://h:x/", "", "", ""), -1);
	assert_int_equal(url("http://h:/", "", "", ""), -1);
	assert_int_equal(url("http://h/a b", "", "", ""), -1);
	assert_int_equal(url("http://[::1/", "", "", ""), -1);
}

static void status_lines(void **state)
{
	(void)state;
#define OK(s) probe_status_ok(s, strlen(s))
	assert_true(OK("HTTP/1.1 200 OK"));
	assert_true(OK("HTTP/1.0 204 No Content\r"));
	assert_true(OK("HTTP/1.1 299 x"));
	assert_false(OK("HTTP/1.1 301 Moved"));
	assert_false(OK("HTTP/1.1 500 Error"));
	assert_false(OK("HTTP/1.1 2"));
	assert_false(OK("SSH-2.0-OpenSSH"));
	assert_false(OK(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(splits_urls),
		cmocka_unit_test(status_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
