/* fgplay — see fgplay.h. */
#include "fgplay.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/rand.h>

#include "aws/aws_creds.h"
#include "cert.h"
#include "expiry.h"
#include "fargate.h"
#include "fgtask.h"
#include "ingest.h"
#include "local.h"
#include "notify.h"
#include "placeholder.h"
#include "protocol/protocol.h"
#include "report.h"
#include "route53.h"
#include "slug.h"
#include "speccheck.h"
#include "state.h"
#include "stream.h"
#include "taskdef.h"

#define FGP_UP_TIMEOUT_DEFAULT_S 600u
#define FGP_DESCRIBE_EVERY_MS 10000
#define FGP_DETACH_GRACE_MS 1000   /* after ready: the answer carrying "detach" reaches the agent */
#define FGP_ADDRESS_TRIES 30
#define FGP_URL_MAX 512
#define FGP_MAX_SERVICES 64

struct fgp_options {
	const char *action, *config, *name, *stage, *state_dir, *scheme, *agent;
	const char *build_id; /* up: expands ${BUILD_ID} in the stage's image */
	struct fgplay_aws aws;
	unsigned timeout_s, dns_wait_s;
	bool json;
};

void fgplay_usage(void)
{
	printf("usage: stagevisor playground up   --backend fargate --config FILE --name BRANCH [options]\n"
	       "       stagevisor playground down --backend fargate --config FILE --name BRANCH [options]\n"
	       "       stagevisor playground list --backend fargate --config FILE [--json]\n"
	       "\n"
	       "up     runs the pipeline's playground stage as a Fargate task tagged with the branch,\n"
	       "       waits until the agent reports every service process ready (over the stream,\n"
	       "       then tells it to detach: the playground lives on without this command), finds\n"
	       "       the task's address, UPSERTs the A record SLUG.DOMAIN (aws.route53), waits until\n"
	       "       Route 53 reports the change INSYNC, tells Slack, prints the URL and returns.\n"
	       "       A branch already up prints its URL and starts nothing. With playgrounds.max\n"
	       "       already running, the oldest is stopped first (and said so).\n"
	       "down   stops the branch's task and deletes its record; nothing to stop is not an error\n"
	       "list   the running playgrounds from the tasks' tags: branch, URL, started, expires\n"
	       "\n"
	       "  --config FILE       the pipeline config (coordinator/README.md, \"Pipeline config\")\n"
	       "  --name BRANCH       the branch; its slug names the playground\n"
	       "  --stage NAME        the config's stage to run (default \"playground\"); its spec\n"
	       "                      must have \"mode\": \"service\"; ${NAME} ${SLUG} ${HOST} ${URL}\n"
	       "                      in the spec's strings are expanded\n"
	       "  --build-id ID       up: the build whose image runs: ${BUILD_ID} in the stage's\n"
	       "                      image becomes ID made an image tag (default: $BUILD_TAG;\n"
	       "                      needed only when the image has ${BUILD_ID})\n"
	       "  --timeout S         up: wait at most S s for ready (default 600)\n"
	       "  --dns-wait S        up, down: wait at most S s for Route 53 to report the record's\n"
	       "                      change INSYNC (default 300; 0: submit it, do not wait); up\n"
	       "                      past it deletes the record again and stops the task\n"
	       "  --scheme http|https the URL's scheme (default https)\n"
	       "  --state-dir DIR     where task-definition registration locks are kept\n"
	       "  --agent PATH        up: the agent that checks the spec first (`--check`; default:\n"
	       "                      next to this program, then ../agents/, then PATH)\n"
	       "  --profile P, --region R, --endpoint-url URL\n"
	       "                      AWS, as for the AWS CLI (default region: aws.region)\n"
	       "  --json              list: a JSON array\n"
	       "\n"
	       "Playgrounds expire at the next playgrounds.close_of_business in playgrounds.timezone\n"
	       "(the stagevisor:expires tag); `stagevisor teardown` stops them then.\n"
	       "Exit codes: 0 done, 2 usage or config error, 3 AWS or the playground failed (up: its\n"
	       "task is stopped again), 128+n interrupted by signal n (up: its task is stopped).\n");
}

/* --- shared helpers -------------------------------------------------------------------- */

struct aws_client *fgplay_client(const struct pipeline *p, const struct fgplay_aws *a, char *err, size_t errlen)
{
	struct aws_client_options o;
	const char *scale = getenv("STAGEVISOR_AWS_BACKOFF_SCALE");

	memset(&o, 0, sizeof o);
	o.profile = a ? a->profile : NULL;
	o.region = a && a->region ? a->region : p->aws.region;
	o.endpoint_url = a ? a->endpoint_url : NULL;
	if (scale && *scale)
		o.backoff_scale = strtod(scale, NULL);
	if (aws_http_global_init() < 0) {
		snprintf(err, errlen, "cannot initialise libcurl");
		return NULL;
	}
	return aws_client_new(&o, err, errlen);
}

const char *fgplay_task_slug(const json_t *task)
{
	const char *v = fgtask_tag(task, FGPLAY_TAG_PLAYGROUND);
	const char *b = fgtask_tag(task, TASKDEF_TAG_BUILD);

	if (v && *v)
		return v;
	if (b && strncmp(b, FGPLAY_BUILD_PREFIX, strlen(FGPLAY_BUILD_PREFIX)) == 0 && b[strlen(FGPLAY_BUILD_PREFIX)])
		return b + strlen(FGPLAY_BUILD_PREFIX);
	return NULL;
}

