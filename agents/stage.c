/* stage — see stage.h. */
#include "stage.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <event2/event.h>

#include "protocol/protocol.h"

struct stage {
	struct event_base *base;
	const struct spec_stage *spec;
	struct events *ev;
	struct sv_config cfg;
	struct sv_proc_config *pcfg;
	struct graph_dep **deps;
	struct sv *sv;
	struct { stage_process_fn fn; void *arg; } phooks[STAGE_MAX_HOOKS];
	size_t nphooks;
	struct { stage_done_fn fn; void *arg; } dhooks[STAGE_MAX_HOOKS];
	size_t ndhooks;
	bool done;
	int result;
	json_t *ended_extra;     /* members for stage/ended (stage_set_ended_member) */
	unsigned holds;
	struct event *hold_timer;
	bool finished;           /* done, and no one holds the loop any more */
};

static void finish_loop(struct stage *st)
{
	st->finished = true;
	event_base_loopbreak(st->base);
}

static const char *mode_name(enum sv_mode m)
{
	return m == SV_MODE_SERVICE ? "service" : "job";
}

/* ---- events out ---------------------------------------------------------------------- */

static void stage_marker_sink(void *arg, json_t *event, const char *compact, size_t len)
{
	struct stage *st = arg;
	char *line;
	size_t n;

	if (!pr_fallback_wanted(event))
		return;
	line = pr_fallback_format(event, &n);
	if (!line)
		return;
	if (n > 0 && line[n - 1] == '\n')
		n--;
	sv_output_line(st->sv, 1, line, n);
	free(line);
}

void stage_say(struct stage *st, const char *fmt, ...)
{
	char line[1200];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);

	if (n > 0)
		sv_output_line(st->sv, 2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static json_t *int_or_null(long long v, bool present)
{
	return present ? json_integer(v) : json_null();
}

static void stage_on_stage(void *arg, const struct sv_stage_report *r)
{
	struct stage *st = arg;
	json_t *e = pr_event_new(PR_TYPE_STAGE);
	static const char *const kinds[] = { "started", "stopping", "ended" };

	if (!e)
		return;
	json_object_set_new(e, "event", json_string(kinds[r->kind]));
	json_object_set_new(e, "stage", json_string(r->stage ? r->stage : ""));
	json_object_set_new(e, "mode", json_string(mode_name(r->mode)));
	if (r->kind == SV_STAGE_STOPPING) {
		json_object_set_new(e, "reason", json_string(sv_stop_reason_name(r->reason)));
		if (r->signo > 0)
			json_object_set_new(e, "signal", json_integer(r->signo));
		if (r->detail)
			json_object_set_new(e, "detail", pr_string_lossy(r->detail, strlen(r->detail)));
		stage_say(st, "stagevisor-agent: stopping the stage (%s)", sv_stop_reason_name(r->reason));
		if (r->detail)
			stage_say(st, "stagevisor-agent: %s", r->detail);
	}
	if (r->kind == SV_STAGE_ENDED) {
		json_object_set_new(e, "result", json_integer(r->result));
		if (st->ended_extra)
			json_object_update_missing(e, st->ended_extra);
	}
	events_emit(st->ev, e);
}

static void stage_on_process(void *arg, const struct sv_proc_report *r)
{
	struct stage *st = arg;
	static const char *const kinds[] = { "started", "ready", "restarting", "failed", "exited" };
	json_t *e = pr_event_new(PR_TYPE_PROCESS);

	if (e) {
		json_object_set_new(e, "event", json_string(kinds[r->kind]));
		json_object_set_new(e, "process", json_string(r->name));
		json_object_set_new(e, "pid", int_or_null(r->pid, r->pid > 0));
		json_object_set_new(e, "attempt", json_integer(r->attempt));
		switch (r->kind) {
		case SV_PROC_RESTARTING:
			json_object_set_new(e, "delay_ms", json_integer(r->delay_ms));
			break;
		case SV_PROC_FAILED: {
			json_t *lines = json_array();
			json_object_set_new(e, "reason", pr_string_lossy(r->reason, strlen(r->reason)));
			for (size_t i = 0; lines && i < r->nlast; i++)
				json_array_append_new(lines, pr_string_lossy(r->last_lines[i], strlen(r->last_lines[i])));
			json_object_set_new(e, "last_lines", lines ? lines : json_array());
			break;
		}
		case SV_PROC_EXITED:
			json_object_set_new(e, "exit_code", int_or_null(r->exit_code, r->exit_code >= 0));
			json_object_set_new(e, "signal", int_or_null(r->signal, r->signal > 0));
			json_object_set_new(e, "status", json_integer(r->status));
			json_object_set_new(e, "run_ms", json_integer((json_int_t)r->run_ms));
			json_object_set_new(e, "cpu_user_ms", json_integer((json_int_t)r->cpu_user_ms));
			json_object_set_new(e, "cpu_sys_ms", json_integer((json_int_t)r->cpu_sys_ms));
			json_object_set_new(e, "max_rss_kb", json_integer(r->max_rss_kb));
			json_object_set_new(e, "killed_by", r->killed_by ? json_string(r->killed_by) : json_null());
			if (r->dropped_lines)
				json_object_set_new(e, "dropped_lines", json_integer((json_int_t)r->dropped_lines));
			break;
		default:
			break;
		}
		events_emit(st->ev, e);
	}
	if (r->kind == SV_PROC_FAILED)
		stage_say(st, "stagevisor-agent: process \"%s\" failed: %s", r->name, r->reason);
	for (size_t i = 0; i < st->nphooks; i++)
		st->phooks[i].fn(st->phooks[i].arg, r);
}

static void stage_on_done(void *arg, int result)
{
	struct stage *st = arg;

	st->result = result;
	for (size_t i = 0; i < st->ndhooks; i++)
		st->dhooks[i].fn(st->dhooks[i].arg, st->result);
	st->done = true; /* after the hooks: a hook's stage_release() must not end the loop yet */
	struct sv_stage_report r = { .kind = SV_STAGE_ENDED, .stage = st->spec->stage,
				     .mode = st->cfg.mode, .result = st->result };
	stage_on_stage(st, &r);
	events_emit_end(st->ev, st->result);
	if (st->holds == 0) {
		finish_loop(st);
		return;
	}
	struct timeval tv;
	uint64_t left = sv_budget_left_ms(st->sv);
	tv.tv_sec = (time_t)(left / 1000);
	tv.tv_usec = (suseconds_t)((left % 1000) * 1000);
	evtimer_add(st->hold_timer, &tv);
}

static void stage_on_hold_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct stage *st = arg;

	finish_loop(st);
}

