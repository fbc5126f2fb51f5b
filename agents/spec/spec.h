/*
 * spec — the stage spec: one JSON document that names a stage's mode and processes.
 *
 * spec_parse() reads and validates the whole document before anything is started:
 * every error names the offending field by its JSON path
 * ("processes[1].depends_on[0].name: no process named \"wbe\"").
 * It does not start processes, compile regexes for use, or touch the file system
 * beyond reading the spec file itself.
 *
 * Ownership: spec_parse()/spec_load_file() return a new struct spec_stage that the
 * caller frees with spec_free(); every string and array inside belongs to it.
 * The field names of the JSON document are a contract (agents/README.md documents them).
 */
#ifndef SV_SPEC_H
#define SV_SPEC_H

#include <stdbool.h>
#include <stddef.h>

#define SPEC_VERSION 1
#define SPEC_STOP_TIMEOUT_DEFAULT_MS 30000u
#define SPEC_STOP_TIMEOUT_MAX_MS 120000u /* Fargate's stopTimeout cap */
#define SPEC_STOP_TIMEOUT_MIN_MS 1000u
#define SPEC_STOP_GRACE_DEFAULT_MS 10000u /* capped at stop_timeout */

/* Bounds: a spec outside them is rejected with an error naming the field. */
#define SPEC_DOC_MAX (1024u * 1024u) /* bytes of JSON */
#define SPEC_PROCS_MAX 256u
#define SPEC_ARGV_MAX 4096u          /* command / ready.exec entries */
#define SPEC_ENV_MAX 1024u           /* env entries per process */
#define SPEC_ARG_MAX 131071u         /* bytes per argv or env string (Linux MAX_ARG_STRLEN - 1) */
#define SPEC_NAME_MAX 64u            /* process name: [A-Za-z0-9_.-]{1,64} */
#define SPEC_STAGE_MAX 128u          /* "stage" */
#define SPEC_ENV_NAME_MAX 255u       /* env variable names: [A-Za-z_][A-Za-z0-9_]* */
#define SPEC_PATH_MAX 4095u          /* cwd, results[].path */
#define SPEC_PATTERN_MAX 4096u       /* ready.log */
#define SPEC_URL_MAX 1024u           /* ready.http */
#define SPEC_HOST_MAX 255u           /* ready.tcp host */
#define SPEC_RESULTS_MAX 64u         /* results per process */
#define SPEC_SIGNALS_MAX 32u         /* stop_signals */
#define SPEC_CODES_MAX 256u          /* success_exit_codes */

enum spec_mode { SPEC_MODE_JOB, SPEC_MODE_SERVICE };
enum spec_role { SPEC_ROLE_JOB, SPEC_ROLE_SERVICE };
enum spec_condition { SPEC_DEP_STARTED, SPEC_DEP_READY, SPEC_DEP_COMPLETED, SPEC_DEP_SUCCEEDED };
enum spec_probe_kind { SPEC_PROBE_NONE, SPEC_PROBE_TCP, SPEC_PROBE_HTTP, SPEC_PROBE_EXEC, SPEC_PROBE_LOG };
enum spec_restart_policy { SPEC_RESTART_NEVER, SPEC_RESTART_ON_FAILURE, SPEC_RESTART_ALWAYS };
/* Lowest finding severity that fails the stage. */
enum spec_fail_on { SPEC_FAIL_ON_ERROR, SPEC_FAIL_ON_WARNING, SPEC_FAIL_ON_INFO, SPEC_FAIL_ON_NEVER };

struct spec_dep {
	char *name;
	size_t index; /* index of the named process in spec_stage.procs */
	enum spec_condition condition;
};

struct spec_probe {
	enum spec_probe_kind kind;
	char *host;     /* tcp: host part of "host:port" (brackets of "[::1]" removed); http: URL's host */
	char *port;     /* tcp: port part; http: URL's port ("80" when absent) */
	char *url;      /* http: "http://host:port/path" (2xx is ready), as written */
	char *http_path; /* http: path and query of the URL, "/" when absent */
	char **argv;    /* exec: NULL-terminated, exit 0 is ready */
	char *pattern;  /* log: POSIX extended regex matched against each output line */
	unsigned interval_ms; /* default 100 */
	unsigned timeout_ms;  /* default 30000: not ready by then fails the process */
};

