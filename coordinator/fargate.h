/*
 * fargate — the Fargate backend of `stagevisor run` (--backend fargate --config FILE --stage
 * NAME): the stage as an ECS task whose PID 1 is the agent, its stream received on this host.
 *
 * It reads the pipeline config (errors name the field, exit 2, before any AWS call), checks
 * the stage's spec with the agent, then either re-attaches to the task already running for
 * this build and stage (found by its tags: same stream, token and URL, the certificate saved
 * at the first start) or ensures the task definition, binds the ingest server on the first
 * free port of coordinator.ports and runs the task. While the stream flows, DescribeTasks
 * (taskwatch, shared by every run of the host) is only the slow reconciliation that finds a
 * task that never started or stopped without its `end`; then the agent's `@@stagevisor` lines
 * are read back from CloudWatch Logs. SIGINT/SIGTERM and --timeout stop the task.
 *
 * It does not build requests (taskdef), talk to ECS directly (fgtask) or judge (report): the
 * run core (run.h) writes the reports and tells Slack.
 */
#ifndef SV_COORD_FARGATE_H
#define SV_COORD_FARGATE_H

#include "run.h"

/* The reconciliation's interval: 10 s; STAGEVISOR_FARGATE_POLL_MS overrides it (for tests). */
#define FARGATE_POLL_MS_DEFAULT 10000

/* The fargate options' checks and defaults (--build-id from BUILD_TAG, --branch from
 * BRANCH_NAME/GIT_BRANCH): 0, or -1 having said what is wrong. */
int fargate_check_options(struct run_options *o);

/* What the agent dials: coordinator.advertise's host with the run's port,
 * "https://HOST:PORT/" (a port in advertise is replaced, a path dropped). Pure. 0, or -1 when
 * it does not fit or advertise has no host. */
int fargate_agent_url(const char *advertise, unsigned port, char *out, size_t len);

/* Runs the stage; c is fresh (start_ms set, run_lock -1) and the caller frees it after.
 * Returns the exit code. */
int fargate_run(struct run_core *c, const struct run_options *o);

#endif
