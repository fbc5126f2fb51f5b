/* notify — see notify.h. */
#include "notify.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "slack.h"

#define NOTIFY_LINE_MAX 512u /* one failed test's "Class::name: message" */

static const char *notify_env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

static const char *notify_str(const json_t *ev, const char *key)
{
	const char *v = json_string_value(json_object_get(ev, key));
	return v ? v : "";
}

/* As junit.c decides it: the agent's "fails", else severity error or warning. */
static bool notify_finding_fails(const json_t *ev)
{
	const json_t *f = json_object_get(ev, "fails");
	const char *sev = notify_str(ev, "severity");

	if (json_is_boolean(f))
		return json_is_true(f);
	return strcmp(sev, "error") == 0 || strcmp(sev, "warning") == 0;
}

/* "Class::name: first line of the message", bounded. */
static char *notify_failed_line(const json_t *ev)
{
	const char *cls = notify_str(ev, "class"), *msg = notify_str(ev, "message");
	char *line = malloc(NOTIFY_LINE_MAX);
	int n;

	if (!line)
		return NULL;
	n = snprintf(line, NOTIFY_LINE_MAX, "%s%s%s", cls, *cls ? "::" : "", notify_str(ev, "name"));
	if (n >= 0 && (size_t)n < NOTIFY_LINE_MAX && *msg) {
		size_t first = strcspn(msg, "\n");
		snprintf(line + n, NOTIFY_LINE_MAX - (size_t)n, ": %.*s", (int)(first > 300 ? 300 : first), msg);
	}
	return line;
}

/* STAGEVISOR_CA_FILE when it can be read; otherwise NULL (the system's CAs), with a warning
 * when it was set: a bad CA file costs the notification at worst, never the stage. */
static const char *notify_ca_file(FILE *warn)
{
	const char *path = notify_env("STAGEVISOR_CA_FILE");
	FILE *f;

	if (!path)
		return NULL;
	if (!(f = fopen(path, "r"))) {
		if (warn)
			fprintf(warn, "warning: STAGEVISOR_CA_FILE: cannot read %s: %s; using the system's CAs for Slack\n",
				path, strerror(errno));
		return NULL;
	}
	fclose(f);
	return path;
}

int notify_stage(const char *webhook_url, const struct report *r, const struct stream *s,
		 const char *branch, const char *playground_url, FILE *warn)
{
	char *failed[SLACK_FAILED_SHOWN] = {0};
	char problem[700], err[512];
	struct slack_message m = {0};
	struct slack_options so = {0};
	size_t nshown = 0, nfailed = 0;
	uint64_t max = s ? stream_max_seq(s) : 0;
	json_t *payload = NULL;
	int rc = -1;

	if (!webhook_url || !*webhook_url)
		return 0;
	m.stage = r->stage ? r->stage : "stage";
	m.result = r->result ? r->result : "infrastructure-error";
	m.build_id = notify_env("BUILD_TAG");
	m.build_url = notify_env("BUILD_URL");
	m.branch = branch && *branch ? branch : NULL;
	m.playground_url = playground_url && *playground_url ? playground_url : NULL;
	m.passed = r->tally.passed;
	m.failed = r->tally.failed;
	m.errors = r->tally.error;
	m.skipped = r->tally.skipped;
	m.findings = r->tally.f_error + r->tally.f_warning + r->tally.f_info;
	m.elapsed_s = r->elapsed_s;
	/* The stream in order, as the JUnit file lists it: the first failed tests by name, and the
	 * findings that fail the stage (the tally has severities, not the agent's verdict). */
	for (uint64_t seq = 1; seq <= max; seq++) {
		enum stream_kind kind = stream_kind(s, seq);
		json_t *ev;
		if (kind != STREAM_KIND_TEST && kind != STREAM_KIND_FINDING)
			continue;
		if (!(ev = stream_load(s, seq)))
			continue;
		if (kind == STREAM_KIND_FINDING) {
			m.findings_failing += notify_finding_fails(ev);
		} else if (strcmp(notify_str(ev, "status"), "failed") == 0 ||
			   strcmp(notify_str(ev, "status"), "error") == 0) {
			if (nshown < SLACK_FAILED_SHOWN && (failed[nshown] = notify_failed_line(ev)))
				nshown++;
			nfailed++;
		}
		json_decref(ev);
	}
	m.failed_tests = (const char *const *)failed;
	m.nfailed_tests = nfailed > nshown ? nfailed : nshown;
	if (r->ninfra > 0) {
		snprintf(problem, sizeof problem, "%s: %s", r->infra[0].name, r->infra[0].message);
		m.problem = problem;
	}
	if (!(payload = slack_payload(&m))) {
		snprintf(err, sizeof err, "out of memory");
		goto out;
	}
	/* slack_post() keeps the URL out of err: the warning can be printed as it is. */
	so.ca_file = notify_ca_file(warn);
	if (slack_post(webhook_url, payload, &so, err, sizeof err) == 0)
		rc = 0;
out:
	if (rc != 0 && warn)
		fprintf(warn, "warning: Slack notification failed: %s\n", err);
	json_decref(payload);
	for (size_t i = 0; i < nshown; i++)
		free(failed[i]);
	return rc;
}
