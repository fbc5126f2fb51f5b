/*
 * uplink — the agent's HTTPS client: delivers a stream's stamped events to the coordinator
 * (protocol/PROTOCOL.md, "Transport") and keeps every event until it is acknowledged.
 *
 * What it does: one kept-alive TLS connection (libevent evhttp over bufferevent_openssl;
 * replaced when it breaks, resuming the TLS session, at once when the ack advanced since the
 * previous break), batches flushed by size or after a short delay (the size limit and the
 * request timeout adapt to the path: uplink_pacer.h), one request in flight,
 * exponential backoff with jitter (and Retry-After) on failure, resume from the coordinator's
 * ack, a bounded memory buffer and then a bounded spool file, shedding of log lines (never
 * results) when both are full, control flags (cancel, detach) from the answers, and a bounded
 * finish that waits for the `end` event's acknowledgement.
 * What it does not do: it does not stamp, count or write events anywhere else (the agent's
 * event sink does: agents/events.h), and it never initialises OpenSSL unless uplink_new() is
 * called, so an agent without STAGEVISOR_URL stays small.
 *
 * Use (the agent's main):
 *   struct uplink_config cfg;
 *   switch (uplink_config_from_env(&cfg, err, sizeof err)) { 1: no uplink; -1: exit 125 }
 *   cfg.on_control = ...;                      (optional)
 *   up = uplink_new(base, &cfg, err, sizeof err);
 *   events_add_sink(events, uplink_sink, up);  (or uplink_push() per stamped event)
 *   ... at teardown: events_count_shed_log(events, uplink_shed_logs(up)); emit `end`;
 *   uplink_finish(up, &budget, done, arg); run the loop until done(); uplink_free(up).
 * Ownership: the uplink copies the config; pushed events are copied (encoded) at once.
 * Single-threaded: every call from the event loop's thread. The process must ignore SIGPIPE
 * (a peer closing a TLS connection must not kill the agent).
 * The coordinator's ack decides what is resent: the next batch always starts at ack + 1
 * (resend_from, when present, says the same).
 */
#ifndef SV_UPLINK_H
#define SV_UPLINK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include "protocol/protocol.h"

struct event_base;

#define UPLINK_HOST_MAX 255u
#define UPLINK_PATH_MAX 1024u

/* Defaults (uplink_config_defaults). */
#define UPLINK_BUFFER_BYTES_DEFAULT (1024u * 1024u) /* keeps the agent near 8 MB with 100k events in flight */
#define UPLINK_SPOOL_BYTES_DEFAULT (64ull * 1024u * 1024u)
#define UPLINK_BATCH_BYTES_DEFAULT (256u * 1024u)
#define UPLINK_BATCH_EVENTS_DEFAULT PR_BATCH_EVENTS_MAX
#define UPLINK_FLUSH_DELAY_MS_DEFAULT 10u
#define UPLINK_BACKOFF_BASE_MS_DEFAULT 50u
#define UPLINK_BACKOFF_CAP_MS_DEFAULT 5000u
#define UPLINK_RETRY_AFTER_MAX_MS 30000u
#define UPLINK_TIMEOUT_MS_DEFAULT 10000u /* the longest; learnt round trips shorten it */

struct uplink_config {
	/* From STAGEVISOR_URL = https://host[:port][/prefix/] */
	char host[UPLINK_HOST_MAX + 1]; /* without the brackets of an IPv6 literal */
	unsigned port;                  /* 443 when absent */
	char path[UPLINK_PATH_MAX + 1]; /* the full request path, ".../v1/streams/{stream}/events" */
	char stream[PR_STREAM_MAX + 1];  /* STAGEVISOR_STREAM */
	char token[PR_TOKEN_LEN + 1];    /* STAGEVISOR_TOKEN */
	bool have_pin;                   /* STAGEVISOR_PIN: SHA-256 of the server's certificate (DER) */
	unsigned char pin[32];
	char ca_file[4096];              /* STAGEVISOR_CA_FILE: verify chain + host name ("" = none) */
	char spool_path[4096];           /* STAGEVISOR_SPOOL ("" = $TMPDIR/stagevisor-spool-{stream}) */
	size_t buffer_bytes;             /* STAGEVISOR_BUFFER_BYTES: memory bound */
	uint64_t spool_bytes;            /* STAGEVISOR_SPOOL_BYTES: file bound, 0 = no spool file */
	size_t batch_bytes;              /* flush when this many bytes of events wait */
	size_t batch_events;             /* ... or this many events (<= PR_BATCH_EVENTS_MAX) */
	unsigned flush_delay_ms;         /* ... or this long after the first one waits */
	unsigned backoff_base_ms, backoff_cap_ms;
	unsigned timeout_ms;             /* connect / request timeout */
	/* Called when a control flag first turns true in an answer (cancel, detach). */
	void (*on_control)(void *arg, bool cancel, bool detach);
	/* Where warnings go (one line, no newline); NULL = stderr with "stagevisor-agent: uplink: ". */
	void (*on_log)(void *arg, const char *line);
	void *cb_arg;
};

