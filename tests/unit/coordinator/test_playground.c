/* Unit tests of coordinator/playground.c: branch names as state file names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "playground.h"

static void names_are_safe_and_distinct(void **state)
{
	char a[256], b[256];
	(void)state;
	playground_file_name("feature/login-form", a, sizeof a);
	assert_string_equal(a, "feature%2Flogin-form");
	playground_file_name("feature_login-form", b, sizeof b);
	assert_string_not_equal(a, b);
	playground_file_name("..", a, sizeof a);
	assert_string_equal(a, "%2E.");
	playground_file_name(".hidden", a, sizeof a);
	assert_string_equal(a, "%2Ehidden");
	playground_file_name("a b%c", a, sizeof a);
	assert_string_equal(a, "a%20b%25c");
}

static void bounded(void **state)
{
	char small[8];
	(void)state;
	playground_file_name("////////", small, sizeof small);
	assert_true(strlen(small) < sizeof small);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_are_safe_and_distinct),
		cmocka_unit_test(bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
