/*
 * protocol/ack.h — the coordinator's sequence bookkeeping for one stream, as pure arithmetic.
 *
 * The coordinator stores a stream's events in sequence order only: its whole state per stream
 * is `ack`, the highest seq such that 1..ack are all stored (0 before the first event).
 * For an incoming batch (consecutive seqs first..last) it stores exactly the part that
 * continues the stored run, ignores what it already has (duplicates), and when the batch
 * starts beyond ack + 1 (a gap: an earlier batch was lost) it stores nothing and asks the
 * agent to resend from ack + 1. A batch reaching beyond ack + PR_SEQ_AHEAD_MAX is refused
 * (400) so that no client can make the coordinator hold or wait for an unbounded future.
 *
 * It does not store anything itself and knows nothing of HTTP.
 */
#ifndef SV_PROTOCOL_ACK_H
#define SV_PROTOCOL_ACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/common.h"

struct pr_batch;

struct pr_ack_plan {
	size_t store_from;    /* index in the batch of the first event to store */
	size_t store_count;   /* how many events, from store_from on, to store (in order) */
	size_t duplicates;    /* events at or below ack: already stored, ignored */
	uint64_t new_ack;     /* the stream's ack once those events are stored */
	uint64_t resend_from; /* 0, or the seq the agent must send next (a gap was seen) */
};

/*
 * Plan a batch of `count` consecutive seqs starting at `first` (first ignored when
 * count == 0) against the stream's `ack`. Returns 0 and fills *plan, or -1 (err->status
 * 400) when the batch reaches beyond ack + PR_SEQ_AHEAD_MAX or first is 0.
 */
int pr_ack_plan(uint64_t ack, uint64_t first, size_t count, struct pr_ack_plan *plan,
		struct pr_error *err);

/* The same for a decoded batch. */
int pr_ack_plan_batch(uint64_t ack, const struct pr_batch *b, struct pr_ack_plan *plan,
		      struct pr_error *err);

#endif
