/* protocol/event.c: times, stream ids, stamping, validation, lossy strings, totals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "protocol/protocol.h"

static void test_ts_format_known(void **state)
{
	char out[PR_TS_LEN + 1];
	struct timespec ts = {0, 0}, back;

	(void)state;
	assert_int_equal(pr_ts_format(&ts, out), 0);
	assert_string_equal(out, "1970-01-01T00:00:00.000Z");
	ts.tv_sec = 1795675200; /* 2026-11-26T06:40:00Z */
	ts.tv_nsec = 123999999; /* truncated, not rounded */
	assert_int_equal(pr_ts_format(&ts, out), 0);
	assert_string_equal(out, "2026-11-26T06:40:00.123Z");
	ts.tv_sec = 951782400; /* 2000-02-29 */
	ts.tv_nsec = 0;
	assert_int_equal(pr_ts_format(&ts, out), 0);
	assert_string_equal(out, "2000-02-29T00:00:00.000Z");
	ts.tv_sec = -1;
	assert_int_equal(pr_ts_format(&ts, out), 0);
	assert_string_equal(out, "1969-12-31T23:59:59.000Z");
	assert_int_equal(pr_ts_parse(out, &back), 0);
	assert_int_equal(back.tv_sec, -1);
	ts.tv_nsec = 1000000000;
	assert_int_equal(pr_ts_format(&ts, out), -1);
	ts.tv_nsec = 0;
	ts.tv_sec = 253402300800LL; /* year 10000 */
	assert_int_equal(pr_ts_format(&ts, out), -1);
}

/* Every second-ish step over 400 years round-trips and agrees with gmtime_r. */
static void test_ts_roundtrip_against_gmtime(void **state)
{
	(void)state;
	for (long long t = -2208988800LL; t < 11000000000LL; t += 86400LL * 37 + 3607) {
		struct timespec ts = {(time_t)t, 456000000}, back;
		char out[PR_TS_LEN + 1], ref[64];
		struct tm tm;
		time_t tt = (time_t)t;
		assert_int_equal(pr_ts_format(&ts, out), 0);
		assert_non_null(gmtime_r(&tt, &tm));
		strftime(ref, sizeof ref, "%Y-%m-%dT%H:%M:%S.456Z", &tm);
		assert_string_equal(out, ref);
		assert_int_equal(pr_ts_parse(out, &back), 0);
		assert_int_equal(back.tv_sec, ts.tv_sec);
		assert_int_equal(back.tv_nsec, ts.tv_nsec);
	}
}

static void test_ts_parse_rejects(void **state)
{
	static const char *const bad[] = {
		"2026-11-26T06:40:00Z", "2026-11-26T06:40:00.123", "2026-11-26 06:40:00.123Z",
		"2026-13-26T06:40:00.123Z", "2026-02-30T06:40:00.123Z", "2025-02-29T06:40:00.123Z",
		"2026-11-26T24:00:00.123Z", "2026-11-26T06:60:00.123Z", "2026-11-26T06:40:00.123z",
		"2026-11-26T06:40:00.1234Z", "+026-11-26T06:40:00.123Z", "", NULL};
	(void)state;
	for (size_t i = 0; bad[i]; i++)
		assert_int_equal(pr_ts_parse(bad[i], NULL), -1);
	assert_int_equal(pr_ts_parse(NULL, NULL), -1);
	assert_int_equal(pr_ts_parse("2024-02-29T23:59:59.999Z", NULL), 0);
}

static void test_stream_ids(void **state)
{
	char s[80];

	(void)state;
	assert_true(pr_stream_valid("a"));
	assert_true(pr_stream_valid("build-42.unit_A"));
	assert_false(pr_stream_valid(""));
	assert_false(pr_stream_valid(NULL));
	assert_false(pr_stream_valid("a b"));
	assert_false(pr_stream_valid("a/b"));
	assert_false(pr_stream_valid("caf\xc3\xa9"));
	memset(s, 'x', 64);
	s[64] = '\0';
	assert_true(pr_stream_valid(s));
	s[64] = 'x';
	s[65] = '\0';
	assert_false(pr_stream_valid(s));
}

static void test_types(void **state)
{
	(void)state;
	for (int t = PR_TYPE_STAGE; t <= PR_TYPE_END; t++)
		assert_int_equal(pr_type_from_name(pr_type_name((enum pr_type)t)), t);
	assert_null(pr_type_name(PR_TYPE_INVALID));
	assert_int_equal(pr_type_from_name("Log"), PR_TYPE_INVALID);
	assert_true(pr_type_is_result(PR_TYPE_TEST));
	assert_true(pr_type_is_result(PR_TYPE_FINDING));
	assert_true(pr_type_is_result(PR_TYPE_METRIC));
	assert_false(pr_type_is_result(PR_TYPE_LOG));
	assert_false(pr_type_is_result(PR_TYPE_END));
	assert_null(pr_event_new(PR_TYPE_INVALID));
}

