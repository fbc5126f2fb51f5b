/*
 * protocol/ack.c — what a coordinator stores from a batch (protocol/ack.h).
 */
#include <string.h>

#include "protocol/ack.h"
#include "protocol/batch.h"
#include "protocol/internal.h"

int pr_ack_plan(uint64_t ack, uint64_t first, size_t count, struct pr_ack_plan *plan,
		struct pr_error *err)
{
	uint64_t last;

	memset(plan, 0, sizeof *plan);
	plan->new_ack = ack;
	if (count == 0)
		return 0;
	if (first == 0 || first > PR_SEQ_MAX || count > PR_SEQ_MAX - first + 1)
		return pr_err(err, 400, "seq: out of range");
	last = first + (count - 1);
	if (ack > PR_SEQ_MAX || last > ack + (uint64_t)PR_SEQ_AHEAD_MAX)
		return pr_err(err, 400,
			      "seq %llu is more than %u beyond the acknowledged %llu",
			      (unsigned long long)last, PR_SEQ_AHEAD_MAX, (unsigned long long)ack);
	if (first > ack + 1) {
		/* A gap: an earlier batch never arrived. Store nothing; the agent resends. */
		plan->resend_from = ack + 1;
		return 0;
	}
	if (last <= ack) {
		plan->duplicates = count;
		plan->store_from = count;
		return 0;
	}
	plan->duplicates = (size_t)(ack + 1 - first);
	plan->store_from = plan->duplicates;
	plan->store_count = count - plan->duplicates;
	plan->new_ack = last;
	return 0;
}

int pr_ack_plan_batch(uint64_t ack, const struct pr_batch *b, struct pr_ack_plan *plan,
		      struct pr_error *err)
{
	return pr_ack_plan(ack, b->first_seq, b->count, plan, err);
}
