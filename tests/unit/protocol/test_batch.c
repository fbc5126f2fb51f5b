/* protocol/batch.c: paths, body encoding, decoding with every bound. */
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

static json_t *log_event(const char *stream, uint64_t seq, const char *line)
{
	json_t *ev = pr_event_new(PR_TYPE_LOG);
	json_object_set_new(ev, "process", json_string("p"));
	json_object_set_new(ev, "fd", json_string("stdout"));
	json_object_set_new(ev, "line", json_string(line));
	assert_int_equal(pr_event_stamp(ev, stream, seq, &T0, NULL), 0);
	return ev;
}

static json_t *events(const char *stream, uint64_t first, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, log_event(stream, first + i, "hello"));
	return a;
}

static void test_paths(void **state)
{
	char s[PR_STREAM_MAX + 1], out[128];

	(void)state;
	assert_int_equal(pr_path_stream("/v1/streams/abc.1/events", s), 0);
	assert_string_equal(s, "abc.1");
	assert_int_equal(pr_path_stream("/v1/streams/abc/events?x=1", s), 0);
	assert_string_equal(s, "abc");
	assert_int_equal(pr_path_stream("/v1/streams/abc/events/", s), -1);
	assert_int_equal(pr_path_stream("/v1/streams//events", s), -1);
	assert_int_equal(pr_path_stream("/v1/streams/a%20b/events", s), -1);
	assert_int_equal(pr_path_stream("/v2/streams/abc/events", s), -1);
	assert_int_equal(pr_path_stream("/v1/streams/abc/eventsx", s), -1);
	assert_int_equal(pr_path_stream("/v1/streams/abc", s), -1);
	assert_int_equal(pr_path_stream(NULL, s), -1);
	assert_int_equal(pr_path_stream("/v1/streams/"
					"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/events", s), -1);
	assert_int_equal(pr_path_format("abc", out, sizeof out), (int)strlen("/v1/streams/abc/events"));
	assert_string_equal(out, "/v1/streams/abc/events");
	assert_int_equal(pr_path_format("abc", out, 10), -1);
	assert_int_equal(pr_path_format("a b", out, sizeof out), -1);
}

static void test_encode_decode_roundtrip(void **state)
{
	json_t *evs = events("s-1", 5, 100);
	struct pr_batch b;
	struct pr_error err = {0};
	size_t len;
	char *body = pr_batch_encode("s-1", evs, &len);
	char prefix[PR_STREAM_MAX + 40];

	(void)state;
	assert_non_null(body);
	assert_int_equal(len, strlen(body));
	assert_int_equal(pr_batch_prefix("s-1", prefix, sizeof prefix), 32);
	assert_memory_equal(body, prefix, 32);
	assert_int_equal(pr_batch_decode(body, len, "s-1", &b, &err), 0);
	assert_int_equal(b.count, 100);
	assert_int_equal(b.first_seq, 5);
	assert_int_equal(b.last_seq, 104);
	assert_string_equal(b.stream, "s-1");
	assert_true(json_equal(b.events, evs));
	pr_batch_clear(&b);
	assert_null(b.events);
	pr_batch_clear(&b);
	/* the body need not be NUL-terminated: decode a copy without the NUL */
	char *copy = malloc(len);
	memcpy(copy, body, len);
	assert_int_equal(pr_batch_decode(copy, len, "s-1", &b, &err), 0);
	pr_batch_clear(&b);
	/* a truncated body is malformed */
	assert_int_equal(pr_batch_decode(copy, len - 1, "s-1", &b, &err), -1);
	assert_int_equal(err.status, 400);
	assert_null(b.events);
	free(copy);
	free(body);
	/* empty batch */
	json_array_clear(evs);
	body = pr_batch_encode("s-1", evs, &len);
	assert_string_equal(body, "{\"v\":1,\"stream\":\"s-1\",\"events\":[]}");
	assert_int_equal(pr_batch_decode(body, len, "s-1", &b, &err), 0);
	assert_int_equal(b.count, 0);
	assert_int_equal(b.first_seq, 0);
	assert_int_equal(b.last_seq, 0);
	pr_batch_clear(&b);
	free(body);
	json_decref(evs);
}

static void expect_decode(const char *body, int status, const char *words)
{
	struct pr_batch b;
	struct pr_error err = {0};

	assert_int_equal(pr_batch_decode(body, strlen(body), "s", &b, &err), -1);
	if (err.status != status || (words && !strstr(err.text, words)))
		print_error("%s -> %d %s\n", body, err.status, err.text);
	assert_int_equal(err.status, status);
	if (words)
		assert_non_null(strstr(err.text, words));
	assert_null(b.events);
}

#define EV(seq) "{\"v\":1,\"stream\":\"s\",\"seq\":" #seq ",\"ts\":\"2026-11-26T06:40:00.000Z\",\"type\":\"metric\",\"name\":\"m\",\"value\":1}"

