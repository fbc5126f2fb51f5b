/* taskfail — see taskfail.h. The reasons are ECS's texts (its troubleshooting guide lists
 * them), matched by their stable prefixes and phrases; AWS adds details after them. */
#include "taskfail.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

static bool has(const char *s, const char *needle)
{
	size_t n = strlen(needle);

	for (; s && *s; s++)
		if (strncasecmp(s, needle, n) == 0)
			return true;
	return false;
}

static struct taskfail make(enum taskfail_kind kind, bool retry, const char *name, const char *hint)
{
	struct taskfail f = {kind, retry, name, hint};
	return f;
}

/* A resource-initialisation failure, told apart by what could not be had. */
static struct taskfail resource_init(const char *why)
{
	if (has(why, "ecr:GetAuthorizationToken") || has(why, "unable to retrieve ecr registry auth"))
		return make(TASKFAIL_RESOURCE_INIT, false, "resource-initialization",
			     "the execution role cannot pull from ECR: add ecr:GetAuthorizationToken, "
			     "ecr:BatchGetImage and ecr:GetDownloadUrlForLayer to it "
			     "(deploy/iam/task-execution-role.json)");
	if (has(why, "log group") || has(why, "logs:CreateLogStream") || has(why, "logger"))
		return make(TASKFAIL_RESOURCE_INIT, false, "resource-initialization",
			    "the awslogs driver cannot write: create aws.log_group in the task's region and "
			    "give the execution role logs:CreateLogStream and logs:PutLogEvents");
	if (has(why, "i/o timeout") || has(why, "context deadline exceeded") || has(why, "dial tcp"))
		return make(TASKFAIL_RESOURCE_INIT, true, "resource-initialization",
			    "the task's subnets cannot reach ECR, Secrets Manager or CloudWatch Logs: give "
			    "them a NAT gateway or VPC endpoints, or set aws.assign_public_ip in a public subnet");
	if (has(why, "secret") || has(why, "ssm"))
		return make(TASKFAIL_RESOURCE_INIT, false, "resource-initialization",
			    "the execution role cannot read the task's secrets: allow "
			    "secretsmanager:GetSecretValue / ssm:GetParameters on them");
	return make(TASKFAIL_RESOURCE_INIT, false, "resource-initialization",
		    "the task's resources could not be prepared: read the stopped reason above");
}

struct taskfail taskfail_classify(const char *stop_code, const char *stopped_reason,
				  const char *container_reason, int exit_code)
{
	const char *why = stopped_reason;

	/* The container's own reason is the more precise one when ECS gives both. */
	if (has(container_reason, "OutOfMemoryError") || has(stopped_reason, "OutOfMemoryError"))
		return make(TASKFAIL_OOM, false, "out-of-memory",
			    "the stage used more memory than its task has: raise stages.NAME.memory "
			    "(and cpu to match a Fargate size), or limit the test runner's memory");
	if ((stop_code && strcmp(stop_code, "SpotInterruption") == 0) ||
	    has(stopped_reason, "Spot Task was interrupted") || has(stopped_reason, "TerminationNotice"))
		return make(TASKFAIL_SPOT, true, "spot-interruption",
			    "Fargate Spot took the capacity back: the stage can run again, or use FARGATE");
	if (has(container_reason, "CannotPullContainerError") || has(stopped_reason, "CannotPullContainerError"))
		return make(TASKFAIL_PULL, has(stopped_reason, "i/o timeout") || has(container_reason, "i/o timeout"),
			    "image-pull",
			    has(stopped_reason, "not found") || has(container_reason, "not found")
			    ? "the image or its tag does not exist: check stages.NAME.image and that the "
			      "build pushed it to ECR"
			    : "the image could not be pulled: check the image name, that the execution role "
			      "may pull it (ecr:BatchGetImage, ecr:GetDownloadUrlForLayer) and that the subnets "
			      "reach ECR");
	if (has(stopped_reason, "ResourceInitializationError"))
		return resource_init(stopped_reason);
	if (has(stopped_reason, "network interface provisioning") ||
	    has(stopped_reason, "elastic network interface"))
		return make(TASKFAIL_ENI_TIMEOUT, true, "network-interface-timeout",
			    "the task's network interface was not ready in time: starting again usually "
			    "works; if it recurs, check the subnets' free addresses");
	if (has(stopped_reason, "Capacity is unavailable") || has(stopped_reason, "insufficient capacity") ||
	    has(stopped_reason, "No Container Instances"))
		return make(TASKFAIL_CAPACITY, true, "capacity-unavailable",
			    "Fargate had no capacity for this size in these subnets' zones: starting again "
			    "usually works; more subnets in other zones help");
	if (has(container_reason, "CannotStartContainerError") || has(stopped_reason, "CannotStartContainerError") ||
	    has(container_reason, "ContainerRuntimeError") || has(stopped_reason, "ContainerRuntimeError"))
		return make(TASKFAIL_CANNOT_START, false, "container-start",
			    "the container could not start: check the image's ENTRYPOINT is stagevisor-agent "
			    "and that it runs on the task's platform (linux/amd64 or arm64)");
	if (exit_code >= 0)
		return make(TASKFAIL_NONE, false, "exited", "the stage's verdict is its agent's exit code");
	if ((stop_code && (strcmp(stop_code, "UserInitiated") == 0 ||
			   strcmp(stop_code, "ServiceSchedulerInitiated") == 0)))
		return make(TASKFAIL_STOPPED, false, "stopped",
			    "the task was stopped by StopTask (a user, teardown or another run)");
	if (stop_code && strcmp(stop_code, "TaskFailedToStart") == 0)
		return make(TASKFAIL_OTHER, false, "failed-to-start", why ? "read the stopped reason above"
			    : "the task failed to start without a reason: see the ECS console's stopped tasks");
	return make(TASKFAIL_OTHER, false, "stopped-without-exit-code",
		    "the task stopped without an exit code: read the stopped reason above");
}
