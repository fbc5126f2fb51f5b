/* supervisor — see supervisor.h. The state of each process lives in proc.c's table; this file
 * does what the table asks (spawn, signal, arm timers) and feeds it what happens (exits,
 * probe results, signals). */
#include "supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "backoff.h"
#include "cgroup.h"
#include "output.h"
#include "spawn.h"
#include "status.h"
#include "sweep.h"

#define SV_MAX_STOP_SIGNALS 16
#define SV_SWEEP_MAX 8192
#define SV_SWEEP_GRACE_MAX_MS 5000u
#define SV_BACKOFF_RESET_MIN_MS 10000u

struct sv_line_hook {
	sv_line_fn fn;
	void *arg;
};

struct sv_chunk_hook {
	sv_chunk_fn fn;
	void *arg;
};

struct sv_proc {
	struct sv *sv;
	size_t index;
	const struct sv_proc_config *cfg;
	struct proc_fsm fsm;
	pid_t pid;               /* -1 when not alive */
	unsigned attempt;        /* starts so far */
	int64_t started_ms;
	bool started_once;       /* exec succeeded at least once */
	bool ready_once;
	bool succeeded;          /* ended for good with a success code */
	bool have_status;
	int last_status;
	bool exec_failed;        /* the current attempt could not exec */
	bool dep_failed;         /* failed because a dependency can never be met */
	char exec_reason[256];
	char fail_reason[512];
	struct output_stream *out;
	struct probe *probe;
	struct event *timer;     /* backoff delay, or the stop grace */
	bool stop_sent;
	bool kill_sent;
	bool deadline_kill;
	bool grace_clipped;      /* its SIGKILL comes at the budget's end, not its grace's */
	int64_t oom_before;
	unsigned backoff_step;
	bool end_success;        /* the last end counted as success */
	uint64_t end_run_ms;     /* how long the last attempt ran */
	pid_t last_pid;          /* also its process group, kept after it was reaped */
};

struct sv {
	struct event_base *base;
	const struct sv_config *cfg;
	struct sv_hooks hooks;
	struct sv_proc *procs;
	struct graph_node *nodes;
	struct output *out;
	struct event *sig_chld;
	struct event *sig_stop[SV_MAX_STOP_SIGNALS + 2];
	size_t nsig_stop;
	struct event *sig_fwd[3];
	struct event *deadline;  /* soft: every process gets its stop signal; then hard */
	bool deadline_soft_done;
	struct event *sweep_timer;
	struct sv_line_hook line_hooks[SV_MAX_LINE_HOOKS];
	size_t nline_hooks;
	struct sv_chunk_hook chunk_hooks[SV_MAX_CHUNK_HOOKS];
	size_t nchunk_hooks;
	bool started;
	bool stopping;
	bool sweeping;
	int sweep_phase;         /* 1: stop signals sent, 2: SIGKILL sent */
	bool done;
	bool in_evaluate;
	enum sv_stop_reason stop_reason;
	int stop_signo;
	bool jobs_unfinished_at_stop;
	bool result_set;
	int result;
	int64_t stop_start_ms;
	int64_t kill_deadline_ms;
	uint32_t rnd;
	char oom_path[2048];     /* the OOM-kill counter file (cgroup.h), "" when none */
	uint64_t orphans;
	struct sweep_entry *sweep_buf;
	pid_t *swept;            /* pids sent the stop signal in the sweep */
	size_t nswept;
};

static void evaluate(struct sv *sv);
static void begin_stop(struct sv *sv, enum sv_stop_reason reason, int signo, const char *detail);

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct timeval ms_tv(int64_t ms)
{
	struct timeval tv;

	if (ms < 0)
		ms = 0;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	return tv;
}

unsigned sv_stop_reserve_ms(unsigned stop_timeout_ms)
{
	unsigned r = stop_timeout_ms / 5;

	if (r < 1000)
		r = 1000;
	if (r > stop_timeout_ms / 2)
		r = stop_timeout_ms / 2;
	return r;
}

bool sv_backoff_resets(uint64_t run_ms, unsigned backoff_max_ms)
{
	/* "Stayed up for a while": at least as long as the longest delay, and 10 s. */
	uint64_t t = backoff_max_ms > SV_BACKOFF_RESET_MIN_MS ? backoff_max_ms : SV_BACKOFF_RESET_MIN_MS;

	return run_ms >= t;
}

const char *sv_stop_reason_name(enum sv_stop_reason r)
{
	switch (r) {
	case SV_STOP_SIGNAL: return "signal";
	case SV_STOP_JOBS_ENDED: return "jobs-ended";
	case SV_STOP_ESSENTIAL_FAILED: return "essential-failed";
	case SV_STOP_DEPENDENCY_FAILED: return "dependency-failed";
	case SV_STOP_CANCEL: return "cancel";
	case SV_STOP_NONE: break;
	}
	return "none";
}

static int stop_signal_of(const struct sv_proc *p)
{
	return p->cfg->stop_signal > 0 ? p->cfg->stop_signal : SIGTERM;
}

