/*
 * events — the agent's one event sink: every producer (the supervisor glue, result
 * watchers) hands it a bare event ({"type": ..., members}); it stamps the envelope
 * (v, stream, seq, ts; protocol/event.h), counts the totals for the `end` event, and passes
 * the stamped event to each consumer: the fallback marker lines on stdout (stage.c adds that
 * one), and later the HTTPS uplink.
 *
 * It does not write anything itself and knows no transport. One events per stream; not
 * thread-safe (the agent has one thread).
 */
#ifndef SV_AGENT_EVENTS_H
#define SV_AGENT_EVENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A consumer: event is stamped and borrowed (json_incref() to keep it); compact is its
 * encoding without newline (borrowed, valid during the call). */
typedef void (*events_sink_fn)(void *arg, json_t *event, const char *compact, size_t len);

#define EVENTS_MAX_SINKS 4

struct events;

/* NULL when stream is not a valid stream id ([A-Za-z0-9_.-]{1,64}) or out of memory. */
struct events *events_new(const char *stream);
void events_free(struct events *ev);

int events_add_sink(struct events *ev, events_sink_fn fn, void *arg);

/* Stamps and delivers ev (steals the reference, also on failure). 0, or -1 when the event
 * is invalid or too large, or `end` was emitted already (it is then dropped without using a
 * sequence number: `end` is always the stream's last event). */
int events_emit(struct events *ev, json_t *event);

/*
 * A `log` event for one output line of process (fd 1 or 2; line need not be valid UTF-8:
 * it is converted as pr_string_lossy() does), the same as building it with pr_event_new()
 * and events_emit(), but its compact text is written directly (the line escaped once) and
 * the json_t the sinks borrow is reused from line to line (a new one when a sink kept a
 * reference). Same return values as events_emit().
 */
int events_emit_log(struct events *ev, const char *process, int fd, const char *line, size_t len,
		    bool cont);

/* The `end` event: result and the totals of everything emitted so far. */
int events_emit_end(struct events *ev, int result);

/* Log events the uplink had to shed (they count in end.totals.shed.log): call before
 * events_emit_end() (the agent does it from a stage done hook, uplink_glue.c). */
void events_count_shed_log(struct events *ev, uint64_t n);

uint64_t events_last_seq(const struct events *ev);
const char *events_stream(const struct events *ev);

#endif
