/* fargate — see fargate.h. */
#include "fargate.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "aws/aws_client.h"
#include "cert.h"
#include "console.h"
#include "fgtask.h"
#include "ingest.h"
#include "local.h"
#include "pipeline.h"
#include "speccheck.h"
#include "state.h"
#include "stream.h"
#include "taskdef.h"
#include "taskfail.h"
#include "taskwatch.h"

#define FG_START_RETRIES 3        /* new tasks after a start failure that says "try again" */
#define FG_STOP_SLACK_S 15        /* after StopTask: the stop budget plus this, then give up */
#define FG_LOG_PAGES 10000        /* GetLogEvents pages read at most */
#define FG_EXPIRY_S (12 * 3600)   /* the expiry tag of a stage's task: teardown's bound */

struct fargate {
	struct run_core *core;
	const struct run_options *opt;
	struct pipeline *p;
	const struct pipeline_stage *st; /* the config's stage with its image expanded (stage) */
	struct pipeline_stage stage;
	char image[TASKDEF_IMAGE_MAX + 1];
	struct aws_client *aws;
	struct taskwatch *watch;
	struct event *ev_int, *ev_term, *ev_tick, *ev_check;
	struct report_agent ra;
	char arn[512], task_id[512], taskdef[512], client_token[44], url[600], host[256];
	long long poll_ms, last_poll_ms, stop_ms;
	unsigned starts;
	int interrupted_by;
	bool timed_out, stop_sent, done, serving, reattached, running_noted, task_stopped;
};

static const char *fg_task_id(const char *arn)
{
	const char *slash = strrchr(arn, '/');
	return slash ? slash + 1 : arn;
}

int fargate_check_options(struct run_options *o)
{
	if (o->spec || o->advertise || o->tls_cert || o->tls_key || o->no_pidns ||
	    strcmp(o->listen, "127.0.0.1:0") != 0) {
		fprintf(stderr, "stagevisor run: --spec, --listen, --advertise, --tls-cert, --tls-key and --no-pidns "
			"are options of --backend local; with fargate they come from the pipeline config "
			"(stages.NAME.spec, coordinator.*)\n");
		return -1;
	}
	if (!o->config || !o->stage) {
		fprintf(stderr, "stagevisor run: --backend fargate needs --config FILE and --stage NAME\n");
		return -1;
	}
	if (!o->build_id || !*o->build_id)
		o->build_id = getenv("BUILD_TAG");
	if (!o->build_id || !*o->build_id) {
		fprintf(stderr, "stagevisor run: --backend fargate needs the build's identity: pass --build-id ID "
			"or set BUILD_TAG (Jenkins sets it); a second run with the same identity and stage "
			"re-attaches to the first's task\n");
		return -1;
	}
	if (!o->branch || !*o->branch)
		o->branch = run_env_branch();
	return 0;
}

int fargate_agent_url(const char *advertise, unsigned port, char *out, size_t len)
{
	const char *host = strstr(advertise, "://"), *end;
	size_t hlen;

	host = host ? host + 3 : advertise;
	end = host + strcspn(host, "/");
	hlen = (size_t)(end - host);
	/* A port in the advertised URL is replaced by the run's: "host:443" → "host". An IPv6
	 * literal keeps its brackets. */
	if (hlen && host[0] == '[') {
		const char *close = memchr(host, ']', hlen);
		if (close)
			hlen = (size_t)(close - host) + 1;
	} else {
		const char *colon = memchr(host, ':', hlen);
		if (colon)
			hlen = (size_t)(colon - host);
	}
	if (hlen == 0 || snprintf(out, len, "https://%.*s:%u/", (int)hlen, host, port) >= (int)len)
		return -1;
	return 0;
}

/* ---- the CloudWatch fallback ------------------------------------------------------------ */

/* Every `@@stagevisor` line the task's agent wrote, from CloudWatch Logs into the stream:
 * GetLogEvents from the head, following nextForwardToken until it comes back unchanged. */
