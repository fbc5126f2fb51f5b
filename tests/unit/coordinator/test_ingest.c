/* Unit tests of coordinator/ingest.c without the loop: batch handling, paths, tokens. */
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
#include "ingest.h"
#include "protocol/protocol.h"

static char *body_of(const char *sid, long long first, int n)
{
	json_t *events = json_array();
	char *text;
	for (int i = 0; i < n; i++)
		json_array_append_new(events, i % 2 ? evfix_log(sid, first + i) : evfix_test(sid, first + i, "t", "passed"));
	text = pr_batch_encode(sid, events, NULL);
	json_decref(events);
	return text;
}

static int post(struct stream *s, const char *body, char *answer)
{
	return ingest_handle_batch(s, body, strlen(body), answer, PR_RESPONSE_MAX);
}

static void stores_and_acks(void **state)
{
	struct stream *s = stream_new("b-1", NULL, 0);
	char answer[PR_RESPONSE_MAX];
	char *b = body_of("b-1", 1, 10);
	(void)state;
	assert_int_equal(post(s, b, answer), 200);
	assert_string_equal(answer, "{\"ack\":10}");
	/* The answer was lost: the resend is a no-op. */
	assert_int_equal(post(s, b, answer), 200);
	assert_string_equal(answer, "{\"ack\":10}");
	assert_int_equal(stream_tally(s).stored, 10);
	free(b);
	/* Overlap: 6..15 stores 11..15 only. */
	b = body_of("b-1", 6, 10);
	assert_int_equal(post(s, b, answer), 200);
	assert_string_equal(answer, "{\"ack\":15}");
	assert_int_equal(stream_tally(s).stored, 15);
	free(b);
	stream_free(s);
}

static void gap_asks_for_resend(void **state)
{
	struct stream *s = stream_new("b-1", NULL, 0);
	char answer[PR_RESPONSE_MAX];
	char *b = body_of("b-1", 5, 3);
	(void)state;
	assert_int_equal(post(s, b, answer), 200);
	assert_string_equal(answer, "{\"ack\":0,\"resend_from\":1}");
	assert_int_equal(stream_tally(s).stored, 0);
	free(b);
	stream_free(s);
}

static void control_flags(void **state)
{
	struct stream *s = stream_new("b-1", NULL, 0);
	char answer[PR_RESPONSE_MAX];
	(void)state;
	stream_set_cancel(s, true);
	assert_int_equal(post(s, "{\"v\":1,\"stream\":\"b-1\",\"events\":[]}", answer), 200);
	assert_string_equal(answer, "{\"ack\":0,\"control\":{\"cancel\":true,\"detach\":false}}");
	stream_free(s);
}

static void malformed_is_400_and_stores_nothing(void **state)
{
	struct stream *s = stream_new("b-1", NULL, 0);
	char answer[PR_RESPONSE_MAX];
	const char *bad[] = {
		"",
		"garbage",
		"{\"v\":1,\"stream\":\"b-1\",\"events\":[",
		"{\"v\":2,\"stream\":\"b-1\",\"events\":[]}",
		"{\"v\":1,\"stream\":\"b-2\",\"events\":[]}",
		"{\"v\":1,\"v\":1,\"stream\":\"b-1\",\"events\":[]}",
		"{\"v\":1,\"stream\":\"b-1\",\"events\":[{\"v\":1,\"stream\":\"b-1\",\"seq\":100001,"
		"\"ts\":\"2026-11-26T06:40:00.123Z\",\"type\":\"metric\",\"name\":\"m\",\"value\":1}]}",
		"{\"v\":1,\"stream\":\"b-1\",\"events\":[{\"v\":1,\"stream\":\"b-1\",\"seq\":1,"
		"\"ts\":\"2026-11-26T06:40:00.123Z\",\"type\":\"log\",\"process\":\"p\",\"fd\":\"stdout\",\"line\":\"\xff\xfe\"}]}",
	};
	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int st = post(s, bad[i], answer);
		if (st != 400)
			fail_msg("case %zu: status %d (%s)", i, st, answer);
		assert_true(strlen(answer) > 0);
	}
	assert_int_equal(stream_tally(s).stored, 0);
	assert_int_equal(stream_ack(s), 0);
	stream_free(s);
}

static void oversize_is_413(void **state)
{
	struct stream *s = stream_new("b-1", NULL, 0);
	char answer[PR_RESPONSE_MAX];
	size_t n = PR_BODY_MAX + 10;
	char *big = malloc(n + 1);
	(void)state;
	memset(big, ' ', n);
	big[n] = '\0';
	assert_int_equal(ingest_handle_batch(s, big, n, answer, sizeof answer), 413);
	free(big);
	stream_free(s);
}

