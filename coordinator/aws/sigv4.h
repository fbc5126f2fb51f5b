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
 *
 * The rules, in short (sigv4.c has the details at each step):
 * - Headers: every header of the request is signed except the ones proxies change (botocore's
 *   list: user-agent, expect, connection, keep-alive, proxy-*, te, trailer, transfer-encoding,
 *   upgrade, x-amzn-trace-id); names lowercased, values trimmed with inner whitespace runs
 *   (folded lines too) made one space, repeated headers joined with ',' in their order.
 *   Authorization and X-Amz-Date of the input, X-Amz-Security-Token when a session token is
 *   given and X-Amz-Content-Sha256 under S3 rules are ignored: the signer sets them (out->added)
 *   and the caller sends those instead.
 * - Path: for services other than S3, dot segments and empty segments are removed and the
 *   path is encoded again ('%' becomes "%25"); for S3 it is used as sent ("%XX" kept, raw bytes
 *   that may not appear on a request line encoded once).
 * - Query: pairs decoded and encoded again (so raw UTF-8 and "%XX" both end as "%XX"), sorted
 *   by key then by value; "a" signs as "a="; '+' is a literal '+' (send spaces as %20).
 * - canonical_request holds the session token in clear when one is signed: it is for tests and
 *   debugging and must not be logged as is.
 * The names in out->added are static strings; their values are owned by out.
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
	bool token_unsigned;       /* the session token goes in out->added but is not signed (the
	                              few services that want it added after signing; AWS suite's
	                              post-sts-header-after) */
};

/* Bounds: the canonical request (and so every part of it) and the secret key's length. */
#define SIGV4_MAX_CANONICAL (1024 * 1024)
#define SIGV4_MAX_SECRET 1024

#define SIGV4_MAX_ADDED 4

struct sigv4_out {
	struct sigv4_header added[SIGV4_MAX_ADDED]; /* headers the caller must send (owned) */
	size_t n_added;
	char *canonical_request;                    /* for tests and --debug (owned) */
	char *string_to_sign;                       /* (owned) */
	char *authorization;                        /* same pointer as the Authorization entry */
	char error[160];
};

/* out is overwritten (zero it or sigv4_out_clear() it before reuse); on -1 only out->error is
 * set. */
int sigv4_sign(const struct sigv4_request *rq, const struct sigv4_params *p, struct sigv4_out *out);
/* Wipes and frees what out holds; out is all zeros afterwards. NULL is a no-op. */
void sigv4_out_clear(struct sigv4_out *out);

#endif
