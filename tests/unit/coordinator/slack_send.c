/*
 * slack_send — a test tool: posts a fixed stage message with coordinator/slack.c and prints
 * "ok" or "error: TEXT". tests/integration/test_coord_slack.py runs it against local servers.
 *   slack_send [--ca FILE] [--max-total-ms N] [--attempts N] URL
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "slack.h"

int main(int argc, char **argv)
{
	const char *failed[] = {"CartTest::testTotal: Failed asserting that 3 matches expected 4."};
	struct slack_message m = {.stage = "tests", .result = "failed", .build_id = "jenkins-site-7",
		.build_url = "http://jenkins.example.com/job/site/7/", .branch = "main", .passed = 6,
		.failed = 1, .failed_tests = failed, .nfailed_tests = 1, .elapsed_s = 3};
	struct slack_options o = {.request_timeout_ms = 5000};
	char err[512];
	json_t *payload;
	int i, rc;

	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--ca") == 0)
			o.ca_file = argv[i + 1];
		else if (strcmp(argv[i], "--max-total-ms") == 0)
			o.max_total_ms = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--attempts") == 0)
			o.max_attempts = (unsigned)atoi(argv[i + 1]);
		else
			break;
	}
	if (i != argc - 1) {
		fprintf(stderr, "usage: slack_send [--ca FILE] [--max-total-ms N] [--attempts N] URL\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	payload = slack_payload(&m);
	rc = slack_post(argv[i], payload, &o, err, sizeof err);
	if (rc == 0)
		printf("ok\n");
	else
		printf("error: %s\n", err);
	json_decref(payload);
	curl_global_cleanup();
	return rc == 0 ? 0 : 1;
}
