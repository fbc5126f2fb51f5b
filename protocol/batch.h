/*
 * protocol/batch.h — request bodies: POST /v1/streams/{stream}/events with
 *   {"v":1,"stream":"…","events":[event, event, …]}
 * where the events carry consecutive sequence numbers (first, first+1, …) in order.
 * An empty "events" array is allowed: it asks only for the current ack and control flags.
 *
 * The agent side builds bodies by concatenation from already-encoded events
 * (pr_batch_prefix + event + "," + event … + PR_BATCH_SUFFIX), so a retry never re-encodes.
 * The coordinator side decodes and validates a whole body in one call (pr_batch_decode),
 * which is also the fuzz target.
 *
 * Pure: no I/O. The caller reads the body (within PR_BODY_MAX) before calling.
 */
#ifndef SV_PROTOCOL_BATCH_H
#define SV_PROTOCOL_BATCH_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/common.h"

/* The request path for a stream, without any prefix of the coordinator's URL. */
#define PR_PATH_PREFIX "/v1/streams/"
#define PR_PATH_SUFFIX "/events"
#define PR_BATCH_SEPARATOR ","
#define PR_BATCH_SUFFIX "]}"

/*
 * Write the path "/v1/streams/{stream}/events" into out (cap bytes incl. NUL).
 * Returns its length, or -1 when the stream is invalid or cap too small.
 */
int pr_path_format(const char *stream, char *out, size_t cap);

/*
 * Take the stream id out of a request path "/v1/streams/{stream}/events" (an optional
 * "?query" is ignored). stream must hold PR_STREAM_MAX + 1 bytes. -1 when the path has
 * another shape or the id is invalid (the coordinator answers 404 then). The coordinator
 * calls this and checks the token before it reads the body.
 */
int pr_path_stream(const char *path, char *stream);

/*
 * Write the body's opening '{"v":1,"stream":"S","events":[' into out (cap bytes incl. NUL).
 * Returns its length, or -1 when the stream is invalid or cap is too small
 * (PR_STREAM_MAX + 40 is always enough).
 */
int pr_batch_prefix(const char *stream, char *out, size_t cap);

/*
 * Encode a whole body from an array of stamped events (borrowed). A new malloc'd string
 * and its length; NULL if an event cannot be encoded or a bound would be exceeded
 * (events, event size, body size). Used by tests and simple callers; the uplink uses
 * pr_batch_prefix() over its already-encoded events.
 */
char *pr_batch_encode(const char *stream, const json_t *events, size_t *len);

/* A decoded, validated request body. */
struct pr_batch {
	char stream[PR_STREAM_MAX + 1];
	json_t *events;     /* new reference: the "events" array, every element validated */
	size_t count;       /* json_array_size(events) */
	uint64_t first_seq; /* seq of events[0]; 0 when count == 0 */
	uint64_t last_seq;  /* seq of events[count-1]; 0 when count == 0 */
};

/*
 * Decode and validate a request body for the stream named in the URL path.
 * Checks, in this order: len <= PR_BODY_MAX (413); well-formed UTF-8 JSON without duplicate
 * keys (400, with jansson's line/column); an object with "v" == 1, "stream" equal to
 * path_stream, "events" an array of at most PR_BATCH_EVENTS_MAX elements (413 beyond);
 * every event valid (pr_event_validate), of the same stream, at most PR_EVENT_MAX bytes as
 * compact JSON (413), with seqs consecutive and increasing.
 * body need not be NUL-terminated. On 0, *out owns a reference the caller drops with
 * pr_batch_clear(); on -1, *out is cleared and err says why (err->status 400 or 413).
 */
int pr_batch_decode(const char *body, size_t len, const char *path_stream,
		    struct pr_batch *out, struct pr_error *err);

/* Drop the reference a decoded batch holds and zero it. NULL and cleared batches are fine. */
void pr_batch_clear(struct pr_batch *b);

#endif
