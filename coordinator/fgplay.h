/*
 * fgplay — `stagevisor playground up|down|list --backend fargate --config FILE`: a branch's
 * playground as a Fargate task of the pipeline's playground stage (`--stage`, default
 * "playground"), published as `<slug>.<aws.route53.domain>` in Route 53.
 *
 * `up` starts the task (fgtask), receives the agent's stream on the ingest server until every
 * service process of the spec reports ready, tells the agent to detach (the answer to the batch
 * that made it ready carries "detach": the playground then lives without the coordinator),
 * finds the task's address, UPSERTs the A record, waits for INSYNC, tells Slack (notify) and
 * prints the URL. `down` stops the task and deletes the record; `list` reads the tasks' tags.
 * A playground is known by its tags alone (no local state): stagevisor:build
 * "playground:<slug>" (set at RunTask), stagevisor:playground <slug> (added at once after it),
 * stagevisor:branch, stagevisor:stage, stagevisor:expires (the next close of business), and
 * stagevisor:started (when ECS gives no startedAt, as moto does).
 *
 * The helpers below are shared with teardown.c. It does not decide what teardown stops.
 */
#ifndef SV_COORD_FGPLAY_H
#define SV_COORD_FGPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "aws/aws_client.h"
#include "pipeline.h"

#define FGPLAY_TAG_PLAYGROUND "stagevisor:playground"
#define FGPLAY_TAG_STARTED "stagevisor:started" /* UTC seconds, added with the marker */
#define FGPLAY_BUILD_PREFIX "playground:"
#define FGPLAY_STAGE_DEFAULT "playground"

int fgplay_command(int argc, char **argv);
void fgplay_usage(void);

/* Where AWS is: --profile, --region (default the config's aws.region), --endpoint-url; each
 * may be NULL (the environment decides, as for the AWS CLI). */
struct fgplay_aws {
	const char *profile, *region, *endpoint_url;
};

/* An AWS client for the pipeline (STAGEVISOR_AWS_BACKOFF_SCALE, a test knob, shortens the real
 * backoff sleeps). NULL with err. */
struct aws_client *fgplay_client(const struct pipeline *p, const struct fgplay_aws *a, char *err, size_t errlen);

/* Whether a task object (fgtask_list) is a playground, and its slug (borrowed) or NULL. */
const char *fgplay_task_slug(const json_t *task);

/* The playground's DNS name "<slug>.<domain>" (0), or -1 when the config has no route53. */
int fgplay_fqdn(const struct pipeline *p, const char *slug, char *buf, size_t len);

/* A task's start (startedAt, else createdAt: epoch seconds as a number or an ISO 8601 string;
 * else the stagevisor:started tag), in UTC seconds; 0 when it has none. */
long long fgplay_task_started(const json_t *task);

/* The short task id: the last part of its ARN (borrowed), or "?". */
const char *fgplay_task_id(const json_t *task);

/* Stops a playground's task and deletes its record, saying each on out ("stopped task …",
 * "deleted record …", "no record …"). 0, or -1 with err (what succeeded was said). */
int fgplay_remove(struct aws_client *c, const struct pipeline *p, const json_t *task, const char *reason,
		  FILE *out, char *err, size_t errlen);

#endif
