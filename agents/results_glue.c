/* results_glue — see results_glue.h. */
#include "results_glue.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "protocol/protocol.h"
#include "supervisor.h"
#include "watch.h"

struct rg_proc {
	bool has_results;
	bool started;  /* started at least once */
	bool pending;  /* exited; final parse due unless a restart follows */
	bool ended;    /* final parse done */
	bool failed;   /* reported `failed`: ended for good with a status outside its success codes */
	bool stopped;  /* its last run ended by the agent's stop (killed_by agent-stop/-deadline) */
	int status;    /* its last exit status (128+n for signal n) */
	int signal;    /* the signal of its last exit, else 0 */
	bool explained;    /* explain_all(): its failure is accounted for by reports */
	char why[300];     /* explain_all(): why it is, or is not */
};

struct results_glue {
	struct stage *st;
	const struct spec_stage *spec;
	struct events *ev;
	struct rs_watch *w;
	struct event *defer; /* runs the final parses after the report that may announce a restart */
	struct rg_proc *procs;
};

static void results_glue_emit(void *arg, json_t *event)
{
	struct results_glue *rg = arg;

	events_emit(rg->ev, event);
}

static void results_glue_on_chunk(void *arg, size_t index, const char *name, int fd, const char *data, size_t len)
{
	struct results_glue *rg = arg;

	if (fd == 1 && index < rg->spec->nprocs && rg->procs[index].has_results)
		rs_watch_stdout(rg->w, name, data, len);
}

/* The final parse of every process that has ended for good since the last call. */
static void end_pending(struct results_glue *rg)
{
	for (size_t i = 0; i < rg->spec->nprocs; i++) {
		struct rg_proc *p = &rg->procs[i];

		if (!p->pending)
			continue;
		p->pending = false;
		p->ended = true;
		/* Errors go to the verdict; a process we stopped is not asked for a report it had no
		 * time to write (the reason the stage was stopping is reported on its own). */
		if (p->stopped)
			rs_watch_process_stopped(rg->w, rg->spec->procs[i].name);
		else
			rs_watch_process_ended(rg->w, rg->spec->procs[i].name);
	}
}

static void results_glue_on_defer(evutil_socket_t fd, short what, void *arg)
{
	end_pending(arg);
}

/* The supervisor reports `exited` and then, in the same turn of the loop, `restarting` when the
 * process will run again: the final parse waits for the next turn (or the done hook). */
static void process_report(struct results_glue *rg, const struct sv_proc_report *r)
{
	struct rg_proc *p;

	if (r->index >= rg->spec->nprocs)
		return;
	p = &rg->procs[r->index];
	/* Every process: its failure is explained or not at the end (explain()). */
	if (r->kind == SV_PROC_EXITED) {
		p->status = r->status;
		p->signal = r->signal > 0 ? r->signal : 0;
		p->stopped = r->killed_by && strncmp(r->killed_by, "agent-", 6) == 0;
	} else if (r->kind == SV_PROC_FAILED) {
		p->failed = true;
	}
	if (!p->has_results || p->ended)
		return;
	switch (r->kind) {
	case SV_PROC_STARTED:
		p->started = true;
		break;
	case SV_PROC_EXITED:
		p->pending = true;
		event_active(rg->defer, EV_TIMEOUT, 0);
		break;
	case SV_PROC_RESTARTING:
		p->pending = false;
		break;
	default:
		break;
	}
}

static void results_glue_on_process(void *arg, const struct sv_proc_report *r)
{
	process_report(arg, r);
}

static json_t *verdict_json(enum rs_outcome o, const struct rs_verdict *v)
{
	json_t *j = json_pack("{s:s, s:{s:I, s:I, s:I, s:I}, s:{s:I, s:I, s:I}, s:I, s:I, s:I}",
			      "outcome", rs_outcome_name(o),
			      "tests", "passed", (json_int_t)v->passed, "failed", (json_int_t)v->failed,
			      "error", (json_int_t)v->errors, "skipped", (json_int_t)v->skipped,
			      "findings", "error", (json_int_t)v->findings_error,
			      "warning", (json_int_t)v->findings_warning, "info", (json_int_t)v->findings_info,
			      "findings_failing", (json_int_t)v->findings_failing,
			      "metrics", (json_int_t)v->metrics,
			      "reports_bad", (json_int_t)v->nerrors);

	if (j && v->nerrors)
		json_object_set_new(j, "error", pr_string_lossy(v->error, strlen(v->error)));
	return j;
}

