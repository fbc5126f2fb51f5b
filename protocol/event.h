/*
 * protocol/event.h — events: the types, stamping an event with its envelope, validation of
 * every member the contract names, RFC 3339 times, and the totals an `end` event carries.
 *
 * An event is a jansson object. Producers (supervisor glue, result parsers) build only
 * "type" and the type's own members; the agent's event sink then calls pr_event_stamp()
 * to add "v", "stream", "seq" and "ts". Members this contract does not name are allowed
 * (and ignored) so that version 1 can grow; named members must have the documented types.
 * Optional members may be absent or null.
 *
 * Pure: no clock is read here; the caller passes the time.
 */
#ifndef SV_PROTOCOL_EVENT_H
#define SV_PROTOCOL_EVENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "protocol/common.h"

enum pr_type {
	PR_TYPE_STAGE,
	PR_TYPE_PROCESS,
	PR_TYPE_LOG,
	PR_TYPE_TEST,
	PR_TYPE_FINDING,
	PR_TYPE_METRIC,
	PR_TYPE_END,
	PR_TYPE_INVALID = -1
};

/* "stage", "process", … ; NULL for PR_TYPE_INVALID. */
const char *pr_type_name(enum pr_type type);
/* The type named by s, or PR_TYPE_INVALID. */
enum pr_type pr_type_from_name(const char *s);
/* The type of an event object (its "type" member), or PR_TYPE_INVALID. */
enum pr_type pr_event_type(const json_t *event);

/* True for the types that are results: test, finding, metric (never shed, see PROTOCOL.md). */
bool pr_type_is_result(enum pr_type type);

/* True when s is a valid stream id: [A-Za-z0-9_.-]{1,64}. */
bool pr_stream_valid(const char *s);

/*
 * Format a time as RFC 3339 UTC with milliseconds: "2026-11-26T06:40:00.123Z".
 * out must hold PR_TS_LEN + 1 bytes. Years outside 0000..9999 or a tv_nsec outside
 * 0..999999999 give -1. Milliseconds are truncated, not rounded.
 */
int pr_ts_format(const struct timespec *ts, char *out);
/* Parse that exact format back; -1 when s is not exactly it (or the date does not exist). */
int pr_ts_parse(const char *s, struct timespec *out);

/*
 * A new JSON string from bytes that may not be valid UTF-8 (process output, report files):
 * invalid sequences and NUL bytes become U+FFFD, so the string can always be encoded and
 * decoded. NULL only on allocation failure.
 */
json_t *pr_string_lossy(const char *s, size_t len);

/*
 * The same conversion into a caller's buffer: s[0..len) with every byte that is not part of
 * a valid UTF-8 sequence (and NUL) replaced by U+FFFD. out holds at least 3 * len bytes;
 * returns the bytes written (no terminator). No allocation.
 */
size_t pr_utf8_lossy(const char *s, size_t len, char *out);

/* True when s[0..len) is valid UTF-8 without NUL (what json_stringn() accepts, minus NUL). */
bool pr_utf8_valid(const char *s, size_t len);

/*
 * s[0..len), valid UTF-8 without NUL, as a JSON string literal with its quotes, escaped
 * exactly as jansson's compact dump does it ('"', '\\', control characters; nothing else).
 * out holds at least 6 * len + 2 bytes; returns the bytes written (no terminator).
 */
size_t pr_json_quote(const char *s, size_t len, char *out);

/*
 * A new event object {"type": name} for producers to fill. NULL on allocation failure or
 * an invalid type.
 */
json_t *pr_event_new(enum pr_type type);

/*
 * Validate the type-specific members only (everything but v/stream/seq/ts; PROTOCOL.md
 * lists them), and that no string anywhere in the event contains a NUL byte and nesting is
 * at most 16 levels deep. The agent's sink calls this (through pr_event_stamp) before it
 * spends a sequence number.
 */
