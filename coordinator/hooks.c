/*
 * hooks — `stagevisor hooks DIR` (hooks.h). Reading order: hooks_command() at the bottom
 * (options, scan, run each, report), hooks_run_one() (one script: spawn, poll its two pipes
 * and a signalfd, deadline), then the JUnit writer.
 *
 * Signals are events here too: SIGCHLD, SIGINT, SIGTERM and SIGHUP are blocked and read from a
 * signalfd in the same poll() as the script's output, so nothing runs in a signal handler and
 * there is no global. A SIGINT/SIGTERM/SIGHUP to stagevisor is passed to the running script's
 * process group; the command then stops after that script, like a failure.
 */
#include "hooks.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "junit.h"

#define HOOKS_MAX_ENTRIES 10000
#define HOOKS_LINE_MAX 8192      /* a longer line is passed on in pieces of this size */
#define HOOKS_TAIL_LINES 40      /* kept per script for its JUnit case */
#define HOOKS_TAIL_LINE_MAX 1024 /* bytes kept of each of those lines */
#define HOOKS_FAILURE_LINES 20   /* of which the last ones go into a failure's text */
#define HOOKS_KILL_GRACE_MS 5000 /* SIGTERM to SIGKILL, after a timeout or an interruption */
#define HOOKS_MAX_ENV 256

/* ---- pure parts ---- */

static bool hooks_ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

const char *hooks_name_skip_reason(const char *name)
{
	static const char *const backups[] = {".bak", ".swp", ".swo", ".orig"};
	size_t n = strlen(name);

	if (n == 0)
		return "empty name";
	if (name[0] == '.')
		return "hidden file";
	if (name[n - 1] == '~')
		return "editor backup";
	if (n >= 2 && name[0] == '#' && name[n - 1] == '#')
		return "editor autosave";
	for (size_t i = 0; i < sizeof backups / sizeof backups[0]; i++)
		if (hooks_ends_with(name, backups[i]))
			return "editor backup";
	return NULL;
}

static int hooks_cmp(const void *a, const void *b)
{
	/* strcmp compares as unsigned char: the C locale's byte order, whatever LC_COLLATE says. */
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void hooks_sort(char **names, size_t n)
{
	if (n > 1)
		qsort(names, n, sizeof *names, hooks_cmp);
}

int hooks_exit_code(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return HOOKS_EXIT_INFRA;
}

void hooks_label(const char *name, char *out, size_t size)
{
	size_t n = strlen(name);

	if (size == 0)
		return;
	if (n > 3 && hooks_ends_with(name, ".sh"))
		n -= 3;
	if (n >= size)
		n = size - 1;
	memcpy(out, name, n);
	out[n] = '\0';
}

/* ---- scanning ---- */

static int hooks_entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct hooks_entry *)a)->name, ((const struct hooks_entry *)b)->name);
}

void hooks_list_free(struct hooks_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->entries[i].name);
	free(l->entries);
	free(l);
}

static const char *hooks_stat_skip_reason(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
		return "path too long";
	if (stat(path, &st) != 0)
		return errno == ENOENT ? "dangling symbolic link" : "cannot be examined";
	if (S_ISDIR(st.st_mode))
		return "a directory";
	if (!S_ISREG(st.st_mode))
		return "not a regular file";
	if (access(path, X_OK) != 0)
		return "not executable";
	return NULL;
}

struct hooks_list *hooks_scan(const char *dir, char *err, size_t errsize)
{
	struct hooks_list *l = NULL;
	DIR *d = NULL;
	struct dirent *de;
	size_t cap = 0;
	int saved;

