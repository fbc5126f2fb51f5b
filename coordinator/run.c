/* run — see run.h. */
#include "run.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <openssl/rand.h>

#include "cert.h"
#include "protocol/protocol.h"
#include "console.h"
#include "fargate.h"
#include "ingest.h"
#include "junit.h"
#include "local.h"
#include "notify.h"
#include "report.h"
#include "retention.h"
#include "speccheck.h"
#include "specfile.h"
#include "state.h"
#include "stream.h"

#define RUN_LINE_MAX (1u << 20)
#define RUN_KILL_SLACK_S 10

struct run {
	struct run_core core;
	struct run_options opt;
	struct specfile *spec;
	struct bufferevent *out;
	struct event *ev_int, *ev_term, *ev_chld, *ev_tick;
	pid_t agent;
	bool pidns, out_eof, finished;
	struct report_agent ra;
	long long stop_ms, reaped_ms;
	int interrupted_by;
	bool timed_out;
	char url[512];
};

void run_usage(void)
{
	printf("usage: stagevisor run --backend local --spec FILE [options]\n"
	       "       stagevisor run --backend fargate --config FILE --stage NAME [--build-id ID] [options]\n"
	       "\n"
	       "Runs one stage: on this machine (local: stagevisor-agent as PID 1 of its own PID\n"
	       "namespace when possible) or as an AWS Fargate task (fargate: the agent is the task's\n"
	       "PID 1), receives its event stream over HTTPS, shows live progress, writes reports and\n"
	       "exits with the stage's verdict.\n"
	       "\n"
	       "  --backend B         where the stage runs: local (default) or fargate\n"
	       "\n"
	       "Fargate (README.md, \"Pipeline config\" and \"run --backend fargate\"):\n"
	       "  --config FILE       the pipeline config (checked whole before any AWS call)\n"
	       "  --stage NAME        the stage of the config to run (its spec is checked first)\n"
	       "  --build-id ID       the build's identity (default: BUILD_TAG; one of the two is\n"
	       "                      required): the same ID and stage again re-attaches to the\n"
	       "                      task already running instead of starting a second;\n"
	       "                      ${BUILD_ID} in stages.NAME.image becomes ID made an image tag\n"
	       "  --branch NAME       the branch, a tag of the task (default: BRANCH_NAME, GIT_BRANCH)\n"
	       "  --endpoint-url URL, --region R, --profile P\n"
	       "                      as for `stagevisor aws` (default region: aws.region)\n"
	       "  --agent PATH        the stagevisor-agent that checks the stage's spec here\n"
	       "  The ingest server listens on coordinator.listen, on the first free port of\n"
	       "  coordinator.ports; agents dial coordinator.advertise with that port.\n"
	       "\n"
	       "Local:\n"
	       "  --spec FILE         the stage spec (JSON), passed to the agent inline; checked\n"
	       "                      first with `stagevisor-agent --check` (a bad spec: exit 2,\n"
	       "                      nothing started)\n"
	       "  --junit FILE        write JUnit XML: the tools' tests and findings, and a\n"
	       "                      `stagevisor` suite only for infrastructure problems\n"
	       "  --json FILE         write a machine-readable summary\n"
	       "  --listen ADDR:PORT  where the ingest server listens (default 127.0.0.1:0, any port)\n"
	       "  --advertise URL     the URL agents are given (default https://ADDR:PORT of --listen)\n"
	       "  --agent PATH        the agent binary (default: stagevisor-agent next to this\n"
	       "                      program, then ../agents/ of a build tree, then PATH)\n"
	       "  --timeout S         stop the stage after S seconds (default: no limit)\n"
	       "  --tls-cert FILE --tls-key FILE\n"
	       "                      serve this certificate instead of a fresh self-signed one\n"
	       "  --state-dir DIR     where runs/<stream>/events.jsonl is kept (see README.md)\n"
	       "  --keep-runs N       keep the newest N runs in the state directory (default 100;\n"
	       "                      0: no limit); older ones are removed when a run starts\n"
	       "  --keep-days D       and none older than D days (default 14; 0: no limit);\n"
	       "                      a run in progress is never removed\n"
	       "  --max-connections N, --io-timeout S, --max-body BYTES\n"
	       "                      ingest server bounds (defaults 4096, 30 s, 1 MiB)\n"
	       "  --no-pidns          do not try a new PID namespace\n"
	       "\n"
	       "Both: --junit, --json, --timeout, --state-dir, --keep-runs, --keep-days, and the\n"
	       "ingest bounds.\n"
	       "\n"
	       "Environment:\n"
	       "  STAGEVISOR_SLACK_WEBHOOK_URL  (local; fargate uses slack.webhook_url of the config)\n"
	       "                      post the result to this Slack incoming webhook (a\n"
	       "                      secret: never printed; an environment variable, not an\n"
	       "                      option, so that ps does not show it). A Slack failure is a\n"
	       "                      warning and never changes the exit code.\n"
	       "  STAGEVISOR_CA_FILE  a PEM bundle that replaces the system's CAs for the post to\n"
	       "                      Slack (a TLS-inspecting proxy's CA); unreadable: a warning,\n"
	       "                      and the system's CAs\n"
	       "  AWS_CA_BUNDLE       (fargate) the same for AWS's endpoints, as the AWS CLI reads\n"
	       "                      it; unreadable: an error before any call\n"
	       "  BUILD_TAG, BUILD_URL, BRANCH_NAME (else GIT_BRANCH)\n"
	       "                      Jenkins' build, its link and the branch, in the message\n"
	       "\n"
	       "Exit codes: 0 passed, 1 tests or checks failed (a job that exited non-zero\n"
	       "because its tests failed included), 2 usage error (a bad spec included), 3\n"
	       "infrastructure error (agent crashed or could not start, stream incomplete), 128+n\n"
	       "interrupted by signal n (reports are still written).\n");
}

