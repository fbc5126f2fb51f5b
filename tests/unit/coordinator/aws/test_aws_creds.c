/* Unit tests of coordinator/aws/aws_creds.c: credentials from the environment, from profiles,
 * from ECS/IMDS credential documents, and ISO 8601 times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aws_creds.h"
#include "awsfix.h"

static void env(void **state)
{
	struct fake_env e = {{"AWS_ACCESS_KEY_ID", "AKID", "AWS_SECRET_ACCESS_KEY", "SECRET", "AWS_SESSION_TOKEN", "TOK", NULL}};
	struct aws_creds c;
	char err[200];
	(void)state;
	assert_int_equal(aws_creds_from_env(fake_getenv, &e, &c, err, sizeof err), 1);
	assert_string_equal(c.access_key, "AKID");
	assert_string_equal(c.secret_key, "SECRET");
	assert_string_equal(c.token, "TOK");
	assert_int_equal(c.expiration, 0);
	assert_string_equal(c.source, "environment");
	e = (struct fake_env){{NULL}};
	assert_int_equal(aws_creds_from_env(fake_getenv, &e, &c, err, sizeof err), 0);
	e = (struct fake_env){{"AWS_ACCESS_KEY_ID", "AKID", NULL}};
	assert_int_equal(aws_creds_from_env(fake_getenv, &e, &c, err, sizeof err), -1);
	assert_string_equal(err, "environment: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
	e = (struct fake_env){{"AWS_ACCESS_KEY_ID", "AKID", "AWS_SECRET_ACCESS_KEY", "zzq\nyyq", NULL}};
	assert_int_equal(aws_creds_from_env(fake_getenv, &e, &c, err, sizeof err), -1);
	assert_string_equal(err, "environment: AWS_SECRET_ACCESS_KEY: too long or not printable");
	assert_null(strstr(err, "zzq"));
}

static void ini(void **state)
{
	const char *text = "[p]\naws_access_key_id = AK\naws_secret_access_key = SK\naws_session_token = ST\n"
	                   "[half]\naws_secret_access_key = SK\n";
	char err[300];
	struct aws_ini *i = aws_ini_parse(text, strlen(text), err, sizeof err);
	struct aws_creds c;
	(void)state;
	assert_int_equal(aws_creds_from_ini(i, "p", "creds", &c, err, sizeof err), 1);
	assert_string_equal(c.access_key, "AK");
	assert_string_equal(c.secret_key, "SK");
	assert_string_equal(c.token, "ST");
	assert_int_equal(aws_creds_from_ini(i, "nosuch", "creds", &c, err, sizeof err), 0);
	assert_int_equal(aws_creds_from_ini(i, "half", "creds", &c, err, sizeof err), -1);
	assert_string_equal(err, "creds [half]: aws_secret_access_key is set but aws_access_key_id is not");
	assert_int_equal(aws_creds_from_ini(NULL, "p", "creds", &c, err, sizeof err), 0);
	aws_ini_free(i);
}

static void document(void **state)
{
	const char *ecs = "{\"RoleArn\":\"arn:aws:iam::1:role/x\",\"AccessKeyId\":\"ASIA1\",\"SecretAccessKey\":\"S1\","
	                  "\"Token\":\"T1\",\"Expiration\":\"2026-12-04T06:00:00Z\"}";
	const char *imds = "{\"Code\":\"Success\",\"LastUpdated\":\"2026-12-04T05:00:00Z\",\"Type\":\"AWS-HMAC\","
	                   "\"AccessKeyId\":\"ASIA2\",\"SecretAccessKey\":\"S2\",\"Token\":\"T2\","
	                   "\"Expiration\":\"2026-12-04T06:00:00.123+00:00\"}";
	struct aws_creds c;
	char err[300];
	(void)state;
	assert_int_equal(aws_creds_parse_document(ecs, strlen(ecs), &c, err, sizeof err), 0);
	assert_string_equal(c.access_key, "ASIA1");
	assert_string_equal(c.token, "T1");
	assert_int_equal(c.expiration, 1796364000);
	assert_int_equal(aws_creds_parse_document(imds, strlen(imds), &c, err, sizeof err), 0);
	assert_string_equal(c.secret_key, "S2");
	assert_int_equal(c.expiration, 1796364000);

	static const struct {
		const char *doc, *want;
	} bad[] = {
		{"{\"Code\":\"Failure\",\"Message\":\"x\"}", "credentials document: Code is 'Failure', not Success"},
		{"{\"AccessKeyId\":\"A\"}", "credentials document: SecretAccessKey missing or not a string"},
		{"{\"SecretAccessKey\":\"S\"}", "credentials document: AccessKeyId missing or not a string"},
		{"{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Expiration\":\"tomorrow\"}",
		 "credentials document: Expiration: not an ISO 8601 UTC time: 'tomorrow'"},
		{"[1]", "credentials document: not a JSON object"},
		{"", NULL},
		{"{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S", NULL},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		assert_int_equal(aws_creds_parse_document(bad[i].doc, strlen(bad[i].doc), &c, err, sizeof err), -1);
		if (bad[i].want)
			assert_string_equal(err, bad[i].want);
		else
			assert_non_null(strstr(err, "not a JSON object"));
		assert_null(strstr(err, "\"S\""));
	}
}

static void times(void **state)
{
	time_t t;
	(void)state;
	assert_int_equal(aws_creds_parse_time("1970-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(aws_creds_parse_time("2026-12-04T05:40:00Z", &t), 0);
	assert_int_equal(t, 1796362800);
	assert_int_equal(aws_creds_parse_time("2026-12-04T05:40:00", &t), 0);
	assert_int_equal(aws_creds_parse_time("2026-12-04T07:40:00+02:00", &t), 0);
	assert_int_equal(t, 1796362800);
	assert_int_equal(aws_creds_parse_time("2026-12-04T00:10:00.250-0530", &t), 0);
	assert_int_equal(t, 1796362800);
	assert_int_equal(aws_creds_parse_time("2026-12-04T05:40:00+00:00", &t), 0);
	assert_int_equal(t, 1796362800);
	assert_int_equal(aws_creds_parse_time("2026-12-04T05:40:00+2:00", &t), -1);
	assert_int_equal(aws_creds_parse_time("2026-12-04T05:40:00+02:00x", &t), -1);
	assert_int_equal(aws_creds_parse_time("2026-12-04T05:40:00+24:00", &t), -1);
	assert_int_equal(aws_creds_parse_time("2026-12-04T05:40:00+02", &t), -1);
	assert_int_equal(aws_creds_parse_time("2026-13-04T05:40:00Z", &t), -1);
	assert_int_equal(aws_creds_parse_time("2026-12-04", &t), -1);
	assert_int_equal(aws_creds_parse_time("2026-12-04T05:40:00.Z", &t), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(env),
		cmocka_unit_test(ini),
		cmocka_unit_test(document),
		cmocka_unit_test(times),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