static void fg_read_logs(struct fargate *f)
{
	char stream[600], err[1024];
	char *token = NULL;
	unsigned long lines = 0;
	uint64_t before = stream_tally(f->core->stream).stored;

	snprintf(stream, sizeof stream, "%s/%s/%s", TASKDEF_LOG_PREFIX, TASKDEF_CONTAINER, f->task_id);
	console_note(f->core->console, state_now_ms(), "reading the agent's fallback lines from CloudWatch Logs "
		     "(%s, %s)", f->p->aws.log_group, stream);
	for (unsigned page = 0; page < FG_LOG_PAGES; page++) {
		json_t *in = json_pack("{s:s, s:s, s:b}", "logGroupName", f->p->aws.log_group, "logStreamName", stream,
				       "startFromHead", 1), *out = NULL, *ev;
		struct aws_result r;
		const char *next;
		size_t i;
		bool same;

		if (!in)
			break;
		if (token)
			json_object_set_new(in, "nextToken", json_string(token));
		memset(&r, 0, sizeof r);
		if (aws_client_json(f->aws, "logs", "GetLogEvents", in, &out, &r) != 0) {
			aws_error_format(&r.error, "logs", "GetLogEvents", err, sizeof err);
			console_note(f->core->console, state_now_ms(), "the CloudWatch fallback failed: %s", err);
			aws_result_clear(&r);
			json_decref(in);
			break;
		}
		aws_result_clear(&r);
		json_decref(in);
		json_array_foreach(json_object_get(out, "events"), i, ev) {
			const char *m = json_string_value(json_object_get(ev, "message"));
			/* Only the marked lines: the rest is the agent's output, which the stream
			 * carried (or which is lost with it, as the README says of log lines). */
			if (m && strncmp(m, "@@stagevisor ", 13) == 0) {
				run_core_line(f->core, m, strlen(m));
				lines++;
			}
		}
		next = json_string_value(json_object_get(out, "nextForwardToken"));
		same = !next || (token && strcmp(next, token) == 0);
		free(token);
		token = next && !same ? strdup(next) : NULL;
		json_decref(out);
		if (same || !token)
			break;
	}
	free(token);
	stream_flush(f->core->stream);
	console_note(f->core->console, state_now_ms(), "CloudWatch Logs: %lu fallback lines, %llu events new", lines,
		     (unsigned long long)(stream_tally(f->core->stream).stored - before));
}

/* ---- the loop --------------------------------------------------------------------------- */

static bool fg_complete(const struct fargate *f)
{
	uint64_t missing;
	char why[256];

	return stream_end(f->core->stream) && stream_check_complete(f->core->stream, &missing, why, sizeof why) == 0;
}

static void fg_finish(struct fargate *f)
{
	/* Not a loopbreak: the answer that acknowledges the `end` is still in the ingest
	 * server's output buffer, and the agent waits for it before it exits. A few loop turns
	 * write it. */
	struct timeval flush = {0, 20000};

	if (!f->done) {
		f->done = true;
		event_base_loopexit(f->core->base, &flush);
	}
}

static void fg_on_event(void *arg, const json_t *ev)
{
	struct fargate *f = arg;
	const char *type = json_string_value(json_object_get(ev, "type"));

	console_event(f->core->console, ev, state_now_ms());
	/* The end, or a gap it left filled: check once the batch is stored, not per event. */
	if ((type && strcmp(type, "end") == 0) || stream_end(f->core->stream))
		event_active(f->ev_check, EV_TIMEOUT, 0);
}

static void fg_on_check(evutil_socket_t fd, short what, void *arg)
{
	struct fargate *f = arg;

	(void)fd;
	(void)what;
	if (fg_complete(f))
		fg_finish(f); /* at once: the end→exit latency is not a poll interval */
}

