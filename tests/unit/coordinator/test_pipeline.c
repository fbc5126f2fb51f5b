/* Unit tests of coordinator/pipeline.c: the pipeline config, field by field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "pipeline.h"

/* The example of the Fargate-backend issue, completed. */
static const char *const base_doc =
	"{\"version\": 1,"
	" \"aws\": {\"region\": \"eu-west-1\", \"cluster\": \"ci\","
	"          \"subnets\": [\"subnet-0a1b2c3d\"], \"security_groups\": [\"sg-0123abcd\"],"
	"          \"assign_public_ip\": false,"
	"          \"execution_role_arn\": \"arn:aws:iam::123456789012:role/exec\","
	"          \"task_role_arn\": \"arn:aws:iam::123456789012:role/task\","
	"          \"log_group\": \"/stagevisor\", \"ecr_repository\": \"site\","
	"          \"route53\": {\"zone_id\": \"Z0123456789ABC\", \"domain\": \"preview.example.com\"}},"
	" \"coordinator\": {\"advertise\": \"https://jenkins.internal.example.com\", \"listen\": \"0.0.0.0\","
	"                 \"ports\": [30000, 30049]},"
	" \"slack\": {\"webhook_url\": \"https://hooks.example.com/services/T/B/secret\"},"
	" \"playgrounds\": {\"close_of_business\": \"19:00\", \"timezone\": \"Europe/London\", \"max\": 10},"
	" \"stages\": {\"tests\": {\"image\": \"123.dkr.ecr.eu-west-1.amazonaws.com/site:tests-42\","
	"                         \"cpu\": 1024, \"memory\": 2048, \"stop_timeout\": 60,"
	"                         \"spec\": \"images/tests/stage.json\"},"
	"             \"analysis\": {\"image\": \"site:analysis\", \"cpu\": 512, \"memory\": 1024,"
	"                         \"spec\": {\"version\": 1, \"mode\": \"job\", \"processes\": []}}}}";

static struct pipeline *parse(const char *text, struct pipeline_error *err)
{
	return pipeline_parse(text, strlen(text), "/cfg", false, err);
}

static void test_full_example(void **state)
{
	struct pipeline_error err;
	struct pipeline *p = parse(base_doc, &err);
	const struct pipeline_stage *t, *a;

	(void)state;
	assert_non_null(p);
	assert_string_equal(p->aws.region, "eu-west-1");
	assert_string_equal(p->aws.cluster, "ci");
	assert_int_equal(p->aws.nsubnets, 1);
	assert_string_equal(p->aws.subnets[0], "subnet-0a1b2c3d");
	assert_int_equal(p->aws.nsecurity_groups, 1);
	assert_false(p->aws.assign_public_ip);
	assert_string_equal(p->aws.task_role_arn, "arn:aws:iam::123456789012:role/task");
	assert_non_null(p->aws.route53);
	assert_string_equal(p->aws.route53->zone_id, "Z0123456789ABC");
	assert_string_equal(p->aws.route53->domain, "preview.example.com");
	assert_int_equal(p->coordinator.port_first, 30000);
	assert_int_equal(p->coordinator.port_last, 30049);
	assert_string_equal(p->slack_webhook_url, "https://hooks.example.com/services/T/B/secret");
	assert_int_equal(p->playgrounds.close_of_business_min, 19 * 60);
	assert_string_equal(p->playgrounds.timezone, "Europe/London");
	assert_int_equal(p->nstages, 2);
	t = pipeline_find_stage(p, "tests");
	a = pipeline_find_stage(p, "analysis");
	assert_non_null(t);
	assert_non_null(a);
	assert_null(pipeline_find_stage(p, "deploy"));
	assert_int_equal(t->stop_timeout, 60);
	assert_string_equal(t->spec_path, "/cfg/images/tests/stage.json");
	assert_null(t->spec_text); /* not read: read_specs is false */
	assert_int_equal(a->stop_timeout, PIPELINE_STOP_TIMEOUT_DEFAULT);
	assert_null(a->spec_path);
	assert_string_equal(a->spec_text, "{\"version\":1,\"mode\":\"job\",\"processes\":[]}");
	pipeline_free(p);
	pipeline_free(NULL);
}