static bool success_code(const struct sv_proc_config *c, int code)
{
	if (!c->success_codes || c->nsuccess == 0)
		return code == 0;
	for (size_t i = 0; i < c->nsuccess; i++)
		if (c->success_codes[i] == code)
			return true;
	return false;
}

/* Signals the process group; falls back to the pid if the group is already gone. */
static void signal_group(pid_t pid, int sig)
{
	if (pid <= 0)
		return;
	if (kill(-pid, sig) < 0 && errno == ESRCH)
		kill(pid, sig);
}

/* ---- reports ------------------------------------------------------------------------- */

static void report_stage(struct sv *sv, enum sv_stage_event kind, const char *detail)
{
	struct sv_stage_report r = {
		.kind = kind, .stage = sv->cfg->stage, .mode = sv->cfg->mode,
		.reason = sv->stop_reason, .signo = sv->stop_signo, .detail = detail, .result = sv->result,
	};

	if (sv->hooks.on_stage)
		sv->hooks.on_stage(sv->hooks.arg, &r);
}

static void report_proc(struct sv_proc *p, struct sv_proc_report *r)
{
	struct sv *sv = p->sv;

	r->index = p->index;
	r->name = p->cfg->name;
	r->attempt = p->attempt;
	r->dropped_lines = p->out ? output_stream_dropped(p->out) : 0;
	if (sv->hooks.on_process)
		sv->hooks.on_process(sv->hooks.arg, r);
}

static void report_simple(struct sv_proc *p, enum sv_proc_event kind)
{
	struct sv_proc_report r = { .kind = kind, .pid = p->pid, .exit_code = -1 };

	report_proc(p, &r);
}

static void report_failed(struct sv_proc *p, const char *reason)
{
	char buf[OUTPUT_TAIL_BYTES + 1];
	const char *lines[SV_LAST_LINES];
	size_t n = p->out ? output_last_lines(p->out, buf, sizeof buf, lines, SV_LAST_LINES) : 0;
	struct sv_proc_report r = {
		.kind = SV_PROC_FAILED, .pid = p->pid, .reason = reason, .last_lines = lines, .nlast = n,
		.exit_code = -1, .status = p->last_status,
	};

	report_proc(p, &r);
}

/* ---- the stage result ---------------------------------------------------------------- */

/* An essential process ended for good: does it decide the stage's result? */
static void note_essential_end(struct sv_proc *p, bool failed)
{
	struct sv *sv = p->sv;

	if (!p->cfg->essential || sv->result_set || !failed)
		return;
	/* Once stopping, only job mode's jobs still count: services are expected to die then. */
	if (sv->stopping && !(sv->cfg->mode == SV_MODE_JOB && p->cfg->role == SV_ROLE_JOB))
		return;
	sv->result_set = true;
	sv->result = (p->have_status && !success_code(p->cfg, p->last_status)) ? p->last_status : 1;
}

/* ---- start, ready, restart ----------------------------------------------------------- */

static void sv_on_line(void *arg, int fd, const char *line, size_t len, bool cont)
{
	struct sv_proc *p = arg;
	struct sv *sv = p->sv;

	if (probe_wants_lines(p->probe) && !cont)
		probe_feed_line(p->probe, line, len);
	for (size_t i = 0; i < sv->nline_hooks; i++)
		sv->line_hooks[i].fn(sv->line_hooks[i].arg, p->index, p->cfg->name, fd, line, len, cont);
}

static void sv_on_chunk(void *arg, int fd, const char *data, size_t len)
{
	struct sv_proc *p = arg;
	struct sv *sv = p->sv;

	for (size_t i = 0; i < sv->nchunk_hooks; i++)
		sv->chunk_hooks[i].fn(sv->chunk_hooks[i].arg, p->index, p->cfg->name, fd, data, len);
}

static void update_line_fn(struct sv_proc *p)
{
	if (!p->out)
		return;
	output_set_chunk_fn(p->out, p->sv->nchunk_hooks ? sv_on_chunk : NULL, p);
	if (probe_wants_lines(p->probe) || p->sv->nline_hooks > 0)
		output_set_line_fn(p->out, sv_on_line, p);
	else
		output_set_line_fn(p->out, NULL, NULL);
}

static void apply(struct sv_proc *p, enum proc_event ev);

