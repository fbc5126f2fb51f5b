/* fgtask — see fgtask.h. */
#include "fgtask.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "aws/aws_xml.h"
#include "state.h"
#include "taskfail.h"
#include "taskwatch.h"

#define FG_REGISTER_TRIES 8   /* "Too many concurrent attempts to create a new revision" */
#define FG_RUN_TRIES 4        /* capacity / network-interface failures of RunTask */
#define FG_REASON_MAX 255     /* StopTask's reason */
#define FG_LIST_PAGES 100     /* ListTasks pages (100 arns each) read at most */

/* One JSON 1.1 call; on failure err holds AWS's line and code (if given) its error code. */
static int fg_call(struct aws_client *c, const char *service, const char *op, json_t *in,
		   json_t **out, char *code, size_t codelen, char *err, size_t errlen)
{
	struct aws_result r;
	int rc;

	memset(&r, 0, sizeof r);
	*out = NULL;
	rc = aws_client_json(c, service, op, in, out, &r);
	if (rc != 0) {
		aws_error_format(&r.error, service, op, err, errlen);
		if (code)
			snprintf(code, codelen, "%s", r.error.code);
		json_decref(*out);
		*out = NULL;
	} else if (!*out) {
		snprintf(err, errlen, "%s %s: MalformedResponse: the answer is not a JSON document", service, op);
		rc = -1;
	}
	aws_result_clear(&r);
	return rc;
}

/* A random wait of up to base_ms * 2^attempt (full jitter), at most 8 s. */
static void fg_backoff(unsigned attempt, long base_ms)
{
	unsigned char rnd[4] = {0};
	long cap = base_ms << (attempt < 5 ? attempt : 5), ms;
	struct timespec ts;

	if (cap > 8000)
		cap = 8000;
	RAND_bytes(rnd, sizeof rnd);
	ms = (long)(((unsigned long)rnd[0] << 24 | (unsigned long)rnd[1] << 16 | (unsigned long)rnd[2] << 8 |
		     rnd[3]) % (unsigned long)(cap + 1));
	if (ms < base_ms / 2)
		ms = base_ms / 2;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* The family's latest ACTIVE revision, when its hash tag is hash: 1 with *arn, 0 when there is
 * none or it differs, -1 on error. */
static int fg_current_definition(struct aws_client *c, const char *family, const char *hash,
				 char **arn, char *err, size_t errlen)
{
	json_t *in = json_pack("{s:s, s:[s]}", "taskDefinition", family, "include", "TAGS"), *out = NULL;
	const char *have, *a, *status;
	char code[128] = "";
	int rc;

	if (!in) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = fg_call(c, "ecs", "DescribeTaskDefinition", in, &out, code, sizeof code, err, errlen);
	json_decref(in);
	if (rc != 0)
		/* ECS's answer for a family with no revision yet. */
		return strcmp(code, "ClientException") == 0 ? 0 : -1;
	have = taskdef_hash_from_tags(json_object_get(out, "tags"));
	a = json_string_value(json_object_get(json_object_get(out, "taskDefinition"), "taskDefinitionArn"));
	status = json_string_value(json_object_get(json_object_get(out, "taskDefinition"), "status"));
	rc = 0;
	if (have && a && strcmp(have, hash) == 0 && (!status || strcmp(status, "ACTIVE") == 0)) {
		*arn = strdup(a);
		rc = *arn ? 1 : -1;
		if (rc < 0)
			snprintf(err, errlen, "out of memory");
	}
	json_decref(out);
	return rc;
}

static int fg_register(struct aws_client *c, json_t *req, char **arn, char *err, size_t errlen)
{
	json_t *out = NULL;
	char code[128];
	const char *a;

	for (unsigned attempt = 0;; attempt++) {
		code[0] = '\0';
		if (fg_call(c, "ecs", "RegisterTaskDefinition", req, &out, code, sizeof code, err, errlen) == 0)
			break;
		/* ECS allows one new revision of a family at a time, across all its callers: another
		 * host may be registering the same family. */
		if (attempt + 1 >= FG_REGISTER_TRIES || !strstr(err, "oo many concurrent attempts"))
			return -1;
		fg_backoff(attempt, 500);
	}
	a = json_string_value(json_object_get(json_object_get(out, "taskDefinition"), "taskDefinitionArn"));
	if (!a || !(*arn = strdup(a))) {
		snprintf(err, errlen, "ecs RegisterTaskDefinition: MalformedResponse: no taskDefinitionArn");
		json_decref(out);
		return -1;
	}
	json_decref(out);
	return 0;
}

int fgtask_ensure_definition(struct aws_client *c, const struct pipeline *p,
			     const struct pipeline_stage *st, const char *state_dir, char **arn,
			     bool *registered, char *err, size_t errlen)
{
	char hash[17], dir[PATH_MAX], lock[PATH_MAX + 300];
	char *family, *found;
	json_t *req;
	int fd = -1, k, rc = -1;

	*arn = NULL;
	*registered = false;
	/* The caller expands ${BUILD_ID} (taskdef_stage_for_build): never register it as text. */
	if ((found = strstr(st->image, "${"))) {
		snprintf(err, errlen, "stages.%s.image: %.40s is not expanded", st->name, found);
		return -1;
	}
	family = taskdef_family(st);
	req = taskdef_register_request(p, st, hash);
	if (!family || !req) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	k = fg_current_definition(c, family, hash, arn, err, errlen);
	if (k != 0) {
		rc = k > 0 ? 0 : -1;
		goto out;
	}
	/* One registration at a time per family on this host: the runs of a build's parallel
	 * stages start together, and each would otherwise register its own identical revision. */
	if (snprintf(dir, sizeof dir, "%s/fargate", state_dir) >= (int)sizeof dir ||
	    snprintf(lock, sizeof lock, "%s/register-%s.lock", dir, family) >= (int)sizeof lock) {
		snprintf(err, errlen, "%s: path too long", state_dir);
		goto out;
	}
	if (state_mkdirs(dir) != 0 || (fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		snprintf(err, errlen, "%s: %s", fd < 0 && errno ? lock : dir, strerror(errno));
		goto out;
	}
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			snprintf(err, errlen, "%s: %s", lock, strerror(errno));
			goto out;
		}
	}
	/* Whoever held the lock before us may have registered this very definition. */
	k = fg_current_definition(c, family, hash, arn, err, errlen);
	if (k != 0) {
		rc = k > 0 ? 0 : -1;
		goto out;
	}
	rc = fg_register(c, req, arn, err, errlen);
	*registered = rc == 0;
out:
	if (fd >= 0)
		close(fd); /* releases the flock */
	json_decref(req);
	free(family);
	return rc;
}

