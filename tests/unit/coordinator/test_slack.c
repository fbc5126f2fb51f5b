/* Unit tests of coordinator/slack.c: the message (Block Kit and fallback) and Retry-After.
 * Posting is tested against a local HTTP server in tests/integration/test_coord_slack.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "slack.h"

static char *dump(const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT);
	assert_non_null(s);
	return s;
}

static void test_failed_stage(void **state)
{
	const char *failed[] = {"CartTest::testTotal: 3 != 4", "CartTest::testEmpty: <b>&</b>",
		"a", "b", "c", "d", "e"};
	struct slack_message m = {.stage = "tests", .result = "failed", .build_id = "jenkins-site-7",
		.build_url = "https://jenkins.example.com/job/site/7/", .branch = "feature/JIRA-1",
		.passed = 6, .failed = 2, .errors = 1, .skipped = 1, .failed_tests = failed,
		.nfailed_tests = 7, .elapsed_s = 12.4};
	json_t *p = slack_payload(&m);
	char *s = dump(p);
	const char *text = json_string_value(json_object_get(p, "text"));

	(void)state;
	assert_non_null(strstr(text, "Stage tests failed on feature/JIRA-1"));
	assert_non_null(strstr(text, "6 passed, 2 failed, 1 errors, 1 skipped"));
	assert_non_null(strstr(s, ":x:"));
	assert_non_null(strstr(s, "CartTest::testTotal: 3 != 4"));
	/* Slack's control characters are escaped, never passed on. */
	assert_non_null(strstr(s, "&lt;b&gt;&amp;&lt;/b&gt;"));
	assert_null(strstr(s, "<b>"));
	/* Five failed tests shown, and how many more. */
	assert_non_null(strstr(s, "• c"));
	assert_null(strstr(s, "• d"));
	assert_non_null(strstr(s, "and 2 more"));
	assert_non_null(strstr(s, "<https://jenkins.example.com/job/site/7/|jenkins-site-7>"));
	free(s);
	json_decref(p);
}

static void test_passed_playground(void **state)
{
	struct slack_message m = {.stage = "playground", .result = "passed",
		.playground_url = "https://feature-x.preview.example.com/", .passed = 0};
	json_t *p = slack_payload(&m);
	char *s = dump(p);

	(void)state;
	assert_non_null(strstr(s, ":white_check_mark:"));
	assert_non_null(strstr(s, "Playground: <https://feature-x.preview.example.com/>"));
	assert_non_null(strstr(json_string_value(json_object_get(p, "text")), "playground https://feature-x"));
	assert_null(strstr(s, "Failed tests"));
	assert_null(strstr(s, "context")); /* no build: no link block */
	free(s);
	json_decref(p);
}

static void test_infrastructure(void **state)
{
	struct slack_message m = {.stage = "tests", .result = "infrastructure-error",
		.problem = "image-pull: the image or its tag does not exist", .build_id = "b-1"};
	json_t *p = slack_payload(&m);
	char *s = dump(p);

	(void)state;
	assert_non_null(strstr(s, ":warning:"));
	assert_non_null(strstr(s, "Infrastructure problem"));
	assert_non_null(strstr(s, "image-pull"));
	free(s);
	json_decref(p);
}

/* Very long test names stay within a section block's 3000 characters. */
static void test_long_texts_bounded(void **state)
{
	char *big = malloc(10000);
	const char *failed[1];
	struct slack_message m = {.stage = "tests", .result = "failed", .failed = 1};
	json_t *p, *blocks;

	(void)state;
	memset(big, 'x', 9999);
	big[9999] = '\0';
	failed[0] = big;
	m.failed_tests = failed;
	m.nfailed_tests = 1;
	p = slack_payload(&m);
	blocks = json_object_get(p, "blocks");
	for (size_t i = 0; i < json_array_size(blocks); i++) {
		const char *t = json_string_value(json_object_get(json_object_get(json_array_get(blocks, i), "text"), "text"));
		if (t)
			assert_true(strlen(t) <= SLACK_TEXT_MAX);
	}
	json_decref(p);
	free(big);
}

static void test_retry_after(void **state)
{
	(void)state;
	assert_int_equal(slack_retry_after("30"), 30);
	assert_int_equal(slack_retry_after(" 2 "), 2);
	assert_int_equal(slack_retry_after("0"), 0);
	assert_int_equal(slack_retry_after(NULL), -1);
	assert_int_equal(slack_retry_after(""), -1);
	assert_int_equal(slack_retry_after("-3"), -1);
	assert_int_equal(slack_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), -1);
	assert_int_equal(slack_retry_after("5s"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failed_stage),
		cmocka_unit_test(test_passed_playground),
		cmocka_unit_test(test_infrastructure),
		cmocka_unit_test(test_long_texts_bounded),
		cmocka_unit_test(test_retry_after),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