int fgplay_fqdn(const struct pipeline *p, const char *slug, char *buf, size_t len)
{
	if (!p->aws.route53 || !slug)
		return -1;
	if (snprintf(buf, len, "%s.%s", slug, p->aws.route53->domain) >= (int)len)
		return -1;
	return 0;
}

long long fgplay_task_started(const json_t *task)
{
	static const char *const keys[] = {"startedAt", "createdAt"};
	long long t;
	time_t when;

	for (size_t i = 0; i < 2; i++) {
		const json_t *v = json_object_get(task, keys[i]);
		if (json_is_number(v) && json_number_value(v) > 0)
			return (long long)json_number_value(v);
		if (json_is_string(v) && aws_creds_parse_time(json_string_value(v), &when) == 0 && when > 0)
			return (long long)when;
	}
	/* moto gives neither: the tag `up` adds (UTC seconds). */
	if (expiry_parse_tag(fgtask_tag(task, FGPLAY_TAG_STARTED), &t) == 0)
		return t;
	return 0;
}

const char *fgplay_task_id(const json_t *task)
{
	const char *arn = json_string_value(json_object_get(task, "taskArn"));
	const char *slash = arn ? strrchr(arn, '/') : NULL;

	return slash ? slash + 1 : arn ? arn : "?";
}

int fgplay_remove(struct aws_client *c, const struct pipeline *p, const json_t *task, const char *reason,
		  FILE *out, char *err, size_t errlen)
{
	const char *arn = json_string_value(json_object_get(task, "taskArn"));
	const char *desired = json_string_value(json_object_get(task, "desiredStatus"));
	const char *slug = fgplay_task_slug(task);
	char fqdn[ROUTE53_NAME_MAX + 1];
	bool deleted = false;

	if (arn && (!desired || strcmp(desired, "STOPPED") != 0)) {
		if (fgtask_stop(c, p->aws.cluster, arn, reason, err, errlen) < 0)
			return -1;
		fprintf(out, "stopped task %s\n", fgplay_task_id(task));
	}
	if (fgplay_fqdn(p, slug, fqdn, sizeof fqdn) < 0)
		return 0;
	if (route53_delete(c, p->aws.route53->zone_id, fqdn, ROUTE53_WAIT_DEFAULT_S, out, &deleted, err, errlen) < 0)
		return -1;
	fprintf(out, deleted ? "deleted record %s\n" : "no record %s to delete\n", fqdn);
	fflush(out);
	return 0;
}

/* --- the playground's names and spec -------------------------------------------------------- */

struct fgp {
	struct fgp_options opt;
	struct pipeline *p;
	const struct pipeline_stage *stage;
	struct aws_client *c;
	char slug[SLUG_MAX + 1];
	char fqdn[ROUTE53_NAME_MAX + 1];
	char url[FGP_URL_MAX];
	char state_dir[PATH_MAX];
};

static int fgp_url_for(const struct fgp *g, const char *host, char *buf, size_t len)
{
	return snprintf(buf, len, "%s://%s/", g->opt.scheme, host) >= (int)len ? -1 : 0;
}

/* Running tasks of this tool that are playgrounds (new reference to an array). */
static json_t *fgp_playgrounds(struct fgp *g, char *err, size_t errlen)
{
	json_t *tasks = NULL, *out = json_array(), *t;
	size_t i;

	if (!out || fgtask_list(g->c, g->p->aws.cluster, false, &tasks, err, errlen) < 0) {
		json_decref(out);
		return NULL;
	}
	json_array_foreach(tasks, i, t) {
		const char *desired = json_string_value(json_object_get(t, "desiredStatus"));
		if (fgplay_task_slug(t) && (!desired || strcmp(desired, "RUNNING") == 0))
			json_array_append(out, t);
	}
	json_decref(tasks);
	return out;
}

/* The running playground tasks of g's slug (new reference). */
static json_t *fgp_mine(struct fgp *g, const json_t *all)
{
	json_t *out = json_array(), *t;
	size_t i;

	json_array_foreach((json_t *)all, i, t) {
		const char *s = fgplay_task_slug(t);
		if (s && strcmp(s, g->slug) == 0)
			json_array_append(out, t);
	}
	return out;
}

/* --- up ---------------------------------------------------------------------------------- */

struct fgp_up {
	struct fgp *g;
	struct event_base *base;
	struct stream *stream;
	char **services;
	bool *ready;
	size_t nservices;
	bool started, failed, is_ready, task_stopped;
	long long ready_ms, deadline_ms, next_describe_ms;
	int interrupted_by;
	char why[512];
	char task_arn[512];
};

static bool fgp_all_ready(const struct fgp_up *u)
{
	if (!u->started)
		return false;
	for (size_t i = 0; i < u->nservices; i++)
		if (!u->ready[i])
			return false;
	return true;
}

