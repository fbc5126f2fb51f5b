/* Unit tests of coordinator/aws/aws_retry.c: retry decisions, backoff bounds, the retry
 * quota and the token buckets of the client-side rate limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aws_retry.h"

static enum aws_retry_kind classify(long status, const char *code)
{
	struct aws_error e;
	aws_error_client(&e, code, "m");
	e.status = status;
	return aws_retry_classify(&e);
}

static void decisions(void **state)
{
	struct aws_error e;
	(void)state;
	assert_int_equal(classify(400, "ThrottlingException"), AWS_RETRY_THROTTLE);
	assert_int_equal(classify(400, "Throttling"), AWS_RETRY_THROTTLE);
	assert_int_equal(classify(400, "TooManyRequestsException"), AWS_RETRY_THROTTLE);
	assert_int_equal(classify(503, "SlowDown"), AWS_RETRY_THROTTLE);
	assert_int_equal(classify(400, "RequestLimitExceeded"), AWS_RETRY_THROTTLE);
	assert_int_equal(classify(429, "HTTP 429"), AWS_RETRY_THROTTLE);
	assert_int_equal(classify(400, "RequestTimeout"), AWS_RETRY_TRANSIENT);
	assert_int_equal(classify(500, "HTTP 500"), AWS_RETRY_TRANSIENT);
	assert_int_equal(classify(502, "HTTP 502"), AWS_RETRY_TRANSIENT);
	assert_int_equal(classify(503, "HTTP 503"), AWS_RETRY_TRANSIENT);
	assert_int_equal(classify(504, "HTTP 504"), AWS_RETRY_TRANSIENT);
	assert_int_equal(classify(500, "ServerException"), AWS_RETRY_TRANSIENT);
	/* everything else is final */
	assert_int_equal(classify(501, "HTTP 501"), AWS_RETRY_NO);
	assert_int_equal(classify(400, "AccessDeniedException"), AWS_RETRY_NO);
	assert_int_equal(classify(403, "SignatureDoesNotMatch"), AWS_RETRY_NO);
	assert_int_equal(classify(400, "ExpiredTokenException"), AWS_RETRY_NO);
	assert_int_equal(classify(400, "ClusterNotFoundException"), AWS_RETRY_NO);
	assert_int_equal(classify(404, "HTTP 404"), AWS_RETRY_NO);
	aws_error_transport(&e, "ConnectionError", "refused", false);
	assert_int_equal(aws_retry_classify(&e), AWS_RETRY_TRANSIENT);
	aws_error_transport(&e, "ConnectionReset", "reset", false);
	assert_int_equal(aws_retry_classify(&e), AWS_RETRY_TRANSIENT);
	aws_error_transport(&e, "Timeout", "timed out", true);
	assert_int_equal(aws_retry_classify(&e), AWS_RETRY_TIMEOUT);
}

static void backoff_bounds(void **state)
{
	(void)state;
	assert_true(aws_retry_backoff(1, 0.0) == 0.0);
	assert_true(aws_retry_backoff(1, 0.5) == 1.0);
	assert_true(aws_retry_backoff(2, 0.5) == 2.0);
	assert_true(aws_retry_backoff(3, 0.999) < 8.0);
	for (unsigned a = 1; a < 100; a++)
		for (double r = 0; r < 1.0; r += 0.01) {
			double b = aws_retry_backoff(a, r);
			assert_true(b >= 0 && b <= AWS_RETRY_MAX_BACKOFF_S);
			assert_true(b <= (a < 5 ? (double)(1u << a) : 20.0));
		}
	assert_true(aws_retry_backoff(10, 0.999999) > 19.99);
	/* out-of-range random numbers are clamped */
	assert_true(aws_retry_backoff(3, -1) == 0);
	assert_true(aws_retry_backoff(3, 7) < 8.0);
}

