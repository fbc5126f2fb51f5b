/*
 * fgtask — a stage's Fargate task through the AWS layer: the task definition ensured (the
 * registered revision reused while its content hash tag matches; one registration at a time per
 * family; "Too many concurrent attempts" retried), RunTask (its `failures` read; capacity and
 * network-interface failures retried with a new clientToken suffix), the tasks this tool started
 * found again by their tags (re-attach, playgrounds, teardown), StopTask, DescribeTasks and the
 * task's address.
 *
 * It does not decide a stage's verdict, watch a stream or print: errors go to err, and the
 * caller says them. Request bodies come from taskdef (pure); this module only sends them.
 *
 * Ownership: json_t ** outputs are new references; char ** outputs are the caller's to free.
 * The client is borrowed and used by one call at a time.
 */
#ifndef SV_COORD_FGTASK_H
#define SV_COORD_FGTASK_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "aws/aws_client.h"
#include "pipeline.h"
#include "taskdef.h"

/*
 * The stage's task definition, registered only when none with the same hash tag exists
 * (DescribeTaskDefinition of the family's latest ACTIVE revision, include TAGS). Registration
 * holds an flock on STATE/fargate/register-<family>.lock. *arn receives the revision's ARN.
 * st->image must have ${BUILD_ID} expanded (taskdef_stage_for_build): a placeholder left is -1.
 * 0, or -1 with err.
 */
int fgtask_ensure_definition(struct aws_client *c, const struct pipeline *p,
			     const struct pipeline_stage *st, const char *state_dir, char **arn,
			     bool *registered, char *err, size_t errlen);

/*
 * RunTask with taskdef_run_request() and the given clientToken. A `failures` entry or a start
 * that the AWS docs call retryable (capacity unavailable, ENI/network timeout) is retried a few
 * times with backoff; anything else is -1 with AWS's reason in err. *task: the task object.
 */
int fgtask_run(struct aws_client *c, const struct pipeline *p, const struct pipeline_stage *st,
	       const struct taskdef_run *run, const char *client_token, json_t **task, char *err,
	       size_t errlen);

/*
 * Every task of the cluster started by this tool (ListTasks startedBy=TASKDEF_STARTED_BY,
 * desiredStatus RUNNING, then also STOPPED when include_stopped, all pages; DescribeTasks
 * include TAGS, 100 at a time). *tasks: a JSON array of task objects.
 */
int fgtask_list(struct aws_client *c, const char *cluster, bool include_stopped, json_t **tasks,
		char *err, size_t errlen);

/* The running (desiredStatus RUNNING) task tagged with this build and stage, for re-attach:
 * 1 with *task set, 0 when there is none, -1 on error. Moto ignores clientToken, so this is
 * how a second `run` finds the first's task. */
int fgtask_find(struct aws_client *c, const char *cluster, const char *build_id,
		const char *stage, json_t **task, char *err, size_t errlen);

/* StopTask with a reason (ECS limits it to 255 characters). 0, or -1 with err. */
int fgtask_stop(struct aws_client *c, const char *cluster, const char *task_arn,
		const char *reason, char *err, size_t errlen);

/* DescribeTasks (include TAGS) for up to TASKWATCH_BATCH arns; the shape of
 * taskwatch_describe_fn, with arg a struct aws_client *. */
int fgtask_describe(void *client, const char *cluster, const char *const *arns, size_t n,
		    json_t **out);

/* A tag's value on a task object ("tags": [{"key","value"}]), or NULL. */
const char *fgtask_tag(const json_t *task, const char *key);

/* A container override's environment value (STAGEVISOR_STREAM…) on a task object, or NULL. */
const char *fgtask_override_env(const json_t *task, const char *name);

/* The task's address: the ENI's private IPv4 from the task's attachments, or with public the
 * public IP (ec2 DescribeNetworkInterfaces of that ENI). 0, or -1 with err (not yet known). */
int fgtask_address(struct aws_client *c, const json_t *task, bool public_ip, char *out,
		   size_t len, char *err, size_t errlen);

#endif