/* Defaults for everything but host/port/path/stream/token/pin/ca_file. */
void uplink_config_defaults(struct uplink_config *cfg);

/*
 * Fill cfg from the environment (after uplink_config_defaults()). 0 = configured;
 * 1 = STAGEVISOR_URL is unset or empty (run without an uplink); -1 = a variable is bad,
 * err names it ("STAGEVISOR_PIN: not 32 bytes of hex"). Needs STAGEVISOR_STREAM,
 * STAGEVISOR_TOKEN and STAGEVISOR_PIN or STAGEVISOR_CA_FILE (never an unverified server).
 * Reads the environment only: no OpenSSL, no files.
 */
int uplink_config_from_env(struct uplink_config *cfg, char *err, size_t errlen);

/* Pure parts of the above, for tests and for callers with their own configuration. */
int uplink_config_set_url(struct uplink_config *cfg, const char *url, char *err, size_t errlen);
/* 64 hex digits, with or without colons between bytes, any case. */
int uplink_pin_parse(const char *text, unsigned char pin[32]);

/* Starts nothing yet: the first push (or finish) connects. NULL and err on failure. */
struct uplink *uplink_new(struct event_base *base, const struct uplink_config *cfg, char *err,
			  size_t errlen);

/*
 * Hand over one stamped event (v/stream/seq/ts set, seq = the previous one + 1; the first
 * push may start at any seq). compact is its compact JSON (pr_event_encode()), or NULL to
 * have it encoded here. Returns 0 (kept until acknowledged), 1 (a log line shed: both bounds
 * are full; a placeholder keeps its seq, see uplink_shed_logs()), or -1 (not this stream,
 * seq out of order, or after detach/finish's end: the event is not sent).
 */
int uplink_push(struct uplink *up, const json_t *event, const char *compact, size_t len);

/* The same with the signature of the agent's event sink (events_sink_fn); arg = the uplink. */
void uplink_sink(void *arg, json_t *event, const char *compact, size_t len);

/*
 * Flush everything now (no flush delay) and call done(arg, acked_all) once: acked_all = 1
 * when every pushed event (the last being `end`) is acknowledged, 0 when budget ran out
 * first or the coordinator detached. done is never called from inside uplink_finish().
 * After done, the uplink sends nothing more; free it.
 */
void uplink_finish(struct uplink *up, const struct timeval *budget,
		   void (*done)(void *arg, int acked_all), void *arg);

/* Log lines shed so far (for end.totals.shed.log). */
uint64_t uplink_shed_logs(const struct uplink *up);

struct uplink_stats {
	uint64_t pushed;       /* events accepted (incl. shed placeholders) */
	uint64_t acked;        /* the coordinator's ack */
	uint64_t shed_log;     /* log lines shed */
	uint64_t over_bound;   /* results kept in memory beyond the bound */
	uint64_t requests;     /* requests sent */
	uint64_t failures;     /* requests that failed (connection, timeout, non-200) */
	uint64_t timeouts;     /* ... of which were abandoned after the pacer's timeout (a stall) */
	uint64_t connections;  /* TLS connections opened */
	uint64_t resumed;      /* ... of which resumed the previous TLS session (and answered) */
	size_t mem_bytes;      /* buffered in memory */
	uint64_t spool_bytes;  /* buffered in the spool file */
	bool detached, cancelled;
};
void uplink_get_stats(const struct uplink *up, struct uplink_stats *st);

void uplink_free(struct uplink *up);

#endif
