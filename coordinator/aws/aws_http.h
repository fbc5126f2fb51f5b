/*
 * aws_http — one HTTP exchange over libcurl, for the AWS client and the credential endpoints.
 *
 * What it does: keeps one curl easy handle per aws_http, so consecutive requests reuse the
 * kept-alive connection; TLS verification stays on (CURLOPT_SSL_VERIFYPEER/HOST are never
 * turned off); a connect timeout and a whole-request timeout on every request; a bound on the
 * response body; classifies the outcome (answer, connection failure, timeout, truncated).
 * For concurrency, aws_http_multi drives several aws_http (one per call in flight) with one
 * curl multi handle: the Fargate backend keeps one aws_http per lane.
 * What it does not do: sign, retry, parse AWS errors (aws_client does), or print anything —
 * request headers (which carry the Authorization header) are never logged.
 *
 * Ownership: a response's body and header fields are owned by the aws_http that produced
 * them and valid until its next request or aws_http_free().
 */
#ifndef SV_AWS_HTTP_H
#define SV_AWS_HTTP_H

#include <stddef.h>

#define AWS_HTTP_MAX_BODY (32u * 1024 * 1024)

struct aws_http_header {
	const char *name;
	const char *value;
};

struct aws_http_request {
	const char *method;  /* "GET", "PUT", "POST", "DELETE", "HEAD" */
	const char *url;
	const struct aws_http_header *headers;
	size_t n_headers;
	const void *body;
	size_t body_len;
	long connect_timeout_ms; /* 0: 10 s */
	long timeout_ms;         /* whole request; 0: 60 s */
	const char *ca_file;     /* a PEM bundle replacing the system's CAs; NULL: the system's
	                          * (a handle keeps a bundle once given: pass the same each time) */
};

enum aws_http_outcome {
	AWS_HTTP_OK,           /* an HTTP answer, any status */
	AWS_HTTP_CONNECT,      /* no connection (refused, DNS, TLS handshake) */
	AWS_HTTP_TIMEOUT,      /* connect or whole-request timeout */
	AWS_HTTP_BROKEN,       /* reset or closed mid-answer, truncated body */
	AWS_HTTP_TOO_LARGE,    /* body over AWS_HTTP_MAX_BODY */
	AWS_HTTP_ERROR,        /* anything else: bad URL, out of memory */
};

struct aws_http_response {
	enum aws_http_outcome outcome;
	long status;
	char *body;        /* NUL-terminated, len bytes */
	size_t len;
	char request_id[128];  /* x-amzn-RequestId / x-amz-request-id */
	char error_type[256];  /* x-amzn-ErrorType */
	char date[64];         /* Date */
	char content_type[128];
	char error[256];       /* curl's reason when outcome != AWS_HTTP_OK */
};

struct aws_http;

struct aws_http *aws_http_new(void);
void aws_http_free(struct aws_http *h);

/* Performs rq and fills *resp. 0 when an answer came (resp->outcome AWS_HTTP_OK), -1 when not
 * (resp->outcome and resp->error tell why). */
int aws_http_perform(struct aws_http *h, const struct aws_http_request *rq, struct aws_http_response *resp);

/* The concurrent form: start requests on several aws_http, run them together, collect each. */
struct aws_http_multi;
struct aws_http_multi *aws_http_multi_new(void);
void aws_http_multi_free(struct aws_http_multi *m);
/* Prepares rq on h (which must not be in flight) and adds it. rq's strings must live until
 * aws_http_multi_take() returns for h. */
int aws_http_multi_add(struct aws_http_multi *m, struct aws_http *h, const struct aws_http_request *rq);
/* Runs until one request finished (or timeout_ms passed); returns that aws_http (its response
 * filled, as aws_http_perform would) or NULL when none finished yet or none is in flight. */
struct aws_http *aws_http_multi_take(struct aws_http_multi *m, int timeout_ms, struct aws_http_response *resp);

/* Global libcurl initialisation; call once from main() before any thread starts. */
int aws_http_global_init(void);
void aws_http_global_cleanup(void);

#endif
