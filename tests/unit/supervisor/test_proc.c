/* Tests of supervisor/proc.c: the whole state x event table, cell by cell, and the
 * invariants every cell must keep under every restart policy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "proc.h"

enum { W = PROC_WAITING, R = PROC_RUNNING, Y = PROC_READY, S = PROC_STOPPING, B = PROC_BACKOFF,
       X = PROC_EXITED, F = PROC_FAILED };
enum { NONE = PROC_ACT_NONE, SPAWN = PROC_ACT_SPAWN, STOP = PROC_ACT_SEND_STOP,
       LATER = PROC_ACT_RESTART_LATER, EXD = PROC_ACT_REPORT_EXITED, FLD = PROC_ACT_REPORT_FAILED,
       INV = PROC_ACT_INVALID };

struct cell { int state; int action; };

/* Policy never, no flags: the expected next state and action of every cell.
 * Columns: START READY NOT_READY EXIT_OK EXIT_FAIL EXEC_FAILED STOP DEP_FAILED */
static const struct cell never_table[PROC_NSTATES][PROC_NEVENTS] = {
	[PROC_WAITING]  = { {R, SPAWN}, {W, INV}, {W, INV}, {W, INV}, {W, INV}, {W, INV}, {X, EXD}, {F, FLD} },
	[PROC_RUNNING]  = { {R, INV}, {Y, NONE}, {S, STOP}, {X, EXD}, {F, FLD}, {F, FLD}, {S, STOP}, {R, NONE} },
	[PROC_READY]    = { {Y, INV}, {Y, NONE}, {Y, NONE}, {X, EXD}, {F, FLD}, {F, FLD}, {S, STOP}, {Y, NONE} },
	[PROC_STOPPING] = { {S, INV}, {S, NONE}, {S, NONE}, {X, EXD}, {X, EXD}, {F, FLD}, {S, NONE}, {S, NONE} },
	[PROC_BACKOFF]  = { {R, SPAWN}, {B, INV}, {B, INV}, {B, INV}, {B, INV}, {B, INV}, {X, EXD}, {B, NONE} },
	[PROC_EXITED]   = { {X, INV}, {X, NONE}, {X, NONE}, {X, INV}, {X, INV}, {X, INV}, {X, NONE}, {X, NONE} },
	[PROC_FAILED]   = { {F, INV}, {F, NONE}, {F, NONE}, {F, INV}, {F, INV}, {F, INV}, {F, NONE}, {F, NONE} },
};

static void whole_table_policy_never(void **state)
{
	(void)state;
	for (int s = 0; s < PROC_NSTATES; s++) {
		for (int e = 0; e < PROC_NEVENTS; e++) {
			struct proc_fsm f;
			proc_fsm_init(&f, PROC_RESTART_NEVER, 3);
			f.state = (enum proc_state)s;
			/* STOPPING reached by teardown has stop_requested set. */
			if (s == PROC_STOPPING)
				f.stop_requested = true;
			enum proc_action a = proc_step(&f, (enum proc_event)e);
			if ((int)f.state != never_table[s][e].state || (int)a != never_table[s][e].action)
				fail_msg("%s x %s: got %s/%d, want %s/%d", proc_state_name(s), proc_event_name(e),
					 proc_state_name(f.state), a, proc_state_name(never_table[s][e].state),
					 never_table[s][e].action);
		}
	}
}

/* Invariants over every state, event, policy, retry budget and flag combination. */
static void invariants_everywhere(void **state)
{
	(void)state;
	for (int pol = 0; pol < 3; pol++)
	for (unsigned max = 0; max < 3; max++)
	for (unsigned done = 0; done <= max; done++)
	for (int flags = 0; flags < 4; flags++)
	for (int s = 0; s < PROC_NSTATES; s++)
	for (int e = 0; e < PROC_NEVENTS; e++) {
		struct proc_fsm f;
		proc_fsm_init(&f, (enum proc_restart)pol, max);
		f.restarts = done;
		f.fail_pending = flags & 1;
		f.stop_requested = flags & 2;
		f.state = (enum proc_state)s;
		struct proc_fsm before = f;
		enum proc_action a = proc_step(&f, (enum proc_event)e);

		switch (a) {
		case PROC_ACT_INVALID:
			assert_int_equal(f.state, before.state);
			break;
		case PROC_ACT_NONE:
			/* The one silent move: the probe passed. */
			if (f.state != before.state)
				assert_true(before.state == PROC_RUNNING && e == PROC_EV_READY && f.state == PROC_READY);
			break;
		case PROC_ACT_SPAWN:
			assert_int_equal(f.state, PROC_RUNNING);
			break;
		case PROC_ACT_SEND_STOP:
			assert_int_equal(f.state, PROC_STOPPING);
			break;
		case PROC_ACT_RESTART_LATER:
			assert_int_equal(f.state, PROC_BACKOFF);
			assert_false(before.stop_requested);
			assert_true(before.restarts < max);
			assert_int_not_equal(pol, PROC_RESTART_NEVER);
			break;
		case PROC_ACT_REPORT_EXITED:
			assert_int_equal(f.state, PROC_EXITED);
			break;
		case PROC_ACT_REPORT_FAILED:
			assert_int_equal(f.state, PROC_FAILED);
			break;
		}
		/* Terminal states are never left. */
		if (proc_terminal(before.state))
			assert_int_equal(f.state, before.state);
		/* Starts are counted only from BACKOFF, and never beyond the budget. */
		assert_true(f.restarts <= max || f.restarts == before.restarts);
		if (a == PROC_ACT_SPAWN && before.state == PROC_BACKOFF)
			assert_int_equal(f.restarts, before.restarts + 1);
		/* A process whose probe failed ends as FAILED whatever its exit code. */
		if (before.state == PROC_STOPPING && before.fail_pending &&
		    (e == PROC_EV_EXIT_OK || e == PROC_EV_EXIT_FAIL))
			assert_int_equal(f.state, PROC_FAILED);
	}
}

