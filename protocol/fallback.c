/*
 * protocol/fallback.c — marker lines on stdout and rebuilding a stream from them
 * (protocol/fallback.h).
 */
#include <stdlib.h>
#include <string.h>

#include "protocol/event.h"
#include "protocol/fallback.h"
#include "protocol/internal.h"

bool pr_fallback_wanted(const json_t *event)
{
	enum pr_type t = pr_event_type(event);

	return t != PR_TYPE_LOG && t != PR_TYPE_INVALID;
}

char *pr_fallback_format(const json_t *event, size_t *len)
{
	size_t n = pr_event_size(event);
	char *line;

	if (n == 0 || n > PR_EVENT_MAX)
		return NULL;
	line = malloc(PR_FALLBACK_MARKER_LEN + n + 2);
	if (!line)
		return NULL;
	memcpy(line, PR_FALLBACK_MARKER, PR_FALLBACK_MARKER_LEN);
	if (json_dumpb(event, line + PR_FALLBACK_MARKER_LEN, n, JSON_COMPACT) != n) {
		free(line);
		return NULL;
	}
	line[PR_FALLBACK_MARKER_LEN + n] = '\n';
	line[PR_FALLBACK_MARKER_LEN + n + 1] = '\0';
	if (len)
		*len = PR_FALLBACK_MARKER_LEN + n + 1;
	return line;
}

int pr_fallback_parse_line(const char *line, size_t len, json_t **event, struct pr_error *err)
{
	json_error_t jerr;
	json_t *ev;

	*event = NULL;
	if (len && line[len - 1] == '\n')
		len--;
	if (len && line[len - 1] == '\r')
		len--;
	if (len < PR_FALLBACK_MARKER_LEN || memcmp(line, PR_FALLBACK_MARKER, PR_FALLBACK_MARKER_LEN))
		return 0;
	line += PR_FALLBACK_MARKER_LEN;
	len -= PR_FALLBACK_MARKER_LEN;
	if (len > PR_EVENT_MAX)
		return pr_err(err, 413, "marked event is %zu bytes, more than %u", len, PR_EVENT_MAX);
	ev = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!ev) {
		pr_err(err, 400, "marked line is not JSON: %.150s", jerr.text);
		if (err) {
			err->line = jerr.line;
			err->column = PR_FALLBACK_MARKER_LEN + jerr.column;
		}
		return -1;
	}
	if (pr_event_validate(ev, err) < 0) {
		json_decref(ev);
		return -1;
	}
	*event = ev;
	return 1;
}

struct pr_rebuild {
	char stream[PR_STREAM_MAX + 1];
	uint64_t after_seq;
	size_t max;
	json_t *events; /* kept events, in arrival order until pr_rebuild_take() sorts them */
};

struct pr_rebuild *pr_rebuild_new(const char *stream, uint64_t after_seq, size_t max_events)
{
	struct pr_rebuild *rb;

	if (!pr_stream_valid(stream))
		return NULL;
	rb = calloc(1, sizeof *rb);
	if (!rb)
		return NULL;
	memcpy(rb->stream, stream, strlen(stream) + 1);
	rb->after_seq = after_seq;
	rb->max = max_events;
	rb->events = json_array();
	if (!rb->events) {
		free(rb);
		return NULL;
	}
	return rb;
}

void pr_rebuild_free(struct pr_rebuild *rb)
{
	if (!rb)
		return;
	json_decref(rb->events);
	free(rb);
}

static uint64_t seq_of(const json_t *ev)
{
	return (uint64_t)json_integer_value(json_object_get(ev, "seq"));
}

int pr_rebuild_add_line(struct pr_rebuild *rb, const char *line, size_t len,
			struct pr_error *err)
{
	json_t *ev = NULL;
	int rc = pr_fallback_parse_line(line, len, &ev, err);

	if (rc <= 0)
		return rc;
	if (strcmp(json_string_value(json_object_get(ev, "stream")), rb->stream) != 0 ||
	    seq_of(ev) <= rb->after_seq) {
		json_decref(ev);
		return 0;
	}
	/* Duplicates are removed when taking; they still count against the bound. */
	if (json_array_size(rb->events) >= rb->max) {
		json_decref(ev);
		return pr_err(err, 413, "more than %zu marked events", rb->max);
	}
	if (json_array_append_new(rb->events, ev) < 0)
		return pr_err(err, 500, "out of memory");
	return 1;
}

static int by_seq(const void *a, const void *b)
{
	uint64_t x = seq_of(*(json_t *const *)a), y = seq_of(*(json_t *const *)b);

	return x < y ? -1 : x > y;
}

json_t *pr_rebuild_take(struct pr_rebuild *rb, uint64_t *end_seq)
{
	size_t n = json_array_size(rb->events), i;
	json_t **v = NULL, *out = NULL;
	uint64_t last = 0;

	if (end_seq)
		*end_seq = 0;
	out = json_array();
	if (!out)
		return NULL;
	if (n) {
		v = malloc(n * sizeof *v);
		if (!v)
			goto fail;
		for (i = 0; i < n; i++)
			v[i] = json_array_get(rb->events, i);
		qsort(v, n, sizeof *v, by_seq);
		for (i = 0; i < n; i++) {
			uint64_t s = seq_of(v[i]);
			if (s == last)
				continue;
			last = s;
			if (json_array_append(out, v[i]) < 0)
				goto fail;
			if (end_seq && pr_event_type(v[i]) == PR_TYPE_END)
				*end_seq = s;
		}
	}
	free(v);
	json_array_clear(rb->events);
	return out;
fail:
	free(v);
	json_decref(out);
	return NULL;
}
