/*
 * xmlenc — byte maps for expat's unknown-encoding handler, built with iconv. See xmlenc.h.
 *
 * The map is found by asking iconv about each byte alone: one character (its code
 * point), an incomplete sequence (a first byte: its continuations are tried to learn the
 * length), or invalid. That is 256 conversions for a single-byte encoding and about 256
 * per first byte for a multi-byte one (Shift_JIS: ~15,000, a few milliseconds), once per
 * document that declares such an encoding.
 */
#include "xmlenc.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct xe_map {
	char name[XE_NAME_MAX + 1];
	char iconv_name[XE_NAME_MAX + 1];
	enum xe_kind kind;
	bool multibyte;
	int map[256];
	unsigned char len[256]; /* bytes of the character a byte starts (1..4) */
	iconv_t cd;             /* to UTF-32LE; kept open for xe_map_convert() */
};

/* expat's rule (xmltok.c's XmlInitUnknownEncoding: ASCII bytes whose type is BT_OTHER
 * or BT_NONXML may be redefined): C0 controls but TAB/LF/CR, and $ @ \ ^ ` { } ~ DEL.
 * unit.results_xmlenc checks this list against expat. */
bool xe_byte_redefinable(unsigned char b)
{
	if (b >= 0x80)
		return true;
	if (b < 0x20)
		return b != 0x09 && b != 0x0A && b != 0x0D;
	return b == 0x24 || b == 0x40 || b == 0x5C || b == 0x5E || b == 0x60 || b == 0x7B || b == 0x7D ||
	       b == 0x7E || b == 0x7F;
}

enum xe_kind xe_builtin(const char *name)
{
	if (strcasecmp(name, "UTF-8") == 0)
		return XE_UTF8;
	if (strcasecmp(name, "US-ASCII") == 0)
		return XE_ASCII;
	if (strcasecmp(name, "ISO-8859-1") == 0 || strcasecmp(name, "UTF-16") == 0 ||
	    strcasecmp(name, "UTF-16BE") == 0 || strcasecmp(name, "UTF-16LE") == 0)
		return XE_EXPAT;
	return XE_TABLE;
}

static bool xml_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int xe_decl_encoding(const char *s, size_t n, size_t *off, size_t *len)
{
	size_t i = 5;

	if (n < 5 || memcmp(s, "<?xml", 5) != 0)
		return 0;
	for (;;) {
		size_t k0, k1, v0;
		char q;

		while (i < n && xml_space(s[i]))
			i++;
		if (i >= n || s[i] == '?')
			return 0;
		for (k0 = i; i < n && s[i] >= 'a' && s[i] <= 'z'; i++)
			;
		k1 = i;
		while (i < n && xml_space(s[i]))
			i++;
		if (k1 == k0 || i >= n || s[i] != '=')
			return 0;
		i++;
		while (i < n && xml_space(s[i]))
			i++;
		if (i >= n || (s[i] != '"' && s[i] != '\''))
			return 0;
		q = s[i++];
		for (v0 = i; i < n && s[i] != q; i++)
			;
		if (i >= n)
			return 0;
		if (k1 - k0 == 8 && memcmp(s + k0, "encoding", 8) == 0) {
			*off = v0;
			*len = i - v0;
			return 1;
		}
		i++;
	}
}