static void fg_stop_task(struct fargate *f, const char *why)
{
	char reason[256], err[1024];

	if (f->stop_sent || !f->arn[0])
		return;
	f->stop_sent = true;
	f->ra.stopped_by_us = true;
	f->stop_ms = state_now_ms();
	stream_set_cancel(f->core->stream, true);
	snprintf(reason, sizeof reason, "stagevisor run: %s (build %s, stage %s)", why, f->opt->build_id, f->st->name);
	console_note(f->core->console, state_now_ms(), "stopping task %s (%s)", f->task_id, why);
	if (fgtask_stop(f->aws, f->p->aws.cluster, f->arn, reason, err, sizeof err) != 0)
		console_note(f->core->console, state_now_ms(), "StopTask failed: %s", err);
	f->poll_ms = f->poll_ms > 1000 ? 1000 : f->poll_ms; /* watch the stop closely */
}

static void fg_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct fargate *f = arg;

	(void)what;
	if (!f->interrupted_by) {
		f->interrupted_by = (int)sig;
		fg_stop_task(f, sig == SIGINT ? "interrupted (SIGINT)" : "terminated (SIGTERM)");
	} else {
		console_note(f->core->console, state_now_ms(), "second signal: not waiting for the task to stop");
		fg_finish(f);
	}
}

static int fg_start_task(struct fargate *f, const char *taskdef_arn, char *err, size_t errlen);

/* The task stopped: what it says, then the stream completed from CloudWatch if need be, or a
 * new task when a start failure says starting again may work. */
static void fg_task_stopped(struct fargate *f, const json_t *t)
{
	const json_t *ct = json_array_get(json_object_get(t, "containers"), 0);
	const char *stop_code = json_string_value(json_object_get(t, "stopCode"));
	const char *reason = json_string_value(json_object_get(t, "stoppedReason"));
	const char *creason = json_string_value(json_object_get(ct, "reason"));
	const char *last = json_string_value(json_object_get(t, "lastStatus"));
	json_t *exit = json_object_get(ct, "exitCode");
	int code = json_is_integer(exit) ? (int)json_integer_value(exit) : -1;
	struct taskfail tf;
	bool never_ran;
	char err[1024];

	if (last && strcmp(last, "MISSING") == 0) {
		reason = json_string_value(json_object_get(json_object_get(t, "failure"), "reason"));
		stop_code = "MISSING";
	}
	tf = taskfail_classify(stop_code, reason, creason, code);
	f->task_stopped = true;
	console_note(f->core->console, state_now_ms(), "task %s stopped%s%s", f->task_id, reason ? ": " : "",
		     reason ? reason : "");
	f->ra.exited = true;
	f->ra.exit_code = code;
	/* Nothing from the agent, and ECS says why it never got to run it. Neither the exit code
	 * (moto reports 0 for containers that never ran) nor a missing startedAt (moto never sets
	 * it) tells: a stage whose HTTPS path was blocked looks the same until its CloudWatch
	 * lines are read. */
	never_ran = stream_max_seq(f->core->stream) == 0 && !f->stop_sent &&
		    ((stop_code && strcmp(stop_code, "TaskFailedToStart") == 0) ||
		     (stop_code && strcmp(stop_code, "MISSING") == 0) ||
		     tf.kind == TASKFAIL_PULL || tf.kind == TASKFAIL_RESOURCE_INIT || tf.kind == TASKFAIL_ENI_TIMEOUT ||
		     tf.kind == TASKFAIL_CAPACITY || tf.kind == TASKFAIL_CANNOT_START);
	if (never_ran) {
		if (tf.retry && !f->reattached && f->starts < FG_START_RETRIES) {
			console_note(f->core->console, state_now_ms(), "the task did not start (%s): starting a new one",
				     tf.name);
			taskwatch_free(f->watch);
			f->watch = NULL;
			f->ra.exited = false;
			if (fg_start_task(f, f->taskdef, err, sizeof err) == 0) {
				f->task_stopped = false;
				return;
			}
			console_note(f->core->console, state_now_ms(), "%s", err);
		}
		f->ra.exited = false; /* no agent ran: moto's exit code 0 is not one */
		f->ra.exit_code = -1;
		/* The hint before ECS's reason, which can be long: a cut never loses the hint. */
		run_start_failed(&f->ra, "task %s stopped before it ran (%s): %s; ECS: %s", f->task_id, tf.name, tf.hint,
				 reason ? reason : "no reason given");
		fg_finish(f);
		return;
	}
	f->ra.started = true;
	if (tf.kind == TASKFAIL_OOM && code < 0)
		f->ra.signal = SIGKILL; /* the kernel's OOM kill: "killed by signal 9" */
	if (tf.kind != TASKFAIL_NONE && tf.kind != TASKFAIL_STOPPED) {
		console_note(f->core->console, state_now_ms(), "%s: %s", tf.name, tf.hint);
		/* Named in the reports too (a `task` case): an OOM kill is otherwise only a stream
		 * that ended without its `end`. */
		if (snprintf(f->ra.task_failure, sizeof f->ra.task_failure, "task %s stopped (%s): %s; ECS: %s",
			     f->task_id, tf.name, tf.hint, creason ? creason : reason ? reason : "no reason given") >=
		    (int)sizeof f->ra.task_failure)
			f->ra.task_failure[sizeof f->ra.task_failure - 2] = '~';
	}
	if (!fg_complete(f))
		fg_read_logs(f);
	fg_finish(f);
}

