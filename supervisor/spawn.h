/*
 * spawn — starts one command the way a PID 1 must: in its own process group, with the signal
 * mask emptied and every disposition back to default, no agent file descriptor inherited,
 * in its working directory, with its environment added to the agent's.
 *
 * It does not wait for or reap the child (the supervisor's reaper does). An exec that fails
 * (or a chdir that fails) is reported to the parent through a close-on-exec pipe before
 * spawn_process() returns; that child has already called _exit(126 or 127) and must still
 * be reaped like any other.
 */
#ifndef SV_SPAWN_H
#define SV_SPAWN_H

#include <sys/types.h>

enum spawn_failure { SPAWN_OK, SPAWN_CHDIR, SPAWN_EXEC };

struct spawn_request {
	char *const *argv;     /* NULL-terminated; argv[0] is looked up in PATH */
	char *const *env_add;  /* NULL-terminated "KEY=VALUE" overriding the agent's; may be NULL */
	const char *cwd;       /* NULL: the agent's */
	int in_fd;             /* becomes the child's stdin; -1: the agent's stdin */
	int out_fd;            /* becomes the child's stdout; -1: /dev/null */
	int err_fd;            /* becomes the child's stderr; -1: /dev/null */
};

struct spawn_result {
	pid_t pid;             /* -1 when fork itself failed (errno set) */
	enum spawn_failure failure;
	int err;               /* errno of the failed chdir/exec */
};

/* Returns 0 when a child exists (check result->failure), -1 when fork failed. */
int spawn_process(const struct spawn_request *req, struct spawn_result *result);

/* Merges env_add into envp (a NULL-terminated array) into a new NULL-terminated array whose
 * strings are borrowed; free() the array only. NULL when out of memory. */
char **spawn_merge_env(char *const *envp, char *const *env_add);

#endif