static void spawn_proc(struct sv_proc *p)
{
	struct sv *sv = p->sv;
	int child_fds[2] = { -1, -1 };
	struct spawn_request req;
	struct spawn_result res;

	p->exec_failed = false;
	p->stop_sent = p->kill_sent = p->deadline_kill = false;
	p->attempt++;
	if (p->out) { /* the previous attempt's stream, if it was not closed */
		output_close(p->out);
		p->out = NULL;
	}
	p->out = output_open(sv->out, p->cfg->name, child_fds);
	req.argv = p->cfg->argv;
	req.env_add = p->cfg->env;
	req.cwd = p->cfg->cwd;
	req.in_fd = -1;
	req.out_fd = child_fds[0];
	req.err_fd = child_fds[1];
	p->oom_before = sv->oom_path[0] ? cgroup_read_oom_kills(sv->oom_path) : -1;
	p->started_ms = now_ms();
	if (spawn_process(&req, &res) < 0) {
		snprintf(p->exec_reason, sizeof p->exec_reason, "cannot start \"%s\": fork: %s",
			 p->cfg->argv[0], strerror(errno));
		if (child_fds[0] >= 0)
			close(child_fds[0]);
		if (child_fds[1] >= 0)
			close(child_fds[1]);
		p->pid = -1;
		p->exec_failed = true;
		p->have_status = true;
		p->last_status = 126;
		apply(p, PROC_EV_EXEC_FAILED);
		return;
	}
	if (child_fds[0] >= 0)
		close(child_fds[0]);
	if (child_fds[1] >= 0)
		close(child_fds[1]);
	p->pid = res.pid;
	p->last_pid = res.pid;
	if (res.failure != SPAWN_OK) {
		/* The child has _exit()ed with 126/127; the reaper reports its end. */
		p->exec_failed = true;
		if (res.failure == SPAWN_CHDIR)
			snprintf(p->exec_reason, sizeof p->exec_reason, "cannot change to directory \"%s\": %s",
				 p->cfg->cwd ? p->cfg->cwd : "", strerror(res.err));
		else
			snprintf(p->exec_reason, sizeof p->exec_reason, "cannot execute \"%s\": %s",
				 p->cfg->argv[0], strerror(res.err));
		return;
	}
	p->started_once = true;
	report_simple(p, SV_PROC_STARTED);
	if (p->probe && !sv->stopping) {
		probe_start(p->probe);
		update_line_fn(p);
	} else {
		update_line_fn(p);
		apply(p, PROC_EV_READY);
	}
}

static void sv_on_proc_timer(evutil_socket_t fd, short what, void *arg);

static void schedule_restart(struct sv_proc *p, uint64_t run_ms)
{
	struct sv *sv = p->sv;
	unsigned nominal, delay;
	struct timeval tv;

	if (sv_backoff_resets(run_ms, p->cfg->backoff_max_ms))
		p->backoff_step = 0;
	nominal = backoff_nominal_ms(p->cfg->backoff_ms, p->cfg->backoff_max_ms, p->backoff_step);
	p->backoff_step++;
	delay = backoff_jitter_ms(nominal, backoff_random(&sv->rnd));
	tv = ms_tv(delay);
	evtimer_add(p->timer, &tv);
	struct sv_proc_report r = { .kind = SV_PROC_RESTARTING, .pid = -1, .delay_ms = delay, .exit_code = -1 };
	report_proc(p, &r);
}

static void sv_on_probe_done(void *arg, bool ready, const char *why)
{
	struct sv_proc *p = arg;

	update_line_fn(p);
	if (ready) {
		apply(p, PROC_EV_READY);
	} else {
		snprintf(p->fail_reason, sizeof p->fail_reason, "%s", why);
		apply(p, PROC_EV_NOT_READY);
	}
	evaluate(p->sv);
}

/* ---- stopping ------------------------------------------------------------------------ */

static void send_stop(struct sv_proc *p)
{
	struct sv *sv = p->sv;
	int64_t now = now_ms(), at;
	struct timeval tv;

	probe_cancel(p->probe);
	if (p->pid <= 0 || p->stop_sent)
		return;
	p->stop_sent = true;
	signal_group(p->pid, stop_signal_of(p));
	at = now + p->cfg->stop_grace_ms;
	p->grace_clipped = false;
	if (sv->stopping && at >= sv->kill_deadline_ms) {
		at = sv->kill_deadline_ms;
		p->grace_clipped = true;
	}
	tv = ms_tv(at - now);
	evtimer_del(p->timer);
	evtimer_add(p->timer, &tv);
}

static void sv_on_proc_timer(evutil_socket_t fd, short what, void *arg)
{
	struct sv_proc *p = arg;
	struct sv *sv = p->sv;

	if (p->fsm.state == PROC_BACKOFF) {
		apply(p, PROC_EV_START);
		evaluate(sv);
		return;
	}
	if (proc_alive(p->fsm.state) && p->pid > 0 && p->stop_sent && !p->kill_sent) {
		/* The grace is over (or the budget is): it got its stop signal, now SIGKILL. */
		p->kill_sent = true;
		p->deadline_kill = p->grace_clipped;
		signal_group(p->pid, SIGKILL);
	}
}