static void paths(void **state)
{
	char id[65];
	(void)state;
	assert_int_equal(ingest_parse_path("/v1/streams/sv-1a.b_c/events", id, sizeof id), 0);
	assert_string_equal(id, "sv-1a.b_c");
	assert_int_equal(ingest_parse_path("/v1/streams//events", id, sizeof id), -1);
	assert_int_equal(ingest_parse_path("/v1/streams/a/b/events", id, sizeof id), -1);
	assert_int_equal(ingest_parse_path("/v1/streams/a/events/x", id, sizeof id), -1);
	assert_int_equal(ingest_parse_path("/v2/streams/a/events", id, sizeof id), -1);
	assert_int_equal(ingest_parse_path("/v1/streams/a%20b/events", id, sizeof id), -1);
}

static void tokens(void **state)
{
	unsigned char r1[PR_TOKEN_RANDOM], r2[PR_TOKEN_RANDOM];
	char t1[PR_TOKEN_LEN + 1], t2[PR_TOKEN_LEN + 1], hdr[100];
	(void)state;
	memset(r1, 1, sizeof r1);
	memset(r2, 2, sizeof r2);
	pr_token_format(r1, t1);
	pr_token_format(r2, t2);
	snprintf(hdr, sizeof hdr, "Bearer %s", t1);
	assert_true(ingest_token_ok(hdr, t1));
	assert_false(ingest_token_ok(hdr, t2)); /* another stream's token */
	snprintf(hdr, sizeof hdr, "bearer %s", t1);
	assert_true(ingest_token_ok(hdr, t1));
	assert_false(ingest_token_ok(NULL, t1));
	assert_false(ingest_token_ok("", t1));
	assert_false(ingest_token_ok("Basic dXNlcjpwYXNz", t1));
	snprintf(hdr, sizeof hdr, "Bearer %.*s", (int)strlen(t1) - 1, t1);
	assert_false(ingest_token_ok(hdr, t1));
}

#define EV(seq, extra) "{\"v\":1,\"stream\":\"b-1\",\"seq\":" #seq ",\"ts\":\"2026-11-26T06:40:00.123Z\"," \
                       "\"type\":\"test\",\"name\":\"t" #seq "\",\"status\":\"passed\"" extra "}"

/* The scanner that finds each event's own bytes in a body (so they are stored and written
 * without a second encoding): other members before "events", nested "events" keys, strings
 * with escaped quotes, backslashes and brackets; whitespace; and what it must give up on. */
static void event_spans(void **state)
{
	const char *e1 = EV(1, ",\"message\":\"a \\\"quoted\\\" ], {x} \\\\\"");
	const char *e2 = EV(2, ",\"x\":{\"events\":[1,2]},\"y\":[\"]\",\"\\\\\"]");
	char body[2048];
	struct ingest_span sp[3];
	(void)state;
	snprintf(body, sizeof body, "{\"v\":1,\"z\":{\"events\":[{\"a\":\"]\"}]},\"stream\":\"b-1\",\"events\":[%s,%s]}", e1, e2);
	assert_int_equal(ingest_event_spans(body, strlen(body), sp, 2), 0);
	assert_int_equal(sp[0].len, strlen(e1));
	assert_memory_equal(body + sp[0].off, e1, strlen(e1));
	assert_int_equal(sp[1].len, strlen(e2));
	assert_memory_equal(body + sp[1].off, e2, strlen(e2));
	/* The count must match exactly. */
	assert_int_equal(ingest_event_spans(body, strlen(body), sp, 1), -1);
	assert_int_equal(ingest_event_spans(body, strlen(body), sp, 3), -1);
	/* Whitespace between and inside elements: found, but an element with whitespace outside
	 * its strings is marked (len 0) so that it is encoded again. */
	snprintf(body, sizeof body, " {\n \"v\" : 1 ,\"stream\":\"b-1\", \"events\" : [ %s ,\n {\"seq\": 2} ] }\n", e1);
	assert_int_equal(ingest_event_spans(body, strlen(body), sp, 2), 0);
	assert_int_equal(sp[0].len, strlen(e1));
	assert_memory_equal(body + sp[0].off, e1, strlen(e1));
	assert_int_equal(sp[1].len, 0);
	/* A key written with an escape is not recognised: the caller encodes instead. */
	snprintf(body, sizeof body, "{\"v\":1,\"stream\":\"b-1\",\"ev\\u0065nts\":[%s]}", e1);
	assert_int_equal(ingest_event_spans(body, strlen(body), sp, 1), -1);
	snprintf(body, sizeof body, "{\"v\":1,\"stream\":\"b-1\",\"events\":[]}");
	assert_int_equal(ingest_event_spans(body, strlen(body), sp, 0), 0);
}

/* What a batch stores and writes: the events' own bytes, one JSONL line each, in seq order;
 * an event with whitespace is encoded compactly instead; the kept results decode again. */
