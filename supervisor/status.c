/* status — see status.h. */
#include "status.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>

int status_from_wait(int wstatus, int *exit_code, int *signo)
{
	*exit_code = -1;
	*signo = 0;
	if (WIFEXITED(wstatus)) {
		*exit_code = WEXITSTATUS(wstatus);
		return *exit_code;
	}
	if (WIFSIGNALED(wstatus)) {
		*signo = WTERMSIG(wstatus);
		return 128 + *signo;
	}
	return 255; /* stopped/continued are never asked for */
}

enum status_killer status_killer(int signo, bool agent_signaled, bool deadline_kill, bool oom_grew)
{
	if (signo == 0)
		return STATUS_KILLED_NONE;
	if (signo == SIGKILL && deadline_kill)
		return STATUS_KILLED_AGENT_DEADLINE;
	if (agent_signaled)
		return STATUS_KILLED_AGENT_STOP;
	if (signo == SIGKILL && oom_grew)
		return STATUS_KILLED_OOM;
	return STATUS_KILLED_OTHER;
}

const char *status_killer_name(enum status_killer k)
{
	switch (k) {
	case STATUS_KILLED_NONE: return NULL;
	case STATUS_KILLED_AGENT_STOP: return "agent-stop";
	case STATUS_KILLED_AGENT_DEADLINE: return "agent-deadline";
	case STATUS_KILLED_OOM: return "oom";
	case STATUS_KILLED_OTHER: return "other";
	}
	return NULL;
}

int status_exec_errno(int err)
{
	return (err == ENOENT || err == ENOTDIR) ? 127 : 126;
}
