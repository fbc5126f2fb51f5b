/* Unit tests of coordinator/teardown.c's decision (teardown_judge) and of the task readers it
 * shares with fgplay.c: which running tasks teardown stops, and why. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fgplay.h"
#include "taskdef.h"
#include "teardown.h"

#define NOW 1796382000ll /* 2026-12-04T11:00:00Z */
#define HOUR 3600ll

/* A task as DescribeTasks (include TAGS) shows it. expires < 0: no expiry tag. */
static json_t *task(const char *build, const char *slug, long long started, long long expires, const char *desired)
{
	json_t *tags = json_array();
	char e[32];

	json_array_append_new(tags, json_pack("{s:s, s:s}", "key", TASKDEF_TAG_BUILD, "value", build));
	json_array_append_new(tags, json_pack("{s:s, s:s}", "key", TASKDEF_TAG_STAGE, "value", "tests"));
	if (slug)
		json_array_append_new(tags, json_pack("{s:s, s:s}", "key", FGPLAY_TAG_PLAYGROUND, "value", slug));
	if (expires >= 0) {
		snprintf(e, sizeof e, "%lld", expires);
		json_array_append_new(tags, json_pack("{s:s, s:s}", "key", TASKDEF_TAG_EXPIRES, "value", e));
	}
	return json_pack("{s:s, s:s, s:I, s:o}", "taskArn", "arn:aws:ecs:eu-west-1:123456789012:task/ci/0123abcd",
			 "desiredStatus", desired, "startedAt", (json_int_t)started, "tags", tags);
}

static enum teardown_verdict judge(json_t *t, char *why)
{
	enum teardown_verdict v = teardown_judge(t, NOW, TEARDOWN_STAGE_AGE_DEFAULT_S, why, 512);
	json_decref(t);
	return v;
}

static void playgrounds(void **state)
{
	char why[512];
	(void)state;
	assert_int_equal(judge(task("playground:main", "main", NOW - 2 * HOUR, NOW - 1, "RUNNING"), why), TEARDOWN_STOP);
	assert_non_null(strstr(why, "playground expired at 2026-12-04T10:59:59Z"));
	assert_int_equal(judge(task("playground:main", "main", NOW - 2 * HOUR, NOW, "RUNNING"), why), TEARDOWN_STOP);
	assert_int_equal(judge(task("playground:main", "main", NOW - 2 * HOUR, NOW + 8 * HOUR, "RUNNING"), why),
			 TEARDOWN_KEEP);
	assert_string_equal(why, "");
	/* A playground lives longer than any stage: --max-stage-age does not apply to it. */
	assert_int_equal(judge(task("playground:main", "main", NOW - 20 * HOUR, NOW + HOUR, "RUNNING"), why),
			 TEARDOWN_KEEP);
	/* Without an expiry tag: a day. */
	assert_int_equal(judge(task("playground:main", "main", NOW - 25 * HOUR, -1, "RUNNING"), why), TEARDOWN_STOP);
	assert_non_null(strstr(why, "without an expiry tag"));
	assert_int_equal(judge(task("playground:main", "main", NOW - 2 * HOUR, -1, "RUNNING"), why), TEARDOWN_KEEP);
	/* Marked by its build tag alone (before the marker tag was added). */
	assert_int_equal(judge(task("playground:dev", NULL, NOW - 2 * HOUR, NOW - 5, "RUNNING"), why), TEARDOWN_STOP);
	assert_non_null(strstr(why, "playground expired"));
	/* Already stopping. */
	assert_int_equal(judge(task("playground:main", "main", NOW - 30 * HOUR, NOW - HOUR, "STOPPED"), why),
			 TEARDOWN_KEEP);
}

static void stage_tasks(void **state)
{
	char why[512];
	json_t *t;
	(void)state;
	assert_int_equal(judge(task("jenkins-site-7", NULL, NOW - 10 * 60, NOW + HOUR, "RUNNING"), why), TEARDOWN_KEEP);
	assert_int_equal(judge(task("jenkins-site-7", NULL, NOW - 10 * 60, NOW - 60, "RUNNING"), why), TEARDOWN_STOP);
	assert_non_null(strstr(why, "stage task expired"));
	assert_int_equal(judge(task("jenkins-site-7", NULL, NOW - 7 * HOUR, -1, "RUNNING"), why), TEARDOWN_STOP);
	assert_non_null(strstr(why, "build is gone"));
	assert_int_equal(judge(task("jenkins-site-7", NULL, NOW - 5 * HOUR, -1, "RUNNING"), why), TEARDOWN_KEEP);
	/* The age limit is the caller's. */
	t = task("jenkins-site-7", NULL, NOW - 2 * HOUR, -1, "RUNNING");
	assert_int_equal(teardown_judge(t, NOW, HOUR, why, sizeof why), TEARDOWN_STOP);
	assert_int_equal(teardown_judge(t, NOW, 3 * HOUR, why, sizeof why), TEARDOWN_KEEP);
	json_decref(t);
	/* "playground-x" is a build name, not the marker. */
	assert_int_equal(judge(task("playground-x", NULL, NOW - 7 * HOUR, -1, "RUNNING"), why), TEARDOWN_STOP);
	assert_non_null(strstr(why, "stage task"));
}

static void task_readers(void **state)
{
	json_t *t = json_pack("{s:s, s:s}", "taskArn", "arn:aws:ecs:eu-west-1:1:task/ci/f00d", "createdAt",
			      "2026-12-04T12:30:00.123000+01:00");
	(void)state;
	assert_int_equal(fgplay_task_started(t), NOW + 30 * 60);
	assert_string_equal(fgplay_task_id(t), "f00d");
	assert_null(fgplay_task_slug(t));
	json_object_set_new(t, "startedAt", json_real((double)NOW + 0.5));
	assert_int_equal(fgplay_task_started(t), NOW);
	json_decref(t);
	t = json_object();
	assert_int_equal(fgplay_task_started(t), 0);
	assert_string_equal(fgplay_task_id(t), "?");
	json_decref(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(playgrounds),
		cmocka_unit_test(stage_tasks),
		cmocka_unit_test(task_readers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
