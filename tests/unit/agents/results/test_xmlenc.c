/*
 * Unit tests of agents/results/xmlenc.c: the declaration reader, the names Java and
 * Windows write (every alias of issue 7 part 7), byte maps that round-trip through iconv
 * for 0x80-0xFF, multi-byte encodings (Shift_JIS, EUC-JP, Big5) through expat itself,
 * the encodings that cannot fit expat's model, and the list of ASCII bytes expat lets an
 * encoding redefine checked against expat.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <expat.h>
#include <iconv.h>

#include "xmlenc.h"

static void builtin_names_need_no_map(void **state)
{
	(void)state;
	assert_int_equal(xe_builtin("UTF-8"), XE_UTF8);
	assert_int_equal(xe_builtin("utf-8"), XE_UTF8);
	assert_int_equal(xe_builtin("US-ASCII"), XE_ASCII);
	assert_int_equal(xe_builtin("us-ascii"), XE_ASCII);
	assert_int_equal(xe_builtin("ISO-8859-1"), XE_EXPAT);
	assert_int_equal(xe_builtin("utf-16"), XE_EXPAT);
	assert_int_equal(xe_builtin("UTF-16BE"), XE_EXPAT);
	assert_int_equal(xe_builtin("UTF-16LE"), XE_EXPAT);
	assert_int_equal(xe_builtin("UTF8"), XE_TABLE); /* not expat's: resolved by iconv */
	assert_int_equal(xe_builtin("ANSI_X3.4-1968"), XE_TABLE);
	assert_int_equal(xe_builtin("Cp1252"), XE_TABLE);
}

static void decl_name(const char *decl, const char *want)
{
	size_t off = 0, len = 0;
	int rc = xe_decl_encoding(decl, strlen(decl), &off, &len);

	if (!want) {
		assert_int_equal(rc, 0);
		return;
	}
	assert_int_equal(rc, 1);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(decl + off, want, len);
}

static void declaration_is_read(void **state)
{
	(void)state;
	decl_name("<?xml version=\"1.0\" encoding=\"Cp1252\"?>", "Cp1252");
	decl_name("<?xml version='1.0' encoding='ANSI_X3.4-1968' standalone='yes'?>", "ANSI_X3.4-1968");
	decl_name("<?xml version=\"1.0\"\n\tencoding = \"ISO-8859-15\" ?>", "ISO-8859-15");
	decl_name("<?xml version=\"1.0\" standalone=\"no\" encoding=\"x\"?>", "x");
	decl_name("<?xml version=\"1.0\"?>", NULL);
	decl_name("<?xml version=\"1.0\" standalone=\"yes\"?>", NULL);
	/* The word inside a value is not the pseudo-attribute. */
	decl_name("<?xml version=\"encoding\"?>", NULL);
	decl_name("<?xml version=\"1.0\" encoding=\"unterminated?>", NULL);
	decl_name("<?xml version=\"1.0\" encoding=Cp1252?>", NULL);
	decl_name("<?xm", NULL);
	decl_name("<root/>", NULL);
}

static void names_are_checked(void **state)
{
	(void)state;
	assert_true(xe_name_valid("Cp1252", 6));
	assert_true(xe_name_valid("ANSI_X3.4-1968", 14));
	assert_false(xe_name_valid("", 0));
	assert_false(xe_name_valid("1252", 4));
	assert_false(xe_name_valid("UTF-8//TRANSLIT", 15));
	assert_false(xe_name_valid("a b", 3));
	char longname[XE_NAME_MAX + 2];

	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_false(xe_name_valid(longname, strlen(longname)));
	assert_true(xe_name_valid(longname, XE_NAME_MAX));
}

static struct xe_map *map_of(const char *name)
{
	char why[256];
	struct xe_map *m = xe_map_new(name, why, sizeof(why));

	if (!m)
		fail_msg("%s: %s", name, why);
	assert_string_equal(xe_map_name(m), name);
	return m;
}