/* Every event the stream stores: the stage and its service processes becoming ready. */
static void fgp_on_event(void *arg, const json_t *ev)
{
	struct fgp_up *u = arg;
	const char *type = json_string_value(json_object_get(ev, "type"));
	const char *what = json_string_value(json_object_get(ev, "event"));
	const char *proc = json_string_value(json_object_get(ev, "process"));

	if (!type || !what)
		return;
	if (strcmp(type, "stage") == 0) {
		if (strcmp(what, "started") == 0) {
			u->started = true;
		} else if (!u->is_ready && !u->failed) {
			u->failed = true;
			snprintf(u->why, sizeof u->why, "the stage is %s before it was ready", what);
		}
	} else if (strcmp(type, "process") == 0 && proc) {
		if (strcmp(what, "ready") == 0) {
			for (size_t i = 0; i < u->nservices; i++)
				if (strcmp(u->services[i], proc) == 0)
					u->ready[i] = true;
		} else if (strcmp(what, "failed") == 0 && !u->is_ready && !u->failed) {
			const char *reason = json_string_value(json_object_get(ev, "reason"));
			u->failed = true;
			snprintf(u->why, sizeof u->why, "process %s failed: %s", proc, reason ? reason : "");
		}
	}
	if (!u->is_ready && !u->failed && fgp_all_ready(u)) {
		/* The answer to this very batch carries the flag: the agent stops streaming and the
		 * stage goes on by itself. */
		u->is_ready = true;
		u->ready_ms = state_now_ms();
		stream_set_detach(u->stream, true);
	}
}

static void fgp_describe(struct fgp_up *u)
{
	const char *arns[1] = {u->task_arn};
	json_t *out = NULL, *t;
	const char *last;

	if (fgtask_describe(u->g->c, u->g->p->aws.cluster, arns, 1, &out) < 0) {
		json_decref(out);
		return; /* a slow reconciliation: the next one may work */
	}
	t = json_array_get(json_object_get(out, "tasks"), 0);
	last = json_string_value(json_object_get(t, "lastStatus"));
	if (last && strcmp(last, "STOPPED") == 0 && !u->failed) {
		const char *reason = json_string_value(json_object_get(t, "stoppedReason"));
		u->failed = true;
		u->task_stopped = true;
		snprintf(u->why, sizeof u->why, "the task stopped before the playground was ready%s%s",
			 reason ? ": " : "", reason ? reason : "");
	}
	json_decref(out);
}

static void fgp_on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct fgp_up *u = arg;
	long long now = state_now_ms();

	(void)fd;
	(void)what;
	if (u->is_ready) {
		if (now - u->ready_ms >= FGP_DETACH_GRACE_MS)
			event_base_loopbreak(u->base);
		return;
	}
	if (now >= u->next_describe_ms) {
		u->next_describe_ms = now + FGP_DESCRIBE_EVERY_MS;
		fgp_describe(u);
	}
	if (!u->failed && now > u->deadline_ms) {
		u->failed = true;
		snprintf(u->why, sizeof u->why, "not ready within %u s", u->g->opt.timeout_s);
	}
	if (u->failed)
		event_base_loopbreak(u->base);
}

static void fgp_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct fgp_up *u = arg;

	(void)what;
	u->interrupted_by = (int)sig;
	event_base_loopbreak(u->base);
}

/* The service processes of a spec: they must all report ready. */
static int fgp_services(const char *spec_text, struct fgp_up *u, char *err, size_t errlen)
{
	json_t *spec = json_loads(spec_text, 0, NULL), *procs, *pr;
	const char *mode;
	size_t i;
	int rc = -1;

	mode = json_string_value(json_object_get(spec, "mode"));
	if (!mode || strcmp(mode, "service") != 0) {
		snprintf(err, errlen, "a playground needs \"mode\": \"service\"");
		goto done;
	}
	procs = json_object_get(spec, "processes");
	u->services = calloc(FGP_MAX_SERVICES, sizeof *u->services);
	u->ready = calloc(FGP_MAX_SERVICES, sizeof *u->ready);
	if (!u->services || !u->ready) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	json_array_foreach(procs, i, pr) {
		const char *role = json_string_value(json_object_get(pr, "role"));
		const char *name = json_string_value(json_object_get(pr, "name"));
		if (!name || !role || strcmp(role, "service") != 0)
			continue;
		if (u->nservices == FGP_MAX_SERVICES || !(u->services[u->nservices] = strdup(name))) {
			snprintf(err, errlen, "more than %d service processes", FGP_MAX_SERVICES);
			goto done;
		}
		u->nservices++;
	}
	rc = 0;
done:
	json_decref(spec);
	return rc;
}

/* Stops the oldest playgrounds (other than g's) until one more fits playgrounds.max. */
static int fgp_make_room(struct fgp *g, json_t *all)
{
	char err[1024];
	int rc = 0;

	while (json_array_size(all) >= g->p->playgrounds.max) {
		size_t oldest = 0, i;
		long long best = 0;
		json_t *t;

		json_array_foreach(all, i, t) {
			long long s = fgplay_task_started(t);
			if (i == 0 || (s && (s < best || best == 0))) {
				best = s;
				oldest = i;
			}
		}
		t = json_array_get(all, oldest);
		{
			char when[32];
			const char *branch = fgtask_tag(t, TASKDEF_TAG_BRANCH);
			expiry_format_utc(best, when, sizeof when);
			printf("playgrounds.max is %u and %zu are up: stopping the oldest, %s (task %s, started %s)\n",
			       g->p->playgrounds.max, json_array_size(all), branch ? branch : fgplay_task_slug(t),
			       fgplay_task_id(t), best ? when : "at an unknown time");
		}
		if (fgplay_remove(g->c, g->p, t, "stagevisor: playgrounds.max reached, the oldest playground makes room",
				  stdout, err, sizeof err) < 0) {
			fprintf(stderr, "stagevisor playground up: %s\n", err);
			rc = -1;
		}
		json_array_remove(all, oldest);
	}
	return rc;
}

