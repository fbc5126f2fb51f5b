/* Tests of supervisor/backoff.c: doubling, cap, jitter bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "backoff.h"

static void nominal_doubles_until_cap(void **state)
{
	(void)state;
	assert_int_equal(backoff_nominal_ms(200, 10000, 0), 200);
	assert_int_equal(backoff_nominal_ms(200, 10000, 1), 400);
	assert_int_equal(backoff_nominal_ms(200, 10000, 2), 800);
	assert_int_equal(backoff_nominal_ms(200, 10000, 5), 6400);
	assert_int_equal(backoff_nominal_ms(200, 10000, 6), 10000);
	assert_int_equal(backoff_nominal_ms(200, 10000, 1000), 10000);
	assert_int_equal(backoff_nominal_ms(200, 10000, UINT32_MAX), 10000);
}

static void nominal_cap_below_initial(void **state)
{
	(void)state;
	assert_int_equal(backoff_nominal_ms(500, 300, 0), 300);
	assert_int_equal(backoff_nominal_ms(0, 300, 7), 0);
	assert_int_equal(backoff_nominal_ms(4000000000u, 4294967295u, 3), 4294967295u);
}

static void jitter_never_below_half_nor_above_nominal(void **state)
{
	uint32_t seed = 12345;
	(void)state;
	for (unsigned nominal = 0; nominal < 3000; nominal += 7) {
		for (int i = 0; i < 50; i++) {
			unsigned d = backoff_jitter_ms(nominal, backoff_random(&seed));
			assert_true(d <= nominal);
			assert_true(2u * d >= nominal);
		}
	}
	/* The extremes of the random source. */
	assert_int_equal(backoff_jitter_ms(1000, 0), 1000);
	assert_int_equal(backoff_jitter_ms(1000, 500), 500);
	assert_int_equal(backoff_jitter_ms(1001, 500), 501);
	assert_true(backoff_jitter_ms(1001, UINT32_MAX) >= 501);
	assert_int_equal(backoff_jitter_ms(UINT32_MAX, UINT32_MAX), UINT32_MAX - (UINT32_MAX % (UINT32_MAX / 2 + 1)));
}

static void jitter_spreads(void **state)
{
	uint32_t seed = 1;
	unsigned lo = 1000, hi = 0;
	(void)state;
	for (int i = 0; i < 1000; i++) {
		unsigned d = backoff_jitter_ms(1000, backoff_random(&seed));
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	assert_true(lo < 600);
	assert_true(hi > 900);
}

static void random_never_sticks_at_zero(void **state)
{
	uint32_t s = 0;
	(void)state;
	assert_int_not_equal(backoff_random(&s), 0);
	assert_int_not_equal(s, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nominal_doubles_until_cap),
		cmocka_unit_test(nominal_cap_below_initial),
		cmocka_unit_test(jitter_never_below_half_nor_above_nominal),
		cmocka_unit_test(jitter_spreads),
		cmocka_unit_test(random_never_sticks_at_zero),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
