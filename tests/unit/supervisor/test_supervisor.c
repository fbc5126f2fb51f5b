/* Tests of supervisor/supervisor.c: the pure helpers, and one small stage run end to end on a
 * real event loop with real processes (ordering, result, report contents). */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/event.h>

#include "supervisor.h"

static void stop_reserve(void **state)
{
	(void)state;
	assert_int_equal(sv_stop_reserve_ms(30000), 6000);
	assert_int_equal(sv_stop_reserve_ms(120000), 24000);
	assert_int_equal(sv_stop_reserve_ms(3000), 1000);  /* at least 1 s */
	assert_int_equal(sv_stop_reserve_ms(1000), 500);   /* at most half */
	assert_int_equal(sv_stop_reserve_ms(0), 0);
}

static void backoff_reset_threshold(void **state)
{
	(void)state;
	assert_false(sv_backoff_resets(9999, 1000));
	assert_true(sv_backoff_resets(10000, 1000));
	assert_false(sv_backoff_resets(29999, 30000));
	assert_true(sv_backoff_resets(30000, 30000));
	assert_string_equal(sv_stop_reason_name(SV_STOP_JOBS_ENDED), "jobs-ended");
}

struct trace {
	char log[2048];
	int result;
	int done;
	struct event_base *base;
};

static void on_stage(void *arg, const struct sv_stage_report *r)
{
	struct trace *t = arg;
	size_t l = strlen(t->log);
	snprintf(t->log + l, sizeof t->log - l, "stage:%d:%s ", r->kind, r->kind == SV_STAGE_STOPPING ? sv_stop_reason_name(r->reason) : "");
}

static void on_process(void *arg, const struct sv_proc_report *r)
{
	struct trace *t = arg;
	size_t l = strlen(t->log);
	static const char *const k[] = { "started", "ready", "restarting", "failed", "exited" };
	if (r->kind == SV_PROC_EXITED)
		snprintf(t->log + l, sizeof t->log - l, "%s:%s:%d ", r->name, k[r->kind], r->status);
	else if (r->kind == SV_PROC_FAILED)
		snprintf(t->log + l, sizeof t->log - l, "%s:%s:%s:%s ", r->name, k[r->kind], r->reason,
			 r->nlast ? r->last_lines[r->nlast - 1] : "-");
	else
		snprintf(t->log + l, sizeof t->log - l, "%s:%s ", r->name, k[r->kind]);
}

static void on_done(void *arg, int result)
{
	struct trace *t = arg;
	t->result = result;
	t->done = 1;
	event_base_loopbreak(t->base);
}

static void job_stage_in_order(void **state)
{
	char *a_argv[] = { "sh", "-c", "echo a here", NULL };
	char *b_argv[] = { "sh", "-c", "echo b says bye; exit 3", NULL };
	struct graph_dep b_deps[] = { { 0, GRAPH_COMPLETED } };
	struct sv_proc_config procs[2];
	struct sv_config cfg;
	struct sv_hooks hooks;
	struct trace t;
	char err[256];
	int devnull = open("/dev/null", O_WRONLY);
	(void)state;

	memset(procs, 0, sizeof procs);
	memset(&cfg, 0, sizeof cfg);
	memset(&t, 0, sizeof t);
	procs[0].name = "a";
	procs[0].argv = a_argv;
	procs[0].role = SV_ROLE_JOB;
	procs[0].essential = false;
	procs[0].stop_grace_ms = 1000;
	procs[1].name = "b";
	procs[1].argv = b_argv;
	procs[1].role = SV_ROLE_JOB;
	procs[1].essential = true;
	procs[1].deps = b_deps;
	procs[1].ndeps = 1;
	procs[1].stop_grace_ms = 1000;
	cfg.stage = "unit";
	cfg.mode = SV_MODE_JOB;
	cfg.stop_timeout_ms = 5000;
	cfg.procs = procs;
	cfg.nprocs = 2;
	cfg.out_fd = devnull;
	cfg.err_fd = devnull;
	t.base = event_base_new();
	hooks.on_stage = on_stage;
	hooks.on_process = on_process;
	hooks.on_done = on_done;
	hooks.arg = &t;
	struct sv *sv = sv_new(t.base, &cfg, &hooks, err, sizeof err);
	assert_non_null(sv);
	assert_int_equal(sv_start(sv), 0);
	while (!t.done)
		assert_int_not_equal(event_base_dispatch(t.base), -1);
	assert_int_equal(t.result, 3);
	assert_string_equal(t.log,
		"stage:0: a:started a:ready a:exited:0 b:started b:ready b:exited:3 "
		"b:failed:exited with status 3:b says bye stage:1:essential-failed ");
	sv_free(sv);
	event_base_free(t.base);
	close(devnull);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stop_reserve),
		cmocka_unit_test(backoff_reset_threshold),
		cmocka_unit_test(job_stage_in_order),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