/* The stage with its spec's placeholders expanded (spec_text owned by *copy). */
static int fgp_stage_copy(struct fgp *g, const char *branch, struct pipeline_stage *copy, char *err, size_t errlen)
{
	const char *host = g->fqdn[0] ? g->fqdn : g->slug;
	struct placeholder_var vars[] = {
		{"NAME", branch}, {"SLUG", g->slug}, {"HOST", host}, {"URL", g->url}};
	char *text;

	*copy = *g->stage;
	text = placeholder_expand_json(g->stage->spec_text, vars, sizeof vars / sizeof vars[0],
				       TASKDEF_OVERRIDES_MAX, NULL, err, errlen);
	if (!text)
		return -1;
	copy->spec_text = text;
	return 0;
}

static int fgp_tag_marker(struct fgp *g, const char *arn, char *err, size_t errlen)
{
	char now[24];
	json_t *in;

	snprintf(now, sizeof now, "%lld", (long long)time(NULL));
	in = json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s}]}", "resourceArn", arn, "tags", "key", FGPLAY_TAG_PLAYGROUND,
		       "value", g->slug, "key", FGPLAY_TAG_STARTED, "value", now);
	json_t *out = NULL;
	struct aws_result r;
	int rc;

	memset(&r, 0, sizeof r);
	rc = in ? aws_client_json(g->c, "ecs", "TagResource", in, &out, &r) : -1;
	if (rc < 0)
		aws_error_format(&r.error, "ecs", "TagResource", err, errlen);
	aws_result_clear(&r);
	json_decref(in);
	json_decref(out);
	return rc;
}

/* The task's address once ECS knows it (DescribeTasks until its ENI has one). */
static int fgp_address(struct fgp *g, const char *arn, char *ip, size_t iplen, char *err, size_t errlen)
{
	for (int i = 0; i < FGP_ADDRESS_TRIES; i++) {
		const char *arns[1] = {arn};
		json_t *out = NULL, *t;
		int rc = -1;

		if (fgtask_describe(g->c, g->p->aws.cluster, arns, 1, &out) == 0) {
			t = json_array_get(json_object_get(out, "tasks"), 0);
			rc = t ? fgtask_address(g->c, t, g->p->aws.assign_public_ip, ip, iplen, err, errlen) : -1;
		} else {
			snprintf(err, errlen, "DescribeTasks failed for %s", arn);
		}
		json_decref(out);
		if (rc == 0)
			return 0;
		struct timespec ts = {1, 0};
		nanosleep(&ts, NULL);
	}
	return -1;
}

static void fgp_notify(struct fgp *g, struct stream *s, const char *branch)
{
	struct report rep;

	if (!g->p->slack_webhook_url)
		return;
	memset(&rep, 0, sizeof rep);
	rep.stage = g->stage->name;
	rep.result = "passed";
	rep.exit_code = REPORT_PASSED;
	rep.tally = stream_tally(s);
	rep.complete = false; /* a playground's stream goes on without us */
	rep.agent_result = -1;
	notify_stage(g->p->slack_webhook_url, &rep, s, branch, g->url, stderr);
}

/* STATE/fargate/playground-<slug>.lock, held (flock) by an `up` from its "already up?" check to
 * its end, so that two `up`s of one branch on this host start one task: the second waits, then
 * finds the first's playground. -1 with a message on stderr. */
static int fgp_lock(struct fgp *g)
{
	char dir[PATH_MAX], path[PATH_MAX + 96];
	int fd;

	if (snprintf(dir, sizeof dir, "%s/fargate", g->state_dir) >= (int)sizeof dir || state_mkdirs(dir) < 0 ||
	    snprintf(path, sizeof path, "%s/playground-%s.lock", dir, g->slug) >= (int)sizeof path) {
		fprintf(stderr, "stagevisor playground up: cannot create %s: %s\n", dir, strerror(errno));
		return -1;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "stagevisor playground up: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		printf("playground %s: another `up` of it is running on this host; waiting for it\n", g->opt.name);
		fflush(stdout);
		if (flock(fd, LOCK_EX) < 0) {
			fprintf(stderr, "stagevisor playground up: %s: %s\n", path, strerror(errno));
			close(fd);
			return -1;
		}
	}
	return fd;
}

/* up failed after its record was submitted: the name must not outlive the task it points at. */
static void fgp_unname(struct fgp *g)
{
	char err[1024];
	bool deleted = false;

	if (route53_delete(g->c, g->p->aws.route53->zone_id, g->fqdn, 0, stdout, &deleted, err, sizeof err) < 0)
		fprintf(stderr, "stagevisor playground up: could not delete record %s: %s (`stagevisor teardown` "
			"removes it later)\n", g->fqdn, err);
	else if (deleted)
		printf("playground %s: deleted record %s again\n", g->opt.name, g->fqdn);
	fflush(stdout);
}

