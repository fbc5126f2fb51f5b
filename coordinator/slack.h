/*
 * slack — a stage's result as a Slack incoming-webhook message: Block Kit blocks with a
 * plain-text fallback (status, counts, the first few failed tests, the playground URL, a link
 * to the Jenkins build), posted with libcurl.
 *
 * A Slack failure never fails a stage: slack_post() reports what went wrong in err and the
 * caller prints it as a warning. The webhook URL is a secret (whoever has it can post to the
 * channel): nothing here prints it or puts it in err, not even in part.
 * 429 answers are retried after their Retry-After (bounded), 5xx and connection failures a few
 * times with backoff; 4xx other than 429 are final (a revoked webhook answers 403/404), and so
 * is a certificate the CAs do not vouch for.
 *
 * slack_payload() and slack_retry_after() are pure, for unit tests. slack_post() blocks for at
 * most opts->max_total_ms.
 */
#ifndef SV_COORD_SLACK_H
#define SV_COORD_SLACK_H

#include <stddef.h>

#include <jansson.h>

#define SLACK_FAILED_SHOWN 5      /* failed tests listed in the message */
#define SLACK_TEXT_MAX 3000       /* Slack's limit for a section block's text */

struct slack_message {
	const char *stage;            /* "tests" */
	const char *result;           /* "passed" | "failed" | "infrastructure-error" | "interrupted" */
	const char *build_id;         /* BUILD_TAG, may be NULL */
	const char *build_url;        /* BUILD_URL, may be NULL */
	const char *branch;           /* may be NULL */
	const char *playground_url;   /* may be NULL */
	unsigned long long passed, failed, errors, skipped;
	unsigned long long findings, findings_failing;
	const char *const *failed_tests; /* "Class::name: message", the first few; may be NULL */
	size_t nfailed_tests;         /* how many failed tests there are in all */
	const char *problem;          /* the first infrastructure problem, may be NULL */
	double elapsed_s;
};

struct slack_options {
	long connect_timeout_ms;      /* 0: 5000 */
	long request_timeout_ms;      /* 0: 15000 per attempt */
	long max_total_ms;            /* 0: 60000 for all attempts and waits together */
	unsigned max_attempts;        /* 0: 4 */
	const char *ca_file;          /* a PEM bundle instead of the system's CAs; NULL: the system's */
};

/* New reference: {"text": fallback, "blocks": [...]}. */
json_t *slack_payload(const struct slack_message *m);

/* Seconds from a Retry-After header value (delta-seconds; an HTTP date is not used by Slack
 * and counts as absent): -1 when absent or not a number. */
long slack_retry_after(const char *value);

/* 0 when Slack answered 2xx; -1 with err filled ("HTTP 404: no_service", "timed out after 3
 * attempts", …), never naming the URL. */
int slack_post(const char *webhook_url, const json_t *payload, const struct slack_options *opts,
	       char *err, size_t errlen);

#endif
