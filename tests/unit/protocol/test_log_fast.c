/*
 * The direct `log` event path: pr_utf8_lossy + pr_json_quote (protocol/event.c) give the
 * bytes jansson gives, and events_emit_log() (agents/events.c) delivers the same text and
 * the same stamped object as building the event and events_emit().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agents/events.h"
#include "protocol/protocol.h"

static void check_quote(const char *s, size_t len)
{
	json_t *j = pr_string_lossy(s, len);
	char *want = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
	char *lossy = malloc(3 * len + 1), *got = malloc(18 * len + 3);
	size_t n, q;

	assert_non_null(want);
	n = pr_utf8_lossy(s, len, lossy);
	assert_true(pr_utf8_valid(lossy, n));
	q = pr_json_quote(lossy, n, got);
	got[q] = '\0';
	assert_string_equal(got, want);
	free(want);
	free(lossy);
	free(got);
	json_decref(j);
}

static void test_quote_matches_jansson(void **state)
{
	static const char *const fixed[] = {"", "plain", "quote \" back \\ slash /", "\t\n\r\b\f",
					    "\x01\x1f\x7f", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
					    "bad \xff \xc3 \xed\xa0\x80 \xf4\x90\x80\x80 \xc0\xaf", "\xe2\x80\xa8"};
	unsigned seed = 12345;
	char buf[300];

	(void)state;
	for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
		check_quote(fixed[i], strlen(fixed[i]));
	check_quote("nul\0byte", 8);
	for (int round = 0; round < 2000; round++) {
		size_t len = (size_t)(round % 300);
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = (char)(seed >> 16);
		}
		check_quote(buf, len);
	}
	assert_false(pr_utf8_valid("a\xff", 2));
	assert_false(pr_utf8_valid("a\0", 2));
	assert_true(pr_utf8_valid("a\xc3\xa9", 3));
}

struct capture {
	char text[PR_EVENT_MAX + 1];
	size_t len;
	int calls;
	json_t *kept;
};

static void capture_sink(void *arg, json_t *event, const char *compact, size_t len)
{
	struct capture *c = arg;
	char *again = pr_event_encode(event, NULL);

	/* The object the sinks get encodes to the text they get. */
	assert_non_null(again);
	assert_string_equal(again, compact);
	assert_int_equal(strlen(compact), len);
	free(again);
	memcpy(c->text, compact, len + 1);
	c->len = len;
	c->calls++;
}

static void keeping_sink(void *arg, json_t *event, const char *compact, size_t len)
{
	struct capture *c = arg;

	(void)compact;
	(void)len;
	json_decref(c->kept);
	c->kept = json_incref(event);
}

/* The two texts with their timestamps blanked ("ts":"<24 characters>"). */
static void assert_same_but_ts(char *a, char *b)
{
	char *ta = strstr(a, "\"ts\":\""), *tb = strstr(b, "\"ts\":\"");

	assert_non_null(ta);
	assert_non_null(tb);
	memset(ta + 6, 'x', PR_TS_LEN);
	memset(tb + 6, 'x', PR_TS_LEN);
	assert_string_equal(a, b);
}

static void emit_both(struct events *fast, struct capture *cf, struct events *slow,
		      struct capture *cs, const char *process, int fd, const char *line, size_t len,
		      bool cont)
{
	json_t *e = pr_event_new(PR_TYPE_LOG);
	int rf, rs;

	json_object_set_new(e, "process", json_string(process));
	json_object_set_new(e, "fd", json_string(fd == 2 ? "stderr" : "stdout"));
	json_object_set_new(e, "line", pr_string_lossy(line, len));
	if (cont)
		json_object_set_new(e, "cont", json_true());
	cf->text[0] = cs->text[0] = '\0';
	rf = events_emit_log(fast, process, fd, line, len, cont);
	rs = events_emit(slow, e);
	assert_int_equal(rf, rs);
	assert_int_equal(cf->calls, cs->calls);
	assert_int_equal(events_last_seq(fast), events_last_seq(slow));
	if (rf == 0)
		assert_same_but_ts(cf->text, cs->text);
}

