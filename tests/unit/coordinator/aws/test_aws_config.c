/* Unit tests of coordinator/aws/aws_config.c: profile, region, max_attempts and endpoint
 * resolution in the AWS CLI's order, with an injected environment and files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aws_config.h"
#include "awsfix.h"

static const char config_text[] =
	"[default]\n"
	"region = eu-west-1\n"
	"[profile ci]\n"
	"region = us-east-2\n"
	"max_attempts = 7\n"
	"endpoint_url = http://127.0.0.1:4000/\n"
	"[profile svc]\n"
	"region = eu-north-1\n"
	"services = local\n"
	"endpoint_url = http://127.0.0.1:4100\n"
	"[services local]\n"
	"ecs =\n"
	"  endpoint_url = http://127.0.0.1:4200\n"
	"cloudwatch_logs =\n"
	"  endpoint_url = http://127.0.0.1:4300\n"
	"[profile bad]\n"
	"max_attempts = many\n"
	"[ci2]\n"
	"region = ap-south-1\n";
static const char creds_text[] = "[onlycreds]\naws_access_key_id = A\naws_secret_access_key = S\n";

struct fx {
	struct aws_ini *config, *creds;
	struct fake_env env;
	struct aws_config_input in;
	struct aws_config cfg;
	char err[400];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	char err[200];

	f->config = aws_ini_parse(config_text, strlen(config_text), err, sizeof err);
	f->creds = aws_ini_parse(creds_text, strlen(creds_text), err, sizeof err);
	assert_non_null(f->config);
	f->in.env = fake_getenv;
	f->in.env_arg = &f->env;
	f->in.config = f->config;
	f->in.credentials = f->creds;
	f->in.config_path = "/tmp/cfg";
	f->in.credentials_path = "/tmp/creds";
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	aws_ini_free(f->config);
	aws_ini_free(f->creds);
	free(f);
	return 0;
}

static int resolve(struct fx *f)
{
	f->err[0] = '\0';
	return aws_config_resolve(&f->in, &f->cfg, f->err, sizeof f->err);
}

static void endpoint(struct fx *f, const char *svc, char *url, size_t n, char *region)
{
	assert_int_equal(aws_config_endpoint(&f->cfg, aws_service_find(svc), url, n, region, 64, f->err, sizeof f->err), 0);
}

static void defaults(void **state)
{
	struct fx *f = *state;
	char url[256], region[64];

	assert_int_equal(resolve(f), 0);
	assert_string_equal(f->cfg.profile, "default");
	assert_false(f->cfg.profile_explicit);
	assert_string_equal(f->cfg.region, "eu-west-1");
	assert_int_equal(f->cfg.max_attempts, 3);
	endpoint(f, "ecs", url, sizeof url, region);
	assert_string_equal(url, "https://ecs.eu-west-1.amazonaws.com");
	assert_string_equal(region, "eu-west-1");
	endpoint(f, "ecr", url, sizeof url, region);
	assert_string_equal(url, "https://api.ecr.eu-west-1.amazonaws.com");
	endpoint(f, "logs", url, sizeof url, region);
	assert_string_equal(url, "https://logs.eu-west-1.amazonaws.com");
	endpoint(f, "route53", url, sizeof url, region);
	assert_string_equal(url, "https://route53.amazonaws.com");
	assert_string_equal(region, "us-east-1");
}

static void region_order(void **state)
{
	struct fx *f = *state;

	f->env = (struct fake_env){{"AWS_DEFAULT_REGION", "ca-central-1", NULL}};
	assert_int_equal(resolve(f), 0);
	assert_string_equal(f->cfg.region, "ca-central-1");
	f->env = (struct fake_env){{"AWS_DEFAULT_REGION", "ca-central-1", "AWS_REGION", "sa-east-1", NULL}};
	assert_int_equal(resolve(f), 0);
	assert_string_equal(f->cfg.region, "sa-east-1");
	f->in.cli_region = "me-south-1";
	assert_int_equal(resolve(f), 0);
	assert_string_equal(f->cfg.region, "me-south-1");
	f->in.cli_region = "eu west";
	assert_int_equal(resolve(f), -1);
	assert_string_equal(f->err, "--region: not a region name: 'eu west'");
	f->in.cli_region = NULL;
	f->env = (struct fake_env){{"AWS_PROFILE", "ci", NULL}};
	assert_int_equal(resolve(f), 0);
	assert_string_equal(f->cfg.region, "us-east-2");
	f->env = (struct fake_env){{NULL}};
	f->in.config = NULL;
	assert_int_equal(resolve(f), 0);
	assert_string_equal(f->cfg.region, "");
	{
		char url[256], region[64];
		assert_int_equal(aws_config_endpoint(&f->cfg, aws_service_find("ecs"), url, sizeof url, region,
		                                     sizeof region, f->err, sizeof f->err), -1);
		assert_string_equal(f->err, "ecs: no region: use --region, AWS_REGION, AWS_DEFAULT_REGION or region in "
		                            "profile default");
		/* a global service needs none */
		endpoint(f, "route53", url, sizeof url, region);
		assert_string_equal(region, "us-east-1");
	}
}