/* Applies one event to a process and carries out the table's action. */
static void apply(struct sv_proc *p, enum proc_event ev)
{
	enum proc_state before = p->fsm.state;
	enum proc_action a = proc_step(&p->fsm, ev);

	switch (a) {
	case PROC_ACT_SPAWN:
		spawn_proc(p);
		break;
	case PROC_ACT_SEND_STOP:
		send_stop(p);
		break;
	case PROC_ACT_REPORT_FAILED: {
		const char *why = p->exec_failed ? p->exec_reason : p->fail_reason;
		char buf[600];
		if (!why[0]) {
			if (p->fsm.restarts > 0)
				snprintf(buf, sizeof buf, "exited with status %d after %u restarts", p->last_status, p->fsm.restarts);
			else
				snprintf(buf, sizeof buf, "exited with status %d", p->last_status);
			why = buf;
		}
		report_failed(p, why);
		p->succeeded = false;
		note_essential_end(p, true);
		break;
	}
	case PROC_ACT_REPORT_EXITED:
		p->succeeded = p->have_status ? p->end_success : true;
		note_essential_end(p, p->have_status && !p->succeeded);
		break;
	case PROC_ACT_RESTART_LATER:
		schedule_restart(p, p->end_run_ms);
		break;
	case PROC_ACT_NONE:
	case PROC_ACT_INVALID:
		break;
	}
	if (before == PROC_RUNNING && p->fsm.state == PROC_READY) {
		p->ready_once = true;
		report_simple(p, SV_PROC_READY);
	}
}

/* ---- reaping ------------------------------------------------------------------------- */