static long long run_elapsed(const struct run *r)
{
	return state_now_ms() - r->core.start_ms;
}

static void run_on_event(void *arg, const json_t *ev)
{
	struct run_core *c = arg;

	console_event(c->console, ev, state_now_ms());
}

void run_core_line(struct run_core *c, const char *line, size_t len)
{
	struct pr_error e;
	json_t *ev = NULL;
	char err[256];
	int k;

	memset(&e, 0, sizeof e);
	k = pr_fallback_parse_line(line, len, &ev, &e);
	if (k == 0) {
		console_output(c->console, line, len);
		return;
	}
	if (k < 0 || stream_add(c->stream, ev, STREAM_FROM_FALLBACK, err, sizeof err) < 0) {
		if (c->bad_lines++ < 5)
			console_note(c->console, state_now_ms(), "ignored a fallback line: %s", k < 0 ? e.text : err);
	}
	json_decref(ev);
}

static void run_check_done(struct run *r);

static void run_on_output(struct bufferevent *bev, void *arg)
{
	struct run *r = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t n;
	char *line;

	while ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF)) != NULL) {
		run_core_line(&r->core, line, n);
		free(line);
	}
	/* A line longer than the bound is taken in pieces rather than growing without end. */
	while (evbuffer_get_length(in) >= RUN_LINE_MAX) {
		line = malloc(RUN_LINE_MAX);
		if (!line)
			break;
		evbuffer_remove(in, line, RUN_LINE_MAX);
		console_output(r->core.console, line, RUN_LINE_MAX);
		free(line);
	}
	stream_flush(r->core.stream);
}

static void run_on_output_event(struct bufferevent *bev, short what, void *arg)
{
	struct run *r = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		run_on_output(bev, arg);
		if (evbuffer_get_length(in) > 0) {
			size_t n = evbuffer_get_length(in);
			char *rest = malloc(n);
			if (rest) {
				evbuffer_remove(in, rest, n);
				run_core_line(&r->core, rest, n);
				free(rest);
			}
		}
		stream_flush(r->core.stream);
		r->out_eof = true;
		bufferevent_disable(bev, EV_READ);
		run_check_done(r);
	}
}

