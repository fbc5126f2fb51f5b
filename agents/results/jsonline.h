/*
 * jsonline — events written as compact JSON lines into a bounded buffer.
 *
 * jansson's json_dumpf/json_dumpb cost more than half the run time of a big report (a
 * callback per token, snprintf per number). Events are small objects of strings,
 * integers, reals and short arrays; this writes them in jansson's own compact form
 * (members in insertion order, reals that are whole microseconds as 0.000123, others
 * with 17 significant digits). It is a writer, not a parser: strings must already be
 * valid UTF-8 (every producer in this library guarantees it).
 *
 * The buffer has a fixed size (RS_JL_BUF); when full it is handed to the write callback,
 * so a line may reach the callback in several pieces. rs_jl_flush() hands over the rest.
 * Pure logic apart from the callback.
 */
#ifndef SV_RESULTS_JSONLINE_H
#define SV_RESULTS_JSONLINE_H

#include <jansson.h>
#include <stddef.h>
#include <string.h>

#define RS_JL_BUF (256 * 1024)

/* Receives output bytes; returns 0, or -1 (the writer then counts a failure). */
typedef int (*rs_write_fn)(void *arg, const char *data, size_t len);

struct rs_jl {
	rs_write_fn write;
	void *arg;
	int failed;
	size_t len;
	char buf[RS_JL_BUF];
};

void rs_jl_init(struct rs_jl *o, rs_write_fn write, void *arg);
void rs_jl_flush(struct rs_jl *o);
void rs_jl_put_slow(struct rs_jl *o, const char *s, size_t n);

static inline void rs_jl_put(struct rs_jl *o, const char *s, size_t n)
{
	if (n <= RS_JL_BUF - o->len) {
		memcpy(o->buf + o->len, s, n);
		o->len += n;
		return;
	}
	rs_jl_put_slow(o, s, n);
}

static inline void rs_jl_put1(struct rs_jl *o, char c)
{
	if (o->len == RS_JL_BUF)
		rs_jl_flush(o);
	o->buf[o->len++] = c;
}
/* A JSON string of s[0..n) (valid UTF-8): quotes and escapes added. */
/* Copies n bytes (short ones without a library call); returns d + n. */
static inline char *rs_jl_copy(char *d, const char *s, size_t n)
{
	if (n >= 8 && n <= 16) {
		unsigned long long a, b;

		memcpy(&a, s, 8);
		memcpy(&b, s + n - 8, 8);
		memcpy(d, &a, 8);
		memcpy(d + n - 8, &b, 8);
	} else if (n < 8) {
		for (size_t i = 0; i < n; i++)
			d[i] = s[i];
	} else
		memcpy(d, s, n);
	return d + n;
}

/* Writes the JSON-escaped bytes of s[0..n) (no quotes) at q, which has room for 6 * n
 * bytes; returns the end. The same escapes as rs_jl_string(). */
char *rs_jl_escape_to(char *q, const char *s, size_t n);

void rs_jl_string(struct rs_jl *o, const char *s, size_t n);
/* One JSON string of a followed by b. */
void rs_jl_string2(struct rs_jl *o, const char *a, size_t an, const char *b, size_t bn);
void rs_jl_int(struct rs_jl *o, json_int_t v);
void rs_jl_real(struct rs_jl *o, double v);
void rs_jl_json(struct rs_jl *o, json_t *j);

#endif