/* The optional sections take their defaults when absent. */
static void test_defaults(void **state)
{
	json_t *doc = json_loads(base_doc, 0, NULL);
	struct pipeline_error err;
	struct pipeline *p;
	char *text;

	(void)state;
	json_object_del(doc, "slack");
	json_object_del(doc, "playgrounds");
	json_object_del(json_object_get(doc, "aws"), "route53");
	json_object_del(json_object_get(doc, "aws"), "task_role_arn");
	json_object_del(json_object_get(doc, "aws"), "assign_public_ip");
	json_object_del(json_object_get(doc, "coordinator"), "listen");
	text = json_dumps(doc, 0);
	p = parse(text, &err);
	assert_non_null(p);
	assert_null(p->slack_webhook_url);
	assert_null(p->aws.route53);
	assert_null(p->aws.task_role_arn);
	assert_string_equal(p->coordinator.listen, "0.0.0.0");
	assert_int_equal(p->playgrounds.close_of_business_min, 19 * 60);
	assert_string_equal(p->playgrounds.timezone, "UTC");
	assert_int_equal(p->playgrounds.max, 10);
	pipeline_free(p);
	free(text);
	json_decref(doc);
}

/* One change to the base document and the error it must give. */
struct bad_case {
	const char *pointer;   /* "aws.region": where to set (object keys, dotted; "-" deletes) */
	const char *value;     /* JSON; NULL deletes the field */
	const char *path;      /* expected error path */
	const char *text;      /* a part of the expected message */
};

