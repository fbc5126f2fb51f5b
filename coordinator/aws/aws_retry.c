/* aws_retry — see aws_retry.h. */
#include "aws_retry.h"

#include <math.h>
#include <string.h>

/* botocore's retries/standard.py and the SDK reference's lists. */
static const char *const throttle_codes[] = {
	"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
	"TooManyRequestsException", "ProvisionedThroughputExceededException",
	"TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
	"LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
	"EC2ThrottledException",
};
static const char *const transient_codes[] = {
	"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete", "InternalError",
	"InternalFailure", "ServiceUnavailable", "ServiceUnavailableException", "IDPCommunicationError",
};

static bool in(const char *code, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(code, list[i]) == 0)
			return true;
	return false;
}

bool aws_retry_is_throttle_code(const char *code)
{
	return in(code, throttle_codes, sizeof throttle_codes / sizeof throttle_codes[0]);
}

enum aws_retry_kind aws_retry_classify(const struct aws_error *e)
{
	if (e->transport)
		return e->timeout ? AWS_RETRY_TIMEOUT : AWS_RETRY_TRANSIENT;
	if (aws_retry_is_throttle_code(e->code) || e->status == 429)
		return AWS_RETRY_THROTTLE;
	if (in(e->code, transient_codes, sizeof transient_codes / sizeof transient_codes[0]))
		return AWS_RETRY_TRANSIENT;
	if (e->status == 500 || e->status == 502 || e->status == 503 || e->status == 504)
		return AWS_RETRY_TRANSIENT;
	return AWS_RETRY_NO;
}

double aws_retry_backoff(unsigned attempt, double r01)
{
	double cap;

	if (!(r01 >= 0.0))
		r01 = 0.0;
	if (r01 >= 1.0)
		r01 = 0.999999;
	/* 2^attempt is already past the cap from attempt 5 on; avoid pow() overflow beyond. */
	cap = attempt >= 5 ? AWS_RETRY_MAX_BACKOFF_S : ldexp(1.0, (int)attempt);
	if (cap > AWS_RETRY_MAX_BACKOFF_S)
		cap = AWS_RETRY_MAX_BACKOFF_S;
	return r01 * cap;
}

void aws_retry_quota_init(struct aws_retry_quota *q)
{
	q->capacity = AWS_RETRY_QUOTA_CAPACITY;
	q->available = AWS_RETRY_QUOTA_CAPACITY;
}

int aws_retry_quota_acquire(struct aws_retry_quota *q, enum aws_retry_kind kind, int *taken)
{
	int cost = kind == AWS_RETRY_TIMEOUT ? AWS_RETRY_TIMEOUT_COST : AWS_RETRY_COST;

	if (q->available < cost)
		return -1;
	q->available -= cost;
	*taken += cost;
	return 0;
}

void aws_retry_quota_release(struct aws_retry_quota *q, int taken)
{
	q->available += taken > 0 ? taken : AWS_RETRY_NO_RETRY_INCREMENT;
	if (q->available > q->capacity)
		q->available = q->capacity;
}

void aws_bucket_init(struct aws_bucket *b, double rate, double burst, double now)
{
	b->rate = rate > 0 ? rate : 1;
	b->burst = burst >= 1 ? burst : 1;
	b->tokens = b->burst;
	b->last = now;
}

double aws_bucket_take(struct aws_bucket *b, double now)
{
	if (now > b->last) {
		b->tokens += (now - b->last) * b->rate;
		if (b->tokens > b->burst)
			b->tokens = b->burst;
		b->last = now;
	}
	b->tokens -= 1;
	return b->tokens >= 0 ? 0 : -b->tokens / b->rate;
}

enum aws_ratelimit_category aws_retry_category(const char *service, const char *operation)
{
	static const char *const run[] = {"RunTask", "StartTask", "StopTask"};
	static const char *const describe[] = {"DescribeTasks", "ListTasks"};
	static const char *const taskdef[] = {"RegisterTaskDefinition", "DeregisterTaskDefinition",
	                                      "DeleteTaskDefinitions"};

	if (strcmp(service, "ecs") != 0)
		return AWS_RL_NONE;
	if (in(operation, run, 3))
		return AWS_RL_ECS_RUN;
	if (in(operation, describe, 2))
		return AWS_RL_ECS_DESCRIBE;
	if (in(operation, taskdef, 3))
		return AWS_RL_ECS_TASKDEF;
	return AWS_RL_NONE;
}

void aws_retry_category_limits(enum aws_ratelimit_category c, double *rate, double *burst)
{
	/* ECS's token buckets (per account and region): RunTask 20/s sustained, burst 100;
	 * DescribeTasks/ListTasks 20/s ... 100; task definitions 1/s, burst 20 (ECS request
	 * throttling documentation). One host takes half, so two hosts fit. */
	switch (c) {
	case AWS_RL_ECS_RUN: *rate = 10; *burst = 50; break;
	case AWS_RL_ECS_DESCRIBE: *rate = 10; *burst = 50; break;
	case AWS_RL_ECS_TASKDEF: *rate = 0.5; *burst = 10; break;
	default: *rate = 1000; *burst = 1000; break;
	}
}
