/* agents/uplink/uplink_pacer.c: the adaptive batch limit, request timeout and retry pace. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "uplink_pacer.h"

#define KIB 1024u

static void test_limit_halves_to_one_event_and_grows_back(void **state)
{
	struct uplink_pacer p;
	int n;

	(void)state;
	uplink_pacer_init(&p, 256 * KIB, 10000);
	assert_int_equal(uplink_pacer_limit(&p), 256 * KIB);
	/* a break with a full batch in flight halves the limit */
	uplink_pacer_broken(&p, 256 * KIB, false);
	assert_int_equal(uplink_pacer_limit(&p), 128 * KIB);
	/* a break with a smaller batch in flight halves what was sent, not the limit */
	uplink_pacer_broken(&p, 10 * KIB, false);
	assert_int_equal(uplink_pacer_limit(&p), 5 * KIB);
	/* an empty request says nothing about size */
	uplink_pacer_broken(&p, 0, false);
	assert_int_equal(uplink_pacer_limit(&p), 5 * KIB);
	/* down to the floor (the spool still sends one event), never 0 */
	for (n = 0; n < 40; n++)
		uplink_pacer_broken(&p, uplink_pacer_limit(&p), false);
	assert_int_equal(uplink_pacer_limit(&p), UPLINK_PACER_MIN_BYTES);
	/* answers grow it by half each, slower than a break cuts it, up to the maximum */
	uplink_pacer_init(&p, 256 * KIB, 10000);
	uplink_pacer_broken(&p, 8 * KIB, false);
	assert_int_equal(uplink_pacer_limit(&p), 4 * KIB);
	uplink_pacer_answered(&p, 1000, true);
	assert_int_equal(uplink_pacer_limit(&p), 6 * KIB);
	uplink_pacer_answered(&p, 1000, true);
	assert_int_equal(uplink_pacer_limit(&p), 9 * KIB);
	for (n = 0; n < 30 && uplink_pacer_limit(&p) < 256 * KIB; n++)
		uplink_pacer_answered(&p, 1000, true);
	assert_int_equal(uplink_pacer_limit(&p), 256 * KIB);
	assert_true(n < 20);
	uplink_pacer_answered(&p, 1000, true);
	assert_int_equal(uplink_pacer_limit(&p), 256 * KIB);
	/* from the floor too (limit 1: grows by 1) */
	uplink_pacer_init(&p, 3, 10000);
	uplink_pacer_broken(&p, 3, false);
	assert_int_equal(uplink_pacer_limit(&p), 1);
	uplink_pacer_answered(&p, 1000, false);
	assert_int_equal(uplink_pacer_limit(&p), 2);
	uplink_pacer_answered(&p, 1000, false);
	assert_int_equal(uplink_pacer_limit(&p), 3);
}

/* A path that always cuts after about 6 KB settles at a limit that fits, with several
 * answered requests per connection. */
static void test_cutting_path_settles(void **state)
{
	struct uplink_pacer p;
	unsigned answered = 0, conns = 0;

	(void)state;
	uplink_pacer_init(&p, 256 * KIB, 10000);
	for (conns = 0; conns < 200; conns++) {
		size_t left = 6 * KIB;
		while (uplink_pacer_limit(&p) <= left) {
			left -= uplink_pacer_limit(&p);
			uplink_pacer_answered(&p, 500, true);
			if (conns >= 100)
				answered++;
		}
		uplink_pacer_broken(&p, uplink_pacer_limit(&p), false);
	}
	/* the last 100 connections: at least one answer each on average, and the limit fits */
	assert_true(answered >= 100);
	assert_true(uplink_pacer_limit(&p) <= 6 * KIB);
}

