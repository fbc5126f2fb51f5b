/*
 * Unit tests of agents/results/watch.c with a real event_base and real inotify in a
 * temporary directory: a report parsed when its writer closes it (in a directory that
 * did not exist at registration), a re-parse that reports only new results, the final
 * parse at process end, missing/malformed/stale reports as errors, stdout streams,
 * and fail_on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "watch.h"

struct fixture {
	char dir[64];
	struct event_base *base;
	json_t *events;
	struct rs_watch *w;
};

static void fx_emit(void *arg, json_t *ev)
{
	json_array_append_new((json_t *)arg, ev);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/sv-watch-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->base = event_base_new();
	f->events = json_array();
	f->w = rs_watch_new(f->base, fx_emit, f->events, NULL);
	assert_non_null(f->w);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	rs_watch_free(f->w);
	event_base_free(f->base);
	json_decref(f->events);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void write_file(struct fixture *f, const char *rel, const char *content)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(content, fp);
	assert_int_equal(fclose(fp), 0);
}

/* Runs the loop until n events arrived (inotify queues events synchronously, so a few
 * non-blocking rounds suffice; the deadline is generous anyway). */
static void loop_until(struct fixture *f, size_t n)
{
	for (int i = 0; i < 2000 && json_array_size(f->events) < n; i++) {
		event_base_loop(f->base, EVLOOP_NONBLOCK);
		if (json_array_size(f->events) < n)
			usleep(1000);
	}
	assert_int_equal(json_array_size(f->events), n);
}

static const char *ev_str(struct fixture *f, size_t i, const char *k)
{
	return json_string_value(json_object_get(json_array_get(f->events, i), k));
}

static const char J1[] = "<testsuite name=\"S\"><testcase name=\"a\" class=\"C\"/>"
			 "<testcase name=\"b\" class=\"C\"><failure>no</failure></testcase></testsuite>";
static const char J2[] = "<testsuite name=\"S\"><testcase name=\"a\" class=\"C\"/>"
			 "<testcase name=\"b\" class=\"C\"><failure>no</failure></testcase>"
			 "<testcase name=\"c\" class=\"C\"><skipped/></testcase></testsuite>";

