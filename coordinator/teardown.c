/* teardown — see teardown.h. */
#include "teardown.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "expiry.h"
#include "fgplay.h"
#include "fgtask.h"
#include "pipeline.h"
#include "report.h"
#include "route53.h"
#include "taskdef.h"

void teardown_usage(void)
{
	printf("usage: stagevisor teardown --config FILE [--dry-run] [--max-stage-age S] [AWS options]\n"
	       "\n"
	       "Stops what should no longer run on the pipeline's cluster, among the running tasks\n"
	       "this tool started (startedBy stagevisor), found by their tags:\n"
	       "  - playgrounds whose stagevisor:expires tag (the close of business after their\n"
	       "    `up`) has passed; one without that tag once it has run 24 h;\n"
	       "  - stage tasks whose expiry tag has passed or that have run longer than\n"
	       "    --max-stage-age (their build is gone: no build runs a stage that long);\n"
	       "and deletes the Route 53 records of the playgrounds it stops, and records left by\n"
	       "playground tasks that stopped by themselves. Each action is one line; a second run\n"
	       "does nothing and says so.\n"
	       "\n"
	       "  --config FILE        the pipeline config\n"
	       "  --dry-run            list what would be done, change nothing\n"
	       "  --max-stage-age S    a stage task's longest life in seconds (default %d, 6 h)\n"
	       "  --profile P, --region R, --endpoint-url URL\n"
	       "                       AWS, as for the AWS CLI (default region: aws.region)\n"
	       "\n"
	       "Exit codes: 0 done (or nothing to do), 2 usage or config error, 3 an AWS call failed\n"
	       "(the other actions are still made).\n",
	       TEARDOWN_STAGE_AGE_DEFAULT_S);
}

enum teardown_verdict teardown_judge(const json_t *task, long long now, long long max_stage_age_s, char *why,
				     size_t whylen)
{
	const char *slug = fgplay_task_slug(task);
	const char *desired = json_string_value(json_object_get(task, "desiredStatus"));
	long long expires, started = fgplay_task_started(task);
	bool tagged = expiry_parse_tag(fgtask_tag(task, TASKDEF_TAG_EXPIRES), &expires) == 0;
	char when[32];

	why[0] = '\0';
	if (desired && strcmp(desired, "RUNNING") != 0)
		return TEARDOWN_KEEP; /* already on its way out */
	if (tagged && now >= expires) {
		expiry_format_utc(expires, when, sizeof when);
		snprintf(why, whylen, "%s expired at %s", slug ? "playground" : "stage task", when);
		return TEARDOWN_STOP;
	}
	if (slug) {
		if (!tagged && started && now - started >= TEARDOWN_UNTAGGED_MAX_S) {
			snprintf(why, whylen, "playground without an expiry tag, running for %lld h",
				 (now - started) / 3600);
			return TEARDOWN_STOP;
		}
		return TEARDOWN_KEEP;
	}
	if (started && max_stage_age_s > 0 && now - started >= max_stage_age_s) {
		snprintf(why, whylen, "stage task running for %lld min, longer than any build (--max-stage-age %lld s): "
			 "its build is gone", (now - started) / 60, max_stage_age_s);
		return TEARDOWN_STOP;
	}
	return TEARDOWN_KEEP;
}

static const char *td_label(const json_t *t, char *buf, size_t len)
{
	const char *slug = fgplay_task_slug(t), *branch = fgtask_tag(t, TASKDEF_TAG_BRANCH);
	const char *stage = fgtask_tag(t, TASKDEF_TAG_STAGE), *build = fgtask_tag(t, TASKDEF_TAG_BUILD);

	if (slug)
		snprintf(buf, len, "playground %s (task %s)", branch ? branch : slug, fgplay_task_id(t));
	else
		snprintf(buf, len, "stage %s of %s (task %s)", stage ? stage : "?", build ? build : "?", fgplay_task_id(t));
	return buf;
}

static bool td_slug_in(const json_t *tasks, const char *slug, bool running)
{
	size_t i;
	json_t *t;

	json_array_foreach((json_t *)tasks, i, t) {
		const char *s = fgplay_task_slug(t), *d = json_string_value(json_object_get(t, "desiredStatus"));
		bool is_running = !d || strcmp(d, "RUNNING") == 0;
		if (s && strcmp(s, slug) == 0 && is_running == running)
			return true;
	}
	return false;
}

