/* Unit tests of coordinator/aws/aws_ini.c: the shared config/credentials file format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aws_ini.h"

static struct aws_ini *parse(const char *text)
{
	char err[200] = "";
	struct aws_ini *ini = aws_ini_parse(text, strlen(text), err, sizeof err);

	if (!ini)
		fail_msg("parse failed: %s", err);
	return ini;
}

static void sections_keys_comments_whitespace(void **state)
{
	struct aws_ini *ini = parse("# a comment\n"
	                            "; another\n"
	                            "\n"
	                            "[default]\n"
	                            "  aws_access_key_id   =   AKIDEXAMPLE   \n"
	                            "region=eu-west-1\n"
	                            "\t\n"
	                            "[ profile   ci ]\r\n"
	                            "Region = us-east-2\r\n"
	                            "output = json # not a comment for botocore\n");
	(void)state;
	assert_string_equal(aws_ini_get(ini, "default", "region", NULL), "eu-west-1");
	assert_string_equal(aws_ini_get(ini, "default", "aws_access_key_id", NULL), "AKIDEXAMPLE");
	assert_true(aws_ini_has_section(ini, "profile ci"));
	assert_false(aws_ini_has_section(ini, "ci"));
	/* keys compare case-insensitively, as ConfigParser lowercases them */
	assert_string_equal(aws_ini_get(ini, "profile ci", "region", NULL), "us-east-2");
	assert_string_equal(aws_ini_get(ini, "profile ci", "output", NULL), "json # not a comment for botocore");
	assert_null(aws_ini_get(ini, "profile ci", "aws_access_key_id", NULL));
	assert_null(aws_ini_get(ini, "nosuch", "region", NULL));
	aws_ini_free(ini);
}

static void continuation_lines_join_the_value(void **state)
{
	/* As ConfigParser reads them: an indented line after "key = value" continues the value
	 * (so a mis-indented key is not a key, for the AWS CLI nor for us). */
	struct aws_ini *ini = parse("[default]\nregion = eu-west-1\n  aws_secret_access_key = x\n");
	(void)state;
	assert_string_equal(aws_ini_get(ini, "default", "region", NULL), "eu-west-1\naws_secret_access_key = x");
	assert_null(aws_ini_get(ini, "default", "aws_secret_access_key", NULL));
	aws_ini_free(ini);
}

static void nested_settings(void **state)
{
	struct aws_ini *ini = parse("[profile local]\n"
	                            "services = moto\n"
	                            "s3 =\n"
	                            "  addressing_style = path\n"
	                            "[services moto]\n"
	                            "ecs =\n"
	                            "  endpoint_url = http://127.0.0.1:5000\n"
	                            "cloudwatch_logs =\n"
	                            "    endpoint_url = http://127.0.0.1:5001\n"
	                            "region = eu-central-1\n");
	(void)state;
	assert_string_equal(aws_ini_get(ini, "profile local", "services", NULL), "moto");
	assert_string_equal(aws_ini_get(ini, "profile local", "s3", "addressing_style"), "path");
	assert_string_equal(aws_ini_get(ini, "profile local", "s3", NULL), "");
	assert_string_equal(aws_ini_get(ini, "services moto", "ecs", "endpoint_url"), "http://127.0.0.1:5000");
	assert_string_equal(aws_ini_get(ini, "services moto", "cloudwatch_logs", "endpoint_url"), "http://127.0.0.1:5001");
	assert_null(aws_ini_get(ini, "services moto", "ecr", "endpoint_url"));
	assert_string_equal(aws_ini_get(ini, "services moto", "region", NULL), "eu-central-1");
	aws_ini_free(ini);
}

static void empty_section_exists_and_last_wins(void **state)
{
	struct aws_ini *ini = parse("[empty]\n[a]\nk = 1\n[a]\nk = 2\n");
	(void)state;
	assert_true(aws_ini_has_section(ini, "empty"));
	assert_string_equal(aws_ini_get(ini, "a", "k", NULL), "2");
	aws_ini_free(ini);
}

static void errors_name_the_line(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{"[default\nk=v\n", "line 1: section header without ']'"},
		{"k = v\n", "line 1: setting before any [section]"},
		{"[a]\n\njust words\n", "line 3: expected 'name = value'"},
		{"[a]\n = v\n", "line 2: setting without a name"},
		{"[ ]\n", "line 1: empty section name"},
		{"[a]\nk =\n  no equals here\n", "line 3: nested setting without '='"},
	};
	char err[200];
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		err[0] = '\0';
		assert_null(aws_ini_parse(cases[i].text, strlen(cases[i].text), err, sizeof err));
		assert_string_equal(err, cases[i].want);
	}
	assert_null(aws_ini_parse("[a]\nk=v\0x\n", 9, err, sizeof err));
	assert_string_equal(err, "line 2: NUL byte");
}

static void bounds(void **state)
{
	char err[200];
	size_t n = 10 * 5000 + 10;
	char *big = malloc(n), *p = big;
	(void)state;
	p += sprintf(p, "[a]\n");
	for (int i = 0; i < 5000; i++)
		p += sprintf(p, "k%d = v\n", i);
	assert_null(aws_ini_parse(big, (size_t)(p - big), err, sizeof err));
	assert_non_null(strstr(err, "more than 4096 settings"));
	free(big);
	assert_null(aws_ini_parse("x", AWS_INI_MAX_BYTES + 1, err, sizeof err));
	assert_non_null(strstr(err, "larger than"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sections_keys_comments_whitespace),
		cmocka_unit_test(continuation_lines_join_the_value),
		cmocka_unit_test(nested_settings),
		cmocka_unit_test(empty_section_exists_and_last_wins),
		cmocka_unit_test(errors_name_the_line),
		cmocka_unit_test(bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
