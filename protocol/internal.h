/*
 * protocol/internal.h — helpers shared by the protocol's .c files; not part of the API.
 */
#ifndef SV_PROTOCOL_INTERNAL_H
#define SV_PROTOCOL_INTERNAL_H

#include "protocol/common.h"

/* Fill err (if not NULL): status, index -1, no position, printf-style text. Returns -1. */
int pr_err(struct pr_error *err, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefix err->text with printf-style text (e.g. "events[3].") and set err->index. */
void pr_err_prefix(struct pr_error *err, long index, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Parse body (at most max bytes, else 413 "<what> is N bytes, more than max") as one JSON
 * object, duplicate keys rejected (400 with the line and column, or "the <what> must be an
 * object"). Returns a new reference, NULL with err filled.
 */
struct json_t;
struct json_t *pr_load_object(const char *body, size_t len, size_t max, const char *what,
			      struct pr_error *err);

#endif