static void run_stop_agent(struct run *r, const char *why)
{
	if (r->agent <= 0 || r->ra.exited)
		return;
	if (!r->stop_ms) {
		console_note(r->core.console, state_now_ms(), "stopping the stage (%s)", why);
		stream_set_cancel(r->core.stream, true);
		r->ra.stopped_by_us = true;
		kill(r->agent, SIGTERM);
		r->stop_ms = state_now_ms();
	}
}

static void run_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct run *r = arg;

	(void)what;
	if (!r->interrupted_by) {
		r->interrupted_by = (int)sig;
		run_stop_agent(r, sig == SIGINT ? "interrupted" : "terminated");
	} else if (r->agent > 0 && !r->ra.exited) {
		console_note(r->core.console, state_now_ms(), "second signal: killing the agent");
		kill(r->agent, SIGKILL);
	}
}

static void run_on_sigchld(evutil_socket_t sig, short what, void *arg)
{
	struct run *r = arg;
	int status;
	pid_t p;

	(void)sig;
	(void)what;
	while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
		if (p != r->agent)
			continue;
		r->ra.exited = true;
		r->reaped_ms = state_now_ms();
		if (WIFEXITED(status)) {
			r->ra.exit_code = WEXITSTATUS(status);
			console_note(r->core.console, r->reaped_ms, "agent exited with %d", r->ra.exit_code);
		} else if (WIFSIGNALED(status)) {
			r->ra.signal = WTERMSIG(status);
			console_note(r->core.console, r->reaped_ms, "agent killed by signal %d", r->ra.signal);
		}
	}
	run_check_done(r);
}

static void run_on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;
	long long now = state_now_ms();

	(void)fd;
	(void)what;
	console_tick(r->core.console, now);
	if (r->opt.timeout_s && !r->timed_out && !r->ra.exited && run_elapsed(r) > (long long)r->opt.timeout_s * 1000) {
		r->timed_out = true;
		run_stop_agent(r, "time limit reached");
	}
	if (r->stop_ms && !r->ra.exited &&
	    now - r->stop_ms > (long long)(r->spec->stop_timeout_s + RUN_KILL_SLACK_S) * 1000) {
		console_note(r->core.console, now, "the agent did not stop within its stop budget: killing it");
		kill(r->agent, SIGKILL);
		r->stop_ms = now; /* once per budget */
	}
	/* Output still open long after the agent is gone: something it started holds the pipe. */
	if (r->ra.exited && !r->out_eof && now - r->reaped_ms > 2000) {
		r->out_eof = true;
		run_check_done(r);
	}
}

static void run_check_done(struct run *r)
{
	if (r->ra.exited && r->out_eof && !r->finished) {
		r->finished = true;
		event_base_loopbreak(r->core.base);
	}
}

static int run_parse_listen(const char *s, char *host, size_t hostlen, int *port)
{
	const char *colon;
	char *end;
	long p;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':' || (size_t)(close - s - 1) >= hostlen)
			return -1;
		memcpy(host, s + 1, (size_t)(close - s - 1));
		host[close - s - 1] = '\0';
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= hostlen)
			return -1;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
		if (!*host)
			snprintf(host, hostlen, "127.0.0.1");
	}
	p = strtol(colon + 1, &end, 10);
	if (*end || end == colon + 1 || p < 0 || p > 65535)
		return -1;
	*port = (int)p;
	return 0;
}

