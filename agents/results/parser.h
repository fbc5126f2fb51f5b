/*
 * parser — incremental result parsers: tool reports in, typed events out.
 *
 * One struct rs_parser reads one report (a file as it grows, or a process's stdout as
 * it comes) in one format and emits PROTOCOL.md events (`test`, `finding`, `metric`)
 * through a callback as soon as each is complete:
 *
 *   format        input                               events
 *   junit         JUnit XML (PHPUnit, Surefire, ...)  test (one per <testcase>)
 *   teamcity      TeamCity service messages (lines)   test (at testFinished)
 *   checkstyle    checkstyle XML                      finding (one per <error>)
 *   pmd           phpmd xml                           finding (one per <violation>)
 *   pmd-cpd       phpcpd --log-pmd                    finding (one per <duplication>)
 *   phpstan-json  phpstan --error-format=json         finding
 *   phploc-json   phploc --log-json                   metric (one per number)
 *
 * XML is parsed with expat, streaming (no tree is built; expat's billion-laughs
 * protection stays on; external entities and external DTDs are never loaded). Input that
 * is not valid UTF-8 is repaired (U+FFFD) before expat sees it, unless the document
 * declares another encoding: any that iconv knows and expat's model allows (xmlenc.h;
 * ASCII aliases are read as UTF-8), others are an error naming the encoding. JSON is parsed with jansson from a buffer capped at
 * lim.max_json bytes (64 MiB by default); a bigger document is an error, not a
 * truncation. Text fields (message, details) are cut at lim.max_text bytes of input with
 * the marker "[… N bytes cut]" (the output can be up to 3 times longer when the kept
 * bytes were invalid UTF-8, each becoming U+FFFD). Memory is bounded by the limits, not by the input size.
 *
 * The parser does not know where the bytes come from and does no I/O, except reading
 * source files to compute finding fingerprints (fingerprint.h) when a root is set with
 * rs_parser_set_root(). Errors are sticky: after a feed/finish error every later call
 * fails with the same error.
 *
 * Ownership: the parser copies its strings; emitted events are new references that the
 * callback owns (it must json_decref() them). Member values may be shared between
 * events (the same `source`, `suite`, `class` string object): add or replace members
 * freely, but do not modify a string value in place (json_string_set).
 */
#ifndef SV_RESULTS_PARSER_H
#define SV_RESULTS_PARSER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "jsonline.h"

/* Receives each event; steals the reference. */
typedef void (*rs_emit_fn)(void *arg, json_t *event);

struct rs_limits {
	size_t max_text;  /* message/details bound, bytes; default 16 KiB */
	size_t max_token; /* one XML tag / one TeamCity line, bytes; default 16 MiB */
	size_t max_json;  /* whole JSON document, bytes; default 64 MiB */
	unsigned max_depth; /* XML element nesting; default 256 */
	size_t max_event; /* one event as compact JSON; default 63 KiB (protocol: PR_EVENT_MAX
			   * 64 KiB including the envelope). Longer: details, then message,
			   * then names are cut further (with the marker). */
};

#define RS_LIMITS_DEFAULT_TEXT (16u * 1024u)
#define RS_LIMITS_DEFAULT_TOKEN (16u * 1024u * 1024u)
#define RS_LIMITS_DEFAULT_JSON (64u * 1024u * 1024u)
#define RS_LIMITS_DEFAULT_DEPTH 256u
#define RS_LIMITS_DEFAULT_EVENT (63u * 1024u)

/* Where parsing failed. line and column are 1-based; 0 when not known. */
struct rs_error {
	char file[512];
	unsigned long line;
	unsigned long column;
	char text[512];
};

void rs_limits_default(struct rs_limits *lim);

/* True when the format name is one of the table above. */
bool rs_format_known(const char *format);
/* The format names, NULL-terminated. */
const char *const *rs_format_names(void);

/* format: a name from the table; source: the report's path or "stdout" (copied into
 * each event's `source` and into errors). NULL on unknown format or no memory. */
struct rs_parser *rs_parser_new(const char *format, const char *source, rs_emit_fn emit, void *arg,
				const struct rs_limits *lim_or_NULL);
/* Root directory: finding paths are hashed relative to it, and source lines are read
 * from files under it for fingerprints. NULL (the default) reads no files. */
int rs_parser_set_root(struct rs_parser *p, const char *root);
/* Instead of calling emit, write each event as one compact JSON line (what `parse`
 * prints) through write, buffered; the same events, without building json_t objects
 * (the fast path for big reports). Flushed by rs_parser_finish() and rs_parser_free(). */
int rs_parser_set_writer(struct rs_parser *p, rs_write_fn write, void *arg);
/* Overrides the `tool` of findings (checkstyle reports come from several tools). */
int rs_parser_set_tool(struct rs_parser *p, const char *tool);
/* Feeds the next bytes. Returns 0, or -1 with *err filled (err may be NULL). */
int rs_parser_feed(struct rs_parser *p, const char *buf, size_t len, struct rs_error *err);
/* End of input: emits what is pending, checks the document is complete. 0 or -1. */
int rs_parser_finish(struct rs_parser *p, struct rs_error *err);
/* Events emitted so far. */
unsigned long rs_parser_events(const struct rs_parser *p);
void rs_parser_free(struct rs_parser *p);

/* "file:line:column: text" (parts that are unknown left out) into buf; returns buf. */
const char *rs_error_format(const struct rs_error *err, char *buf, size_t size);

#endif
