/* Unit tests of coordinator/fargate.c's pure part: the URL the agent dials, made from
 * coordinator.advertise and the run's port. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "fargate.h"

static void url_is(const char *advertise, unsigned port, const char *want)
{
	char out[128];

	assert_int_equal(fargate_agent_url(advertise, port, out, sizeof out), 0);
	assert_string_equal(out, want);
}

static void test_port_added(void **state)
{
	(void)state;
	url_is("https://jenkins.internal.example.com", 30000, "https://jenkins.internal.example.com:30000/");
	url_is("https://jenkins.internal.example.com/", 30049, "https://jenkins.internal.example.com:30049/");
	url_is("https://127.0.0.1", 21795, "https://127.0.0.1:21795/");
}

static void test_port_replaced_path_dropped(void **state)
{
	(void)state;
	url_is("https://ci.example.com:443/", 30001, "https://ci.example.com:30001/");
	url_is("https://ci.example.com:8443/ingest/", 30002, "https://ci.example.com:30002/");
	url_is("https://[fd00::5]:443", 30003, "https://[fd00::5]:30003/");
	url_is("https://[fd00::5]", 30004, "https://[fd00::5]:30004/");
}

static void test_no_host_or_too_long(void **state)
{
	char small[24], out[64];

	(void)state;
	assert_int_equal(fargate_agent_url("https://", 30000, out, sizeof out), -1);
	assert_int_equal(fargate_agent_url("https:///x", 30000, out, sizeof out), -1);
	assert_int_equal(fargate_agent_url("https://a-rather-long-host.example.com", 30000, small, sizeof small), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_port_added),
		cmocka_unit_test(test_port_replaced_path_dropped),
		cmocka_unit_test(test_no_host_or_too_long),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
