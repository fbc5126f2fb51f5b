/*
 * Fuzz the fallback line parser: each input is split into lines, every line goes through
 * pr_fallback_parse_line() and a pr_rebuild; a parsed event must format back to a line that
 * parses to an equal event, and the rebuilt stream must be sorted without duplicates.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	struct pr_rebuild *rb = pr_rebuild_new("build-42.unit", 2, 64);
	uint64_t end_seq, prev = 0;
	json_t *all;

	if (!rb)
		abort();
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p + 1) : (size_t)(end - p);
		json_t *ev = NULL;
		struct pr_error err;
		int rc = pr_fallback_parse_line(p, n, &ev, &err);
		if (rc == 1) {
			size_t len;
			json_t *back = NULL;
			char *line = pr_fallback_format(ev, &len);
			if (!line || pr_fallback_parse_line(line, len, &back, &err) != 1 ||
			    !json_equal(ev, back))
				abort();
			json_decref(back);
			free(line);
		} else if (ev != NULL || rc < -1) {
			abort();
		}
		json_decref(ev);
		pr_rebuild_add_line(rb, p, n, NULL);
		p += n;
	}
	all = pr_rebuild_take(rb, &end_seq);
	for (size_t i = 0; i < json_array_size(all); i++) {
		uint64_t s = (uint64_t)json_integer_value(json_object_get(json_array_get(all, i), "seq"));
		if (s <= prev || s <= 2)
			abort();
		prev = s;
	}
	json_decref(all);
	pr_rebuild_free(rb);
	return 0;
}
