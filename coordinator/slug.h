/*
 * slug — a branch name as a DNS label: the one name of a playground, used for
 * `<slug>.localhost:PORT` by the local backend and `<slug>.<zone>` in Route 53 by the fargate
 * backend (DESIGN.md, "Playground names").
 *
 * A slug is 1 to maxlen (at most 63) characters of [a-z0-9-], with no hyphen first or last and
 * never two hyphens in a row except right before the hash suffix:
 *   - a branch name that already is such a label (and has no "--") is its own slug;
 *   - any other name (upper case, '/', '_', '.', non-ASCII bytes, "--", too long) becomes
 *     BASE--HASH: BASE is the name lowercased, every run of other bytes made one '-', trimmed
 *     to fit (never 2 characters long: "ab--" would be an IDNA-reserved label), or "x" when
 *     nothing is left; HASH is 8 characters of base32 (a-z, 2-7) of the SHA-256 of the whole
 *     name, 40 bits.
 * So a name that is its own slug never equals the slug of a changed name (only those contain
 * "--"), and two changed names share a slug only if 40 bits of SHA-256 collide for the same BASE.
 *
 * Pure: no system calls, no allocation. It does not check that <slug>.<zone> fits a certificate's
 * CN: the caller asks for the maxlen that leaves room for its zone.
 */
#ifndef SV_COORD_SLUG_H
#define SV_COORD_SLUG_H

#include <stdbool.h>
#include <stddef.h>

#define SLUG_MAX 63          /* a DNS label */
#define SLUG_HASH_LEN 8
#define SLUG_MIN_MAX (1 + 2 + SLUG_HASH_LEN) /* the shortest maxlen: "x--" + hash */

/* The slug of branch (a NUL-terminated byte string, any bytes) in at most maxlen characters,
 * written NUL-terminated into buf. 0, or -1 when maxlen is outside SLUG_MIN_MAX..SLUG_MAX or
 * len < maxlen + 1 (buf is then an empty string if len > 0). */
int slug_make(const char *branch, size_t maxlen, char *buf, size_t len);

/* Whether branch is kept as it is by slug_make(branch, maxlen, ...). */
bool slug_is_clean(const char *branch, size_t maxlen);

/* Whether s is a well-formed slug of at most maxlen characters (either form above). */
bool slug_is_valid(const char *s, size_t maxlen);

#endif