static uint64_t tv_ms(struct timeval tv)
{
	return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

static void proc_exited(struct sv_proc *p, int wstatus, const struct rusage *ru)
{
	struct sv *sv = p->sv;
	int code, signo;
	int status = status_from_wait(wstatus, &code, &signo);
	uint64_t run_ms = (uint64_t)(now_ms() - p->started_ms);
	bool oom_grew = false;
	enum proc_event ev;

	if (signo == SIGKILL && p->oom_before >= 0) {
		int64_t now = cgroup_read_oom_kills(sv->oom_path);
		oom_grew = now > p->oom_before;
	}
	evtimer_del(p->timer);
	probe_cancel(p->probe);
	p->have_status = true;
	p->last_status = status;
	if (p->out)
		output_drain(p->out); /* what it wrote last is what its failure report needs */

	struct sv_proc_report r = {
		.kind = SV_PROC_EXITED, .pid = p->pid, .exit_code = code, .signal = signo, .status = status,
		.success = !p->exec_failed && success_code(p->cfg, status),
		.run_ms = run_ms, .cpu_user_ms = tv_ms(ru->ru_utime), .cpu_sys_ms = tv_ms(ru->ru_stime),
		.max_rss_kb = ru->ru_maxrss,
		.killed_by = status_killer_name(status_killer(signo, p->stop_sent || p->kill_sent,
							      p->deadline_kill, oom_grew)),
	};
	report_proc(p, &r);

	if (p->exec_failed)
		ev = PROC_EV_EXEC_FAILED;
	else
		ev = r.success ? PROC_EV_EXIT_OK : PROC_EV_EXIT_FAIL;
	p->end_success = r.success;
	p->end_run_ms = run_ms;
	apply(p, ev);
	p->pid = -1;
	if (p->out) {
		output_close(p->out);
		p->out = NULL;
	}
}

static void reap_all(struct sv *sv)
{
	for (;;) {
		int wstatus;
		struct rusage ru;
		pid_t pid = wait4(-1, &wstatus, WNOHANG, &ru);
		size_t i;

		if (pid <= 0) {
			if (pid < 0 && errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < sv->cfg->nprocs; i++) {
			struct sv_proc *p = &sv->procs[i];
			if (p->pid == pid) {
				proc_exited(p, wstatus, &ru);
				break;
			}
			if (probe_child(p->probe) == pid) {
				probe_child_exited(p->probe, wstatus);
				break;
			}
		}
		if (i == sv->cfg->nprocs)
			sv->orphans++;
	}
}

static void sweep_step(struct sv *sv);

static void sv_on_sigchld(evutil_socket_t fd, short what, void *arg)
{
	struct sv *sv = arg;

	reap_all(sv);
	evaluate(sv);
	if (sv->sweeping)
		sweep_step(sv);
}

/* ---- deciding what happens next ------------------------------------------------------ */

static void snapshot(struct sv *sv)
{
	for (size_t i = 0; i < sv->cfg->nprocs; i++) {
		struct sv_proc *p = &sv->procs[i];
		struct graph_node *n = &sv->nodes[i];
		n->started = p->started_once;
		n->was_ready = p->ready_once;
		n->alive = proc_alive(p->fsm.state);
		n->terminal = proc_terminal(p->fsm.state);
		n->succeeded = n->terminal && p->succeeded && p->fsm.state == PROC_EXITED;
	}
}

static size_t order_at(const struct sv *sv, size_t k)
{
	return sv->cfg->start_order ? sv->cfg->start_order[k] : k;
}

static const char *end_word(const struct sv_proc *p)
{
	if (p->fsm.state == PROC_FAILED) {
		if (p->dep_failed)
			return "never started: a dependency can never be met";
		if (p->exec_failed)
			return "could not be executed";
		return "failed";
	}
	if (p->fsm.state == PROC_EXITED)
		return p->have_status ? "exited" : "was not started";
	return "has not ended";
}

/* Starts what may start; fails what never can. True when something changed. */
static bool start_ready_ones(struct sv *sv)
{
	bool changed = false;

	for (size_t k = 0; k < sv->cfg->nprocs && !sv->stopping; k++) {
		size_t i = order_at(sv, k), blocking = 0;
		struct sv_proc *p = &sv->procs[i];

		if (p->fsm.state != PROC_WAITING)
			continue;
		snapshot(sv);
		switch (graph_may_start(sv->nodes, sv->cfg->nprocs, i, &blocking)) {
		case GRAPH_MET:
			apply(p, PROC_EV_START);
			changed = true;
			break;
		case GRAPH_NEVER: {
			const struct graph_dep *d = &p->cfg->deps[blocking];
			const struct sv_proc *dp = &sv->procs[d->index];
			const char *why = dp->exec_failed ? dp->exec_reason : dp->fail_reason;
			char status[40] = "";
			if (dp->have_status)
				snprintf(status, sizeof status, " with status %d", dp->last_status);
			snprintf(p->fail_reason, sizeof p->fail_reason,
				 "dependency \"%s\" (condition %s) can never be met: \"%s\" %s%s%.200s%s",
				 dp->cfg->name, graph_cond_name(d->cond), dp->cfg->name, end_word(dp),
				 why[0] ? " (" : status, why[0] ? why : "", why[0] ? ")" : "");
			p->dep_failed = true;
			apply(p, PROC_EV_DEP_FAILED);
			changed = true;
			if (p->cfg->essential && !sv->stopping)
				begin_stop(sv, SV_STOP_DEPENDENCY_FAILED, 0, p->fail_reason);
			break;
		}
		case GRAPH_WAIT:
			break;
		}
	}
	return changed;
}

/* Job mode: every essential job has ended (or, with no essential job, every job). */
static bool jobs_ended(const struct sv *sv)
{
	bool any_essential = false, any_job = false, all_ess = true, all_jobs = true;

	for (size_t i = 0; i < sv->cfg->nprocs; i++) {
		const struct sv_proc *p = &sv->procs[i];
		if (p->cfg->role != SV_ROLE_JOB)
			continue;
		bool ended = proc_terminal(p->fsm.state);
		any_job = true;
		all_jobs = all_jobs && ended;
		if (p->cfg->essential) {
			any_essential = true;
			all_ess = all_ess && ended;
		}
	}
	if (any_essential)
		return all_ess;
	return any_job && all_jobs;
}

static void check_stage_end(struct sv *sv)
{
	if (sv->stopping)
		return;
	for (size_t i = 0; i < sv->cfg->nprocs; i++) {
		struct sv_proc *p = &sv->procs[i];
		if (!p->cfg->essential || !proc_terminal(p->fsm.state))
			continue;
		if (p->fsm.state == PROC_FAILED || p->cfg->role == SV_ROLE_SERVICE) {
			char detail[300];
			snprintf(detail, sizeof detail, "essential %s \"%s\" %s",
				 p->cfg->role == SV_ROLE_SERVICE ? "service" : "job", p->cfg->name, end_word(p));
			begin_stop(sv, p->dep_failed ? SV_STOP_DEPENDENCY_FAILED : SV_STOP_ESSENTIAL_FAILED, 0, detail);
			return;
		}
	}
	if (sv->cfg->mode == SV_MODE_JOB && jobs_ended(sv))
		begin_stop(sv, SV_STOP_JOBS_ENDED, 0, NULL);
}

static void sweep_begin(struct sv *sv);

/* Reverse dependency order: stop whatever nothing alive depends on any more. */
static void stop_progress(struct sv *sv)
{
	bool all_ended = true;

	snapshot(sv);
	for (size_t i = 0; i < sv->cfg->nprocs; i++) {
		struct sv_proc *p = &sv->procs[i];
		if (!proc_terminal(p->fsm.state))
			all_ended = false;
		if (proc_alive(p->fsm.state) && !p->stop_sent && graph_may_stop(sv->nodes, sv->cfg->nprocs, i))
			apply(p, PROC_EV_STOP);
	}
	if (all_ended && !sv->sweeping)
		sweep_begin(sv);
}

static void evaluate(struct sv *sv)
{
	if (sv->done || sv->in_evaluate || !sv->started)
		return;
	sv->in_evaluate = true;
	while (!sv->stopping && start_ready_ones(sv))
		;
	check_stage_end(sv);
	if (sv->stopping)
		stop_progress(sv);
	sv->in_evaluate = false;
}

static void sv_on_deadline(evutil_socket_t fd, short what, void *arg);

static void begin_stop(struct sv *sv, enum sv_stop_reason reason, int signo, const char *detail)
{
	int64_t budget, reserve, kill_window, soft;
	struct timeval tv;

	if (sv->stopping)
		return;
	sv->stopping = true;
	sv->stop_reason = reason;
	sv->stop_signo = signo;
	sv->stop_start_ms = now_ms();
	budget = sv->cfg->stop_timeout_ms;
	reserve = sv_stop_reserve_ms(sv->cfg->stop_timeout_ms);
	kill_window = budget - reserve;
	sv->kill_deadline_ms = sv->stop_start_ms + kill_window;
	soft = kill_window / 4 < 500 ? kill_window / 4 : 500;
	tv = ms_tv(kill_window - soft);
	evtimer_add(sv->deadline, &tv);
	if (sv->cfg->mode == SV_MODE_JOB && (reason == SV_STOP_SIGNAL || reason == SV_STOP_CANCEL))
		sv->jobs_unfinished_at_stop = !jobs_ended(sv);
	report_stage(sv, SV_STAGE_STOPPING, detail);
	for (size_t i = 0; i < sv->cfg->nprocs; i++) {
		struct sv_proc *p = &sv->procs[i];
		probe_cancel(p->probe);
		if (p->fsm.state == PROC_WAITING || p->fsm.state == PROC_BACKOFF) {
			evtimer_del(p->timer);
			apply(p, PROC_EV_STOP);
		}
	}
	if (!sv->in_evaluate)
		evaluate(sv);
}

static void sv_on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct sv *sv = arg;

	if (!sv->deadline_soft_done) {
		/* Little budget left: every process gets its stop signal now, order or not, so
		 * that none is killed without one. */
		sv->deadline_soft_done = true;
		for (size_t i = 0; i < sv->cfg->nprocs; i++) {
			struct sv_proc *p = &sv->procs[i];
			if (proc_alive(p->fsm.state) && !p->stop_sent)
				apply(p, PROC_EV_STOP);
		}
		struct timeval tv = ms_tv(sv->kill_deadline_ms - now_ms());
		evtimer_add(sv->deadline, &tv);
		return;
	}
	/* The budget for stopping is over; the grace timers were clipped to this moment, and
	 * the sweep's own timer too. Nothing to do but make sure of it. */
	for (size_t i = 0; i < sv->cfg->nprocs; i++) {
		struct sv_proc *p = &sv->procs[i];
		if (proc_alive(p->fsm.state) && p->pid > 0 && !p->kill_sent) {
			if (!p->stop_sent)
				apply(p, PROC_EV_STOP);
			p->kill_sent = true;
			p->deadline_kill = true;
			signal_group(p->pid, SIGKILL);
		}
	}
}

/* ---- the final sweep ----------------------------------------------------------------- */

static bool have_children(void)
{
	siginfo_t si;

	memset(&si, 0, sizeof si);
	return waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0;
}

static void finish(struct sv *sv)
{
	if (sv->done)
		return;
	sv->done = true;
	evtimer_del(sv->sweep_timer);
	evtimer_del(sv->deadline);
	if (!sv->result_set && sv->jobs_unfinished_at_stop && sv->stop_signo > 0) {
		sv->result_set = true;
		sv->result = 128 + sv->stop_signo;
	}
	if (!sv->result_set)
		sv->result = 0;
	if (sv->hooks.on_done)
		sv->hooks.on_done(sv->hooks.arg, sv->result);
}

static int sweep_signal_for(const struct sv *sv, pid_t pgid)
{
	for (size_t i = 0; i < sv->cfg->nprocs; i++)
		if (sv->procs[i].last_pid == pgid)
			return stop_signal_of(&sv->procs[i]);
	return SIGTERM;
}

static bool was_swept(const struct sv *sv, pid_t pid)
{
	for (size_t i = 0; i < sv->nswept; i++)
		if (sv->swept[i] == pid)
			return true;
	return false;
}

static void sv_on_sweep_timer(evutil_socket_t fd, short what, void *arg);

static void sweep_begin(struct sv *sv)
{
	sv->sweeping = true;
	sweep_step(sv);
}

/* Phase 1: every remaining descendant gets a stop signal; phase 2 (timer): SIGKILL. */
static void sweep_step(struct sv *sv)
{
	if (sv->done)
		return;
	if (!have_children()) {
		finish(sv);
		return;
	}
	if (sv->sweep_phase > 0)
		return; /* waiting for them, or for the timer */
	sv->sweep_phase = 1;
	if (!sv->sweep_buf)
		sv->sweep_buf = calloc(SV_SWEEP_MAX, sizeof *sv->sweep_buf);
	if (!sv->swept)
		sv->swept = calloc(SV_SWEEP_MAX, sizeof *sv->swept);
	long n = sv->sweep_buf ? sweep_scan(sv->sweep_buf, SV_SWEEP_MAX) : -1;
	if (n > 0 && sv->swept) {
		size_t k = sweep_select(sv->sweep_buf, (size_t)n, getpid());
		for (size_t i = 0; i < k && sv->nswept < SV_SWEEP_MAX; i++) {
			kill(sv->sweep_buf[i].pid, sweep_signal_for(sv, sv->sweep_buf[i].pgid));
			sv->swept[sv->nswept++] = sv->sweep_buf[i].pid;
		}
	}
	unsigned grace = 0;
	for (size_t i = 0; i < sv->cfg->nprocs; i++)
		if (sv->procs[i].cfg->stop_grace_ms > grace)
			grace = sv->procs[i].cfg->stop_grace_ms;
	if (grace > SV_SWEEP_GRACE_MAX_MS)
		grace = SV_SWEEP_GRACE_MAX_MS;
	int64_t at = now_ms() + grace;
	if (at > sv->kill_deadline_ms)
		at = sv->kill_deadline_ms;
	struct timeval tv = ms_tv(at - now_ms());
	evtimer_add(sv->sweep_timer, &tv);
}

static void sv_on_sweep_timer(evutil_socket_t fd, short what, void *arg)
{
	struct sv *sv = arg;

	if (sv->done)
		return;
	if (sv->sweep_phase == 1) {
		sv->sweep_phase = 2;
		long n = sv->sweep_buf ? sweep_scan(sv->sweep_buf, SV_SWEEP_MAX) : -1;
		if (n > 0) {
			size_t k = sweep_select(sv->sweep_buf, (size_t)n, getpid());
			for (size_t i = 0; i < k; i++) {
				pid_t pid = sv->sweep_buf[i].pid;
				if (!was_swept(sv, pid)) /* appeared since: a stop signal first, always */
					kill(pid, sweep_signal_for(sv, sv->sweep_buf[i].pgid));
				kill(pid, SIGKILL);
			}
		}
		/* Give the reaper a moment to collect them; then end regardless (a process in
		 * uninterruptible sleep must not keep the agent from exiting). */
		struct timeval tv = ms_tv(1000);
		evtimer_add(sv->sweep_timer, &tv);
		return;
	}
	finish(sv);
}

/* ---- signals ------------------------------------------------------------------------- */

static void sv_on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	begin_stop(arg, SV_STOP_SIGNAL, (int)sig, NULL);
}