	if (errsize)
		err[0] = '\0';
	l = calloc(1, sizeof *l);
	if (!l)
		goto fail;
	d = opendir(dir);
	if (!d) {
		snprintf(err, errsize, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (l->n == HOOKS_MAX_ENTRIES) {
			snprintf(err, errsize, "%s: more than %d entries", dir, HOOKS_MAX_ENTRIES);
			errno = E2BIG;
			goto fail;
		}
		if (l->n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct hooks_entry *e = realloc(l->entries, ncap * sizeof *e);

			if (!e)
				goto fail;
			l->entries = e;
			cap = ncap;
		}
		l->entries[l->n].name = strdup(de->d_name);
		if (!l->entries[l->n].name)
			goto fail;
		l->entries[l->n].skip = NULL;
		l->n++;
		errno = 0;
	}
	if (errno) {
		snprintf(err, errsize, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	closedir(d);
	d = NULL;
	if (l->n > 1)
		qsort(l->entries, l->n, sizeof *l->entries, hooks_entry_cmp);
	for (size_t i = 0; i < l->n; i++) {
		struct hooks_entry *e = &l->entries[i];

		e->skip = hooks_name_skip_reason(e->name);
		if (!e->skip)
			e->skip = hooks_stat_skip_reason(dir, e->name);
		if (!e->skip)
			l->hooks++;
	}
	return l;
fail:
	saved = errno ? errno : ENOMEM;
	if (errno == ENOMEM || !err[0])
		snprintf(err, errsize, "%s: %s", dir, strerror(saved));
	if (d)
		closedir(d);
	hooks_list_free(l);
	errno = saved;
	return NULL;
}

/* ---- one script ---- */

struct hooks_tail {
	char *lines[HOOKS_TAIL_LINES]; /* a ring; NULL where nothing was kept */
	size_t next;                   /* where the next line goes */
	unsigned long total;           /* lines seen */
};

enum hooks_state { HS_NOT_RUN, HS_PASSED, HS_FAILED };

struct hooks_result {
	const char *name;
	enum hooks_state state;
	int code;      /* the command's exit code for it (failed) */
	char how[160]; /* "exit status 3", "killed by signal 9 (SIGKILL)", "timed out after 2 s" */
	double secs;
	struct hooks_tail tail;
};

struct hooks_opts {
	const char *dir;
	const char *junit;
	double timeout_s; /* 0: none */
	char *env[HOOKS_MAX_ENV];
	size_t nenv;
};

/* One of a script's two output pipes, assembled into lines. */
struct hooks_pipe {
	int fd;
	FILE *to;
	bool is_err;
	const char *label;
	struct hooks_tail *tail;
	size_t len;
	char buf[HOOKS_LINE_MAX];
};

static void hooks_tail_push(struct hooks_tail *t, const char *prefix, const char *line, size_t len)
{
	size_t p = strlen(prefix);
	char *s;

	if (len > HOOKS_TAIL_LINE_MAX)
		len = HOOKS_TAIL_LINE_MAX;
	s = malloc(p + len + 1);
	t->total++;
	free(t->lines[t->next]);
	t->lines[t->next] = s; /* NULL on ENOMEM: that line is simply not kept */
	t->next = (t->next + 1) % HOOKS_TAIL_LINES;
	if (!s)
		return;
	memcpy(s, prefix, p);
	memcpy(s + p, line, len);
	s[p + len] = '\0';
}

static void hooks_tail_clear(struct hooks_tail *t)
{
	for (size_t i = 0; i < HOOKS_TAIL_LINES; i++) {
		free(t->lines[i]);
		t->lines[i] = NULL;
	}
}

/* Calls fn for the last `last` kept lines, oldest first. */
static void hooks_tail_each(const struct hooks_tail *t, size_t last, void (*fn)(const char *, void *), void *arg)
{
	size_t kept = t->total < HOOKS_TAIL_LINES ? (size_t)t->total : HOOKS_TAIL_LINES;

	if (last > kept)
		last = kept;
	for (size_t i = 0; i < last; i++) {
		const char *s = t->lines[(t->next + HOOKS_TAIL_LINES - last + i) % HOOKS_TAIL_LINES];

		if (s)
			fn(s, arg);
	}
}

static void hooks_emit(struct hooks_pipe *p, const char *line, size_t len)
{
	if (len > 0 && line[len - 1] == '\r')
		len--;
	fprintf(p->to, "%s | %.*s\n", p->label, (int)len, line);
	fflush(p->to);
	hooks_tail_push(p->tail, p->is_err ? "[stderr] " : "", line, len);
}

static void hooks_feed(struct hooks_pipe *p, const char *data, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(data, '\n', n);
		size_t take = nl ? (size_t)(nl - data) : n;
		size_t room = sizeof p->buf - p->len;

		if (take >= room) { /* the line does not fit: pass on what we have as a piece */
			memcpy(p->buf + p->len, data, room);
			hooks_emit(p, p->buf, sizeof p->buf);
			p->len = 0;
			data += room;
			n -= room;
			continue;
		}
		memcpy(p->buf + p->len, data, take);
		p->len += take;
		if (!nl) {
			data += take;
			n -= take;
			continue;
		}
		hooks_emit(p, p->buf, p->len);
		p->len = 0;
		data += take + 1;
		n -= take + 1;
	}
}

/* Reads what the pipe has now. Returns false at EOF or error (the pipe is then closed, and
 * a last line without its newline is passed on). */
static bool hooks_pipe_read(struct hooks_pipe *p)
{
	char chunk[4096];
	ssize_t r;

	for (;;) {
		r = read(p->fd, chunk, sizeof chunk);
		if (r > 0) {
			hooks_feed(p, chunk, (size_t)r);
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		break;
	}
	if (p->len > 0) {
		hooks_emit(p, p->buf, p->len);
		p->len = 0;
	}
	close(p->fd);
	p->fd = -1;
	return false;
}

static double hooks_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int hooks_ms_until(double when, double now)
{
	double ms = (when - now) * 1000.0;

	if (ms <= 0)
		return 0;
	return ms > 60000 ? 60000 : (int)ms + 1;
}

/* In the child, before exec: own process group, the pipes as stdout/stderr, /dev/null as
 * stdin, the signal mask and the dispositions a script expects, the --env variables. */
static void hooks_child(const struct hooks_opts *o, const char *path, int out_w, int err_w, const sigset_t *mask)
{
	static const int sigs[] = {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2};
	char *argv[2];
	int devnull, e;

	setpgid(0, 0);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		signal(sigs[i], SIG_DFL);
	sigprocmask(SIG_SETMASK, mask, NULL);
	devnull = open("/dev/null", O_RDONLY);
	if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0)
		_exit(126);
	for (size_t i = 0; i < o->nenv; i++) {
		char *eq = strchr(o->env[i], '=');

		*eq = '\0';
		e = setenv(o->env[i], eq + 1, 1);
		*eq = '=';
		if (e != 0)
			_exit(126);
	}
	argv[0] = (char *)path;
	argv[1] = NULL;
	execv(path, argv);
	e = errno;
	if (e == ENOEXEC)
		dprintf(2, "cannot execute %s: not an executable format (a script needs a #! line)\n", path);
	else
		dprintf(2, "cannot execute %s: %s\n", path, strerror(e));
	_exit(e == ENOENT ? 127 : 126);
}

/* Runs one hook to its end. *interrupted is set to the signal that asked us to stop, if one
 * came. Returns 0, or -1 when the script could not be started (res says why). */
static int hooks_run_one(const struct hooks_opts *o, const char *path, const char *label, int sfd,
			 const sigset_t *orig_mask, struct hooks_result *res, int *interrupted)
{
	int out[2] = {-1, -1}, err[2] = {-1, -1};
	struct hooks_pipe *pipes = NULL;
	pid_t pid;
	int status = 0, term_sig = 0;
	bool exited = false, timed_out = false;
	double start = hooks_now(), deadline = o->timeout_s > 0 ? start + o->timeout_s : 0, kill_at = 0;

	pipes = calloc(2, sizeof *pipes);
	if (!pipes || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
		snprintf(res->how, sizeof res->how, "cannot create its pipes: %s", strerror(errno));
		goto fail;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		snprintf(res->how, sizeof res->how, "cannot fork: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0)
		hooks_child(o, path, out[1], err[1], orig_mask);
	setpgid(pid, pid); /* both sides, so that the group exists before we may signal it */
	close(out[1]);
	close(err[1]);
	out[1] = err[1] = -1;
	pipes[0] = (struct hooks_pipe){.fd = out[0], .to = stdout, .is_err = false, .label = label, .tail = &res->tail};
	pipes[1] = (struct hooks_pipe){.fd = err[0], .to = stderr, .is_err = true, .label = label, .tail = &res->tail};
	out[0] = err[0] = -1;
	for (int i = 0; i < 2; i++)
		fcntl(pipes[i].fd, F_SETFL, fcntl(pipes[i].fd, F_GETFL) | O_NONBLOCK);

	while (!exited) {
		struct pollfd pfd[3];
		int n = 0, timeout = -1, idx[2] = {-1, -1};
		double now = hooks_now();

		if (deadline > 0 && !timed_out && now >= deadline) {
			timed_out = true;
			kill(-pid, SIGTERM);
			kill_at = now + HOOKS_KILL_GRACE_MS / 1000.0;
		}
		if (kill_at > 0 && now >= kill_at) {
			kill(-pid, SIGKILL);
			kill_at = 0;
		}
		if (deadline > 0 && !timed_out)
			timeout = hooks_ms_until(deadline, now);
		if (kill_at > 0)
			timeout = hooks_ms_until(kill_at, now);
		pfd[n++] = (struct pollfd){.fd = sfd, .events = POLLIN};
		for (int i = 0; i < 2; i++)
			if (pipes[i].fd >= 0) {
				idx[i] = n;
				pfd[n++] = (struct pollfd){.fd = pipes[i].fd, .events = POLLIN};
			}
		if (poll(pfd, (nfds_t)n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			snprintf(res->how, sizeof res->how, "poll: %s", strerror(errno));
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			goto fail;
		}
		for (int i = 0; i < 2; i++)
			if (idx[i] >= 0 && pfd[idx[i]].revents)
				hooks_pipe_read(&pipes[i]);
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
				if (si.ssi_signo == SIGCHLD)
					continue;
				/* Asked to stop: pass it on to the script's group, stop after it. */
				if (!*interrupted)
					*interrupted = (int)si.ssi_signo;
				kill(-pid, (int)si.ssi_signo);
				if (kill_at == 0)
					kill_at = hooks_now() + HOOKS_KILL_GRACE_MS / 1000.0;
			}
		}
		if (waitpid(pid, &status, WNOHANG) == pid)
			exited = true;
	}
	/* What the script wrote before it ended is in the pipes: read it. A process it left
	 * behind that still holds them is not waited for. */
	for (int i = 0; i < 2; i++)
		if (pipes[i].fd >= 0 && hooks_pipe_read(&pipes[i])) {
			if (pipes[i].len > 0) {
				hooks_emit(&pipes[i], pipes[i].buf, pipes[i].len);
				pipes[i].len = 0;
			}
			close(pipes[i].fd);
			pipes[i].fd = -1;
		}
	res->secs = hooks_now() - start;
	res->code = hooks_exit_code(status);
	if (WIFSIGNALED(status))
		term_sig = WTERMSIG(status);
	if (timed_out) {
		res->state = HS_FAILED;
		res->code = HOOKS_EXIT_TIMEOUT;
		if (term_sig)
			snprintf(res->how, sizeof res->how, "timed out after %g s (ended by SIG%s)", o->timeout_s,
				 sigabbrev_np(term_sig) ? sigabbrev_np(term_sig) : "?");
		else
			snprintf(res->how, sizeof res->how, "timed out after %g s (then exit status %d)", o->timeout_s,
				 hooks_exit_code(status));
	} else if (term_sig) {
		res->state = HS_FAILED;
		snprintf(res->how, sizeof res->how, "killed by signal %d (SIG%s)", term_sig,
			 sigabbrev_np(term_sig) ? sigabbrev_np(term_sig) : "?");
	} else if (res->code != 0) {
		res->state = HS_FAILED;
		snprintf(res->how, sizeof res->how, "exit status %d", res->code);
	} else {
		res->state = *interrupted ? HS_FAILED : HS_PASSED;
		if (*interrupted) {
			res->code = 128 + *interrupted;
			snprintf(res->how, sizeof res->how, "interrupted by SIG%s",
				 sigabbrev_np(*interrupted) ? sigabbrev_np(*interrupted) : "?");
		}
	}
	free(pipes);
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
		if (pipes && pipes[i].fd > 0)
			close(pipes[i].fd);
	}
	free(pipes);
	res->state = HS_FAILED;
	res->code = HOOKS_EXIT_INFRA;
	res->secs = hooks_now() - start;
	return -1;
}

/* A stop signal (SIGINT, SIGTERM, SIGHUP) already read from sfd's queue, or 0. SIGCHLDs of
 * scripts already reaped are dropped. */
static int hooks_pending_stop(int sfd)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si)
		if (si.ssi_signo != SIGCHLD)
			return (int)si.ssi_signo;
	return 0;
}

