/* Unit tests of coordinator/taskdef.c: the ECS requests of a stage. (Their shapes are also
 * checked against botocore's ECS model by tests/integration/test_taskdef_botocore.py.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "pipeline.h"
#include "taskdef.h"

static const char *const doc =
	"{\"version\": 1,"
	" \"aws\": {\"region\": \"eu-west-1\", \"cluster\": \"ci\","
	"          \"subnets\": [\"subnet-0a1b2c3d\", \"subnet-0a1b2c3e\"], \"security_groups\": [\"sg-0123abcd\"],"
	"          \"execution_role_arn\": \"arn:aws:iam::123456789012:role/exec\","
	"          \"log_group\": \"/stagevisor\", \"ecr_repository\": \"site\"},"
	" \"coordinator\": {\"advertise\": \"https://jenkins.example.com\", \"ports\": [30000, 30049]},"
	" \"stages\": {\"tests\": {\"image\": \"site:tests\", \"cpu\": 1024, \"memory\": 2048,"
	"                         \"stop_timeout\": 60, \"spec\": {\"version\": 1}}}}";

static struct pipeline *load(const char *text)
{
	struct pipeline_error err;
	struct pipeline *p = pipeline_parse(text, strlen(text), NULL, false, &err);

	if (!p)
		fprintf(stderr, "%s: %s\n", err.path, err.text);
	assert_non_null(p);
	return p;
}

static const char *get(const json_t *v, const char *path)
{
	json_t *cur = (json_t *)v;
	char buf[256], *save = NULL, *part;

	snprintf(buf, sizeof buf, "%s", path);
	for (part = strtok_r(buf, ".", &save); part && cur; part = strtok_r(NULL, ".", &save))
		cur = json_is_array(cur) ? json_array_get(cur, (size_t)atoi(part)) : json_object_get(cur, part);
	return json_string_value(cur);
}

static void test_register_request(void **state)
{
	struct pipeline *p = load(doc);
	const struct pipeline_stage *st = pipeline_find_stage(p, "tests");
	char hash[17], hash2[17];
	json_t *req = taskdef_register_request(p, st, hash), *req2;

	(void)state;
	assert_non_null(req);
	assert_string_equal(get(req, "family"), "stagevisor-tests");
	assert_string_equal(get(req, "networkMode"), "awsvpc");
	assert_string_equal(get(req, "cpu"), "1024");
	assert_string_equal(get(req, "memory"), "2048");
	assert_string_equal(get(req, "requiresCompatibilities.0"), "FARGATE");
	assert_string_equal(get(req, "containerDefinitions.0.name"), TASKDEF_CONTAINER);
	assert_string_equal(get(req, "containerDefinitions.0.image"), "site:tests");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
		json_object_get(req, "containerDefinitions"), 0), "stopTimeout")), 60);
	assert_string_equal(get(req, "containerDefinitions.0.logConfiguration.logDriver"), "awslogs");
	assert_string_equal(get(req, "containerDefinitions.0.logConfiguration.options.awslogs-group"), "/stagevisor");
	assert_string_equal(get(req, "containerDefinitions.0.logConfiguration.options.awslogs-region"), "eu-west-1");
	assert_null(json_object_get(req, "taskRoleArn"));
	assert_int_equal(strlen(hash), 16);
	assert_string_equal(taskdef_hash_from_tags(json_object_get(req, "tags")), hash);

	/* The same definition, the same hash; a changed field, another. */
	req2 = taskdef_register_request(p, st, hash2);
	assert_string_equal(hash, hash2);
	json_decref(req2);
	free(p->stages[0].image);
	p->stages[0].image = strdup("site:tests-2");
	req2 = taskdef_register_request(p, st, hash2);
	assert_string_not_equal(hash, hash2);
	json_decref(req2);
	p->aws.task_role_arn = strdup("arn:aws:iam::123456789012:role/task");
	req2 = taskdef_register_request(p, st, hash);
	assert_string_equal(get(req2, "taskRoleArn"), "arn:aws:iam::123456789012:role/task");
	assert_string_not_equal(hash, hash2);
	json_decref(req2);
	json_decref(req);
	pipeline_free(p);
}

