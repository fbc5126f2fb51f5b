/* stream — see stream.h. */
#include "stream.h"

#include "protocol/protocol.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STREAM_CHUNK_MIN (16u << 10)
#define STREAM_CHUNK_MAX (1u << 20)

/* A piece of the arena that holds the kept events' texts, NUL-terminated, back to back. */
struct stream_chunk {
	struct stream_chunk *next;
	size_t used, cap;
	char data[];
};

struct stream {
	char *id;
	int fd;                   /* the JSONL file, -1 for none */
	char *wbuf;               /* JSONL lines not yet written */
	size_t wlen, wcap;
	size_t max_events;
	char **texts;             /* index seq-1: the kept event's text in the arena, else NULL */
	unsigned char *kind;      /* index seq-1: enum stream_kind */
	size_t cap;               /* slots allocated */
	struct stream_chunk *chunks; /* newest first */
	size_t next_chunk;        /* size of the next chunk */
	json_t *end;              /* the `end` event, decoded */
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

	if (!s)
		return NULL;
	s->fd = -1;
	s->next_chunk = STREAM_CHUNK_MIN;
	s->id = strdup(id);
	if (!s->id)
		goto fail;
	s->max_events = max_events ? max_events : STREAM_MAX_EVENTS_DEFAULT;
	if (jsonl_path) {
		s->fd = open(jsonl_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (s->fd < 0)
			goto fail;
	}
	return s;
fail:
	stream_free(s);
	return NULL;
}

void stream_free(struct stream *s)
{
	if (!s)
		return;
	if (s->fd >= 0) {
		stream_flush(s);
		close(s->fd);
	}
	while (s->chunks) {
		struct stream_chunk *c = s->chunks;
		s->chunks = c->next;
		free(c);
	}
	json_decref(s->end);
	free(s->wbuf);
	free(s->texts);
	free(s->kind);
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

/* This stream's own checks of a valid event: its id and its window. */
static int stream_check_own(const struct stream *s, const json_t *ev, char *err, size_t errlen)
{
	const char *id = json_string_value(json_object_get(ev, "stream"));
	uint64_t seq;

	if (!id || strcmp(id, s->id) != 0) {
		snprintf(err, errlen, "stream: not this stream");
		return -1;
	}
	seq = (uint64_t)json_integer_value(json_object_get(ev, "seq"));
	if (seq < 1 || seq > s->ack + STREAM_WINDOW || seq > s->max_events) {
		snprintf(err, errlen, "seq: %llu is too far ahead of the acknowledged %llu",
		         (unsigned long long)seq, (unsigned long long)s->ack);
		return -1;
	}
	return 0;
}

int stream_check(const struct stream *s, const json_t *ev, char *err, size_t errlen)
{
	struct pr_error e;

	memset(&e, 0, sizeof e);
	if (pr_event_validate(ev, &e) != 0) {
		snprintf(err, errlen, "%s", e.text);
		return -1;
	}
	return stream_check_own(s, ev, err, errlen);
}

static int stream_grow(struct stream *s, uint64_t seq)
{
	size_t cap = s->cap ? s->cap : 256;
	char **tx;
	unsigned char *k;

	while (cap < seq)
		cap *= 2;
	if (cap > s->max_events)
		cap = s->max_events;
	if (cap < seq)
		return -1;
	tx = realloc(s->texts, cap * sizeof *tx);
	if (!tx)
		return -1;
	s->texts = tx;
	k = realloc(s->kind, cap);
	if (!k)
		return -1;
	s->kind = k;
	memset(tx + s->cap, 0, (cap - s->cap) * sizeof *tx);
	memset(k + s->cap, 0, cap - s->cap);
	s->cap = cap;
	return 0;
}

/* A copy of text (len bytes) in the arena, NUL-terminated; NULL when out of memory. */
static char *stream_keep_text(struct stream *s, const char *text, size_t len)
{
	struct stream_chunk *c = s->chunks;
	char *p;

	if (!c || c->cap - c->used < len + 1) {
		size_t cap = s->next_chunk > len + 1 ? s->next_chunk : len + 1;
		c = malloc(sizeof *c + cap);
		if (!c)
			return NULL;
		c->used = 0;
		c->cap = cap;
		c->next = s->chunks;
		s->chunks = c;
		if (s->next_chunk < STREAM_CHUNK_MAX)
			s->next_chunk *= 2;
	}
	p = c->data + c->used;
	memcpy(p, text, len);
	p[len] = '\0';
	c->used += len + 1;
	return p;
}

/* Appends one JSONL line to the pending bytes (written by stream_flush). */
static int stream_append_line(struct stream *s, const char *text, size_t len)
{
	if (s->fd < 0)
		return 0;
	if (s->wlen + len + 1 > STREAM_WBUF_MAX && s->wlen > 0 && stream_flush(s) != 0)
		s->wlen = 0; /* the file cannot be written (disk full): the bound wins over the file */
	if (s->wlen + len + 1 > s->wcap) {
		size_t cap = s->wcap ? s->wcap : 64u << 10;
		char *b;
		while (cap < s->wlen + len + 1)
			cap *= 2;
		b = realloc(s->wbuf, cap);
		if (!b)
			return -1;
		s->wbuf = b;
		s->wcap = cap;
	}
	memcpy(s->wbuf + s->wlen, text, len);
	s->wbuf[s->wlen + len] = '\n';
	s->wlen += len + 1;
	return 0;
}

static enum stream_kind stream_kind_of(enum pr_type t)
{
	switch (t) {
	case PR_TYPE_LOG: return STREAM_KIND_LOG;
	case PR_TYPE_STAGE: return STREAM_KIND_STAGE;
	case PR_TYPE_PROCESS: return STREAM_KIND_PROCESS;
	case PR_TYPE_TEST: return STREAM_KIND_TEST;
	case PR_TYPE_FINDING: return STREAM_KIND_FINDING;
	case PR_TYPE_METRIC: return STREAM_KIND_METRIC;
	case PR_TYPE_END: return STREAM_KIND_END;
	default: return STREAM_KIND_MISSING;
	}
}

static void stream_count(struct stream *s, enum stream_kind kind, const json_t *ev)
{
	const char *status, *sev;

	if (kind == STREAM_KIND_TEST) {
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
	} else if (kind == STREAM_KIND_FINDING) {
		sev = json_string_value(json_object_get(ev, "severity"));
		if (sev && strcmp(sev, "error") == 0)
			s->tally.f_error++;
		else if (sev && strcmp(sev, "warning") == 0)
			s->tally.f_warning++;
		else
			s->tally.f_info++;
	} else if (kind == STREAM_KIND_METRIC) {
		s->tally.metrics++;
	} else if (kind == STREAM_KIND_LOG) {
		s->tally.logs++;
	}
}

static int stream_store(struct stream *s, json_t *ev, const char *text, size_t len, enum stream_source from,
                        char *err, size_t errlen)
{
	uint64_t seq = (uint64_t)json_integer_value(json_object_get(ev, "seq"));
	enum stream_kind kind = stream_kind_of(pr_event_type(ev));
	char *owned = NULL;
	int rc = -1;

	if (kind == STREAM_KIND_MISSING) {
		snprintf(err, errlen, "type: unknown");
		return -1;
	}
	if (seq > s->cap && stream_grow(s, seq)) {
		snprintf(err, errlen, "seq: no room for %llu events", (unsigned long long)seq);
		return -1;
	}
	if (s->kind[seq - 1] != STREAM_KIND_MISSING) {
		s->tally.duplicates++;
		return 0;
	}
	if (kind == STREAM_KIND_END && s->end_seq && s->end_seq != seq) {
		snprintf(err, errlen, "end: a second end event");
		return -1;
	}
	if (!text) {
		owned = pr_event_encode(ev, &len);
		if (!owned) {
			snprintf(err, errlen, "cannot encode the event");
			return -1;
		}
		text = owned;
	}
	if (kind != STREAM_KIND_LOG) {
		s->texts[seq - 1] = stream_keep_text(s, text, len);
		if (!s->texts[seq - 1]) {
			snprintf(err, errlen, "out of memory");
			goto done;
		}
	}
	stream_append_line(s, text, len);
	s->kind[seq - 1] = (unsigned char)kind;
	if (kind == STREAM_KIND_END) {
		s->end_seq = seq;
		json_decref(s->end);
		s->end = json_incref(ev);
	} else {
		s->tally.stored++;
		if (from == STREAM_FROM_FALLBACK)
			s->tally.from_fallback++;
	}
	stream_count(s, kind, ev);
	if (seq > s->max_seq)
		s->max_seq = seq;
	while (s->ack < s->cap && s->kind[s->ack] != STREAM_KIND_MISSING)
		s->ack++;
	if (s->listener)
		s->listener(s->listener_arg, ev);
	rc = 1;
done:
	free(owned);
	return rc;
}

int stream_add(struct stream *s, json_t *ev, enum stream_source from, char *err, size_t errlen)
{
	if (stream_check(s, ev, err, errlen))
		return -1;
	return stream_store(s, ev, NULL, 0, from, err, errlen);
}

int stream_add_valid(struct stream *s, json_t *ev, const char *text, size_t len, enum stream_source from,
                     char *err, size_t errlen)
{
	if (stream_check_own(s, ev, err, errlen))
		return -1;
	return stream_store(s, ev, text, len, from, err, errlen);
}

int stream_flush(struct stream *s)
{
	size_t off = 0;

	if (s->fd < 0 || s->wlen == 0)
		return 0;
	while (off < s->wlen) {
		ssize_t n = write(s->fd, s->wbuf + off, s->wlen - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			memmove(s->wbuf, s->wbuf + off, s->wlen - off);
			s->wlen -= off;
			return -1;
		}
		off += (size_t)n;
	}
	s->wlen = 0;
	/* Kept for the next batch (a fresh one each time costs more than the copy); only what a
	 * burst beyond a request body needed is given back. */
	if (s->wcap > (2u << 20)) {
		free(s->wbuf);
		s->wbuf = NULL;
		s->wcap = 0;
	}
	return 0;
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

enum stream_kind stream_kind(const struct stream *s, uint64_t seq)
{
	if (seq < 1 || seq > s->cap)
		return STREAM_KIND_MISSING;
	return (enum stream_kind)s->kind[seq - 1];
}

const char *stream_text(const struct stream *s, uint64_t seq)
{
	if (seq < 1 || seq > s->cap)
		return NULL;
	return s->texts[seq - 1];
}

json_t *stream_load(const struct stream *s, uint64_t seq)
{
	const char *text = stream_text(s, seq);

	return text ? json_loads(text, 0, NULL) : NULL;
}

const json_t *stream_end(const struct stream *s)
{
	return s->end;
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
		stored_before += s->kind[i] != STREAM_KIND_MISSING;
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