static void fg_poll(struct fargate *f, long long now)
{
	json_t *t = NULL;
	unsigned calls = 0;
	struct timespec ts;
	const char *last;
	int k;

	if (!f->watch)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	k = taskwatch_poll(f->watch, (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, f->poll_ms,
			   fgtask_describe, f->aws, &t, &calls);
	f->last_poll_ms = now;
	if (k < 0) {
		console_note(f->core->console, now, "DescribeTasks failed; trying again later");
		return;
	}
	if (k == 0)
		return;
	last = json_string_value(json_object_get(t, "lastStatus"));
	if (last && strcmp(last, "RUNNING") == 0 && !f->running_noted) {
		f->running_noted = true;
		console_note(f->core->console, now, "task %s is running", f->task_id);
	}
	if (last && (strcmp(last, "STOPPED") == 0 || strcmp(last, "MISSING") == 0))
		fg_task_stopped(f, t);
	json_decref(t);
}

static void fg_on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct fargate *f = arg;
	long long now = state_now_ms();

	(void)fd;
	(void)what;
	console_tick(f->core->console, now);
	if (f->opt->timeout_s && !f->timed_out && now - f->core->start_ms > (long long)f->opt->timeout_s * 1000) {
		f->timed_out = true;
		fg_stop_task(f, "time limit reached");
	}
	if (f->stop_sent && now - f->stop_ms > (long long)(f->st->stop_timeout + FG_STOP_SLACK_S) * 1000) {
		console_note(f->core->console, now, "the task did not stop within its stop budget: not waiting longer");
		fg_finish(f);
		return;
	}
	if (now - f->last_poll_ms >= f->poll_ms)
		fg_poll(f, now);
}

/* ---- starting ----------------------------------------------------------------------------- */

/* The ingest server on the first free port of coordinator.ports; f->url from advertise. */
static int fg_bind(struct fargate *f, char *err, size_t errlen)
{
	const struct pipeline_coordinator *pc = &f->p->coordinator;

	for (unsigned port = pc->port_first; port <= pc->port_last; port++) {
		if (run_core_serve(f->core, f->opt, pc->listen, (int)port, err, errlen) == 0) {
			if (fargate_agent_url(pc->advertise, port, f->url, sizeof f->url) != 0) {
				snprintf(err, errlen, "coordinator.advertise: no host, or too long");
				return -1;
			}
			f->serving = true;
			return 0;
		}
		if (errno != EADDRINUSE && errno != EACCES)
			return -1;
	}
	snprintf(err, errlen, "no free port in coordinator.ports %u-%u on %s: each concurrent run on this host "
		 "takes one; widen the range (and the tasks' security group) or run fewer stages at once",
		 pc->port_first, pc->port_last, pc->listen);
	return -1;
}

