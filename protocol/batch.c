/*
 * protocol/batch.c — request paths and bodies (protocol/batch.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/batch.h"
#include "protocol/event.h"
#include "protocol/internal.h"

int pr_path_format(const char *stream, char *out, size_t cap)
{
	int n;

	if (!pr_stream_valid(stream) || !out)
		return -1;
	n = snprintf(out, cap, PR_PATH_PREFIX "%s" PR_PATH_SUFFIX, stream);
	if (n < 0 || (size_t)n >= cap)
		return -1;
	return n;
}

int pr_path_stream(const char *path, char *stream)
{
	const size_t plen = sizeof PR_PATH_PREFIX - 1, slen = sizeof PR_PATH_SUFFIX - 1;
	const char *id, *end;
	size_t n;

	if (!path || strncmp(path, PR_PATH_PREFIX, plen) != 0)
		return -1;
	id = path + plen;
	end = strchr(id, '/');
	if (!end)
		return -1;
	n = (size_t)(end - id);
	if (n == 0 || n > PR_STREAM_MAX)
		return -1;
	if (strncmp(end, PR_PATH_SUFFIX, slen) != 0 || (end[slen] != '\0' && end[slen] != '?'))
		return -1;
	memcpy(stream, id, n);
	stream[n] = '\0';
	if (!pr_stream_valid(stream)) {
		stream[0] = '\0';
		return -1;
	}
	return 0;
}

int pr_batch_prefix(const char *stream, char *out, size_t cap)
{
	int n;

	if (!pr_stream_valid(stream) || !out)
		return -1;
	n = snprintf(out, cap, "{\"v\":%d,\"stream\":\"%s\",\"events\":[", PR_VERSION, stream);
	if (n < 0 || (size_t)n >= cap)
		return -1;
	return n;
}

char *pr_batch_encode(const char *stream, const json_t *events, size_t *len)
{
	char prefix[PR_STREAM_MAX + 40];
	char *body = NULL, *ev = NULL;
	size_t cap, used, n, i, evlen;
	int plen;

	plen = pr_batch_prefix(stream, prefix, sizeof prefix);
	if (plen < 0 || !json_is_array(events) || json_array_size(events) > PR_BATCH_EVENTS_MAX)
		return NULL;
	n = json_array_size(events);
	cap = (size_t)plen + sizeof PR_BATCH_SUFFIX;
	used = 0;
	body = malloc(cap);
	if (!body)
		goto fail;
	memcpy(body, prefix, (size_t)plen);
	used = (size_t)plen;
	for (i = 0; i < n; i++) {
		char *grown;
		ev = pr_event_encode(json_array_get(events, i), &evlen);
		if (!ev)
			goto fail;
		cap += evlen + 1;
		if (cap > PR_BODY_MAX + 1)
			goto fail;
		grown = realloc(body, cap);
		if (!grown)
			goto fail;
		body = grown;
		if (i > 0)
			body[used++] = ',';
		memcpy(body + used, ev, evlen);
		used += evlen;
		free(ev);
		ev = NULL;
	}
	memcpy(body + used, PR_BATCH_SUFFIX, sizeof PR_BATCH_SUFFIX);
	used += sizeof PR_BATCH_SUFFIX - 1;
	if (len)
		*len = used;
	return body;
fail:
	free(ev);
	free(body);
	return NULL;
}

void pr_batch_clear(struct pr_batch *b)
{
	if (!b)
		return;
	json_decref(b->events);
	memset(b, 0, sizeof *b);
}

int pr_batch_decode(const char *body, size_t len, const char *path_stream, struct pr_batch *out,
		    struct pr_error *err)
{
	json_t *root = NULL, *v, *stream, *events, *ev;
	const char *sname;
	size_t i, n;

	memset(out, 0, sizeof *out);
	if (len > PR_BODY_MAX)
		return pr_err(err, 413, "body is %zu bytes, more than %u", len, PR_BODY_MAX);
	if (!pr_stream_valid(path_stream))
		return pr_err(err, 400, "invalid stream id in the path");
	root = pr_load_object(body, len, PR_BODY_MAX, "body", err);
	if (!root)
		return -1;
	v = json_object_get(root, "v");
	if (!json_is_integer(v) || json_integer_value(v) != PR_VERSION) {
		pr_err(err, 400, "v: must be %d", PR_VERSION);
		goto fail;
	}
	stream = json_object_get(root, "stream");
	sname = json_string_value(stream);
	if (!sname || strcmp(sname, path_stream) != 0) {
		pr_err(err, 400, "stream: must be the stream of the path (\"%s\")", path_stream);
		goto fail;
	}
	events = json_object_get(root, "events");
	if (!json_is_array(events)) {
		pr_err(err, 400, "events: must be an array");
		goto fail;
	}
	n = json_array_size(events);
	if (n > PR_BATCH_EVENTS_MAX) {
		pr_err(err, 413, "events: %zu events, more than %u", n, PR_BATCH_EVENTS_MAX);
		goto fail;
	}
	json_array_foreach (events, i, ev) {
		uint64_t seq;
		size_t size;
		if (pr_event_validate(ev, err) < 0) {
			pr_err_prefix(err, (long)i, "events[%zu].", i);
			goto fail;
		}
		if (strcmp(json_string_value(json_object_get(ev, "stream")), path_stream) != 0) {
			pr_err(err, 400, "events[%zu].stream: not the stream of the path", i);
			if (err)
				err->index = (long)i;
			goto fail;
		}
		seq = (uint64_t)json_integer_value(json_object_get(ev, "seq"));
		if (i == 0) {
			out->first_seq = seq;
		} else if (seq != out->first_seq + i) {
			pr_err(err, 400, "events[%zu].seq: %llu, expected %llu (seqs must be consecutive)",
			       i, (unsigned long long)seq, (unsigned long long)(out->first_seq + i));
			if (err)
				err->index = (long)i;
			goto fail;
		}
		if (!pr_event_fits(ev)) {
			size = pr_event_size(ev);
			pr_err(err, 413, "events[%zu]: %zu bytes as JSON, more than %u", i, size,
			       PR_EVENT_MAX);
			if (err)
				err->index = (long)i;
			goto fail;
		}
	}
	memcpy(out->stream, path_stream, strlen(path_stream) + 1);
	out->events = json_incref(events);
	out->count = n;
	out->last_seq = n ? out->first_seq + n - 1 : 0;
	if (!n)
		out->first_seq = 0;
	json_decref(root);
	return 0;
fail:
	json_decref(root);
	memset(out, 0, sizeof *out);
	return -1;
}