static int run_parse_options(struct run_options *o, int argc, char **argv)
{
	enum { O_BACKEND = 256, O_SPEC, O_JUNIT, O_JSON, O_LISTEN, O_ADVERTISE, O_AGENT, O_TIMEOUT, O_CERT, O_KEY,
	       O_STATE, O_MAXCONN, O_IOTIMEOUT, O_MAXBODY, O_NOPIDNS, O_KEEPRUNS, O_KEEPDAYS, O_HELP,
	       O_CONFIG, O_STAGE, O_BUILD, O_BRANCH, O_ENDPOINT, O_REGION, O_PROFILE };
	static const struct option longopts[] = {
		{"backend", required_argument, NULL, O_BACKEND}, {"spec", required_argument, NULL, O_SPEC},
		{"junit", required_argument, NULL, O_JUNIT}, {"json", required_argument, NULL, O_JSON},
		{"listen", required_argument, NULL, O_LISTEN}, {"advertise", required_argument, NULL, O_ADVERTISE},
		{"agent", required_argument, NULL, O_AGENT}, {"timeout", required_argument, NULL, O_TIMEOUT},
		{"tls-cert", required_argument, NULL, O_CERT}, {"tls-key", required_argument, NULL, O_KEY},
		{"state-dir", required_argument, NULL, O_STATE},
		{"max-connections", required_argument, NULL, O_MAXCONN},
		{"io-timeout", required_argument, NULL, O_IOTIMEOUT}, {"max-body", required_argument, NULL, O_MAXBODY},
		{"no-pidns", no_argument, NULL, O_NOPIDNS}, {"help", no_argument, NULL, O_HELP},
		{"keep-runs", required_argument, NULL, O_KEEPRUNS}, {"keep-days", required_argument, NULL, O_KEEPDAYS},
		{"config", required_argument, NULL, O_CONFIG}, {"stage", required_argument, NULL, O_STAGE},
		{"build-id", required_argument, NULL, O_BUILD}, {"branch", required_argument, NULL, O_BRANCH},
		{"endpoint-url", required_argument, NULL, O_ENDPOINT}, {"region", required_argument, NULL, O_REGION},
		{"profile", required_argument, NULL, O_PROFILE},
		{NULL, 0, NULL, 0}};
	int c;
	char *end;
	unsigned long v;

	memset(o, 0, sizeof *o);
	o->backend = "local";
	o->listen = "127.0.0.1:0";
	o->retention.keep_runs = RETENTION_KEEP_RUNS_DEFAULT;
	o->retention.keep_days = RETENTION_KEEP_DAYS_DEFAULT;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case O_BACKEND: o->backend = optarg; break;
		case O_SPEC: o->spec = optarg; break;
		case O_JUNIT: o->junit = optarg; break;
		case O_JSON: o->json = optarg; break;
		case O_LISTEN: o->listen = optarg; break;
		case O_ADVERTISE: o->advertise = optarg; break;
		case O_AGENT: o->agent = optarg; break;
		case O_CERT: o->tls_cert = optarg; break;
		case O_KEY: o->tls_key = optarg; break;
		case O_STATE: o->state_dir = optarg; break;
		case O_NOPIDNS: o->no_pidns = true; break;
		case O_CONFIG: o->config = optarg; break;
		case O_STAGE: o->stage = optarg; break;
		case O_BUILD: o->build_id = optarg; break;
		case O_BRANCH: o->branch = optarg; break;
		case O_ENDPOINT: o->endpoint_url = optarg; break;
		case O_REGION: o->region = optarg; break;
		case O_PROFILE: o->profile = optarg; break;
		case O_TIMEOUT:
		case O_MAXCONN:
		case O_IOTIMEOUT:
		case O_MAXBODY:
		case O_KEEPRUNS:
		case O_KEEPDAYS:
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || v > 1ul << 32) {
				fprintf(stderr, "stagevisor run: %s: not a number: %s\n", argv[optind - 1], optarg);
				return -1;
			}
			if (c == O_TIMEOUT)
				o->timeout_s = (unsigned)v;
			else if (c == O_MAXCONN)
				o->max_conns = (unsigned)v;
			else if (c == O_IOTIMEOUT)
				o->io_timeout_s = (unsigned)v;
			else if (c == O_KEEPRUNS)
				o->retention.keep_runs = (unsigned)v;
			else if (c == O_KEEPDAYS)
				o->retention.keep_days = (unsigned)v;
			else
				o->max_body = v;
			break;
		case 'h':
		case O_HELP: run_usage(); return 1;
		default: return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "stagevisor run: unexpected argument: %s\n", argv[optind]);
		return -1;
	}
	if (strcmp(o->backend, "fargate") == 0)
		return fargate_check_options(o);
	if (strcmp(o->backend, "local") != 0) {
		fprintf(stderr, "stagevisor run: --backend %s: unknown (local, fargate)\n", o->backend);
		return -1;
	}
	if (o->config || o->stage || o->build_id || o->branch || o->endpoint_url || o->region || o->profile) {
		fprintf(stderr, "stagevisor run: --config, --stage, --build-id, --branch, --endpoint-url, --region "
		        "and --profile are options of --backend fargate\n");
		return -1;
	}
	if (!o->spec) {
		fprintf(stderr, "stagevisor run: --spec FILE is required\n");
		return -1;
	}
	if (!o->tls_cert != !o->tls_key) {
		fprintf(stderr, "stagevisor run: --tls-cert and --tls-key go together\n");
		return -1;
	}
	return 0;
}

