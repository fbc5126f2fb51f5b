/*
 * uplink_pacer — how much to send per request and how long to wait for its answer, learnt
 * from the path: the batch size limit, the request timeout, and whether to retry at once.
 * Pure (no clock, no syscalls): the uplink (uplink.c) measures and reports; this decides.
 *
 * - Batch limit: halved when a connection breaks (reset or stalled) with a request in flight,
 *   down to one event; grown by half after each answer, up to the configured maximum. A path
 *   that cuts long connections (a proxy, a flaky NAT) still carries short requests, and the
 *   limit climbs back when the path heals. Growth is slower than the cut so that a path that
 *   always cuts settles at a few answered requests per connection.
 * - Request timeout: the retransmission timeout of RFC 6298 over the answered requests'
 *   round trips (srtt + 4 * rttvar), at least a floor that grows with the request's size (a
 *   large batch is not timed by the round trips of small ones), at most the configured timeout;
 *   doubled by each timeout in a row after the first, so a slow coordinator is waited for,
 *   never hammered. Before the
 *   first answer, the configured timeout. A path that stalls then costs a little more than
 *   its round trip per stall, not the configured timeout.
 * - Progress-aware retry: a broken connection is retried at once when the coordinator's ack
 *   advanced since the previous break (the path works, it only cuts); otherwise the caller's
 *   exponential backoff applies (uplink_backoff.h).
 * What it does not do: it does not count events or talk to the network.
 */
#ifndef SV_UPLINK_PACER_H
#define SV_UPLINK_PACER_H

#include <stdbool.h>
#include <stddef.h>

#define UPLINK_PACER_MIN_BYTES 1u         /* the limit's floor: the spool still sends one event */
#define UPLINK_PACER_TIMEOUT_FLOOR_MS 10u /* never time a request out sooner than this, */
#define UPLINK_PACER_FLOOR_BYTES_PER_MS 8192u /* ... plus 1 ms per 8 KiB it carries (8 MB/s) */

struct uplink_pacer {
	size_t limit, max;      /* batch bytes: current and configured */
	unsigned timeout_max_ms;
	unsigned srtt_us, rttvar_us; /* 0 = no sample yet */
	unsigned timeouts;      /* timeouts in a row (each doubles the timeout) */
	bool progress;          /* the ack advanced since the previous break */
};

/* max_bytes: the configured batch bytes; timeout_ms: the configured (largest) timeout. */
void uplink_pacer_init(struct uplink_pacer *p, size_t max_bytes, unsigned timeout_ms);

/* The batch byte limit for the next request (>= 1: the spool sends at least one event). */
size_t uplink_pacer_limit(const struct uplink_pacer *p);

/* How long the next request, of `bytes`, may take (connect, TLS, request, answer), in ms. */
unsigned uplink_pacer_timeout_ms(const struct uplink_pacer *p, size_t bytes);

/* An answer arrived rtt_us after the request started; progressed = the ack advanced. */
void uplink_pacer_answered(struct uplink_pacer *p, unsigned rtt_us, bool progressed);

/*
 * The connection broke with a request of sent_bytes in flight (reset, closed, or timed out:
 * timed_out). Returns true when the request should be retried at once on a new connection
 * (the ack advanced since the previous break), false when the backoff applies.
 */
bool uplink_pacer_broken(struct uplink_pacer *p, size_t sent_bytes, bool timed_out);

#endif
