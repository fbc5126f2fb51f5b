/*
 * proc — the lifecycle of one supervised process as an explicit state × event table.
 *
 * Pure: proc_step() only changes the struct it is given and says what the caller must do
 * next (spawn, send the stop signal, schedule a restart, report an end). It makes no system
 * calls and knows nothing of pids, timers or output; supervisor.c does those things.
 *
 * States:
 *   WAITING   not started yet: its dependencies are not met
 *   RUNNING   started (exec succeeded), not yet ready
 *   READY     started and its readiness probe passed (or it has none)
 *   STOPPING  the stop signal was sent (teardown, or a failed readiness probe)
 *   BACKOFF   ended, will be started again when the restart delay has passed
 *   EXITED    ended for good, not counted as a failure (terminal)
 *   FAILED    ended for good as a failure, or can never start (terminal)
 */
#ifndef SV_PROC_H
#define SV_PROC_H

#include <stdbool.h>

enum proc_state {
	PROC_WAITING, PROC_RUNNING, PROC_READY, PROC_STOPPING, PROC_BACKOFF, PROC_EXITED, PROC_FAILED,
	PROC_NSTATES
};

enum proc_event {
	PROC_EV_START,       /* dependencies met (WAITING) or restart delay passed (BACKOFF) */
	PROC_EV_READY,       /* readiness probe passed */
	PROC_EV_NOT_READY,   /* readiness probe timed out */
	PROC_EV_EXIT_OK,     /* the process ended with a success code */
	PROC_EV_EXIT_FAIL,   /* the process ended otherwise (code outside success codes, signal) */
	PROC_EV_EXEC_FAILED, /* the command could not be executed (126/127) or fork failed */
	PROC_EV_STOP,        /* teardown: stop it (or make sure it never starts) */
	PROC_EV_DEP_FAILED,  /* one of its dependencies can never be met */
	PROC_NEVENTS
};

enum proc_action {
	PROC_ACT_NONE,         /* nothing to do (also for events that do not apply) */
	PROC_ACT_SPAWN,        /* start the command now */
	PROC_ACT_SEND_STOP,    /* send the stop signal to its process group, arm the grace timer */
	PROC_ACT_RESTART_LATER,/* arm the backoff timer; PROC_EV_START when it fires */
	PROC_ACT_REPORT_EXITED,/* it is done (terminal EXITED) */
	PROC_ACT_REPORT_FAILED,/* it failed for good (terminal FAILED) */
	PROC_ACT_INVALID       /* the event cannot happen in this state: a caller bug */
};

enum proc_restart { PROC_RESTART_NEVER, PROC_RESTART_ON_FAILURE, PROC_RESTART_ALWAYS };

struct proc_fsm {
	enum proc_state state;
	enum proc_restart policy;
	unsigned max_retries; /* restarts allowed: at most max_retries + 1 starts */
	unsigned restarts;    /* restarts done so far */
	bool fail_pending;    /* stopping because its probe failed: ends as FAILED */
	bool stop_requested;  /* teardown asked for: never restart again */
};

void proc_fsm_init(struct proc_fsm *f, enum proc_restart policy, unsigned max_retries);
enum proc_action proc_step(struct proc_fsm *f, enum proc_event ev);

/* True for states in which a process of ours is alive (has a pid). */
bool proc_alive(enum proc_state s);
/* True for EXITED and FAILED. */
bool proc_terminal(enum proc_state s);

const char *proc_state_name(enum proc_state s);
const char *proc_event_name(enum proc_event e);

#endif
