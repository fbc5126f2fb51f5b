/*
 * results_glue — plugs the live result watcher (results/watch.h) into a stage: registers the
 * `results` of every process of the spec, feeds the processes' stdout bytes to the TeamCity
 * parsers, runs the final parse of a process's reports once it has ended for good (not before a
 * restart), emits every test/finding/metric through the agent's event sink (so they appear as
 * fallback lines and go to the uplink), and at the end turns the watcher's verdict into the
 * stage's result (the agent's exit code):
 *
 *   processes' result != 0, not explained -> unchanged (a child's code passes through)
 *   a report missing or malformed     -> RESULTS_GLUE_EXIT_ERROR (3), message on stderr
 *   a failed/erroring test, or a finding at or above its entry's fail_on -> 1
 *   otherwise                         -> 0
 *
 * A process that failed for good is explained when its own reports account for it (it ended
 * with a status, not a signal; all its reports were read; no test left unfinished; at least
 * one failed/erroring test or finding at fail_on). When every failed process is explained and
 * the result is one of their statuses, the result is judged as if they had succeeded (PHPUnit
 * exiting 2 over failed tests gives 1). stage/ended carries "results": {"outcome":
 * "passed"|"failed"|"error", counts, "error": text} and "processes": [{"process", "status",
 * "explained", "why"}] for every failed process, so that a reader need not guess from the code
 * (the coordinator writes an infrastructure case only for what is not explained). It owns the watcher; it borrows the stage, the
 * spec and the events sink (all must outlive it).
 */
#ifndef SV_AGENT_RESULTS_GLUE_H
#define SV_AGENT_RESULTS_GLUE_H

#include "events.h"
#include "spec.h"
#include "stage.h"

struct event_base;
struct results_glue;

/* A report that is missing or cannot be parsed, when every process succeeded. */
#define RESULTS_GLUE_EXIT_ERROR 3
/* Tests failed (or findings reached fail_on), when every process succeeded. */
#define RESULTS_GLUE_EXIT_FAILED 1

/* NULL when no process of the spec has `results` (nothing to do), or on error (err set;
 * *failed = true). Call before stage_start(). */
struct results_glue *results_glue_new(struct event_base *base, struct stage *st, const struct spec_stage *spec,
				      struct events *ev, bool *failed, char *err, size_t errsize);
void results_glue_free(struct results_glue *rg);

#endif
