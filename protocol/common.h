/*
 * protocol/common.h — the version, the bounds and the error struct shared by every module of
 * the protocol library. See protocol/protocol.h for the conventions.
 */
#ifndef SV_PROTOCOL_COMMON_H
#define SV_PROTOCOL_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define PR_VERSION 1

/* Bounds (PROTOCOL.md, "Bounds"). Everything outside them is rejected. */
#define PR_STREAM_MAX 64u                /* stream id: [A-Za-z0-9_.-]{1,64} */
#define PR_EVENT_MAX (64u * 1024u)       /* bytes of one event as compact JSON */
#define PR_BODY_MAX (1024u * 1024u)      /* bytes of one request body */
#define PR_BATCH_EVENTS_MAX 4096u        /* events in one request body */
#define PR_SEQ_AHEAD_MAX 100000u         /* a batch may not reach beyond ack + this */
#define PR_SEQ_MAX 9007199254740991ull   /* 2^53 - 1: exact in every JSON implementation */
#define PR_RESPONSE_MAX 1024u            /* bytes of a 200 response body */
#define PR_TS_LEN 24u                    /* "2026-11-26T06:40:00.123Z" */
#define PR_LINE_MAX (13u + PR_EVENT_MAX) /* a fallback line: marker + one event (no newline) */

/*
 * What went wrong, for logs and for the HTTP status the coordinator answers with.
 * status: 400 (malformed) or 413 (a size bound exceeded); 0 when not set.
 * index:  the offending event's index within the batch, or -1 when not about one event.
 * line/column: jansson's position for JSON syntax errors, else 0.
 * text:   one line naming the member at fault ("events[3].seq: must be an integer >= 1").
 */
struct pr_error {
	int status;
	long index;
	int line, column;
	char text[200];
};

#endif