struct spec_restart {
	enum spec_restart_policy policy; /* default never */
	unsigned max_retries;            /* default 3: at most max_retries + 1 starts */
	unsigned backoff_ms;             /* default 200, doubling per restart */
	unsigned backoff_max_ms;         /* default 10000 */
};

struct spec_result {
	char *format;      /* junit, teamcity, checkstyle, phpstan-json, pmd, pmd-cpd, phploc-json */
	char *path;        /* file, directory or glob; NULL when from_stdout */
	bool from_stdout;  /* "stream": "stdout" */
	enum spec_fail_on fail_on; /* default error */
};

struct spec_process {
	char *name;          /* [A-Za-z0-9_.-]{1,64}, unique */
	char **argv;         /* NULL-terminated, argc >= 1 */
	size_t argc;
	char **env;          /* NULL-terminated "KEY=VALUE" added to the agent's environment */
	size_t nenv;
	char *cwd;           /* NULL: the agent's cwd */
	enum spec_role role; /* default job */
	bool essential;      /* default true (as in ECS) */
	struct spec_dep *deps;
	size_t ndeps;
	struct spec_probe ready; /* kind NONE: ready as soon as started */
	struct spec_restart restart;
	int stop_signal;         /* default SIGTERM */
	unsigned stop_grace_ms;  /* "stop_grace" in seconds; default min(10 s, stop_timeout) */
	int *success_codes;      /* default {0} */
	size_t nsuccess;
	struct spec_result *results;
	size_t nresults;
};

struct spec_stage {
	int version;               /* 1 */
	char *stage;               /* stage name, e.g. "tests" */
	enum spec_mode mode;       /* default job */
	unsigned stop_timeout_ms;  /* "stop_timeout" in seconds; default 30 s, at most 120 s */
	int *stop_signals;         /* extra signals meaning teardown (SIGTERM, SIGINT always do) */
	size_t nstop_signals;
	struct spec_process *procs;
	size_t nprocs;
	size_t *start_order;       /* nprocs indices, dependencies before dependents */
};

/* Where and why a spec was rejected (the agent exits 125 after printing it). line/column are set for JSON syntax errors (else 0). */
struct spec_error {
	char field[256]; /* JSON path of the offending field, "" for the document */
	char text[512];  /* what is wrong, a full sentence fragment */
	int line;
	int column;
};

/* The exit code of the agent for its own usage and configuration errors (documented). */
#define SPEC_EXIT_CONFIG 125

/* json need not be NUL-terminated; err may be NULL. NULL on error, with *err filled. */
struct spec_stage *spec_parse(const char *json, size_t len, struct spec_error *err);
/* Reads at most SPEC_DOC_MAX bytes of path, then spec_parse(). */
struct spec_stage *spec_load_file(const char *path, struct spec_error *err);
void spec_free(struct spec_stage *stage);

/* "field: text" (or "line L, column C: text") into buf; returns buf. */
const char *spec_error_format(const struct spec_error *err, char *buf, size_t size);

/* "SIGTERM", "TERM", "sigterm" or "15" -> 15; "RTMIN+n"/"RTMAX-n" too; -1 for unknown names.
 * spec_signal_name(15) -> "SIGTERM"; never NULL ("SIG?" for a number that is not a signal). */
int spec_signal_from_name(const char *name);
const char *spec_signal_name(int sig);

/* Adds the signals of a list ("SIGWINCH", "WINCH,QUIT", "28 SIGQUIT": names or numbers as in
 * stop_signals, separated by commas and/or blanks) to stage->stop_signals, skipping those
 * already there: the agent's STAGEVISOR_STOP_SIGNALS, which an image sets to its STOPSIGNAL so
 * that any spec given to it (a task-definition override too) treats that signal as teardown.
 * Same rules as stop_signals (no SIGKILL/SIGSTOP/SIGCHLD, at most SPEC_SIGNALS_MAX in all).
 * 0, or -1 with err filled (err->field = field, err->text naming the bad entry); an empty list
 * adds nothing. On error stage is unchanged. */
int spec_add_stop_signals(struct spec_stage *stage, const char *list, const char *field,
			  struct spec_error *err);

bool spec_success_code(const struct spec_process *proc, int code);

#endif
