/* Unit tests of coordinator/stream.c: dedupe by seq, ack and gaps, bounds, completeness. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "evfix.h"
#include "stream.h"

static int add(struct stream *s, json_t *ev, enum stream_source from)
{
	char err[256];
	int rc = stream_add(s, ev, from, err, sizeof err);
	json_decref(ev);
	return rc;
}

static void in_order_and_duplicates(void **state)
{
	struct stream *s = stream_new("st", NULL, 0);
	(void)state;
	assert_int_equal(stream_ack(s), 0);
	assert_int_equal(add(s, evfix_test("st", 1, "a", "passed"), STREAM_FROM_HTTPS), 1);
	assert_int_equal(add(s, evfix_test("st", 2, "b", "failed"), STREAM_FROM_HTTPS), 1);
	assert_int_equal(add(s, evfix_test("st", 2, "b", "failed"), STREAM_FROM_FALLBACK), 0);
	assert_int_equal(add(s, evfix_test("st", 1, "a", "passed"), STREAM_FROM_HTTPS), 0);
	assert_int_equal(stream_ack(s), 2);
	assert_int_equal(stream_resend_from(s), 0);
	struct stream_tally t = stream_tally(s);
	assert_int_equal(t.passed, 1);
	assert_int_equal(t.failed, 1);
	assert_int_equal(t.duplicates, 2);
	assert_int_equal(t.stored, 2);
	stream_free(s);
}

static void gaps_from_fallback(void **state)
{
	struct stream *s = stream_new("st", NULL, 0);
	(void)state;
	/* Fallback lines carry no log events: 2 is a log that only HTTPS brings. */
	assert_int_equal(add(s, evfix_test("st", 1, "a", "passed"), STREAM_FROM_FALLBACK), 1);
	assert_int_equal(add(s, evfix_test("st", 3, "c", "passed"), STREAM_FROM_FALLBACK), 1);
	assert_int_equal(stream_ack(s), 1);
	assert_int_equal(stream_resend_from(s), 2);
	assert_int_equal(add(s, evfix_log("st", 2), STREAM_FROM_HTTPS), 1);
	assert_int_equal(stream_ack(s), 3);
	assert_int_equal(stream_resend_from(s), 0);
	assert_null(stream_load(s, 2)); /* logs are not kept in memory */
	assert_int_equal(stream_kind(s, 2), STREAM_KIND_LOG);
	json_t *ev = stream_load(s, 3);
	assert_non_null(ev);
	assert_string_equal(json_string_value(json_object_get(ev, "name")), "c");
	assert_int_equal(stream_kind(s, 3), STREAM_KIND_TEST);
	json_decref(ev);
	assert_int_equal(stream_tally(s).from_fallback, 2);
	stream_free(s);
}

static void refuses_bad_events(void **state)
{
	struct stream *s = stream_new("st", NULL, 0);
	char err[256];
	json_t *ev;
	(void)state;
	ev = evfix_test("other", 1, "a", "passed");
	assert_int_equal(stream_add(s, ev, STREAM_FROM_HTTPS, err, sizeof err), -1);
	assert_non_null(strstr(err, "stream"));
	json_decref(ev);
	ev = evfix_test("st", STREAM_WINDOW + 1, "far", "passed");
	assert_int_equal(stream_add(s, ev, STREAM_FROM_HTTPS, err, sizeof err), -1);
	assert_non_null(strstr(err, "too far"));
	json_decref(ev);
	ev = evfix("st", 1, "{\"type\":\"nonsense\"}");
	assert_int_equal(stream_add(s, ev, STREAM_FROM_HTTPS, err, sizeof err), -1);
	json_decref(ev);
	assert_int_equal(stream_tally(s).stored, 0);
	assert_int_equal(stream_max_seq(s), 0);
	stream_free(s);
}

static void complete_stream(void **state)
{
	struct stream *s = stream_new("st", NULL, 0);
	uint64_t missing = 99;
	char why[512];
	(void)state;
	assert_int_equal(stream_check_complete(s, &missing, why, sizeof why), -1);
	assert_non_null(strstr(why, "end event never arrived"));
	add(s, evfix_test("st", 1, "a", "passed"), STREAM_FROM_HTTPS);
	add(s, evfix_log("st", 2), STREAM_FROM_HTTPS);
	add(s, evfix_test("st", 3, "b", "failed"), STREAM_FROM_HTTPS);
	add(s, evfix_end("st", 4, 1, 3, 1, 1, 1), STREAM_FROM_HTTPS);
	assert_int_equal(stream_check_complete(s, &missing, why, sizeof why), 0);
	assert_int_equal(missing, 0);
	stream_free(s);
}

