/*
 * expiry — when a Fargate task of this tool may be stopped: a playground lives until the next
 * close of business (playgrounds.close_of_business in playgrounds.timezone, an IANA zone read
 * from the system's TZ database, so daylight-saving changes are the database's), a stage task
 * until its stop budget and a margin have passed. The value is the tasks' expiry tag
 * (TASKDEF_TAG_EXPIRES): UTC seconds since the epoch, as decimal text.
 *
 * It does not stop anything or read tasks (teardown.c does). expiry_next_close() sets and
 * restores the process's TZ variable around mktime()/localtime_r(): call it from one thread.
 */
#ifndef SV_COORD_EXPIRY_H
#define SV_COORD_EXPIRY_H

#include <stddef.h>

#define EXPIRY_ZONEINFO_DIR "/usr/share/zoneinfo"

/*
 * The first instant strictly after now at which the wall clock in tz reads close_min minutes
 * after midnight. A close of business inside a spring-forward gap (02:30 on a day that jumps
 * from 02:00 to 03:00) is the instant the clock jumps over it (03:00 local); in a fall-back
 * fold (01:30 twice) it is the first of the two. tz must name a file of the TZ database
 * (zoneinfo_dir, NULL for EXPIRY_ZONEINFO_DIR), else -1 with a reason.
 */
int expiry_next_close(long long now, const char *tz, unsigned close_min, const char *zoneinfo_dir,
		      long long *out, char *err, size_t errlen);

/* "2026-12-04T19:00:00Z" */
void expiry_format_utc(long long t, char *buf, size_t len);

/* The expiry tag's text: decimal seconds, 0 < t < 2^40. 0, or -1 for anything else. */
int expiry_parse_tag(const char *s, long long *t);

#endif
