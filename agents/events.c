/* events — see events.h. */
#include "events.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "protocol/protocol.h"

struct events {
	char stream[PR_STREAM_MAX + 1];
	uint64_t seq; /* last sequence number used */
	struct pr_totals totals;
	struct {
		events_sink_fn fn;
		void *arg;
	} sinks[EVENTS_MAX_SINKS];
	size_t nsinks;
	bool ended; /* `end` was emitted: the stream is closed */
	json_t *log; /* the reused stamped `log` event of events_emit_log(), or NULL */
	char *text;  /* its compact text: PR_EVENT_MAX + 1 bytes */
	char *lossy; /* a line as UTF-8: LOSSY_MAX bytes */
};

/* Lines up to this many bytes take the direct path (the bound keeps the buffers small). */
#define LOG_LINE_FAST 8192u
#define LOSSY_MAX (3u * LOG_LINE_FAST)

struct events *events_new(const char *stream)
{
	struct events *ev;

	if (!stream || !pr_stream_valid(stream))
		return NULL;
	ev = calloc(1, sizeof *ev);
	if (!ev)
		return NULL;
	strcpy(ev->stream, stream); /* length checked by pr_stream_valid */
	ev->text = malloc(PR_EVENT_MAX + 1);
	ev->lossy = malloc(LOSSY_MAX);
	if (!ev->text || !ev->lossy) {
		events_free(ev);
		return NULL;
	}
	return ev;
}

void events_free(struct events *ev)
{
	if (!ev)
		return;
	json_decref(ev->log);
	free(ev->text);
	free(ev->lossy);
	free(ev);
}

int events_add_sink(struct events *ev, events_sink_fn fn, void *arg)
{
	if (ev->nsinks >= EVENTS_MAX_SINKS)
		return -1;
	ev->sinks[ev->nsinks].fn = fn;
	ev->sinks[ev->nsinks].arg = arg;
	ev->nsinks++;
	return 0;
}

int events_emit(struct events *ev, json_t *event)
{
	struct timespec now;
	char *text = NULL;
	size_t len = 0;
	int rc = -1;

	if (!event)
		return -1;
	if (ev->ended)
		goto out; /* nothing follows `end` (e.g. a late output line of a leaked pipe) */
	clock_gettime(CLOCK_REALTIME, &now);
	if (pr_event_stamp(event, ev->stream, ev->seq + 1, &now, NULL) < 0)
		goto out;
	text = pr_event_encode(event, &len);
	if (!text)
		goto out;
	ev->seq++;
	if (pr_event_type(event) != PR_TYPE_END)
		pr_totals_count(&ev->totals, event);
	else
		ev->ended = true;
	for (size_t i = 0; i < ev->nsinks; i++)
		ev->sinks[i].fn(ev->sinks[i].arg, event, text, len);
	rc = 0;
out:
	free(text);
	json_decref(event);
	return rc;
}

static int emit_log_slow(struct events *ev, const char *process, int fd, const char *line,
			 size_t len, bool cont)
{
	json_t *e = pr_event_new(PR_TYPE_LOG);

	if (!e)
		return -1;
	json_object_set_new(e, "process", json_string(process));
	json_object_set_new(e, "fd", json_string(fd == 2 ? "stderr" : "stdout"));
	json_object_set_new(e, "line", pr_string_lossy(line, len));
	if (cont)
		json_object_set_new(e, "cont", json_true());
	return events_emit(ev, e);
}

/* The reused `log` event with its members in the order events_emit() gives them. */
static json_t *log_object(struct events *ev)
{
	json_t *e;

	if (ev->log)
		return ev->log;
	e = json_pack("{s:i,s:s,s:i,s:s,s:s,s:s,s:s,s:s}", "v", PR_VERSION, "stream", ev->stream,
		      "seq", (json_int_t)1, "ts", "", "type", "log", "process", "", "fd", "stdout",
		      "line", "");
	ev->log = e;
	return e;
}

