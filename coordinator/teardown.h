/*
 * teardown — `stagevisor teardown [--dry-run] --config FILE`: the nightly clean-up of the
 * pipeline's cluster. Among the running tasks this tool started (startedBy stagevisor), it stops
 *   - playgrounds whose expiry (the stagevisor:expires tag: the close of business after their
 *     `up`) has passed; a playground without a readable expiry tag, once it has run
 *     TEARDOWN_UNTAGGED_MAX_S;
 *   - stage tasks whose expiry tag has passed, or that have run longer than --max-stage-age
 *     (default TEARDOWN_STAGE_AGE_DEFAULT_S): without Jenkins access, "the build is gone" is
 *     judged by age: no build runs a stage that long, so its coordinator is gone;
 * and deletes the Route 53 record of each stopped playground, and the record left behind by a
 * playground task that stopped by itself (when no running task has that name). Every action is
 * a line; --dry-run prints them as "would …" and changes nothing. A second run finds nothing
 * and says so.
 *
 * teardown_judge() is the pure decision, unit-tested; teardown_command() the AWS side.
 */
#ifndef SV_COORD_TEARDOWN_H
#define SV_COORD_TEARDOWN_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define TEARDOWN_STAGE_AGE_DEFAULT_S (6 * 3600)
#define TEARDOWN_UNTAGGED_MAX_S (24 * 3600)

enum teardown_verdict { TEARDOWN_KEEP = 0, TEARDOWN_STOP = 1 };

/* Whether a running task (a DescribeTasks object with tags) is to be stopped at now (UTC
 * seconds), with the reason ("playground expired at 2026-12-04T19:00:00Z"). */
enum teardown_verdict teardown_judge(const json_t *task, long long now, long long max_stage_age_s, char *why,
				     size_t whylen);

int teardown_command(int argc, char **argv);
void teardown_usage(void);

#endif
