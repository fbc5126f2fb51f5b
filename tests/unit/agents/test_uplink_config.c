/* agents/uplink/uplink_config.c: URL, pin, environment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "uplink.h"

#define TOKEN "svt1.00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define PIN "AB:cd:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:de"

static void test_pin(void **state)
{
	unsigned char pin[32];

	(void)state;
	assert_int_equal(uplink_pin_parse(PIN, pin), 0);
	assert_int_equal(pin[0], 0xab);
	assert_int_equal(pin[1], 0xcd);
	assert_int_equal(pin[31], 0xde);
	assert_int_equal(uplink_pin_parse("abcd0011223344556677889900aabbccddeeff00112233445566778899aabbcc", pin), 0);
	assert_int_equal(pin[31], 0xcc);
	assert_int_equal(uplink_pin_parse("abcd", pin), -1);
	assert_int_equal(uplink_pin_parse(PIN ":00", pin), -1);
	assert_int_equal(uplink_pin_parse(PIN ":", pin), -1);
	assert_int_equal(uplink_pin_parse("zz:cd:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:de", pin), -1);
	assert_int_equal(uplink_pin_parse("abc", pin), -1);
	assert_int_equal(uplink_pin_parse("", pin), -1);
	assert_int_equal(uplink_pin_parse(NULL, pin), -1);
}

static void test_url(void **state)
{
	struct uplink_config c;
	char err[200];

	(void)state;
	uplink_config_defaults(&c);
	strcpy(c.stream, "b-1");
	assert_int_equal(uplink_config_set_url(&c, "https://10.0.3.4:8443/", err, sizeof err), 0);
	assert_string_equal(c.host, "10.0.3.4");
	assert_int_equal(c.port, 8443);
	assert_string_equal(c.path, "/v1/streams/b-1/events");
	assert_int_equal(uplink_config_set_url(&c, "https://jenkins.example.com", err, sizeof err), 0);
	assert_string_equal(c.host, "jenkins.example.com");
	assert_int_equal(c.port, 443);
	assert_string_equal(c.path, "/v1/streams/b-1/events");
	assert_int_equal(uplink_config_set_url(&c, "https://[::1]:9000/ingest/", err, sizeof err), 0);
	assert_string_equal(c.host, "::1");
	assert_int_equal(c.port, 9000);
	assert_string_equal(c.path, "/ingest/v1/streams/b-1/events");
	assert_int_equal(uplink_config_set_url(&c, "http://h/", err, sizeof err), -1);
	assert_non_null(strstr(err, "https://"));
	assert_int_equal(uplink_config_set_url(&c, "https://h:0/", err, sizeof err), -1);
	assert_int_equal(uplink_config_set_url(&c, "https://h:65536/", err, sizeof err), -1);
	assert_int_equal(uplink_config_set_url(&c, "https://h:x/", err, sizeof err), -1);
	assert_int_equal(uplink_config_set_url(&c, "https:///", err, sizeof err), -1);
	assert_int_equal(uplink_config_set_url(&c, "https://[::1/", err, sizeof err), -1);
	assert_int_equal(uplink_config_set_url(&c, "https://user@h/", err, sizeof err), -1);
	assert_int_equal(uplink_config_set_url(&c, "https://h/?q=1", err, sizeof err), -1);
	assert_int_equal(uplink_config_set_url(&c, "https://h?q=1", err, sizeof err), -1);
}

static void clear_env(void)
{
	static const char *const vars[] = {"STAGEVISOR_URL", "STAGEVISOR_STREAM", "STAGEVISOR_TOKEN",
					   "STAGEVISOR_PIN", "STAGEVISOR_CA_FILE", "STAGEVISOR_SPOOL",
					   "STAGEVISOR_SPOOL_BYTES", "STAGEVISOR_BUFFER_BYTES"};
	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
		unsetenv(vars[i]);
}

static int from_env(struct uplink_config *c, char *err)
{
	uplink_config_defaults(c);
	return uplink_config_from_env(c, err, 200);
}

static void test_env(void **state)
{
	struct uplink_config c;
	char err[200];

	(void)state;
	clear_env();
	assert_int_equal(from_env(&c, err), 1);
	setenv("STAGEVISOR_URL", "", 1);
	assert_int_equal(from_env(&c, err), 1);
	setenv("STAGEVISOR_URL", "https://127.0.0.1:7443/", 1);
	assert_int_equal(from_env(&c, err), -1);
	assert_non_null(strstr(err, "STAGEVISOR_STREAM"));
	setenv("STAGEVISOR_STREAM", "build-7.unit", 1);
	assert_int_equal(from_env(&c, err), -1);
	assert_non_null(strstr(err, "STAGEVISOR_TOKEN"));
	setenv("STAGEVISOR_TOKEN", "svt1.short", 1);
	assert_int_equal(from_env(&c, err), -1);
	assert_non_null(strstr(err, "STAGEVISOR_TOKEN"));
	setenv("STAGEVISOR_TOKEN", TOKEN, 1);
	assert_int_equal(from_env(&c, err), -1);
	assert_non_null(strstr(err, "STAGEVISOR_PIN or STAGEVISOR_CA_FILE"));
	setenv("STAGEVISOR_PIN", "00:11", 1);
	assert_int_equal(from_env(&c, err), -1);
	assert_non_null(strstr(err, "STAGEVISOR_PIN"));
	setenv("STAGEVISOR_PIN", PIN, 1);
	assert_int_equal(from_env(&c, err), 0);
	assert_true(c.have_pin);
	assert_string_equal(c.token, TOKEN);
	assert_string_equal(c.stream, "build-7.unit");
	assert_string_equal(c.path, "/v1/streams/build-7.unit/events");
	assert_int_equal(c.port, 7443);
	assert_int_equal(c.buffer_bytes, UPLINK_BUFFER_BYTES_DEFAULT);
	assert_int_equal(c.spool_bytes, UPLINK_SPOOL_BYTES_DEFAULT);
	setenv("STAGEVISOR_SPOOL_BYTES", "0", 1);
	setenv("STAGEVISOR_BUFFER_BYTES", "1048576", 1);
	setenv("STAGEVISOR_SPOOL", "/var/tmp/sp", 1);
	assert_int_equal(from_env(&c, err), 0);
	assert_int_equal(c.spool_bytes, 0);
	assert_int_equal(c.buffer_bytes, 1048576);
	assert_string_equal(c.spool_path, "/var/tmp/sp");
	setenv("STAGEVISOR_BUFFER_BYTES", "12k", 1);
	assert_int_equal(from_env(&c, err), -1);
	assert_non_null(strstr(err, "STAGEVISOR_BUFFER_BYTES"));
	setenv("STAGEVISOR_BUFFER_BYTES", "100", 1);
	assert_int_equal(from_env(&c, err), -1);
	unsetenv("STAGEVISOR_BUFFER_BYTES");
	unsetenv("STAGEVISOR_PIN");
	setenv("STAGEVISOR_CA_FILE", "/etc/ssl/certs/ca-certificates.crt", 1);
	assert_int_equal(from_env(&c, err), 0);
	assert_false(c.have_pin);
	setenv("STAGEVISOR_URL", "http://127.0.0.1:7443/", 1);
	assert_int_equal(from_env(&c, err), -1);
	assert_non_null(strstr(err, "STAGEVISOR_URL"));
	clear_env();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pin),
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_env),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