static void profiles(void **state)
{
	struct fx *f = *state;

	f->env = (struct fake_env){{"AWS_PROFILE", "ci", NULL}};
	assert_int_equal(resolve(f), 0);
	assert_string_equal(f->cfg.profile, "ci");
	assert_string_equal(f->cfg.config_section, "profile ci");
	assert_false(f->cfg.profile_explicit);
	assert_int_equal(f->cfg.max_attempts, 7);
	f->in.cli_profile = "onlycreds"; /* exists only in the credentials file: fine */
	assert_int_equal(resolve(f), 0);
	assert_true(f->cfg.profile_explicit);
	/* in the config file, [ci2] is not the profile ci2: botocore wants [profile ci2] */
	f->in.cli_profile = "ci2";
	assert_int_equal(resolve(f), -1);
	assert_string_equal(f->err, "profile ci2: not found in /tmp/cfg nor in /tmp/creds (sections [profile ci2] "
	                            "and [ci2])");
	f->in.cli_profile = "bad";
	assert_int_equal(resolve(f), -1);
	assert_string_equal(f->err, "max_attempts (config file): not a number of attempts from 1 to 20: 'many'");
}

static void max_attempts_env(void **state)
{
	struct fx *f = *state;

	f->env = (struct fake_env){{"AWS_PROFILE", "ci", "AWS_MAX_ATTEMPTS", "1", NULL}};
	assert_int_equal(resolve(f), 0);
	assert_int_equal(f->cfg.max_attempts, 1);
	f->env = (struct fake_env){{"AWS_MAX_ATTEMPTS", "0", NULL}};
	assert_int_equal(resolve(f), -1);
	assert_string_equal(f->err, "AWS_MAX_ATTEMPTS: not a number of attempts from 1 to 20: '0'");
	f->env = (struct fake_env){{"AWS_MAX_ATTEMPTS", "3x", NULL}};
	assert_int_equal(resolve(f), -1);
}

