/*
 * taskwatch_bench — N concurrent watchers of Fargate tasks sharing one DescribeTasks through the
 * real coordinator/taskwatch.c, as N `stagevisor run --backend fargate` processes on one
 * Jenkins host do, with simulated time: for tests/bench/fargate_bench.py (not part of the
 * suite). Not shipped; built as sv_taskwatch_bench.
 *
 *   sv_taskwatch_bench --state-dir DIR --cluster C --arns FILE [--watchers N] [--sim-seconds S]
 *                      [--speed X] [--poll-ms P] [--max-age-ms A] [--unshared]
 *                      [--region R] [--endpoint-url URL]
 *
 * Each watcher is its own process (fork) with its own AWS client, registers one task of FILE
 * (one ARN a line; watcher i takes line i mod the count) and calls taskwatch_poll() every P
 * simulated milliseconds (watcher i first at i*P/N), once all have registered with the answer allowed to be A simulated milliseconds old, for S
 * simulated seconds. Simulated time runs X times faster than the wall clock and is the same
 * for every watcher (one origin, taken before the fork). The describe function is the
 * coordinator's own (fgtask_describe: a real signed DescribeTasks to the endpoint,
 * AWS_ENDPOINT_URL or --endpoint-url, credentials from the environment). --unshared gives each watcher its own
 * state directory: no sharing, what one waiter per task would do at the same interval.
 *
 * Prints one JSON line: {"watchers", "sim_seconds", "speed", "poll_ms", "max_age_ms",
 * "shared", "describe_calls" (summed over watchers), "polls", "errors", "wall_s"}.
 * It does not count calls itself beyond what taskwatch_poll() reports: the bench script also
 * counts them at a proxy.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "aws/aws_client.h"
#include "fgtask.h"
#include "taskwatch.h"

#define ARNS_MAX 1024
#define WATCHERS_MAX 500 /* the origins of time fit one atomic pipe write */

struct opts {
	const char *state_dir, *cluster, *arns_file, *region, *endpoint;
	long watchers, sim_seconds, poll_ms, max_age_ms;
	double speed;
	int unshared;
};

struct tally {
	unsigned long calls, polls, errors;
};

static long long real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(double ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)((ms - (double)ts.tv_sec * 1000) * 1e6);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Registers, says so on ready_fd, reads the common origin of time from go_fd, then polls. */
static int watch(const struct opts *o, const char *arn, long idx, int ready_fd, int go_fd, struct tally *t)
{
	long long t0;
	struct aws_client_options co;
	struct aws_client *c;
	struct taskwatch *w;
	char err[512], dir[PATH_MAX];

	memset(&co, 0, sizeof co);
	co.region = o->region;
	co.endpoint_url = o->endpoint;
	c = aws_client_new(&co, err, sizeof err);
	if (!c) {
		fprintf(stderr, "taskwatch_bench: %s\n", err);
		return -1;
	}
	if (o->unshared)
		snprintf(dir, sizeof dir, "%s/w%ld", o->state_dir, idx);
	else
		snprintf(dir, sizeof dir, "%s", o->state_dir);
	w = taskwatch_new(dir, o->cluster, arn, err, sizeof err);
	if (!w) {
		fprintf(stderr, "taskwatch_bench: %s\n", err);
		aws_client_free(c);
		return -1;
	}
	if (write(ready_fd, "r", 1) != 1 || read(go_fd, &t0, sizeof t0) != (ssize_t)sizeof t0) {
		taskwatch_free(w);
		aws_client_free(c);
		return -1;
	}
	/* Polls at simulated times t0 + phase, + P, + 2P, … (a slow call delays the next poll; a
	 * poll is never skipped). The phases of the watchers are spread over P, as runs started at
	 * different times are. */
	double phase = (double)o->poll_ms * (double)idx / (double)o->watchers;

	sleep_ms(phase / o->speed);
	for (long long k = 0;; k++) {
		long long sim = t0 + (long long)((double)(real_ms() - t0) * o->speed);
		json_t *task = NULL;
		unsigned calls = 0;

		if (sim - t0 >= o->sim_seconds * 1000LL)
			break;
		if (taskwatch_poll(w, sim, o->max_age_ms, fgtask_describe, c, &task, &calls) < 0)
			t->errors++;
		t->calls += calls;
		t->polls++;
		json_decref(task);
		sleep_ms((phase + (double)(k + 1) * (double)o->poll_ms) / o->speed - (double)(real_ms() - t0));
	}
	taskwatch_free(w);
	aws_client_free(c);
	return 0;
}

static long num(const char *name, const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi) {
		fprintf(stderr, "taskwatch_bench: %s: not a number from %ld to %ld: %s\n", name, lo, hi, s);
		exit(2);
	}
	return v;
}