static void ascii_and_utf8_aliases(void **state)
{
	static const char *const ascii[] = {"ANSI_X3.4-1968", "US-ASCII", "ascii", "ASCII", "csASCII",
					    "ISO646-US", "cp367", "ANSI_X3.4-1986"};
	static const char *const utf8[] = {"UTF8", "utf8", "UTF_8", "x-UTF-8"};

	(void)state;
	for (size_t i = 0; i < sizeof(ascii) / sizeof(ascii[0]); i++) {
		struct xe_map *m = map_of(ascii[i]);

		assert_int_equal(xe_map_kind(m), XE_ASCII);
		xe_map_free(m);
	}
	for (size_t i = 0; i < sizeof(utf8) / sizeof(utf8[0]); i++) {
		struct xe_map *m = map_of(utf8[i]);

		assert_int_equal(xe_map_kind(m), XE_UTF8);
		xe_map_free(m);
	}
}

struct expect {
	const char *name;
	unsigned char byte;
	int cp;
};

/* A few bytes of every alias, from the charsets' published tables. */
static const struct expect SINGLE[] = {
	{"Cp1252", 0x80, 0x20AC},        {"Cp1252", 0xE9, 0x00E9},        {"Cp1252", 0x9C, 0x0153},
	{"windows-1252", 0x80, 0x20AC},  {"WINDOWS-1252", 0x92, 0x2019},  {"ISO-8859-15", 0xA4, 0x20AC},
	{"ISO-8859-15", 0xE9, 0x00E9},   {"ISO8859_15", 0xA4, 0x20AC},    {"LATIN9", 0xBD, 0x0153},
	{"L9", 0xA4, 0x20AC},            {"MacRoman", 0x8E, 0x00E9},      {"x-MacRoman", 0xDB, 0x20AC},
	{"macintosh", 0x8E, 0x00E9},     {"Cp1250", 0x8A, 0x0160},        {"windows-1250", 0xE8, 0x010D},
	{"KOI8-R", 0xC1, 0x0430},        {"KOI8_R", 0xF1, 0x042F},        {"Cp1251", 0xC0, 0x0410},
	{"ISO8859_1", 0xE9, 0x00E9},     {"latin1", 0xFF, 0x00FF},        {"ISO-8859-2", 0xA9, 0x0160},
	{"Cp437", 0x82, 0x00E9},         {"Cp850", 0x82, 0x00E9},         {"IBM00858", 0xD5, 0x20AC},
	{"x-MacCentralEurope", 0x8E, 0x00E9}, {"MS874", 0xA1, 0x0E01},   {"windows-1253", 0xE1, 0x03B1},
};

static void single_byte_aliases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(SINGLE) / sizeof(SINGLE[0]); i++) {
		struct xe_map *m = map_of(SINGLE[i].name);

		assert_int_equal(xe_map_kind(m), XE_TABLE);
		if (xe_map_byte(m, SINGLE[i].byte) != SINGLE[i].cp)
			fail_msg("%s: byte 0x%02X is U+%04X, want U+%04X", SINGLE[i].name, SINGLE[i].byte,
				 (unsigned)xe_map_byte(m, SINGLE[i].byte), (unsigned)SINGLE[i].cp);
		/* ASCII is itself. */
		for (unsigned b = 0x20; b < 0x7F; b++)
			assert_int_equal(xe_map_byte(m, (unsigned char)b), (int)b);
		xe_map_free(m);
	}
}

/* Encodes cp with iconv into name: the bytes, or 0 when iconv cannot. */
static size_t encode(const char *name, int cp, unsigned char *out, size_t size)
{
	iconv_t cd = iconv_open(name, "UTF-32LE");
	unsigned char in[4] = {(unsigned char)cp, (unsigned char)(cp >> 8), (unsigned char)(cp >> 16), 0};
	char *ip = (char *)in, *op = (char *)out;
	size_t il = 4, ol = size;

	assert_true(cd != (iconv_t)-1);
	if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1) {
		iconv_close(cd);
		return 0;
	}
	iconv_close(cd);
	return size - ol;
}

/* Every byte 0x80-0xFF a single-byte map decodes comes back as the same byte when iconv
 * encodes its code point; the bytes mapped to U+FFFD are the ones iconv does not define. */