static const struct timespec T0 = {1795675200, 5000000};

static void test_stamp_puts_envelope_first(void **state)
{
	json_t *ev = pr_event_new(PR_TYPE_LOG);
	struct pr_error err = {0};
	char *enc;
	size_t n;

	(void)state;
	json_object_set_new(ev, "process", json_string("php"));
	json_object_set_new(ev, "fd", json_string("stderr"));
	json_object_set_new(ev, "line", json_string("warning: x"));
	assert_int_equal(pr_event_stamp(ev, "s1", 17, &T0, &err), 0);
	assert_int_equal(pr_event_validate(ev, &err), 0);
	enc = pr_event_encode(ev, &n);
	assert_string_equal(enc, "{\"v\":1,\"stream\":\"s1\",\"seq\":17,\"ts\":\"2026-11-26T06:40:00.005Z\","
				 "\"type\":\"log\",\"process\":\"php\",\"fd\":\"stderr\",\"line\":\"warning: x\"}");
	assert_int_equal(n, strlen(enc));
	assert_int_equal(pr_event_size(ev), n);
	free(enc);
	/* a re-stamp replaces the envelope */
	assert_int_equal(pr_event_stamp(ev, "s2", 18, &T0, &err), 0);
	assert_string_equal(json_string_value(json_object_get(ev, "stream")), "s2");
	assert_int_equal(json_integer_value(json_object_get(ev, "seq")), 18);
	assert_int_equal(json_object_size(ev), 8);
	json_decref(ev);
}

static void test_stamp_refuses_invalid_and_oversized(void **state)
{
	json_t *ev = pr_event_new(PR_TYPE_TEST);
	struct pr_error err = {0};
	char *big;

	(void)state;
	json_object_set_new(ev, "name", json_string("t"));
	assert_int_equal(pr_event_stamp(ev, "s", 1, &T0, &err), -1);
	assert_non_null(strstr(err.text, "status"));
	assert_null(json_object_get(ev, "seq"));
	json_object_set_new(ev, "status", json_string("passed"));
	assert_int_equal(pr_event_stamp(ev, "bad stream", 1, &T0, &err), -1);
	assert_int_equal(pr_event_stamp(ev, "s", 0, &T0, &err), -1);
	assert_int_equal(pr_event_stamp(ev, "s", PR_SEQ_MAX + 1, &T0, &err), -1);
	/* just over the size bound: refused, and the envelope is removed again */
	big = malloc(PR_EVENT_MAX + 1);
	memset(big, 'a', PR_EVENT_MAX);
	big[PR_EVENT_MAX - 300] = '\0';
	json_object_set_new(ev, "details", json_string(big));
	assert_int_equal(pr_event_stamp(ev, "s", 1, &T0, &err), 0);
	assert_true(pr_event_size(ev) <= PR_EVENT_MAX);
	big[PR_EVENT_MAX - 300] = 'a';
	big[PR_EVENT_MAX] = '\0';
	json_object_set_new(ev, "details", json_string(big));
	assert_int_equal(pr_event_stamp(ev, "s", 1, &T0, &err), -1);
	assert_int_equal(err.status, 413);
	assert_null(json_object_get(ev, "v"));
	assert_null(json_object_get(ev, "seq"));
	assert_null(pr_event_encode(ev, NULL));
	free(big);
	json_decref(ev);
}

static json_t *parse(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, JSON_ALLOW_NUL, &e);
	assert_non_null(j);
	return j;
}

static void expect_body(const char *json, int rc, const char *words)
{
	struct pr_error err = {0};
	json_t *ev = parse(json);
	int got = pr_event_check_body(ev, &err);

	if (got != rc)
		print_error("%s -> %d (%s)\n", json, got, err.text);
	assert_int_equal(got, rc);
	if (words)
		assert_non_null(strstr(err.text, words));
	json_decref(ev);
}

