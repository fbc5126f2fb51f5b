/* protocol/fallback.c: marker lines and rebuilding a stream from them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "protocol/protocol.h"

static const struct timespec T0 = {1795675200, 0};

static json_t *stamped(const char *json, const char *stream, uint64_t seq)
{
	json_error_t e;
	json_t *ev = json_loads(json, 0, &e);
	assert_non_null(ev);
	assert_int_equal(pr_event_stamp(ev, stream, seq, &T0, NULL), 0);
	return ev;
}

#define TEST_EV "{\"type\":\"test\",\"name\":\"t\",\"status\":\"passed\"}"
#define LOG_EV "{\"type\":\"log\",\"process\":\"p\",\"fd\":\"stdout\",\"line\":\"l\"}"

static void test_format_parse(void **state)
{
	json_t *ev = stamped(TEST_EV, "s", 4), *back = NULL, *lg = stamped(LOG_EV, "s", 5);
	struct pr_error err = {0};
	size_t len;
	char *line = pr_fallback_format(ev, &len);

	(void)state;
	assert_true(pr_fallback_wanted(ev));
	assert_false(pr_fallback_wanted(lg));
	assert_non_null(line);
	assert_int_equal(len, strlen(line));
	assert_memory_equal(line, "@@stagevisor {\"v\":1,", 20);
	assert_int_equal(line[len - 1], '\n');
	assert_null(memchr(line, '\n', len - 1));
	assert_int_equal(pr_fallback_parse_line(line, len, &back, &err), 1);
	assert_true(json_equal(ev, back));
	json_decref(back);
	/* CRLF and no newline at all */
	line[len - 1] = '\r';
	char *crlf = malloc(len + 1);
	memcpy(crlf, line, len);
	crlf[len] = '\n';
	assert_int_equal(pr_fallback_parse_line(crlf, len + 1, &back, &err), 1);
	json_decref(back);
	assert_int_equal(pr_fallback_parse_line(line, len - 1, &back, &err), 1);
	json_decref(back);
	free(crlf);
	/* not marker lines */
	assert_int_equal(pr_fallback_parse_line("", 0, &back, &err), 0);
	assert_int_equal(pr_fallback_parse_line("@@stagevisor", 12, &back, &err), 0);
	assert_int_equal(pr_fallback_parse_line("@@stagevisor{}", 14, &back, &err), 0);
	assert_null(back);
	/* a marked line that is not an event */
	assert_int_equal(pr_fallback_parse_line("@@stagevisor [1]", 16, &back, &err), -1);
	assert_int_equal(pr_fallback_parse_line("@@stagevisor {}", 15, &back, &err), -1);
	assert_int_equal(pr_fallback_parse_line("@@stagevisor \xff", 14, &back, &err), -1);
	assert_null(back);
	free(line);
	json_decref(ev);
	json_decref(lg);
}

static void test_oversized_line(void **state)
{
	size_t n = PR_FALLBACK_MARKER_LEN + PR_EVENT_MAX + 1;
	char *line = malloc(n);
	json_t *ev = NULL;
	struct pr_error err = {0};

	(void)state;
	memcpy(line, PR_FALLBACK_MARKER, PR_FALLBACK_MARKER_LEN);
	memset(line + PR_FALLBACK_MARKER_LEN, ' ', n - PR_FALLBACK_MARKER_LEN);
	assert_int_equal(pr_fallback_parse_line(line, n, &ev, &err), -1);
	assert_int_equal(err.status, 413);
	free(line);
}

static void add(struct pr_rebuild *rb, json_t *ev, int want)
{
	size_t len;
	char *line = pr_fallback_format(ev, &len);
	assert_int_equal(pr_rebuild_add_line(rb, line, len, NULL), want);
	free(line);
	json_decref(ev);
}

static void test_rebuild(void **state)
{
	struct pr_rebuild *rb = pr_rebuild_new("s", 3, 100);
	uint64_t end_seq = 99;
	json_t *out;
	struct pr_totals counted = {0}, claimed = {0};
	struct pr_error err = {0};

	(void)state;
	assert_non_null(rb);
	assert_null(pr_rebuild_new("bad stream", 0, 10));
	/* out of order, duplicated, with old seqs, another stream and plain output mixed in */
	add(rb, stamped(TEST_EV, "s", 9), 1);
	add(rb, stamped(TEST_EV, "s", 5), 1);
	add(rb, stamped(TEST_EV, "s", 2), 0);      /* <= after_seq */
	add(rb, stamped(TEST_EV, "other", 6), 0);  /* another stream */
	add(rb, stamped(TEST_EV, "s", 9), 1);      /* duplicate: removed when taking */
	assert_int_equal(pr_rebuild_add_line(rb, "hello\n", 6, NULL), 0);
	assert_int_equal(pr_rebuild_add_line(rb, "@@stagevisor nope\n", 18, &err), -1);
	claimed.events = 9;
	claimed.tests_passed = 2;
	claimed.logs = 6;
	json_t *end = pr_end_new(0, &claimed);
	assert_int_equal(pr_event_stamp(end, "s", 10, &T0, NULL), 0);
	add(rb, end, 1);
	out = pr_rebuild_take(rb, &end_seq);
	assert_int_equal(json_array_size(out), 3);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(out, 0), "seq")), 5);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(out, 1), "seq")), 9);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(out, 2), "seq")), 10);
	assert_int_equal(end_seq, 10);
	for (size_t i = 0; i < json_array_size(out); i++)
		pr_totals_count(&counted, json_array_get(out, i));
	assert_int_equal(pr_totals_compare(&counted, &claimed, false, &err), 0);
	assert_int_equal(pr_totals_compare(&counted, &claimed, true, &err), -1);
	json_decref(out);
	/* taken: the rebuild is empty */
	out = pr_rebuild_take(rb, &end_seq);
	assert_int_equal(json_array_size(out), 0);
	assert_int_equal(end_seq, 0);
	json_decref(out);
	pr_rebuild_free(rb);
	pr_rebuild_free(NULL);
}

static void test_rebuild_bound(void **state)
{
	struct pr_rebuild *rb = pr_rebuild_new("s", 0, 2);
	struct pr_error err = {0};
	json_t *ev = stamped(TEST_EV, "s", 3);
	size_t len;
	char *line;

	(void)state;
	add(rb, stamped(TEST_EV, "s", 1), 1);
	add(rb, stamped(TEST_EV, "s", 2), 1);
	line = pr_fallback_format(ev, &len);
	assert_int_equal(pr_rebuild_add_line(rb, line, len, &err), -1);
	assert_int_equal(err.status, 413);
	free(line);
	json_decref(ev);
	pr_rebuild_free(rb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_parse),
		cmocka_unit_test(test_oversized_line),
		cmocka_unit_test(test_rebuild),
		cmocka_unit_test(test_rebuild_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