/* ---- JUnit ---- */

static void hooks_junit_line(const char *line, void *arg)
{
	FILE *f = arg;

	junit_escape(f, line);
	fputs("&#10;", f);
}

static void hooks_junit_case(FILE *f, const char *classname, const struct hooks_result *r, const char *not_run_why)
{
	size_t kept = r->tail.total < HOOKS_TAIL_LINES ? (size_t)r->tail.total : HOOKS_TAIL_LINES;

	fputs("    <testcase name=\"", f);
	junit_escape(f, r->name);
	fputs("\" classname=\"", f);
	junit_escape(f, classname);
	fprintf(f, "\" time=\"%.3f\"", r->state == HS_NOT_RUN ? 0.0 : r->secs);
	if (r->state == HS_PASSED && r->tail.total == 0) {
		fputs("/>\n", f);
		return;
	}
	fputs(">\n", f);
	if (r->state == HS_NOT_RUN) {
		fputs("      <skipped message=\"", f);
		junit_escape(f, not_run_why);
		fputs("\"/>\n    </testcase>\n", f);
		return;
	}
	if (r->state == HS_FAILED) {
		fputs("      <failure type=\"hook\" message=\"", f);
		junit_escape(f, r->how);
		fputs("\">", f);
		junit_escape(f, r->how);
		fputs("&#10;", f);
		if (r->tail.total > 0) {
			fputs("last output lines:&#10;", f);
			hooks_tail_each(&r->tail, HOOKS_FAILURE_LINES, hooks_junit_line, f);
		}
		fputs("</failure>\n", f);
	}
	if (r->tail.total > 0) {
		fputs("      <system-out>", f);
		if (r->tail.total > kept)
			fprintf(f, "(%lu earlier lines not kept)&#10;", r->tail.total - kept);
		hooks_tail_each(&r->tail, HOOKS_TAIL_LINES, hooks_junit_line, f);
		fputs("</system-out>\n", f);
	}
	fputs("    </testcase>\n", f);
}