static const struct bad_case bad_cases[] = {
	{"aws.regoin", "\"eu-west-1\"", "aws.regoin", "unknown field (expected one of: region,"},
	{"aws.region", NULL, "aws.region", "is required"},
	{"aws.region", "\"Europe\"", "aws.region", "not a region name"},
	{"aws.region", "42", "aws.region", "must be a string, not an integer"},
	{"aws.cluster", "\"ci cluster\"", "aws.cluster", "neither a cluster name"},
	{"aws.subnets", "[]", "aws.subnets", "1 to 16 entries"},
	{"aws.subnets", "\"subnet-0a1b2c3d\"", "aws.subnets", "must be an array of strings"},
	{"aws.subnets", "[\"subnet-0a1b2c3d\", \"subnet-xyz\"]", "aws.subnets[1]", "subnet-0123abcd"},
	{"aws.subnets", "[\"subnet-0a1b2c3d\", \"subnet-0a1b2c3d\"]", "aws.subnets[1]", "listed twice"},
	{"aws.security_groups", "[\"sg-1\", \"sg-2\", \"sg-3\", \"sg-4\", \"sg-5\", \"sg-6\"]",
	 "aws.security_groups", "1 to 5 entries"},
	{"aws.security_groups", "[7]", "aws.security_groups[0]", "must be a string"},
	{"aws.assign_public_ip", "\"yes\"", "aws.assign_public_ip", "true or false"},
	{"aws.execution_role_arn", "\"exec\"", "aws.execution_role_arn", "IAM role ARN"},
	{"aws.task_role_arn", "\"arn:aws:s3:::bucket\"", "aws.task_role_arn", "IAM role ARN"},
	{"aws.log_group", "\"/stage visor\"", "aws.log_group", "log group name"},
	{"aws.ecr_repository", "\"Site\"", "aws.ecr_repository", "repository name"},
	{"aws.ecr_repository", "\"\"", "aws.ecr_repository", "must not be empty"},
	{"aws.route53.zone_id", "\"zone-1\"", "aws.route53.zone_id", "hosted zone id"},
	{"aws.route53.domain", "\"-bad.example.com\"", "aws.route53.domain", "not a DNS name"},
	{"aws.route53.domain", "\"a-very-long-subdomain-name-for-previews.of-the-company.example.com\"",
	 "aws.route53.domain", "at most 52"},
	{"aws.route53.dns", "\"x\"", "aws.route53.dns", "unknown field"},
	{"aws.route53.domain", NULL, "aws.route53.domain", "is required"},
	{"coordinator.advertise", "\"http://jenkins\"", "coordinator.advertise", "https:// URL"},
	{"coordinator.ports", "[30000]", "coordinator.ports", "[FIRST, LAST]"},
	{"coordinator.ports", "[30050, 30000]", "coordinator.ports", "above the last"},
	{"coordinator.ports", "[0, 30000]", "coordinator.ports[0]", "from 1 to 65535"},
	{"coordinator.ports", "[30000, \"30049\"]", "coordinator.ports[1]", "must be an integer"},
	{"coordinator.port", "[1, 2]", "coordinator.port", "unknown field"},
	{"slack.webhook_url", "\"hooks.slack.com/x\"", "slack.webhook_url", "https:// URL"},
	{"slack.channel", "\"#ci\"", "slack.channel", "unknown field"},
	{"playgrounds.close_of_business", "\"7pm\"", "playgrounds.close_of_business", "HH:MM"},
	{"playgrounds.close_of_business", "\"24:00\"", "playgrounds.close_of_business", "HH:MM"},
	{"playgrounds.timezone", "\"../../etc/passwd\"", "playgrounds.timezone", "time zone name"},
	{"playgrounds.max", "0", "playgrounds.max", "from 1 to 1000"},
	{"stages", "{}", "stages", "1 to 64 stages"},
	{"stages", "[]", "stages", "an object of stages"},
	{"stages.tests.cpu", "1000", "stages.tests.cpu", "not a Fargate cpu value"},
	{"stages.tests.memory", "3000", "stages.tests.memory", "not a Fargate size for cpu 1024"},
	{"stages.tests.memory", "\"2GB\"", "stages.tests.memory", "must be an integer"},
	{"stages.tests.stop_timeout", "121", "stages.tests.stop_timeout", "from 2 to 120"},
	{"stages.tests.spec", "42", "stages.tests.spec", "path to a stage spec"},
	{"stages.tests.spec", NULL, "stages.tests.spec", "is required"},
	{"stages.tests.imgae", "\"x\"", "stages.tests.imgae", "unknown field"},
	{"stages.tests.image", "\"site tests\"", "stages.tests.image", "spaces"},
	{"stages.tests.image", "\"site:tests-${BUILD}\"", "stages.tests.image", "unknown placeholder ${BUILD}"},
	{"stages.tests.image", "\"site:tests-${build_id}\"", "stages.tests.image", "unknown placeholder ${build_id}"},
	{"stages.tests.image", "\"site:tests-$BUILD_ID\"", "stages.tests.image", "not the placeholder ${BUILD_ID}"},
	{"stages.tests.image", "\"site:${BUILD_ID}-$${BUILD_ID}\"", "stages.tests.image", "not the placeholder"},
	{"stages.Tests", "{}", "stages.Tests", "[a-z0-9_-]"},
	{"stages.tests", "1", "stages.tests", "must be an object"},
	{"version", "2", "version", "not known"},
	{"version", NULL, "version", "is required"},
	{"aws", NULL, "aws", "is required"},
	{"aws", "[]", "aws", "must be an object"},
	{"stage", "{}", "stage", "unknown field"},
};

/* Sets or deletes the dotted pointer in doc. */
static void apply(json_t *doc, const char *pointer, const char *value)
{
	char buf[256], *save = NULL, *part, *next;
	json_t *obj = doc;

	snprintf(buf, sizeof buf, "%s", pointer);
	part = strtok_r(buf, ".", &save);
	while ((next = strtok_r(NULL, ".", &save)) != NULL) {
		obj = json_object_get(obj, part);
		assert_non_null(obj);
		part = next;
	}
	if (value) {
		json_error_t jerr;
		json_t *v = json_loads(value, JSON_DECODE_ANY, &jerr);
		assert_non_null(v);
		json_object_set_new(obj, part, v);
	} else {
		json_object_del(obj, part);
	}
}