int pr_event_check_body(const json_t *event, struct pr_error *err);

/*
 * Validate a whole event: the envelope (v == 1, stream valid, 1 <= seq <= PR_SEQ_MAX,
 * ts in the format above) and the body as pr_event_check_body(). Does not check the size
 * (see pr_event_size()).
 */
int pr_event_validate(const json_t *event, struct pr_error *err);

/*
 * Stamp an event in place: check the body, then set "v", "stream", "seq" and "ts", then
 * check the size (PR_EVENT_MAX as compact JSON). On 0 the event is valid for
 * pr_event_validate() and fits every bound. On -1 (invalid body, invalid stream or seq,
 * too large, or no memory) the envelope members are removed again and the caller must not
 * consume that sequence number.
 */
int pr_event_stamp(json_t *event, const char *stream, uint64_t seq,
		   const struct timespec *ts, struct pr_error *err);

/*
 * The event's size in bytes as compact JSON (what pr_event_encode() produces), without
 * allocating. 0 on failure.
 */
size_t pr_event_size(const json_t *event);

/*
 * True when the event's compact JSON is at most PR_EVENT_MAX bytes. Usually decided from a
 * cheap upper bound of the size; encodes only when the bound is above PR_EVENT_MAX.
 */
bool pr_event_fits(const json_t *event);

/*
 * Encode one event as compact JSON with its members in insertion order. Returns a new
 * malloc'd NUL-terminated string (free() it) and its length in *len; NULL when it cannot
 * be encoded or is larger than PR_EVENT_MAX.
 */
char *pr_event_encode(const json_t *event, size_t *len);

/*
 * Totals of a stream, as the `end` event carries them. `events` counts every event of the
 * stream before `end` (so a complete stream's `end` has seq == events + 1).
 */
struct pr_totals {
	uint64_t events;
	uint64_t tests_passed, tests_failed, tests_error, tests_skipped;
	uint64_t findings_error, findings_warning, findings_info;
	uint64_t metrics;
	uint64_t logs;
	uint64_t shed_log; /* log events the agent could not keep (they were given no seq) */
};

/*
 * Count one (valid) event into t. An `end` event is not counted. A shed placeholder
 * ("type":"log","shed":true) counts as a log and in shed_log.
 */
void pr_totals_count(struct pr_totals *t, const json_t *event);
/* A new `totals` object for the end event; NULL on allocation failure. */
json_t *pr_totals_to_json(const struct pr_totals *t);
/* Read a `totals` object (as validated for `end`); -1 if it does not have the shape. */
int pr_totals_from_json(const json_t *totals, struct pr_totals *t, struct pr_error *err);
/*
 * Compare what a coordinator counted with what `end` claims. With logs_expected false
 * (a stream rebuilt from fallback lines, which carry no log events) `events`, `logs` and
 * `shed_log` are not compared.
 * Returns 0 when equal, -1 and a text naming the first difference otherwise.
 */
int pr_totals_compare(const struct pr_totals *counted, const struct pr_totals *claimed,
		      bool logs_expected, struct pr_error *err);

/*
 * The placeholder the agent's uplink sends for a log line it had to shed (PROTOCOL.md,
 * "The agent's buffer and shedding"): a valid `log` event with "shed": true, empty
 * "process" and "line", so the stream keeps every seq. ts is a PR_TS_LEN string.
 * Writes compact JSON into out (cap bytes incl. NUL); returns its length or -1.
 * PR_SHED_PLACEHOLDER_MAX is always enough.
 */
#define PR_SHED_PLACEHOLDER_MAX 224u
int pr_shed_placeholder_format(const char *stream, uint64_t seq, const char *ts, char *out,
			       size_t cap);

/*
 * Build a complete `end` event body (type, result, totals); the sink stamps it like any
 * other event. NULL on allocation failure.
 */
json_t *pr_end_new(int result, const struct pr_totals *t);

#endif
