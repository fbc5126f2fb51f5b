/*
 * aws_retry — the AWS SDKs' "standard" retry mode and client-side rate limits.
 *
 * What it does: decides whether a failed attempt is retried (throttling codes, transient codes,
 * HTTP 500/502/503/504, connection failures and timeouts; nothing else), computes the
 * full-jitter exponential backoff (random(0..1) * 2^attempt seconds, capped at 20 s), keeps
 * the retry quota (a bucket of 500: a retry costs 5, a retry after a timeout 10, a success
 * pays back what its retries took, or 1) so a broken endpoint is not hammered, and offers a
 * token bucket (rate, burst) for the per-category client-side rate limits of ECS calls.
 *
 * Pure: the random number and the time are arguments. Not thread-safe; one per client.
 */
#ifndef SV_AWS_RETRY_H
#define SV_AWS_RETRY_H

#include <stdbool.h>

#include "aws_error.h"

#define AWS_RETRY_MAX_BACKOFF_S 20.0
#define AWS_RETRY_QUOTA_CAPACITY 500
#define AWS_RETRY_COST 5
#define AWS_RETRY_TIMEOUT_COST 10
#define AWS_RETRY_NO_RETRY_INCREMENT 1

enum aws_retry_kind {
	AWS_RETRY_NO,        /* final: a client error, a modelled service error */
	AWS_RETRY_THROTTLE,  /* ThrottlingException, TooManyRequestsException, 429, ... */
	AWS_RETRY_TRANSIENT, /* 500/502/503/504, RequestTimeout, connection failures */
	AWS_RETRY_TIMEOUT,   /* no answer in time: transient, with the higher quota cost */
};

enum aws_retry_kind aws_retry_classify(const struct aws_error *e);
bool aws_retry_is_throttle_code(const char *code);

/* Seconds to wait before attempt number attempt+1 (attempt counts from 1 after the first
 * failure); r01 is a uniform random number in [0, 1). Always in [0, 20]. */
double aws_retry_backoff(unsigned attempt, double r01);

struct aws_retry_quota {
	int available;
	int capacity;
};

void aws_retry_quota_init(struct aws_retry_quota *q);
/* Takes the cost of one retry of this kind; -1 (nothing taken) when the quota is spent. */
int aws_retry_quota_acquire(struct aws_retry_quota *q, enum aws_retry_kind kind, int *taken);
/* A call succeeded: pays back `taken` (the sum its retries took), or 1 when it took none. */
void aws_retry_quota_release(struct aws_retry_quota *q, int taken);

/* A token bucket: `rate` tokens per second up to `burst`. */
struct aws_bucket {
	double rate;
	double burst;
	double tokens;
	double last; /* the time of the last update, seconds (monotonic) */
};

void aws_bucket_init(struct aws_bucket *b, double rate, double burst, double now);
/* Takes one token: returns 0 when one was there, else the seconds to wait before it will be
 * (the token is then reserved: the caller sleeps and proceeds). */
double aws_bucket_take(struct aws_bucket *b, double now);

/* The client-side rate-limit category of an ECS operation (0: none). */
enum aws_ratelimit_category {
	AWS_RL_NONE,
	AWS_RL_ECS_RUN,      /* RunTask, StartTask, StopTask */
	AWS_RL_ECS_DESCRIBE, /* DescribeTasks, ListTasks */
	AWS_RL_ECS_TASKDEF,  /* RegisterTaskDefinition, DeregisterTaskDefinition, DeleteTaskDefinitions */
	AWS_RL_N
};

enum aws_ratelimit_category aws_retry_category(const char *service, const char *operation);
/* Sustained rate and burst of a category: conservative shares of ECS's documented limits. */
void aws_retry_category_limits(enum aws_ratelimit_category c, double *rate, double *burst);

#endif
