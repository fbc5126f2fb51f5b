/*
 * protocol/token.h — stream tokens: "svt1." followed by 64 lowercase hex digits
 * (32 random bytes). Each stream has its own token; the coordinator generates it (with its
 * own RNG: random bytes are passed in here, so this library needs no OpenSSL) and hands it
 * to the agent in STAGEVISOR_TOKEN. The agent sends "Authorization: Bearer <token>".
 *
 * Pure: formatting, format validation, header parsing and constant-time comparison.
 */
#ifndef SV_PROTOCOL_TOKEN_H
#define SV_PROTOCOL_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#define PR_TOKEN_PREFIX "svt1."
#define PR_TOKEN_RANDOM 32u                /* random bytes in a token */
#define PR_TOKEN_LEN (5u + 2u * 32u)       /* 69 characters */

/* Format 32 random bytes as a token; out holds PR_TOKEN_LEN + 1 bytes. */
void pr_token_format(const unsigned char random[PR_TOKEN_RANDOM], char *out);

/* True when s (NUL-terminated) has exactly the token format. */
bool pr_token_valid(const char *s);

/*
 * Take the token out of an Authorization header value: "Bearer <token>" (scheme
 * case-insensitive, one or more spaces). out holds PR_TOKEN_LEN + 1 bytes.
 * -1 when the header is NULL, another scheme, or the token is not in the format.
 */
int pr_token_from_authorization(const char *header, char *out);

/*
 * Compare a presented token with the stream's expected one in time independent of where
 * they differ. Both are NUL-terminated; a presented string of another length is unequal
 * (the length of a valid token is public). NULL is unequal.
 */
bool pr_token_equal(const char *presented, const char *expected);

#endif
