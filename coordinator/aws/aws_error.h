/*
 * aws_error — what went wrong with an AWS call, in AWS's words, as one line:
 *   ecs RunTask: AccessDeniedException: User: ... is not authorized ... (request id 1a2b...)
 *
 * What it does: parses an error answer of any shape AWS (or moto) sends — JSON ("__type" with
 * a "namespace#" prefix, "code", "message"/"Message", the x-amzn-ErrorType header), XML
 * (<ErrorResponse><Error><Code>, <Response><Errors><Error><Code>, S3's <Error><Code>, via
 * expat), an HTML error page (its <title>), an empty, truncated or unparseable body — and
 * transport failures (connection, timeout, reset), into code, message and request id.
 * Nothing here crashes on any input and nothing yields an empty error: an unrecognised body
 * becomes "HTTP <status>" with a printable excerpt.
 * What it does not do: decide about retries (aws_retry) or print (callers print the line).
 *
 * Pure: no I/O, no globals. All fields are bounded arrays; text is cleaned of control
 * characters so the line is one line.
 */
#ifndef SV_AWS_ERROR_H
#define SV_AWS_ERROR_H

#include <stdbool.h>
#include <stddef.h>

#define AWS_ERROR_BODY_MAX (1u << 20) /* bodies beyond this are judged by their first MiB */

struct aws_error {
	char code[128];       /* "AccessDeniedException", "HTTP 503", "Timeout", "ConnectionError" */
	char message[1024];
	char request_id[128];
	long status;          /* HTTP status, 0 when no answer came */
	bool transport;       /* no complete answer: connection failure, timeout, reset */
	bool timeout;
};

/* From an HTTP error answer. request_id_hdr and error_type_hdr may be NULL or "". */
void aws_error_from_response(struct aws_error *e, long status, const char *content_type,
                             const char *request_id_hdr, const char *error_type_hdr,
                             const char *body, size_t len);
/* A failure without an answer. kind: "ConnectionError", "Timeout", "ConnectionReset", ... */
void aws_error_transport(struct aws_error *e, const char *kind, const char *detail, bool timeout);
/* A client-side problem before sending (no region, no credentials, bad input). */
void aws_error_client(struct aws_error *e, const char *code, const char *message);

/* "SERVICE OPERATION: CODE: MESSAGE (request id ID)" into buf (always NUL-terminated). */
void aws_error_format(const struct aws_error *e, const char *service, const char *operation,
                      char *buf, size_t buflen);

/* True when the error says the request's time is too far from the server's. */
bool aws_error_is_skew(const struct aws_error *e);

/* An RFC 1123 / RFC 850 / asctime HTTP date to seconds; -1 when unparseable. */
long long aws_error_parse_http_date(const char *s);

#endif
