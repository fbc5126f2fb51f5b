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
};

struct events *events_new(const char *stream)
{
	struct events *ev;

	if (!stream || !pr_stream_valid(stream))
		return NULL;
	ev = calloc(1, sizeof *ev);
	if (!ev)
		return NULL;
	strcpy(ev->stream, stream); /* length checked by pr_stream_valid */
	return ev;
}

void events_free(struct events *ev)
{
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