int fgtask_run(struct aws_client *c, const struct pipeline *p, const struct pipeline_stage *st,
	       const struct taskdef_run *run, const char *client_token, json_t **task, char *err,
	       size_t errlen)
{
	json_t *req = taskdef_run_request(p, st, run, err, errlen), *out = NULL, *t;
	char token[72];
	int rc = -1;

	*task = NULL;
	if (!req)
		return -1;
	for (unsigned attempt = 0; attempt < FG_RUN_TRIES; attempt++) {
		const json_t *failure;
		const char *reason, *detail;
		struct taskfail f;

		/* The same token for the same build and stage (a second `run` gets the first's task
		 * from ECS); a retry after a failure needs a new one, or ECS answers the failure again. */
		if (client_token && attempt == 0)
			snprintf(token, sizeof token, "%s", client_token);
		else if (client_token)
			snprintf(token, sizeof token, "%s-r%u", client_token, attempt);
		if (client_token)
			json_object_set_new(req, "clientToken", json_string(token));
		else
			json_object_del(req, "clientToken");
		if (fg_call(c, "ecs", "RunTask", req, &out, NULL, 0, err, errlen) != 0)
			goto out;
		t = json_array_get(json_object_get(out, "tasks"), 0);
		if (t) {
			*task = json_incref(t);
			rc = 0;
			goto out;
		}
		failure = json_array_get(json_object_get(out, "failures"), 0);
		reason = json_string_value(json_object_get(failure, "reason"));
		detail = json_string_value(json_object_get(failure, "detail"));
		snprintf(err, errlen, "ecs RunTask: %s%s%s", reason ? reason : "no task and no failure in the answer",
			 detail ? ": " : "", detail ? detail : "");
		f = taskfail_classify(NULL, reason, detail, -1);
		json_decref(out);
		out = NULL;
		if (!reason || !f.retry)
			goto out;
		if (attempt + 1 < FG_RUN_TRIES)
			fg_backoff(attempt, 1000);
	}
out:
	json_decref(out);
	json_decref(req);
	return rc;
}

int fgtask_describe(void *client, const char *cluster, const char *const *arns, size_t n,
		    json_t **out)
{
	json_t *in = json_pack("{s:s, s:[], s:[s]}", "cluster", cluster, "tasks", "include", "TAGS");
	char err[1024];
	int rc;

	*out = NULL;
	if (!in)
		return -1;
	for (size_t i = 0; i < n && i < TASKWATCH_BATCH; i++)
		json_array_append_new(json_object_get(in, "tasks"), json_string(arns[i]));
	rc = fg_call(client, "ecs", "DescribeTasks", in, out, NULL, 0, err, sizeof err);
	json_decref(in);
	return rc;
}

