/*
 * speccheck — a stage spec is checked before anything starts: the coordinator asks the agent
 * itself (`stagevisor-agent --check --spec FILE`, the one validator of the spec; the
 * coordinator never parses a spec beyond what it needs, specfile.h), so that a spec error is
 * the user's error (exit 2, the agent's own message naming the field) and never a half-started
 * stage, an ingest server, or a run directory in the state.
 *
 * It does not start the stage, write state, or interpret the spec. The check runs the agent
 * once, synchronously, with its output captured (bounded) and a deadline.
 */
#ifndef SV_COORD_SPECCHECK_H
#define SV_COORD_SPECCHECK_H

#include <stddef.h>

enum speccheck_verdict {
	SPECCHECK_VALID = 0,       /* the agent said "ok" */
	SPECCHECK_INVALID = 1,     /* the agent rejected the spec (its exit 125): msg has its words */
	SPECCHECK_UNAVAILABLE = -1 /* the agent could not be run or gave no verdict: msg says why */
};

#define SPECCHECK_TIMEOUT_MS 30000
#define SPECCHECK_OUTPUT_MAX 8192

/*
 * Runs `agent --check --spec path` (path != NULL), or `agent --check` with STAGEVISOR_SPEC=text
 * in its environment (path == NULL; for a spec the coordinator has rewritten), with stdin from
 * /dev/null. msg gets the agent's output (stdout and stderr, at most msglen - 1 bytes, no
 * trailing newline) or the reason it gave no verdict.
 */
enum speccheck_verdict speccheck_run(const char *agent, const char *path, const char *text, char *msg,
                                     size_t msglen);

/*
 * What `run` and `playground up` do before anything else: the spec file must open ("cannot
 * open FILE: No such file or directory"), and the agent must accept it. Prints the problem on
 * stderr, each line prefixed by who ("stagevisor run"), and returns 2 (usage error);
 * returns 0 when the spec is valid, or when the agent could not give a verdict (the caller's
 * start of that agent then fails and is reported as the infrastructure error it is).
 */
int speccheck_file(const char *agent, const char *path, const char *who);

#endif
