/* Unit tests of coordinator/report.c: the verdict and its exit code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "evfix.h"
#include "report.h"

static void put(struct stream *s, json_t *ev)
{
	char err[200];
	assert_int_equal(stream_add(s, ev, STREAM_FROM_HTTPS, err, sizeof err), 1);
	json_decref(ev);
}

static struct stream *complete(const char *status, int result)
{
	struct stream *s = stream_new("st", NULL, 0);
	put(s, evfix_test("st", 1, "t", status));
	put(s, evfix_end("st", 2, result, 1, status[0] == 'p', status[0] == 'f', 0));
	return s;
}

static const struct report_agent exited0 = {.started = true, .exited = true, .exit_code = 0};

static void passed(void **state)
{
	struct stream *s = complete("passed", 0);
	struct report r;
	(void)state;
	report_judge(&r, s, &exited0, 0, false, 1, NULL);
	assert_int_equal(r.exit_code, REPORT_PASSED);
	assert_string_equal(r.result, "passed");
	assert_true(r.complete);
	assert_int_equal(r.ninfra, 0);
	stream_free(s);
}

static void failed_tests(void **state)
{
	struct stream *s = complete("failed", 1);
	struct report_agent a = {.started = true, .exited = true, .exit_code = 1};
	struct report r;
	(void)state;
	report_judge(&r, s, &a, 0, false, 1, NULL);
	assert_int_equal(r.exit_code, REPORT_FAILED);
	stream_free(s);
}

static void agent_result_fails_stage(void **state)
{
	/* The agent says 1 and nothing in the stream says why: the stage fails, and a case says
	 * that nothing explains it (a red build never lacks a red case). */
	struct stream *s = complete("passed", 1);
	struct report r;
	(void)state;
	report_judge(&r, s, &exited0, 0, false, 1, NULL);
	assert_int_equal(r.exit_code, REPORT_FAILED);
	assert_int_equal(r.ninfra, 1);
	assert_string_equal(r.infra[0].name, "agent");
	assert_non_null(strstr(r.infra[0].message, "exit 1, and no failed test, finding or process explains it"));
	stream_free(s);
}

static void failing_finding_explains_agent_result(void **state)
{
	/* Checks failed (a finding over its fail_on): no failed test, the agent says 1, and the
	 * finding is the case that says why: no problem of ours. */
	struct stream *s = stream_new("st", NULL, 0);
	struct report r;
	(void)state;
	put(s, evfix("st", 1, "{\"type\":\"finding\",\"tool\":\"phpcs\",\"severity\":\"error\",\"message\":\"m\","
	                      "\"fingerprint\":\"f\",\"fails\":true}"));
	put(s, evfix("st", 2, "{\"type\":\"end\",\"result\":1,\"totals\":{\"events\":1,\"tests\":{\"passed\":0,"
	                      "\"failed\":0,\"error\":0,\"skipped\":0},\"findings\":{\"error\":1,\"warning\":0,"
	                      "\"info\":0},\"metrics\":0,\"logs\":0,\"shed\":{\"log\":0}}}"));
	report_judge(&r, s, &exited0, 0, false, 1, NULL);
	assert_true(r.complete);
	assert_int_equal(r.exit_code, REPORT_FAILED);
	assert_int_equal(r.ninfra, 0);
	stream_free(s);
}

/* A stream of one job "phpunit" that failed for good with status 2 after one failed test;
 * explained: the value of stage/ended's processes[0].explained (-1: no such member). */
static struct stream *phpunit_failed(int explained, const char *outcome)
{
	struct stream *s = stream_new("st", NULL, 0);
	char body[1024];