static int fgp_up(struct fgp *g)
{
	struct fgp_up u;
	struct pipeline_stage st;
	struct cert *cert = NULL;
	SSL_CTX *ctx = NULL;
	struct ingest *in = NULL;
	struct event *ev_tick = NULL, *ev_int = NULL, *ev_term = NULL;
	json_t *all = NULL, *mine = NULL, *task = NULL;
	char err[1024], stream_id[32], token[PR_TOKEN_LEN + 1], agent_url[FGP_URL_MAX], client_token[44];
	char build_id[96], ip[64], when[32], image[TASKDEF_IMAGE_MAX + 1];
	char *def_arn = NULL;
	unsigned char random[PR_TOKEN_RANDOM];
	struct taskdef_run run;
	long long expires;
	bool registered = false, task_started = false;
	int rc = REPORT_INFRA, port = -1, lock = -1;

	memset(&u, 0, sizeof u);
	memset(&st, 0, sizeof st);
	u.g = g;
	if (fgp_stage_copy(g, g->opt.name, &st, err, sizeof err) < 0) {
		fprintf(stderr, "stagevisor playground up: stages.%s.spec: %s\n", g->stage->name, err);
		rc = REPORT_USAGE;
		goto done;
	}
	/* ${BUILD_ID} in the image: the build's image (taskdef_expand_image, as `run` does). */
	if (taskdef_expand_image(&st, g->opt.build_id, image, sizeof image, err, sizeof err) < 0) {
		fprintf(stderr, "stagevisor playground up: %s: %s\n", g->opt.config, err);
		rc = REPORT_USAGE;
		goto done;
	}
	st.image = image;
	/* The spec as the agent will get it, checked by the agent itself before anything starts. */
	{
		char agentbuf[PATH_MAX], msg[SPECCHECK_OUTPUT_MAX];
		const char *agent = g->opt.agent ? g->opt.agent : local_default_agent(agentbuf, sizeof agentbuf);
		if (speccheck_run(agent, NULL, st.spec_text, msg, sizeof msg) == SPECCHECK_INVALID) {
			fprintf(stderr, "stagevisor playground up: stages.%s.spec is not valid; nothing was started:\n%s\n",
				g->stage->name, msg);
			rc = REPORT_USAGE;
			goto done;
		}
	}
	if (fgp_services(g->stage->spec_text, &u, err, sizeof err) < 0) {
		fprintf(stderr, "stagevisor playground up: stages.%s.spec: %s\n", g->stage->name, err);
		rc = REPORT_USAGE;
		goto done;
	}
	if (expiry_next_close((long long)time(NULL), g->p->playgrounds.timezone, g->p->playgrounds.close_of_business_min,
			      NULL, &expires, err, sizeof err) < 0) {
		fprintf(stderr, "stagevisor playground up: playgrounds.timezone: %s\n", err);
		rc = REPORT_USAGE;
		goto done;
	}

	/* Already up? Then its URL, and nothing started. */
	if ((lock = fgp_lock(g)) < 0)
		goto done;
	if (!(all = fgp_playgrounds(g, err, sizeof err))) {
		fprintf(stderr, "stagevisor playground up: %s\n", err);
		goto done;
	}
	mine = fgp_mine(g, all);
	if (json_array_size(mine) > 0) {
		json_t *t = json_array_get(mine, 0);
		char rip[64];
		unsigned ttl;
		int found = g->fqdn[0] ? route53_find(g->c, g->p->aws.route53->zone_id, g->fqdn, rip, sizeof rip, &ttl,
						      err, sizeof err) : 1;
		if (found < 0) {
			fprintf(stderr, "stagevisor playground up: %s\n", err);
			goto done;
		}
		if (found == 0) {
			fprintf(stderr, "stagevisor playground up: %s has a task (%s) but no record %s yet: another "
				"`up` is starting it, or it failed half-way (`playground down` it to start again)\n",
				g->opt.name, fgplay_task_id(t), g->fqdn);
			goto done;
		}
		if (!g->fqdn[0]) { /* no Route 53: the URL is the task's address */
			if (fgtask_address(g->c, t, g->p->aws.assign_public_ip, rip, sizeof rip, err, sizeof err) < 0 ||
			    fgp_url_for(g, rip, g->url, sizeof g->url) < 0) {
				fprintf(stderr, "stagevisor playground up: %s is up (task %s) but its address is not "
					"known: %s\n", g->opt.name, fgplay_task_id(t), err);
				goto done;
			}
		}
		printf("playground %s is already up (task %s)\n%s\n", g->opt.name, fgplay_task_id(t), g->url);
		rc = 0;
		goto done;
	}
	if (fgp_make_room(g, all) < 0)
		goto done;

	/* The stream the agent will send to. */
	memcpy(stream_id, "sv-", 3);
	if (local_random_hex(stream_id + 3, 16) || RAND_bytes(random, sizeof random) != 1) {
		fprintf(stderr, "stagevisor playground up: no randomness for the token\n");
		goto done;
	}
	pr_token_format(random, token);
	u.stream = stream_new(stream_id, NULL, 0);
	u.base = event_base_new();
	cert = cert_new_ephemeral(NULL);
	ctx = cert ? cert_server_ctx(cert) : NULL;
	in = ctx && u.base ? ingest_new(u.base, ctx, NULL) : NULL;
	if (!u.stream || !in) {
		fprintf(stderr, "stagevisor playground up: cannot set up the ingest server\n");
		goto done;
	}
	stream_set_listener(u.stream, fgp_on_event, &u);
	for (unsigned pt = g->p->coordinator.port_first; pt <= g->p->coordinator.port_last; pt++)
		if (ingest_listen(in, g->p->coordinator.listen, (int)pt) == 0) {
			port = (int)pt;
			break;
		}
	if (port < 0) {
		fprintf(stderr, "stagevisor playground up: no free port in coordinator.ports %u-%u on %s\n",
			g->p->coordinator.port_first, g->p->coordinator.port_last, g->p->coordinator.listen);
		goto done;
	}
	if (ingest_add_stream(in, u.stream, token) < 0 ||
	    fargate_agent_url(g->p->coordinator.advertise, (unsigned)port, agent_url, sizeof agent_url) < 0) {
		fprintf(stderr, "stagevisor playground up: coordinator.advertise: cannot add port %d to it\n", port);
		goto done;
	}

	/* The task. */
	if (fgtask_ensure_definition(g->c, g->p, &st, g->state_dir, &def_arn, &registered, err, sizeof err) < 0) {
		fprintf(stderr, "stagevisor playground up: %s\n", err);
		goto done;
	}
	snprintf(build_id, sizeof build_id, "%s%s", FGPLAY_BUILD_PREFIX, g->slug);
	memset(&run, 0, sizeof run);
	run.build_id = build_id;
	run.branch = g->opt.name;
	run.stream = stream_id;
	run.token = token;
	run.url = agent_url;
	run.pin = cert_fingerprint(cert);
	run.task_definition = def_arn;
	run.expires_at = expires;
	/* A new token per `up` (the stream id): a playground brought down and up again is a new task. */
	taskdef_client_token(stream_id, st.name, client_token);
	if (fgtask_run(g->c, g->p, &st, &run, client_token, &task, err, sizeof err) < 0) {
		fprintf(stderr, "stagevisor playground up: %s\n", err);
		goto done;
	}
	task_started = true;
	snprintf(u.task_arn, sizeof u.task_arn, "%s", json_string_value(json_object_get(task, "taskArn")));
	if (fgp_tag_marker(g, u.task_arn, err, sizeof err) < 0)
		fprintf(stderr, "stagevisor playground up: warning: %s (the build tag still marks it)\n", err);
	expiry_format_utc(expires, when, sizeof when);
	printf("playground %s: task %s (%s%s), stream %s, ingest %s; expires %s; waiting for ready\n", g->opt.name,
	       fgplay_task_id(task), def_arn, registered ? ", registered" : "", stream_id, agent_url, when);
	fflush(stdout);

	/* Until every service process is ready (or it fails, or time runs out). */
	u.deadline_ms = state_now_ms() + (long long)g->opt.timeout_s * 1000;
	u.next_describe_ms = state_now_ms() + FGP_DESCRIBE_EVERY_MS;
	ev_tick = event_new(u.base, -1, EV_PERSIST, fgp_on_tick, &u);
	ev_int = evsignal_new(u.base, SIGINT, fgp_on_signal, &u);
	ev_term = evsignal_new(u.base, SIGTERM, fgp_on_signal, &u);
	if (!ev_tick || !ev_int || !ev_term || evsignal_add(ev_int, NULL) || evsignal_add(ev_term, NULL)) {
		fprintf(stderr, "stagevisor playground up: cannot set up the event loop\n");
		goto done;
	}
	{
		struct timeval quarter = {0, 250000};
		event_add(ev_tick, &quarter);
	}
	event_base_dispatch(u.base);
	if (u.interrupted_by) {
		fprintf(stderr, "stagevisor playground up: interrupted by signal %d: stopping the task\n", u.interrupted_by);
		rc = 128 + u.interrupted_by;
		goto done;
	}
	if (!u.is_ready) {
		fprintf(stderr, "stagevisor playground up: %s: %s\n", g->opt.name, u.why);
		goto done;
	}
	printf("playground %s: every service is ready; the agent is detached\n", g->opt.name);

	/* Its name. */
	if (fgp_address(g, u.task_arn, ip, sizeof ip, err, sizeof err) < 0) {
		fprintf(stderr, "stagevisor playground up: the task's address: %s\n", err);
		goto done;
	}
	if (g->fqdn[0]) {
		printf("Route 53: UPSERT %s A %s\n", g->fqdn, ip);
		fflush(stdout);
		if (route53_upsert(g->c, g->p->aws.route53->zone_id, g->fqdn, ip, ROUTE53_TTL_DEFAULT,
				   g->opt.dns_wait_s, stdout, err, sizeof err) < 0) {
			fprintf(stderr, "stagevisor playground up: %s\n", err);
			fgp_unname(g);
			goto done;
		}
	} else {
		fgp_url_for(g, ip, g->url, sizeof g->url);
	}
	fgp_notify(g, u.stream, g->opt.name);
	printf("playground %s is up: %s (task %s, address %s, expires %s)\n%s\n", g->opt.name, g->url,
	       fgplay_task_id(task), ip, when, g->url);
	rc = 0;
done:
	if (rc != 0 && task_started && u.task_arn[0] && !u.task_stopped) {
		char e2[512];
		if (fgtask_stop(g->c, g->p->aws.cluster, u.task_arn, "stagevisor playground up failed", e2, sizeof e2) < 0)
			fprintf(stderr, "stagevisor playground up: could not stop task %s: %s\n", u.task_arn, e2);
		else
			fprintf(stderr, "stagevisor playground up: stopped task %s\n", u.task_arn);
	}
	if (ev_tick)
		event_free(ev_tick);
	if (ev_int)
		event_free(ev_int);
	if (ev_term)
		event_free(ev_term);
	ingest_free(in);
	SSL_CTX_free(ctx);
	cert_free(cert);
	stream_free(u.stream);
	if (u.base)
		event_base_free(u.base);
	for (size_t i = 0; i < u.nservices; i++)
		free(u.services[i]);
	free(u.services);
	free(u.ready);
	free(st.spec_text);
	free(def_arn);
	json_decref(task);
	json_decref(all);
	json_decref(mine);
	if (lock >= 0)
		close(lock);
	return rc;
}