/* DescribeTasks for a list of arns, 100 at a time, appended to tasks. */
static int fg_describe_all(struct aws_client *c, const char *cluster, const json_t *arns,
			   json_t *tasks, char *err, size_t errlen)
{
	for (size_t i = 0; i < json_array_size(arns); i += TASKWATCH_BATCH) {
		json_t *in = json_pack("{s:s, s:[], s:[s]}", "cluster", cluster, "tasks", "include", "TAGS");
		json_t *out = NULL;
		int rc;

		for (size_t k = i; k < json_array_size(arns) && k < i + TASKWATCH_BATCH; k++)
			json_array_append(json_object_get(in, "tasks"), json_array_get(arns, k));
		rc = in ? fg_call(c, "ecs", "DescribeTasks", in, &out, NULL, 0, err, errlen) : -1;
		json_decref(in);
		if (rc != 0)
			return -1;
		json_array_extend(tasks, json_object_get(out, "tasks"));
		json_decref(out);
	}
	return 0;
}

/* Every arn ListTasks gives for startedBy and one desired status, all pages. */
static int fg_list_arns(struct aws_client *c, const char *cluster, const char *desired, json_t *arns,
			char *err, size_t errlen)
{
	char *next = NULL;
	int rc = 0;

	for (unsigned page = 0; page < FG_LIST_PAGES; page++) {
		json_t *in = json_pack("{s:s, s:s, s:s}", "cluster", cluster, "startedBy", TASKDEF_STARTED_BY,
				       "desiredStatus", desired), *out = NULL;
		const char *nt;

		if (in && next)
			json_object_set_new(in, "nextToken", json_string(next));
		free(next);
		next = NULL;
		rc = in ? fg_call(c, "ecs", "ListTasks", in, &out, NULL, 0, err, errlen) : -1;
		json_decref(in);
		if (rc != 0)
			break;
		json_array_extend(arns, json_object_get(out, "taskArns"));
		nt = json_string_value(json_object_get(out, "nextToken"));
		if (nt && *nt)
			next = strdup(nt);
		json_decref(out);
		if (!next)
			break;
	}
	free(next);
	return rc;
}

int fgtask_list(struct aws_client *c, const char *cluster, bool include_stopped, json_t **tasks,
		char *err, size_t errlen)
{
	json_t *arns = json_array();

	*tasks = json_array();
	if (!arns || !*tasks) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (fg_list_arns(c, cluster, "RUNNING", arns, err, errlen) != 0 ||
	    (include_stopped && fg_list_arns(c, cluster, "STOPPED", arns, err, errlen) != 0) ||
	    fg_describe_all(c, cluster, arns, *tasks, err, errlen) != 0)
		goto fail;
	json_decref(arns);
	return 0;
fail:
	json_decref(arns);
	json_decref(*tasks);
	*tasks = NULL;
	return -1;
}

int fgtask_find(struct aws_client *c, const char *cluster, const char *build_id,
		const char *stage, json_t **task, char *err, size_t errlen)
{
	char build[TASKDEF_TAG_VALUE_MAX + 1], st[TASKDEF_TAG_VALUE_MAX + 1];
	json_t *tasks = NULL, *t, *best = NULL;
	size_t i;

	*task = NULL;
	/* Tags hold the values as taskdef_tag_value() made them safe. */
	taskdef_tag_value(build_id, build, sizeof build);
	taskdef_tag_value(stage, st, sizeof st);
	if (fgtask_list(c, cluster, false, &tasks, err, errlen) != 0)
		return -1;
	json_array_foreach(tasks, i, t) {
		const char *b = fgtask_tag(t, TASKDEF_TAG_BUILD), *s = fgtask_tag(t, TASKDEF_TAG_STAGE);
		const char *desired = json_string_value(json_object_get(t, "desiredStatus"));
		const char *last = json_string_value(json_object_get(t, "lastStatus"));

		if (!b || !s || strcmp(b, build) != 0 || strcmp(s, st) != 0)
			continue;
		if ((desired && strcmp(desired, "RUNNING") != 0) || (last && strcmp(last, "STOPPED") == 0))
			continue;
		/* Two (a clientToken ECS did not honour): the newest, whose stream is the one a
		 * first run's coordinator was last told about. */
		if (!best || json_number_value(json_object_get(t, "createdAt")) >
			     json_number_value(json_object_get(best, "createdAt")))
			best = t;
	}
	if (best)
		*task = json_incref(best);
	json_decref(tasks);
	return best ? 1 : 0;
}

int fgtask_stop(struct aws_client *c, const char *cluster, const char *task_arn,
		const char *reason, char *err, size_t errlen)
{
	char r[FG_REASON_MAX + 1];
	json_t *in, *out = NULL;
	int rc;

	snprintf(r, sizeof r, "%s", reason ? reason : "stopped by stagevisor");
	in = json_pack("{s:s, s:s, s:s}", "cluster", cluster, "task", task_arn, "reason", r);
	if (!in) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = fg_call(c, "ecs", "StopTask", in, &out, NULL, 0, err, errlen);
	json_decref(in);
	json_decref(out);
	return rc;
}