static void sv_on_forward_signal(evutil_socket_t sig, short what, void *arg)
{
	struct sv *sv = arg;

	for (size_t i = 0; i < sv->cfg->nprocs; i++)
		if (proc_alive(sv->procs[i].fsm.state))
			signal_group(sv->procs[i].pid, (int)sig);
}

/* ---- public -------------------------------------------------------------------------- */

struct sv *sv_new(struct event_base *base, const struct sv_config *cfg, const struct sv_hooks *hooks,
		  char *err, size_t errsize)
{
	struct sv *sv = calloc(1, sizeof *sv);
	struct timespec ts;

	if (!sv)
		goto nomem;
	sv->base = base;
	sv->cfg = cfg;
	sv->hooks = *hooks;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	sv->rnd = (uint32_t)ts.tv_nsec ^ ((uint32_t)getpid() << 16) ^ 0x2545f491u;
	sv->procs = calloc(cfg->nprocs ? cfg->nprocs : 1, sizeof *sv->procs);
	sv->nodes = calloc(cfg->nprocs ? cfg->nprocs : 1, sizeof *sv->nodes);
	sv->out = output_new(base, cfg->out_fd, cfg->err_fd);
	sv->sig_chld = evsignal_new(base, SIGCHLD, sv_on_sigchld, sv);
	sv->deadline = evtimer_new(base, sv_on_deadline, sv);
	sv->sweep_timer = evtimer_new(base, sv_on_sweep_timer, sv);
	if (!sv->procs || !sv->nodes || !sv->out || !sv->sig_chld || !sv->deadline || !sv->sweep_timer)
		goto nomem;
	for (size_t i = 0; i < cfg->nprocs; i++) {
		struct sv_proc *p = &sv->procs[i];
		p->sv = sv;
		p->index = i;
		p->cfg = &cfg->procs[i];
		p->pid = -1;
		p->oom_before = -1;
		proc_fsm_init(&p->fsm, p->cfg->restart, p->cfg->max_retries);
		sv->nodes[i].deps = p->cfg->deps;
		sv->nodes[i].ndeps = p->cfg->ndeps;
		p->timer = evtimer_new(base, sv_on_proc_timer, p);
		if (!p->timer)
			goto nomem;
		if (p->cfg->ready.kind != PROBE_NONE) {
			char why[256];
			p->probe = probe_new(base, &p->cfg->ready, sv_on_probe_done, p, why, sizeof why);
			if (!p->probe) {
				snprintf(err, errsize, "processes[%zu].ready: %s", i, why);
				goto fail;
			}
		}
	}
	return sv;
nomem:
	snprintf(err, errsize, "out of memory");
fail:
	sv_free(sv);
	return NULL;
}

