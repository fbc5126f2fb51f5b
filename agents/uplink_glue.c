/* uplink_glue — see uplink_glue.h. */
#include "uplink_glue.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "protocol/protocol.h"
#include "supervisor.h"

#define UPLINK_GLUE_MARGIN_MS 100u

struct uplink_glue {
	struct stage *st;
	struct events *ev;
	struct uplink *up;
	bool finishing;
	bool held;
};

static void uplink_glue_on_log(void *arg, const char *line)
{
	struct uplink_glue *ug = arg;

	stage_say(ug->st, "stagevisor-agent: uplink: %s", line);
}

static void uplink_glue_on_control(void *arg, bool cancel, bool detach)
{
	struct uplink_glue *ug = arg;

	if (cancel) {
		stage_say(ug->st, "stagevisor-agent: uplink: the coordinator cancelled the stage");
		sv_stop(stage_supervisor(ug->st), SV_STOP_CANCEL);
	}
	if (detach)
		stage_say(ug->st, "stagevisor-agent: uplink: the coordinator detached: the stage goes on, "
			"its events only on stdout");
}

static void uplink_glue_on_finished(void *arg, int acked_all)
{
	struct uplink_glue *ug = arg;
	struct uplink_stats s;

	uplink_get_stats(ug->up, &s);
	if (!acked_all && !s.detached)
		stage_say(ug->st, "stagevisor-agent: uplink: not every event was acknowledged within the stop budget "
			"(%llu of %llu; %llu requests failed): the coordinator must rebuild the stream from "
			"the fallback lines on stdout",
		    (unsigned long long)s.acked, (unsigned long long)events_last_seq(ug->ev),
		    (unsigned long long)s.failures);
	if (ug->held) {
		ug->held = false;
		stage_release(ug->st);
	}
}

/* The events sink: every stamped event to the uplink; after `end`, the bounded finish. */
static void uplink_glue_sink(void *arg, json_t *event, const char *compact, size_t len)
{
	struct uplink_glue *ug = arg;

	uplink_push(ug->up, event, compact, len);
	if (pr_event_type(event) == PR_TYPE_END && !ug->finishing) {
		/* A little less than the stage's hold (stage.c) so the uplink's own answer (done,
		 * with its warning) comes before the stage stops holding the loop. */
		uint64_t left = sv_budget_left_ms(stage_supervisor(ug->st));
		left = left > UPLINK_GLUE_MARGIN_MS * 2 ? left - UPLINK_GLUE_MARGIN_MS : left / 2;
		struct timeval tv = { .tv_sec = (time_t)(left / 1000),
				      .tv_usec = (suseconds_t)((left % 1000) * 1000) };

		ug->finishing = true;
		uplink_finish(ug->up, &tv, uplink_glue_on_finished, ug);
	}
}

/* Before `end` is built: what was shed so far counts in end.totals.shed.log (no log event
 * can follow, events.c refuses everything after `end`). */
static void uplink_glue_on_done(void *arg, int result)
{
	struct uplink_glue *ug = arg;

	(void)result;
	events_count_shed_log(ug->ev, uplink_shed_logs(ug->up));
}

struct uplink_glue *uplink_glue_new(struct event_base *base, struct stage *st, struct events *ev,
				    const struct uplink_config *cfg, char *err, size_t errsize)
{
	struct uplink_glue *ug = calloc(1, sizeof *ug);
	struct uplink_config c = *cfg;

	if (!ug) {
		snprintf(err, errsize, "out of memory");
		return NULL;
	}
	ug->st = st;
	ug->ev = ev;
	c.on_control = uplink_glue_on_control;
	c.on_log = uplink_glue_on_log;
	c.cb_arg = ug;
	ug->up = uplink_new(base, &c, err, errsize);
	if (!ug->up)
		goto fail;
	if (events_add_sink(ev, uplink_glue_sink, ug) < 0 || stage_add_done_hook(st, uplink_glue_on_done, ug) < 0) {
		snprintf(err, errsize, "too many event sinks or hooks");
		goto fail;
	}
	if (stage_enable_log_events(st) < 0) {
		snprintf(err, errsize, "too many output line hooks");
		goto fail;
	}
	stage_hold(st);
	ug->held = true;
	return ug;
fail:
	uplink_glue_free(ug);
	return NULL;
}

void uplink_glue_free(struct uplink_glue *ug)
{
	if (!ug)
		return;
	uplink_free(ug->up);
	free(ug);
}

int uplink_glue_from_env(struct event_base *base, struct stage *st, struct events *ev,
			 struct uplink_glue **out, char *err, size_t errsize)
{
	struct uplink_config cfg;
	int rc;

	*out = NULL;
	uplink_config_defaults(&cfg);
	rc = uplink_config_from_env(&cfg, err, errsize);
	if (rc != 0)
		return rc;
	*out = uplink_glue_new(base, st, ev, &cfg, err, errsize);
	return *out ? 0 : -1;
}
