/*
 * uplink_backoff — when to retry: exponential backoff with jitter, Retry-After, and the
 * small PRNG that draws the jitter. Pure (no clock, no syscalls): the caller seeds the PRNG.
 */
#ifndef SV_UPLINK_BACKOFF_H
#define SV_UPLINK_BACKOFF_H

#include <stdint.h>

/*
 * Delay before retry number `attempt` (0 for the first retry after a failure): "equal
 * jitter": with e = min(cap_ms, base_ms * 2^attempt), a delay in [e/2, e], drawn with rnd.
 * Spreads agents that failed together while never retrying in a tight loop.
 */
unsigned uplink_backoff_delay_ms(unsigned attempt, unsigned base_ms, unsigned cap_ms,
				 uint32_t rnd);

/*
 * A Retry-After value in delta-seconds ("120") as milliseconds, at most max_ms; -1 when absent
 * or not delta-seconds (an HTTP date is ignored: the backoff applies).
 */
long uplink_retry_after_ms(const char *value, unsigned max_ms);

/* xorshift64*: the next 32 random bits. *state must not be 0. */
uint32_t uplink_backoff_rand(uint64_t *state);

#endif
