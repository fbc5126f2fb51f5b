/*
 * taskwatch — one DescribeTasks for all the Fargate tasks this host watches.
 *
 * The stream tells a run what its task does; DescribeTasks is only the slow reconciliation that
 * finds tasks that never started or stopped without an `end` event. A Jenkins host runs many
 * `stagevisor run` processes at once, so they share it: each registers its task as a file in
 * STATE/fargate/watch/, and whichever polls first after the shared answer
 * (STATE/fargate/describe.json) has aged past the interval takes the lock
 * (STATE/fargate/describe.lock), asks DescribeTasks for every registered task (per cluster, 100
 * at a time) and rewrites the answer for all. The others read it.
 *
 * It does not call AWS itself (the caller's describe function does), decide anything about a
 * task, or keep anything in memory between polls but its own registration.
 *
 * Ownership: taskwatch_poll() returns a new reference to the task's description.
 */
#ifndef SV_COORD_TASKWATCH_H
#define SV_COORD_TASKWATCH_H

#include <stddef.h>

#include <jansson.h>

#define TASKWATCH_BATCH 100 /* DescribeTasks' limit */

/* DescribeTasks for up to TASKWATCH_BATCH arns of one cluster: *out is the answer's JSON
 * ({"tasks": [...], "failures": [...]}, new reference). 0 or -1 (the call failed). */
typedef int (*taskwatch_describe_fn)(void *arg, const char *cluster, const char *const *arns,
				     size_t n, json_t **out);

struct taskwatch;

struct taskwatch *taskwatch_new(const char *state_dir, const char *cluster, const char *task_arn,
				char *err, size_t errlen);
/* Unregisters the task and frees. NULL is a no-op. */
void taskwatch_free(struct taskwatch *w);

/*
 * The task's description, at most max_age_ms old (wall clock, now_ms from CLOCK_REALTIME):
 * 1 with *task set (new reference; a task DescribeTasks reports missing reads
 * {"lastStatus": "MISSING", "failure": {...}}), 0 when the task is not in the answer yet, -1
 * when a refresh was due and the describe call failed. *calls counts the calls made.
 */
int taskwatch_poll(struct taskwatch *w, long long now_ms, long long max_age_ms,
		   taskwatch_describe_fn describe, void *arg, json_t **task, unsigned *calls);

#endif
