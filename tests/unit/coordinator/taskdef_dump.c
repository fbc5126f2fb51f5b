/*
 * taskdef_dump — a test tool: prints the RegisterTaskDefinition and RunTask requests that
 * coordinator/taskdef.c builds for each stage of a pipeline config, one JSON object per line
 * ({"stage", "register", "run"}), so a test can check them against botocore's ECS model.
 * BUILD_ID (default jenkins-site-PR-12-7) is the run's build id: ${BUILD_ID} in an image is
 * expanded with it as `run` does (taskdef_stage_for_build).
 *   taskdef_dump PIPELINE.json [BUILD_ID]
 */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "pipeline.h"
#include "taskdef.h"

int main(int argc, char **argv)
{
	struct pipeline_error err;
	struct pipeline *p;
	char line[1024];
	int rc = 0;

	const char *build_id = argc == 3 ? argv[2] : "jenkins-site-PR-12-7";

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: taskdef_dump PIPELINE.json [BUILD_ID]\n");
		return 2;
	}
	p = pipeline_load(argv[1], &err);
	if (!p) {
		pipeline_error_format(&err, line, sizeof line);
		fprintf(stderr, "taskdef_dump: %s: %s\n", argv[1], line);
		return 1;
	}
	for (size_t i = 0; i < p->nstages; i++) {
		struct pipeline_stage stage, *st = &stage;
		struct taskdef_run run = {build_id, "feature/JIRA-123", "sv-0123456789abcdef",
			"svt1.0000", "https://jenkins.example.com:30001/", "00ff", "stagevisor-x:1", 1700000000};
		char hash[17], why[512], image[TASKDEF_IMAGE_MAX + 1];
		json_t *reg, *runreq, *out;
		char *text;

		if (taskdef_stage_for_build(&p->stages[i], build_id, &stage, image, sizeof image, why, sizeof why) < 0) {
			fprintf(stderr, "taskdef_dump: %s\n", why);
			rc = 1;
			continue;
		}
		reg = taskdef_register_request(p, st, hash);
		runreq = taskdef_run_request(p, st, &run, why, sizeof why);

		if (!reg || !runreq) {
			fprintf(stderr, "taskdef_dump: stage %s: %s\n", st->name, runreq ? "out of memory" : why);
			json_decref(reg);
			json_decref(runreq);
			rc = 1;
			continue;
		}
		out = json_pack("{s:s, s:s, s:o, s:o}", "stage", st->name, "hash", hash, "register", reg,
				"run", runreq);
		text = json_dumps(out, JSON_COMPACT);
		puts(text);
		free(text);
		json_decref(out);
	}
	pipeline_free(p);
	return rc;
}
