/*
 * aws_config — the settings an AWS call needs, resolved as the AWS CLI resolves them:
 * profile (--profile, AWS_PROFILE, "default"), region (--region, AWS_REGION,
 * AWS_DEFAULT_REGION, the profile's region), endpoint per service (--endpoint-url,
 * AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, the profile's services section, the profile's
 * endpoint_url, then AWS's default host; AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true keeps only
 * --endpoint-url), and max_attempts (AWS_MAX_ATTEMPTS, the profile's max_attempts, 3).
 *
 * The core (aws_config_resolve, aws_config_endpoint) is pure: the environment comes through a
 * lookup function and the files as parsed aws_ini, so tests inject both. aws_config_files_load()
 * is the one part that reads the real files (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, or
 * ~/.aws/config and ~/.aws/credentials); a missing file is not an error, a malformed one is.
 * It does not find credentials (aws_chain) and does not send anything.
 *
 * Ownership: struct aws_config borrows the environment function and the two aws_ini for its
 * lifetime; struct aws_config_files owns its two aws_ini.
 */
#ifndef SV_AWS_CONFIG_H
#define SV_AWS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "aws_ini.h"
#include "aws_service.h"

typedef const char *(*aws_env_fn)(void *arg, const char *name);

#define AWS_MAX_ATTEMPTS_DEFAULT 3
#define AWS_MAX_ATTEMPTS_LIMIT 20

struct aws_config_input {
	aws_env_fn env;                    /* NULL: no environment */
	void *env_arg;
	const struct aws_ini *config;      /* the config file, NULL when absent */
	const struct aws_ini *credentials; /* the credentials file, NULL when absent */
	const char *config_path;           /* for error messages only */
	const char *credentials_path;
	const char *cli_profile;           /* --profile, or NULL */
	const char *cli_region;            /* --region, or NULL */
	const char *cli_endpoint;          /* --endpoint-url, or NULL */
};

struct aws_config {
	struct aws_config_input in;
	char profile[128];
	bool profile_explicit;  /* --profile given: the environment's keys are skipped (botocore) */
	char config_section[140]; /* "default" or "profile NAME": the profile's section in the config file */
	char region[64];        /* "" when none was configured */
	unsigned max_attempts;
};

/* Fills cfg. -1 with the bad setting named in err: a profile that was asked for and exists in
 * neither file, a malformed region or max_attempts. */
int aws_config_resolve(const struct aws_config_input *in, struct aws_config *cfg, char *err, size_t errlen);

/* An environment variable (NULL when unset or empty). */
const char *aws_config_env(const struct aws_config *cfg, const char *name);
/* A setting of the profile in the config file ("region", "endpoint_url", ...), or NULL. */
const char *aws_config_get(const struct aws_config *cfg, const char *key);

/* The endpoint for svc as "scheme://host[:port][/path]" without a trailing '/', and the
 * signing region (the service's global region, else cfg->region). -1 with err when no region
 * is configured for a regional service, or when a configured URL is not http(s). */
int aws_config_endpoint(const struct aws_config *cfg, const struct aws_service *svc,
                        char *url, size_t urllen, char *region, size_t regionlen,
                        char *err, size_t errlen);

struct aws_config_files {
	struct aws_ini *config;
	struct aws_ini *credentials;
	char config_path[512];
	char credentials_path[512];
};

/* Reads and parses both files (paths from the environment via env/env_arg, "~" expanded).
 * -1 with "PATH: line N: reason" in err when a file exists but cannot be read or parsed. */
int aws_config_files_load(struct aws_config_files *f, aws_env_fn env, void *env_arg, char *err, size_t errlen);
void aws_config_files_clear(struct aws_config_files *f);

/* The process environment as an aws_env_fn (arg unused). */
const char *aws_config_getenv(void *arg, const char *name);

#endif