int run_core_state_dir(struct run_core *c, const struct run_options *o)
{
	if (o->state_dir)
		snprintf(c->state_dir, sizeof c->state_dir, "%s", o->state_dir);
	else if (state_default_dir(c->state_dir, sizeof c->state_dir)) {
		fprintf(stderr, "stagevisor run: no state directory: set --state-dir, XDG_STATE_HOME or HOME\n");
		return REPORT_USAGE;
	}
	return 0;
}

int run_core_mint(struct run_core *c)
{
	unsigned char random[PR_TOKEN_RANDOM];

	memcpy(c->stream_id, "sv-", 3);
	if (local_random_hex(c->stream_id + 3, 16) || RAND_bytes(random, sizeof random) != 1) {
		fprintf(stderr, "stagevisor run: no randomness for the token\n");
		return REPORT_INFRA;
	}
	pr_token_format(random, c->token);
	return 0;
}

/* An earlier coordinator's events of this stream (a re-attach on the same host): moved aside,
 * then stored again through the stream, which writes them back. */
static void run_core_replay(struct run_core *c, const char *prev)
{
	FILE *f = fopen(prev, "re");
	char *line = NULL, err[256];
	size_t cap = 0;
	ssize_t n;
	unsigned long got = 0;

	if (!f)
		return;
	while ((n = getline(&line, &cap, f)) > 0) {
		json_t *ev = json_loadb(line, (size_t)n, 0, NULL);
		if (ev && stream_add(c->stream, ev, STREAM_FROM_HTTPS, err, sizeof err) > 0)
			got++;
		json_decref(ev);
	}
	free(line);
	fclose(f);
	stream_flush(c->stream);
	unlink(prev);
	if (got)
		console_note(c->console, state_now_ms(), "%lu events of this stream read back from %s", got,
			     c->events_path);
}

int run_core_open(struct run_core *c, const struct run_options *o, bool resume)
{
	char err[512], prev[PATH_MAX + 48];
	unsigned pruned = 0;
	bool resumed = false;

	if (snprintf(c->run_dir, sizeof c->run_dir, "%s/runs/%s", c->state_dir, c->stream_id) >=
	        (int)sizeof c->run_dir ||
	    snprintf(c->events_path, sizeof c->events_path, "%s/events.jsonl", c->run_dir) >=
	        (int)sizeof c->events_path) {
		fprintf(stderr, "stagevisor run: --state-dir: path too long\n");
		return REPORT_USAGE;
	}
	snprintf(prev, sizeof prev, "%s.prev", c->events_path);
	if (resume) {
		c->run_lock = retention_resume_run(c->state_dir, c->stream_id, err, sizeof err);
		if (c->run_lock == -2) {
			fprintf(stderr, "stagevisor run: %s\n", err);
			return REPORT_INFRA;
		}
		resumed = c->run_lock >= 0;
		if (resumed && rename(c->events_path, prev) != 0 && errno != ENOENT) {
			fprintf(stderr, "stagevisor run: %s: %s\n", c->events_path, strerror(errno));
			return REPORT_INFRA;
		}
	}
	if (c->run_lock < 0)
		c->run_lock = retention_start_run(c->state_dir, c->stream_id, &o->retention, &pruned, err, sizeof err);
	if (c->run_lock < 0) {
		fprintf(stderr, "stagevisor run: %s\n", err);
		return REPORT_INFRA;
	}
	c->stream = stream_new(c->stream_id, c->events_path, 0);
	c->base = event_base_new();
	c->console = console_new(stdout, isatty(STDOUT_FILENO), c->start_ms);
	if (!c->stream || !c->base || !c->console) {
		fprintf(stderr, "stagevisor run: cannot set up: %s\n", strerror(errno));
		return REPORT_INFRA;
	}
	if (resumed)
		run_core_replay(c, prev);
	stream_set_listener(c->stream, run_on_event, c);
	if (pruned)
		console_note(c->console, state_now_ms(), "removed %u old run%s from %s/runs (--keep-runs %u, --keep-days %u)",
		             pruned, pruned == 1 ? "" : "s", c->state_dir, o->retention.keep_runs,
		             o->retention.keep_days);
	return 0;
}