static void test_timeout_follows_round_trips(void **state)
{
	struct uplink_pacer p;
	int n;

	(void)state;
	uplink_pacer_init(&p, 256 * KIB, 10000);
	/* before any answer: the configured timeout */
	assert_int_equal(uplink_pacer_timeout_ms(&p, 1000), 10000);
	/* fast answers: the floor */
	for (n = 0; n < 20; n++)
		uplink_pacer_answered(&p, 800, true);
	assert_int_equal(uplink_pacer_timeout_ms(&p, 1000), UPLINK_PACER_TIMEOUT_FLOOR_MS);
	/* each timeout in a row after the first doubles it, up to the configured timeout */
	uplink_pacer_broken(&p, 1000, true);
	assert_int_equal(uplink_pacer_timeout_ms(&p, 1000), UPLINK_PACER_TIMEOUT_FLOOR_MS);
	uplink_pacer_broken(&p, 1000, true);
	assert_int_equal(uplink_pacer_timeout_ms(&p, 1000), 2 * UPLINK_PACER_TIMEOUT_FLOOR_MS);
	uplink_pacer_broken(&p, 1000, true);
	assert_int_equal(uplink_pacer_timeout_ms(&p, 1000), 4 * UPLINK_PACER_TIMEOUT_FLOOR_MS);
	for (n = 0; n < 30; n++)
		uplink_pacer_broken(&p, 1000, true);
	assert_int_equal(uplink_pacer_timeout_ms(&p, 1000), 10000);
	/* an answer ends the streak */
	uplink_pacer_answered(&p, 800, true);
	assert_true(uplink_pacer_timeout_ms(&p, 1000) < 100);
	/* slow answers (a coordinator taking 300 ms): the timeout stays above them (RFC 6298) */
	for (n = 0; n < 3; n++) {
		uplink_pacer_answered(&p, 300000, true);
		assert_true(uplink_pacer_timeout_ms(&p, 1000) > 300);
	}
	for (n = 0; n < 50; n++)
		uplink_pacer_answered(&p, 300000, true);
	assert_true(uplink_pacer_timeout_ms(&p, 1000) >= 300 && uplink_pacer_timeout_ms(&p, 1000) < 600);
	/* a large request gets more time than the round trips of small ones say */
	uplink_pacer_init(&p, 256 * KIB, 10000);
	for (n = 0; n < 20; n++)
		uplink_pacer_answered(&p, 800, true);
	assert_int_equal(uplink_pacer_timeout_ms(&p, 1000), UPLINK_PACER_TIMEOUT_FLOOR_MS);
	assert_int_equal(uplink_pacer_timeout_ms(&p, 256 * KIB),
			 UPLINK_PACER_TIMEOUT_FLOOR_MS + 256 * KIB / UPLINK_PACER_FLOOR_BYTES_PER_MS);
	/* a small configured timeout is never undercut by the floor logic */
	uplink_pacer_init(&p, 1024, 5);
	assert_int_equal(uplink_pacer_timeout_ms(&p, 1000), UPLINK_PACER_TIMEOUT_FLOOR_MS);
}

static void test_retry_at_once_only_after_progress(void **state)
{
	struct uplink_pacer p;

	(void)state;
	uplink_pacer_init(&p, 256 * KIB, 10000);
	/* nothing acknowledged yet: the backoff applies (a dead coordinator is not hammered) */
	assert_false(uplink_pacer_broken(&p, 1000, false));
	assert_false(uplink_pacer_broken(&p, 1000, true));
	/* an answer without progress (duplicates, an empty request) does not count */
	uplink_pacer_answered(&p, 1000, false);
	assert_false(uplink_pacer_broken(&p, 1000, false));
	/* the ack advanced since the previous break: at once, but only once per advance */
	uplink_pacer_answered(&p, 1000, true);
	assert_true(uplink_pacer_broken(&p, 1000, false));
	assert_false(uplink_pacer_broken(&p, 1000, false));
	uplink_pacer_answered(&p, 1000, true);
	uplink_pacer_answered(&p, 1000, true);
	assert_true(uplink_pacer_broken(&p, 1000, true));
	assert_false(uplink_pacer_broken(&p, 1000, true));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limit_halves_to_one_event_and_grows_back),
		cmocka_unit_test(test_cutting_path_settles),
		cmocka_unit_test(test_timeout_follows_round_trips),
		cmocka_unit_test(test_retry_at_once_only_after_progress),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