static int fg_start_task(struct fargate *f, const char *taskdef_arn, char *err, size_t errlen)
{
	struct taskdef_run run;
	char token[64];
	json_t *task = NULL;
	const char *arn;

	if (taskdef_arn != f->taskdef)
		snprintf(f->taskdef, sizeof f->taskdef, "%s", taskdef_arn);
	memset(&run, 0, sizeof run);
	run.build_id = f->opt->build_id;
	run.branch = f->opt->branch;
	run.stream = f->core->stream_id;
	run.token = f->core->token;
	run.url = f->url;
	run.pin = cert_fingerprint(f->core->cert);
	run.task_definition = f->taskdef;
	run.expires_at = (long long)time(NULL) + (f->opt->timeout_s ? f->opt->timeout_s + 3600 : FG_EXPIRY_S);
	/* The first start's token is the build's and stage's; a start after a failure, a new one. */
	if (f->starts == 0)
		snprintf(token, sizeof token, "%s", f->client_token);
	else
		snprintf(token, sizeof token, "%s-s%u", f->client_token, f->starts);
	f->starts++;
	if (fgtask_run(f->aws, f->p, f->st, &run, token, &task, err, errlen) != 0)
		return -1;
	arn = json_string_value(json_object_get(task, "taskArn"));
	if (!arn) {
		snprintf(err, errlen, "ecs RunTask: MalformedResponse: no taskArn");
		json_decref(task);
		return -1;
	}
	/* ECS answers a clientToken it has seen with the task it started then: another `run` of
	 * this build and stage got in between our look for a running task and RunTask. */
	if (fgtask_override_env(task, "STAGEVISOR_STREAM") &&
	    strcmp(fgtask_override_env(task, "STAGEVISOR_STREAM"), f->core->stream_id) != 0) {
		snprintf(err, errlen, "another stagevisor run started stage %s of build %s at the same time (task %s, "
			 "stream %.32s): run it once, or run this command again to attach to that task",
			 f->st->name, f->opt->build_id, fg_task_id(arn), fgtask_override_env(task, "STAGEVISOR_STREAM"));
		json_decref(task);
		return -1;
	}
	snprintf(f->arn, sizeof f->arn, "%s", arn);
	snprintf(f->task_id, sizeof f->task_id, "%s", fg_task_id(arn));
	json_decref(task);
	f->running_noted = false;
	f->watch = taskwatch_new(f->core->state_dir, f->p->aws.cluster, f->arn, err, errlen);
	if (!f->watch)
		return -1;
	f->ra.started = true;
	f->ra.exit_code = -1;
	console_note(f->core->console, state_now_ms(), "stage %s: task %s started (stream %s, ingest %s)", f->st->name,
		     f->task_id, f->core->stream_id, f->url);
	return 0;
}

/* STATE/fargate/runs/<clientToken>/{cert,key}.pem: the identity a re-attach serves again. */
static void fg_cert_paths(const struct fargate *f, char *dir, size_t dlen, char *crt, char *key, size_t len)
{
	/* state_dir is a PATH_MAX buffer; a path cut short fails to open, which is reported. */
	if (snprintf(dir, dlen, "%.3900s/fargate/runs/%s", f->core->state_dir, f->client_token) >= (int)dlen)
		dir[0] = '\0';
	snprintf(crt, len, "%s/cert.pem", dir);
	snprintf(key, len, "%s/key.pem", dir);
}

