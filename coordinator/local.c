/* local — see local.h. */
#include "local.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/rand.h>

extern char **environ;

/* What the child needs; everything is prepared before fork so the child only calls
 * async-signal-safe functions. */
struct local_child {
	const struct local_spawn *o;
	char **envp;
	int out_fd;     /* becomes fd 1 and 2 */
	int report_fd;  /* write end of a CLOEXEC pipe: errno of a failed exec */
};

static void local_child_run(const struct local_child *ch)
{
	sigset_t all;
	char *argv[2];
	int e;

	/* Restore what the agent expects from a fresh exec: default dispositions, empty mask. */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	if (ch->o->detach) {
		setsid();
	} else {
		setpgid(0, 0); /* Ctrl-C reaches us only; we stop the agent gracefully */
		prctl(PR_SET_PDEATHSIG, SIGTERM); /* and if we die, it still gets its teardown */
	}
	if (dup2(ch->out_fd, 1) < 0 || dup2(ch->out_fd, 2) < 0)
		goto fail;
	if (ch->out_fd > 2)
		close(ch->out_fd);
	argv[0] = (char *)ch->o->agent;
	argv[1] = NULL;
	execve(ch->o->agent, argv, ch->envp);
fail:
	e = errno;
	if (write(ch->report_fd, &e, sizeof e) < 0) {
		/* nothing more we can do */
	}
	_exit(127);
}

static int local_clone_main(void *arg)
{
	local_child_run(arg);
	return 127;
}

static char **local_env(char *const *extra)
{
	size_t n = 0, m = 0, k = 0;
	char **envp;

	while (environ[n])
		n++;
	while (extra && extra[m])
		m++;
	envp = calloc(n + m + 1, sizeof *envp);
	if (!envp)
		return NULL;
	/* Ours first, minus anything the extras override. */
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t klen = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
		bool overridden = false;
		for (size_t j = 0; j < m; j++)
			if (strncmp(extra[j], environ[i], klen) == 0 && extra[j][klen] == '=')
				overridden = true;
		if (!overridden)
			envp[k++] = environ[i];
	}
	for (size_t j = 0; j < m; j++)
		envp[k++] = extra[j];
	envp[k] = NULL;
	return envp;
}

pid_t local_start(const struct local_spawn *o, int *out_fd, bool *in_pidns, char *err, size_t errlen)
{
	int pipefd[2] = {-1, -1}, report[2] = {-1, -1};
	struct local_child ch = {o, NULL, -1, -1};
	pid_t pid = -1;
	char *stack = NULL;
	const size_t stack_size = 256 * 1024;
	int e = 0;
	ssize_t r;

	*in_pidns = false;
	if (out_fd)
		*out_fd = -1;
	if (access(o->agent, X_OK) != 0) {
		snprintf(err, errlen, "%s: %s", o->agent, strerror(errno));
		return -1;
	}
	ch.envp = local_env(o->env);
	if (!ch.envp) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (o->stdout_fd >= 0) {
		ch.out_fd = o->stdout_fd;
	} else {
		if (pipe2(pipefd, O_CLOEXEC) != 0) {
			snprintf(err, errlen, "pipe: %s", strerror(errno));
			goto fail;
		}
		ch.out_fd = pipefd[1];
	}
	if (pipe2(report, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto fail;
	}
	ch.report_fd = report[1];
	if (o->pidns) {
		/* clone() rather than unshare(): unshare(CLONE_NEWPID) would put every later child of
		 * the coordinator into the namespace too. */
		stack = malloc(stack_size);
		if (stack) {
			pid = clone(local_clone_main, stack + stack_size, CLONE_NEWPID | SIGCHLD, &ch);
			if (pid > 0)
				*in_pidns = true;
		}
	}
	if (pid <= 0) {
		/* No namespace (EPERM without CAP_SYS_ADMIN, EINVAL, ENOSPC): a plain child. */
		pid = fork();
		if (pid == 0)
			local_child_run(&ch);
	}
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		goto fail;
	}
	close(report[1]);
	report[1] = -1;
	do
		r = read(report[0], &e, sizeof e);
	while (r < 0 && errno == EINTR);
	if (r == (ssize_t)sizeof e) {
		snprintf(err, errlen, "%s: %s", o->agent, strerror(e));
		waitpid(pid, NULL, 0);
		pid = -1;
		goto fail;
	}
	close(report[0]);
	free(stack);
	free(ch.envp);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	if (out_fd)
		*out_fd = pipefd[0];
	else if (pipefd[0] >= 0)
		close(pipefd[0]);
	return pid;
fail:
	for (int i = 0; i < 2; i++) {
		if (pipefd[i] >= 0)
			close(pipefd[i]);
		if (report[i] >= 0)
			close(report[i]);
	}
	free(stack);
	free(ch.envp);
	return -1;
}

const char *local_default_agent(char *buf, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	const char *path, *p;

	if (n > 0) {
		char *slash;
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			/* Installed side by side, or in the build tree (coordinator/ next to agents/). */
			snprintf(buf, len, "%s/stagevisor-agent", self);
			if (access(buf, X_OK) == 0)
				return buf;
			snprintf(buf, len, "%s/../agents/stagevisor-agent", self);
			if (access(buf, X_OK) == 0)
				return buf;
		}
	}
	path = getenv("PATH");
	for (p = path; p && *p;) {
		size_t l = strcspn(p, ":");
		snprintf(buf, len, "%.*s/stagevisor-agent", (int)l, p);
		if (l > 0 && access(buf, X_OK) == 0)
			return buf;
		p += l;
		if (*p == ':')
			p++;
	}
	snprintf(buf, len, "stagevisor-agent");
	return buf;
}

char *local_read_file(const char *path, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf = NULL;
	size_t n = 0;
	ssize_t r;

	if (fd < 0)
		return NULL;
	buf = malloc(max + 1);
	if (!buf)
		goto fail;
	while (n < max && (r = read(fd, buf + n, max - n)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		n += (size_t)r;
	}
	if (n == max) {
		char extra;
		if (read(fd, &extra, 1) == 1) {
			errno = EFBIG;
			goto fail;
		}
	}
	close(fd);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
fail:
	close(fd);
	free(buf);
	return NULL;
}

int local_random_hex(char *buf, size_t ndigits)
{
	unsigned char raw[64];
	static const char hex[] = "0123456789abcdef";
	size_t nbytes = (ndigits + 1) / 2;

	if (nbytes > sizeof raw || RAND_bytes(raw, (int)nbytes) != 1)
		return -1;
	for (size_t i = 0; i < ndigits; i++)
		buf[i] = hex[(raw[i / 2] >> (i % 2 ? 0 : 4)) & 15];
	buf[ndigits] = '\0';
	return 0;
}
