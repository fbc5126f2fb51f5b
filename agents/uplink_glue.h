/*
 * uplink_glue — plugs the HTTPS uplink (uplink/uplink.h) into a stage when STAGEVISOR_URL is
 * set: every stamped event goes to the uplink (an events sink), each output line becomes a
 * `log` event, the log lines the uplink shed are counted into `end`, and after `end` the stage
 * holds the loop until the coordinator has acknowledged everything or the stop budget is spent
 * (the stage's result does not depend on delivery: the fallback lines on stdout carry the
 * results either way; a failure is said on stderr).
 * Control flags from the coordinator: `cancel` stops the stage (sv_stop(SV_STOP_CANCEL): the
 * normal teardown, `stage/stopping` reason `cancel`, then `end`); `detach` stops the uplink (it
 * drops what is unsent and sends nothing more) while the stage keeps running with its fallback
 * lines, and a line on stderr says so.
 *
 * It owns the uplink (OpenSSL is initialised by uplink_new(), so only with an uplink); it
 * borrows the stage and the events sink (both must outlive it).
 */
#ifndef SV_AGENT_UPLINK_GLUE_H
#define SV_AGENT_UPLINK_GLUE_H

#include <stddef.h>

#include "events.h"
#include "stage.h"
#include "uplink.h"

struct event_base;
struct uplink_glue;

/* Call before stage_start(). cfg is copied (its callbacks are replaced). NULL and err on error. */
struct uplink_glue *uplink_glue_new(struct event_base *base, struct stage *st, struct events *ev,
				    const struct uplink_config *cfg, char *err, size_t errsize);
void uplink_glue_free(struct uplink_glue *ug);

#endif
