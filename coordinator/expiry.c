/* expiry — see expiry.h. */
#include "expiry.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EXPIRY_GAP_STEPS (3 * 60) /* minutes: the longest DST gap is 1 h (Lord Howe: 30 min) */

/* The local date and minute of t in the zone TZ currently names. */
static bool expiry_local(time_t t, struct tm *out)
{
	return localtime_r(&t, out) != NULL;
}

static bool expiry_same_wall(const struct tm *a, const struct tm *want)
{
	return a->tm_year == want->tm_year && a->tm_mon == want->tm_mon && a->tm_mday == want->tm_mday &&
	       a->tm_hour == want->tm_hour && a->tm_min == want->tm_min;
}

/* Compares the local (date, hour, minute) of a with want: <0, 0, >0. */
static int expiry_cmp_wall(const struct tm *a, const struct tm *want)
{
	int x[5] = {a->tm_year, a->tm_mon, a->tm_mday, a->tm_hour, a->tm_min};
	int y[5] = {want->tm_year, want->tm_mon, want->tm_mday, want->tm_hour, want->tm_min};

	for (int i = 0; i < 5; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

/* The instant the local wall clock reads want (date and minute): the earlier of a fold, the
 * jump over it in a gap. -1 when the zone makes no sense of it. */
static int expiry_wall_instant(const struct tm *want, time_t *out)
{
	time_t cand[2], best = (time_t)-1, t;
	struct tm tm, lt;
	bool found = false;

	for (int dst = 0; dst < 2; dst++) {
		tm = *want;
		tm.tm_sec = 0;
		tm.tm_isdst = dst;
		cand[dst] = mktime(&tm);
		if (cand[dst] == (time_t)-1)
			continue;
		if (expiry_local(cand[dst], &lt) && expiry_same_wall(&lt, want) && (!found || cand[dst] < best)) {
			best = cand[dst];
			found = true;
		}
	}
	if (found) {
		*out = best;
		return 0;
	}
	/* A gap: the wall clock never reads want. Start from the earlier reading and walk forward
	 * a minute at a time to the first instant past it: the jump. */
	if (cand[0] == (time_t)-1 && cand[1] == (time_t)-1)
		return -1;
	t = cand[0] == (time_t)-1 ? cand[1] : cand[1] == (time_t)-1 ? cand[0] : (cand[0] < cand[1] ? cand[0] : cand[1]);
	t -= t % 60;
	for (int i = 0; i < EXPIRY_GAP_STEPS * 2; i++, t += 60) {
		if (!expiry_local(t, &lt))
			return -1;
		if (expiry_cmp_wall(&lt, want) > 0) {
			*out = t;
			return 0;
		}
	}
	return -1;
}

static int expiry_compute(time_t now, unsigned close_min, long long *out)
{
	struct tm today, want;
	time_t t;

	if (!expiry_local(now, &today))
		return -1;
	for (int day = 0; day < 3; day++) {
		/* The calendar date today + day, normalised without the zone's help. */
		struct tm d = {0};
		d.tm_year = today.tm_year;
		d.tm_mon = today.tm_mon;
		d.tm_mday = today.tm_mday + day;
		d.tm_hour = 12;
		time_t noon = timegm(&d);
		if (noon == (time_t)-1 || !gmtime_r(&noon, &d))
			return -1;
		memset(&want, 0, sizeof want);
		want.tm_year = d.tm_year;
		want.tm_mon = d.tm_mon;
		want.tm_mday = d.tm_mday;
		want.tm_hour = (int)(close_min / 60);
		want.tm_min = (int)(close_min % 60);
		if (expiry_wall_instant(&want, &t) == 0 && t > now) {
			*out = (long long)t;
			return 0;
		}
	}
	return -1;
}

int expiry_next_close(long long now, const char *tz, unsigned close_min, const char *zoneinfo_dir,
		      long long *out, char *err, size_t errlen)
{
	char path[PATH_MAX + 2], *saved = NULL;
	const char *old;
	int rc;

	if (close_min >= 24 * 60) {
		snprintf(err, errlen, "close of business %u minutes after midnight: not a time of day", close_min);
		return -1;
	}
	if (!tz || !*tz || tz[0] == '/' || strstr(tz, "..")) {
		snprintf(err, errlen, "\"%s\" is not a time zone name", tz ? tz : "");
		return -1;
	}
	if (snprintf(path, sizeof path, ":%s/%s", zoneinfo_dir ? zoneinfo_dir : EXPIRY_ZONEINFO_DIR, tz) >=
	    (int)sizeof path) {
		snprintf(err, errlen, "time zone name too long");
		return -1;
	}
	/* glibc takes an unknown zone for UTC without a word: the file must be there. */
	if (access(path + 1, R_OK) != 0) {
		snprintf(err, errlen, "time zone %s: %s: %s (is tzdata installed?)", tz, path + 1, strerror(errno));
		return -1;
	}
	old = getenv("TZ");
	if (old && !(saved = strdup(old))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	setenv("TZ", path, 1);
	tzset();
	rc = expiry_compute((time_t)now, close_min, out);
	if (saved)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved);
	if (rc < 0)
		snprintf(err, errlen, "time zone %s: no close of business at %02u:%02u in the next days", tz,
			 close_min / 60, close_min % 60);
	return rc;
}

void expiry_format_utc(long long t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "@%lld", t);
}

int expiry_parse_tag(const char *s, long long *t)
{
	char *end;
	long long v;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v <= 0 || v >= (1ll << 40))
		return -1;
	*t = v;
	return 0;
}