static void quota(void **state)
{
	struct aws_retry_quota q;
	int taken = 0, n = 0;
	(void)state;
	aws_retry_quota_init(&q);
	assert_int_equal(q.available, 500);
	assert_int_equal(aws_retry_quota_acquire(&q, AWS_RETRY_THROTTLE, &taken), 0);
	assert_int_equal(aws_retry_quota_acquire(&q, AWS_RETRY_TIMEOUT, &taken), 0);
	assert_int_equal(taken, 15);
	assert_int_equal(q.available, 485);
	aws_retry_quota_release(&q, taken);
	assert_int_equal(q.available, 500);
	aws_retry_quota_release(&q, 0);
	assert_int_equal(q.available, 500);
	/* a broken endpoint: 100 retries of cost 5 spend it, the 101st is refused */
	taken = 0;
	while (aws_retry_quota_acquire(&q, AWS_RETRY_TRANSIENT, &taken) == 0)
		n++;
	assert_int_equal(n, 100);
	assert_int_equal(q.available, 0);
	/* successes without retries refill it one by one */
	aws_retry_quota_release(&q, 0);
	aws_retry_quota_release(&q, 0);
	aws_retry_quota_release(&q, 0);
	aws_retry_quota_release(&q, 0);
	assert_int_equal(aws_retry_quota_acquire(&q, AWS_RETRY_TRANSIENT, &taken), -1);
	aws_retry_quota_release(&q, 0);
	assert_int_equal(aws_retry_quota_acquire(&q, AWS_RETRY_TRANSIENT, &taken), 0);
}

static void buckets(void **state)
{
	struct aws_bucket b;
	double w;
	(void)state;
	aws_bucket_init(&b, 2.0, 3.0, 100.0);
	assert_true(aws_bucket_take(&b, 100.0) == 0);
	assert_true(aws_bucket_take(&b, 100.0) == 0);
	assert_true(aws_bucket_take(&b, 100.0) == 0);
	w = aws_bucket_take(&b, 100.0); /* the burst is spent: wait for one token at 2/s */
	assert_true(w > 0.49 && w < 0.51);
	w = aws_bucket_take(&b, 100.0); /* the next waits behind the reserved one */
	assert_true(w > 0.99 && w < 1.01);
	w = aws_bucket_take(&b, 102.0); /* 2 s later: 4 tokens came, 2 were owed */
	assert_true(w == 0);
	aws_bucket_init(&b, 1.0, 2.0, 0.0);
	assert_true(aws_bucket_take(&b, 1000.0) == 0); /* refill is capped at the burst */
	assert_true(aws_bucket_take(&b, 1000.0) == 0);
	assert_true(aws_bucket_take(&b, 1000.0) > 0);
}

static void categories(void **state)
{
	double rate, burst, r2, b2;
	(void)state;
	assert_int_equal(aws_retry_category("ecs", "RunTask"), AWS_RL_ECS_RUN);
	assert_int_equal(aws_retry_category("ecs", "StopTask"), AWS_RL_ECS_RUN);
	assert_int_equal(aws_retry_category("ecs", "DescribeTasks"), AWS_RL_ECS_DESCRIBE);
	assert_int_equal(aws_retry_category("ecs", "ListTasks"), AWS_RL_ECS_DESCRIBE);
	assert_int_equal(aws_retry_category("ecs", "RegisterTaskDefinition"), AWS_RL_ECS_TASKDEF);
	assert_int_equal(aws_retry_category("ecs", "DeregisterTaskDefinition"), AWS_RL_ECS_TASKDEF);
	assert_int_equal(aws_retry_category("ecs", "ListClusters"), AWS_RL_NONE);
	assert_int_equal(aws_retry_category("ecr", "RunTask"), AWS_RL_NONE);
	aws_retry_category_limits(AWS_RL_ECS_TASKDEF, &rate, &burst);
	aws_retry_category_limits(AWS_RL_ECS_RUN, &r2, &b2);
	assert_true(rate > 0 && rate < r2);
	assert_true(burst >= 1 && burst < b2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decisions), cmocka_unit_test(backoff_bounds), cmocka_unit_test(quota),
		cmocka_unit_test(buckets),   cmocka_unit_test(categories),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
