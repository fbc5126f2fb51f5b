/*
 * notify — a finished stage told to Slack: the report and the stream turned into a
 * slack_message (status, counts, the first failed tests, the playground URL, BUILD_URL and
 * BUILD_TAG from Jenkins' environment) and posted with slack_post().
 *
 * A Slack failure never changes a stage's result: it is one warning line on the console
 * ("warning: Slack notification failed: HTTP 404: no_service"), never naming the webhook URL.
 * No webhook (NULL or "") is a no-op.
 * STAGEVISOR_CA_FILE (a PEM bundle) replaces the system's CAs for the post, for a Slack reached
 * through a TLS-inspecting proxy; one that cannot be read is a warning and the system's CAs.
 */
#ifndef SV_COORD_NOTIFY_H
#define SV_COORD_NOTIFY_H

#include <stdio.h>

#include "report.h"
#include "stream.h"

/* Posts the stage's message; warnings go to warn. Returns 0 when posted or nothing to do,
 * -1 when Slack could not be told (already warned). */
int notify_stage(const char *webhook_url, const struct report *r, const struct stream *s,
		 const char *branch, const char *playground_url, FILE *warn);

#endif