/* Once the stream is whole or the task has stopped, no agent connects with the saved identity
 * again: its private key is not left on the Jenkins host. */
static void fg_forget_identity(const struct fargate *f)
{
	char dir[PATH_MAX], crt[PATH_MAX + 16], key[PATH_MAX + 16];

	fg_cert_paths(f, dir, sizeof dir, crt, key, sizeof crt);
	if (!dir[0])
		return;
	if ((unlink(key) != 0 && errno != ENOENT) || (unlink(crt) != 0 && errno != ENOENT) ||
	    (rmdir(dir) != 0 && errno != ENOENT))
		console_note(f->core->console, state_now_ms(), "cannot remove the run's TLS identity %.1500s: %s", dir,
			     strerror(errno));
}

/* A new task: definition, ingest port, certificate saved, RunTask. */
static int fg_start_new(struct fargate *f, char *err, size_t errlen)
{
	char dir[PATH_MAX], crt[PATH_MAX + 16], key[PATH_MAX + 16];
	char *td = NULL;
	bool registered = false;
	int rc = -1;

	f->core->cert = cert_new_ephemeral(NULL);
	fg_cert_paths(f, dir, sizeof dir, crt, key, sizeof crt);
	if (!f->core->cert) {
		snprintf(err, errlen, "cannot create the TLS identity");
		return -1;
	}
	if (state_mkdirs(dir) != 0 || cert_save(f->core->cert, crt, key) != 0) {
		snprintf(err, errlen, "%.1500s: %s (needed to re-attach to the task later)", dir, strerror(errno));
		return -1;
	}
	if (fg_bind(f, err, errlen) != 0)
		return -1;
	if (fgtask_ensure_definition(f->aws, f->p, f->st, f->core->state_dir, &td, &registered, err, errlen) != 0)
		return -1;
	console_note(f->core->console, state_now_ms(), "task definition %s (%s)", td,
		     registered ? "registered: the stage's definition changed" : "unchanged, reused");
	rc = fg_start_task(f, td, err, errlen);
	free(td);
	return rc;
}

/* The task already running for this build and stage: its stream, token and URL, the saved
 * certificate, the same port. Without them the run still follows the task (DescribeTasks)
 * and completes the stream from CloudWatch Logs when it stops. */
static void fg_reattach(struct fargate *f, const json_t *task)
{
	char dir[PATH_MAX], crt[PATH_MAX + 16], key[PATH_MAX + 16], err[1024];
	const char *url = fgtask_override_env(task, "STAGEVISOR_URL");
	const char *colon, *arn = json_string_value(json_object_get(task, "taskArn"));
	long port;

	snprintf(f->arn, sizeof f->arn, "%s", arn ? arn : "");
	snprintf(f->task_id, sizeof f->task_id, "%s", fg_task_id(f->arn));
	snprintf(f->url, sizeof f->url, "%s", url ? url : "");
	f->reattached = true;
	f->ra.started = true;
	f->ra.exit_code = -1;
	console_note(f->core->console, state_now_ms(), "stage %s: re-attached to task %s (stream %s, ingest %s)",
		     f->st->name, f->task_id, f->core->stream_id, f->url);
	f->watch = taskwatch_new(f->core->state_dir, f->p->aws.cluster, f->arn, err, sizeof err);
	if (!f->watch)
		console_note(f->core->console, state_now_ms(), "cannot watch the task: %s", err);
	fg_cert_paths(f, dir, sizeof dir, crt, key, sizeof crt);
	f->core->cert = cert_load(crt, key, err, sizeof err);
	colon = url ? strrchr(url, ':') : NULL;
	port = colon ? strtol(colon + 1, NULL, 10) : 0;
	if (!f->core->cert || port <= 0 || port > 65535) {
		console_note(f->core->console, state_now_ms(), "not serving the task's stream here (%s): its results "
			     "will be read from CloudWatch Logs when it stops", f->core->cert ? "no port in its URL"
			     : "the first run's certificate is not in this state directory");
		return;
	}
	if (run_core_serve(f->core, f->opt, f->p->coordinator.listen, (int)port, err, sizeof err) != 0) {
		console_note(f->core->console, state_now_ms(), "%s: the task's results will be read from CloudWatch "
			     "Logs when it stops", err);
		return;
	}
	f->serving = true;
}

