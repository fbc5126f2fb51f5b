/* spawn — see spawn.h. */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "status.h"

extern char **environ;

struct spawn_report {
	int stage; /* enum spawn_failure */
	int err;
};

static size_t key_len(const char *kv)
{
	const char *eq = strchr(kv, '=');

	return eq ? (size_t)(eq - kv) : strlen(kv);
}

char **spawn_merge_env(char *const *envp, char *const *env_add)
{
	size_t n = 0, m = 0, k = 0;
	char **out;

	while (envp && envp[n])
		n++;
	while (env_add && env_add[m])
		m++;
	out = calloc(n + m + 1, sizeof *out);
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		size_t kl = key_len(envp[i]);
		int overridden = 0;
		for (size_t j = 0; j < m && !overridden; j++)
			overridden = key_len(env_add[j]) == kl && strncmp(envp[i], env_add[j], kl) == 0;
		if (!overridden)
			out[k++] = envp[i];
	}
	for (size_t j = 0; j < m; j++)
		out[k++] = env_add[j];
	out[k] = NULL;
	return out;
}

/* Every fd above 2 gets close-on-exec, including the report pipe (which is how the parent
 * learns that exec succeeded). close_range(CLOSE_RANGE_CLOEXEC) where the kernel has it. */
static void child_cloexec_all(void)
{
	struct rlimit rl;
	int max = 65536;

	if (close_range(3, ~0u, CLOSE_RANGE_CLOEXEC) == 0)
		return;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)max)
		max = (int)rl.rlim_cur;
	for (int fd = 3; fd < max; fd++)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static void child_report(int fd, enum spawn_failure stage, int err)
{
	struct spawn_report r = { stage, err };
	ssize_t w;

	do
		w = write(fd, &r, sizeof r);
	while (w < 0 && errno == EINTR);
	_exit(status_exec_errno(err));
}

/* Runs in the child between fork and exec: only async-signal-safe calls. */
static void child_exec(const struct spawn_request *req, char **envp, int report_fd, int null_fd)
{
	struct sigaction sa;
	sigset_t none;

	setpgid(0, 0);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL); /* fails harmlessly for SIGKILL, SIGSTOP, reserved */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	if (req->in_fd >= 0 && dup2(req->in_fd, 0) < 0)
		child_report(report_fd, SPAWN_EXEC, errno);
	if (dup2(req->out_fd >= 0 ? req->out_fd : null_fd, 1) < 0)
		child_report(report_fd, SPAWN_EXEC, errno);
	if (dup2(req->err_fd >= 0 ? req->err_fd : null_fd, 2) < 0)
		child_report(report_fd, SPAWN_EXEC, errno);
	child_cloexec_all();
	if (req->cwd && chdir(req->cwd) < 0)
		child_report(report_fd, SPAWN_CHDIR, errno);
	environ = envp;
	execvp(req->argv[0], req->argv);
	child_report(report_fd, SPAWN_EXEC, errno);
}

int spawn_process(const struct spawn_request *req, struct spawn_result *result)
{
	int pfd[2] = { -1, -1 };
	int null_fd = -1;
	char **envp = NULL;
	sigset_t all, old;
	pid_t pid;
	int rc = -1, saved;
	struct spawn_report rep;
	ssize_t n;

	result->pid = -1;
	result->failure = SPAWN_OK;
	result->err = 0;
	envp = spawn_merge_env(environ, req->env_add);
	if (!envp)
		goto fail;
	if (pipe2(pfd, O_CLOEXEC) < 0)
		goto fail;
	if (req->out_fd < 0 || req->err_fd < 0) {
		null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null_fd < 0)
			goto fail;
	}
	/* Block every signal across fork so that no handler of the agent runs in the child
	 * (libevent's would write to the agent's signal socket); the child unblocks after it
	 * restored the default dispositions. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		child_exec(req, envp, pfd[1], null_fd);
	}
	saved = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		errno = saved;
		goto fail;
	}
	setpgid(pid, pid); /* both sides, so the group exists whichever runs first */
	result->pid = pid;
	close(pfd[1]);
	pfd[1] = -1;
	do
		n = read(pfd[0], &rep, sizeof rep);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof rep) {
		result->failure = (enum spawn_failure)rep.stage;
		result->err = rep.err;
	}
	rc = 0;
fail:
	saved = errno;
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	if (null_fd >= 0)
		close(null_fd);
	free(envp);
	errno = saved;
	return rc;
}