int teardown_command(int argc, char **argv)
{
	enum { O_CONFIG = 256, O_DRY, O_AGE, O_PROFILE, O_REGION, O_ENDPOINT, O_HELP };
	static const struct option longopts[] = {
		{"config", required_argument, NULL, O_CONFIG}, {"dry-run", no_argument, NULL, O_DRY},
		{"max-stage-age", required_argument, NULL, O_AGE}, {"help", no_argument, NULL, O_HELP},
		{"profile", required_argument, NULL, O_PROFILE}, {"region", required_argument, NULL, O_REGION},
		{"endpoint-url", required_argument, NULL, O_ENDPOINT},
		{NULL, 0, NULL, 0}};
	const char *config = NULL;
	struct fgplay_aws aws = {NULL, NULL, NULL};
	bool dry = false;
	long long max_age = TEARDOWN_STAGE_AGE_DEFAULT_S, now;
	struct pipeline *p = NULL;
	struct pipeline_error pe;
	struct aws_client *c = NULL;
	json_t *tasks = NULL, *t, *done_slugs = json_object();
	char err[1024], why[512], label[600], fqdn[ROUTE53_NAME_MAX + 1], ip[64];
	unsigned stopped = 0, records = 0, running = 0, failures = 0, ttl;
	size_t i;
	int ch, rc = REPORT_USAGE;
	char *end;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case O_CONFIG: config = optarg; break;
		case O_DRY: dry = true; break;
		case O_PROFILE: aws.profile = optarg; break;
		case O_REGION: aws.region = optarg; break;
		case O_ENDPOINT: aws.endpoint_url = optarg; break;
		case O_AGE:
			errno = 0;
			max_age = strtoll(optarg, &end, 10);
			if (errno || *end || end == optarg || max_age <= 0) {
				fprintf(stderr, "stagevisor teardown: --max-stage-age: expected seconds, got \"%s\"\n", optarg);
				goto done;
			}
			break;
		case 'h':
		case O_HELP: teardown_usage(); rc = 0; goto done;
		default: goto done;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "stagevisor teardown: unexpected argument: %s\n", argv[optind]);
		goto done;
	}
	if (!config) {
		fprintf(stderr, "stagevisor teardown: --config FILE is required\n");
		goto done;
	}
	if (!(p = pipeline_load(config, &pe))) {
		pipeline_error_format(&pe, err, sizeof err);
		fprintf(stderr, "stagevisor teardown: %s: %s\n", config, err);
		goto done;
	}
	rc = REPORT_INFRA;
	if (!(c = fgplay_client(p, &aws, err, sizeof err)) || fgtask_list(c, p->aws.cluster, true, &tasks, err, sizeof err) < 0) {
		fprintf(stderr, "stagevisor teardown: %s\n", err);
		goto done;
	}
	now = (long long)time(NULL);
	json_array_foreach(tasks, i, t) {
		const char *d = json_string_value(json_object_get(t, "desiredStatus"));
		const char *arn = json_string_value(json_object_get(t, "taskArn"));

		if (d && strcmp(d, "RUNNING") != 0)
			continue;
		running++;
		if (teardown_judge(t, now, max_age, why, sizeof why) != TEARDOWN_STOP)
			continue;
		td_label(t, label, sizeof label);
		if (dry) {
			printf("would stop %s: %s\n", label, why);
		} else if (fgtask_stop(c, p->aws.cluster, arn, "stagevisor teardown", err, sizeof err) < 0) {
			fprintf(stderr, "stagevisor teardown: %s: %s\n", label, err);
			failures++;
			continue;
		} else {
			printf("stopped %s: %s\n", label, why);
		}
		stopped++;
		json_object_set_new(t, "desiredStatus", json_string("STOPPED")); /* for the record pass below */
	}
	/* Records of playgrounds that no longer run: the ones just stopped, and any left behind. */
	json_array_foreach(tasks, i, t) {
		const char *slug = fgplay_task_slug(t);
		bool deleted = false;
		int found;

		if (!slug || td_slug_in(tasks, slug, true) || json_object_get(done_slugs, slug) ||
		    fgplay_fqdn(p, slug, fqdn, sizeof fqdn) < 0)
			continue;
		json_object_set_new(done_slugs, slug, json_true());
		found = route53_find(c, p->aws.route53->zone_id, fqdn, ip, sizeof ip, &ttl, err, sizeof err);
		if (found < 0) {
			fprintf(stderr, "stagevisor teardown: %s\n", err);
			failures++;
			continue;
		}
		if (found == 0)
			continue;
		if (dry) {
			printf("would delete record %s (A %s)\n", fqdn, ip);
		} else if (route53_delete(c, p->aws.route53->zone_id, fqdn, ROUTE53_WAIT_DEFAULT_S, stdout, &deleted, err,
					  sizeof err) < 0) {
			fprintf(stderr, "stagevisor teardown: record %s: %s\n", fqdn, err);
			failures++;
			continue;
		} else {
			printf(deleted ? "deleted record %s (A %s)\n" : "record %s (A %s) was already gone\n", fqdn, ip);
		}
		records += dry || deleted;
	}
	if (stopped == 0 && records == 0 && failures == 0)
		printf("teardown: nothing to do (%u running task%s of this tool, none expired; no stale record)\n", running,
		       running == 1 ? "" : "s");
	else
		printf("teardown: %s %u task%s, %s %u record%s%s\n", dry ? "would stop" : "stopped", stopped,
		       stopped == 1 ? "" : "s", dry ? "would delete" : "deleted", records, records == 1 ? "" : "s",
		       dry ? " (dry run: nothing changed)" : "");
	rc = failures ? REPORT_INFRA : 0;
done:
	json_decref(tasks);
	json_decref(done_slugs);
	aws_client_free(c);
	pipeline_free(p);
	return rc;
}