static size_t read_arns(const char *path, char **arns)
{
	FILE *f = fopen(path, "r");
	char line[2048];
	size_t n = 0;

	if (!f) {
		fprintf(stderr, "taskwatch_bench: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	while (n < ARNS_MAX && fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] && !(arns[n++] = strdup(line)))
			exit(2);
	}
	fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"state-dir", required_argument, NULL, 's'}, {"cluster", required_argument, NULL, 'c'},
		{"arns", required_argument, NULL, 'a'}, {"watchers", required_argument, NULL, 'n'},
		{"sim-seconds", required_argument, NULL, 'S'}, {"speed", required_argument, NULL, 'x'},
		{"poll-ms", required_argument, NULL, 'p'}, {"max-age-ms", required_argument, NULL, 'm'},
		{"unshared", no_argument, NULL, 'u'}, {"region", required_argument, NULL, 'r'},
		{"endpoint-url", required_argument, NULL, 'e'}, {NULL, 0, NULL, 0}};
	struct opts o = {NULL, NULL, NULL, NULL, NULL, 50, 300, 1000, 30000, 30.0, 0};
	char *arns[ARNS_MAX];
	struct tally total = {0, 0, 0};
	int fds[2], ready[2], go[2], ch, failed = 0;
	long long origins[WATCHERS_MAX];
	size_t narns;
	long long t0, start;
	pid_t pids[WATCHERS_MAX];

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 's': o.state_dir = optarg; break;
		case 'c': o.cluster = optarg; break;
		case 'a': o.arns_file = optarg; break;
		case 'n': o.watchers = num("--watchers", optarg, 1, WATCHERS_MAX); break;
		case 'S': o.sim_seconds = num("--sim-seconds", optarg, 1, 86400); break;
		case 'x': o.speed = (double)num("--speed", optarg, 1, 10000); break;
		case 'p': o.poll_ms = num("--poll-ms", optarg, 1, 3600000); break;
		case 'm': o.max_age_ms = num("--max-age-ms", optarg, 0, 3600000); break;
		case 'u': o.unshared = 1; break;
		case 'r': o.region = optarg; break;
		case 'e': o.endpoint = optarg; break;
		default: return 2;
		}
	}
	if (!o.state_dir || !o.cluster || !o.arns_file) {
		fprintf(stderr, "taskwatch_bench: --state-dir, --cluster and --arns are required\n");
		return 2;
	}
	narns = read_arns(o.arns_file, arns);
	if (narns == 0) {
		fprintf(stderr, "taskwatch_bench: %s: no task ARN\n", o.arns_file);
		return 2;
	}
	if (aws_http_global_init() < 0 || pipe(fds) != 0 || pipe(ready) != 0 || pipe(go) != 0)
		return 1;
	start = real_ms();
	for (long i = 0; i < o.watchers; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			perror("fork");
			return 1;
		}
		if (pids[i] == 0) {
			struct tally t = {0, 0, 0};
			int rc;

			close(fds[0]);
			close(ready[0]);
			close(go[1]);
			rc = watch(&o, arns[(size_t)i % narns], i, ready[1], go[0], &t);
			if (write(fds[1], &t, sizeof t) != (ssize_t)sizeof t)
				rc = -1;
			_exit(rc == 0 ? 0 : 1);
		}
	}
	close(fds[1]);
	close(ready[1]);
	close(go[0]);
	/* Simulated time starts once every watcher has registered its task (a run's first poll
	 * after its start asks DescribeTasks for its new task: that start-up cost is not what is
	 * measured here). */
	for (long i = 0; i < o.watchers; i++) {
		char b;

		if (read(ready[0], &b, 1) != 1)
			break;
	}
	t0 = real_ms();
	for (long i = 0; i < o.watchers; i++)
		origins[i] = t0;
	if (write(go[1], origins, sizeof origins[0] * (size_t)o.watchers) < 0)
		perror("write");
	close(go[1]);
	for (long i = 0; i < o.watchers; i++) {
		struct tally t;

		if (read(fds[0], &t, sizeof t) == (ssize_t)sizeof t) {
			total.calls += t.calls;
			total.polls += t.polls;
			total.errors += t.errors;
		}
	}
	for (long i = 0; i < o.watchers; i++) {
		int st;

		if (waitpid(pids[i], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			failed++;
	}
	printf("{\"watchers\": %ld, \"sim_seconds\": %ld, \"speed\": %g, \"poll_ms\": %ld, \"max_age_ms\": %ld, "
	       "\"shared\": %s, \"describe_calls\": %lu, \"polls\": %lu, \"errors\": %lu, \"failed_watchers\": %d, "
	       "\"wall_s\": %.2f}\n",
	       o.watchers, o.sim_seconds, o.speed, o.poll_ms, o.max_age_ms, o.unshared ? "false" : "true",
	       total.calls, total.polls, total.errors, failed, (double)(real_ms() - start) / 1000.0);
	for (size_t i = 0; i < narns; i++)
		free(arns[i]);
	aws_http_global_cleanup();
	return failed ? 1 : 0;
}