static void say(struct results_glue *rg, const char *line)
{
	sv_output_line(stage_supervisor(rg->st), 2, line, strlen(line));
}

/*
 * Whether process i's failure is explained by its own reports: it ended for good with a
 * status (not a signal), every report of it was read, and they hold at least one failed or
 * errored test or a finding that reached fail_on. why gets the reason either way.
 */
static bool explain(struct results_glue *rg, size_t i, char *why, size_t whylen)
{
	const struct rg_proc *p = &rg->procs[i];
	struct rs_process_verdict pv;

	if (!p->started) {
		snprintf(why, whylen, "it never started");
		return false;
	}
	if (!p->has_results || rs_watch_process_verdict(rg->w, rg->spec->procs[i].name, &pv) < 0) {
		snprintf(why, whylen, "it has no results to explain its exit");
		return false;
	}
	if (p->signal) {
		snprintf(why, whylen, "it was killed by signal %d", p->signal);
		return false;
	}
	if (pv.reports_bad) {
		snprintf(why, whylen, "%u of its reports missing or unreadable", pv.reports_bad);
		return false;
	}
	if (pv.unfinished) {
		snprintf(why, whylen, "it ended in the middle of a test (%lu tests never finished)", pv.unfinished);
		return false;
	}
	if (pv.failed + pv.errors + pv.findings_failing == 0) {
		snprintf(why, whylen, "its reports hold no failure to explain it (%lu tests, %lu findings, none failing)",
			 pv.tests, pv.findings);
		return false;
	}
	snprintf(why, whylen, "exit status %d, explained by its reports: %lu failed and %lu erroring tests, "
		 "%lu findings at fail_on", p->status, pv.failed, pv.errors, pv.findings_failing);
	return true;
}

/*
 * A process that never started because a dependency failed is explained when that dependency
 * is (a deploy step that waits for "phpunit" to succeed is not an infrastructure problem when
 * PHPUnit's tests failed). Repeated until nothing changes, for chains of dependencies.
 */
static void explain_dependents(struct results_glue *rg)
{
	for (bool changed = true; changed;) {
		changed = false;
		for (size_t i = 0; i < rg->spec->nprocs; i++) {
			struct rg_proc *p = &rg->procs[i];
			const struct spec_process *sp = &rg->spec->procs[i];

			if (!p->failed || p->explained || p->started)
				continue;
			for (size_t d = 0; d < sp->ndeps; d++) {
				size_t k = sp->deps[d].index;

				if (k < rg->spec->nprocs && rg->procs[k].failed && rg->procs[k].explained) {
					p->explained = changed = true;
					snprintf(p->why, sizeof p->why, "it never started: it depends on \"%s\", whose tests "
						 "or checks failed", rg->spec->procs[k].name);
					break;
				}
			}
		}
	}
}

/*
 * stage/ended's "processes": one entry per process that failed for good, with whether its
 * reports explain that. Returns true when the stage's result came only from explained
 * processes (every failed process is explained and result is the status of one of them).
 */
static bool explain_all(struct results_glue *rg, int result)
{
	json_t *list = json_array();
	bool all = true, matched = false;

	for (size_t i = 0; i < rg->spec->nprocs; i++) {
		struct rg_proc *p = &rg->procs[i];

		if (p->failed)
			p->explained = explain(rg, i, p->why, sizeof p->why);
	}
	explain_dependents(rg);
	for (size_t i = 0; i < rg->spec->nprocs; i++) {
		const struct rg_proc *p = &rg->procs[i];
		json_t *e;

		if (!p->failed)
			continue;
		all = all && p->explained;
		matched = matched || (p->explained && p->started && p->status == result);
		e = json_pack("{s:s, s:b, s:s}", "process", rg->spec->procs[i].name, "explained", p->explained,
			      "why", p->why);
		if (e && p->started)
			json_object_set_new(e, "status", json_integer(p->status));
		if (list && e)
			json_array_append_new(list, e);
		else
			json_decref(e);
	}
	if (list && json_array_size(list) > 0)
		stage_set_ended_member(rg->st, "processes", list);
	else
		json_decref(list);
	return all && matched;
}

