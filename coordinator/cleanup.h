/*
 * cleanup — `stagevisor cleanup`: what a build leaves behind on AWS, removed.
 *
 * 1. ECR: the images a build used, deleted by digest from the config's aws.ecr_repository
 *    (BatchDeleteImage, its `failures` read). A build's images are (a) the images of the task
 *    definitions of the tasks tagged stagevisor:build=ID (stopped ones included, as long as ECS
 *    still lists them), (b) the images tagged with the build id itself and (c) each stage's
 *    image with ${BUILD_ID} expanded to the build id (taskdef_expand_image); each resolved to its
 *    digest with DescribeImages. An image that a task started by stagevisor still uses (any
 *    build, any stage: a playground lives on after its build) is kept and said so; so is an
 *    image that carries a release tag (v1.2.3, 1.2.3, IMAGE-v1.2.3).
 * 2. ECS: task-definition revisions this tool made (family stagevisor-*, with the definition
 *    hash tag) that no task of stagevisor's still uses are deregistered, the latest revision of
 *    each family kept; deregistered ones are then deleted (DeleteTaskDefinitions) where the API
 *    allows it.
 * It prints what it does (or, with --dry-run, what it would do, changing nothing) and is
 * idempotent. It never stops a task (that is teardown's job).
 *
 * The pure helpers below (image references, revisions, release tags) are exported for tests.
 */
#ifndef SV_COORD_CLEANUP_H
#define SV_COORD_CLEANUP_H

#include <stdbool.h>
#include <stddef.h>

int cleanup_command(int argc, char **argv);
void cleanup_usage(void);

/*
 * Whether an image reference ("[REGISTRY/]REPOSITORY[:TAG][@DIGEST]") names an image of
 * repository in this region's ECR: a reference without a registry, or with an ECR registry
 * (ACCOUNT.dkr.ecr.REGION.amazonaws.com[.cn]) of that region. 1 with tag (or "") and digest
 * (or "") filled, 0 when it is another repository or registry, -1 when it is malformed.
 */
int cleanup_image_ref(const char *image, const char *region, const char *repository, char *tag,
		      size_t taglen, char *digest, size_t digestlen);

/* The revision of a task-definition ARN or "family:revision" (family filled), -1 if none
 * (family then ""). */
long cleanup_revision(const char *arn, char *family, size_t familylen);

/* A release's tag: v1.2.3, 1.2.3 (an optional v, three numbers), or PREFIX-v1.2.3 (an image's
 * release in a shared repository, e.g. tests-v1.2.3: the v required after the prefix). Such
 * images are kept. */
bool cleanup_release_tag(const char *tag);

/* An ECR image tag: [A-Za-z0-9_.-], 1 to 128 characters, not starting with . or -. */
bool cleanup_valid_tag(const char *tag);

#endif