static void test_bad_fields(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
		const struct bad_case *c = &bad_cases[i];
		json_t *doc = json_loads(base_doc, 0, NULL);
		struct pipeline_error err;
		struct pipeline *p;
		char *text;

		apply(doc, c->pointer, c->value);
		text = json_dumps(doc, 0);
		p = parse(text, &err);
		if (p || strcmp(err.path, c->path) != 0 || !strstr(err.text, c->text)) {
			fprintf(stderr, "case %zu (%s = %s): got %s: %s: %s\n", i, c->pointer,
				c->value ? c->value : "(deleted)", p ? "accepted" : "error",
				err.path, err.text);
			fail();
		}
		free(text);
		json_decref(doc);
	}
}

/* ${BUILD_ID} in an image is accepted and kept as it is (the Fargate backend expands it per run). */
static void test_image_placeholder(void **state)
{
	json_t *doc = json_loads(base_doc, 0, NULL);
	struct pipeline_error err;
	struct pipeline *p;
	char *text;

	(void)state;
	apply(doc, "stages.tests.image", "\"123.dkr.ecr.eu-west-1.amazonaws.com/site:tests-${BUILD_ID}\"");
	apply(doc, "stages.analysis.image", "\"site:${BUILD_ID}-analysis-${BUILD_ID}\"");
	text = json_dumps(doc, 0);
	p = parse(text, &err);
	if (!p)
		fprintf(stderr, "%s: %s\n", err.path, err.text);
	assert_non_null(p);
	assert_string_equal(pipeline_find_stage(p, "tests")->image,
			    "123.dkr.ecr.eu-west-1.amazonaws.com/site:tests-${BUILD_ID}");
	assert_string_equal(pipeline_find_stage(p, "analysis")->image, "site:${BUILD_ID}-analysis-${BUILD_ID}");
	pipeline_free(p);
	free(text);
	json_decref(doc);
}

/* The webhook URL is a secret: its error never repeats the value. */
static void test_secret_not_in_error(void **state)
{
	json_t *doc = json_loads(base_doc, 0, NULL);
	struct pipeline_error err;
	char *text, line[1024];

	(void)state;
	apply(doc, "slack.webhook_url", "\"http://hooks.example.com/T0/B0/SECRETVALUE\"");
	text = json_dumps(doc, 0);
	assert_null(parse(text, &err));
	pipeline_error_format(&err, line, sizeof line);
	assert_non_null(strstr(line, "slack.webhook_url"));
	assert_null(strstr(line, "SECRETVALUE"));
	free(text);
	json_decref(doc);
}

static void test_syntax_error(void **state)
{
	struct pipeline_error err;
	char line[1024];

	(void)state;
	assert_null(parse("{\"version\": 1,\n \"aws\": }", &err));
	assert_int_equal(err.line, 2);
	pipeline_error_format(&err, line, sizeof line);
	assert_non_null(strstr(line, "line 2, column"));
	assert_null(parse("{\"version\": 1, \"version\": 1}", &err));
	assert_non_null(strstr(err.text, "duplicate"));
	assert_null(parse("[]", &err));
	assert_non_null(strstr(err.text, "must be an object"));
}

