/*
 * aws_client — one AWS API call, end to end: endpoint and region (aws_config), credentials
 * (aws_chain, refreshed as they near expiry), SigV4 (sigv4), the HTTP exchange (aws_http),
 * the SDKs' standard retries with the retry quota and the per-category rate limits
 * (aws_retry), clock-skew correction, and AWS's error line (aws_error).
 *
 * The request API is generic (method, path, query, headers, body: REST-XML for Route 53 and
 * S3); aws_client_json() is the JSON 1.1 call (ECS, ECR, CloudWatch Logs) on top.
 *
 * Concurrency: a client owns one curl easy handle (its kept-alive connection) and is used by
 * one thread at a time, one call at a time. The Fargate backend runs calls concurrently with
 * one client per lane (aws_http_multi can drive their handles together).
 *
 * Secrets: the client never prints. Its debug callback receives one line per attempt
 * (method, URL without query, status, error code, backoff) and never a header, a key or a token.
 *
 * Ownership: a result's body is owned by the result (aws_result_clear frees it). The client
 * owns its configuration files, credential chain and HTTP handle.
 */
#ifndef SV_AWS_CLIENT_H
#define SV_AWS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "aws_config.h"
#include "aws_error.h"
#include "aws_http.h"

struct aws_client_options {
	const char *profile;      /* --profile, or NULL */
	const char *region;       /* --region, or NULL */
	const char *endpoint_url; /* --endpoint-url, or NULL */
	aws_env_fn env;           /* NULL: the process environment */
	void *env_arg;
	long connect_timeout_ms;  /* 0: 10 s */
	long timeout_ms;          /* whole request, 0: 60 s */
	double backoff_scale;     /* 0: 1.0; tests shrink the real sleeps (the computed backoff is unchanged) */
	void (*debug)(void *arg, const char *line);
	void *debug_arg;
};

struct aws_call {
	const char *service;    /* "ecs", "route53", ... (aws_service) */
	const char *operation;  /* "ListClusters": for the error line and rate limits */
	const char *method;     /* "GET", "POST", ... */
	const char *path;       /* percent-encoded; NULL or "" = "/" */
	const char *query;      /* percent-encoded, without '?'; may be NULL */
	const struct aws_http_header *headers; /* extra headers, signed */
	size_t n_headers;
	const void *body;
	size_t body_len;
	bool unsigned_payload;  /* S3 only: X-Amz-Content-Sha256: UNSIGNED-PAYLOAD */
};

struct aws_result {
	long status;
	char *body;             /* owned; NUL-terminated */
	size_t len;
	char request_id[128];
	unsigned attempts;      /* attempts made (the skew-corrected retry included) */
	bool skew_corrected;
	struct aws_error error; /* when the call failed */
};

void aws_result_clear(struct aws_result *r);

struct aws_client;

struct aws_client *aws_client_new(const struct aws_client_options *o, char *err, size_t errlen);
void aws_client_free(struct aws_client *c);

/* 0 on a 2xx answer (body in r), -1 otherwise (r->error filled; never an empty error). */
int aws_client_call(struct aws_client *c, const struct aws_call *call, struct aws_result *r);

/* A JSON 1.1 call: input (borrowed; NULL means {}) to *output (new reference). */
int aws_client_json(struct aws_client *c, const char *service, const char *operation, json_t *input,
                    json_t **output, struct aws_result *r);

/* The resolved configuration (for messages: region, profile). */
const struct aws_config *aws_client_config(const struct aws_client *c);

#endif
