/*
 * protocol/fallback.h — the fallback channel: the agent writes its stage, process, test,
 * finding, metric and end events (not log events) to stdout as single lines
 *   @@stagevisor {compact JSON of the stamped event}
 * On Fargate they land in CloudWatch Logs; the coordinator reads such lines back (from the
 * log service or a captured stdout) and rebuilds a stream that did not arrive over HTTPS.
 * The events keep the seqs they had on the HTTPS stream, so the two channels merge by seq.
 *
 * Pure: formatting and parsing of lines and an in-memory, bounded rebuild.
 */
#ifndef SV_PROTOCOL_FALLBACK_H
#define SV_PROTOCOL_FALLBACK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/common.h"

#define PR_FALLBACK_MARKER "@@stagevisor "
#define PR_FALLBACK_MARKER_LEN 13u

/* True when an event goes to the fallback channel too (every type but log). */
bool pr_fallback_wanted(const json_t *event);

/*
 * A new malloc'd line "@@stagevisor {json}\n" (with the newline) and its length in *len.
 * NULL when the event cannot be encoded or exceeds PR_EVENT_MAX.
 */
char *pr_fallback_format(const json_t *event, size_t *len);

/*
 * Parse one line (need not be NUL-terminated; one trailing "\n" or "\r\n" is ignored).
 * Returns 1 and a new reference in *event when the line is a marker line with a valid
 * event; 0 when the line does not start with the marker (ordinary output: *event = NULL);
 * -1 when it starts with the marker but what follows is not a valid event within
 * PR_EVENT_MAX (err says why; *event = NULL).
 */
int pr_fallback_parse_line(const char *line, size_t len, json_t **event, struct pr_error *err);

/*
 * Rebuilding one stream: feed every line (in any order, duplicates allowed); events of
 * other streams and seqs <= after_seq (already stored from HTTPS) are skipped. At most
 * max_events are kept (a bound set at creation; -1 beyond). pr_rebuild_take() returns the
 * kept events sorted by seq with duplicates removed.
 */
struct pr_rebuild;

struct pr_rebuild *pr_rebuild_new(const char *stream, uint64_t after_seq, size_t max_events);
/* 1 = kept, 0 = skipped (not a marker line, other stream, old or duplicate seq), -1 = error. */
int pr_rebuild_add_line(struct pr_rebuild *rb, const char *line, size_t len,
			struct pr_error *err);
/*
 * A new array of the kept events in seq order. *end_seq is the seq of the `end` event if
 * one was seen (else 0). The rebuild is empty afterwards.
 */
json_t *pr_rebuild_take(struct pr_rebuild *rb, uint64_t *end_seq);
void pr_rebuild_free(struct pr_rebuild *rb);

#endif