static void complete_without_logs_from_fallback(void **state)
{
	struct stream *s = stream_new("st", NULL, 0);
	uint64_t missing = 0;
	char why[512];
	(void)state;
	add(s, evfix_test("st", 1, "a", "passed"), STREAM_FROM_FALLBACK);
	add(s, evfix_test("st", 3, "b", "failed"), STREAM_FROM_FALLBACK);
	add(s, evfix_end("st", 4, 1, 3, 1, 1, 1), STREAM_FROM_FALLBACK);
	assert_int_equal(stream_check_complete(s, &missing, why, sizeof why), 0);
	assert_int_equal(missing, 1);
	stream_free(s);
}

static void incomplete_when_a_result_is_missing(void **state)
{
	struct stream *s = stream_new("st", NULL, 0);
	uint64_t missing = 0;
	char why[512];
	(void)state;
	/* seq 2 was a test result, not a log: the totals expose it. */
	add(s, evfix_test("st", 1, "a", "passed"), STREAM_FROM_FALLBACK);
	add(s, evfix_end("st", 3, 0, 2, 2, 0, 0), STREAM_FROM_FALLBACK);
	assert_int_equal(stream_check_complete(s, &missing, why, sizeof why), -1);
	stream_free(s);
	/* Counts match but one event is missing and no log can explain it. */
	s = stream_new("st", NULL, 0);
	add(s, evfix_test("st", 1, "a", "passed"), STREAM_FROM_HTTPS);
	add(s, evfix_end("st", 3, 0, 2, 1, 0, 0), STREAM_FROM_HTTPS);
	assert_int_equal(stream_check_complete(s, &missing, why, sizeof why), -1);
	assert_non_null(strstr(why, "missing"));
	stream_free(s);
	/* The end claims another count of events than its seq says. */
	s = stream_new("st", NULL, 0);
	add(s, evfix_test("st", 1, "a", "passed"), STREAM_FROM_HTTPS);
	add(s, evfix_end("st", 2, 0, 5, 1, 0, 0), STREAM_FROM_HTTPS);
	assert_int_equal(stream_check_complete(s, &missing, why, sizeof why), -1);
	stream_free(s);
}

static void second_end_refused(void **state)
{
	struct stream *s = stream_new("st", NULL, 0);
	char err[200];
	json_t *e2;
	(void)state;
	add(s, evfix_end("st", 1, 0, 0, 0, 0, 0), STREAM_FROM_HTTPS);
	e2 = evfix_end("st", 2, 0, 1, 0, 0, 0);
	assert_int_equal(stream_add(s, e2, STREAM_FROM_HTTPS, err, sizeof err), -1);
	json_decref(e2);
	stream_free(s);
}

static void jsonl_has_every_event_once(void **state)
{
	char path[] = "/tmp/sv-test-stream-XXXXXX";
	int fd = mkstemp(path);
	struct stream *s;
	FILE *f;
	char line[4096];
	int n = 0;
	(void)state;
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	s = stream_new("st", path, 0);
	assert_non_null(s);
	for (int i = 1; i <= 100; i++)
		add(s, i % 2 ? evfix_log("st", i) : evfix_test("st", i, "t", "passed"), STREAM_FROM_HTTPS);
	for (int i = 1; i <= 100; i++)
		add(s, evfix_log("st", i), STREAM_FROM_HTTPS); /* duplicates: not written again */
	assert_int_equal(stream_flush(s), 0);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof line, f)) {
		json_t *ev = json_loads(line, 0, NULL);
		assert_non_null(ev);
		assert_int_equal(json_integer_value(json_object_get(ev, "seq")), n + 1);
		json_decref(ev);
		n++;
	}
	fclose(f);
	assert_int_equal(n, 100);
	stream_free(s);
	unlink(path);
}

static void bounded_by_max_events(void **state)
{
	struct stream *s = stream_new("st", NULL, 10);
	char err[200];
	json_t *ev = evfix_test("st", 11, "x", "passed");
	(void)state;
	assert_int_equal(stream_add(s, ev, STREAM_FROM_HTTPS, err, sizeof err), -1);
	json_decref(ev);
	assert_int_equal(add(s, evfix_test("st", 10, "x", "passed"), STREAM_FROM_HTTPS), 1);
	stream_free(s);
	stream_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(in_order_and_duplicates),
		cmocka_unit_test(gaps_from_fallback),
		cmocka_unit_test(refuses_bad_events),
		cmocka_unit_test(complete_stream),
		cmocka_unit_test(complete_without_logs_from_fallback),
		cmocka_unit_test(incomplete_when_a_result_is_missing),
		cmocka_unit_test(second_end_refused),
		cmocka_unit_test(jsonl_has_every_event_once),
		cmocka_unit_test(bounded_by_max_events),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
