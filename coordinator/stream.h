/*
 * stream — what the coordinator has stored of one agent's event stream.
 *
 * Events arrive over HTTPS batches and as fallback lines from the agent's stdout, in any
 * order and more than once; the stream keeps each sequence number once (first copy wins),
 * tracks the highest contiguous sequence (the ack) and whether a gap was seen (resend_from),
 * appends every newly stored event to a JSONL file so nothing received is lost, and tallies
 * results so the `end` event's totals can be checked. Log events are counted and written to
 * the file but not kept in memory; every other event (results and lifecycle, what the reports
 * read) is kept as its compact JSON text in an arena (about 200 bytes for a test result, where
 * a jansson tree takes ten times that) and decoded again on demand (stream_load()).
 * The JSONL lines of a batch are gathered in memory and written with one write() by
 * stream_flush() (or when STREAM_WBUF_MAX bytes are pending).
 * It does not decode HTTP bodies, talk to sockets or decide a stage's verdict.
 *
 * Bounds: at most max_events sequence numbers (the slot table grows on demand up to that),
 * and an event whose seq is more than STREAM_WINDOW beyond the ack is refused (a client bug
 * or an attack must not make the table grow).
 * Ownership: stream_add() borrows the event; stream_load() returns a new reference (the
 * caller decrefs); stream_end() a borrowed one that lives as long as the stream.
 */
#ifndef SV_COORD_STREAM_H
#define SV_COORD_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define STREAM_WINDOW 100000u /* PR_SEQ_AHEAD_MAX */
#define STREAM_MAX_EVENTS_DEFAULT 20000000u
#define STREAM_WBUF_MAX (4u << 20) /* JSONL bytes gathered before a write() even without a flush */

/* What a stored sequence number holds (cheap: no decoding). */
enum stream_kind {
	STREAM_KIND_MISSING = 0,
	STREAM_KIND_LOG,
	STREAM_KIND_STAGE,
	STREAM_KIND_PROCESS,
	STREAM_KIND_TEST,
	STREAM_KIND_FINDING,
	STREAM_KIND_METRIC,
	STREAM_KIND_END,
};

enum stream_source { STREAM_FROM_HTTPS, STREAM_FROM_FALLBACK };

struct stream_tally {
	uint64_t passed, failed, error, skipped; /* test results by status */
	uint64_t f_error, f_warning, f_info;     /* findings by severity */
	uint64_t metrics, logs;
	uint64_t stored;                         /* events stored, `end` excluded */
	uint64_t from_fallback;                  /* of those, first seen on the fallback channel */
	uint64_t duplicates;                     /* copies ignored */
};

/* Called once for every newly stored event (borrowed), in arrival order. */
typedef void (*stream_event_fn)(void *arg, const json_t *event);

struct stream;

/* jsonl_path: NULL keeps nothing on disk. */
struct stream *stream_new(const char *id, const char *jsonl_path, size_t max_events);
void stream_free(struct stream *s);

const char *stream_id(const struct stream *s);
void stream_set_listener(struct stream *s, stream_event_fn fn, void *arg);

/*
 * Checks one event with pr_event_validate() and against this stream (its id, its window). 0 when acceptable, -1 with a reason in err.
 */
int stream_check(const struct stream *s, const json_t *event, char *err, size_t errlen);
/* Checks and stores an event: 1 when new, 0 for a duplicate, -1 when refused (reason in err). */
int stream_add(struct stream *s, json_t *event, enum stream_source from, char *err, size_t errlen);
/*
 * The same for an event pr_event_validate() has accepted already (pr_batch_decode() does):
 * only this stream's checks (id, window) are made. text/len: the event's JSON text on one
 * line (no newline; the raw bytes from the request body), stored and appended to the JSONL
 * file as they are; NULL: the event is encoded here.
 */
int stream_add_valid(struct stream *s, json_t *event, const char *text, size_t len, enum stream_source from,
                     char *err, size_t errlen);
/* Writes the pending JSONL lines (one write()); -1 on a write error (they stay pending). */
int stream_flush(struct stream *s);

uint64_t stream_ack(const struct stream *s);
/* The first missing sequence when something beyond it is stored, else 0. */
uint64_t stream_resend_from(const struct stream *s);
uint64_t stream_max_seq(const struct stream *s);
/* What seq holds; STREAM_KIND_MISSING beyond the table. */
enum stream_kind stream_kind(const struct stream *s, uint64_t seq);
/* The event with that seq, decoded: a new reference; NULL when missing or a log line. */
json_t *stream_load(const struct stream *s, uint64_t seq);
/* The raw text kept for seq (NUL-terminated, borrowed), NULL when missing or a log line. */
const char *stream_text(const struct stream *s, uint64_t seq);
const json_t *stream_end(const struct stream *s);
struct stream_tally stream_tally(const struct stream *s);

/*
 * The completeness proof: the `end` event is stored and its totals match what was stored.
 * Log lines that never arrived (they are not on the fallback channel) are allowed only when
 * every missing sequence number is accounted for by them; *missing_logs says how many.
 * 0 when complete, -1 with the reason in why.
 */
int stream_check_complete(const struct stream *s, uint64_t *missing_logs, char *why, size_t whylen);

/* Control flags answered to the agent with every ack. */
void stream_set_cancel(struct stream *s, bool cancel);
void stream_set_detach(struct stream *s, bool detach);
bool stream_cancel(const struct stream *s);
bool stream_detach(const struct stream *s);

#endif