/* --- down, list -------------------------------------------------------------------------- */

static int fgp_down(struct fgp *g)
{
	json_t *all, *mine, *t;
	char err[1024];
	size_t i;
	int rc = 0;
	bool deleted = false;

	if (!(all = fgp_playgrounds(g, err, sizeof err))) {
		fprintf(stderr, "stagevisor playground down: %s\n", err);
		return REPORT_INFRA;
	}
	mine = fgp_mine(g, all);
	json_array_foreach(mine, i, t) {
		const char *arn = json_string_value(json_object_get(t, "taskArn"));
		if (fgtask_stop(g->c, g->p->aws.cluster, arn, "stagevisor playground down", err, sizeof err) < 0) {
			fprintf(stderr, "stagevisor playground down: %s\n", err);
			rc = REPORT_INFRA;
		} else {
			printf("playground %s: stopped task %s\n", g->opt.name, fgplay_task_id(t));
		}
	}
	if (json_array_size(mine) == 0)
		printf("playground %s: no task running\n", g->opt.name);
	if (g->fqdn[0]) {
		if (route53_delete(g->c, g->p->aws.route53->zone_id, g->fqdn, g->opt.dns_wait_s, stdout, &deleted, err,
				   sizeof err) < 0) {
			fprintf(stderr, "stagevisor playground down: %s\n", err);
			rc = REPORT_INFRA;
		} else {
			printf(deleted ? "playground %s: deleted record %s\n" : "playground %s: no record %s\n", g->opt.name,
			       g->fqdn);
		}
	}
	json_decref(mine);
	json_decref(all);
	return rc;
}