static int hooks_junit_write(const char *path, const char *dir, const struct hooks_result *res, size_t n,
			     double total_secs, int interrupted)
{
	char tmp[PATH_MAX], suite[256], why[PATH_MAX + 32];
	const char *base, *failed_name = NULL;
	size_t failures = 0, skipped = 0, len;
	FILE *f;

	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid()) >= sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* The suite is named for the directory's last component (devops_hooks). */
	len = strlen(dir);
	while (len > 1 && dir[len - 1] == '/')
		len--;
	base = dir;
	for (size_t i = 0; i < len; i++)
		if (dir[i] == '/' && i + 1 < len)
			base = dir + i + 1;
	snprintf(suite, sizeof suite, "%.*s", (int)(len - (size_t)(base - dir)), base);
	for (size_t i = 0; i < n; i++) {
		if (res[i].state == HS_FAILED) {
			failures++;
			failed_name = res[i].name;
		}
		if (res[i].state == HS_NOT_RUN)
			skipped++;
	}
	if (interrupted)
		snprintf(why, sizeof why, "not run: interrupted by SIG%s",
			 sigabbrev_np(interrupted) ? sigabbrev_np(interrupted) : "?");
	else
		snprintf(why, sizeof why, "not run: %s failed", failed_name ? failed_name : "an earlier hook");
	f = fopen(tmp, "we");
	if (!f)
		return -1;
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite name=\"", f);
	junit_escape(f, suite);
	fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\" time=\"%.3f\">\n", n, failures,
		skipped, total_secs);
	for (size_t i = 0; i < n; i++)
		hooks_junit_case(f, suite, &res[i], why);
	fputs("  </testsuite>\n</testsuites>\n", f);
	if (ferror(f)) {
		fclose(f);
		unlink(tmp);
		errno = EIO;
		return -1;
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		int e = errno;

		unlink(tmp);
		errno = e;
		return -1;
	}
	return 0;
}

