/* agents/uplink/uplink_backoff.c: delays, Retry-After, the PRNG. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "uplink_backoff.h"

static void test_delays_grow_and_cap(void **state)
{
	(void)state;
	/* rnd = 0 gives the lower end e/2, rnd = max the upper end e */
	assert_int_equal(uplink_backoff_delay_ms(0, 50, 5000, 0), 25);
	assert_int_equal(uplink_backoff_delay_ms(0, 50, 5000, 25), 50);
	assert_int_equal(uplink_backoff_delay_ms(1, 50, 5000, 0), 50);
	assert_int_equal(uplink_backoff_delay_ms(3, 50, 5000, 0), 200);
	assert_int_equal(uplink_backoff_delay_ms(3, 50, 5000, 200), 400);
	assert_int_equal(uplink_backoff_delay_ms(7, 50, 5000, 0), 2500);
	assert_int_equal(uplink_backoff_delay_ms(60, 50, 5000, 2500), 5000);
	assert_int_equal(uplink_backoff_delay_ms(1000, 50, 5000, 0xffffffffu) <= 5000, 1);
	assert_int_equal(uplink_backoff_delay_ms(0, 0, 0, 7), 0);
}

static void test_jitter_spreads(void **state)
{
	uint64_t s = 42;
	unsigned lo = ~0u, hi = 0, buckets[10] = {0};

	(void)state;
	for (int i = 0; i < 10000; i++) {
		unsigned d = uplink_backoff_delay_ms(4, 100, 5000, uplink_backoff_rand(&s));
		assert_true(d >= 800 && d <= 1600);
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
		buckets[(d - 800) * 10 / 801]++;
	}
	assert_true(lo < 820 && hi > 1580);
	for (int i = 0; i < 10; i++)
		assert_true(buckets[i] > 800 && buckets[i] < 1200);
}

static void test_retry_after(void **state)
{
	(void)state;
	assert_int_equal(uplink_retry_after_ms("0", 30000), 0);
	assert_int_equal(uplink_retry_after_ms("2", 30000), 2000);
	assert_int_equal(uplink_retry_after_ms(" 7 ", 30000), 7000);
	assert_int_equal(uplink_retry_after_ms("120", 30000), 30000);
	assert_int_equal(uplink_retry_after_ms("99999999999999999999999", 30000), 30000);
	assert_int_equal(uplink_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", 30000), -1);
	assert_int_equal(uplink_retry_after_ms("-1", 30000), -1);
	assert_int_equal(uplink_retry_after_ms("1.5", 30000), -1);
	assert_int_equal(uplink_retry_after_ms("", 30000), -1);
	assert_int_equal(uplink_retry_after_ms(NULL, 30000), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delays_grow_and_cap),
		cmocka_unit_test(test_jitter_spreads),
		cmocka_unit_test(test_retry_after),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
