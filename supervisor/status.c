/* status — see status.h. */
#include "status.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

int64_t status_parse_oom_kill(const char *text)
{
	const char *p = text;

	while (p && *p) {
		if (strncmp(p, "oom_kill ", 9) == 0) {
			char *end;
			long long v = strtoll(p + 9, &end, 10);
			if (end != p + 9 && v >= 0)
				return v;
			return -1;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

int status_memory_events_path(const char *proc_cgroup, char *buf, unsigned size)
{
	const char *p = proc_cgroup;

	while (p && *p) {
		if (strncmp(p, "0::", 3) == 0) {
			const char *path = p + 3;
			size_t len = strcspn(path, "\n");
			int n;
			if (len == 1 && path[0] == '/')
				len = 0; /* the root: /sys/fs/cgroup/memory.events */
			n = snprintf(buf, size, "/sys/fs/cgroup%.*s/memory.events", (int)len, path);
			return (n < 0 || (unsigned)n >= size) ? -1 : 0;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

int64_t status_read_oom_kills(const char *path)
{
	char buf[1024];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return status_parse_oom_kill(buf);
}