static void test_emit_log_matches_emit(void **state)
{
	struct events *fast = events_new("s-1"), *slow = events_new("s-1");
	static struct capture cf, cs, keep;
	static char big[70000];
	unsigned seed = 7;
	char buf[200];
	json_t *old;

	(void)state;
	assert_non_null(fast);
	assert_non_null(slow);
	assert_int_equal(events_add_sink(fast, capture_sink, &cf), 0);
	assert_int_equal(events_add_sink(slow, capture_sink, &cs), 0);
	emit_both(fast, &cf, slow, &cs, "web", 1, "hello", 5, false);
	assert_non_null(strstr(cf.text, "\"seq\":1,"));
	emit_both(fast, &cf, slow, &cs, "web", 2, "part \"q\" \x01 \xff", 13, true);
	assert_non_null(strstr(cf.text, ",\"cont\":true}"));
	emit_both(fast, &cf, slow, &cs, "web", 1, "after cont", 10, false);
	assert_null(strstr(cf.text, "\"cont\":"));
	emit_both(fast, &cf, slow, &cs, "w\xc3\xa9" "b \"x\"", 1, "", 0, false);
	emit_both(fast, &cf, slow, &cs, "bad\xff" "", 1, "x", 1, false); /* invalid name: dropped */
	for (int round = 0; round < 300; round++) {
		size_t len = (size_t)(round % 200);
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = (char)(seed >> 16);
		}
		emit_both(fast, &cf, slow, &cs, "gen", round % 2 ? 1 : 2, buf, len, round % 3 == 0);
	}
	/* Long lines: the general path, same result; too large: refused by both. */
	memset(big, 'a', sizeof big);
	emit_both(fast, &cf, slow, &cs, "gen", 1, big, 9000, false);
	emit_both(fast, &cf, slow, &cs, "gen", 1, big, 65000, false);
	memset(big, '\x01', 10000);
	emit_both(fast, &cf, slow, &cs, "gen", 1, big, 10000, false);
	emit_both(fast, &cf, slow, &cs, "gen", 1, big, 8000, false);

	/* The same totals in `end`. */
	{
		struct events *f2 = events_new("s-2"), *s2 = events_new("s-2");
		static struct capture c2f, c2s;

		assert_int_equal(events_add_sink(f2, capture_sink, &c2f), 0);
		assert_int_equal(events_add_sink(s2, capture_sink, &c2s), 0);
		for (int i = 0; i < 5; i++)
			emit_both(f2, &c2f, s2, &c2s, "gen", 1, "x", 1, i == 2);
		assert_int_equal(events_emit_end(f2, 0), 0);
		assert_int_equal(events_emit_end(s2, 0), 0);
		assert_non_null(strstr(c2f.text, "\"events\":5,"));
		assert_same_but_ts(c2f.text, c2s.text);
		events_free(f2);
		events_free(s2);
	}

	/* A sink that keeps the object: what it kept does not change with the next line. */
	assert_int_equal(events_add_sink(fast, keeping_sink, &keep), 0);
	assert_int_equal(events_emit_log(fast, "gen", 1, "first", 5, false), 0);
	old = json_incref(keep.kept);
	assert_int_equal(events_emit_log(fast, "gen", 1, "second", 6, false), 0);
	assert_ptr_not_equal(old, keep.kept);
	assert_string_equal(json_string_value(json_object_get(old, "line")), "first");
	assert_string_equal(json_string_value(json_object_get(keep.kept, "line")), "second");
	json_decref(old);
	json_decref(keep.kept);
	keep.kept = NULL;

	/* After `end` nothing more. */
	assert_int_equal(events_emit_end(fast, 0), 0);
	assert_int_equal(events_emit_log(fast, "gen", 1, "late", 4, false), -1);
	events_free(fast);
	events_free(slow);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quote_matches_jansson),
		cmocka_unit_test(test_emit_log_matches_emit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
