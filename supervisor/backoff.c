/* backoff — see backoff.h. */
#include "backoff.h"

unsigned backoff_nominal_ms(unsigned initial_ms, unsigned max_ms, unsigned step)
{
	uint64_t d = initial_ms;

	/* Doubling past the cap is pointless and would overflow: stop as soon as it is reached. */
	for (unsigned i = 0; i < step && d < max_ms; i++)
		d *= 2;
	if (d > max_ms)
		d = max_ms;
	return (unsigned)d;
}

unsigned backoff_jitter_ms(unsigned nominal_ms, uint32_t rnd)
{
	/* Subtract at most floor(nominal/2): the result stays >= ceil(nominal/2). */
	unsigned span = nominal_ms / 2;

	return nominal_ms - (unsigned)(rnd % ((uint64_t)span + 1));
}

uint32_t backoff_random(uint32_t *state)
{
	uint32_t x = *state ? *state : 0x9e3779b9u;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}