static int fgp_list(struct fgp *g)
{
	json_t *all, *t, *rows = json_array();
	char err[1024];
	size_t i;

	if (!(all = fgp_playgrounds(g, err, sizeof err))) {
		fprintf(stderr, "stagevisor playground list: %s\n", err);
		json_decref(rows);
		return REPORT_INFRA;
	}
	json_array_foreach(all, i, t) {
		const char *slug = fgplay_task_slug(t), *branch = fgtask_tag(t, TASKDEF_TAG_BRANCH);
		const char *last = json_string_value(json_object_get(t, "lastStatus"));
		char fqdn[ROUTE53_NAME_MAX + 1], url[FGP_URL_MAX], started[32] = "-", expires[32] = "-";
		long long s = fgplay_task_started(t), e;

		if (fgplay_fqdn(g->p, slug, fqdn, sizeof fqdn) < 0 || fgp_url_for(g, fqdn, url, sizeof url) < 0)
			snprintf(url, sizeof url, "-");
		if (s)
			expiry_format_utc(s, started, sizeof started);
		if (expiry_parse_tag(fgtask_tag(t, TASKDEF_TAG_EXPIRES), &e) == 0)
			expiry_format_utc(e, expires, sizeof expires);
		json_array_append_new(rows, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "branch",
						      branch ? branch : slug, "slug", slug, "url", url, "started", started,
						      "expires", expires, "task", fgplay_task_id(t), "status",
						      last ? last : "?"));
	}
	if (g->opt.json) {
		char *text = json_dumps(rows, JSON_INDENT(2));
		printf("%s\n", text ? text : "[]");
		free(text);
	} else if (json_array_size(rows) == 0) {
		printf("no playgrounds are up\n");
	} else {
		printf("%-32s %-48s %-21s %-21s %s\n", "BRANCH", "URL", "STARTED", "EXPIRES", "STATUS");
		json_array_foreach(rows, i, t)
			printf("%-32s %-48s %-21s %-21s %s\n", json_string_value(json_object_get(t, "branch")),
			       json_string_value(json_object_get(t, "url")),
			       json_string_value(json_object_get(t, "started")),
			       json_string_value(json_object_get(t, "expires")),
			       json_string_value(json_object_get(t, "status")));
	}
	json_decref(rows);
	json_decref(all);
	return 0;
}

/* --- the command ----------------------------------------------------------------------------- */