	put(s, evfix_test("st", 1, "t", "failed"));
	put(s, evfix("st", 2, "{\"type\":\"process\",\"event\":\"failed\",\"process\":\"phpunit\","
	                      "\"reason\":\"exited with status 2\",\"last_lines\":[\"Tests: 1\",\"PHP Fatal error: x\"]}"));
	snprintf(body, sizeof body,
	         "{\"type\":\"stage\",\"event\":\"ended\",\"stage\":\"unit\",\"mode\":\"job\",\"result\":%d,"
	         "\"results\":{\"outcome\":\"%s\",\"error\":\"out.xml: no junit report was written\"}%s%s%s}",
	         explained == 1 ? 1 : 2, outcome, explained >= 0 ? ",\"processes\":[{\"process\":\"phpunit\",\"status\":2,"
	                                                            "\"why\":\"exit status 2\",\"explained\":" : "",
	         explained < 0 ? "" : explained ? "true" : "false", explained >= 0 ? "}]" : "");
	put(s, evfix("st", 3, body));
	put(s, evfix_end("st", 4, explained == 1 ? 1 : 2, 3, 0, 1, 0));
	return s;
}

static void explained_process_is_a_test_failure(void **state)
{
	struct stream *s = phpunit_failed(1, "failed");
	struct report r;
	(void)state;
	report_judge(&r, s, &exited0, 0, false, 1, NULL);
	assert_true(r.complete);
	assert_int_equal(r.exit_code, REPORT_FAILED);
	assert_string_equal(r.result, "failed");
	assert_int_equal(r.ninfra, 0);
	stream_free(s);
}

static void unexplained_process_is_a_case_with_its_last_lines(void **state)
{
	for (int explained = -1; explained <= 0; explained++) {
		/* -1: an agent that does not say (or a stream without stage/ended); 0: it says no. */
		struct stream *s = phpunit_failed(explained, "failed");
		struct report r;
		(void)state;
		report_judge(&r, s, &exited0, 0, false, 1, NULL);
		assert_int_equal(r.exit_code, REPORT_FAILED);
		assert_int_equal(r.ninfra, 1);
		assert_string_equal(r.infra[0].name, "process phpunit");
		assert_false(r.infra[0].ours);
		assert_non_null(strstr(r.infra[0].message, "process phpunit failed: exited with status 2"));
		assert_string_equal(r.infra[0].detail, "Tests: 1\nPHP Fatal error: x");
		if (explained == 0)
			assert_non_null(strstr(r.infra[0].message, "; exit status 2"));
		stream_free(s);
	}
}

static void report_error_is_a_case(void **state)
{
	struct stream *s = phpunit_failed(0, "error");
	struct report r;
	(void)state;
	report_judge(&r, s, &exited0, 0, false, 1, NULL);
	assert_int_equal(r.exit_code, REPORT_FAILED);
	assert_int_equal(r.ninfra, 2);
	assert_string_equal(r.infra[1].name, "report");
	assert_non_null(strstr(r.infra[1].message, "out.xml: no junit report was written"));
	stream_free(s);
}

static void two_failed_processes_are_the_stages_own(void **state)
{
	/* Two processes that failed for good in a complete stream: the stage failed (exit 1),
	 * with a case each; not an infrastructure error (exit 3). */
	struct stream *s = stream_new("st", NULL, 0);
	struct report r;
	(void)state;
	put(s, evfix("st", 1, "{\"type\":\"process\",\"event\":\"failed\",\"process\":\"a\",\"reason\":\"r\"}"));
	put(s, evfix("st", 2, "{\"type\":\"process\",\"event\":\"failed\",\"process\":\"b\",\"reason\":\"r\"}"));
	put(s, evfix_end("st", 3, 1, 2, 0, 0, 0));
	report_judge(&r, s, &exited0, 0, false, 1, NULL);
	assert_int_equal(r.exit_code, REPORT_FAILED);
	assert_int_equal(r.ninfra, 2);
	stream_free(s);
}

