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

#endif
