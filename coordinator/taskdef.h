/*
 * taskdef — the ECS requests that make a stage a Fargate task: RegisterTaskDefinition (with a
 * content hash, so an unchanged definition is reused instead of registered again) and RunTask
 * (network, overrides carrying the agent's STAGEVISOR_* variables, tags, startedBy and a
 * deterministic clientToken made from the build identity and the stage).
 *
 * Pure: it builds JSON request bodies from the pipeline config and the run's values; it does
 * not call AWS (the Fargate backend sends them through the AWS layer) and reads no clock (the
 * caller passes the expiry).
 *
 * Ownership: functions returning json_t * return a new reference; char * results are the
 * caller's to free.
 */
#ifndef SV_COORD_TASKDEF_H
#define SV_COORD_TASKDEF_H

#include <stddef.h>

#include <jansson.h>

#include "pipeline.h"

#define TASKDEF_CONTAINER "stage"          /* the one container of a stage's task */
#define TASKDEF_LOG_PREFIX "stagevisor"    /* awslogs-stream-prefix: PREFIX/CONTAINER/TASK_ID */
#define TASKDEF_STARTED_BY "stagevisor"
#define TASKDEF_HASH_TAG "stagevisor:definition-hash"
#define TASKDEF_OVERRIDES_MAX 8192u        /* RunTask's limit on the overrides' JSON, in bytes */
#define TASKDEF_TAG_VALUE_MAX 256u

/* Tag keys on tasks: teardown and re-attach find tasks by them. */
#define TASKDEF_TAG_BUILD "stagevisor:build"
#define TASKDEF_TAG_BRANCH "stagevisor:branch"
#define TASKDEF_TAG_STAGE "stagevisor:stage"
#define TASKDEF_TAG_STREAM "stagevisor:stream"
#define TASKDEF_TAG_EXPIRES "stagevisor:expires"

struct taskdef_run {
	const char *build_id;  /* Jenkins' BUILD_TAG, e.g. "jenkins-site-PR-12-7" */
	const char *branch;    /* may be NULL */
	const char *stream;    /* STAGEVISOR_STREAM */
	const char *token;     /* STAGEVISOR_TOKEN (a secret: only in the request body) */
	const char *url;       /* STAGEVISOR_URL */
	const char *pin;       /* STAGEVISOR_PIN */
	const char *task_definition; /* "family:revision" or ARN */
	long long expires_at;  /* UTC seconds; the expiry tag */
};

/* "stagevisor-<stage>": one family per stage of a pipeline. */
char *taskdef_family(const struct pipeline_stage *st);

/* The RegisterTaskDefinition request; hash receives 16 hex digits of the definition's SHA-256
 * (computed before the hash tag is added) — the same for the same definition. */
json_t *taskdef_register_request(const struct pipeline *p, const struct pipeline_stage *st,
				 char hash[17]);

/* The RunTask request; NULL with a reason when it cannot be built (the overrides do not fit). */
json_t *taskdef_run_request(const struct pipeline *p, const struct pipeline_stage *st,
			    const struct taskdef_run *run, char *err, size_t errlen);

/* RunTask's clientToken: "sv-" + 40 hex digits of SHA-256(build_id NUL stage). */
void taskdef_client_token(const char *build_id, const char *stage, char out[44]);

/* A tag value made safe for ECS (letters, digits, spaces and _.:/=+-@; others become '_'),
 * at most TASKDEF_TAG_VALUE_MAX bytes. */
void taskdef_tag_value(const char *in, char *out, size_t len);

/* The image placeholder: `${BUILD_ID}` in stages.NAME.image (pipeline.c accepts no other). */
#define TASKDEF_BUILD_ID_VAR "BUILD_ID"
#define TASKDEF_IMAGE_TAG_MAX 128u          /* Docker's tag grammar: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} */
#define TASKDEF_IMAGE_MAX 1280u             /* an expanded image reference, NUL excluded */

/* A build id made a valid image tag: every byte outside [A-Za-z0-9_.-] becomes '-', a leading
 * '.' or '-' becomes '_', and it is cut at TASKDEF_IMAGE_TAG_MAX bytes (and at len - 1). An
 * empty or NULL build id gives "". The Jenkinsfile makes $BUILD_TAG a tag the same way. */
void taskdef_image_tag(const char *build_id, char *out, size_t len);

/* The stage image with `${BUILD_ID}` expanded to taskdef_image_tag(build_id), into out (at most
 * outlen - 1 bytes). 0, or -1 with a reason naming stages.NAME.image in err: the image has the
 * placeholder and build_id is NULL or empty, or the expanded tag is longer than 128 bytes, or it
 * does not fit. An image without the placeholder is copied unchanged. */
int taskdef_expand_image(const struct pipeline_stage *st, const char *build_id, char *out, size_t outlen,
			 char *err, size_t errlen);

/* *copy = *st with copy->image pointing at image (expanded as above; the caller's buffer of
 * imagelen bytes, TASKDEF_IMAGE_MAX + 1 is enough): what `run` and `playground up` register and
 * run, so the definition's hash changes with the build. 0, or -1 with err as above. */
int taskdef_stage_for_build(const struct pipeline_stage *st, const char *build_id, struct pipeline_stage *copy,
			    char *image, size_t imagelen, char *err, size_t errlen);

/* The task definition's hash tag, if any, from a DescribeTaskDefinition "tags" array. */
const char *taskdef_hash_from_tags(const json_t *tags);

#endif