static void test_run_request(void **state)
{
	struct pipeline *p = load(doc);
	const struct pipeline_stage *st = pipeline_find_stage(p, "tests");
	struct taskdef_run run = {"jenkins-site-PR-12-7", "feature/JIRA-123 é", "sv-0123456789abcdef",
		"svt1.secret", "https://jenkins.example.com:30001/", "ab12", "stagevisor-tests:3", 1700000000};
	char err[256], token[44];
	json_t *req = taskdef_run_request(p, st, &run, err, sizeof err), *env, *tags;
	bool seen_branch = false;

	(void)state;
	assert_non_null(req);
	assert_string_equal(get(req, "cluster"), "ci");
	assert_string_equal(get(req, "taskDefinition"), "stagevisor-tests:3");
	assert_string_equal(get(req, "launchType"), "FARGATE");
	assert_string_equal(get(req, "startedBy"), TASKDEF_STARTED_BY);
	assert_string_equal(get(req, "networkConfiguration.awsvpcConfiguration.assignPublicIp"), "DISABLED");
	assert_string_equal(get(req, "networkConfiguration.awsvpcConfiguration.subnets.1"), "subnet-0a1b2c3e");
	taskdef_client_token(run.build_id, "tests", token);
	assert_string_equal(get(req, "clientToken"), token);
	assert_true(strlen(token) <= 64);
	env = json_object_get(json_array_get(json_object_get(json_object_get(req, "overrides"),
		"containerOverrides"), 0), "environment");
	assert_int_equal(json_array_size(env), 5);
	assert_string_equal(get(env, "0.name"), "STAGEVISOR_URL");
	assert_string_equal(get(env, "1.value"), "svt1.secret");
	assert_string_equal(get(env, "4.value"), "{\"version\":1}");
	tags = json_object_get(req, "tags");
	for (size_t i = 0; i < json_array_size(tags); i++) {
		const char *k = json_string_value(json_object_get(json_array_get(tags, i), "key"));
		if (strcmp(k, TASKDEF_TAG_BRANCH) == 0) {
			/* Characters ECS tags cannot hold are replaced, not dropped or refused. */
			assert_string_equal(json_string_value(json_object_get(json_array_get(tags, i), "value")),
					    "feature/JIRA-123 __");
			seen_branch = true;
		}
	}
	assert_true(seen_branch);
	json_decref(req);

	/* A spec that makes the overrides too large is refused before asking AWS. */
	free(p->stages[0].spec_text);
	p->stages[0].spec_text = malloc(9000);
	memset(p->stages[0].spec_text, 'x', 8999);
	p->stages[0].spec_text[8999] = '\0';
	assert_null(taskdef_run_request(p, st, &run, err, sizeof err));
	assert_non_null(strstr(err, "stages.tests.spec"));
	assert_non_null(strstr(err, "8192"));
	pipeline_free(p);
}

static void test_client_token(void **state)
{
	char a[44], b[44], c[44], d[44];

	(void)state;
	taskdef_client_token("jenkins-site-7", "tests", a);
	taskdef_client_token("jenkins-site-7", "tests", b);
	taskdef_client_token("jenkins-site-7", "analysis", c);
	/* The separator keeps ("ab", "c") apart from ("a", "bc"). */
	taskdef_client_token("jenkins-site-7t", "ests", d);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_string_not_equal(a, d);
	assert_int_equal(strlen(a), 43);
	assert_memory_equal(a, "sv-", 3);
}

static void test_tag_value(void **state)
{
	char out[TASKDEF_TAG_VALUE_MAX + 1], big[600];

	(void)state;
	taskdef_tag_value("feature/JIRA-123_x.y:z=a+b@c d", out, sizeof out);
	assert_string_equal(out, "feature/JIRA-123_x.y:z=a+b@c d");
	taskdef_tag_value("a#b\"c\n", out, sizeof out);
	assert_string_equal(out, "a_b_c_");
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	taskdef_tag_value(big, out, sizeof out);
	assert_int_equal(strlen(out), TASKDEF_TAG_VALUE_MAX);
}

