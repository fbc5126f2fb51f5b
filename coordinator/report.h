/*
 * report — a stage run's verdict and its summaries: the table at the end of the console
 * output and the machine-readable JSON file.
 *
 * report_judge() is pure: it looks at what the stream holds and how the agent ended and
 * lists the infrastructure problems (agent crashed, stream incomplete, a process that failed
 * without its own reports explaining it, a report missing or unreadable), then picks the exit
 * code (README.md, "Exit codes"). Failed tests and findings are never problems: they are the
 * tools' own test cases. The JUnit writer (junit.h) reads the same struct so the console, the
 * JSON file and the XML always agree.
 * It does not talk to the agent or decide anything the stream does not show.
 */
#ifndef SV_COORD_REPORT_H
#define SV_COORD_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "stream.h"

enum report_exit {
	REPORT_PASSED = 0,
	REPORT_FAILED = 1,
	REPORT_USAGE = 2,
	REPORT_INFRA = 3,
};

/* How the agent process ended, as the backend saw it. */
struct report_agent {
	bool started;     /* the agent process was started at all */
	bool exited;      /* it was reaped */
	int exit_code;    /* when it exited normally, else -1 */
	int signal;       /* the signal that killed it, else 0 */
	bool stopped_by_us; /* we asked it to stop (interrupt, timeout) */
	char start_error[512];
	/* How the backend says a started agent's container ended abnormally (Fargate: an OOM
	 * kill, a Spot interruption), with the hint of a fix; "" when it did not. */
	char task_failure[512];
};

#define REPORT_MAX_INFRA 32

#define REPORT_DETAIL_MAX 2048

struct report_problem {
	char name[128];    /* test case name: "agent", "stream", "process web", "report", "timeout" */
	char message[512];
	char detail[REPORT_DETAIL_MAX]; /* the process's last output lines, "" if none */
	bool ours;         /* an infrastructure error (exit 3); else the stage's own (exit 1) */
};

struct report {
	const char *stage;           /* the spec's name (borrowed), else stage_buf */
	char stage_buf[128];         /* the name from the stream's stage event */
	int exit_code;               /* enum report_exit, or 128+n after an interrupt by signal n */
	const char *result;          /* "passed" | "failed" | "infrastructure-error" | "interrupted" */
	struct stream_tally tally;
	bool complete;
	unsigned long long missing_logs;
	int agent_result;            /* the end event's result, else the agent's status, else -1 */
	struct report_problem infra[REPORT_MAX_INFRA];
	size_t ninfra;
	double elapsed_s;
	int interrupted_by;          /* signal number, 0 if not interrupted */
	bool timed_out;
};

void report_judge(struct report *r, const struct stream *s, const struct report_agent *agent,
                  int interrupted_by, bool timed_out, double elapsed_s, const char *stage_name);

void report_print_summary(FILE *out, const struct report *r, const struct stream *s);
/* New JSON object with the summary; paths may be NULL. */
json_t *report_json(const struct report *r, const struct stream *s, const char *junit_path,
                    const char *events_path);
int report_write_json(const char *path, const json_t *summary);

#endif