static void crash_is_infra(void **state)
{
	struct stream *s = stream_new("st", NULL, 0);
	struct report_agent a = {.started = true, .exited = true, .exit_code = -1, .signal = 9};
	struct report r;
	(void)state;
	put(s, evfix_test("st", 1, "t", "passed"));
	report_judge(&r, s, &a, 0, false, 1, NULL);
	assert_int_equal(r.exit_code, REPORT_INFRA);
	assert_int_equal(r.ninfra, 2); /* agent killed, stream incomplete */
	assert_string_equal(r.infra[0].name, "agent");
	assert_string_equal(r.infra[1].name, "stream");
	stream_free(s);
}

static void not_started_is_infra(void **state)
{
	struct stream *s = stream_new("st", NULL, 0);
	struct report_agent a = {.started = false};
	struct report r;
	(void)state;
	snprintf(a.start_error, sizeof a.start_error, "no such file");
	report_judge(&r, s, &a, 0, false, 1, NULL);
	assert_int_equal(r.exit_code, REPORT_INFRA);
	assert_non_null(strstr(r.infra[0].message, "no such file"));
	stream_free(s);
}

static void totals_mismatch_is_infra(void **state)
{
	struct stream *s = stream_new("st", NULL, 0);
	struct report r;
	(void)state;
	put(s, evfix_test("st", 1, "t", "passed"));
	put(s, evfix_end("st", 2, 0, 1, 2, 0, 0));
	report_judge(&r, s, &exited0, 0, false, 1, NULL);
	assert_int_equal(r.exit_code, REPORT_INFRA);
	assert_false(r.complete);
	stream_free(s);
}

static void process_failed_in_complete_stream_fails_stage(void **state)
{
	struct stream *s = stream_new("st", NULL, 0);
	struct report_agent a = {.started = true, .exited = true, .exit_code = 1};
	struct report r;
	(void)state;
	put(s, evfix("st", 1, "{\"type\":\"process\",\"event\":\"failed\",\"process\":\"web\",\"pid\":3,\"attempt\":4,"
	                      "\"reason\":\"gave up after 4 starts\",\"last_lines\":[]}"));
	put(s, evfix_end("st", 2, 1, 1, 0, 0, 0));
	report_judge(&r, s, &a, 0, false, 1, NULL);
	assert_int_equal(r.exit_code, REPORT_FAILED);
	assert_int_equal(r.ninfra, 1);
	assert_string_equal(r.infra[0].name, "process web");
	stream_free(s);
}

static void interrupted(void **state)
{
	struct stream *s = complete("passed", 0);
	struct report r;
	(void)state;
	report_judge(&r, s, &exited0, 2, false, 1, NULL);
	assert_int_equal(r.exit_code, 130);
	assert_string_equal(r.result, "interrupted");
	stream_free(s);
}

static void summary_json(void **state)
{
	struct stream *s = complete("failed", 1);
	struct report_agent a = {.started = true, .exited = true, .exit_code = 1};
	struct report r;
	json_t *j;
	(void)state;
	report_judge(&r, s, &a, 0, false, 2.5, "unit");
	j = report_json(&r, s, "junit.xml", NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "result")), "failed");
	assert_int_equal(json_integer_value(json_object_get(j, "exit_code")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "tests"), "failed")), 1);
	assert_true(json_is_true(json_object_get(j, "complete")));
	json_decref(j);
	stream_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(passed),
		cmocka_unit_test(failed_tests),
		cmocka_unit_test(agent_result_fails_stage),
		cmocka_unit_test(failing_finding_explains_agent_result),
		cmocka_unit_test(explained_process_is_a_test_failure),
		cmocka_unit_test(unexplained_process_is_a_case_with_its_last_lines),
		cmocka_unit_test(report_error_is_a_case),
		cmocka_unit_test(two_failed_processes_are_the_stages_own),
		cmocka_unit_test(crash_is_infra),
		cmocka_unit_test(not_started_is_infra),
		cmocka_unit_test(totals_mismatch_is_infra),
		cmocka_unit_test(process_failed_in_complete_stream_fails_stage),
		cmocka_unit_test(interrupted),
		cmocka_unit_test(summary_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
