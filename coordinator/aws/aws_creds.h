/*
 * aws_creds — one set of AWS credentials and the pure ways to obtain it: from environment
 * variables, from a profile of the shared credentials or config file, and from the JSON
 * document that the ECS container-credentials endpoint and EC2 instance metadata return.
 *
 * It does not walk the chain, fetch anything or refresh (aws_chain does).
 * Secrets: the secret key and the session token are never printed by this module; error
 * texts name the field, never its value. aws_creds_wipe() clears a set with OPENSSL_cleanse.
 * Bounds: every field is a fixed-size array; longer values are refused, not cut.
 */
#ifndef SV_AWS_CREDS_H
#define SV_AWS_CREDS_H

#include <stddef.h>
#include <time.h>

#include "aws_config.h"

#define AWS_CREDS_DOC_MAX (64u * 1024)

struct aws_creds {
	char access_key[128];
	char secret_key[128];
	char token[4096];   /* "" when none */
	time_t expiration;  /* 0: does not expire */
	char source[64];    /* "environment", "shared-credentials-file", "config-file",
	                       "container-role", "iam-role" */
};

void aws_creds_wipe(struct aws_creds *c);

/* 1 found, 0 absent, -1 incomplete (err names the missing variable). */
int aws_creds_from_env(aws_env_fn env, void *env_arg, struct aws_creds *out, char *err, size_t errlen);
/* The keys of one section of an ini. 1 found, 0 absent, -1 incomplete. what names the file. */
int aws_creds_from_ini(const struct aws_ini *ini, const char *section, const char *what,
                       struct aws_creds *out, char *err, size_t errlen);
/* The ECS / IMDS credentials document: {"AccessKeyId","SecretAccessKey","Token",
 * "Expiration"} (IMDS adds "Code": "Success"). 0 or -1 with err naming the field. */
int aws_creds_parse_document(const char *text, size_t len, struct aws_creds *out, char *err, size_t errlen);
/* An ISO 8601 time ("2026-12-04T06:00:00Z"; fractions, no zone (UTC) and offsets "+01:00",
 * "-0500" accepted) to seconds since the epoch. 0, or -1 when it is not one. */
int aws_creds_parse_time(const char *s, time_t *out);

#endif