static void test_decode_rejects(void **state)
{
	(void)state;
	expect_decode("", 400, "JSON");
	expect_decode("[]", 400, "object");
	expect_decode("{\"v\":2,\"stream\":\"s\",\"events\":[]}", 400, "v");
	expect_decode("{\"v\":\"1\",\"stream\":\"s\",\"events\":[]}", 400, "v");
	expect_decode("{\"v\":1,\"events\":[]}", 400, "stream");
	expect_decode("{\"v\":1,\"stream\":\"s\"}", 400, "events");
	expect_decode("{\"v\":1,\"stream\":\"s\",\"events\":{}}", 400, "events");
	expect_decode("{\"v\":1,\"stream\":\"s\",\"events\":[1]}", 400, "events[0]");
	expect_decode("{\"v\":1,\"stream\":\"s\",\"events\":[" EV(1) "," EV(1) "]}", 400, "consecutive");
	expect_decode("{\"v\":1,\"stream\":\"s\",\"events\":[" EV(2) "," EV(1) "]}", 400, "events[1].seq");
	expect_decode("{\"v\":1,\"stream\":\"s\",\"events\":[" EV(0) "]}", 400, "events[0].seq");
	expect_decode("{\"v\":1,\"stream\":\"s\",\"events\":[" EV(1.0) "]}", 400, "seq");
	expect_decode("{\"v\":1,\"stream\":\"s\",\"events\":[" EV(9007199254740992) "]}", 400, "seq");
	expect_decode("{\"v\":1,\"stream\":\"s\",\"events\":[]} x", 400, "JSON");
	expect_decode("{\"v\":1,\"stream\":\"s\",\"events\":[],\"events\":[]}", 400, "duplicate");
	/* invalid UTF-8 anywhere, and an encoded NUL */
	expect_decode("{\"v\":1,\"stream\":\"s\",\"x\":\"\xc3\x28\",\"events\":[]}", 400, "JSON");
	expect_decode("{\"v\":1,\"stream\":\"s\",\"events\":[{\"v\":1,\"stream\":\"s\",\"seq\":1,"
		      "\"ts\":\"2026-11-26T06:40:00.000Z\",\"type\":\"metric\",\"name\":\"a\\u0000\",\"value\":1}]}",
		      400, "JSON");
	/* deep nesting is refused by the parser's own depth limit or by the event rules */
	{
		char *deep = malloc(200000);
		size_t o = (size_t)sprintf(deep, "{\"v\":1,\"stream\":\"s\",\"events\":[],\"x\":");
		for (int i = 0; i < 50000; i++)
			deep[o++] = '[';
		deep[o] = '\0';
		expect_decode(deep, 400, "JSON");
		free(deep);
	}
}

static void test_decode_bounds(void **state)
{
	struct pr_batch b;
	struct pr_error err = {0};
	char *body, *big;
	size_t len;
	json_t *evs, *ev;

	(void)state;
	/* body one byte over the bound: 413 without parsing */
	body = malloc(PR_BODY_MAX + 1);
	memset(body, ' ', PR_BODY_MAX + 1);
	assert_int_equal(pr_batch_decode(body, PR_BODY_MAX + 1, "s", &b, &err), -1);
	assert_int_equal(err.status, 413);
	free(body);
	/* too many events */
	evs = events("s", 1, PR_BATCH_EVENTS_MAX + 1);
	assert_null(pr_batch_encode("s", evs, &len)); /* the encoder refuses too */
	{
		/* build it by hand: the events are tiny so the body fits */
		json_t *root = json_pack("{s:i,s:s,s:O}", "v", 1, "stream", "s", "events", evs);
		body = json_dumps(root, JSON_COMPACT);
		assert_true(strlen(body) <= PR_BODY_MAX);
		assert_int_equal(pr_batch_decode(body, strlen(body), "s", &b, &err), -1);
		assert_int_equal(err.status, 413);
		free(body);
		json_decref(root);
	}
	/* exactly the maximum is fine */
	json_array_remove(evs, PR_BATCH_EVENTS_MAX);
	body = pr_batch_encode("s", evs, &len);
	assert_non_null(body);
	assert_int_equal(pr_batch_decode(body, len, "s", &b, &err), 0);
	assert_int_equal(b.count, PR_BATCH_EVENTS_MAX);
	pr_batch_clear(&b);
	free(body);
	json_decref(evs);
	/* one event over PR_EVENT_MAX inside a small enough body: 413, index 1 */
	big = malloc(PR_EVENT_MAX + 1);
	memset(big, 'x', PR_EVENT_MAX);
	big[PR_EVENT_MAX] = '\0';
	evs = events("s", 1, 2);
	ev = json_array_get(evs, 1);
	json_object_set_new(ev, "line", json_string(big));
	{
		json_t *root = json_pack("{s:i,s:s,s:O}", "v", 1, "stream", "s", "events", evs);
		body = json_dumps(root, JSON_COMPACT);
		assert_int_equal(pr_batch_decode(body, strlen(body), "s", &b, &err), -1);
		assert_int_equal(err.status, 413);
		assert_int_equal(err.index, 1);
		free(body);
		json_decref(root);
	}
	free(big);
	json_decref(evs);
}

static void test_stream_mismatch(void **state)
{
	json_t *evs = events("other", 1, 1);
	struct pr_batch b;
	struct pr_error err = {0};
	size_t len;
	char *body = pr_batch_encode("other", evs, &len);

	(void)state;
	assert_int_equal(pr_batch_decode(body, len, "s", &b, &err), -1);
	assert_non_null(strstr(err.text, "stream"));
	assert_int_equal(pr_batch_decode(body, len, "bad stream", &b, &err), -1);
	free(body);
	/* the body says "s" but an event says "other" */
	json_t *root = json_pack("{s:i,s:s,s:O}", "v", 1, "stream", "s", "events", evs);
	body = json_dumps(root, JSON_COMPACT);
	assert_int_equal(pr_batch_decode(body, strlen(body), "s", &b, &err), -1);
	assert_non_null(strstr(err.text, "events[0].stream"));
	assert_int_equal(err.index, 0);
	free(body);
	json_decref(root);
	json_decref(evs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_encode_decode_roundtrip),
		cmocka_unit_test(test_decode_rejects),
		cmocka_unit_test(test_decode_bounds),
		cmocka_unit_test(test_stream_mismatch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
