/*
 * libFuzzer target for one result format (RS_FUZZ_FORMAT, set by tests/fuzz/results.cmake),
 * or, with RS_FUZZ_ENCODINGS, for the XML formats in declared encodings: the input's
 * first byte picks an encoding (single-byte, multi-byte, ASCII aliases, ones refused),
 * its second byte the format, and the rest follows `<?xml version="1.0" encoding="..."?>`.
 *
 * The input is fed in two pieces (split where its first byte says) so that sequences cut
 * across feeds are exercised, with small bounds so that cutting is exercised too. Every
 * event must serialize to JSON that jansson reads back (valid UTF-8, no NUL), and text
 * members must stay within the bound (3 bytes per kept input byte when every byte was
 * invalid UTF-8 and became U+FFFD) plus the marker. No fingerprint source files are
 * read (no root is set). The same input also goes through the JSON-line writer (the
 * `parse` fast path), whose every line must be a valid JSON object.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser.h"

#if !defined(RS_FUZZ_FORMAT) && !defined(RS_FUZZ_ENCODINGS)
#error "RS_FUZZ_FORMAT must name a format (or RS_FUZZ_ENCODINGS be set)"
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

struct sink {
	char *buf;
	size_t len, cap;
};

static int fuzz_write(void *arg, const char *data, size_t len)
{
	struct sink *k = arg;

	if (k->len + len + 1 > k->cap) {
		k->cap = (k->len + len + 1) * 2;
		if (!(k->buf = realloc(k->buf, k->cap)))
			abort();
	}
	memcpy(k->buf + k->len, data, len);
	k->len += len;
	k->buf[k->len] = '\0';
	return 0;
}

/* The writer path (what `parse` prints): every line one valid JSON object. */
static void fuzz_writer(const char *format, const uint8_t *data, size_t size, size_t cut,
			const struct rs_limits *lim)
{
	struct rs_parser *p = rs_parser_new(format, "fuzz", fuzz_emit, NULL, lim);
	struct sink k = {NULL, 0, 0};
	struct rs_error err;
	char *line, *save = NULL;

	if (!p || rs_parser_set_writer(p, fuzz_write, &k) < 0)
		abort();
	if (rs_parser_feed(p, (const char *)data, cut, &err) == 0 &&
	    rs_parser_feed(p, (const char *)data + cut, size - cut, &err) == 0)
		(void)rs_parser_finish(p, &err);
	rs_parser_free(p);
	for (line = k.buf ? strtok_r(k.buf, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
		json_error_t e;
		json_t *ev = json_loads(line, 0, &e);

		if (!json_is_object(ev) || !json_object_get(ev, "type"))
			abort();
		json_decref(ev);
	}
	free(k.buf);
}

static void fuzz_run(const char *format, const uint8_t *data, size_t size)
{
	struct rs_limits lim = {.max_text = FUZZ_TEXT, .max_token = 64 * 1024, .max_json = 1024 * 1024, .max_depth = 64};
	struct rs_parser *p = rs_parser_new(format, "fuzz", fuzz_emit, NULL, &lim);
	struct rs_error err;
	size_t cut = size ? (data[0] * size) / 256 : 0;

	if (!p)
		abort();
	if (rs_parser_feed(p, (const char *)data, cut, &err) == 0 &&
	    rs_parser_feed(p, (const char *)data + cut, size - cut, &err) == 0)
		(void)rs_parser_finish(p, &err);
	rs_parser_free(p);
	fuzz_writer(format, data, size, cut, &lim);
}

#ifdef RS_FUZZ_ENCODINGS
static const char *const ENCODINGS[] = {
	"Cp1252",    "windows-1250", "ISO-8859-15", "x-MacRoman", "KOI8-R",     "TIS-620", "CP1258",
	"ANSI_X3.4-1968", "US-ASCII", "UTF8",       "ISO-8859-1", "UTF-8",      "Shift_JIS", "EUC-JP",
	"Big5",      "GBK",          "EUC-TW",      "BIG5-HKSCS", "CP949",      "JOHAB",   "GB18030",
	"ISO-2022-JP", "UTF-7",      "UCS-2",       "UTF-16",     "X-FOO",
};
static const char *const FORMATS[] = {"junit", "checkstyle", "pmd", "pmd-cpd"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char decl[96];
	uint8_t *doc;
	int n;

	if (size < 2)
		return 0;
	n = snprintf(decl, sizeof(decl), "<?xml version=\"1.0\" encoding=\"%s\"?>",
		     ENCODINGS[data[0] % (sizeof(ENCODINGS) / sizeof(ENCODINGS[0]))]);
	if (!(doc = malloc((size_t)n + size - 2)))
		abort();
	memcpy(doc, decl, (size_t)n);
	memcpy(doc + n, data + 2, size - 2);
	/* The split point comes from the body's first byte (fuzz_run), so the declaration is
	 * cut across feeds too. */
	fuzz_run(FORMATS[data[1] % 4], doc, (size_t)n + size - 2);
	free(doc);
	return 0;
}
#else
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_run(RS_FUZZ_FORMAT, data, size);
	return 0;
}
#endif
