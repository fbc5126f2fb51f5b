/*
 * fgtask_tool — a test-only driver of coordinator/fgtask.c: one fgtask call per invocation,
 * its result as one JSON line on stdout, its error on stderr (exit 1). The endpoint and the
 * credentials come from the environment (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, …), as for
 * `stagevisor`. Used by test_fgtask.py against moto.
 *
 *   fgtask_tool CONFIG STAGE STATE_DIR ensure
 *   fgtask_tool CONFIG STAGE STATE_DIR run BUILD_ID STREAM [BRANCH]
 *   fgtask_tool CONFIG STAGE STATE_DIR find BUILD_ID
 *   fgtask_tool CONFIG STAGE STATE_DIR stop TASK_ARN REASON
 *   fgtask_tool CONFIG STAGE STATE_DIR list [stopped]
 *   fgtask_tool CONFIG STAGE STATE_DIR describe TASK_ARN
 *   fgtask_tool CONFIG STAGE STATE_DIR address TASK_ARN
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fgtask.h"
#include "pipeline.h"

static int print(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

	if (!s)
		return 1;
	printf("%s\n", s);
	free(s);
	return 0;
}

static int fail(const char *what, const char *err)
{
	fprintf(stderr, "fgtask_tool %s: %s\n", what, err);
	return 1;
}

static int describe_one(struct aws_client *c, const char *cluster, const char *arn, json_t **task)
{
	json_t *out = NULL;
	const char *arns[1] = {arn};

	*task = NULL;
	if (fgtask_describe(c, cluster, arns, 1, &out) != 0)
		return -1;
	*task = json_incref(json_array_get(json_object_get(out, "tasks"), 0));
	json_decref(out);
	return *task ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct pipeline_error perr;
	struct pipeline *p = NULL;
	const struct pipeline_stage *st;
	struct aws_client_options o;
	struct aws_client *c = NULL;
	char err[2048], pbuf[1024];
	const char *cmd;
	json_t *j = NULL;
	int rc = 1;

	if (argc < 5) {
		fprintf(stderr, "usage: fgtask_tool CONFIG STAGE STATE_DIR COMMAND [ARGS]\n");
		return 2;
	}
	cmd = argv[4];
	p = pipeline_load(argv[1], &perr);
	if (!p) {
		pipeline_error_format(&perr, pbuf, sizeof pbuf);
		fprintf(stderr, "fgtask_tool: %s\n", pbuf);
		return 2;
	}
	st = pipeline_find_stage(p, argv[2]);
	memset(&o, 0, sizeof o);
	o.region = p->aws.region;
	if (aws_http_global_init() < 0 || !st || !(c = aws_client_new(&o, err, sizeof err))) {
		fprintf(stderr, "fgtask_tool: %s\n", st ? err : "no such stage");
		goto out;
	}
	if (strcmp(cmd, "ensure") == 0) {
		char *arn = NULL;
		bool registered = false;

		if (fgtask_ensure_definition(c, p, st, argv[3], &arn, &registered, err, sizeof err) != 0) {
			rc = fail(cmd, err);
			goto out;
		}
		j = json_pack("{s:s, s:b}", "arn", arn, "registered", registered);
		free(arn);
	} else if (strcmp(cmd, "run") == 0 && argc >= 7) {
		struct taskdef_run run;
		char *arn = NULL, token[44];
		bool registered;

		if (fgtask_ensure_definition(c, p, st, argv[3], &arn, &registered, err, sizeof err) != 0) {
			rc = fail(cmd, err);
			goto out;
		}
		memset(&run, 0, sizeof run);
		run.build_id = argv[5];
		run.stream = argv[6];
		run.branch = argc > 7 ? argv[7] : NULL;
		run.token = "svt1.0000000000000000000000000000000000000000000000000000000000000000";
		run.url = "https://127.0.0.1:9/";
		run.pin = "00";
		run.task_definition = arn;
		run.expires_at = (long long)time(NULL) + 3600;
		taskdef_client_token(run.build_id, st->name, token);
		rc = fgtask_run(c, p, st, &run, token, &j, err, sizeof err);
		free(arn);
		if (rc != 0) {
			rc = fail(cmd, err);
			goto out;
		}
	} else if (strcmp(cmd, "find") == 0 && argc >= 6) {
		int k = fgtask_find(c, p->aws.cluster, argv[5], st->name, &j, err, sizeof err);

		if (k < 0) {
			rc = fail(cmd, err);
			goto out;
		}
		if (k == 0)
			j = json_null();
	} else if (strcmp(cmd, "stop") == 0 && argc >= 7) {
		if (fgtask_stop(c, p->aws.cluster, argv[5], argv[6], err, sizeof err) != 0) {
			rc = fail(cmd, err);
			goto out;
		}
		j = json_object();
	} else if (strcmp(cmd, "list") == 0) {
		if (fgtask_list(c, p->aws.cluster, argc > 5 && strcmp(argv[5], "stopped") == 0, &j, err,
				sizeof err) != 0) {
			rc = fail(cmd, err);
			goto out;
		}
	} else if (strcmp(cmd, "describe") == 0 && argc >= 6) {
		if (describe_one(c, p->aws.cluster, argv[5], &j) != 0) {
			rc = fail(cmd, "DescribeTasks failed or the task is not known");
			goto out;
		}
	} else if (strcmp(cmd, "address") == 0 && argc >= 6) {
		char ip[64];
		json_t *t = NULL;

		if (describe_one(c, p->aws.cluster, argv[5], &t) != 0 ||
		    fgtask_address(c, t, p->aws.assign_public_ip, ip, sizeof ip, err, sizeof err) != 0) {
			json_decref(t);
			rc = fail(cmd, t ? err : "DescribeTasks failed");
			goto out;
		}
		json_decref(t);
		j = json_pack("{s:s}", "address", ip);
	} else {
		fprintf(stderr, "fgtask_tool: unknown command or missing arguments: %s\n", cmd);
		rc = 2;
		goto out;
	}
	rc = print(j);
out:
	json_decref(j);
	aws_client_free(c);
	pipeline_free(p);
	return rc;
}
