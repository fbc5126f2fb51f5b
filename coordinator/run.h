/*
 * run — `stagevisor run`: one stage on a backend, from start to verdict.
 *
 * run_command() parses the options of every backend, then runs the stage: the local backend
 * here (starts the ingest server and the agent, feeds the stream from HTTPS and from the
 * agent's fallback lines, stops the agent on SIGINT/SIGTERM or the time limit), the Fargate
 * backend in fargate.c. Both then write the JUnit and JSON reports and return the exit code
 * (README.md, "Exit codes").
 *
 * What the backends share is the run core below: the state directory's run dir and its lock,
 * the stream, the console, the TLS identity and ingest server, the agent's stdout lines
 * (fallback events or output), and the reports at the end. It owns everything it creates;
 * run_core_free() frees it.
 */
#ifndef SV_COORD_RUN_H
#define SV_COORD_RUN_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

#include "protocol/protocol.h"
#include "report.h"
#include "retention.h"

struct run_options {
	const char *backend, *spec, *junit, *json, *listen, *advertise, *agent;
	const char *tls_cert, *tls_key, *state_dir;
	unsigned timeout_s, max_conns, io_timeout_s;
	size_t max_body;
	bool no_pidns;
	struct retention_policy retention;
	/* --backend fargate */
	const char *config, *stage, *build_id, *branch, *endpoint_url, *region, *profile;
};

struct run_core {
	struct event_base *base;
	struct stream *stream;
	struct console *console;
	struct cert *cert;   /* set by the backend before run_core_serve() */
	SSL_CTX *ctx;
	struct ingest *ingest;
	int run_lock;        /* held for the run's life: it is in progress (retention.h) */
	unsigned long bad_lines;
	long long start_ms;
	char stream_id[32], token[PR_TOKEN_LEN + 1];
	char run_dir[PATH_MAX], events_path[PATH_MAX + 32], state_dir[PATH_MAX];
};

int run_command(int argc, char **argv);
void run_usage(void);

/* The state directory (--state-dir, else the default) into c->state_dir. REPORT_USAGE when
 * there is none (said on stderr), else 0. */
int run_core_state_dir(struct run_core *c, const struct run_options *o);
/* A new stream id and token into c. 0, or REPORT_INFRA (no randomness). */
int run_core_mint(struct run_core *c);
/* runs/<stream>/ (new, or with resume an earlier run's of the same stream, whose events are
 * read back into the stream first), the stream, the event base and the console.
 * 0, REPORT_USAGE or REPORT_INFRA (said on stderr). */
int run_core_open(struct run_core *c, const struct run_options *o, bool resume);
/* The ingest server with c->cert on host:port, c's stream registered with its token.
 * 0, or -1 with errno (EADDRINUSE: the port is taken) and err. */
int run_core_serve(struct run_core *c, const struct run_options *o, const char *host, int port, char *err,
		   size_t errlen);
/* One line of the agent's stdout (a pipe, or CloudWatch Logs): a fallback event into the
 * stream, anything else to the console. */
void run_core_line(struct run_core *c, const char *line, size_t len);
/* The end: judges, writes --junit and --json, prints the summary, tells Slack. The exit code. */
int run_core_finish(struct run_core *c, const struct run_options *o, const struct report_agent *ra,
		    int interrupted_by, bool timed_out, const char *stage, const char *webhook_url,
		    const char *branch);
void run_core_free(struct run_core *c);

/* The agent (local) or task (fargate) could not be started: ra says so with the reason
 * (printf-style; cut with a '~' mark when longer than start_error), for report_judge(). */
void run_start_failed(struct report_agent *ra, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The branch being built: BRANCH_NAME (multibranch), else GIT_BRANCH; NULL when neither. */
const char *run_env_branch(void);

#endif