int fgplay_command(int argc, char **argv)
{
	enum { O_BACKEND = 256, O_CONFIG, O_NAME, O_STAGE, O_STATE, O_TIMEOUT, O_JSON, O_SCHEME, O_AGENT, O_PROFILE,
	       O_REGION, O_ENDPOINT, O_BUILD_ID, O_DNS_WAIT, O_HELP };
	static const struct option longopts[] = {
		{"backend", required_argument, NULL, O_BACKEND}, {"config", required_argument, NULL, O_CONFIG},
		{"name", required_argument, NULL, O_NAME}, {"stage", required_argument, NULL, O_STAGE},
		{"state-dir", required_argument, NULL, O_STATE}, {"timeout", required_argument, NULL, O_TIMEOUT},
		{"json", no_argument, NULL, O_JSON}, {"scheme", required_argument, NULL, O_SCHEME},
		{"agent", required_argument, NULL, O_AGENT}, {"profile", required_argument, NULL, O_PROFILE},
		{"region", required_argument, NULL, O_REGION}, {"endpoint-url", required_argument, NULL, O_ENDPOINT},
		{"build-id", required_argument, NULL, O_BUILD_ID}, {"dns-wait", required_argument, NULL, O_DNS_WAIT},
		{"help", no_argument, NULL, O_HELP},
		{NULL, 0, NULL, 0}};
	struct fgp g;
	struct pipeline_error pe;
	char err[1024];
	size_t maxlen;
	int c, rc = REPORT_USAGE;
	char *end;

	memset(&g, 0, sizeof g);
	g.opt.stage = FGPLAY_STAGE_DEFAULT;
	g.opt.scheme = "https";
	g.opt.timeout_s = FGP_UP_TIMEOUT_DEFAULT_S;
	g.opt.dns_wait_s = ROUTE53_WAIT_DEFAULT_S;
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fgplay_usage();
		return argc < 2 ? REPORT_USAGE : 0;
	}
	g.opt.action = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case O_BACKEND: break; /* fargate: how we got here */
		case O_CONFIG: g.opt.config = optarg; break;
		case O_NAME: g.opt.name = optarg; break;
		case O_STAGE: g.opt.stage = optarg; break;
		case O_STATE: g.opt.state_dir = optarg; break;
		case O_JSON: g.opt.json = true; break;
		case O_AGENT: g.opt.agent = optarg; break;
		case O_BUILD_ID: g.opt.build_id = optarg; break;
		case O_PROFILE: g.opt.aws.profile = optarg; break;
		case O_REGION: g.opt.aws.region = optarg; break;
		case O_ENDPOINT: g.opt.aws.endpoint_url = optarg; break;
		case O_SCHEME:
			if (strcmp(optarg, "http") != 0 && strcmp(optarg, "https") != 0) {
				fprintf(stderr, "stagevisor playground: --scheme: expected http or https, got \"%s\"\n", optarg);
				return REPORT_USAGE;
			}
			g.opt.scheme = optarg;
			break;
		case O_TIMEOUT:
			errno = 0;
			g.opt.timeout_s = (unsigned)strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || g.opt.timeout_s == 0) {
				fprintf(stderr, "stagevisor playground: --timeout: expected seconds, got \"%s\"\n", optarg);
				return REPORT_USAGE;
			}
			break;
		case O_DNS_WAIT:
			errno = 0;
			g.opt.dns_wait_s = (unsigned)strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || optarg[0] == '-' || g.opt.dns_wait_s > 86400) {
				fprintf(stderr, "stagevisor playground: --dns-wait: expected seconds (0 to 86400), got "
					"\"%s\"\n", optarg);
				return REPORT_USAGE;
			}
			break;
		case 'h':
		case O_HELP: fgplay_usage(); return 0;
		default: return REPORT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "stagevisor playground: unexpected argument: %s\n", argv[optind]);
		return REPORT_USAGE;
	}
	if (strcmp(g.opt.action, "up") != 0 && strcmp(g.opt.action, "down") != 0 && strcmp(g.opt.action, "list") != 0) {
		fprintf(stderr, "stagevisor playground: unknown action %s (up, down, list)\n", g.opt.action);
		return REPORT_USAGE;
	}
	if (!g.opt.build_id || !*g.opt.build_id)
		g.opt.build_id = getenv("BUILD_TAG");
	if (!g.opt.config) {
		fprintf(stderr, "stagevisor playground %s: --backend fargate needs --config FILE\n", g.opt.action);
		return REPORT_USAGE;
	}
	if (strcmp(g.opt.action, "list") != 0 && (!g.opt.name || !*g.opt.name)) {
		fprintf(stderr, "stagevisor playground %s: --name BRANCH is required\n", g.opt.action);
		return REPORT_USAGE;
	}
	g.p = pipeline_load(g.opt.config, &pe);
	if (!g.p) {
		pipeline_error_format(&pe, err, sizeof err);
		fprintf(stderr, "stagevisor playground %s: %s: %s\n", g.opt.action, g.opt.config, err);
		return REPORT_USAGE;
	}
	if (strcmp(g.opt.action, "up") == 0 && !(g.stage = pipeline_find_stage(g.p, g.opt.stage))) {
		fprintf(stderr, "stagevisor playground up: %s: stages.%s: no such stage (the playground's stage: --stage)\n",
			g.opt.config, g.opt.stage);
		goto done;
	}
	if (g.opt.state_dir)
		snprintf(g.state_dir, sizeof g.state_dir, "%s", g.opt.state_dir);
	else if (state_default_dir(g.state_dir, sizeof g.state_dir)) {
		fprintf(stderr, "stagevisor playground: no state directory: set --state-dir, XDG_STATE_HOME or HOME\n");
		goto done;
	}
	maxlen = g.p->aws.route53 ? route53_slug_max(g.p->aws.route53->domain) : SLUG_MAX;
	if (maxlen == 0) {
		fprintf(stderr, "stagevisor playground: aws.route53.domain: too long for a %d-character certificate CN\n",
			ROUTE53_CN_MAX);
		goto done;
	}
	if (g.opt.name && (slug_make(g.opt.name, maxlen, g.slug, sizeof g.slug) < 0 ||
			   (g.p->aws.route53 && fgplay_fqdn(g.p, g.slug, g.fqdn, sizeof g.fqdn) < 0) ||
			   (g.fqdn[0] && fgp_url_for(&g, g.fqdn, g.url, sizeof g.url) < 0))) {
		fprintf(stderr, "stagevisor playground: --name %s: no name can be made from it\n", g.opt.name);
		goto done;
	}
	g.c = fgplay_client(g.p, &g.opt.aws, err, sizeof err);
	if (!g.c) {
		fprintf(stderr, "stagevisor playground %s: %s\n", g.opt.action, err);
		goto done;
	}
	if (strcmp(g.opt.action, "up") == 0)
		rc = fgp_up(&g);
	else if (strcmp(g.opt.action, "down") == 0)
		rc = fgp_down(&g);
	else
		rc = fgp_list(&g);
done:
	aws_client_free(g.c);
	pipeline_free(g.p);
	return rc;
}