static void test_fargate_sizes(void **state)
{
	char why[160];
	unsigned ok = 0;

	(void)state;
	assert_true(pipeline_fargate_size_ok(256, 512, why, sizeof why));
	assert_true(pipeline_fargate_size_ok(256, 2048, why, sizeof why));
	assert_false(pipeline_fargate_size_ok(256, 1536, why, sizeof why));
	assert_true(pipeline_fargate_size_ok(512, 4096, why, sizeof why));
	assert_false(pipeline_fargate_size_ok(512, 5120, why, sizeof why));
	assert_true(pipeline_fargate_size_ok(4096, 30720, why, sizeof why));
	assert_false(pipeline_fargate_size_ok(4096, 31744, why, sizeof why));
	assert_true(pipeline_fargate_size_ok(8192, 20480, why, sizeof why));
	assert_false(pipeline_fargate_size_ok(8192, 17408, why, sizeof why));
	assert_true(pipeline_fargate_size_ok(16384, 122880, why, sizeof why));
	assert_false(pipeline_fargate_size_ok(300, 1024, why, sizeof why));
	assert_non_null(strstr(why, "not a Fargate cpu value"));
	/* Every combination Fargate documents, counted: 3 + 4 + 7 + 13 + 23 + 12 + 12. */
	for (unsigned cpu = 256; cpu <= 16384; cpu *= 2)
		for (unsigned mem = 512; mem <= 122880; mem += 512)
			ok += pipeline_fargate_size_ok(cpu, mem, why, sizeof why);
	assert_int_equal(ok, 3 + 4 + 7 + 13 + 23 + 12 + 12);
}

static void test_hhmm(void **state)
{
	unsigned m = 0;

	(void)state;
	assert_int_equal(pipeline_parse_hhmm("00:00", &m), 0);
	assert_int_equal(m, 0);
	assert_int_equal(pipeline_parse_hhmm("23:59", &m), 0);
	assert_int_equal(m, 23 * 60 + 59);
	assert_int_equal(pipeline_parse_hhmm("7:00", &m), -1);
	assert_int_equal(pipeline_parse_hhmm("07:60", &m), -1);
	assert_int_equal(pipeline_parse_hhmm("07-00", &m), -1);
	assert_int_equal(pipeline_parse_hhmm("07:00 ", &m), -1);
}

/* pipeline_load reads spec files relative to the config's folder. */
static void test_load_reads_specs(void **state)
{
	char dir[] = "/tmp/stagevisor-pipeline-XXXXXX", path[512], spec[512];
	struct pipeline_error err;
	struct pipeline *p;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/pipeline.json", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(base_doc, f);
	fclose(f);
	/* The spec file is missing: the error names the stage's field and the file. */
	assert_null(pipeline_load(path, &err));
	assert_string_equal(err.path, "stages.tests.spec");
	assert_non_null(strstr(err.text, "No such file or directory"));
	snprintf(spec, sizeof spec, "%s/images", dir);
	assert_int_equal(mkdir(spec, 0700), 0);
	snprintf(spec, sizeof spec, "%s/images/tests", dir);
	assert_int_equal(mkdir(spec, 0700), 0);
	snprintf(spec, sizeof spec, "%s/images/tests/stage.json", dir);
	f = fopen(spec, "w");
	assert_non_null(f);
	fputs("{ \"version\": 1,\n  \"mode\": \"job\" }\n", f);
	fclose(f);
	p = pipeline_load(path, &err);
	assert_non_null(p);
	assert_string_equal(pipeline_find_stage(p, "tests")->spec_text, "{\"version\":1,\"mode\":\"job\"}");
	assert_string_equal(pipeline_find_stage(p, "tests")->spec_path, spec);
	pipeline_free(p);
	assert_null(pipeline_load("/nonexistent/pipeline.json", &err));
	assert_non_null(strstr(err.text, "cannot open /nonexistent/pipeline.json: No such file"));
	unlink(spec);
	snprintf(spec, sizeof spec, "%s/images/tests", dir);
	rmdir(spec);
	snprintf(spec, sizeof spec, "%s/images", dir);
	rmdir(spec);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_example),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_image_placeholder),
		cmocka_unit_test(test_secret_not_in_error),
		cmocka_unit_test(test_syntax_error),
		cmocka_unit_test(test_fargate_sizes),
		cmocka_unit_test(test_hhmm),
		cmocka_unit_test(test_load_reads_specs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