static void single_byte_maps_round_trip(void **state)
{
	static const char *const names[] = {"Cp1252",   "ISO-8859-15", "MacRoman", "Cp1250",     "KOI8-R",
					    "Cp1251",   "ISO-8859-2",  "Cp437",    "windows-1253", "TIS-620",
					    "ISO8859_1", "KOI8-U",     "CP1258"};

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct xe_map *m = map_of(names[i]);
		const char *iname = xe_map_iconv_name(m);
		unsigned defined = 0;

		for (unsigned b = 0x80; b <= 0xFF; b++) {
			int cp = xe_map_byte(m, (unsigned char)b);
			unsigned char out[8];
			size_t n;

			assert_true(cp >= 0);
			if (cp == 0xFFFD) {
				/* Undefined in this charset: iconv refuses the byte alone. */
				iconv_t cd = iconv_open("UTF-32LE", iname);
				unsigned char in = (unsigned char)b, o4[8];
				char *ip = (char *)&in, *op = (char *)o4;
				size_t il = 1, ol = sizeof(o4);

				assert_true(iconv(cd, &ip, &il, &op, &ol) == (size_t)-1);
				iconv_close(cd);
				continue;
			}
			defined++;
			n = encode(iname, cp, out, sizeof(out));
			if (n != 1 || out[0] != b)
				fail_msg("%s (%s): byte 0x%02X -> U+%04X -> %zu bytes 0x%02X", names[i], iname, b,
					 (unsigned)cp, n, n ? out[0] : 0);
		}
		assert_true(defined >= 80); /* TIS-620 defines the fewest: 87 */
		xe_map_free(m);
	}
}

static void undefined_bytes_and_controls_become_replacement(void **state)
{
	struct xe_map *m;

	(void)state;
	m = map_of("Cp1252");
	/* Windows-1252 leaves 0x81, 0x8D, 0x8F, 0x90, 0x9D undefined. */
	assert_int_equal(xe_map_byte(m, 0x81), 0xFFFD);
	assert_int_equal(xe_map_byte(m, 0x9D), 0xFFFD);
	/* C0 controls are not XML characters: U+FFFD, as in UTF-8 reports; TAB/LF/CR stay. */
	assert_int_equal(xe_map_byte(m, 0x00), 0xFFFD);
	assert_int_equal(xe_map_byte(m, 0x1B), 0xFFFD);
	assert_int_equal(xe_map_byte(m, 0x09), 0x09);
	assert_int_equal(xe_map_byte(m, 0x0A), 0x0A);
	assert_int_equal(xe_map_byte(m, 0x0D), 0x0D);
	assert_int_equal(xe_map_convert(m, "\x80"), -1); /* single-byte: nothing to convert */
	xe_map_free(m);
}

static void multibyte_maps(void **state)
{
	struct xe_map *m;

	(void)state;
	m = map_of("Shift_JIS");
	assert_int_equal(xe_map_kind(m), XE_TABLE);
	assert_int_equal(xe_map_byte(m, 0x82), -2);
	assert_int_equal(xe_map_byte(m, 0xE0), -2);
	assert_int_equal(xe_map_byte(m, 0xB1), 0xFF71); /* half-width katakana, one byte */
	assert_int_equal(xe_map_byte(m, '<'), '<');
	assert_int_equal(xe_map_convert(m, "\x82\xA0"), 0x3042); /* HIRAGANA A */
	assert_int_equal(xe_map_convert(m, "\x93\xFA"), 0x65E5); /* CJK "day" */
	assert_int_equal(xe_map_convert(m, "\x82\x22"), -1);     /* '"' cannot follow */
	xe_map_free(m);

	m = map_of("EUC_JP"); /* Java's name for EUC-JP */
	assert_int_equal(xe_map_byte(m, 0xA4), -2);
	assert_int_equal(xe_map_byte(m, 0x8E), -2); /* SS2 + half-width katakana */
	assert_int_equal(xe_map_byte(m, 0x8F), -3); /* SS3 + JIS X 0212 */
	assert_int_equal(xe_map_convert(m, "\xA4\xA2"), 0x3042);
	assert_int_equal(xe_map_convert(m, "\x8E\xB1"), 0xFF71);
	assert_int_equal(xe_map_convert(m, "\x8F\xB0\xA1"), 0x4E02);
	xe_map_free(m);

	m = map_of("Big5");
	assert_int_equal(xe_map_byte(m, 0xA4), -2);
	assert_int_equal(xe_map_convert(m, "\xA4\x40"), 0x4E00);
	xe_map_free(m);
}

