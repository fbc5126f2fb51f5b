/* protocol/response.c: format and parse the 200 answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "protocol/protocol.h"

static void test_roundtrip(void **state)
{
	char out[PR_RESPONSE_MAX];
	struct pr_response in[] = {
		{0, 0, false, false}, {PR_SEQ_MAX, 0, false, false}, {3, 4, false, false},
		{3, 0, true, false}, {3, 0, false, true}, {9, 10, true, true},
	};
	(void)state;
	for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
		struct pr_response back;
		int n = pr_response_format(&in[i], out, sizeof out);
		assert_true(n > 0);
		assert_int_equal((size_t)n, strlen(out));
		assert_int_equal(pr_response_parse(out, (size_t)n, &back, NULL), 0);
		assert_int_equal(back.ack, in[i].ack);
		assert_int_equal(back.resend_from, in[i].resend_from);
		assert_int_equal(back.cancel, in[i].cancel);
		assert_int_equal(back.detach, in[i].detach);
	}
	pr_response_format(&in[5], out, sizeof out);
	assert_string_equal(out, "{\"ack\":9,\"resend_from\":10,\"control\":{\"cancel\":true,\"detach\":true}}");
	/* too small a buffer */
	assert_int_equal(pr_response_format(&in[5], out, 20), -1);
	assert_int_equal(pr_response_format(&in[0], out, 9), -1);
	assert_int_equal(pr_response_format(&in[0], out, 10), 9);
}

static void test_parse_rejects(void **state)
{
	static const char *const bad[] = {
		"", "[]", "{}", "{\"ack\":\"1\"}", "{\"ack\":-1}", "{\"ack\":1.5}",
		"{\"ack\":9007199254740992}", "{\"ack\":1,\"resend_from\":0}",
		"{\"ack\":1,\"control\":[]}", "{\"ack\":1,\"control\":{\"cancel\":1}}",
		"{\"ack\":1,\"ack\":2}", "{\"ack\":1}x", NULL};
	struct pr_response r;
	struct pr_error err = {0};
	char big[PR_RESPONSE_MAX + 2];

	(void)state;
	for (size_t i = 0; bad[i]; i++) {
		r.ack = 77;
		assert_int_equal(pr_response_parse(bad[i], strlen(bad[i]), &r, &err), -1);
		assert_int_equal(r.ack, 0);
	}
	memset(big, ' ', sizeof big);
	memcpy(big, "{\"ack\":1}", 9);
	assert_int_equal(pr_response_parse(big, sizeof big, &r, &err), -1);
	assert_int_equal(err.status, 413);
	assert_int_equal(pr_response_parse(big, PR_RESPONSE_MAX, &r, &err), 0);
	assert_int_equal(r.ack, 1);
	assert_int_equal(pr_response_parse("{\"ack\":5,\"resend_from\":null,\"control\":null,\"x\":[1]}", 51, &r, &err), 0);
	assert_int_equal(r.ack, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_parse_rejects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