/* ---- the command ---- */

static void hooks_usage(FILE *out)
{
	fprintf(out,
		"usage: stagevisor hooks DIR [--junit FILE] [--timeout S] [--env NAME=VALUE]...\n"
		"\n"
		"Runs the executable files of DIR (a codebase's devops_hooks) one after the other, in\n"
		"byte order of their names (10-cache-flush.sh before 20-config-import.sh), from the\n"
		"current directory, with stdin from /dev/null. Each line a script writes is shown\n"
		"prefixed with its name (`10-cache-flush | ...`): stdout on stdout, stderr on stderr.\n"
		"Stops at the first script that fails. Skipped, with a line saying so: files that are\n"
		"not executable, directories, dotfiles, editor backups (*~ *.bak *.swp *.swo *.orig #*#).\n"
		"\n"
		"options:\n"
		"  --junit FILE        write a JUnit case per script: its time and output; a failed one\n"
		"                      with its exit status and last output lines; those not run after a\n"
		"                      failure as skipped\n"
		"  --timeout S         per script: after S seconds (fractions allowed) SIGTERM to its\n"
		"                      process group, SIGKILL 5 s later; the command then exits 124\n"
		"  --env NAME=VALUE    set a variable for the scripts (repeatable)\n"
		"  -h, --help          this text\n"
		"\n"
		"Exit codes: 0 every hook passed (or there was none); the failing script's own exit\n"
		"code, or 128+n when it was killed by signal n; 124 a script timed out; 126/127 a\n"
		"script could not be executed / not found; 2 usage error (bad option, DIR missing or\n"
		"not a directory); 3 infrastructure error (cannot start a script, cannot write --junit);\n"
		"128+n stagevisor itself was interrupted by signal n (passed on to the running script).\n");
}