int run_core_serve(struct run_core *c, const struct run_options *o, const char *host, int port, char *err,
		   size_t errlen)
{
	struct ingest_options io = {0};

	if (!c->ctx && (!c->cert || !(c->ctx = cert_server_ctx(c->cert)))) {
		snprintf(err, errlen, "cannot create the TLS identity");
		errno = EINVAL;
		return -1;
	}
	if (!c->ingest) {
		io.max_body = o->max_body;
		io.max_conns = o->max_conns;
		io.timeout_s = o->io_timeout_s;
		io.faults = getenv("STAGEVISOR_TEST_FAULTS");
		c->ingest = ingest_new(c->base, c->ctx, &io);
		if (!c->ingest) {
			snprintf(err, errlen, "cannot start the ingest server%s",
			         io.faults ? " (is STAGEVISOR_TEST_FAULTS well formed?)" : "");
			errno = EINVAL;
			return -1;
		}
		if (ingest_add_stream(c->ingest, c->stream, c->token)) {
			snprintf(err, errlen, "cannot register the stream: %s", strerror(errno));
			return -1;
		}
	}
	if (ingest_listen(c->ingest, host, port)) {
		int e = errno;
		snprintf(err, errlen, "cannot listen on %s port %d: %s", host, port, strerror(e));
		errno = e;
		return -1;
	}
	return 0;
}

int run_core_finish(struct run_core *c, const struct run_options *o, const struct report_agent *ra,
		    int interrupted_by, bool timed_out, const char *stage, const char *webhook_url,
		    const char *branch)
{
	struct report rep;
	json_t *summary;
	bool lost_report = false;

	console_finish(c->console);
	/* A full disk (or a state directory gone) loses the events.jsonl copy, never the verdict:
	 * the stream is judged from memory. Said once, here, where nothing more will be written. */
	if (stream_flush(c->stream) != 0)
		fprintf(stderr, "stagevisor run: %s: %s: events not all written there; the reports are made from memory\n",
		        c->events_path, strerror(errno));
	report_judge(&rep, c->stream, ra, interrupted_by, timed_out, (state_now_ms() - c->start_ms) / 1000.0, stage);
	if (o->junit && junit_write_file(o->junit, c->stream, &rep) != 0) {
		fprintf(stderr, "stagevisor run: --junit %s: %s\n", o->junit, strerror(errno));
		lost_report = true;
	}
	summary = report_json(&rep, c->stream, o->junit, c->events_path);
	errno = 0;
	if (o->json && (!summary || report_write_json(o->json, summary) != 0)) {
		fprintf(stderr, "stagevisor run: --json %s: %s\n", o->json, errno ? strerror(errno) : "cannot write");
		lost_report = true;
	}
	json_decref(summary);
	report_print_summary(stdout, &rep, c->stream);
	fflush(stdout);
	/* Slack never changes the verdict: a failure is one warning line (never the URL). */
	notify_stage(webhook_url, &rep, c->stream, branch, NULL, stderr);
	/* A passed stage whose report could not be written must not look green in Jenkins (the
	 * junit step would find nothing, or last build's file): an infrastructure error, as for
	 * `stagevisor hooks`. A failing verdict keeps its own code. */
	if (lost_report && rep.exit_code == REPORT_PASSED) {
		fprintf(stderr, "stagevisor run: the stage passed but its reports could not be written: exit %d\n",
		        REPORT_INFRA);
		return REPORT_INFRA;
	}
	return rep.exit_code;
}