static void unsupported(const char *name, const char *why_part)
{
	char why[256] = "";
	struct xe_map *m = xe_map_new(name, why, sizeof(why));

	if (m)
		fail_msg("%s was accepted", name);
	if (!strstr(why, why_part))
		fail_msg("%s: \"%s\" does not say \"%s\"", name, why, why_part);
}

static void encodings_outside_expats_model_are_refused(void **state)
{
	(void)state;
	unsupported("X-FOO", "unknown to iconv");
	unsupported("MacKlingon", "unknown to iconv");
	unsupported("GB18030", "first byte to fix the length");
	unsupported("ISO-2022-JP", "shift sequences");
	unsupported("UTF-7", "shift sequences");
	unsupported("UCS-2", "not ASCII-compatible");
	unsupported("UTF-16LE-X", "unknown to iconv");
	unsupported("UTF-32", "not ASCII-compatible");
	unsupported("IBM037", "not ASCII-compatible"); /* EBCDIC */
	unsupported("Cp1252//TRANSLIT", "not an encoding name");
	unsupported("", "not an encoding name");
}

/* ---- the map, through expat ---- */

struct out {
	char buf[256];
	size_t len;
	struct xe_map *m;
};

static void XMLCALL on_text(void *arg, const XML_Char *s, int len)
{
	struct out *o = arg;

	if (o->len + (size_t)len < sizeof(o->buf)) {
		memcpy(o->buf + o->len, s, (size_t)len);
		o->len += (size_t)len;
	}
}

static int XMLCALL on_encoding(void *arg, const XML_Char *name, XML_Encoding *info)
{
	struct out *o = arg;

	(void)name;
	if (!o->m)
		return XML_STATUS_ERROR;
	xe_map_to_expat(o->m, info);
	o->m = NULL; /* expat's now */
	return XML_STATUS_OK;
}

/* Parses doc (declared in name) with the map; the text content as UTF-8, or NULL on an
 * expat error. */
static const char *through_expat(const char *name, const char *doc, struct out *o)
{
	XML_Parser p = XML_ParserCreate(NULL);
	int ok;

	memset(o, 0, sizeof(*o));
	o->m = map_of(name);
	XML_SetUserData(p, o);
	XML_SetCharacterDataHandler(p, on_text);
	XML_SetUnknownEncodingHandler(p, on_encoding, o);
	ok = XML_Parse(p, doc, (int)strlen(doc), XML_TRUE) != XML_STATUS_ERROR;
	XML_ParserFree(p); /* releases the map */
	xe_map_free(o->m); /* when expat never asked for it */
	o->buf[o->len] = '\0';
	return ok ? o->buf : NULL;
}

/* body after a declaration of name, through expat with the map. */
static const char *decoded(const char *name, const char *body, struct out *o)
{
	char doc[256];

	snprintf(doc, sizeof(doc), "<?xml version=\"1.0\" encoding=\"%s\"?>%s", name, body);
	return through_expat(name, doc, o);
}

static void expat_decodes_with_the_maps(void **state)
{
	struct out o;

	(void)state;
	assert_string_equal(decoded("Cp1252", "<a>caf\xE9 \x80 \x93q\x94</a>", &o),
			    "caf\xC3\xA9 \xE2\x82\xAC \xE2\x80\x9Cq\xE2\x80\x9D");
	assert_string_equal(decoded("ISO-8859-15", "<a x=\"\xA4\">\xA4</a>", &o), "\xE2\x82\xAC");
	assert_string_equal(decoded("MacRoman", "<a>\x8E</a>", &o), "\xC3\xA9");
	/* Element names in a multi-byte encoding, and text. */
	assert_string_equal(decoded("Shift_JIS", "<\x93\xFA>\x82\xA0\xB1</\x93\xFA>", &o), "\xE3\x81\x82\xEF\xBD\xB1");
	assert_string_equal(decoded("EUC-JP", "<a>\xA4\xA2\x8F\xB0\xA1</a>", &o), "\xE3\x81\x82\xE4\xB8\x82");
	/* A broken multi-byte sequence is expat's error, not a wrong character. */
	assert_null(decoded("Shift_JIS", "<a t=\"\x82\">x</a>", &o));
	/* An undefined byte and a control: U+FFFD, the document still parses. */
	assert_string_equal(decoded("Cp1252", "<a>\x81\x1B</a>", &o), "\xEF\xBF\xBD\xEF\xBF\xBD");
}

