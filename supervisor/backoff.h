/*
 * backoff — restart delays: exponential from an initial delay (doubling per restart), capped,
 * with jitter that never shortens a delay below half of its nominal value.
 *
 * Pure arithmetic: no clock, no random source of its own. The caller passes a random number
 * so tests can pin it. Nothing is allocated.
 */
#ifndef SV_BACKOFF_H
#define SV_BACKOFF_H

#include <stdint.h>

/* Nominal delay before restart number `step` (0 = the first restart):
 * min(initial_ms * 2^step, max_ms). A max_ms below initial_ms caps at max_ms. */
unsigned backoff_nominal_ms(unsigned initial_ms, unsigned max_ms, unsigned step);

/* Jittered delay in [ceil(nominal/2), nominal], chosen by rnd (any 32-bit value). */
unsigned backoff_jitter_ms(unsigned nominal_ms, uint32_t rnd);

/* One step of xorshift32: a small, seedable random source for the jitter (state != 0). */
uint32_t backoff_random(uint32_t *state);

#endif