void run_core_free(struct run_core *c)
{
	ingest_free(c->ingest);
	SSL_CTX_free(c->ctx);
	cert_free(c->cert);
	stream_free(c->stream);
	console_free(c->console);
	if (c->base)
		event_base_free(c->base);
	if (c->run_lock >= 0)
		close(c->run_lock);
}

/* Everything before the loop. Returns 0, REPORT_USAGE or REPORT_INFRA. */
static int run_setup(struct run *r)
{
	char err[512], host[256], agentbuf[PATH_MAX];
	int port, rc;
	char *env[8];
	char e_url[600], e_token[100], e_pin[100], e_stream[64];
	char *e_spec = NULL;
	struct local_spawn ls;
	int fd = -1;

	/* The spec first, by the agent itself: a bad spec starts nothing and writes no state. */
	ls.agent = r->opt.agent ? r->opt.agent : local_default_agent(agentbuf, sizeof agentbuf);
	if (speccheck_file(ls.agent, r->opt.spec, "stagevisor run") != 0)
		return REPORT_USAGE;
	r->spec = specfile_load(r->opt.spec, err, sizeof err);
	if (!r->spec) {
		fprintf(stderr, "stagevisor run: --spec %s\n", err);
		return REPORT_USAGE;
	}
	if (run_parse_listen(r->opt.listen, host, sizeof host, &port)) {
		fprintf(stderr, "stagevisor run: --listen %s: expected ADDR:PORT\n", r->opt.listen);
		return REPORT_USAGE;
	}
	if ((rc = run_core_state_dir(&r->core, &r->opt)) != 0 || (rc = run_core_mint(&r->core)) != 0 ||
	    (rc = run_core_open(&r->core, &r->opt, false)) != 0)
		return rc;

	if (r->opt.tls_cert) {
		r->core.cert = cert_load(r->opt.tls_cert, r->opt.tls_key, err, sizeof err);
		if (!r->core.cert) {
			fprintf(stderr, "stagevisor run: %s\n", err);
			return REPORT_USAGE;
		}
	} else {
		r->core.cert = cert_new_ephemeral(NULL);
	}
	if (run_core_serve(&r->core, &r->opt, host, port, err, sizeof err)) {
		fprintf(stderr, "stagevisor run: %s\n", err);
		return REPORT_INFRA;
	}
	if (r->opt.advertise)
		snprintf(r->url, sizeof r->url, "%s", r->opt.advertise);
	else
		snprintf(r->url, sizeof r->url, strchr(host, ':') ? "https://[%s]:%d/" : "https://%s:%d/",
		         strcmp(host, "0.0.0.0") == 0 ? "127.0.0.1" : strcmp(host, "::") == 0 ? "::1" : host,
		         ingest_port(r->core.ingest));

	r->ev_int = evsignal_new(r->core.base, SIGINT, run_on_signal, r);
	r->ev_term = evsignal_new(r->core.base, SIGTERM, run_on_signal, r);
	r->ev_chld = evsignal_new(r->core.base, SIGCHLD, run_on_sigchld, r);
	r->ev_tick = event_new(r->core.base, -1, EV_PERSIST, run_on_tick, r);
	if (!r->ev_int || !r->ev_term || !r->ev_chld || !r->ev_tick || evsignal_add(r->ev_int, NULL) ||
	    evsignal_add(r->ev_term, NULL) || evsignal_add(r->ev_chld, NULL))
		return REPORT_INFRA;
	{
		struct timeval quarter = {0, 250000};
		event_add(r->ev_tick, &quarter);
	}

	snprintf(e_url, sizeof e_url, "STAGEVISOR_URL=%s", r->url);
	snprintf(e_token, sizeof e_token, "STAGEVISOR_TOKEN=%s", r->core.token);
	snprintf(e_pin, sizeof e_pin, "STAGEVISOR_PIN=%s", cert_fingerprint(r->core.cert));
	snprintf(e_stream, sizeof e_stream, "STAGEVISOR_STREAM=%s", r->core.stream_id);
	e_spec = malloc(strlen(r->spec->text) + 32);
	if (!e_spec)
		return REPORT_INFRA;
	sprintf(e_spec, "STAGEVISOR_SPEC=%s", r->spec->text);
	env[0] = e_url;
	env[1] = e_token;
	env[2] = e_pin;
	env[3] = e_stream;
	env[4] = e_spec;
	env[5] = NULL;
	ls.env = env;
	ls.stdout_fd = -1;
	ls.detach = false;
	ls.pidns = !r->opt.no_pidns;
	console_note(r->core.console, state_now_ms(), "stage %s: stream %s, ingest %s, events in %s", r->spec->stage,
	             r->core.stream_id, r->url, r->core.events_path);
	r->agent = local_start(&ls, &fd, &r->pidns, err, sizeof err);
	free(e_spec);
	if (r->agent < 0) {
		run_start_failed(&r->ra, "%s", err);
		console_note(r->core.console, state_now_ms(), "cannot start the agent: %s", err);
		return 0; /* judged below: an infrastructure error with reports */
	}
	r->ra.started = true;
	r->ra.exit_code = -1;
	console_note(r->core.console, state_now_ms(), "agent %s started, pid %ld%s", ls.agent, (long)r->agent,
	             r->pidns ? " (own PID namespace)" : "");
	evutil_make_socket_nonblocking(fd);
	r->out = bufferevent_socket_new(r->core.base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!r->out) {
		close(fd);
		return REPORT_INFRA;
	}
	bufferevent_setcb(r->out, run_on_output, NULL, run_on_output_event, r);
	bufferevent_setwatermark(r->out, EV_READ, 0, RUN_LINE_MAX + 4096);
	bufferevent_enable(r->out, EV_READ);
	return 0;
}