const char *fgtask_tag(const json_t *task, const char *key)
{
	size_t i;
	json_t *t;

	json_array_foreach(json_object_get(task, "tags"), i, t) {
		const char *k = json_string_value(json_object_get(t, "key"));
		if (k && strcmp(k, key) == 0)
			return json_string_value(json_object_get(t, "value"));
	}
	return NULL;
}

const char *fgtask_override_env(const json_t *task, const char *name)
{
	json_t *o, *e;
	size_t i, k;

	json_array_foreach(json_object_get(json_object_get(task, "overrides"), "containerOverrides"), i, o) {
		const char *cn = json_string_value(json_object_get(o, "name"));
		if (cn && strcmp(cn, TASKDEF_CONTAINER) != 0)
			continue;
		json_array_foreach(json_object_get(o, "environment"), k, e) {
			const char *n = json_string_value(json_object_get(e, "name"));
			if (n && strcmp(n, name) == 0)
				return json_string_value(json_object_get(e, "value"));
		}
	}
	return NULL;
}

/* A detail of the task's network interface attachment ("privateIPv4Address", …), or NULL. */
static const char *fg_eni_detail(const json_t *task, const char *name)
{
	json_t *a, *d;
	size_t i, k;

	json_array_foreach(json_object_get(task, "attachments"), i, a) {
		const char *type = json_string_value(json_object_get(a, "type"));
		if (!type || strcmp(type, "ElasticNetworkInterface") != 0)
			continue;
		json_array_foreach(json_object_get(a, "details"), k, d) {
			const char *n = json_string_value(json_object_get(d, "name"));
			if (n && strcmp(n, name) == 0)
				return json_string_value(json_object_get(d, "value"));
		}
	}
	return NULL;
}

/* The public IP of a network interface: ec2 DescribeNetworkInterfaces (query protocol). */
static int fg_public_ip(struct aws_client *c, const char *eni, char *out, size_t len, char *err,
			size_t errlen)
{
	struct aws_http_header h = {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"};
	struct aws_call call;
	struct aws_result r;
	char body[512], xerr[256];
	json_t *doc = NULL, *ni;
	const char *ip;
	int rc = -1;

	if (strspn(eni, "eni-0123456789abcdef") != strlen(eni)) {
		snprintf(err, errlen, "not a network interface id: %.64s", eni);
		return -1;
	}
	snprintf(body, sizeof body, "Action=DescribeNetworkInterfaces&Version=2016-11-15&NetworkInterfaceId.1=%s", eni);
	memset(&call, 0, sizeof call);
	memset(&r, 0, sizeof r);
	call.service = "ec2";
	call.operation = "DescribeNetworkInterfaces";
	call.method = "POST";
	call.path = "/";
	call.headers = &h;
	call.n_headers = 1;
	call.body = body;
	call.body_len = strlen(body);
	if (aws_client_call(c, &call, &r) != 0) {
		aws_error_format(&r.error, "ec2", "DescribeNetworkInterfaces", err, errlen);
		goto out;
	}
	doc = aws_xml_to_json(r.body, r.len, "DescribeNetworkInterfaces", xerr, sizeof xerr);
	if (!doc) {
		snprintf(err, errlen, "ec2 DescribeNetworkInterfaces: MalformedResponse: %s", xerr);
		goto out;
	}
	ni = json_object_get(doc, "networkInterfaceSet");
	if (json_is_array(ni))
		ni = json_array_get(ni, 0);
	ip = json_string_value(json_object_get(json_object_get(ni, "association"), "publicIp"));
	if (!ip || !*ip) {
		snprintf(err, errlen, "network interface %s has no public IP (yet)", eni);
		goto out;
	}
	snprintf(out, len, "%s", ip);
	rc = 0;
out:
	json_decref(doc);
	aws_result_clear(&r);
	return rc;
}

int fgtask_address(struct aws_client *c, const json_t *task, bool public_ip, char *out,
		   size_t len, char *err, size_t errlen)
{
	const char *ip = fg_eni_detail(task, "privateIPv4Address"), *eni;

	if (!public_ip) {
		if (!ip || !*ip) {
			snprintf(err, errlen, "the task has no private IPv4 address (yet)");
			return -1;
		}
		snprintf(out, len, "%s", ip);
		return 0;
	}
	eni = fg_eni_detail(task, "networkInterfaceId");
	if (!eni || !*eni) {
		snprintf(err, errlen, "the task has no network interface (yet)");
		return -1;
	}
	return fg_public_ip(c, eni, out, len, err, errlen);
}