static void endpoint_order(void **state)
{
	struct fx *f = *state;
	char url[256], region[64];

	/* profile svc: services section for ecs and logs, the profile's endpoint_url for the rest */
	f->in.cli_profile = "svc";
	assert_int_equal(resolve(f), 0);
	endpoint(f, "ecs", url, sizeof url, region);
	assert_string_equal(url, "http://127.0.0.1:4200");
	endpoint(f, "logs", url, sizeof url, region);
	assert_string_equal(url, "http://127.0.0.1:4300");
	endpoint(f, "ecr", url, sizeof url, region);
	assert_string_equal(url, "http://127.0.0.1:4100");
	assert_string_equal(region, "eu-north-1");
	/* the global environment variable beats the config file */
	f->env = (struct fake_env){{"AWS_ENDPOINT_URL", "http://127.0.0.1:5000", NULL}};
	assert_int_equal(resolve(f), 0);
	endpoint(f, "ecs", url, sizeof url, region);
	assert_string_equal(url, "http://127.0.0.1:5000");
	/* the service's variable beats the global one; SDK service ids */
	f->env = (struct fake_env){{"AWS_ENDPOINT_URL", "http://127.0.0.1:5000", "AWS_ENDPOINT_URL_ECS",
	                            "http://127.0.0.1:5001/", "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", "http://127.0.0.1:5002",
	                            "AWS_ENDPOINT_URL_ROUTE_53", "https://localhost:5003", NULL}};
	assert_int_equal(resolve(f), 0);
	endpoint(f, "ecs", url, sizeof url, region);
	assert_string_equal(url, "http://127.0.0.1:5001");
	endpoint(f, "logs", url, sizeof url, region);
	assert_string_equal(url, "http://127.0.0.1:5002");
	endpoint(f, "route53", url, sizeof url, region);
	assert_string_equal(url, "https://localhost:5003");
	endpoint(f, "ecr", url, sizeof url, region);
	assert_string_equal(url, "http://127.0.0.1:5000");
	/* --endpoint-url beats everything */
	f->in.cli_endpoint = "http://127.0.0.1:6000";
	assert_int_equal(resolve(f), 0);
	endpoint(f, "ecs", url, sizeof url, region);
	assert_string_equal(url, "http://127.0.0.1:6000");
	/* ignoring configured endpoints keeps only --endpoint-url */
	f->in.cli_endpoint = NULL;
	f->env = (struct fake_env){{"AWS_ENDPOINT_URL", "http://127.0.0.1:5000",
	                            "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", NULL}};
	assert_int_equal(resolve(f), 0);
	endpoint(f, "ecs", url, sizeof url, region);
	assert_string_equal(url, "https://ecs.eu-north-1.amazonaws.com");
	/* China's partition */
	f->in.cli_region = "cn-north-1";
	assert_int_equal(resolve(f), 0);
	endpoint(f, "ecs", url, sizeof url, region);
	assert_string_equal(url, "https://ecs.cn-north-1.amazonaws.com.cn");
}

static void bad_endpoint_named(void **state)
{
	struct fx *f = *state;
	char url[256], region[64];

	f->env = (struct fake_env){{"AWS_ENDPOINT_URL_ECR", "ftp://x", NULL}};
	assert_int_equal(resolve(f), 0);
	assert_int_equal(aws_config_endpoint(&f->cfg, aws_service_find("ecr"), url, sizeof url, region, sizeof region,
	                                     f->err, sizeof f->err), -1);
	assert_string_equal(f->err, "AWS_ENDPOINT_URL_ECR: not an http:// or https:// URL: 'ftp://x'");
}

static void service_names(void **state)
{
	(void)state;
	assert_string_equal(aws_service_find("CloudWatch Logs")->name, "logs");
	assert_string_equal(aws_service_find("cloudwatch-logs")->name, "logs");
	assert_string_equal(aws_service_find("route_53")->name, "route53");
	assert_string_equal(aws_service_find("ecs")->target_prefix, "AmazonEC2ContainerServiceV20141113");
	assert_string_equal(aws_service_find("ecr")->target_prefix, "AmazonEC2ContainerRegistry_V20150921");
	assert_string_equal(aws_service_find("logs")->target_prefix, "Logs_20140328");
	assert_null(aws_service_find("nosuch"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(region_order, setup, teardown),
		cmocka_unit_test_setup_teardown(profiles, setup, teardown),
		cmocka_unit_test_setup_teardown(max_attempts_env, setup, teardown),
		cmocka_unit_test_setup_teardown(endpoint_order, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_endpoint_named, setup, teardown),
		cmocka_unit_test(service_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
