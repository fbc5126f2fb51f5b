/*
 * bench_timing — the timing harness of agent_bench.sh (not part of the product, not a test).
 *
 *   bench_timing start FIFO -- CMD...
 *       Starts CMD (a supervisor whose child is `bench_timing child FIFO exit`; CMD's stdout and
 *       stderr go to /dev/null, the child reports through FIFO) and prints the
 *       microseconds from just before fork() to the child's byte arriving on FIFO. Then stops
 *       CMD (it may not exit by itself: supervisord) and cleans up.
 *   bench_timing term FIFO TIMEOUT_MS -- CMD...
 *       Starts CMD, waits until its child reports running on FIFO, sends SIGTERM to CMD and
 *       prints the microseconds until CMD has exited, or "timeout" after TIMEOUT_MS.
 *   bench_timing pipe BYTES -- CMD...
 *       Starts CMD with its stdout on a pipe read here (1 MiB reads, as cat would; its stderr
 *       goes to /dev/null) and prints "seconds bytes" once EOF arrived or BYTES were read;
 *       then stops CMD (supervisord never exits by itself).
 *   bench_timing child FIFO exit|wait|ignore
 *       The supervised child: (ignore: ignores SIGTERM) writes one byte to FIFO, then exits
 *       (exit) or waits for signals (wait, ignore).
 *
 * The harness is a child subreaper, so whatever CMD leaves behind is killed and reaped here.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static pid_t start_cmd(char **argv)
{
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		setpgid(0, 0);
		dup2(null, 1); /* the supervisors' own output (the agent's event lines) is not ours */
		dup2(null, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* Waits up to ms for one byte on fd. */
static int wait_byte(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char c;

	if (poll(&p, 1, ms) != 1)
		return -1;
	return read(fd, &c, 1) == 1 ? 0 : -1;
}

/* Waits up to ms for pid to exit; 0 when it did. */
static int wait_exit(pid_t pid, int ms)
{
	double end = now_us() + ms * 1e3;
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return 0;
		if (now_us() > end)
			return -1;
		usleep(200);
	}
}

/* Kills and reaps every remaining child (orphans came to us: we are a subreaper). */
static void cleanup(void)
{
	for (int round = 0; round < 50; round++) {
		DIR *d = opendir("/proc");
		struct dirent *e;
		int found = 0;

		while (d && (e = readdir(d))) {
			char path[300], buf[512];
			FILE *f;
			int ppid = 0;

			if (e->d_name[0] < '0' || e->d_name[0] > '9')
				continue;
			snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
			if (!(f = fopen(path, "r")))
				continue;
			if (fgets(buf, sizeof(buf), f)) {
				char *p = strrchr(buf, ')');

				if (p)
					sscanf(p + 2, "%*c %d", &ppid);
			}
			fclose(f);
			if (ppid == getpid()) {
				kill(atoi(e->d_name), SIGKILL);
				found = 1;
			}
		}
		if (d)
			closedir(d);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (!found)
			return;
		usleep(10000);
	}
}

static int child(const char *fifo, const char *mode)
{
	int fd;

	if (strcmp(mode, "ignore") == 0)
		signal(SIGTERM, SIG_IGN);
	fd = open(fifo, O_WRONLY);
	if (fd < 0 || write(fd, "x", 1) != 1)
		return 1;
	close(fd);
	if (strcmp(mode, "exit") == 0)
		return 0;
	for (;;)
		pause();
}

static int pipe_rate(long long want, char **argv)
{
	static char buf[1 << 20];
	long long got = 0;
	int p[2];
	double t0, t1;
	pid_t pid;

	if (pipe(p) < 0)
		return 2;
	t0 = now_us();
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		setpgid(0, 0);
		dup2(p[1], 1);
		dup2(null, 2);
		close(p[0]);
		close(p[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	while (got < want) {
		ssize_t n = read(p[0], buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	t1 = now_us();
	printf("%.4f %lld\n", (t1 - t0) / 1e6, got);
	if (wait_exit(pid, 100) < 0) {
		kill(pid, SIGTERM);
		if (wait_exit(pid, 15000) < 0)
			kill(pid, SIGKILL);
	}
	close(p[0]);
	cleanup();
	return 0;
}

int main(int argc, char **argv)
{
	int fd, timeout_ms = 0, i = 3;
	pid_t pid;
	double t0, t1;

	if (argc >= 4 && strcmp(argv[1], "child") == 0)
		return child(argv[2], argv[3]);
	if (argc < 5)
		goto usage;
	if (strcmp(argv[1], "pipe") == 0 && strcmp(argv[3], "--") == 0) {
		prctl(PR_SET_CHILD_SUBREAPER, 1);
		return pipe_rate(atoll(argv[2]), argv + 4);
	}
	if (strcmp(argv[1], "term") == 0)
		timeout_ms = atoi(argv[i++]);
	else if (strcmp(argv[1], "start") != 0)
		goto usage;
	if (i >= argc || strcmp(argv[i], "--") != 0)
		goto usage;
	i++;
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	fd = open(argv[2], O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		perror(argv[2]);
		return 2;
	}
	t0 = now_us();
	pid = start_cmd(argv + i);
	if (wait_byte(fd, 20000) < 0) {
		printf("error\n");
		kill(pid, SIGKILL);
		cleanup();
		return 1;
	}
	t1 = now_us();
	if (timeout_ms == 0) {
		printf("%.0f\n", t1 - t0);
		if (wait_exit(pid, 50) < 0) {
			kill(pid, SIGTERM);
			if (wait_exit(pid, 15000) < 0)
				kill(pid, SIGKILL);
		}
	} else {
		t0 = now_us();
		kill(pid, SIGTERM);
		if (wait_exit(pid, timeout_ms) == 0)
			printf("%.0f\n", now_us() - t0);
		else
			printf("timeout\n");
		kill(pid, SIGKILL);
	}
	cleanup();
	return 0;
usage:
	fprintf(stderr, "usage: bench_timing start FIFO -- CMD... | pipe BYTES -- CMD... | term FIFO TIMEOUT_MS -- CMD... | child FIFO exit|wait|ignore\n");
	return 2;
}
