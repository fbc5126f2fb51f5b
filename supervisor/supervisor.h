/*
 * supervisor — the engine of the agent: starts a stage's processes in dependency order,
 * probes their readiness, restarts them with backoff, reaps every child (orphans included),
 * turns signals into teardown or forwards them, stops everything in reverse dependency order
 * within the stop budget, sweeps remaining descendants, and accounts for every end.
 *
 * It reports what happens through struct sv_hooks (plain C structs, no JSON); the agent turns
 * the reports into protocol events. It does not parse specs, write events, or know about the
 * network. Everything runs on the caller's event_base; nothing blocks except fork/exec
 * (spawn.c) and the final output flush.
 *
 * Ownership: sv_new() borrows the config (it must outlive the struct sv) and owns every pid,
 * pipe, probe, timer and signal event it creates. Reports passed to hooks are borrowed for the
 * duration of the call.
 *
 * Lifecycle: sv_new -> sv_start -> (event loop) -> hooks.on_done(result) -> the caller flushes
 * (sv_flush_output) and exits -> sv_free.
 */
#ifndef SV_SUPERVISOR_H
#define SV_SUPERVISOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "graph.h"
#include "probe.h"
#include "proc.h"

struct event_base;

enum sv_mode { SV_MODE_JOB, SV_MODE_SERVICE };
enum sv_role { SV_ROLE_JOB, SV_ROLE_SERVICE };

struct sv_proc_config {
	const char *name;
	char *const *argv;          /* NULL-terminated */
	char *const *env;           /* NULL-terminated "KEY=VALUE" added to the agent's; may be NULL */
	const char *cwd;            /* NULL: the agent's */
	enum sv_role role;
	bool essential;
	const struct graph_dep *deps;
	size_t ndeps;
	struct probe_config ready;  /* kind PROBE_NONE: ready when started */
	enum proc_restart restart;
	unsigned max_retries;
	unsigned backoff_ms;
	unsigned backoff_max_ms;
	int stop_signal;            /* 0: SIGTERM */
	unsigned stop_grace_ms;
	const int *success_codes;   /* NULL/0: {0} */
	size_t nsuccess;
};

struct sv_config {
	const char *stage;
	enum sv_mode mode;
	unsigned stop_timeout_ms;   /* the whole stop budget */
	const int *stop_signals;    /* besides SIGTERM and SIGINT */
	size_t nstop_signals;
	const struct sv_proc_config *procs;
	size_t nprocs;
	const size_t *start_order;  /* optional: nprocs indices, dependencies first */
	int out_fd;                 /* the agent's stdout (1) */
	int err_fd;                 /* the agent's stderr (2) */
	const char *cgroup_root;    /* NULL: the system's /proc and cgroup files; else a directory
	                             * standing for "/" (a test's fake tree, cgroup.h) */
};

enum sv_stage_event { SV_STAGE_STARTED, SV_STAGE_STOPPING, SV_STAGE_ENDED };
enum sv_stop_reason {
	SV_STOP_NONE, SV_STOP_SIGNAL, SV_STOP_JOBS_ENDED, SV_STOP_ESSENTIAL_FAILED,
	SV_STOP_DEPENDENCY_FAILED, SV_STOP_CANCEL
};
enum sv_proc_event { SV_PROC_STARTED, SV_PROC_READY, SV_PROC_RESTARTING, SV_PROC_FAILED, SV_PROC_EXITED };

#define SV_LAST_LINES 20

struct sv_proc_report {
	enum sv_proc_event kind;
	size_t index;
	const char *name;
	pid_t pid;
	unsigned attempt;           /* 1 for the first start */
	/* restarting */
	unsigned delay_ms;
	/* failed */
	const char *reason;
	const char *const *last_lines;
	size_t nlast;
	/* exited */
	int exit_code;              /* -1: none (killed by a signal) */
	int signal;                 /* 0: none */
	int status;                 /* exit code, 128 + signal, 126/127 for exec failures */
	bool success;               /* status is one of its success codes */
	uint64_t run_ms;
	uint64_t cpu_user_ms;
	uint64_t cpu_sys_ms;
	long max_rss_kb;
	const char *killed_by;      /* "agent-stop", "agent-deadline", "oom", "other" or NULL */
	uint64_t dropped_lines;     /* output lines of this process dropped so far */
};

struct sv_stage_report {
	enum sv_stage_event kind;
	const char *stage;
	enum sv_mode mode;
	enum sv_stop_reason reason; /* stopping */
	int signo;                  /* stopping because of this signal, else 0 */
	const char *detail;         /* stopping: which process/dependency, may be NULL */
	int result;                 /* ended */
};

struct sv_hooks {
	void (*on_stage)(void *arg, const struct sv_stage_report *r);
	void (*on_process)(void *arg, const struct sv_proc_report *r);
	/* Everything stopped and swept: the caller emits its last events, flushes, exits. */
	void (*on_done)(void *arg, int result);
	void *arg;
};

/* Called for each output line of every process once registered (fd 1 or 2; long lines in
 * pieces, cont on all but the first). Costs a call per line: register only when needed. */
typedef void (*sv_line_fn)(void *arg, size_t index, const char *name, int fd, const char *line, size_t len, bool cont);
#define SV_MAX_LINE_HOOKS 4

/* Called with the raw output bytes of every process as they are read (fd 1 or 2, any
 * chunking; a result parser reading "stream": "stdout" wants this). One call per read. */
typedef void (*sv_chunk_fn)(void *arg, size_t index, const char *name, int fd, const char *data, size_t len);
#define SV_MAX_CHUNK_HOOKS 4

struct sv;

/* NULL with a message in err (e.g. a probe that cannot work). */
struct sv *sv_new(struct event_base *base, const struct sv_config *cfg, const struct sv_hooks *hooks,
		  char *err, size_t errsize);
void sv_free(struct sv *sv);

/* Becomes subreaper (when not PID 1), installs signal events, reports the stage started and
 * starts what may start. 0 or -1. */
int sv_start(struct sv *sv);
/* Teardown from outside (e.g. the coordinator's cancel). */
void sv_stop(struct sv *sv, enum sv_stop_reason reason);
int sv_add_line_hook(struct sv *sv, sv_line_fn fn, void *arg);
int sv_add_chunk_hook(struct sv *sv, sv_chunk_fn fn, void *arg);

/* One line of the agent's own to its stdout (fd 1) or stderr (2), through the same bounded,
 * non-blocking buffers as process output, with priority. 0, or -1 when dropped. */
int sv_output_line(struct sv *sv, int fd, const char *line, size_t len);
/* Writes buffered output, waiting at most timeout_ms. */
int sv_flush_output(struct sv *sv, int timeout_ms);
/* Milliseconds left of the stop budget (the whole budget before stopping began). */
uint64_t sv_budget_left_ms(const struct sv *sv);
uint64_t sv_orphans_reaped(const struct sv *sv);
uint64_t sv_output_dropped(const struct sv *sv);

/* The part of the stop budget kept for flushing results after processes are stopped:
 * a fifth of it, at least 1 s, at most half. Exposed for tests. */
unsigned sv_stop_reserve_ms(unsigned stop_timeout_ms);
/* Restart delay: run_ms >= reset threshold resets the backoff step. Exposed for tests. */
bool sv_backoff_resets(uint64_t run_ms, unsigned backoff_max_ms);

const char *sv_stop_reason_name(enum sv_stop_reason r);

#endif
