/*
 * aws_chain — the credential provider chain, in the AWS CLI's order, with refresh.
 *
 * Order: the environment (AWS_ACCESS_KEY_ID, ...; skipped when --profile was given, as
 * botocore does), the shared credentials file's [profile], the config file's profile keys,
 * ECS container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI on 169.254.170.2, or
 * AWS_CONTAINER_CREDENTIALS_FULL_URI on loopback or https, with the Authorization token from
 * AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or AWS_CONTAINER_AUTHORIZATION_TOKEN), and EC2
 * instance metadata with IMDSv2 (PUT a session token, GET the role name, GET its credentials;
 * a 401 means the token went stale: a new token, one more try; 403/404/405 on the token PUT
 * falls back to IMDSv1; AWS_EC2_METADATA_SERVICE_ENDPOINT or the profile's
 * ec2_metadata_service_endpoint replace http://169.254.169.254, AWS_EC2_METADATA_DISABLED=true
 * turns it off). A profile with role_arn, credential_process, sso_* or web identity settings
 * is refused with a clear error rather than silently skipped.
 *
 * Refresh: temporary credentials are refreshed from the same provider 15 minutes before they
 * expire (AWS_CHAIN_REFRESH_S). A failed refresh keeps the old credentials while they remain
 * valid for more than AWS_CHAIN_MIN_VALID_S and is tried again after AWS_CHAIN_RETRY_S (every
 * call once they are about to expire); only credentials that are no longer valid make it fatal.
 *
 * The HTTP fetches and file reads go through struct aws_chain_io, so tests inject them and the
 * time; aws_chain_io_default() is libcurl and the real files. Secrets (keys, tokens, IMDS
 * tokens, the container authorization token) never appear in err; an error names the provider
 * and the URL path, never a header.
 *
 * Ownership: the chain borrows cfg (which must outlive it) and owns its cached credentials
 * and IMDS token, wiped on aws_chain_free().
 */
#ifndef SV_AWS_CHAIN_H
#define SV_AWS_CHAIN_H

#include <stddef.h>
#include <time.h>

#include "aws_config.h"
#include "aws_creds.h"

#define AWS_CHAIN_REFRESH_S (15 * 60)
#define AWS_CHAIN_MIN_VALID_S 60
#define AWS_CHAIN_RETRY_S 30
#define AWS_CHAIN_IMDS_TOKEN_TTL 21600

struct aws_chain_hdr {
	const char *name;
	const char *value;
};

struct aws_chain_io {
	/* One HTTP request to a metadata endpoint. Returns 0 with *status and the body (at most
	 * cap-1 bytes, NUL-terminated, *len) or -1 on a transport failure (why in err). */
	int (*http)(void *arg, const char *method, const char *url, const struct aws_chain_hdr *hdrs,
	            size_t nhdrs, long timeout_ms, long *status, char *body, size_t cap, size_t *len,
	            char *err, size_t errlen);
	/* Reads a small file (the container token file): 0 or -1 (why in err). */
	int (*read_file)(void *arg, const char *path, char *buf, size_t cap, size_t *len, char *err, size_t errlen);
	void *arg;
};

struct aws_chain;

struct aws_chain *aws_chain_new(const struct aws_config *cfg, const struct aws_chain_io *io);
void aws_chain_free(struct aws_chain *ch);

/* Valid credentials at time now into *out (a copy; the caller wipes it). -1 with err when no
 * provider has any, a provider is misconfigured, or refreshing failed and the old ones expired. */
int aws_chain_get(struct aws_chain *ch, time_t now, struct aws_creds *out, char *err, size_t errlen);

/* Counters for tests and --debug: fetches from a metadata endpoint, failed refreshes. */
unsigned aws_chain_fetches(const struct aws_chain *ch);
unsigned aws_chain_failed_refreshes(const struct aws_chain *ch);

/* libcurl (aws_http) and the file system; the returned io's arg is an aws_http the caller
 * frees with aws_chain_io_default_free(). */
int aws_chain_io_default(struct aws_chain_io *io);
void aws_chain_io_default_free(struct aws_chain_io *io);

#endif