static void run_teardown(struct run *r)
{
	if (r->out)
		bufferevent_free(r->out);
	if (r->ev_int)
		event_free(r->ev_int);
	if (r->ev_term)
		event_free(r->ev_term);
	if (r->ev_chld)
		event_free(r->ev_chld);
	if (r->ev_tick)
		event_free(r->ev_tick);
	specfile_free(r->spec);
	run_core_free(&r->core);
}

void run_start_failed(struct report_agent *ra, const char *fmt, ...)
{
	va_list ap;
	int n;

	ra->started = false;
	va_start(ap, fmt);
	n = vsnprintf(ra->start_error, sizeof ra->start_error, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof ra->start_error)
		ra->start_error[sizeof ra->start_error - 2] = '~';
}

const char *run_env_branch(void)
{
	const char *b = getenv("BRANCH_NAME");

	if (!b || !*b)
		b = getenv("GIT_BRANCH");
	return b && *b ? b : NULL;
}

int run_command(int argc, char **argv)
{
	struct run *r = calloc(1, sizeof *r);
	int rc, prc;

	if (!r)
		return REPORT_INFRA;
	r->core.run_lock = -1;
	prc = run_parse_options(&r->opt, argc, argv);
	if (prc != 0) {
		free(r);
		return prc > 0 ? 0 : REPORT_USAGE;
	}
	r->core.start_ms = state_now_ms();
	if (strcmp(r->opt.backend, "fargate") == 0) {
		rc = fargate_run(&r->core, &r->opt);
		run_core_free(&r->core);
		free(r);
		return rc;
	}
	rc = run_setup(r);
	if (rc == REPORT_USAGE || (rc != 0 && !r->core.stream)) {
		run_teardown(r);
		free(r);
		return rc;
	}
	if (rc == 0 && r->ra.started)
		event_base_dispatch(r->core.base);
	else if (rc != 0 && r->ra.started) {
		kill(r->agent, SIGKILL);
		waitpid(r->agent, NULL, 0);
	}
	rc = run_core_finish(&r->core, &r->opt, &r->ra, r->interrupted_by, r->timed_out,
			     r->spec ? r->spec->stage : NULL, getenv("STAGEVISOR_SLACK_WEBHOOK_URL"), run_env_branch());
	run_teardown(r);
	free(r);
	return rc;
}
