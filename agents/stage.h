/*
 * stage — the glue between the stage spec, the supervisor and the event sink: turns a
 * struct spec_stage into the supervisor's config, and the supervisor's lifecycle reports into
 * protocol events (stage / process) emitted through struct events. It also writes the
 * fallback marker lines ("@@stagevisor {json}") through the supervisor's non-blocking output,
 * and a short human line on stderr when a process fails or the stage stops.
 *
 * It borrows the spec and the events sink (both must outlive it) and owns the supervisor.
 * Hooks for the other parts of the agent (results_glue.h, uplink_glue.h):
 * stage_add_process_hook(), stage_add_done_hook() with stage_set_result() and
 * stage_set_ended_member(), stage_hold()/stage_release(), stage_supervisor() with
 * sv_add_line_hook()/sv_add_chunk_hook(), events_add_sink().
 */
#ifndef SV_AGENT_STAGE_H
#define SV_AGENT_STAGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "events.h"
#include "spec.h"
#include "supervisor.h"

struct event_base;
struct stage;

/* Called for every process report after its event was emitted (exited: to collect result
 * files of that process, for example). */
typedef void (*stage_process_fn)(void *arg, const struct sv_proc_report *r);
/* Called once when everything is stopped and swept, before the stage's `ended` and `end`
 * events: the place to flush results (sv_budget_left_ms() tells how long there is). result
 * is the supervisor's result as changed by the hooks before this one (stage_set_result). */
typedef void (*stage_done_fn)(void *arg, int result);

#define STAGE_MAX_HOOKS 4

struct stage *stage_new(struct event_base *base, const struct spec_stage *spec, struct events *ev,
			char *err, size_t errsize);
void stage_free(struct stage *st);

int stage_add_process_hook(struct stage *st, stage_process_fn fn, void *arg);
int stage_add_done_hook(struct stage *st, stage_done_fn fn, void *arg);

/* From a done hook: the stage's result (the agent's exit code, stage/ended's and end's
 * `result`) becomes result; e.g. the result verdict of results_glue.h. */
void stage_set_result(struct stage *st, int result);
/* From a done hook: stage/ended gets the member key = value (steals value; NULL is ignored). */
void stage_set_ended_member(struct stage *st, const char *key, json_t *value);

/* Starts the supervisor. When everything has ended the stage runs the done hooks, emits
 * stage/ended and end, and breaks the event loop (once no one holds it, see below). */
int stage_start(struct stage *st);

/* Keeps the event loop running after `end` was emitted, e.g. while the uplink delivers the
 * last events: every stage_hold() needs a stage_release(); the loop is broken at the last
 * release, or when the stop budget (sv_budget_left_ms) has run out, whichever comes first. */
void stage_hold(struct stage *st);
void stage_release(struct stage *st);

/* Emit a `log` event for every output line of every process (for the uplink; the fallback
 * marker channel never carries log events). Costs one event per line: call only when a
 * stream is configured. 0 or -1. */
int stage_enable_log_events(struct stage *st);
bool stage_done(const struct stage *st);
/* Done, and released by every holder (or out of budget): time to flush and exit. */
bool stage_finished(const struct stage *st);
int stage_result(const struct stage *st);
/* Writes buffered output within what is left of the stop budget. */
void stage_flush(struct stage *st);

struct sv *stage_supervisor(struct stage *st);

/* A line for people on the agent's stderr, through the supervisor's bounded output buffer. */
__attribute__((format(printf, 2, 3)))
void stage_say(struct stage *st, const char *fmt, ...);

#endif