static void on_failure_restarts_then_fails_for_good(void **state)
{
	struct proc_fsm f;
	int starts = 0;
	(void)state;

	proc_fsm_init(&f, PROC_RESTART_ON_FAILURE, 3);
	assert_int_equal(proc_step(&f, PROC_EV_START), PROC_ACT_SPAWN);
	starts++;
	for (;;) {
		enum proc_action a = proc_step(&f, PROC_EV_EXIT_FAIL);
		if (a != PROC_ACT_RESTART_LATER) {
			assert_int_equal(a, PROC_ACT_REPORT_FAILED);
			break;
		}
		assert_int_equal(proc_step(&f, PROC_EV_START), PROC_ACT_SPAWN);
		starts++;
	}
	assert_int_equal(starts, 4); /* max_retries 3: at most 4 starts */
	assert_int_equal(f.state, PROC_FAILED);
}

static void on_failure_does_not_restart_success(void **state)
{
	struct proc_fsm f;
	(void)state;

	proc_fsm_init(&f, PROC_RESTART_ON_FAILURE, 3);
	proc_step(&f, PROC_EV_START);
	assert_int_equal(proc_step(&f, PROC_EV_EXIT_OK), PROC_ACT_REPORT_EXITED);
}

static void always_restarts_success_too(void **state)
{
	struct proc_fsm f;
	(void)state;

	proc_fsm_init(&f, PROC_RESTART_ALWAYS, 1);
	proc_step(&f, PROC_EV_START);
	assert_int_equal(proc_step(&f, PROC_EV_EXIT_OK), PROC_ACT_RESTART_LATER);
	assert_int_equal(proc_step(&f, PROC_EV_START), PROC_ACT_SPAWN);
	/* budget used up: a clean exit is EXITED, not FAILED */
	assert_int_equal(proc_step(&f, PROC_EV_EXIT_OK), PROC_ACT_REPORT_EXITED);
}

static void exec_failure_is_never_restarted(void **state)
{
	struct proc_fsm f;
	(void)state;

	proc_fsm_init(&f, PROC_RESTART_ALWAYS, 5);
	proc_step(&f, PROC_EV_START);
	assert_int_equal(proc_step(&f, PROC_EV_EXEC_FAILED), PROC_ACT_REPORT_FAILED);
}

static void stop_during_backoff_ends_it(void **state)
{
	struct proc_fsm f;
	(void)state;

	proc_fsm_init(&f, PROC_RESTART_ALWAYS, 5);
	proc_step(&f, PROC_EV_START);
	proc_step(&f, PROC_EV_EXIT_FAIL);
	assert_int_equal(f.state, PROC_BACKOFF);
	assert_int_equal(proc_step(&f, PROC_EV_STOP), PROC_ACT_REPORT_EXITED);
	assert_int_equal(proc_step(&f, PROC_EV_START), PROC_ACT_INVALID);
}

static void stop_then_exit_never_restarts(void **state)
{
	struct proc_fsm f;
	(void)state;

	proc_fsm_init(&f, PROC_RESTART_ALWAYS, 5);
	proc_step(&f, PROC_EV_START);
	assert_int_equal(proc_step(&f, PROC_EV_STOP), PROC_ACT_SEND_STOP);
	assert_int_equal(proc_step(&f, PROC_EV_EXIT_FAIL), PROC_ACT_REPORT_EXITED);
}

static void probe_timeout_stops_then_fails(void **state)
{
	struct proc_fsm f;
	(void)state;

	proc_fsm_init(&f, PROC_RESTART_ALWAYS, 5);
	proc_step(&f, PROC_EV_START);
	assert_int_equal(proc_step(&f, PROC_EV_NOT_READY), PROC_ACT_SEND_STOP);
	assert_int_equal(proc_step(&f, PROC_EV_EXIT_OK), PROC_ACT_REPORT_FAILED);
}

static void names(void **state)
{
	(void)state;
	assert_string_equal(proc_state_name(PROC_BACKOFF), "backoff");
	assert_string_equal(proc_event_name(PROC_EV_DEP_FAILED), "dep-failed");
	assert_string_equal(proc_state_name((enum proc_state)99), "?");
	assert_true(proc_alive(PROC_STOPPING));
	assert_false(proc_alive(PROC_BACKOFF));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(whole_table_policy_never),
		cmocka_unit_test(invariants_everywhere),
		cmocka_unit_test(on_failure_restarts_then_fails_for_good),
		cmocka_unit_test(on_failure_does_not_restart_success),
		cmocka_unit_test(always_restarts_success_too),
		cmocka_unit_test(exec_failure_is_never_restarted),
		cmocka_unit_test(stop_during_backoff_ends_it),
		cmocka_unit_test(stop_then_exit_never_restarts),
		cmocka_unit_test(probe_timeout_stops_then_fails),
		cmocka_unit_test(names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
