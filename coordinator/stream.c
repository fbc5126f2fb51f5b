/* stream — see stream.h. */
#include "stream.h"

#include "protocol/protocol.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum slot_state { SLOT_MISSING = 0, SLOT_LOG = 1, SLOT_KEPT = 2 };

struct stream {
	char *id;
	FILE *jsonl;
	size_t max_events;
	json_t **events;          /* index seq-1; NULL unless SLOT_KEPT */
	unsigned char *state;     /* index seq-1 */
	size_t cap;               /* slots allocated */
	uint64_t ack;             /* highest contiguous seq stored */
	uint64_t max_seq;         /* highest seq stored */
	uint64_t end_seq;         /* seq of the `end` event, 0 until stored */
	struct stream_tally tally;
	stream_event_fn listener;
	void *listener_arg;
	bool cancel, detach;
};

struct stream *stream_new(const char *id, const char *jsonl_path, size_t max_events)
{
	struct stream *s = calloc(1, sizeof *s);
	int fd = -1;

	if (!s)
		return NULL;
	s->id = strdup(id);
	if (!s->id)
		goto fail;
	s->max_events = max_events ? max_events : STREAM_MAX_EVENTS_DEFAULT;
	if (jsonl_path) {
		fd = open(jsonl_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (fd < 0)
			goto fail;
		s->jsonl = fdopen(fd, "a");
		if (!s->jsonl)
			goto fail;
		fd = -1;
	}
	return s;
fail:
	if (fd >= 0)
		close(fd);
	stream_free(s);
	return NULL;
}

void stream_free(struct stream *s)
{
	if (!s)
		return;
	if (s->jsonl)
		fclose(s->jsonl);
	for (size_t i = 0; i < s->cap; i++)
		json_decref(s->events[i]);
	free(s->events);
	free(s->state);
	free(s->id);
	free(s);
}

const char *stream_id(const struct stream *s)
{
	return s->id;
}

void stream_set_listener(struct stream *s, stream_event_fn fn, void *arg)
{
	s->listener = fn;
	s->listener_arg = arg;
}

int stream_check(const struct stream *s, const json_t *ev, char *err, size_t errlen)
{
	struct pr_error e;
	uint64_t seq;

	memset(&e, 0, sizeof e);
	if (pr_event_validate(ev, &e) != 0) {
		snprintf(err, errlen, "%s", e.text);
		return -1;
	}
	if (strcmp(json_string_value(json_object_get(ev, "stream")), s->id) != 0) {
		snprintf(err, errlen, "stream: not this stream");
		return -1;
	}
	seq = (uint64_t)json_integer_value(json_object_get(ev, "seq"));
	if (seq > s->ack + STREAM_WINDOW || seq > s->max_events) {
		snprintf(err, errlen, "seq: %llu is too far ahead of the acknowledged %llu",
		         (unsigned long long)seq, (unsigned long long)s->ack);
		return -1;
	}
	return 0;
}

static int stream_grow(struct stream *s, uint64_t seq)
{
	size_t cap = s->cap ? s->cap : 256;
	json_t **ev;
	unsigned char *st;

	while (cap < seq)
		cap *= 2;
	if (cap > s->max_events)
		cap = s->max_events;
	if (cap < seq)
		return -1;
	ev = realloc(s->events, cap * sizeof *ev);
	if (!ev)
		return -1;
	s->events = ev;
	st = realloc(s->state, cap);
	if (!st)
		return -1;
	s->state = st;
	memset(ev + s->cap, 0, (cap - s->cap) * sizeof *ev);
	memset(st + s->cap, 0, cap - s->cap);
	s->cap = cap;
	return 0;
}

static void stream_count(struct stream *s, const char *type, const json_t *ev)
{
	const char *status, *sev;

	if (strcmp(type, "test") == 0) {
		status = json_string_value(json_object_get(ev, "status"));
		if (!status || strcmp(status, "passed") == 0)
			s->tally.passed++;
		else if (strcmp(status, "failed") == 0)
			s->tally.failed++;
		else if (strcmp(status, "error") == 0)
			s->tally.error++;
		else if (strcmp(status, "skipped") == 0)
			s->tally.skipped++;
		else
			s->tally.error++;
	} else if (strcmp(type, "finding") == 0) {
		sev = json_string_value(json_object_get(ev, "severity"));
		if (sev && strcmp(sev, "error") == 0)
			s->tally.f_error++;
		else if (sev && strcmp(sev, "warning") == 0)
			s->tally.f_warning++;
		else
			s->tally.f_info++;
	} else if (strcmp(type, "metric") == 0) {
		s->tally.metrics++;
	} else if (strcmp(type, "log") == 0) {
		s->tally.logs++;
	}
}

int stream_add(struct stream *s, json_t *ev, enum stream_source from, char *err, size_t errlen)
{
	uint64_t seq;
	const char *type;
	char *line;

	if (stream_check(s, ev, err, errlen))
		return -1;
	seq = (uint64_t)json_integer_value(json_object_get(ev, "seq"));
	type = json_string_value(json_object_get(ev, "type"));
	if (seq > s->cap && stream_grow(s, seq)) {
		snprintf(err, errlen, "seq: no room for %llu events", (unsigned long long)seq);
		return -1;
	}
	if (s->state[seq - 1] != SLOT_MISSING) {
		s->tally.duplicates++;
		return 0;
	}
	if (strcmp(type, "end") == 0 && s->end_seq && s->end_seq != seq) {
		snprintf(err, errlen, "end: a second end event");
		return -1;
	}
	if (s->jsonl) {
		line = json_dumps(ev, JSON_COMPACT);
		if (line) {
			fputs(line, s->jsonl);
			fputc('\n', s->jsonl);
			free(line);
		}
	}
	if (strcmp(type, "log") == 0) {
		s->state[seq - 1] = SLOT_LOG;
	} else {
		s->state[seq - 1] = SLOT_KEPT;
		s->events[seq - 1] = json_incref(ev);
	}
	if (strcmp(type, "end") == 0) {
		s->end_seq = seq;
	} else {
		s->tally.stored++;
		if (from == STREAM_FROM_FALLBACK)
			s->tally.from_fallback++;
	}
	stream_count(s, type, ev);
	if (seq > s->max_seq)
		s->max_seq = seq;
	while (s->ack < s->cap && s->state[s->ack] != SLOT_MISSING)
		s->ack++;
	if (s->listener)
		s->listener(s->listener_arg, ev);
	return 1;
}

int stream_flush(struct stream *s)
{
	if (!s->jsonl)
		return 0;
	return fflush(s->jsonl) == 0 ? 0 : -1;
}

uint64_t stream_ack(const struct stream *s)
{
	return s->ack;
}

uint64_t stream_resend_from(const struct stream *s)
{
	return s->max_seq > s->ack ? s->ack + 1 : 0;
}

uint64_t stream_max_seq(const struct stream *s)
{
	return s->max_seq;
}

const json_t *stream_get(const struct stream *s, uint64_t seq)
{
	if (seq < 1 || seq > s->cap)
		return NULL;
	return s->events[seq - 1];
}

const json_t *stream_end(const struct stream *s)
{
	return s->end_seq ? s->events[s->end_seq - 1] : NULL;
}

struct stream_tally stream_tally(const struct stream *s)
{
	return s->tally;
}

int stream_check_complete(const struct stream *s, uint64_t *missing_logs, char *why, size_t whylen)
{
	const json_t *end = stream_end(s);
	const struct stream_tally *t = &s->tally;
	struct pr_totals claimed, counted = {0};
	struct pr_error e;
	uint64_t before_end, stored_before = 0, missing;

	*missing_logs = 0;
	memset(&e, 0, sizeof e);
	if (!end) {
		snprintf(why, whylen, "the end event never arrived (%llu events stored, highest seq %llu)",
		         (unsigned long long)t->stored, (unsigned long long)s->max_seq);
		return -1;
	}
	if (pr_totals_from_json(json_object_get(end, "totals"), &claimed, &e) != 0) {
		snprintf(why, whylen, "the end event's totals: %s", e.text);
		return -1;
	}
	before_end = s->end_seq - 1;
	if (claimed.events != before_end) {
		snprintf(why, whylen, "the end event counts %llu events but has seq %llu",
		         (unsigned long long)claimed.events, (unsigned long long)s->end_seq);
		return -1;
	}
	for (uint64_t i = 0; i < before_end && i < s->cap; i++)
		stored_before += s->state[i] != SLOT_MISSING;
	if (stored_before != t->stored) {
		snprintf(why, whylen, "%llu events stored beyond the end event",
		         (unsigned long long)(t->stored - stored_before));
		return -1;
	}
	counted.tests_passed = t->passed;
	counted.tests_failed = t->failed;
	counted.tests_error = t->error;
	counted.tests_skipped = t->skipped;
	counted.findings_error = t->f_error;
	counted.findings_warning = t->f_warning;
	counted.findings_info = t->f_info;
	counted.metrics = t->metrics;
	counted.logs = t->logs;
	counted.shed_log = claimed.shed_log; /* only the agent knows */
	missing = before_end - stored_before;
	/* Events that never arrived may only be log lines (they are not on the fallback channel);
	 * the results are proven by comparing the counts. */
	counted.events = claimed.events; /* checked against the end's seq above */
	if (pr_totals_compare(&counted, &claimed, missing == 0, &e) != 0) {
		snprintf(why, whylen, "totals differ: %s", e.text);
		return -1;
	}
	if (missing > 0 && (claimed.logs < t->logs || missing != claimed.logs - t->logs)) {
		snprintf(why, whylen, "%llu events before end are missing but only %llu log lines are",
		         (unsigned long long)missing,
		         (unsigned long long)(claimed.logs > t->logs ? claimed.logs - t->logs : 0));
		return -1;
	}
	*missing_logs = missing;
	return 0;
}

void stream_set_cancel(struct stream *s, bool cancel)
{
	s->cancel = cancel;
}

void stream_set_detach(struct stream *s, bool detach)
{
	s->detach = detach;
}

bool stream_cancel(const struct stream *s)
{
	return s->cancel;
}

bool stream_detach(const struct stream *s)
{
	return s->detach;
}
