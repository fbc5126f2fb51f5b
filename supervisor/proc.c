/* proc — see proc.h. The table is written as a switch per state so each cell reads on its own. */
#include "proc.h"

void proc_fsm_init(struct proc_fsm *f, enum proc_restart policy, unsigned max_retries)
{
	f->state = PROC_WAITING;
	f->policy = policy;
	f->max_retries = max_retries;
	f->restarts = 0;
	f->fail_pending = false;
	f->stop_requested = false;
}

bool proc_alive(enum proc_state s)
{
	return s == PROC_RUNNING || s == PROC_READY || s == PROC_STOPPING;
}

bool proc_terminal(enum proc_state s)
{
	return s == PROC_EXITED || s == PROC_FAILED;
}

static enum proc_action go(struct proc_fsm *f, enum proc_state s, enum proc_action a)
{
	f->state = s;
	return a;
}

/* An alive process ended while nobody was stopping it: restart, or end for good. */
static enum proc_action ended(struct proc_fsm *f, bool ok)
{
	bool wants = f->policy == PROC_RESTART_ALWAYS || (f->policy == PROC_RESTART_ON_FAILURE && !ok);

	if (wants && !f->stop_requested && f->restarts < f->max_retries)
		return go(f, PROC_BACKOFF, PROC_ACT_RESTART_LATER);
	if (ok)
		return go(f, PROC_EXITED, PROC_ACT_REPORT_EXITED);
	return go(f, PROC_FAILED, PROC_ACT_REPORT_FAILED);
}

enum proc_action proc_step(struct proc_fsm *f, enum proc_event ev)
{
	switch (f->state) {
	case PROC_WAITING:
		switch (ev) {
		case PROC_EV_START: return go(f, PROC_RUNNING, PROC_ACT_SPAWN);
		case PROC_EV_STOP: f->stop_requested = true; return go(f, PROC_EXITED, PROC_ACT_REPORT_EXITED);
		case PROC_EV_DEP_FAILED: return go(f, PROC_FAILED, PROC_ACT_REPORT_FAILED);
		default: return PROC_ACT_INVALID;
		}
	case PROC_RUNNING:
	case PROC_READY:
		switch (ev) {
		case PROC_EV_READY:
			return f->state == PROC_RUNNING ? go(f, PROC_READY, PROC_ACT_NONE) : PROC_ACT_NONE;
		case PROC_EV_NOT_READY:
			if (f->state == PROC_READY)
				return PROC_ACT_NONE; /* a late timeout after success changes nothing */
			f->fail_pending = true;
			return go(f, PROC_STOPPING, PROC_ACT_SEND_STOP);
		case PROC_EV_EXIT_OK: return ended(f, true);
		case PROC_EV_EXIT_FAIL: return ended(f, false);
		case PROC_EV_EXEC_FAILED: return go(f, PROC_FAILED, PROC_ACT_REPORT_FAILED);
		case PROC_EV_STOP: f->stop_requested = true; return go(f, PROC_STOPPING, PROC_ACT_SEND_STOP);
		case PROC_EV_DEP_FAILED: return PROC_ACT_NONE; /* already started: irrelevant now */
		default: return PROC_ACT_INVALID;
		}
	case PROC_STOPPING:
		switch (ev) {
		case PROC_EV_EXIT_OK:
		case PROC_EV_EXIT_FAIL:
			if (f->fail_pending)
				return go(f, PROC_FAILED, PROC_ACT_REPORT_FAILED);
			if (!f->stop_requested)
				return ended(f, ev == PROC_EV_EXIT_OK);
			return go(f, PROC_EXITED, PROC_ACT_REPORT_EXITED);
		case PROC_EV_EXEC_FAILED: return go(f, PROC_FAILED, PROC_ACT_REPORT_FAILED);
		case PROC_EV_STOP: f->stop_requested = true; return PROC_ACT_NONE;
		case PROC_EV_READY:
		case PROC_EV_NOT_READY:
		case PROC_EV_DEP_FAILED: return PROC_ACT_NONE;
		default: return PROC_ACT_INVALID;
		}
	case PROC_BACKOFF:
		switch (ev) {
		case PROC_EV_START:
			if (f->restarts >= f->max_retries || f->stop_requested)
				return PROC_ACT_INVALID; /* BACKOFF is only entered with budget left */
			f->restarts++;
			return go(f, PROC_RUNNING, PROC_ACT_SPAWN);
		case PROC_EV_STOP: f->stop_requested = true; return go(f, PROC_EXITED, PROC_ACT_REPORT_EXITED);
		case PROC_EV_DEP_FAILED: return PROC_ACT_NONE;
		default: return PROC_ACT_INVALID;
		}
	case PROC_EXITED:
	case PROC_FAILED:
		switch (ev) {
		case PROC_EV_STOP:
		case PROC_EV_DEP_FAILED:
		case PROC_EV_READY:
		case PROC_EV_NOT_READY: return PROC_ACT_NONE;
		default: return PROC_ACT_INVALID;
		}
	default:
		return PROC_ACT_INVALID;
	}
}

const char *proc_state_name(enum proc_state s)
{
	static const char *const names[PROC_NSTATES] = {
		"waiting", "running", "ready", "stopping", "backoff", "exited", "failed"
	};
	return (unsigned)s < PROC_NSTATES ? names[s] : "?";
}

const char *proc_event_name(enum proc_event e)
{
	static const char *const names[PROC_NEVENTS] = {
		"start", "ready", "not-ready", "exit-ok", "exit-fail", "exec-failed", "stop", "dep-failed"
	};
	return (unsigned)e < PROC_NEVENTS ? names[e] : "?";
}