static bool hooks_env_ok(const char *kv)
{
	const char *eq = strchr(kv, '=');

	if (!eq || eq == kv || !((kv[0] >= 'A' && kv[0] <= 'Z') || (kv[0] >= 'a' && kv[0] <= 'z') || kv[0] == '_'))
		return false;
	for (const char *p = kv; p < eq; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	return true;
}

/* Returns 0, 1 for --help (done), or -1 on a usage error (said on stderr). */
static int hooks_parse_options(struct hooks_opts *o, int argc, char **argv)
{
	enum { O_JUNIT = 256, O_TIMEOUT, O_ENV, O_HELP };
	static const struct option longopts[] = {
		{"junit", required_argument, NULL, O_JUNIT}, {"timeout", required_argument, NULL, O_TIMEOUT},
		{"env", required_argument, NULL, O_ENV}, {"help", no_argument, NULL, O_HELP}, {NULL, 0, NULL, 0}};
	int c;
	char *end;

	memset(o, 0, sizeof *o);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case O_JUNIT: o->junit = optarg; break;
		case O_TIMEOUT:
			errno = 0;
			o->timeout_s = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(o->timeout_s > 0) || o->timeout_s > 86400 * 7) {
				fprintf(stderr, "stagevisor hooks: --timeout: expected seconds (0 < S <= 604800), got \"%s\"\n",
					optarg);
				return -1;
			}
			break;
		case O_ENV:
			if (!hooks_env_ok(optarg)) {
				fprintf(stderr, "stagevisor hooks: --env: expected NAME=VALUE (NAME of [A-Za-z_][A-Za-z0-9_]*), got \"%s\"\n",
					optarg);
				return -1;
			}
			if (o->nenv == HOOKS_MAX_ENV) {
				fprintf(stderr, "stagevisor hooks: --env: at most %d variables\n", HOOKS_MAX_ENV);
				return -1;
			}
			o->env[o->nenv++] = optarg;
			break;
		case 'h':
		case O_HELP: hooks_usage(stdout); return 1;
		case ':':
			fprintf(stderr, "stagevisor hooks: %s needs a value\n", argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, "stagevisor hooks: unknown option %s\n", argv[optind - 1]);
			return -1;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "stagevisor hooks: DIR is required (the devops_hooks directory)\n");
		return -1;
	}
	if (argc - optind > 1) {
		fprintf(stderr, "stagevisor hooks: unexpected argument: %s (one DIR only)\n", argv[optind + 1]);
		return -1;
	}
	o->dir = argv[optind];
	return 0;
}

