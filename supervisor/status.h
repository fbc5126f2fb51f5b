/*
 * status — how an ended process is counted: wait status to stage status, and who killed it.
 *
 * Pure (the OOM counter it is given is read by cgroup.h). The rules:
 * exit code n -> n; killed by signal n -> 128 + n; an exec failure was already turned
 * into 126 (not executable) / 127 (not found) by the child (spawn.c), so it is an exit code.
 */
#ifndef SV_STATUS_H
#define SV_STATUS_H

#include <stdbool.h>
#include <stdint.h>

enum status_killer {
	STATUS_KILLED_NONE,           /* it exited on its own (or no signal) */
	STATUS_KILLED_AGENT_STOP,     /* the stop plan's signal or its SIGKILL after the grace */
	STATUS_KILLED_AGENT_DEADLINE, /* SIGKILL because the stop budget ran out */
	STATUS_KILLED_OOM,            /* SIGKILL while the cgroup's oom_kill counter grew */
	STATUS_KILLED_OTHER           /* any other signal */
};

/* Decodes a waitpid() status: *exit_code is the code or -1, *signo the signal or 0.
 * Returns the stage status (code, or 128 + signal). */
int status_from_wait(int wstatus, int *exit_code, int *signo);

/* Who killed it. agent_signaled: the agent sent it a stop signal or SIGKILL; deadline_kill:
 * the SIGKILL came from the stop budget running out; oom_grew: the memory cgroup's oom_kill
 * counter (cgroup.h, v1 or v2) grew since the process started. */
enum status_killer status_killer(int signo, bool agent_signaled, bool deadline_kill, bool oom_grew);
const char *status_killer_name(enum status_killer k); /* NULL for NONE */

/* The errno of a failed exec -> 126 or 127 (ENOENT, ENOTDIR -> 127; others -> 126). */
int status_exec_errno(int err);

#endif