void stage_set_result(struct stage *st, int result)
{
	st->result = result;
}

void stage_set_ended_member(struct stage *st, const char *key, json_t *value)
{
	if (!value)
		return;
	if (!st->ended_extra)
		st->ended_extra = json_object();
	if (st->ended_extra)
		json_object_set_new(st->ended_extra, key, value);
	else
		json_decref(value);
}

void stage_hold(struct stage *st)
{
	st->holds++;
}

void stage_release(struct stage *st)
{
	if (st->holds > 0 && --st->holds == 0 && st->done) {
		evtimer_del(st->hold_timer);
		finish_loop(st);
	}
}

static void stage_on_line(void *arg, size_t index, const char *name, int fd, const char *line, size_t len, bool cont)
{
	struct stage *st = arg;

	(void)index;
	events_emit_log(st->ev, name, fd, line, len, cont);
}

int stage_enable_log_events(struct stage *st)
{
	return sv_add_line_hook(st->sv, stage_on_line, st);
}

/* ---- spec -> supervisor config ------------------------------------------------------- */

static enum probe_kind probe_kind_of(enum spec_probe_kind k)
{
	switch (k) {
	case SPEC_PROBE_TCP: return PROBE_TCP;
	case SPEC_PROBE_HTTP: return PROBE_HTTP;
	case SPEC_PROBE_EXEC: return PROBE_EXEC;
	case SPEC_PROBE_LOG: return PROBE_LOG;
	case SPEC_PROBE_NONE: break;
	}
	return PROBE_NONE;
}

static enum graph_cond cond_of(enum spec_condition c)
{
	switch (c) {
	case SPEC_DEP_STARTED: return GRAPH_STARTED;
	case SPEC_DEP_READY: return GRAPH_READY;
	case SPEC_DEP_COMPLETED: return GRAPH_COMPLETED;
	case SPEC_DEP_SUCCEEDED: return GRAPH_SUCCEEDED;
	}
	return GRAPH_STARTED;
}

static enum proc_restart restart_of(enum spec_restart_policy p)
{
	switch (p) {
	case SPEC_RESTART_ON_FAILURE: return PROC_RESTART_ON_FAILURE;
	case SPEC_RESTART_ALWAYS: return PROC_RESTART_ALWAYS;
	case SPEC_RESTART_NEVER: break;
	}
	return PROC_RESTART_NEVER;
}