static void batch_bytes_stored_and_written_once(void **state)
{
	char path[] = "/tmp/sv-test-ingest-XXXXXX";
	int fd = mkstemp(path);
	const char *e1 = EV(1, ",\"message\":\"\\u00e9 \\\"q\\\"\"");
	const char *e2 = "{\"v\":1, \"stream\":\"b-1\",\"seq\":2,\"ts\":\"2026-11-26T06:40:00.123Z\",\"type\":\"log\","
	                 "\"process\":\"p\",\"fd\":\"stdout\",\"line\":\"x y\"}";
	const char *e3 = EV(3, "");
	char body[2048], answer[PR_RESPONSE_MAX], line[1024];
	struct stream *s;
	json_t *ev;
	FILE *f;
	(void)state;
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	s = stream_new("b-1", path, 0);
	assert_non_null(s);
	snprintf(body, sizeof body, "{\"v\":1,\"stream\":\"b-1\",\"events\":[%s,%s,%s]}", e1, e2, e3);
	assert_int_equal(post(s, body, answer), 200);
	assert_string_equal(answer, "{\"ack\":3}");
	assert_int_equal(post(s, body, answer), 200); /* a resend: nothing written twice */
	assert_string_equal(stream_text(s, 1), e1);
	assert_null(stream_text(s, 2)); /* a log line: counted and written, not kept */
	assert_int_equal(stream_kind(s, 2), STREAM_KIND_LOG);
	assert_string_equal(stream_text(s, 3), e3);
	ev = stream_load(s, 1);
	assert_non_null(ev);
	assert_string_equal(json_string_value(json_object_get(ev, "message")), "\xc3\xa9 \"q\"");
	json_decref(ev);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof line, f));
	assert_int_equal(strlen(line), strlen(e1) + 1);
	assert_memory_equal(line, e1, strlen(e1));
	assert_non_null(fgets(line, sizeof line, f));
	assert_null(strstr(line, "\"v\":1, ")); /* re-encoded compactly */
	ev = json_loads(line, 0, NULL);
	assert_non_null(ev);
	assert_string_equal(json_string_value(json_object_get(ev, "line")), "x y");
	json_decref(ev);
	assert_non_null(fgets(line, sizeof line, f));
	assert_memory_equal(line, e3, strlen(e3));
	assert_null(fgets(line, sizeof line, f));
	fclose(f);
	stream_free(s);
	unlink(path);
}

/* Property: for bodies encoded every way jansson can (compact, indented, default separators,
 * ASCII escapes, members in any order, nested "events" keys, strings full of quotes,
 * backslashes and brackets), the scanner finds every element, and each span it returns
 * decodes to exactly that element. */
static void event_spans_match_jansson(void **state)
{
	static const char *const bits[] = {"\"", "\\", "]", "[", "{", "}", ",", ":", " ", "\xc3\xa9", "\\\"", "a"};
	static const size_t flags[] = {JSON_COMPACT, JSON_INDENT(2), 0, JSON_COMPACT | JSON_ENSURE_ASCII,
	                               JSON_INDENT(1) | JSON_COMPACT};
	unsigned seed = 12345;
	(void)state;
	for (int iter = 0; iter < 400; iter++) {
		json_t *root = json_object(), *events = json_array(), *z = json_object();
		size_t n = (size_t)(iter % 7), fl = flags[iter % 5];
		struct ingest_span sp[8];
		char *body;
		for (size_t i = 0; i < n; i++) {
			char str[64] = "";
			for (int k = 0; k < 6; k++) {
				seed = seed * 1103515245u + 12345u;
				strcat(str, bits[(seed >> 16) % 12]);
			}
			json_t *ev = evfix_test("b-1", (long long)i + 1, "x", "passed");
			assert_non_null(ev);
			json_object_set_new(ev, "name", json_string(str));
			json_object_set_new(ev, "nested", json_pack("{s:[s,{s:[]}]}", "events", str, "events"));
			json_array_append_new(events, ev);
		}
		json_object_set_new(z, "events", json_pack("[s,{s:s}]", "]", "events", "[\"x"));
		if (iter % 2)
			json_object_set_new(root, "z", z);
		json_object_set_new(root, "v", json_integer(1));
		if (iter % 3 == 0)
			json_object_set_new(root, "events", events);
		json_object_set_new(root, "stream", json_string("b-1"));
		if (iter % 3 != 0)
			json_object_set_new(root, "events", events);
		if (!(iter % 2))
			json_object_set_new(root, "z", z);
		assert_int_equal(json_array_size(events), n);
		body = json_dumps(root, fl);
		assert_non_null(body);
		assert_int_equal(ingest_event_spans(body, strlen(body), sp, n), 0);
		for (size_t i = 0; i < n; i++) {
			json_t *back;
			if (sp[i].len == 0) {
				assert_true(fl != JSON_COMPACT && fl != (JSON_COMPACT | JSON_ENSURE_ASCII));
				continue;
			}
			back = json_loadb(body + sp[i].off, sp[i].len, 0, NULL);
			assert_non_null(back);
			assert_true(json_equal(back, json_array_get(events, i)));
			json_decref(back);
		}
		free(body);
		json_decref(root);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stores_and_acks),
		cmocka_unit_test(event_spans),
		cmocka_unit_test(event_spans_match_jansson),
		cmocka_unit_test(batch_bytes_stored_and_written_once),
		cmocka_unit_test(gap_asks_for_resend),
		cmocka_unit_test(control_flags),
		cmocka_unit_test(malformed_is_400_and_stores_nothing),
		cmocka_unit_test(oversize_is_413),
		cmocka_unit_test(paths),
		cmocka_unit_test(tokens),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