/* Every map xmlenc builds is one expat takes (XmlInitUnknownEncoding has its own checks):
 * a spread of single- and multi-byte encodings, some with redefined ASCII bytes. (All of
 * glibc's 1,100 names pass too; too slow for the suite: ~500 maps.) */
static void expat_accepts_every_map(void **state)
{
	static const char *const names[] = {
		"Cp1252", "ISO-8859-7", "ISO-8859-8", "CP1255", "CP1258", "VISCII", "TCVN5712-1", "ARMSCII-8",
		"GEORGIAN-PS", "KOI8-T", "PT154", "TIS-620", "CP437", "CP866", "HP-ROMAN8", "MAC-UK",
		"Shift_JIS", "SHIFT_JISX0213", "windows-31j", "EUC-JP", "EUC-JISX0213", "EUC-KR", "CP949",
		"JOHAB", "Big5", "BIG5-HKSCS", "GBK", "EUC-TW", "EUC-CN",
	};
	struct out o;

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!decoded(names[i], "<a b=\"c\">d</a>", &o))
			fail_msg("expat refuses the map of %s", names[i]);
		assert_string_equal(o.buf, "d");
	}
}

/* xe_byte_redefinable() against expat, byte by byte: a map that redefines only that
 * byte is accepted by expat exactly when xmlenc says it may be. */
static int XMLCALL redefine_one(void *arg, const XML_Char *name, XML_Encoding *info)
{
	const int *byte = arg;

	(void)name;
	for (int i = 0; i < 256; i++)
		info->map[i] = i;
	info->map[*byte] = 0x00A5;
	info->data = NULL;
	info->convert = NULL;
	info->release = NULL;
	return XML_STATUS_OK;
}

static void ascii_rule_matches_expat(void **state)
{
	static const char doc[] = "<?xml version=\"1.0\" encoding=\"x-probe\"?><a/>";

	(void)state;
	/* Shift_JIS's 0x5C (YEN SIGN) and 0x7E (OVERLINE) are allowed; '<' and 'A' not. */
	assert_true(xe_byte_redefinable(0x5C));
	assert_true(xe_byte_redefinable(0x7E));
	assert_false(xe_byte_redefinable('<'));
	assert_false(xe_byte_redefinable('A'));
	for (int b = 0; b < 128; b++) {
		XML_Parser p = XML_ParserCreate(NULL);
		bool accepted;

		XML_SetUnknownEncodingHandler(p, redefine_one, &b);
		accepted = XML_Parse(p, doc, (int)strlen(doc), XML_TRUE) != XML_STATUS_ERROR;
		XML_ParserFree(p);
		if (accepted != xe_byte_redefinable((unsigned char)b))
			fail_msg("byte 0x%02X: expat %s, xmlenc says %s", (unsigned)b,
				 accepted ? "lets a map redefine it" : "forbids redefining it",
				 accepted ? "it may not" : "it may");
	}
	/* Beyond ASCII every byte is the encoding's. */
	assert_true(xe_byte_redefinable(0x80));
	assert_true(xe_byte_redefinable(0xFF));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(builtin_names_need_no_map),
		cmocka_unit_test(declaration_is_read),
		cmocka_unit_test(names_are_checked),
		cmocka_unit_test(ascii_and_utf8_aliases),
		cmocka_unit_test(single_byte_aliases),
		cmocka_unit_test(single_byte_maps_round_trip),
		cmocka_unit_test(undefined_bytes_and_controls_become_replacement),
		cmocka_unit_test(multibyte_maps),
		cmocka_unit_test(encodings_outside_expats_model_are_refused),
		cmocka_unit_test(expat_decodes_with_the_maps),
		cmocka_unit_test(expat_accepts_every_map),
		cmocka_unit_test(ascii_rule_matches_expat),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
