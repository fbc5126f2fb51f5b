/* speccheck — see speccheck.h. */
#include "speccheck.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long long speccheck_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Our environment without STAGEVISOR_SPEC, plus spec_env when not NULL. The strings are
 * borrowed; free only the array. */
static char **speccheck_env(char *spec_env)
{
	size_t n = 0, k = 0;
	char **envp;

	while (environ[n])
		n++;
	envp = calloc(n + 2, sizeof *envp);
	if (!envp)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "STAGEVISOR_SPEC=", 16) != 0)
			envp[k++] = environ[i];
	if (spec_env)
		envp[k++] = spec_env;
	envp[k] = NULL;
	return envp;
}

/* Reads the child's output into msg until EOF or the deadline; drains (and drops) what does
 * not fit. Returns false at the deadline. */
static bool speccheck_read(int fd, char *msg, size_t msglen, long long deadline)
{
	size_t used = 0;
	char drop[1024];

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		long long left = deadline - speccheck_now_ms();
		ssize_t n;
		int rc;

		if (left <= 0)
			return false;
		rc = poll(&p, 1, (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			return false;
		if (used + 1 < msglen)
			n = read(fd, msg + used, msglen - 1 - used);
		else
			n = read(fd, drop, sizeof drop);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (used + 1 < msglen)
			used += (size_t)n;
	}
	while (used > 0 && (msg[used - 1] == '\n' || msg[used - 1] == '\r'))
		used--;
	msg[used] = '\0';
	return true;
}

enum speccheck_verdict speccheck_run(const char *agent, const char *path, const char *text, char *msg,
                                     size_t msglen)
{
	posix_spawn_file_actions_t fa;
	char *argv[5], *spec_env = NULL, **envp = NULL;
	int fds[2] = {-1, -1}, status = 0, rc;
	pid_t pid = -1;
	bool fa_ok = false, in_time;
	enum speccheck_verdict v = SPECCHECK_UNAVAILABLE;

	msg[0] = '\0';
	argv[0] = (char *)agent;
	argv[1] = (char *)"--check";
	argv[2] = path ? (char *)"--spec" : NULL;
	argv[3] = (char *)path;
	argv[4] = NULL;
	if (!path) {
		spec_env = malloc(strlen(text) + sizeof "STAGEVISOR_SPEC=");
		if (!spec_env)
			goto oom;
		sprintf(spec_env, "STAGEVISOR_SPEC=%s", text);
	}
	envp = speccheck_env(spec_env);
	if (!envp)
		goto oom;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		snprintf(msg, msglen, "cannot run %s --check: %s", agent, strerror(errno));
		goto done;
	}
	if (posix_spawn_file_actions_init(&fa) != 0)
		goto oom;
	fa_ok = true;
	if (posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) != 0 ||
	    posix_spawn_file_actions_adddup2(&fa, fds[1], 1) != 0 ||
	    posix_spawn_file_actions_adddup2(&fa, fds[1], 2) != 0)
		goto oom;
	rc = posix_spawnp(&pid, agent, &fa, NULL, argv, envp);
	if (rc != 0) {
		pid = -1;
		snprintf(msg, msglen, "cannot run %s --check: %s", agent, strerror(rc));
		goto done;
	}
	close(fds[1]);
	fds[1] = -1;
	in_time = speccheck_read(fds[0], msg, msglen, speccheck_now_ms() + SPECCHECK_TIMEOUT_MS);
	if (!in_time)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	pid = -1;
	if (!in_time)
		snprintf(msg, msglen, "%s --check gave no answer within %d s", agent, SPECCHECK_TIMEOUT_MS / 1000);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		v = SPECCHECK_VALID;
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 125)
		v = SPECCHECK_INVALID;
	else if (WIFEXITED(status))
		snprintf(msg + strlen(msg), msglen - strlen(msg), "%s(%s --check exited with %d)", msg[0] ? "\n" : "",
		         agent, WEXITSTATUS(status));
	else
		snprintf(msg + strlen(msg), msglen - strlen(msg), "%s(%s --check was killed by signal %d)",
		         msg[0] ? "\n" : "", agent, WTERMSIG(status));
	goto done;
oom:
	snprintf(msg, msglen, "cannot run %s --check: out of memory", agent);
done:
	if (fa_ok)
		posix_spawn_file_actions_destroy(&fa);
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	free(envp);
	free(spec_env);
	return v;
}

/* The agent's own lines, as it wrote them (they name it: "stagevisor-agent: ..."). */
static void speccheck_print(const char *text)
{
	if (*text)
		fprintf(stderr, "%s\n", text);
}

int speccheck_file(const char *agent, const char *path, const char *who)
{
	char msg[SPECCHECK_OUTPUT_MAX];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "%s: cannot open %s: %s\n", who, path, strerror(errno));
		return 2;
	}
	close(fd);
	switch (speccheck_run(agent, path, NULL, msg, sizeof msg)) {
	case SPECCHECK_VALID:
		return 0;
	case SPECCHECK_INVALID:
		fprintf(stderr, "%s: the stage spec %s is not valid; nothing was started:\n", who, path);
		speccheck_print(msg);
		return 2;
	case SPECCHECK_UNAVAILABLE:
		break;
	}
	fprintf(stderr, "%s: the spec could not be checked before the start:\n", who);
	speccheck_print(msg);
	return 0;
}
