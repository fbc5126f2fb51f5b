/* protocol/token.c: format, validation, Authorization parsing, comparison. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "protocol/protocol.h"

static void test_format_and_valid(void **state)
{
	unsigned char r[PR_TOKEN_RANDOM];
	char t[PR_TOKEN_LEN + 1], bad[PR_TOKEN_LEN + 2];

	(void)state;
	for (size_t i = 0; i < sizeof r; i++)
		r[i] = (unsigned char)(i * 37 + 250);
	pr_token_format(r, t);
	assert_int_equal(strlen(t), PR_TOKEN_LEN);
	assert_memory_equal(t, "svt1.fa1f44698eb3d8fd", 21);
	assert_true(pr_token_valid(t));
	memcpy(bad, t, sizeof t);
	bad[10] = 'A';
	assert_false(pr_token_valid(bad));
	bad[10] = 'g';
	assert_false(pr_token_valid(bad));
	memcpy(bad, t, sizeof t);
	bad[PR_TOKEN_LEN] = '0';
	bad[PR_TOKEN_LEN + 1] = '\0';
	assert_false(pr_token_valid(bad));
	bad[PR_TOKEN_LEN - 1] = '\0';
	assert_false(pr_token_valid(bad));
	memcpy(bad, t, sizeof t);
	bad[3] = '2';
	assert_false(pr_token_valid(bad));
	assert_false(pr_token_valid(NULL));
	assert_false(pr_token_valid(""));
}

static void test_authorization(void **state)
{
	unsigned char r[PR_TOKEN_RANDOM] = {1, 2, 3};
	char t[PR_TOKEN_LEN + 1], h[128], out[PR_TOKEN_LEN + 1];

	(void)state;
	pr_token_format(r, t);
	snprintf(h, sizeof h, "Bearer %s", t);
	assert_int_equal(pr_token_from_authorization(h, out), 0);
	assert_string_equal(out, t);
	snprintf(h, sizeof h, "bearer   %s", t);
	assert_int_equal(pr_token_from_authorization(h, out), 0);
	snprintf(h, sizeof h, "Basic %s", t);
	assert_int_equal(pr_token_from_authorization(h, out), -1);
	snprintf(h, sizeof h, "Bearer %s ", t);
	assert_int_equal(pr_token_from_authorization(h, out), -1);
	assert_int_equal(pr_token_from_authorization("Bearer", out), -1);
	assert_int_equal(pr_token_from_authorization(NULL, out), -1);
}

static void test_equal(void **state)
{
	unsigned char r[PR_TOKEN_RANDOM] = {9};
	char a[PR_TOKEN_LEN + 1], b[PR_TOKEN_LEN + 1];

	(void)state;
	pr_token_format(r, a);
	memcpy(b, a, sizeof a);
	assert_true(pr_token_equal(b, a));
	for (size_t i = 0; i < PR_TOKEN_LEN; i++) {
		b[i] ^= 1;
		assert_false(pr_token_equal(b, a));
		b[i] ^= 1;
	}
	b[PR_TOKEN_LEN - 1] = '\0';
	assert_false(pr_token_equal(b, a));
	assert_false(pr_token_equal(a, b));
	assert_false(pr_token_equal(NULL, a));
	assert_false(pr_token_equal(a, NULL));
	assert_false(pr_token_equal("", a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_and_valid),
		cmocka_unit_test(test_authorization),
		cmocka_unit_test(test_equal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