static void test_image_tag(void **state)
{
	char out[TASKDEF_IMAGE_TAG_MAX + 1], big[300], small[6];

	(void)state;
	taskdef_image_tag("jenkins-site-PR-12-7", out, sizeof out);
	assert_string_equal(out, "jenkins-site-PR-12-7");
	/* Jenkins' multibranch job names carry %2F for a '/' in the branch */
	taskdef_image_tag("jenkins-site-feature%2Fx y_1.2", out, sizeof out);
	assert_string_equal(out, "jenkins-site-feature-2Fx-y_1.2");
	taskdef_image_tag("-x", out, sizeof out);
	assert_string_equal(out, "_x");
	taskdef_image_tag(".x", out, sizeof out);
	assert_string_equal(out, "_x");
	taskdef_image_tag("\xc3\xa9t\xc3\xa9", out, sizeof out);
	assert_string_equal(out, "_-t--");
	taskdef_image_tag("", out, sizeof out);
	assert_string_equal(out, "");
	taskdef_image_tag(NULL, out, sizeof out);
	assert_string_equal(out, "");
	memset(big, 'b', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	taskdef_image_tag(big, out, sizeof out);
	assert_int_equal(strlen(out), TASKDEF_IMAGE_TAG_MAX);
	taskdef_image_tag("abcdefgh", small, sizeof small);
	assert_string_equal(small, "abcde");
}

static void test_expand_image(void **state)
{
	struct pipeline_stage st, copy;
	char out[TASKDEF_IMAGE_MAX + 1], err[512], big[200];
	struct pipeline *p = load(doc);
	char *reg1, *reg2, h1[17], h2[17];
	json_t *r1, *r2;

	(void)state;
	memset(&st, 0, sizeof st);
	st.name = "tests";
	st.image = "123.dkr.ecr.eu-west-1.amazonaws.com/site:tests-${BUILD_ID}";
	assert_int_equal(taskdef_expand_image(&st, "jenkins-site-feature%2Fx-3", out, sizeof out, err, sizeof err), 0);
	assert_string_equal(out, "123.dkr.ecr.eu-west-1.amazonaws.com/site:tests-jenkins-site-feature-2Fx-3");
	/* no placeholder: unchanged, no build id needed */
	st.image = "site:tests";
	assert_int_equal(taskdef_expand_image(&st, NULL, out, sizeof out, err, sizeof err), 0);
	assert_string_equal(out, "site:tests");
	/* the placeholder without a build id */
	st.image = "site:tests-${BUILD_ID}";
	assert_int_equal(taskdef_expand_image(&st, "", out, sizeof out, err, sizeof err), -1);
	assert_non_null(strstr(err, "stages.tests.image"));
	assert_non_null(strstr(err, "no build id"));
	/* a tag over 128 characters once expanded */
	memset(big, 'b', 125);
	big[125] = '\0';
	assert_int_equal(taskdef_expand_image(&st, big, out, sizeof out, err, sizeof err), -1);
	assert_non_null(strstr(err, "longer than 128"));
	big[122] = '\0'; /* "tests-" + 122 = 128: fits */
	assert_int_equal(taskdef_expand_image(&st, big, out, sizeof out, err, sizeof err), 0);
	/* the definition of a stage copy changes with the build (so its hash does) */
	assert_int_equal(taskdef_stage_for_build(&p->stages[0], "b1", &copy, out, sizeof out, err, sizeof err), 0);
	assert_string_equal(copy.image, "site:tests");
	free(p->stages[0].image);
	p->stages[0].image = strdup("site:tests-${BUILD_ID}");
	assert_int_equal(taskdef_stage_for_build(&p->stages[0], "b1", &copy, out, sizeof out, err, sizeof err), 0);
	assert_string_equal(copy.image, "site:tests-b1");
	assert_string_equal(copy.name, "tests");
	r1 = taskdef_register_request(p, &copy, h1);
	reg1 = json_dumps(r1, JSON_COMPACT);
	assert_non_null(strstr(reg1, "\"site:tests-b1\""));
	assert_int_equal(taskdef_stage_for_build(&p->stages[0], "b2", &copy, out, sizeof out, err, sizeof err), 0);
	r2 = taskdef_register_request(p, &copy, h2);
	reg2 = json_dumps(r2, JSON_COMPACT);
	assert_non_null(strstr(reg2, "\"site:tests-b2\""));
	assert_string_not_equal(h1, h2);
	free(reg1);
	free(reg2);
	json_decref(r1);
	json_decref(r2);
	pipeline_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_request),
		cmocka_unit_test(test_run_request),
		cmocka_unit_test(test_client_token),
		cmocka_unit_test(test_tag_value),
		cmocka_unit_test(test_image_tag),
		cmocka_unit_test(test_expand_image),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