int events_emit_log(struct events *ev, const char *process, int fd, const char *line, size_t len,
		    bool cont)
{
	static const char cont_member[] = ",\"cont\":true}";
	char tsbuf[PR_TS_LEN + 1];
	struct timespec now;
	size_t plen, n, o;
	json_t *e;
	int wrote;

	if (ev->ended)
		return -1;
	if (!line)
		len = 0;
	plen = process ? strlen(process) : 0;
	/* Anything unusual (long lines, odd process names) takes the general path. */
	if (!process || len > LOG_LINE_FAST || plen > 256 || !pr_utf8_valid(process, plen) ||
	    ev->seq + 1 > PR_SEQ_MAX)
		return emit_log_slow(ev, process, fd, line, len, cont);
	e = log_object(ev);
	if (!e)
		return emit_log_slow(ev, process, fd, line, len, cont);
	clock_gettime(CLOCK_REALTIME, &now);
	if (pr_ts_format(&now, tsbuf) < 0)
		return -1;
	n = len ? pr_utf8_lossy(line, len, ev->lossy) : 0;
	/* Envelope, then the body; at most ~250 + 6 * 256 + 6 * LOSSY_MAX bytes would be too
	 * many for PR_EVENT_MAX: check the bound before quoting the line. */
	wrote = snprintf(ev->text, PR_EVENT_MAX + 1,
			 "{\"v\":%d,\"stream\":\"%s\",\"seq\":%llu,\"ts\":\"%s\",\"type\":\"log\","
			 "\"process\":",
			 PR_VERSION, ev->stream, (unsigned long long)(ev->seq + 1), tsbuf);
	if (wrote < 0)
		return -1;
	o = (size_t)wrote;
	if (o + 6 * plen + 2 + 24 + 8 + 6 * n + 2 + sizeof cont_member > PR_EVENT_MAX) {
		/* Might not fit: the general path decides exactly. */
		return emit_log_slow(ev, process, fd, line, len, cont);
	}
	o += pr_json_quote(process, plen, ev->text + o);
	memcpy(ev->text + o, fd == 2 ? ",\"fd\":\"stderr\"" : ",\"fd\":\"stdout\"", 14);
	o += 14;
	memcpy(ev->text + o, ",\"line\":", 8);
	o += 8;
	o += pr_json_quote(ev->lossy, n, ev->text + o);
	if (cont) {
		memcpy(ev->text + o, cont_member, sizeof cont_member - 1);
		o += sizeof cont_member - 1;
	} else {
		ev->text[o++] = '}';
	}
	ev->text[o] = '\0';

	if (json_integer_set(json_object_get(e, "seq"), (json_int_t)(ev->seq + 1)) ||
	    json_string_setn_nocheck(json_object_get(e, "ts"), tsbuf, PR_TS_LEN) ||
	    json_string_setn_nocheck(json_object_get(e, "process"), process, plen) ||
	    json_string_set_nocheck(json_object_get(e, "fd"), fd == 2 ? "stderr" : "stdout") ||
	    json_string_setn_nocheck(json_object_get(e, "line"), ev->lossy, n) ||
	    (cont ? json_object_set_new(e, "cont", json_true()) : 0)) {
		json_decref(e);
		ev->log = NULL;
		return emit_log_slow(ev, process, fd, line, len, cont);
	}
	if (!cont)
		json_object_del(e, "cont");
	ev->seq++;
	ev->totals.logs++; /* what pr_totals_count() counts for a `log` event */
	ev->totals.events++;
	for (size_t i = 0; i < ev->nsinks; i++)
		ev->sinks[i].fn(ev->sinks[i].arg, e, ev->text, o);
	if (e->refcount > 1) {
		/* A sink kept it: it is theirs now, the next line gets a new one. */
		json_decref(e);
		ev->log = NULL;
	}
	return 0;
}

int events_emit_end(struct events *ev, int result)
{
	return events_emit(ev, pr_end_new(result, &ev->totals));
}

void events_count_shed_log(struct events *ev, uint64_t n)
{
	ev->totals.shed_log += n;
}

uint64_t events_last_seq(const struct events *ev)
{
	return ev->seq;
}

const char *events_stream(const struct events *ev)
{
	return ev->stream;
}
