/*
 * libFuzzer target for one result format (RS_FUZZ_FORMAT, set by tests/fuzz/results.cmake).
 *
 * The input is fed in two pieces (split where its first byte says) so that sequences cut
 * across feeds are exercised, with small bounds so that cutting is exercised too. Every
 * event must serialize to JSON that jansson reads back (valid UTF-8, no NUL), and text
 * members must stay within the bound (3 bytes per kept input byte when every byte was
 * invalid UTF-8 and became U+FFFD) plus the marker. No fingerprint source files are
 * read (no root is set).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parser.h"

#ifndef RS_FUZZ_FORMAT
#error "RS_FUZZ_FORMAT must name a format"
#endif

#define FUZZ_TEXT 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_emit(void *arg, json_t *ev)
{
	char *s = json_dumps(ev, JSON_COMPACT);
	json_error_t e;
	json_t *back;
	const char *key;
	json_t *v;

	(void)arg;
	if (!s)
		abort();
	back = json_loads(s, 0, &e);
	if (!back)
		abort(); /* an event that is not valid JSON/UTF-8 */
	json_object_foreach(ev, key, v)
	{
		if ((strcmp(key, "message") == 0 || strcmp(key, "details") == 0) &&
		    json_string_length(v) > 3 * FUZZ_TEXT + 64)
			abort(); /* a text member over its bound */
	}
	if (!json_object_get(ev, "type") || !json_object_get(ev, "source"))
		abort();
	json_decref(back);
	free(s);
	json_decref(ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rs_limits lim = {.max_text = FUZZ_TEXT, .max_token = 64 * 1024, .max_json = 1024 * 1024, .max_depth = 64};
	struct rs_parser *p = rs_parser_new(RS_FUZZ_FORMAT, "fuzz", fuzz_emit, NULL, &lim);
	struct rs_error err;
	size_t cut = size ? (data[0] * size) / 256 : 0;

	if (!p)
		abort();
	if (rs_parser_feed(p, (const char *)data, cut, &err) == 0 &&
	    rs_parser_feed(p, (const char *)data + cut, size - cut, &err) == 0)
		(void)rs_parser_finish(p, &err);
	rs_parser_free(p);
	return 0;
}
