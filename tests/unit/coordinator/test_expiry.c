/* Unit tests of coordinator/expiry.c: the next close of business in an IANA zone, across
 * daylight-saving changes (expected instants checked with Python's zoneinfo), gaps and folds,
 * and the expiry tag's text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "expiry.h"

static long long utc(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof tm);
	assert_int_equal(sscanf(s, "%d-%d-%dT%d:%d:%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
				&tm.tm_min, &tm.tm_sec), 6);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (long long)timegm(&tm);
}

static void expect(const char *tz, const char *cob, const char *now, const char *want)
{
	long long out = 0;
	unsigned h, m;
	char err[256], got[32];

	assert_int_equal(sscanf(cob, "%u:%u", &h, &m), 2);
	if (expiry_next_close(utc(now), tz, h * 60 + m, NULL, &out, err, sizeof err) != 0)
		fail_msg("%s %s at %s: %s", tz, cob, now, err);
	expiry_format_utc(out, got, sizeof got);
	if (strcmp(got, want) != 0)
		fail_msg("%s close %s after %s: got %s, want %s", tz, cob, now, got, want);
}

static void same_day_and_next_day(void **state)
{
	(void)state;
	expect("UTC", "19:00", "2026-12-04T11:00:00Z", "2026-12-04T19:00:00Z");
	expect("UTC", "19:00", "2026-12-04T19:00:00Z", "2026-12-05T19:00:00Z"); /* strictly after */
	expect("UTC", "19:00", "2026-12-31T20:00:00Z", "2027-01-01T19:00:00Z"); /* the year turns */
	expect("UTC", "00:00", "2026-02-28T00:00:00Z", "2026-03-01T00:00:00Z");
	expect("Europe/London", "19:00", "2026-03-28T12:00:00Z", "2026-03-28T19:00:00Z");
	expect("Europe/London", "19:00", "2026-06-01T18:00:00Z", "2026-06-02T18:00:00Z"); /* 19:00 BST */
}

static void across_daylight_saving(void **state)
{
	(void)state;
	/* London springs forward on 2026-03-29: the day after a GMT evening closes at 18:00Z. */
	expect("Europe/London", "19:00", "2026-03-28T20:00:00Z", "2026-03-29T18:00:00Z");
	/* and falls back on 2026-10-25: after a BST evening, the close is 19:00Z again. */
	expect("Europe/London", "19:00", "2026-10-24T19:30:00Z", "2026-10-25T19:00:00Z");
	expect("America/New_York", "18:00", "2026-03-07T23:30:00Z", "2026-03-08T22:00:00Z");
	/* Southern hemisphere: Auckland leaves daylight time on 2026-04-05. */
	expect("Pacific/Auckland", "17:00", "2026-04-04T05:00:00Z", "2026-04-05T05:00:00Z");
	/* A zone east of UTC whose local date is already tomorrow. */
	expect("Asia/Tokyo", "19:00", "2026-12-04T11:00:00Z", "2026-12-05T10:00:00Z");
}

static void gaps_and_folds(void **state)
{
	(void)state;
	/* 01:30 does not exist in London on 2026-03-29 (01:00 GMT jumps to 02:00 BST): the close is
	 * the jump itself. */
	expect("Europe/London", "01:30", "2026-03-28T23:00:00Z", "2026-03-29T01:00:00Z");
	/* 01:30 happens twice on 2026-10-25: the first (BST) is the day's close... */
	expect("Europe/London", "01:30", "2026-10-24T23:45:00Z", "2026-10-25T00:30:00Z");
	/* ...and once it has passed, the next close is the next day's, not the repeat. */
	expect("Europe/London", "01:30", "2026-10-25T00:45:00Z", "2026-10-26T01:30:00Z");
}

static void bad_zones_and_times(void **state)
{
	long long out;
	char err[256];
	(void)state;
	assert_int_equal(expiry_next_close(utc("2026-12-04T11:00:00Z"), "Mars/Olympus_Mons", 19 * 60, NULL, &out, err,
					   sizeof err), -1);
	assert_non_null(strstr(err, "Mars/Olympus_Mons"));
	assert_int_equal(expiry_next_close(0, "../etc/passwd", 60, NULL, &out, err, sizeof err), -1);
	assert_int_equal(expiry_next_close(0, "/etc/localtime", 60, NULL, &out, err, sizeof err), -1);
	assert_int_equal(expiry_next_close(0, "", 60, NULL, &out, err, sizeof err), -1);
	assert_int_equal(expiry_next_close(0, "UTC", 24 * 60, NULL, &out, err, sizeof err), -1);
}

/* The process's own TZ is what it was before. */
static void tz_is_restored(void **state)
{
	long long out;
	char err[256];
	(void)state;
	setenv("TZ", "Asia/Kolkata", 1);
	assert_int_equal(expiry_next_close(utc("2026-12-04T11:00:00Z"), "Europe/London", 19 * 60, NULL, &out, err,
					   sizeof err), 0);
	assert_string_equal(getenv("TZ"), "Asia/Kolkata");
	unsetenv("TZ");
	assert_int_equal(expiry_next_close(utc("2026-12-04T11:00:00Z"), "Europe/London", 19 * 60, NULL, &out, err,
					   sizeof err), 0);
	assert_null(getenv("TZ"));
}

static void tags(void **state)
{
	long long t = 0;
	char buf[32];
	(void)state;
	assert_int_equal(expiry_parse_tag("1796410800", &t), 0);
	assert_int_equal(t, 1796410800ll);
	expiry_format_utc(t, buf, sizeof buf);
	assert_string_equal(buf, "2026-12-04T19:00:00Z");
	const char *bad[] = {"", "-5", "0", "12x", " 12", "2026-12-04T19:00:00Z", "99999999999999999999", "1099511627776"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(expiry_parse_tag(bad[i], &t), -1);
	assert_int_equal(expiry_parse_tag(NULL, &t), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(same_day_and_next_day),
		cmocka_unit_test(across_daylight_saving),
		cmocka_unit_test(gaps_and_folds),
		cmocka_unit_test(bad_zones_and_times),
		cmocka_unit_test(tz_is_restored),
		cmocka_unit_test(tags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
