/* Unit tests of coordinator/ingest.c without the loop: batch handling, paths, tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stores_and_acks),
		cmocka_unit_test(gap_asks_for_resend),
		cmocka_unit_test(control_flags),
		cmocka_unit_test(malformed_is_400_and_stores_nothing),
		cmocka_unit_test(oversize_is_413),
		cmocka_unit_test(paths),
		cmocka_unit_test(tokens),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
