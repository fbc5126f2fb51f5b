/*
 * local — the local backend: starts stagevisor-agent as a process on this machine, as a
 * container would (PID 1 of its own PID namespace when the kernel lets us, otherwise a plain
 * child in its own process group), with the environment the Fargate backend passes.
 *
 * It does not wait for the agent, read its output or judge it: the caller gets the pid and
 * the read end of the agent's stdout and drives them from its event loop.
 */
#ifndef SV_COORD_LOCAL_H
#define SV_COORD_LOCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct local_spawn {
	const char *agent;   /* path of stagevisor-agent */
	char *const *env;    /* extra "KEY=VALUE" entries (NULL-terminated), added to ours */
	int stdout_fd;       /* >= 0: the agent's stdout and stderr go there; -1: a pipe (*out_fd) */
	bool detach;         /* new session (setsid), ignores our terminal's signals */
	bool pidns;          /* try a new PID namespace */
};

/* Returns the pid (> 0) or -1 with a reason in err. *in_pidns says whether the namespace was made. */
pid_t local_start(const struct local_spawn *o, int *out_fd, bool *in_pidns, char *err, size_t errlen);

/* The default agent: stagevisor-agent next to this program's binary, else "stagevisor-agent"
 * looked up in PATH. Writes into buf and returns it. */
const char *local_default_agent(char *buf, size_t len);

/* Reads a whole file (bounded by max bytes) into a new NUL-terminated buffer. */
char *local_read_file(const char *path, size_t max, size_t *len);

/* 64 random hex digits (token) or a stream id "sv-" + 16 hex digits. 0 or -1. */
int local_random_hex(char *buf, size_t ndigits);

#endif
