/*
 * protocol/response.h — the coordinator's 200 answer to a batch:
 *   {"ack":N}  or  {"ack":N,"resend_from":M}  and optionally
 *   "control":{"cancel":true|false,"detach":true|false}
 * ack: the highest contiguous seq stored. resend_from: present after a gap (== ack + 1).
 * control: cancel = stop the stage now (the agent runs its teardown), detach = the
 * coordinator no longer waits for this stream (the agent keeps running, stops sending
 * log events, and still delivers results and `end`). Absent flags are false.
 *
 * Pure: formats into a caller's buffer and parses from a caller's buffer.
 */
#ifndef SV_PROTOCOL_RESPONSE_H
#define SV_PROTOCOL_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/common.h"

struct pr_response {
	uint64_t ack;
	uint64_t resend_from; /* 0 = none */
	bool cancel, detach;
};

/*
 * Format a response body (compact JSON, no newline) into out (cap bytes incl. NUL).
 * "control" is written only when a flag is set. Returns the length, or -1 if cap is too
 * small (PR_RESPONSE_MAX is always enough).
 */
int pr_response_format(const struct pr_response *r, char *out, size_t cap);

/*
 * Parse a response body (need not be NUL-terminated, at most PR_RESPONSE_MAX bytes).
 * Unknown members are ignored; ack must be an integer 0..PR_SEQ_MAX, resend_from an
 * integer 1..PR_SEQ_MAX, control flags booleans. -1 and err otherwise.
 */
int pr_response_parse(const char *body, size_t len, struct pr_response *out,
		      struct pr_error *err);

#endif