void sv_free(struct sv *sv)
{
	if (!sv)
		return;
	for (size_t i = 0; sv->procs && i < sv->cfg->nprocs; i++) {
		struct sv_proc *p = &sv->procs[i];
		if (p->timer)
			event_free(p->timer);
		probe_free(p->probe);
		output_close(p->out);
	}
	for (size_t i = 0; i < sv->nsig_stop; i++)
		event_free(sv->sig_stop[i]);
	for (size_t i = 0; i < 3; i++)
		if (sv->sig_fwd[i])
			event_free(sv->sig_fwd[i]);
	if (sv->sig_chld)
		event_free(sv->sig_chld);
	if (sv->deadline)
		event_free(sv->deadline);
	if (sv->sweep_timer)
		event_free(sv->sweep_timer);
	output_free(sv->out);
	free(sv->sweep_buf);
	free(sv->swept);
	free(sv->procs);
	free(sv->nodes);
	free(sv);
}

static int add_stop_signal(struct sv *sv, int sig)
{
	for (size_t i = 0; i < sv->nsig_stop; i++)
		if (event_get_signal(sv->sig_stop[i]) == sig)
			return 0;
	if (sv->nsig_stop >= SV_MAX_STOP_SIGNALS + 2 || sig == SIGCHLD || sig == SIGKILL || sig == SIGSTOP)
		return 0;
	struct event *ev = evsignal_new(sv->base, sig, sv_on_stop_signal, sv);
	if (!ev || evsignal_add(ev, NULL) < 0) {
		if (ev)
			event_free(ev);
		return -1;
	}
	sv->sig_stop[sv->nsig_stop++] = ev;
	return 0;
}

