/*
 * status — how an ended process is counted: wait status to stage status, who killed it,
 * and the cgroup v2 OOM counter.
 *
 * Pure except status_read_oom_kills(), which reads one small file. The rules:
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
 * the SIGKILL came from the stop budget running out; oom_grew: memory.events oom_kill grew
 * since the process started. */
enum status_killer status_killer(int signo, bool agent_signaled, bool deadline_kill, bool oom_grew);
const char *status_killer_name(enum status_killer k); /* NULL for NONE */

/* The errno of a failed exec -> 126 or 127 (ENOENT, ENOTDIR -> 127; others -> 126). */
int status_exec_errno(int err);

/* The "oom_kill N" value of a memory.events text, -1 when absent. */
int64_t status_parse_oom_kill(const char *text);
/* Path of this process's cgroup v2 memory.events from a /proc/self/cgroup text ("0::/x"),
 * written into buf; -1 when there is no v2 entry. */
int status_memory_events_path(const char *proc_cgroup, char *buf, unsigned size);
/* Reads the counter from path; -1 when unreadable. */
int64_t status_read_oom_kills(const char *path);

#endif
