/* collect — test helper: runs a parser over a buffer and keeps the events in a JSON array. */
#ifndef SV_TEST_RESULTS_COLLECT_H
#define SV_TEST_RESULTS_COLLECT_H

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "parser.h"

static void collect_emit(void *arg, json_t *ev)
{
	json_array_append_new((json_t *)arg, ev);
}

/* Parses buf in chunks of `chunk` bytes (0: all at once). Returns 0 or -1 (err filled);
 * *events: new array (also on error: what was emitted before it). */
static inline int collect_parse(const char *format, const char *buf, size_t len, size_t chunk,
				const struct rs_limits *lim, json_t **events, struct rs_error *err)
{
	json_t *arr = json_array();
	struct rs_parser *p = rs_parser_new(format, "report.xml", collect_emit, arr, lim);
	int rc = -1;

	*events = arr;
	if (!p)
		return -1;
	if (chunk == 0)
		chunk = len ? len : 1;
	for (size_t off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;

		if (rs_parser_feed(p, buf + off, n, err) < 0)
			goto out;
	}
	rc = rs_parser_finish(p, err);
out:
	rs_parser_free(p);
	return rc;
}

static inline const char *ev_str(json_t *events, size_t i, const char *key)
{
	return json_string_value(json_object_get(json_array_get(events, i), key));
}

#endif