/* Signals are caught from the moment the run has its loop: a Ctrl-C during RunTask is seen
 * by the loop, which then stops the task that was started. */
static int fg_events(struct fargate *f)
{
	struct timeval quarter = {0, 250000};
	struct event_base *base = f->core->base;

	f->ev_int = evsignal_new(base, SIGINT, fg_on_signal, f);
	f->ev_term = evsignal_new(base, SIGTERM, fg_on_signal, f);
	f->ev_tick = event_new(base, -1, EV_PERSIST, fg_on_tick, f);
	f->ev_check = event_new(base, -1, 0, fg_on_check, f);
	if (!f->ev_int || !f->ev_term || !f->ev_tick || !f->ev_check || evsignal_add(f->ev_int, NULL) ||
	    evsignal_add(f->ev_term, NULL) || event_add(f->ev_tick, &quarter)) {
		fprintf(stderr, "stagevisor run: cannot set up the event loop\n");
		return REPORT_INFRA;
	}
	return 0;
}

static int fg_setup(struct fargate *f, int *usage)
{
	struct pipeline_error perr;
	struct aws_client_options ao;
	char err[2048], msg[SPECCHECK_OUTPUT_MAX + 64], agentbuf[PATH_MAX];
	const char *agent;
	json_t *task = NULL;
	int k, rc;

	*usage = 0;
	f->p = pipeline_load(f->opt->config, &perr);
	if (!f->p) {
		pipeline_error_format(&perr, err, sizeof err);
		fprintf(stderr, "stagevisor run: --config %s: %s\n", f->opt->config, err);
		*usage = REPORT_USAGE;
		return -1;
	}
	f->st = pipeline_find_stage(f->p, f->opt->stage);
	if (!f->st) {
		size_t n = 0;
		err[0] = '\0';
		for (size_t i = 0; i < f->p->nstages && n < sizeof err; i++)
			n += (size_t)snprintf(err + n, sizeof err - n, "%s%s", i ? ", " : "", f->p->stages[i].name);
		fprintf(stderr, "stagevisor run: --stage %s: %s has no such stage (it has: %s)\n", f->opt->stage,
			f->opt->config, err);
		*usage = REPORT_USAGE;
		return -1;
	}
	/* ${BUILD_ID} in the image: this build's image, in the definition registered and run. */
	if (taskdef_stage_for_build(f->st, f->opt->build_id, &f->stage, f->image, sizeof f->image, err, sizeof err) < 0) {
		fprintf(stderr, "stagevisor run: --config %s: %s\n", f->opt->config, err);
		*usage = REPORT_USAGE;
		return -1;
	}
	f->st = &f->stage;
	/* The spec by the agent itself, before anything is started or written. */
	agent = f->opt->agent ? f->opt->agent : local_default_agent(agentbuf, sizeof agentbuf);
	if (speccheck_run(agent, f->st->spec_path, f->st->spec_path ? NULL : f->st->spec_text, msg, sizeof msg) ==
	    SPECCHECK_INVALID) {
		fprintf(stderr, "stagevisor run: stages.%s.spec is not valid; nothing was started:\n%s\n", f->st->name, msg);
		*usage = REPORT_USAGE;
		return -1;
	}
	if ((rc = run_core_state_dir(f->core, f->opt)) != 0) {
		*usage = rc;
		return -1;
	}
	memset(&ao, 0, sizeof ao);
	ao.profile = f->opt->profile;
	ao.region = f->opt->region ? f->opt->region : f->p->aws.region;
	ao.endpoint_url = f->opt->endpoint_url;
	if (getenv("STAGEVISOR_AWS_BACKOFF_SCALE"))
		ao.backoff_scale = strtod(getenv("STAGEVISOR_AWS_BACKOFF_SCALE"), NULL);
	if (aws_http_global_init() < 0 || !(f->aws = aws_client_new(&ao, err, sizeof err))) {
		fprintf(stderr, "stagevisor run: %s\n", err);
		*usage = REPORT_USAGE;
		return -1;
	}
	taskdef_client_token(f->opt->build_id, f->st->name, f->client_token);

	/* Already running for this build and stage (a coordinator that died, a re-run)? */
	k = fgtask_find(f->aws, f->p->aws.cluster, f->opt->build_id, f->st->name, &task, err, sizeof err);
	if (k == 1 && fgtask_override_env(task, "STAGEVISOR_STREAM") && fgtask_override_env(task, "STAGEVISOR_TOKEN") &&
	    strlen(fgtask_override_env(task, "STAGEVISOR_STREAM")) < sizeof f->core->stream_id &&
	    strlen(fgtask_override_env(task, "STAGEVISOR_TOKEN")) < sizeof f->core->token) {
		snprintf(f->core->stream_id, sizeof f->core->stream_id, "%s", fgtask_override_env(task, "STAGEVISOR_STREAM"));
		snprintf(f->core->token, sizeof f->core->token, "%s", fgtask_override_env(task, "STAGEVISOR_TOKEN"));
		if ((rc = run_core_open(f->core, f->opt, true)) != 0 || (rc = fg_events(f)) != 0)
			goto fatal;
		stream_set_listener(f->core->stream, fg_on_event, f);
		fg_reattach(f, task);
		json_decref(task);
		return 0;
	}
	json_decref(task);
	if ((rc = run_core_mint(f->core)) != 0 || (rc = run_core_open(f->core, f->opt, false)) != 0 ||
	    (rc = fg_events(f)) != 0)
		goto fatal;
	stream_set_listener(f->core->stream, fg_on_event, f);
	if (k < 0 || fg_start_new(f, err, sizeof err) != 0) {
		/* Judged as the local backend's start failures are: an infrastructure case. */
		console_note(f->core->console, state_now_ms(), "cannot start the stage: %s", err);
		run_start_failed(&f->ra, "%s", err);
		return 0;
	}
	return 0;
fatal:
	*usage = rc;
	return -1;
}

