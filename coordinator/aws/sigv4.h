/*
 * sigv4 — AWS Signature Version 4 for one HTTP request.
 *
 * Pure: no clock, no I/O, no globals. The caller passes the time, the credentials and the
 * request as it will be sent; sigv4_sign() returns the headers to add (X-Amz-Date, the
 * session token, X-Amz-Content-Sha256 for S3, Authorization) and, for tests and debugging,
 * the canonical request and the string to sign. It does not send anything and does not
 * choose endpoints, regions or credentials (aws_config / aws_creds do).
 *
 * Ownership: everything in struct sigv4_out is owned by it and freed (and the secret-bearing
 * parts wiped) by sigv4_out_clear(). Errors: sigv4_sign() returns 0 or -1 with a reason in
 * out->error (a malformed request: no method, no host, a header name with a newline, …).
 */
#ifndef SV_AWS_SIGV4_H
#define SV_AWS_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct sigv4_header {
	const char *name;
	const char *value;
};

struct sigv4_request {
	const char *method;                 /* "GET", "POST", … */
	const char *path;                   /* as sent on the request line, percent-encoded; "" = "/" */
	const char *query;                  /* raw query without '?', may be NULL or "" */
	const struct sigv4_header *headers; /* as sent; must include Host (or :authority) */
	size_t n_headers;
	const void *body;                   /* may be NULL when body_len is 0 */
	size_t body_len;
	const char *payload_hash;           /* NULL: hex SHA-256 of body; else e.g. "UNSIGNED-PAYLOAD" */
};

struct sigv4_params {
	const char *access_key;
	const char *secret_key;
	const char *session_token; /* NULL: none */
	const char *region;
	const char *service;       /* signing name: "ecs", "ecr", "logs", "route53", "s3", … */
	time_t when;               /* UTC seconds; the caller corrects it for clock skew */
	bool s3;                   /* S3's rules: path not normalised nor double-encoded,
	                              X-Amz-Content-Sha256 added and signed */
};

#define SIGV4_MAX_ADDED 4

struct sigv4_out {
	struct sigv4_header added[SIGV4_MAX_ADDED]; /* headers the caller must send (owned) */
	size_t n_added;
	char *canonical_request;                    /* for tests and --debug (owned) */
	char *string_to_sign;                       /* (owned) */
	char *authorization;                        /* same pointer as the Authorization entry */
	char error[160];
};

int sigv4_sign(const struct sigv4_request *rq, const struct sigv4_params *p, struct sigv4_out *out);
void sigv4_out_clear(struct sigv4_out *out);

#endif
