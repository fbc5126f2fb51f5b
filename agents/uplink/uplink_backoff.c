/*
 * uplink_backoff — retry delays (uplink_backoff.h).
 */
#include <stddef.h>

#include "uplink_backoff.h"

unsigned uplink_backoff_delay_ms(unsigned attempt, unsigned base_ms, unsigned cap_ms,
				 uint32_t rnd)
{
	uint64_t e = base_ms ? base_ms : 1;

	for (unsigned i = 0; i < attempt && e < cap_ms; i++)
		e *= 2;
	if (e > cap_ms)
		e = cap_ms;
	return (unsigned)(e / 2 + rnd % (e - e / 2 + 1));
}

long uplink_retry_after_ms(const char *value, unsigned max_ms)
{
	uint64_t s = 0;
	const char *p = value;

	if (!p)
		return -1;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		s = s * 10 + (uint64_t)(*p - '0');
		if (s * 1000 > max_ms)
			s = max_ms / 1000 + 1; /* keep it from overflowing; clamped below */
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p)
		return -1;
	return (long)(s * 1000 > max_ms ? max_ms : s * 1000);
}

uint32_t uplink_backoff_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return (uint32_t)((x * 0x2545F4914F6CDD1Dull) >> 32);
}
