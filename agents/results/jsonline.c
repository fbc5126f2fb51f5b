/* jsonline — see jsonline.h. */
#include "jsonline.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

void rs_jl_init(struct rs_jl *o, rs_write_fn write, void *arg)
{
	o->write = write;
	o->arg = arg;
	o->failed = 0;
	o->len = 0;
}

void rs_jl_flush(struct rs_jl *o)
{
	if (o->len > 0 && o->write(o->arg, o->buf, o->len) < 0)
		o->failed = 1;
	o->len = 0;
}

void rs_jl_put_slow(struct rs_jl *o, const char *s, size_t n)
{
	while (n > 0) {
		size_t room = RS_JL_BUF - o->len, k = n < room ? n : room;

		memcpy(o->buf + o->len, s, k);
		o->len += k;
		s += k;
		n -= k;
		if (o->len == RS_JL_BUF)
			rs_jl_flush(o);
	}
}

/* No byte below 0x20, no '"' (0x22), no '\\' (0x5C) among these eight? */
static bool plain8(const char *s)
{
	const uint64_t ones = UINT64_C(0x0101010101010101), high = UINT64_C(0x8080808080808080);
	uint64_t w, q, b;

	memcpy(&w, s, 8);
	q = w ^ (ones * '"');
	b = w ^ (ones * '\\');
	/* A byte is "zero" (matches) when (x - 1) & ~x has its high bit; bytes >= 0x80 are
	 * masked out with ~w so UTF-8 passes. */
	return (((w - ones * 0x20) | (q - ones) | (b - ones)) & ~w & high) == 0;
}

/* The escaped bytes of s, without quotes. */
static void escaped(struct rs_jl *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6] = {'\\', 0, 0, 0, 0, 0};
		size_t el = 2;

		/* Most bytes need no escape: skip them eight at a time. */
		while (i + 8 <= n && plain8(s + i))
			i += 8;
		if (i >= n)
			break;
		c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		rs_jl_put(o, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			el = 6;
		}
		rs_jl_put(o, esc, el);
	}
	rs_jl_put(o, s + run, n - run);
}

char *rs_jl_escape_to(char *q, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, run = 0;

	while (i < n) {
		unsigned char c;

		while (i + 8 <= n && plain8(s + i))
			i += 8;
		if (i >= n)
			break;
		c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\') {
			i++;
			continue;
		}
		q = rs_jl_copy(q, s + run, i - run);
		run = ++i;
		*q++ = '\\';
		switch (c) {
		case '"': *q++ = '"'; break;
		case '\\': *q++ = '\\'; break;
		case '\n': *q++ = 'n'; break;
		case '\r': *q++ = 'r'; break;
		case '\t': *q++ = 't'; break;
		case '\b': *q++ = 'b'; break;
		case '\f': *q++ = 'f'; break;
		default:
			*q++ = 'u';
			*q++ = '0';
			*q++ = '0';
			*q++ = hex[c >> 4];
			*q++ = hex[c & 15];
		}
	}
	return rs_jl_copy(q, s + run, n - run);
}

void rs_jl_string(struct rs_jl *o, const char *s, size_t n)
{
	rs_jl_put1(o, '"');
	escaped(o, s, n);
	rs_jl_put1(o, '"');
}

void rs_jl_string2(struct rs_jl *o, const char *a, size_t an, const char *b, size_t bn)
{
	rs_jl_put1(o, '"');
	escaped(o, a, an);
	escaped(o, b, bn);
	rs_jl_put1(o, '"');
}

void rs_jl_int(struct rs_jl *o, json_int_t v)
{
	char b[24], *e = b + sizeof(b), *q = e;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	do {
		*--q = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--q = '-';
	rs_jl_put(o, q, (size_t)(e - q));
}

void rs_jl_real(struct rs_jl *o, double v)
{
	char b[40];
	int n;

	/* Durations in seconds: microsecond precision, printed without snprintf's cost. */
	if (v >= 0 && v < 1e9) {
		long long us = llround(v * 1e6);

		if (fabs((double)us / 1e6 - v) <= 1e-12 * (v > 1 ? v : 1)) {
			long long frac = us % 1000000;
			int digits = 6;

			rs_jl_int(o, us / 1000000);
			rs_jl_put1(o, '.');
			while (digits > 1 && frac % 10 == 0) {
				frac /= 10;
				digits--;
			}
			/* "%0*lld" of frac, digits wide */
			for (int d = digits - 1; d >= 0; d--) {
				b[d] = (char)('0' + frac % 10);
				frac /= 10;
			}
			rs_jl_put(o, b, (size_t)digits);
			return;
		}
	}
	n = snprintf(b, sizeof(b), "%.17g", v);
	if (!strpbrk(b, ".eEn"))
		strcat(b, ".0"), n += 2;
	rs_jl_put(o, b, (size_t)n);
}

/* Compact JSON of an event. jansson's json_dumpf/json_dumpb cost 60% of a 200 MB
 * report's run time (a callback per token, snprintf per number); events are small
 * objects of strings, integers, reals and arrays, written here in jansson's own
 * compact form (members in insertion order). Not a parser: jansson still builds and
 * validates every value. */
void rs_jl_json(struct rs_jl *o, json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		const char *sep = "{";

		for (void *it = json_object_iter(j); it; it = json_object_iter_next(j, it)) {
			const char *k = json_object_iter_key(it);

			rs_jl_put1(o, *sep);
			sep = ",";
			rs_jl_string(o, k, json_object_iter_key_len(it));
			rs_jl_put1(o, ':');
			rs_jl_json(o, json_object_iter_value(it));
		}
		rs_jl_put(o, *sep == '{' ? "{}" : "}", *sep == '{' ? 2 : 1);
		break;
	}
	case JSON_ARRAY: {
		size_t n = json_array_size(j);

		rs_jl_put1(o, '[');
		for (size_t i = 0; i < n; i++) {
			if (i)
				rs_jl_put1(o, ',');
			rs_jl_json(o, json_array_get(j, i));
		}
		rs_jl_put1(o, ']');
		break;
	}
	case JSON_STRING:
		rs_jl_string(o, json_string_value(j), json_string_length(j));
		break;
	case JSON_INTEGER:
		rs_jl_int(o, json_integer_value(j));
		break;
	case JSON_REAL:
		rs_jl_real(o, json_real_value(j));
		break;
	case JSON_TRUE:
		rs_jl_put(o, "true", 4);
		break;
	case JSON_FALSE:
		rs_jl_put(o, "false", 5);
		break;
	case JSON_NULL:
		rs_jl_put(o, "null", 4);
		break;
	}
}

