/* boundtext — see boundtext.h. */
#include "boundtext.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char REPLACEMENT[3] = {'\xEF', '\xBF', '\xBD'};

void rs_text_init(struct rs_text *t, size_t cap)
{
	t->buf = NULL;
	t->len = 0;
	t->alloc = 0;
	t->cap = cap;
	t->cut = 0;
}

void rs_text_reset(struct rs_text *t)
{
	t->len = 0;
	t->cut = 0;
}

void rs_text_release(struct rs_text *t)
{
	free(t->buf);
	t->buf = NULL;
	t->len = t->alloc = t->cut = 0;
}

size_t rs_text_total(const struct rs_text *t)
{
	return t->len + t->cut;
}

int rs_text_append(struct rs_text *t, const char *s, size_t n)
{
	size_t room = t->cap - t->len;
	size_t take = n < room ? n : room;

	t->cut += n - take;
	if (take == 0)
		return 0;
	if (t->len + take > t->alloc) {
		size_t want = t->alloc ? t->alloc : 256;
		char *nb;

		while (want < t->len + take)
			want *= 2;
		if (want > t->cap)
			want = t->cap;
		nb = realloc(t->buf, want);
		if (!nb)
			return -1;
		t->buf = nb;
		t->alloc = want;
	}
	memcpy(t->buf + t->len, s, take);
	t->len += take;
	return 0;
}

/* Length of the valid sequence starting at s (1..4), or 0 when s[0] starts no valid
 * sequence within n bytes; *partial is set when the bytes so far are a valid prefix
 * that n cut short. */
static size_t utf8_seq(const unsigned char *s, size_t n, bool *partial)
{
	unsigned char c = s[0];
	size_t need, i;
	unsigned char lo = 0x80, hi = 0xBF;

	*partial = false;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		need = 2;
	else if (c >= 0xE0 && c <= 0xEF) {
		need = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F; /* no surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else
		return 0;
	for (i = 1; i < need; i++) {
		if (i >= n) {
			*partial = true;
			return 0;
		}
		if (s[i] < (i == 1 ? lo : 0x80) || s[i] > (i == 1 ? hi : 0xBF))
			return 0;
	}
	return need;
}

static bool bad_control(unsigned char c)
{
	return c < 0x20 && c != '\t' && c != '\n' && c != '\r';
}

size_t rs_utf8_boundary(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;

	/* Only the last sequence can be partial: find its lead byte (at most 3 back). */
	for (size_t k = 1; k <= 3 && k <= n; k++) {
		unsigned char c = u[n - k];
		bool partial;

		if (c >= 0x80 && c < 0xC0)
			continue; /* a continuation byte: look further back */
		if (c >= 0xC0) {
			(void)utf8_seq(u + n - k, k, &partial);
			if (partial)
				return n - k;
		}
		break;
	}
	return n;
}

/* Eight bytes at once: all printable ASCII (no high bit, none below 0x20)? */
static bool ascii8(const unsigned char *s)
{
	uint64_t w;

	memcpy(&w, s, 8);
	return ((w | (w - UINT64_C(0x2020202020202020))) & UINT64_C(0x8080808080808080)) == 0;
}

/* Repairs a complete buffer (no sequence continues past its end). */
static size_t repair_all(const unsigned char *s, size_t n, char *out)
{
	size_t i = 0, o = 0;

	while (i < n) {
		bool partial;
		size_t l;

		/* The common case, printable ASCII, a word at a time. */
		while (i + 8 <= n && ascii8(s + i)) {
			memcpy(out + o, s + i, 8);
			o += 8;
			i += 8;
		}
		if (i >= n)
			break;
		if (s[i] >= 0x20 && s[i] < 0x80) {
			out[o++] = (char)s[i++];
			continue;
		}
		if (s[i] == '\n' || s[i] == '\t' || s[i] == '\r') {
			out[o++] = (char)s[i++];
			continue;
		}
		l = utf8_seq(s + i, n - i, &partial);
		if (l == 0 || (l == 1 && bad_control(s[i]))) {
			memcpy(out + o, REPLACEMENT, 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(out + o, s + i, l);
		o += l;
		i += l;
	}
	return o;
}

size_t rs_utf8_repair(struct rs_utf8_state *st, const char *in, size_t n, char *out, bool final)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0, i = 0;

	if (st->npend > 0) {
		/* Finish the sequence left over from the previous chunk: its bytes plus
		 * at most 4 new ones, decoded until the old bytes are consumed. */
		unsigned char tmp[8];
		size_t old = st->npend, add = n < 4 ? n : 4, tlen, pos = 0;

		memcpy(tmp, st->pend, old);
		memcpy(tmp + old, s, add);
		tlen = old + add;
		st->npend = 0;
		while (pos < old) {
			bool partial;
			size_t l = utf8_seq(tmp + pos, tlen - pos, &partial);

			if (partial && add == n && !final) {
				/* Still incomplete and no more input: keep waiting. */
				memcpy(st->pend, tmp + pos, tlen - pos);
				st->npend = (unsigned)(tlen - pos);
				return o;
			}
			if (l > 0 && !(l == 1 && bad_control(tmp[pos]))) {
				memcpy(out + o, tmp + pos, l);
				o += l;
				pos += l;
			} else {
				memcpy(out + o, REPLACEMENT, 3);
				o += 3;
				pos++;
			}
		}
		i = pos - old; /* new bytes consumed by the leftover sequence */
	}
	if (i < n) {
		size_t end = n;

		if (!final) {
			/* Hold back a trailing partial sequence (at most 3 bytes). */
			end = i + rs_utf8_boundary((const char *)s + i, n - i);
			if (n - end > 3)
				end = n;
			memcpy(st->pend, s + end, n - end);
			st->npend = (unsigned)(n - end);
		}
		o += repair_all(s + i, end - i, out + o);
	}
	return o;
}

json_t *rs_text_json_part(const char *s, size_t n, size_t cut)
{
	char *out;
	size_t o, keep = n;
	json_t *j;

	if (cut > 0) {
		/* Do not end inside a multi-byte character: count its bytes as cut. */
		keep = rs_utf8_boundary(s, n);
		cut += n - keep;
	}
	out = malloc(3 * keep + 64);
	if (!out)
		return NULL;
	o = repair_all((const unsigned char *)s, keep, out);
	if (cut > 0)
		o += (size_t)snprintf(out + o, 64, RS_TEXT_MARKER_FMT, cut);
	j = json_stringn_nocheck(out, o);
	free(out);
	return j;
}

json_t *rs_text_json(const struct rs_text *t)
{
	return rs_text_json_part(t->buf ? t->buf : "", t->len, t->cut);
}
