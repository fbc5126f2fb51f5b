/* Unit tests of coordinator/taskwatch.c: watchers share one DescribeTasks. The describe
 * function is a stand-in that records the calls (the real one is an AWS call). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "taskwatch.h"

struct fake {
	unsigned calls;
	size_t max_batch, asked;
	bool fail;
	const char *stopped; /* this arn is STOPPED, the others RUNNING */
	const char *missing; /* this arn is reported as a failure */
};

static int fake_describe(void *arg, const char *cluster, const char *const *arns, size_t n, json_t **out)
{
	struct fake *f = arg;
	json_t *tasks, *failures;

	f->calls++;
	f->asked += n;
	if (n > f->max_batch)
		f->max_batch = n;
	if (f->fail)
		return -1;
	tasks = json_array();
	failures = json_array();
	for (size_t i = 0; i < n; i++) {
		if (f->missing && strcmp(arns[i], f->missing) == 0)
			json_array_append_new(failures, json_pack("{s:s, s:s}", "arn", arns[i], "reason", "MISSING"));
		else
			json_array_append_new(tasks, json_pack("{s:s, s:s, s:s}", "taskArn", arns[i], "clusterArn", cluster,
				"lastStatus", f->stopped && strcmp(arns[i], f->stopped) == 0 ? "STOPPED" : "RUNNING"));
	}
	*out = json_pack("{s:o, s:o}", "tasks", tasks, "failures", failures);
	return 0;
}

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/stagevisor-watch-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *status_of(const json_t *t)
{
	return json_string_value(json_object_get(t, "lastStatus"));
}

static void test_watchers_share_one_call(void **state)
{
	char err[256];
	struct fake f = {.stopped = "arn:aws:ecs:r:1:task/ci/b"};
	struct taskwatch *a = taskwatch_new(dir, "ci", "arn:aws:ecs:r:1:task/ci/a", err, sizeof err);
	struct taskwatch *b = taskwatch_new(dir, "ci", "arn:aws:ecs:r:1:task/ci/b", err, sizeof err);
	json_t *t = NULL;
	unsigned calls = 0;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(taskwatch_poll(a, 1000000, 30000, fake_describe, &f, &t, &calls), 1);
	assert_string_equal(status_of(t), "RUNNING");
	json_decref(t);
	assert_int_equal(f.calls, 1);
	assert_int_equal(f.asked, 2); /* both registered tasks in one call */
	/* The other watcher, within the interval: the shared answer, no call. */
	assert_int_equal(taskwatch_poll(b, 1010000, 30000, fake_describe, &f, &t, &calls), 1);
	assert_string_equal(status_of(t), "STOPPED");
	json_decref(t);
	assert_int_equal(f.calls, 1);
	/* After the interval, one call again. */
	assert_int_equal(taskwatch_poll(b, 1031000, 30000, fake_describe, &f, &t, &calls), 1);
	json_decref(t);
	assert_int_equal(f.calls, 2);
	assert_int_equal(calls, 2);
	/* An unregistered task is no longer asked for. */
	taskwatch_free(b);
	f.asked = 0;
	assert_int_equal(taskwatch_poll(a, 1062000, 30000, fake_describe, &f, &t, &calls), 1);
	json_decref(t);
	assert_int_equal(f.asked, 1);
	taskwatch_free(a);
	taskwatch_free(NULL);
}

/* A watcher that read its clock, then waited for the lock while another refreshed, finds an
 * answer slightly newer than its now: that answer is fresh (no second call). An answer from
 * further ahead than the interval means the clock was set back: refreshed. */
static void test_answer_newer_than_now(void **state)
{
	char err[256];
	struct fake f = {0};
	struct taskwatch *a = taskwatch_new(dir, "ci", "arn:aws:ecs:r:1:task/ci/a", err, sizeof err);
	struct taskwatch *b = taskwatch_new(dir, "ci", "arn:aws:ecs:r:1:task/ci/b", err, sizeof err);
	json_t *t = NULL;
	unsigned calls = 0;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(taskwatch_poll(a, 1000000, 10000, fake_describe, &f, &t, &calls), 1);
	json_decref(t);
	assert_int_equal(f.calls, 1);
	assert_int_equal(taskwatch_poll(b, 999700, 10000, fake_describe, &f, &t, &calls), 1);
	json_decref(t);
	assert_int_equal(f.calls, 1);
	assert_int_equal(taskwatch_poll(b, 989000, 10000, fake_describe, &f, &t, &calls), 1);
	json_decref(t);
	assert_int_equal(f.calls, 2);
	taskwatch_free(a);
	taskwatch_free(b);
}

static void test_batches_of_100(void **state)
{
	char err[256], arn[128];
	struct taskwatch *w[250];
	struct fake f = {0};
	json_t *t = NULL;
	unsigned calls = 0;

	(void)state;
	for (int i = 0; i < 250; i++) {
		snprintf(arn, sizeof arn, "arn:aws:ecs:r:1:task/ci/t%03d", i);
		w[i] = taskwatch_new(dir, "ci", arn, err, sizeof err);
		assert_non_null(w[i]);
	}
	for (int i = 0; i < 250; i++) {
		assert_int_equal(taskwatch_poll(w[i], 2000000 + i, 30000, fake_describe, &f, &t, &calls), 1);
		json_decref(t);
	}
	/* 250 watchers, one refresh: three DescribeTasks of at most 100 tasks. */
	assert_int_equal(f.calls, 3);
	assert_int_equal(f.max_batch, 100);
	assert_int_equal(f.asked, 250);
	for (int i = 0; i < 250; i++)
		taskwatch_free(w[i]);
}

static void test_missing_and_failing(void **state)
{
	char err[256];
	struct fake f = {.missing = "arn:aws:ecs:r:1:task/ci/gone"};
	struct taskwatch *w = taskwatch_new(dir, "ci", "arn:aws:ecs:r:1:task/ci/gone", err, sizeof err);
	json_t *t = NULL;
	unsigned calls = 0;

	(void)state;
	assert_int_equal(taskwatch_poll(w, 3000000, 30000, fake_describe, &f, &t, &calls), 1);
	assert_string_equal(status_of(t), "MISSING");
	json_decref(t);
	f.fail = true;
	assert_int_equal(taskwatch_poll(w, 3100000, 30000, fake_describe, &f, &t, &calls), -1);
	assert_null(t);
	/* After a failed refresh the next poll asks again. */
	f.fail = false;
	assert_int_equal(taskwatch_poll(w, 3100001, 30000, fake_describe, &f, &t, &calls), 1);
	json_decref(t);
	taskwatch_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_watchers_share_one_call, setup, teardown),
		cmocka_unit_test_setup_teardown(test_answer_newer_than_now, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batches_of_100, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_and_failing, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
