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
 *
 * Built as a loadable module, stagevisor-agent-uplink.so, next to the agent's binary (with the
 * uplink, libevent_openssl and OpenSSL): the agent dlopen()s it only when STAGEVISOR_URL is set,
 * so that an agent without a coordinator never maps OpenSSL (about 1.8 MB of resident memory
 * otherwise, for the relocations of libcrypto alone). The module calls back into the agent's
 * stage_*, events_* and sv_* functions (the executable exports its symbols).
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

/* The module's entry points (dlsym names "uplink_glue_from_env", "uplink_glue_free"):
 * configure from the environment and start: 0 (*out set), 1 (STAGEVISOR_URL unset: no uplink),
 * -1 (err names the bad variable, or why the uplink cannot start). */
#define UPLINK_GLUE_MODULE "stagevisor-agent-uplink.so"
int uplink_glue_from_env(struct event_base *base, struct stage *st, struct events *ev,
			 struct uplink_glue **out, char *err, size_t errsize);
typedef int (*uplink_glue_from_env_fn)(struct event_base *base, struct stage *st, struct events *ev,
				       struct uplink_glue **out, char *err, size_t errsize);
typedef void (*uplink_glue_free_fn)(struct uplink_glue *ug);

#endif