bool xe_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > XE_NAME_MAX)
		return false;
	if (!((name[0] >= 'A' && name[0] <= 'Z') || (name[0] >= 'a' && name[0] <= 'z')))
		return false;
	for (size_t i = 1; i < len; i++) {
		char c = name[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* Java's and Windows' names that glibc does not have, after a leading "x-" is dropped
 * (Java's prefix for non-IANA names) and '_' read as '-' (Java's historical names:
 * EUC_JP, ISO8859_15, KOI8_R, Big5_HKSCS are found that way). */
static const char *const ALIASES[][2] = {
	{"MacRoman", "MACINTOSH"},
	{"MacCentralEurope", "MAC-CENTRALEUROPE"},
	{"MacCyrillic", "MAC-CYRILLIC"},
	{"MacUkraine", "MACUKRAINIAN"},
	{"MacIceland", "MAC-IS"},
	{"MS949", "CP949"},
	{"windows-949", "CP949"},
	{"MS874", "CP874"},
	{"IBM00858", "IBM858"},
	{"L9", "ISO-8859-15"},
	{"csISOLatin9", "ISO-8859-15"},
	{"IBM923", "ISO-8859-15"},
	{"ISO-10646-UCS-2", "UCS-2"},
};

static iconv_t try_open(const char *name, char *used)
{
	iconv_t cd = iconv_open("UTF-32LE", name);

	if (cd != (iconv_t)-1)
		snprintf(used, XE_NAME_MAX + 1, "%s", name);
	return cd;
}

/* iconv for the declared name, or for the first of its Java/Windows spellings that
 * glibc knows. (iconv_t)-1 when none. */
static iconv_t open_named(const char *name, char *used)
{
	char base[XE_NAME_MAX + 1], dash[XE_NAME_MAX + 1];
	iconv_t cd;
	size_t i;

	if ((cd = try_open(name, used)) != (iconv_t)-1)
		return cd;
	snprintf(base, sizeof(base), "%s", (strncasecmp(name, "x-", 2) == 0) ? name + 2 : name);
	for (i = 0; base[i]; i++)
		dash[i] = base[i] == '_' ? '-' : base[i];
	dash[i] = '\0';
	if (strcmp(base, name) != 0 && (cd = try_open(base, used)) != (iconv_t)-1)
		return cd;
	if (strcmp(dash, base) != 0 && (cd = try_open(dash, used)) != (iconv_t)-1)
		return cd;
	for (i = 0; i < sizeof(ALIASES) / sizeof(ALIASES[0]); i++)
		if (strcasecmp(base, ALIASES[i][0]) == 0 || strcasecmp(dash, ALIASES[i][0]) == 0)
			return try_open(ALIASES[i][1], used);
	return (iconv_t)-1;
}

enum one { ONE_CHAR, ONE_MORE, ONE_INVALID, ONE_SEVERAL, ONE_NONE };

/* Converts s[0..n) from a fresh state: ONE_CHAR with *cp when the bytes are exactly one
 * character, ONE_MORE when they begin a longer one, ONE_INVALID, ONE_SEVERAL when they
 * are one sequence that iconv turns into several characters (a base and a combining
 * mark: BIG5-HKSCS), ONE_NONE when they are a complete sequence that is no character (a
 * shift sequence). */
static enum one one_char(iconv_t cd, const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char out[16];
	char *in = (char *)(uintptr_t)s, *op = (char *)out;
	size_t inleft = n, outleft = sizeof(out), got;

	(void)iconv(cd, NULL, NULL, NULL, NULL);
	if (iconv(cd, &in, &inleft, &op, &outleft) == (size_t)-1) {
		if (errno == EINVAL)
			return ONE_MORE;
		if (errno == EILSEQ)
			return ONE_INVALID;
		return ONE_SEVERAL; /* E2BIG */
	}
	/* Flush: some converters (CP1255, CP1258, BIG5-HKSCS) hold a character back for
	 * composition. */
	if (iconv(cd, NULL, NULL, &op, &outleft) == (size_t)-1)
		return ONE_SEVERAL;
	got = (sizeof(out) - outleft) / 4;
	if (got == 0)
		return ONE_NONE;
	if (got > 1)
		return ONE_SEVERAL;
	*cp = (uint32_t)out[0] | (uint32_t)out[1] << 8 | (uint32_t)out[2] << 16 | (uint32_t)out[3] << 24;
	return ONE_CHAR;
}

struct tally {
	unsigned chars, more, none;
	unsigned char first_more;
};

/* Tries every last byte after prefix s[0..n-1): counts the outcomes. */
static void tally_last(iconv_t cd, unsigned char *s, size_t n, struct tally *t)
{
	uint32_t cp;

	for (unsigned c = 0; c < 256; c++) {
		s[n - 1] = (unsigned char)c;
		switch (one_char(cd, s, n, &cp)) {
		case ONE_CHAR:
		case ONE_SEVERAL:
			t->chars++;
			break;
		case ONE_MORE:
			if (t->more++ == 0)
				t->first_more = (unsigned char)c;
			break;
		case ONE_INVALID:
			break;
		case ONE_NONE:
			t->none++;
			break;
		}
	}
}

/* Outcome of one length: the length, 0 to go on, -1 refused (why filled), -2 no
 * character starts so (b is an invalid byte). */
static int judge(const struct tally *t, unsigned char b, size_t n, char *why, size_t why_size)
{
	if (t->none) {
		snprintf(why, why_size, "it uses shift sequences, one starts with byte 0x%02X", b);
		return -1;
	}
	if (t->chars && t->more) {
		snprintf(why, why_size,
			 "a character starting with byte 0x%02X is %zu bytes or longer, expat needs the first "
			 "byte to fix the length",
			 b, n);
		return -1;
	}
	if (t->chars)
		return (int)n;
	return t->more ? 0 : -2;
}

/* The length of the characters that start with byte b (a ONE_MORE byte): 2..4, or 0 when
 * no continuation makes a character (then b is an invalid byte); -1 with why filled when
 * it does not fit expat's model. Every second byte is tried, every third byte after each
 * second byte that needs more, and the fourth byte along the first such path. */
static int lead_length(iconv_t cd, unsigned char b, char *why, size_t why_size)
{
	unsigned char s[4] = {b, 0, 0, 0};
	struct tally t2 = {0}, t3 = {0}, t4 = {0};
	bool found = false;
	unsigned char p2 = 0, p3 = 0;
	int r;

	tally_last(cd, s, 2, &t2);
	if ((r = judge(&t2, b, 2, why, why_size)) != 0)
		return r == -2 ? 0 : r;
	for (unsigned c = 0; c < 256; c++) {
		struct tally one = {0};

		s[1] = (unsigned char)c;
		s[2] = 0;
		if (one_char(cd, s, 2, &(uint32_t){0}) != ONE_MORE)
			continue;
		tally_last(cd, s, 3, &one);
		t3.chars += one.chars;
		t3.more += one.more;
		t3.none += one.none;
		if (one.more && !found) {
			found = true;
			p2 = (unsigned char)c;
			p3 = one.first_more;
		}
	}
	if ((r = judge(&t3, b, 3, why, why_size)) != 0)
		return r == -2 ? 0 : r;
	s[1] = p2;
	s[2] = p3;
	tally_last(cd, s, 4, &t4);
	if ((r = judge(&t4, b, 4, why, why_size)) != 0)
		return r == -2 ? 0 : r;
	snprintf(why, why_size, "characters starting with byte 0x%02X are longer than 4 bytes", b);
	return -1;
}

/* The entry for byte b decoding to cp as expat takes it: BMP, not a C0 control (but
 * TAB/LF/CR), not U+FFFE/U+FFFF, and not an ASCII character XML's syntax uses unless b is
 * that very byte (expat refuses a map where another byte means '<'); anything else is
 * shown as U+FFFD. */
static int single_entry(unsigned b, uint32_t cp)
{
	if (cp > 0xFFFD || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0xFFFD;
	if (cp < 0x20 && cp != 0x09 && cp != 0x0A && cp != 0x0D)
		return 0xFFFD;
	if (cp < 0x80 && cp != b && !xe_byte_redefinable((unsigned char)cp))
		return 0xFFFD;
	return (int)cp;
}

/* "A", "é", "€", U+1F600 in UTF-8: an encoding that decodes these bytes to these
 * characters is UTF-8. */
static bool is_utf8(iconv_t cd)
{
	static const unsigned char probe[] = "A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";
	static const uint32_t want[] = {0x41, 0xE9, 0x20AC, 0x1F600};
	unsigned char out[32];
	char *in = (char *)(uintptr_t)probe, *op = (char *)out;
	size_t inleft = sizeof(probe) - 1, outleft = sizeof(out);

	(void)iconv(cd, NULL, NULL, NULL, NULL);
	if (iconv(cd, &in, &inleft, &op, &outleft) == (size_t)-1 || sizeof(out) - outleft != sizeof(want))
		return false;
	for (size_t i = 0; i < 4; i++) {
		uint32_t cp = (uint32_t)out[4 * i] | (uint32_t)out[4 * i + 1] << 8 |
			      (uint32_t)out[4 * i + 2] << 16 | (uint32_t)out[4 * i + 3] << 24;

		if (cp != want[i])
			return false;
	}
	return true;
}

/* Fills m->map and m->len. 0, or -1 with why. */
static int build(struct xe_map *m, char *why, size_t why_size)
{
	bool ascii = true;

	for (unsigned b = 0; b < 256; b++) {
		unsigned char byte = (unsigned char)b;
		uint32_t cp = 0;
		int n;

		m->len[b] = 1;
		switch (one_char(m->cd, &byte, 1, &cp)) {
		case ONE_CHAR:
			if (b < 0x80 ? cp != b : true)
				ascii = false;
			m->map[b] = single_entry(b, cp);
			break;
		case ONE_INVALID:
		case ONE_SEVERAL:
			if (b < 0x80)
				ascii = false;
			m->map[b] = 0xFFFD;
			break;
		case ONE_MORE:
			ascii = false;
			if ((n = lead_length(m->cd, byte, why, why_size)) < 0)
				return -1;
			if (n == 0) {
				m->map[b] = 0xFFFD;
			} else {
				m->map[b] = -n;
				m->len[b] = (unsigned char)n;
				m->multibyte = true;
			}
			break;
		case ONE_NONE:
			snprintf(why, why_size, "byte 0x%02X is no character, the encoding has shift states", b);
			return -1;
		}
	}
	/* expat's rule, '<' first: it tells the usual reason. */
	if (m->map['<'] != '<') {
		snprintf(why, why_size, "byte 0x3C is not '<', the encoding is not ASCII-compatible "
					"(like UTF-16, UTF-32, EBCDIC)");
		return -1;
	}
	for (unsigned b = 0; b < 0x80; b++)
		if (!xe_byte_redefinable((unsigned char)b) && m->map[b] != (int)b) {
			if (b > 0x20)
				snprintf(why, why_size, "byte 0x%02X is not '%c' as in ASCII", b, (char)b);
			else
				snprintf(why, why_size, "byte 0x%02X is not the ASCII control 0x%02X", b, b);
			return -1;
		}
	if (ascii)
		m->kind = XE_ASCII;
	return 0;
}

struct xe_map *xe_map_new(const char *name, char *why, size_t why_size)
{
	struct xe_map *m = NULL;
	char dummy[8];

	if (!why || why_size == 0) {
		why = dummy;
		why_size = sizeof(dummy);
	}
	why[0] = '\0';
	if (!xe_name_valid(name, strlen(name))) {
		snprintf(why, why_size, "not an encoding name");
		return NULL;
	}
	if (!(m = calloc(1, sizeof(*m)))) {
		snprintf(why, why_size, "out of memory");
		return NULL;
	}
	m->cd = (iconv_t)-1;
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->kind = XE_TABLE;
	if ((m->cd = open_named(name, m->iconv_name)) == (iconv_t)-1) {
		snprintf(why, why_size, "unknown to iconv");
		goto fail;
	}
	if (is_utf8(m->cd)) {
		m->kind = XE_UTF8;
		return m;
	}
	if (build(m, why, why_size) < 0)
		goto fail;
	if (!m->multibyte) {
		iconv_close(m->cd);
		m->cd = (iconv_t)-1;
	}
	return m;
fail:
	xe_map_free(m);
	return NULL;
}

void xe_map_free(struct xe_map *m)
{
	if (!m)
		return;
	if (m->cd != (iconv_t)-1)
		iconv_close(m->cd);
	free(m);
}

enum xe_kind xe_map_kind(const struct xe_map *m)
{
	return m->kind;
}

const char *xe_map_name(const struct xe_map *m)
{
	return m->name;
}

const char *xe_map_iconv_name(const struct xe_map *m)
{
	return m->iconv_name;
}

int xe_map_byte(const struct xe_map *m, unsigned char b)
{
	return m->map[b];
}

int xe_map_convert(struct xe_map *m, const char *s)
{
	uint32_t cp;
	unsigned char b = (unsigned char)s[0];

	if (!m->multibyte || m->len[b] < 2)
		return -1;
	switch (one_char(m->cd, (const unsigned char *)s, m->len[b], &cp)) {
	case ONE_CHAR:
		/* expat's model holds BMP characters only (xmltok.c's unknown_isInvalid). */
		return cp > 0xFFFF ? 0xFFFD : (int)cp;
	case ONE_SEVERAL:
		return 0xFFFD; /* one character for expat */
	default:
		return -1;
	}
}

static int XMLCALL xmlenc_on_convert(void *data, const char *s)
{
	return xe_map_convert(data, s);
}

static void XMLCALL xmlenc_on_release(void *data)
{
	xe_map_free(data);
}

void xe_map_to_expat(struct xe_map *m, XML_Encoding *info)
{
	memcpy(info->map, m->map, sizeof(m->map));
	info->data = m;
	info->convert = m->multibyte ? xmlenc_on_convert : NULL;
	info->release = xmlenc_on_release;
}