static void test_body_rules(void **state)
{
	(void)state;
	expect_body("{\"type\":\"stage\",\"event\":\"stopping\",\"stage\":\"s\",\"mode\":\"job\"}", -1, "reason");
	expect_body("{\"type\":\"stage\",\"event\":\"stopping\",\"stage\":\"s\",\"mode\":\"job\",\"reason\":\"signal\"}", 0, NULL);
	expect_body("{\"type\":\"stage\",\"event\":\"ended\",\"stage\":\"s\",\"mode\":\"job\"}", -1, "result");
	expect_body("{\"type\":\"stage\",\"event\":\"ended\",\"stage\":\"s\",\"mode\":\"batch\",\"result\":0}", -1, "mode");
	expect_body("{\"type\":\"process\",\"event\":\"started\",\"process\":\"p\"}", -1, "pid");
	expect_body("{\"type\":\"process\",\"event\":\"failed\",\"process\":\"p\",\"reason\":\"dep\",\"last_lines\":[\"a\",1]}", -1, "last_lines[1]");
	expect_body("{\"type\":\"process\",\"event\":\"restarting\",\"process\":\"p\",\"pid\":2}", -1, "delay_ms");
	expect_body("{\"type\":\"process\",\"event\":\"exited\",\"process\":\"p\",\"status\":137,\"exit_code\":null,\"signal\":9,\"killed_by\":\"oom\"}", 0, NULL);
	expect_body("{\"type\":\"process\",\"event\":\"exited\",\"process\":\"p\",\"status\":1,\"killed_by\":\"me\"}", -1, "killed_by");
	expect_body("{\"type\":\"process\",\"event\":\"exited\",\"process\":\"p\",\"status\":1,\"run_ms\":-1}", -1, "run_ms");
	expect_body("{\"type\":\"log\",\"process\":\"p\",\"fd\":\"stdout\",\"line\":\"x\",\"cont\":1}", -1, "cont");
	expect_body("{\"type\":\"log\",\"process\":\"p\",\"fd\":\"stdout\",\"line\":\"x\",\"extra\":{\"ok\":true}}", 0, NULL);
	expect_body("{\"type\":\"test\",\"name\":\"t\",\"status\":\"passed\",\"time\":-0.5}", -1, "time");
	expect_body("{\"type\":\"test\",\"name\":\"t\",\"status\":\"passed\",\"time\":null,\"line\":null}", 0, NULL);
	expect_body("{\"type\":\"test\",\"name\":7,\"status\":\"passed\"}", -1, "name");
	expect_body("{\"type\":\"finding\",\"tool\":\"phpmd\",\"severity\":\"info\",\"message\":\"m\"}", -1, "fingerprint");
	expect_body("{\"type\":\"metric\",\"name\":\"m\",\"value\":\"1\"}", -1, "value");
	expect_body("{\"type\":\"end\",\"result\":0,\"totals\":{}}", -1, "totals");
	expect_body("{\"type\":\"log\",\"process\":\"p\",\"fd\":\"stdout\",\"line\":\"a\\u0000b\"}", -1, "NUL");
	expect_body("{\"type\":\"metric\",\"name\":\"m\",\"value\":1,\"x\":[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]}", -1, "nested");
	expect_body("{\"type\":\"metric\",\"name\":\"m\",\"value\":1,\"x\":[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]}", 0, NULL);
	expect_body("[]", -1, "object");
	expect_body("{\"name\":\"m\"}", -1, "type");
}