static bool is_stop_signal(const struct sv *sv, int sig)
{
	for (size_t i = 0; i < sv->nsig_stop; i++)
		if (event_get_signal(sv->sig_stop[i]) == sig)
			return true;
	return false;
}

int sv_start(struct sv *sv)
{
	static const int fwd[3] = { SIGHUP, SIGUSR1, SIGUSR2 };

	if (getpid() != 1)
		prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); /* best effort: orphans come to us */
	if (evsignal_add(sv->sig_chld, NULL) < 0)
		return -1;
	if (add_stop_signal(sv, SIGTERM) < 0 || add_stop_signal(sv, SIGINT) < 0)
		return -1;
	for (size_t i = 0; i < sv->cfg->nstop_signals; i++)
		if (add_stop_signal(sv, sv->cfg->stop_signals[i]) < 0)
			return -1;
	for (size_t i = 0; i < 3; i++) {
		if (is_stop_signal(sv, fwd[i]))
			continue;
		sv->sig_fwd[i] = evsignal_new(sv->base, fwd[i], sv_on_forward_signal, sv);
		if (!sv->sig_fwd[i] || evsignal_add(sv->sig_fwd[i], NULL) < 0)
			return -1;
	}
	/* The memory cgroup's OOM-kill counter (v1 or v2); without one, no death is put down
	 * to the OOM killer. */
	if (cgroup_find_oom_counter(sv->cfg->cgroup_root, sv->oom_path, sizeof sv->oom_path) < 0)
		sv->oom_path[0] = '\0';
	sv->started = true;
	report_stage(sv, SV_STAGE_STARTED, NULL);
	reap_all(sv); /* zombies inherited before we were ready */
	evaluate(sv);
	if (sv->cfg->nprocs == 0 && sv->cfg->mode == SV_MODE_JOB)
		begin_stop(sv, SV_STOP_JOBS_ENDED, 0, NULL);
	return 0;
}

void sv_stop(struct sv *sv, enum sv_stop_reason reason)
{
	begin_stop(sv, reason, 0, NULL);
}

int sv_add_line_hook(struct sv *sv, sv_line_fn fn, void *arg)
{
	if (sv->nline_hooks >= SV_MAX_LINE_HOOKS)
		return -1;
	sv->line_hooks[sv->nline_hooks].fn = fn;
	sv->line_hooks[sv->nline_hooks].arg = arg;
	sv->nline_hooks++;
	for (size_t i = 0; i < sv->cfg->nprocs; i++)
		update_line_fn(&sv->procs[i]);
	return 0;
}

int sv_add_chunk_hook(struct sv *sv, sv_chunk_fn fn, void *arg)
{
	if (sv->nchunk_hooks >= SV_MAX_CHUNK_HOOKS)
		return -1;
	sv->chunk_hooks[sv->nchunk_hooks].fn = fn;
	sv->chunk_hooks[sv->nchunk_hooks].arg = arg;
	sv->nchunk_hooks++;
	for (size_t i = 0; i < sv->cfg->nprocs; i++)
		update_line_fn(&sv->procs[i]);
	return 0;
}

int sv_output_line(struct sv *sv, int fd, const char *line, size_t len)
{
	return output_line(sv->out, fd, line, len);
}

int sv_flush_output(struct sv *sv, int timeout_ms)
{
	return output_flush(sv->out, timeout_ms);
}

uint64_t sv_budget_left_ms(const struct sv *sv)
{
	if (!sv->stopping)
		return sv->cfg->stop_timeout_ms;
	int64_t left = sv->stop_start_ms + (int64_t)sv->cfg->stop_timeout_ms - now_ms();
	return left > 0 ? (uint64_t)left : 0;
}

uint64_t sv_orphans_reaped(const struct sv *sv)
{
	return sv->orphans;
}

uint64_t sv_output_dropped(const struct sv *sv)
{
	return output_dropped(sv->out);
}