static int build_config(struct stage *st)
{
	const struct spec_stage *sp = st->spec;

	st->pcfg = calloc(sp->nprocs ? sp->nprocs : 1, sizeof *st->pcfg);
	st->deps = calloc(sp->nprocs ? sp->nprocs : 1, sizeof *st->deps);
	if (!st->pcfg || !st->deps)
		return -1;
	for (size_t i = 0; i < sp->nprocs; i++) {
		const struct spec_process *p = &sp->procs[i];
		struct sv_proc_config *c = &st->pcfg[i];

		if (p->ndeps) {
			st->deps[i] = calloc(p->ndeps, sizeof **st->deps);
			if (!st->deps[i])
				return -1;
			for (size_t d = 0; d < p->ndeps; d++) {
				st->deps[i][d].index = p->deps[d].index;
				st->deps[i][d].cond = cond_of(p->deps[d].condition);
			}
		}
		c->name = p->name;
		c->argv = p->argv;
		c->env = p->env;
		c->cwd = p->cwd;
		c->role = p->role == SPEC_ROLE_SERVICE ? SV_ROLE_SERVICE : SV_ROLE_JOB;
		c->essential = p->essential;
		c->deps = st->deps[i];
		c->ndeps = p->ndeps;
		c->ready.kind = probe_kind_of(p->ready.kind);
		c->ready.host = p->ready.host;
		c->ready.port = p->ready.port;
		c->ready.url = p->ready.url;
		c->ready.argv = p->ready.argv;
		c->ready.pattern = p->ready.pattern;
		c->ready.interval_ms = p->ready.interval_ms;
		c->ready.timeout_ms = p->ready.timeout_ms;
		c->restart = restart_of(p->restart.policy);
		c->max_retries = p->restart.max_retries;
		c->backoff_ms = p->restart.backoff_ms;
		c->backoff_max_ms = p->restart.backoff_max_ms;
		c->stop_signal = p->stop_signal > 0 ? p->stop_signal : SIGTERM;
		c->stop_grace_ms = p->stop_grace_ms;
		c->success_codes = p->success_codes;
		c->nsuccess = p->nsuccess;
	}
	st->cfg.stage = sp->stage;
	st->cfg.mode = sp->mode == SPEC_MODE_SERVICE ? SV_MODE_SERVICE : SV_MODE_JOB;
	st->cfg.stop_timeout_ms = sp->stop_timeout_ms ? sp->stop_timeout_ms : SPEC_STOP_TIMEOUT_DEFAULT_MS;
	st->cfg.stop_signals = sp->stop_signals;
	st->cfg.nstop_signals = sp->nstop_signals;
	st->cfg.procs = st->pcfg;
	st->cfg.nprocs = sp->nprocs;
	st->cfg.start_order = sp->start_order;
	st->cfg.out_fd = 1;
	st->cfg.err_fd = 2;
	st->cfg.cgroup_root = getenv("STAGEVISOR_CGROUP_ROOT"); /* tests only: agents/README.md */
	return 0;
}

struct stage *stage_new(struct event_base *base, const struct spec_stage *spec, struct events *ev,
			char *err, size_t errsize)
{
	struct stage *st = calloc(1, sizeof *st);
	struct sv_hooks hooks;

	if (!st) {
		snprintf(err, errsize, "out of memory");
		return NULL;
	}
	st->base = base;
	st->spec = spec;
	st->ev = ev;
	st->hold_timer = evtimer_new(base, stage_on_hold_timeout, st);
	if (!st->hold_timer || build_config(st) < 0) {
		snprintf(err, errsize, "out of memory");
		goto fail;
	}
	hooks.on_stage = stage_on_stage;
	hooks.on_process = stage_on_process;
	hooks.on_done = stage_on_done;
	hooks.arg = st;
	st->sv = sv_new(base, &st->cfg, &hooks, err, errsize);
	if (!st->sv)
		goto fail;
	if (events_add_sink(ev, stage_marker_sink, st) < 0) {
		snprintf(err, errsize, "too many event sinks");
		goto fail;
	}
	return st;
fail:
	stage_free(st);
	return NULL;
}

void stage_free(struct stage *st)
{
	if (!st)
		return;
	sv_free(st->sv);
	if (st->hold_timer)
		event_free(st->hold_timer);
	json_decref(st->ended_extra);
	for (size_t i = 0; st->deps && i < st->spec->nprocs; i++)
		free(st->deps[i]);
	free(st->deps);
	free(st->pcfg);
	free(st);
}

int stage_add_process_hook(struct stage *st, stage_process_fn fn, void *arg)
{
	if (st->nphooks >= STAGE_MAX_HOOKS)
		return -1;
	st->phooks[st->nphooks].fn = fn;
	st->phooks[st->nphooks].arg = arg;
	st->nphooks++;
	return 0;
}

int stage_add_done_hook(struct stage *st, stage_done_fn fn, void *arg)
{
	if (st->ndhooks >= STAGE_MAX_HOOKS)
		return -1;
	st->dhooks[st->ndhooks].fn = fn;
	st->dhooks[st->ndhooks].arg = arg;
	st->ndhooks++;
	return 0;
}

int stage_start(struct stage *st)
{
	return sv_start(st->sv);
}

bool stage_done(const struct stage *st)
{
	return st->done;
}

bool stage_finished(const struct stage *st)
{
	return st->finished;
}

int stage_result(const struct stage *st)
{
	return st->result;
}

void stage_flush(struct stage *st)
{
	uint64_t left = sv_budget_left_ms(st->sv);

	sv_flush_output(st->sv, (int)(left > 5000 ? 5000 : (left < 200 ? 200 : left)));
}

struct sv *stage_supervisor(struct stage *st)
{
	return st->sv;
}
