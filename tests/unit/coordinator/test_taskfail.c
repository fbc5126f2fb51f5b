/* Unit tests of coordinator/taskfail.c, with the reasons ECS writes (its troubleshooting
 * guide's texts, details included as AWS adds them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "taskfail.h"

struct tf_case {
	const char *stop_code, *stopped_reason, *container_reason;
	int exit_code;
	enum taskfail_kind kind;
	bool retry;
	const char *hint_part;
};

static const struct tf_case cases[] = {
	{"EssentialContainerExited", "Essential container in task exited", NULL, 0, TASKFAIL_NONE, false, "exit code"},
	{"EssentialContainerExited", "Essential container in task exited", NULL, 1, TASKFAIL_NONE, false, "exit code"},
	{"EssentialContainerExited", "Essential container in task exited",
	 "OutOfMemoryError: Container killed due to memory usage", 137, TASKFAIL_OOM, false, "memory"},
	{"TaskFailedToStart", "CannotPullContainerError: pull image manifest has been retried 5 time(s): "
	 "failed to resolve ref 123.dkr.ecr.eu-west-1.amazonaws.com/site:nope: "
	 "123.dkr.ecr.eu-west-1.amazonaws.com/site:nope: not found", NULL, -1, TASKFAIL_PULL, false, "does not exist"},
	{"TaskFailedToStart", NULL, "CannotPullContainerError: ref pull has been retried 5 time(s): "
	 "failed to copy: httpReadSeeker: failed open: failed to do request: dial tcp 52.1.2.3:443: i/o timeout",
	 -1, TASKFAIL_PULL, true, "reach ECR"},
	{"TaskFailedToStart", "ResourceInitializationError: unable to pull secrets or registry auth: "
	 "execution resource retrieval failed: unable to retrieve ecr registry auth: service call has been "
	 "retried 3 time(s): AccessDeniedException: User: arn:aws:sts::123:assumed-role/exec/abc is not "
	 "authorized to perform: ecr:GetAuthorizationToken on resource: * because no identity-based policy "
	 "allows the ecr:GetAuthorizationToken action", NULL, -1, TASKFAIL_RESOURCE_INIT, false,
	 "add ecr:GetAuthorizationToken"},
	{"TaskFailedToStart", "ResourceInitializationError: failed to validate logger args: create stream "
	 "has been retried 1 times: failed to create Cloudwatch log stream: ResourceNotFoundException: "
	 "The specified log group does not exist.", NULL, -1, TASKFAIL_RESOURCE_INIT, false, "aws.log_group"},
	{"TaskFailedToStart", "ResourceInitializationError: unable to pull secrets or registry auth: "
	 "pull command failed: : signal: killed; dial tcp 10.0.0.1:443: i/o timeout", NULL, -1,
	 TASKFAIL_RESOURCE_INIT, true, "NAT gateway"},
	{"TaskFailedToStart", "Timeout waiting for network interface provisioning to complete.", NULL, -1,
	 TASKFAIL_ENI_TIMEOUT, true, "network interface"},
	{"TaskFailedToStart", "Capacity is unavailable at this time. Please try again later or in a "
	 "different availability zone", NULL, -1, TASKFAIL_CAPACITY, true, "capacity"},
	{"SpotInterruption", "Your Spot Task was interrupted.", NULL, -1, TASKFAIL_SPOT, true, "Spot"},
	{"UserInitiated", "stopped by stagevisor: build aborted", NULL, -1, TASKFAIL_STOPPED, false, "StopTask"},
	{"TaskFailedToStart", "CannotStartContainerError: Error response from daemon: failed to create "
	 "shim task: OCI runtime create failed", NULL, -1, TASKFAIL_CANNOT_START, false, "ENTRYPOINT"},
	{"TaskFailedToStart", NULL, NULL, -1, TASKFAIL_OTHER, false, "without a reason"},
	{NULL, NULL, NULL, -1, TASKFAIL_OTHER, false, "without an exit code"},
	/* "denied" must not read as a network interface ("ENI") problem. */
	{"TaskFailedToStart", "Access denied for the scenic route", NULL, -1, TASKFAIL_OTHER, false, "stopped reason"},
};

static void test_classify(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct tf_case *c = &cases[i];
		struct taskfail f = taskfail_classify(c->stop_code, c->stopped_reason, c->container_reason,
						      c->exit_code);
		if (f.kind != c->kind || f.retry != c->retry || !f.hint || !strstr(f.hint, c->hint_part)) {
			fprintf(stderr, "case %zu: kind %d retry %d name %s hint %s\n", i, f.kind, f.retry,
				f.name, f.hint ? f.hint : "(null)");
			fail();
		}
		assert_non_null(f.name);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
