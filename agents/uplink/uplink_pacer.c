/*
 * uplink_pacer — batch limit, request timeout and retry pace (uplink_pacer.h).
 */
#include "uplink_pacer.h"

#define MS 1000u

void uplink_pacer_init(struct uplink_pacer *p, size_t max_bytes, unsigned timeout_ms)
{
	p->max = max_bytes ? max_bytes : UPLINK_PACER_MIN_BYTES;
	p->limit = p->max;
	p->timeout_max_ms = timeout_ms > UPLINK_PACER_TIMEOUT_FLOOR_MS ? timeout_ms
								       : UPLINK_PACER_TIMEOUT_FLOOR_MS;
	p->srtt_us = p->rttvar_us = 0;
	p->timeouts = 0;
	p->progress = false;
}

size_t uplink_pacer_limit(const struct uplink_pacer *p)
{
	return p->limit;
}

unsigned uplink_pacer_timeout_ms(const struct uplink_pacer *p, size_t bytes)
{
	unsigned long long t, floor = UPLINK_PACER_TIMEOUT_FLOOR_MS + bytes / UPLINK_PACER_FLOOR_BYTES_PER_MS;

	if (!p->srtt_us)
		return p->timeout_max_ms;
	t = ((unsigned long long)p->srtt_us + 4ull * p->rttvar_us + MS - 1) / MS;
	if (t < floor)
		t = floor;
	/* From the second timeout in a row: on a path that stalls, the first request on a fresh
	 * connection is as quick to answer as any. */
	for (unsigned i = 1; i < p->timeouts && t < p->timeout_max_ms; i++)
		t *= 2;
	return t > p->timeout_max_ms ? p->timeout_max_ms : (unsigned)t;
}

void uplink_pacer_answered(struct uplink_pacer *p, unsigned rtt_us, bool progressed)
{
	/* RFC 6298, 2.2 and 2.3: alpha = 1/8, beta = 1/4. */
	if (!p->srtt_us) {
		p->srtt_us = rtt_us ? rtt_us : 1;
		p->rttvar_us = rtt_us / 2;
	} else {
		unsigned d = p->srtt_us > rtt_us ? p->srtt_us - rtt_us : rtt_us - p->srtt_us;
		p->rttvar_us = p->rttvar_us - p->rttvar_us / 4 + d / 4;
		p->srtt_us = p->srtt_us - p->srtt_us / 8 + rtt_us / 8;
		if (!p->srtt_us)
			p->srtt_us = 1;
	}
	p->timeouts = 0;
	if (progressed)
		p->progress = true;
	if (p->limit < p->max) {
		size_t grow = p->limit / 2 ? p->limit / 2 : 1;
		p->limit = p->max - p->limit > grow ? p->limit + grow : p->max;
	}
}

bool uplink_pacer_broken(struct uplink_pacer *p, size_t sent_bytes, bool timed_out)
{
	bool again = p->progress;
	size_t base = sent_bytes && sent_bytes < p->limit ? sent_bytes : p->limit;

	p->progress = false;
	if (sent_bytes) /* an empty request (a question for the ack) says nothing of its size */
		p->limit = base / 2 > UPLINK_PACER_MIN_BYTES ? base / 2 : UPLINK_PACER_MIN_BYTES;
	if (timed_out && p->timeouts < 16)
		p->timeouts++;
	return again;
}