static void results_glue_on_done(void *arg, int result)
{
	struct results_glue *rg = arg;
	struct rs_verdict v;
	enum rs_outcome o;
	char line[1600];

	/* Processes that ended in the same turn as the stage (or were killed at the deadline). */
	end_pending(rg);
	for (size_t i = 0; i < rg->spec->nprocs; i++) {
		if (rg->procs[i].started && !rg->procs[i].ended) {
			rg->procs[i].pending = true;
			end_pending(rg);
		}
	}
	o = rs_watch_verdict(rg->w, &v);
	snprintf(line, sizeof line,
		 "stagevisor-agent: results (%s): tests %lu passed, %lu failed, %lu error, %lu skipped; "
		 "findings %lu error, %lu warning, %lu info (%lu at fail_on); %lu metrics",
		 rs_outcome_name(o), v.passed, v.failed, v.errors, v.skipped, v.findings_error,
		 v.findings_warning, v.findings_info, v.findings_failing, v.metrics);
	say(rg, line);
	if (o == RS_OUTCOME_ERROR) {
		snprintf(line, sizeof line, "stagevisor-agent: results: error: %s%s", v.error,
			 v.nerrors > 1 ? " (and more reports)" : "");
		say(rg, line);
	}
	stage_set_ended_member(rg->st, "results", verdict_json(o, &v));
	/* A job that exits non-zero because its tests failed (PHPUnit exits 1 or 2 then) is a
	 * test failure: its code becomes the results' verdict below. Any other failure's code
	 * passes through. */
	if (explain_all(rg, result) && result != 0) {
		snprintf(line, sizeof line, "stagevisor-agent: the stage's exit %d is explained by failed tests or "
			 "findings in the reports", result);
		say(rg, line);
		result = 0;
	}
	if (result != 0)
		return; /* a process failed: its code passes through */
	if (o == RS_OUTCOME_ERROR)
		stage_set_result(rg->st, RESULTS_GLUE_EXIT_ERROR);
	else if (o == RS_OUTCOME_FAILED)
		stage_set_result(rg->st, RESULTS_GLUE_EXIT_FAILED);
}

struct results_glue *results_glue_new(struct event_base *base, struct stage *st, const struct spec_stage *spec,
				      struct events *ev, bool *failed, char *err, size_t errsize)
{
	struct results_glue *rg = NULL;
	size_t with = 0;

	*failed = false;
	for (size_t i = 0; i < spec->nprocs; i++)
		with += spec->procs[i].nresults > 0;
	if (with == 0)
		return NULL;
	rg = calloc(1, sizeof *rg);
	if (!rg)
		goto oom;
	rg->st = st;
	rg->spec = spec;
	rg->ev = ev;
	rg->procs = calloc(spec->nprocs, sizeof *rg->procs);
	rg->defer = event_new(base, -1, 0, results_glue_on_defer, rg);
	rg->w = rs_watch_new(base, results_glue_emit, rg, NULL);
	if (!rg->procs || !rg->defer || !rg->w)
		goto oom;
	for (size_t i = 0; i < spec->nprocs; i++) {
		const struct spec_process *p = &spec->procs[i];

		if (p->nresults == 0)
			continue;
		if (rs_watch_add(rg->w, p->name, p->cwd, p->results, p->nresults) < 0) {
			snprintf(err, errsize, "processes[%zu].results: cannot watch: %s", i, strerror(errno));
			goto fail;
		}
		rg->procs[i].has_results = true;
	}
	if (sv_add_chunk_hook(stage_supervisor(st), results_glue_on_chunk, rg) < 0 ||
	    stage_add_process_hook(st, results_glue_on_process, rg) < 0 ||
	    stage_add_done_hook(st, results_glue_on_done, rg) < 0) {
		snprintf(err, errsize, "too many hooks");
		goto fail;
	}
	return rg;
oom:
	snprintf(err, errsize, "out of memory");
fail:
	*failed = true;
	results_glue_free(rg);
	return NULL;
}

void results_glue_free(struct results_glue *rg)
{
	if (!rg)
		return;
	rs_watch_free(rg->w);
	if (rg->defer)
		event_free(rg->defer);
	free(rg->procs);
	free(rg);
}