static void test_lossy(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *out;
	} cases[] = {
		{"plain", 5, "plain"},
		{"caf\xc3\xa9", 5, "caf\xc3\xa9"},
		{"a\xff" "b", 3, "a\xef\xbf\xbd" "b"},
		{"a\0b", 3, "a\xef\xbf\xbd" "b"},
		{"\xc3", 1, "\xef\xbf\xbd"},                       /* truncated sequence */
		{"\xe0\x80\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* overlong */
		{"\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* surrogate */
		{"\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80"},       /* emoji */
		{"\xf4\x90\x80\x80", 4, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
		{"", 0, ""},
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *s = pr_string_lossy(cases[i].in, cases[i].len);
		assert_non_null(s);
		assert_string_equal(json_string_value(s), cases[i].out);
		/* and what jansson encodes, it decodes */
		char *enc = json_dumps(s, JSON_ENCODE_ANY);
		json_error_t e;
		json_t *back = json_loads(enc, JSON_DECODE_ANY, &e);
		assert_non_null(back);
		assert_true(json_equal(s, back));
		json_decref(back);
		free(enc);
		json_decref(s);
	}
}

static void test_totals(void **state)
{
	static const char *const evs[] = {
		"{\"type\":\"test\",\"name\":\"a\",\"status\":\"passed\"}",
		"{\"type\":\"test\",\"name\":\"b\",\"status\":\"failed\"}",
		"{\"type\":\"test\",\"name\":\"c\",\"status\":\"error\"}",
		"{\"type\":\"test\",\"name\":\"d\",\"status\":\"skipped\"}",
		"{\"type\":\"test\",\"name\":\"e\",\"status\":\"passed\"}",
		"{\"type\":\"finding\",\"tool\":\"t\",\"severity\":\"warning\",\"message\":\"m\",\"fingerprint\":\"f\"}",
		"{\"type\":\"finding\",\"tool\":\"t\",\"severity\":\"info\",\"message\":\"m\",\"fingerprint\":\"g\"}",
		"{\"type\":\"metric\",\"name\":\"m\",\"value\":2.5}",
		"{\"type\":\"log\",\"process\":\"p\",\"fd\":\"stdout\",\"line\":\"l\"}",
		"{\"type\":\"stage\",\"event\":\"started\",\"stage\":\"s\",\"mode\":\"job\"}",
	};
	struct pr_totals t = {0}, back, other;
	struct pr_error err = {0};
	json_t *end, *copy;

	(void)state;
	for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++) {
		json_t *ev = parse(evs[i]);
		pr_totals_count(&t, ev);
		json_decref(ev);
	}
	t.shed_log = 3;
	assert_int_equal(t.events, 10);
	assert_int_equal(t.tests_passed, 2);
	assert_int_equal(t.tests_failed + t.tests_error + t.tests_skipped, 3);
	assert_int_equal(t.findings_warning + t.findings_info, 2);
	assert_int_equal(t.metrics, 1);
	assert_int_equal(t.logs, 1);
	end = pr_end_new(1, &t);
	assert_int_equal(pr_event_check_body(end, &err), 0);
	pr_totals_count(&t, end); /* end is not counted */
	assert_int_equal(t.events, 10);
	assert_int_equal(pr_totals_from_json(json_object_get(end, "totals"), &back, &err), 0);
	assert_memory_equal(&t, &back, sizeof t);
	assert_int_equal(pr_totals_compare(&back, &t, true, &err), 0);
	other = t;
	other.logs = 0;
	other.events = 9;
	assert_int_equal(pr_totals_compare(&other, &t, true, &err), -1);
	assert_non_null(strstr(err.text, "events"));
	assert_int_equal(pr_totals_compare(&other, &t, false, &err), 0);
	other.tests_failed++;
	assert_int_equal(pr_totals_compare(&other, &t, false, &err), -1);
	assert_non_null(strstr(err.text, "tests_failed"));
	copy = json_deep_copy(end);
	json_object_set_new(json_object_get(json_object_get(copy, "totals"), "shed"), "log",
			    json_integer(-1));
	assert_int_equal(pr_event_check_body(copy, &err), -1);
	assert_non_null(strstr(err.text, "shed.log"));
	json_decref(copy);
	json_decref(end);
}

static void test_shed_placeholder(void **state)
{
	char out[PR_SHED_PLACEHOLDER_MAX], stream[PR_STREAM_MAX + 1];
	json_error_t e;
	json_t *ev;
	struct pr_totals t = {0};
	int n;

	(void)state;
	memset(stream, 'x', PR_STREAM_MAX);
	stream[PR_STREAM_MAX] = '\0';
	/* the longest stream and seq fit */
	n = pr_shed_placeholder_format(stream, PR_SEQ_MAX, "2026-11-26T06:40:00.005Z", out, sizeof out);
	assert_true(n > 0);
	ev = json_loads(out, 0, &e);
	assert_non_null(ev);
	assert_int_equal(pr_event_validate(ev, NULL), 0);
	pr_totals_count(&t, ev);
	assert_int_equal(t.logs, 1);
	assert_int_equal(t.shed_log, 1);
	assert_int_equal(t.events, 1);
	json_decref(ev);
	assert_int_equal(pr_shed_placeholder_format("s", 1, "2026-11-26T06:40:00.005Z", out, 20), -1);
	assert_int_equal(pr_shed_placeholder_format("s", 0, "2026-11-26T06:40:00.005Z", out, sizeof out), -1);
	assert_int_equal(pr_shed_placeholder_format("s", 1, "yesterday", out, sizeof out), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ts_format_known),
		cmocka_unit_test(test_ts_roundtrip_against_gmtime),
		cmocka_unit_test(test_ts_parse_rejects),
		cmocka_unit_test(test_stream_ids),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_stamp_puts_envelope_first),
		cmocka_unit_test(test_stamp_refuses_invalid_and_oversized),
		cmocka_unit_test(test_body_rules),
		cmocka_unit_test(test_lossy),
		cmocka_unit_test(test_totals),
		cmocka_unit_test(test_shed_placeholder),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
