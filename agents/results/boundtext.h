/*
 * boundtext — bounded text accumulation and UTF-8 repair for result events.
 *
 * A struct rs_text keeps at most `cap` bytes of what is appended to it and counts the
 * rest; rs_text_json() turns it into a JSON string that is valid UTF-8 (invalid bytes
 * and NULs become U+FFFD) and, when bytes were cut, ends with the marker
 * "[… N bytes cut]" (N: bytes of input not kept). Nothing is dropped silently.
 *
 * rs_utf8_repair() is the same repair for a stream cut into arbitrary chunks (the XML
 * parsers run it over their input so that expat never sees invalid UTF-8).
 *
 * Pure logic: no system calls. The caller owns the struct; rs_text_release() frees its
 * buffer (the struct itself may live anywhere).
 */
#ifndef SV_RESULTS_BOUNDTEXT_H
#define SV_RESULTS_BOUNDTEXT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define RS_TEXT_MARKER_FMT " [\xE2\x80\xA6 %zu bytes cut]"

struct rs_text {
	char *buf;    /* owned, grows on demand up to cap */
	size_t len;   /* bytes kept */
	size_t alloc; /* bytes allocated */
	size_t cap;   /* bound set at init */
	size_t cut;   /* bytes appended beyond cap */
};

void rs_text_init(struct rs_text *t, size_t cap);
void rs_text_reset(struct rs_text *t);   /* empty again, keeps the buffer */
void rs_text_release(struct rs_text *t); /* frees the buffer */
/* Keeps what fits under the bound, counts the rest. -1 only when out of memory. */
int rs_text_append(struct rs_text *t, const char *s, size_t n);
/* Total bytes appended so far (kept + cut). */
size_t rs_text_total(const struct rs_text *t);
/* A new JSON string: repaired UTF-8, with the cut marker when bytes were cut. */
json_t *rs_text_json(const struct rs_text *t);
/* Same for bytes [off, off+n) of the kept text, with `cut` extra bytes reported cut. */
json_t *rs_text_json_part(const char *s, size_t n, size_t cut);

/* Streaming UTF-8 repair: invalid bytes, NUL and C0 controls other than TAB, LF and CR
 * become U+FFFD. A sequence split across chunks is completed by the next call.
 * `out` must hold 3 * n + 12 bytes. Returns the bytes written. With final=true, a
 * pending partial sequence is flushed (as U+FFFD). */
struct rs_utf8_state {
	unsigned char pend[4];
	unsigned npend;
};
size_t rs_utf8_repair(struct rs_utf8_state *st, const char *in, size_t n, char *out, bool final);

/* Length of the longest valid-UTF-8 prefix of s[0..n) that does not end inside a
 * multi-byte sequence (for cutting text at a character boundary). */
size_t rs_utf8_boundary(const char *s, size_t n);

#endif