int fargate_run(struct run_core *c, const struct run_options *o)
{
	struct fargate *f = calloc(1, sizeof *f);
	const char *knob = getenv("STAGEVISOR_FARGATE_POLL_MS");
	int usage = 0, rc;

	if (!f)
		return REPORT_INFRA;
	f->core = c;
	f->opt = o;
	f->poll_ms = knob && atol(knob) > 0 ? atol(knob) : FARGATE_POLL_MS_DEFAULT;
	if (fg_setup(f, &usage) != 0) {
		rc = usage ? usage : REPORT_INFRA;
		goto out;
	}
	/* A re-attach may have every event already (read back from this host's state). */
	if (f->ra.started && !fg_complete(f))
		event_base_dispatch(c->base);
	rc = run_core_finish(c, o, &f->ra, f->interrupted_by, f->timed_out, f->st->name, f->p->slack_webhook_url,
			     o->branch);
	if (f->client_token[0] && (f->task_stopped || (f->ra.started && fg_complete(f))))
		fg_forget_identity(f);
out:
	if (f->ev_int)
		event_free(f->ev_int);
	if (f->ev_term)
		event_free(f->ev_term);
	if (f->ev_tick)
		event_free(f->ev_tick);
	if (f->ev_check)
		event_free(f->ev_check);
	taskwatch_free(f->watch);
	aws_client_free(f->aws);
	pipeline_free(f->p);
	free(f);
	return rc;
}
