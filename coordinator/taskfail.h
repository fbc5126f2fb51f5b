/*
 * taskfail — why a Fargate task stopped, read from what DescribeTasks says: the task's
 * stopCode and stoppedReason and its container's reason and exit code. It tells a stage that
 * ended on its own (the agent's exit code is the verdict) from a start failure (image pull,
 * resource initialisation, network interface timeout, no capacity), an OOM kill, a Spot
 * interruption or a stop by a user, says whether starting again may help, and gives the
 * user a hint of the fix.
 *
 * Pure: strings in, a classification out. It does not call AWS or retry anything itself.
 */
#ifndef SV_COORD_TASKFAIL_H
#define SV_COORD_TASKFAIL_H

#include <stdbool.h>

enum taskfail_kind {
	TASKFAIL_NONE,          /* the container ran and exited: its exit code is the stage's */
	TASKFAIL_PULL,          /* the image could not be pulled */
	TASKFAIL_RESOURCE_INIT, /* secrets, registry auth, log group, volumes */
	TASKFAIL_ENI_TIMEOUT,   /* the network interface was not ready in time */
	TASKFAIL_CAPACITY,      /* no Fargate capacity at this time */
	TASKFAIL_OOM,           /* the container was killed for its memory use */
	TASKFAIL_SPOT,          /* a Spot interruption */
	TASKFAIL_STOPPED,       /* stopped by a user or another program (StopTask) */
	TASKFAIL_CANNOT_START,  /* the container could not start (entrypoint, runtime) */
	TASKFAIL_OTHER,         /* stopped without an exit code, for a reason not known here */
};

struct taskfail {
	enum taskfail_kind kind;
	bool retry;             /* starting the task again may well succeed */
	const char *name;       /* "image-pull", "resource-initialization", … */
	const char *hint;       /* what the user can do; never NULL */
};

/* Any argument may be NULL (absent). exit_code < 0: the container has none. */
struct taskfail taskfail_classify(const char *stop_code, const char *stopped_reason,
				  const char *container_reason, int exit_code);

#endif