static void file_parsed_on_close_and_once_only(void **state)
{
	struct fixture *f = *state;
	struct spec_result r = {.format = "junit", .path = "build/logs/junit.xml"};
	struct rs_verdict v;
	char sub[128];

	assert_int_equal(rs_watch_add(f->w, "phpunit", f->dir, &r, 1), 0);
	/* The directories appear after registration. */
	snprintf(sub, sizeof(sub), "%s/build", f->dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	event_base_loop(f->base, EVLOOP_NONBLOCK);
	snprintf(sub, sizeof(sub), "%s/build/logs", f->dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	event_base_loop(f->base, EVLOOP_NONBLOCK);
	write_file(f, "build/logs/junit.xml", J1);
	loop_until(f, 2);
	assert_string_equal(ev_str(f, 1, "status"), "failed");
	/* Rewritten with one more test: only the new one is reported. */
	write_file(f, "build/logs/junit.xml", J2);
	loop_until(f, 3);
	assert_string_equal(ev_str(f, 2, "name"), "c");
	/* The final parse at process end finds nothing new. */
	assert_int_equal(rs_watch_process_ended(f->w, "phpunit"), 0);
	assert_int_equal(json_array_size(f->events), 3);
	assert_int_equal(rs_watch_verdict(f->w, &v), RS_OUTCOME_FAILED);
	assert_int_equal(v.passed, 1);
	assert_int_equal(v.failed, 1);
	assert_int_equal(v.skipped, 1);
	assert_int_equal(v.nerrors, 0);
}

/* The directories and the report appear before the loop runs: the report, closed before
 * its directory was watched, is still found as soon as the directory is. */
static void report_written_before_its_directory_was_watched(void **state)
{
	struct fixture *f = *state;
	struct spec_result r = {.format = "junit", .path = "out/logs/junit.xml"};
	char cmd[256];

	assert_int_equal(rs_watch_add(f->w, "phpunit", f->dir, &r, 1), 0);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/out/logs", f->dir);
	assert_int_equal(system(cmd), 0);
	write_file(f, "out/logs/junit.xml", J1);
	loop_until(f, 2);
	assert_int_equal(rs_watch_process_ended(f->w, "phpunit"), 0);
	assert_int_equal(json_array_size(f->events), 2);
}

static void glob_and_directory_paths(void **state)
{
	struct fixture *f = *state;
	struct spec_result r[] = {
		{.format = "junit", .path = "surefire"},
		{.format = "junit", .path = "other/TEST-*.xml"},
	};
	char sub[128];

	snprintf(sub, sizeof(sub), "%s/surefire", f->dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	snprintf(sub, sizeof(sub), "%s/other", f->dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(rs_watch_add(f->w, "mvn", f->dir, r, 2), 0);
	write_file(f, "surefire/TEST-A.xml", "<testsuite name=\"A\"><testcase name=\"x\"/></testsuite>");
	loop_until(f, 1);
	write_file(f, "surefire/notes.txt", "not a report");
	write_file(f, "other/TEST-B.xml", "<testsuite name=\"B\"><testcase name=\"y\"/></testsuite>");
	write_file(f, "other/skip.xml", "<testsuite name=\"Z\"><testcase name=\"z\"/></testsuite>");
	loop_until(f, 2);
	assert_string_equal(ev_str(f, 1, "suite"), "B");
	assert_int_equal(rs_watch_process_ended(f->w, "mvn"), 0);
	assert_int_equal(json_array_size(f->events), 2);
	assert_int_equal(rs_watch_verdict(f->w, NULL), RS_OUTCOME_PASSED);
}

static void missing_report_is_an_error(void **state)
{
	struct fixture *f = *state;
	struct spec_result r = {.format = "junit", .path = "junit.xml"};
	struct rs_verdict v;

	assert_int_equal(rs_watch_add(f->w, "phpunit", f->dir, &r, 1), 0);
	assert_int_equal(rs_watch_process_ended(f->w, "phpunit"), -1);
	assert_int_equal(rs_watch_verdict(f->w, &v), RS_OUTCOME_ERROR);
	assert_int_equal(v.nerrors, 1);
	assert_non_null(strstr(v.error, "junit.xml: no junit report was written"));
}

/* A process the agent stopped (the stage was ending for another reason) is not asked for a
 * report it never wrote; what it did write is still parsed, and a broken one is still an error. */
static void stopped_process_missing_report_is_not_an_error(void **state)
{
	struct fixture *f = *state;
	struct spec_result none = {.format = "junit", .path = "none.xml"};
	struct spec_result some = {.format = "junit", .path = "some.xml"};
	struct spec_result bad = {.format = "junit", .path = "bad.xml"};
	struct rs_verdict v;

	assert_int_equal(rs_watch_add(f->w, "lint", f->dir, &none, 1), 0);
	assert_int_equal(rs_watch_add(f->w, "unit", f->dir, &some, 1), 0);
	assert_int_equal(rs_watch_add(f->w, "broken", f->dir, &bad, 1), 0);
	write_file(f, "some.xml", J1);
	write_file(f, "bad.xml", "<testsuite name=\"S\">\n<testcase name=\"a\"");
	assert_int_equal(rs_watch_process_stopped(f->w, "lint"), 0);
	assert_int_equal(rs_watch_process_stopped(f->w, "unit"), 0);
	assert_int_equal(rs_watch_verdict(f->w, &v), RS_OUTCOME_FAILED);
	assert_int_equal(v.nerrors, 0);
	assert_int_equal(v.passed + v.failed, 2);
	assert_int_equal(rs_watch_process_stopped(f->w, "broken"), -1);
	assert_int_equal(rs_watch_verdict(f->w, &v), RS_OUTCOME_ERROR);
	assert_int_equal(v.nerrors, 1);
}

static void stale_report_is_ignored(void **state)
{
	struct fixture *f = *state;
	struct spec_result r = {.format = "junit", .path = "junit.xml"};
	struct timeval old[2] = {{1000000000, 0}, {1000000000, 0}};
	char path[128];

	write_file(f, "junit.xml", J1);
	snprintf(path, sizeof(path), "%s/junit.xml", f->dir);
	assert_int_equal(utimes(path, old), 0);
	assert_int_equal(rs_watch_add(f->w, "phpunit", f->dir, &r, 1), 0);
	assert_int_equal(rs_watch_process_ended(f->w, "phpunit"), -1);
	assert_int_equal(json_array_size(f->events), 0);
	assert_int_equal(rs_watch_verdict(f->w, NULL), RS_OUTCOME_ERROR);
}

static void malformed_report_names_position(void **state)
{
	struct fixture *f = *state;
	struct spec_result r = {.format = "junit", .path = "junit.xml"};
	struct rs_verdict v;
	char want[256];

	assert_int_equal(rs_watch_add(f->w, "phpunit", f->dir, &r, 1), 0);
	write_file(f, "junit.xml", "<testsuite name=\"S\">\n<testcase name=\"a\"/>\n<testcase name=\"b\">\n");
	assert_int_equal(rs_watch_process_ended(f->w, "phpunit"), -1);
	/* What was complete is still reported. */
	assert_int_equal(json_array_size(f->events), 1);
	assert_int_equal(rs_watch_verdict(f->w, &v), RS_OUTCOME_ERROR);
	snprintf(want, sizeof(want), "%s/junit.xml:4:1: ", f->dir);
	assert_non_null(strstr(v.error, want));
}

static void stdout_teamcity_stream(void **state)
{
	struct fixture *f = *state;
	struct spec_result r = {.format = "teamcity", .from_stdout = true};
	const char *out = "##teamcity[testStarted name='t1' flowId='1']\n##teamcity[testFinished name='t1' flowId='1']\n"
			  "##teamcity[testStarted name='t2' flowId='1']\n##teamcity[testFailed name='t2' message='x' flowId='1']\n"
			  "##teamcity[testFinished name='t2' flowId='1']\n";
	size_t n = strlen(out);
	struct rs_verdict v;

	assert_int_equal(rs_watch_add(f->w, "phpunit", NULL, &r, 1), 0);
	assert_int_equal(rs_watch_stdout(f->w, "phpunit", out, 50), 0);
	assert_int_equal(json_array_size(f->events), 0);
	assert_int_equal(rs_watch_stdout(f->w, "phpunit", out + 50, n - 50), 0);
	assert_int_equal(json_array_size(f->events), 2);
	assert_string_equal(ev_str(f, 0, "source"), "stdout");
	assert_int_equal(rs_watch_stdout(f->w, "other", out, n), 0); /* not its results */
	assert_int_equal(rs_watch_process_ended(f->w, "phpunit"), 0);
	assert_int_equal(rs_watch_verdict(f->w, &v), RS_OUTCOME_FAILED);
	assert_int_equal(v.passed, 1);
	assert_int_equal(v.failed, 1);
}

/* What each process's own reports hold, apart: the agent explains a process's failing exit
 * only by its own failed tests, never by another's; a test the runner died in (TeamCity,
 * no testFinished) is counted as unfinished; a missing report counts against its process. */
static void per_process_verdicts(void **state)
{
	struct fixture *f = *state;
	struct spec_result tc = {.format = "teamcity", .from_stdout = true};
	struct spec_result ju = {.format = "junit", .path = "j.xml"};
	struct spec_result none = {.format = "junit", .path = "none.xml"};
	const char *died = "##teamcity[testStarted name='t1' flowId='1']\n##teamcity[testFailed name='t1' message='x' flowId='1']\n"
			   "##teamcity[testFinished name='t1' flowId='1']\n##teamcity[testStarted name='t2' flowId='1']\n"
			   "PHP Fatal error:  Allowed memory size exhausted\n";
	struct rs_process_verdict pv;

	assert_int_equal(rs_watch_add(f->w, "tc", NULL, &tc, 1), 0);
	assert_int_equal(rs_watch_add(f->w, "unit", f->dir, &ju, 1), 0);
	assert_int_equal(rs_watch_add(f->w, "lost", f->dir, &none, 1), 0);
	write_file(f, "j.xml", J2);
	assert_int_equal(rs_watch_stdout(f->w, "tc", died, strlen(died)), 0);
	assert_int_equal(rs_watch_process_ended(f->w, "tc"), 0);
	assert_int_equal(rs_watch_process_ended(f->w, "unit"), 0);
	assert_int_equal(rs_watch_process_ended(f->w, "lost"), -1);

	assert_int_equal(rs_watch_process_verdict(f->w, "tc", &pv), 0);
	assert_int_equal(pv.tests, 2);
	assert_int_equal(pv.failed, 1);
	assert_int_equal(pv.errors, 1);
	assert_int_equal(pv.unfinished, 1);
	assert_int_equal(pv.reports_bad, 0);
	for (size_t i = 0; i < json_array_size(f->events); i++) {
		/* Only t2, the test the runner died in, is marked (and it is an error). */
		bool t2 = strcmp(ev_str(f, i, "name"), "t2") == 0;

		assert_int_equal(json_is_true(json_object_get(json_array_get(f->events, i), "unfinished")), t2);
		if (t2)
			assert_string_equal(ev_str(f, i, "status"), "error");
	}

	assert_int_equal(rs_watch_process_verdict(f->w, "unit", &pv), 0);
	assert_int_equal(pv.tests, 3);
	assert_int_equal(pv.failed, 1);
	assert_int_equal(pv.errors + pv.unfinished + pv.reports_bad, 0);

	assert_int_equal(rs_watch_process_verdict(f->w, "lost", &pv), 0);
	assert_int_equal(pv.tests, 0);
	assert_int_equal(pv.reports_bad, 1);

	assert_int_equal(rs_watch_process_verdict(f->w, "nobody", &pv), -1);
	assert_int_equal(pv.tests + pv.reports_bad, 0);
}

static void fail_on_decides_findings(void **state)
{
	struct fixture *f = *state;
	struct spec_result warn = {.format = "checkstyle", .path = "cs.xml", .fail_on = SPEC_FAIL_ON_WARNING};
	struct spec_result err = {.format = "checkstyle", .path = "cs.xml", .fail_on = SPEC_FAIL_ON_ERROR};
	struct rs_verdict v;

	write_file(f, "cs.xml", "<checkstyle version=\"3\"><file name=\"a.php\">"
				"<error line=\"1\" severity=\"warning\" message=\"w\" source=\"A.B.C.D\"/></file></checkstyle>");
	assert_int_equal(rs_watch_add(f->w, "lenient", f->dir, &err, 1), 0);
	assert_int_equal(rs_watch_process_ended(f->w, "lenient"), 0);
	assert_int_equal(rs_watch_verdict(f->w, &v), RS_OUTCOME_PASSED);
	assert_int_equal(v.findings_warning, 1);
	assert_int_equal(rs_watch_add(f->w, "strict", f->dir, &warn, 1), 0);
	assert_int_equal(rs_watch_process_ended(f->w, "strict"), 0);
	assert_int_equal(rs_watch_verdict(f->w, &v), RS_OUTCOME_FAILED);
	assert_int_equal(v.findings_failing, 1);
	/* Each finding event says whether it failed the stage (the coordinator's JUnit uses it). */
	assert_int_equal(json_array_size(f->events), 2);
	assert_string_equal(ev_str(f, 0, "type"), "finding");
	assert_true(json_is_false(json_object_get(json_array_get(f->events, 0), "fails")));
	assert_string_equal(ev_str(f, 1, "type"), "finding");
	assert_true(json_is_true(json_object_get(json_array_get(f->events, 1), "fails")));
}

/* The real peer: PHPUnit writes its JUnit report into a directory it creates; the report
 * is parsed when PHPUnit closes it, before the process-ended hook, and not again. */
static void phpunit_report_is_parsed_live(void **state)
{
	struct fixture *f = *state;
	struct spec_result r = {.format = "junit", .path = "build/logs/*.xml"};
	struct rs_verdict v;
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "cp -r %s/examples/site %s/site", SV_SRC_DIR, f->dir);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s/site", f->dir);
	assert_int_equal(rs_watch_add(f->w, "phpunit", cmd, &r, 1), 0);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/site/build/logs", f->dir);
	assert_int_equal(system(cmd), 0);
	event_base_loop(f->base, EVLOOP_NONBLOCK); /* the new directories are watched */
	snprintf(cmd, sizeof(cmd), "cd %s/site && phpunit --log-junit build/logs/junit.xml >/dev/null 2>&1", f->dir);
	assert_int_equal(WEXITSTATUS(system(cmd)), 2); /* PHPUnit: errors */
	loop_until(f, 11);
	assert_int_equal(rs_watch_process_ended(f->w, "phpunit"), 0);
	assert_int_equal(json_array_size(f->events), 11);
	assert_int_equal(rs_watch_verdict(f->w, &v), RS_OUTCOME_FAILED);
	assert_int_equal(v.passed, 6);
	assert_int_equal(v.failed, 2);
	assert_int_equal(v.errors, 1);
	assert_int_equal(v.skipped, 2);
}

static void bad_spec_result_is_refused(void **state)
{
	struct fixture *f = *state;
	struct spec_result r = {.format = "nunit", .path = "x.xml"};

	assert_int_equal(rs_watch_add(f->w, "p", f->dir, &r, 1), -1);
	rs_watch_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(file_parsed_on_close_and_once_only, setup, teardown),
		cmocka_unit_test_setup_teardown(report_written_before_its_directory_was_watched, setup, teardown),
		cmocka_unit_test_setup_teardown(glob_and_directory_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_report_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(stopped_process_missing_report_is_not_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(stale_report_is_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(malformed_report_names_position, setup, teardown),
		cmocka_unit_test_setup_teardown(stdout_teamcity_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(per_process_verdicts, setup, teardown),
		cmocka_unit_test_setup_teardown(fail_on_decides_findings, setup, teardown),
		cmocka_unit_test_setup_teardown(phpunit_report_is_parsed_live, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_spec_result_is_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