int hooks_command(int argc, char **argv)
{
	struct hooks_opts o;
	struct hooks_list *list = NULL;
	struct hooks_result *res = NULL;
	sigset_t block, orig;
	struct stat st;
	char err[PATH_MAX + 128] = "";
	size_t n = 0, passed = 0, not_run = 0, skipped = 0;
	int sfd = -1, rc = 0, interrupted = 0, p;
	const char *failed = NULL;
	double start = hooks_now();

	p = hooks_parse_options(&o, argc, argv);
	if (p != 0)
		return p > 0 ? 0 : HOOKS_EXIT_USAGE;
	if (stat(o.dir, &st) != 0) {
		fprintf(stderr, "stagevisor hooks: %s: %s\n", o.dir, strerror(errno));
		return HOOKS_EXIT_USAGE;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "stagevisor hooks: %s: not a directory\n", o.dir);
		return HOOKS_EXIT_USAGE;
	}
	list = hooks_scan(o.dir, err, sizeof err);
	if (!list) {
		fprintf(stderr, "stagevisor hooks: %s\n", err);
		return errno == EACCES ? HOOKS_EXIT_USAGE : HOOKS_EXIT_INFRA;
	}
	res = calloc(list->hooks ? list->hooks : 1, sizeof *res);
	if (!res) {
		fprintf(stderr, "stagevisor hooks: out of memory\n");
		rc = HOOKS_EXIT_INFRA;
		goto done;
	}
	for (size_t i = 0; i < list->n; i++) {
		if (list->entries[i].skip) {
			printf("stagevisor hooks: skipping %s: %s\n", list->entries[i].name, list->entries[i].skip);
			skipped++;
		} else {
			res[n++].name = list->entries[i].name;
		}
	}
	if (n == 0)
		printf("stagevisor hooks: no hooks to run in %s\n", o.dir);
	else
		printf("stagevisor hooks: %zu hook%s to run in %s\n", n, n == 1 ? "" : "s", o.dir);
	fflush(stdout);

	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &block, &orig) != 0 || (sfd = signalfd(-1, &block, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		fprintf(stderr, "stagevisor hooks: signalfd: %s\n", strerror(errno));
		rc = HOOKS_EXIT_INFRA;
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		char path[PATH_MAX], label[256];

		if (!failed && !interrupted)
			interrupted = hooks_pending_stop(sfd); /* a signal that came between two scripts */
		if (failed || interrupted)
			break;
		hooks_label(res[i].name, label, sizeof label);
		snprintf(path, sizeof path, "%s/%s", o.dir, res[i].name);
		printf("stagevisor hooks: running %s\n", res[i].name);
		fflush(stdout);
		hooks_run_one(&o, path, label, sfd, &orig, &res[i], &interrupted);
		if (res[i].state == HS_PASSED) {
			passed++;
			printf("stagevisor hooks: %s passed in %.2f s\n", res[i].name, res[i].secs);
		} else {
			failed = res[i].name;
			rc = res[i].code;
			printf("stagevisor hooks: %s FAILED after %.2f s: %s\n", res[i].name, res[i].secs, res[i].how);
		}
		fflush(stdout);
	}
	for (size_t i = 0; i < n; i++)
		if (res[i].state == HS_NOT_RUN) {
			not_run++;
			printf("stagevisor hooks: not run: %s\n", res[i].name);
		}
	printf("stagevisor hooks: %zu passed, %zu failed, %zu not run, %zu skipped in %.2f s\n", passed,
	       failed ? (size_t)1 : 0, not_run, skipped, hooks_now() - start);
	if (interrupted) {
		printf("stagevisor hooks: interrupted by SIG%s\n", sigabbrev_np(interrupted) ? sigabbrev_np(interrupted) : "?");
		rc = 128 + interrupted;
	}
	fflush(stdout);
	if (o.junit && hooks_junit_write(o.junit, o.dir, res, n, hooks_now() - start, interrupted) != 0) {
		fprintf(stderr, "stagevisor hooks: --junit %s: %s\n", o.junit, strerror(errno));
		if (rc == 0)
			rc = HOOKS_EXIT_INFRA;
	}
done:
	if (sfd >= 0) {
		close(sfd);
		sigprocmask(SIG_SETMASK, &orig, NULL);
	}
	for (size_t i = 0; res && i < n; i++)
		hooks_tail_clear(&res[i].tail);
	free(res);
	hooks_list_free(list);
	return rc;
}
