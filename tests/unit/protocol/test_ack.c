/*
 * protocol/ack.c against a reference model: a coordinator that stores events one by one
 * into a set and acks the highest contiguous. Every small (ack, first, count) is checked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "protocol/protocol.h"

static void test_exhaustive_small(void **state)
{
	(void)state;
	for (uint64_t ack = 0; ack < 12; ack++)
		for (uint64_t first = 1; first < 16; first++)
			for (size_t count = 0; count < 8; count++) {
				struct pr_ack_plan p;
				struct pr_error err = {0};
				uint64_t last = first + count - 1;
				assert_int_equal(pr_ack_plan(ack, first, count, &p, &err), 0);
				assert_int_equal(p.store_from + p.store_count <= count, 1);
				if (count == 0) {
					assert_int_equal(p.new_ack, ack);
					assert_int_equal(p.store_count + p.duplicates, 0);
					assert_int_equal(p.resend_from, 0);
					continue;
				}
				if (first > ack + 1) { /* gap */
					assert_int_equal(p.store_count, 0);
					assert_int_equal(p.duplicates, 0);
					assert_int_equal(p.resend_from, ack + 1);
					assert_int_equal(p.new_ack, ack);
					continue;
				}
				assert_int_equal(p.resend_from, 0);
				/* model: every seq <= ack is a duplicate, the rest extend the run */
				size_t dups = 0;
				for (uint64_t s = first; s <= last; s++)
					dups += s <= ack;
				assert_int_equal(p.duplicates, dups);
				assert_int_equal(p.store_from, dups);
				assert_int_equal(p.store_count, count - dups);
				assert_int_equal(p.new_ack, last > ack ? last : ack);
			}
}

static void test_far_future(void **state)
{
	struct pr_ack_plan p;
	struct pr_error err = {0};

	(void)state;
	assert_int_equal(pr_ack_plan(0, PR_SEQ_AHEAD_MAX, 1, &p, &err), 0);
	assert_int_equal(p.resend_from, 1);
	assert_int_equal(pr_ack_plan(0, PR_SEQ_AHEAD_MAX + 1, 1, &p, &err), -1);
	assert_int_equal(err.status, 400);
	/* a batch reaching past the bound from a valid start is refused too */
	assert_int_equal(pr_ack_plan(10, 11, PR_SEQ_AHEAD_MAX + 1, &p, &err), -1);
	assert_int_equal(pr_ack_plan(10, 11, PR_SEQ_AHEAD_MAX, &p, &err), 0);
	assert_int_equal(p.new_ack, 10 + PR_SEQ_AHEAD_MAX);
	/* near 2^53 */
	assert_int_equal(pr_ack_plan(PR_SEQ_MAX - 1, PR_SEQ_MAX, 1, &p, &err), 0);
	assert_int_equal(p.new_ack, PR_SEQ_MAX);
	assert_int_equal(pr_ack_plan(PR_SEQ_MAX - 1, PR_SEQ_MAX, 2, &p, &err), -1);
	assert_int_equal(pr_ack_plan(0, 0, 1, &p, &err), -1);
	assert_int_equal(pr_ack_plan(UINT64_MAX, 1, 1, &p, &err), -1);
}

/* A lossy channel: random batches, some lost, some answered twice; the store gets 1..N once. */
static void test_simulated_stream(void **state)
{
	uint64_t ack = 0, agent_next = 1, rng = 88172645463325252ull;
	uint64_t stored = 0;
	const uint64_t N = 20000;

	(void)state;
	while (ack < N) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		size_t count = (size_t)(rng % 50) + 1;
		if (agent_next + count - 1 > N)
			count = (size_t)(N - agent_next + 1);
		bool lost_request = rng % 7 == 0, lost_answer = rng % 5 == 0;
		struct pr_ack_plan p;
		if (!lost_request) {
			assert_int_equal(pr_ack_plan(ack, agent_next, count, &p, NULL), 0);
			for (size_t i = 0; i < p.store_count; i++)
				assert_int_equal(agent_next + p.store_from + i, ++stored);
			ack = p.new_ack;
			if (!lost_answer) {
				agent_next = ack + 1; /* the agent's rule */
				continue;
			}
		}
		/* no answer: the agent sometimes sends what follows (it heals on the next
		 * answer), otherwise it resends the same batch */
		if (rng % 3 == 0)
			agent_next += count;
		if (agent_next > N)
			agent_next = ack + 1;
	}
	assert_int_equal(stored, N);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exhaustive_small),
		cmocka_unit_test(test_far_future),
		cmocka_unit_test(test_simulated_stream),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
