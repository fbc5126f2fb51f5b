/*
 * xmlenc — the character encodings an XML report may declare, made into what expat can
 * parse.
 *
 * expat decodes UTF-8, UTF-16 (BE/LE), ISO-8859-1 and US-ASCII itself. For any other
 * name (`encoding="Cp1252"`, `"ANSI_X3.4-1968"`, `"Shift_JIS"`...) it asks an unknown-
 * encoding handler for a 256-entry byte map plus, for multi-byte encodings, a function
 * that converts one character. xe_map_new() builds both with glibc's iconv, resolving the
 * names Java and Windows use that glibc lacks (`MacRoman`, `EUC_JP`, names with an `x-` prefix).
 *
 * What fits expat's model: every ASCII byte that XML markup uses is itself (so no
 * EBCDIC, UTF-16/32, UTF-7), and the first byte of a character fixes its length, 1 to 4
 * bytes (so not GB18030, whose 2- and 4-byte characters share first bytes), and no shift
 * states (so not ISO-2022-*). Anything else is refused with the reason in `why`.
 *
 * Decoding policy, the same as for UTF-8 reports: a byte the encoding does not define and
 * a C0 control other than TAB/LF/CR become U+FFFD instead of failing the report (Java's
 * decoders do the same with undefined bytes); a multi-byte character outside the BMP
 * (which expat's model cannot carry) and a sequence iconv decodes as several characters
 * (BIG5-HKSCS's base + combining mark) become U+FFFD; a malformed multi-byte sequence is
 * an error (expat's "not well-formed" at its position).
 *
 * US-ASCII and its aliases are reported as XE_ASCII: ASCII is a subset of UTF-8, and
 * the caller parses such documents on expat's UTF-8 path (a Java tool writing
 * "ANSI_X3.4-1968" replaced every other character by '?', so its bytes are ASCII).
 *
 * Ownership: a map is the caller's until xe_map_to_expat() hands it to expat, which
 * frees it with the parser. No globals; a map is used by one parser at a time.
 */
#ifndef SV_RESULTS_XMLENC_H
#define SV_RESULTS_XMLENC_H

#include <expat.h>
#include <stdbool.h>
#include <stddef.h>

/* Longest encoding name accepted (iconv's names are far shorter). */
#define XE_NAME_MAX 64

enum xe_kind {
	XE_UTF8,  /* UTF-8 (or an alias): parse as UTF-8 */
	XE_ASCII, /* US-ASCII (or an alias): parse as UTF-8, its superset */
	XE_EXPAT, /* ISO-8859-1, UTF-16, UTF-16BE, UTF-16LE: expat decodes them itself */
	XE_TABLE, /* anything else: needs xe_map_new() */
};

/* The kind of a declared name without asking iconv: XE_UTF8, XE_ASCII or XE_EXPAT for the
 * names expat knows (any case), XE_TABLE for every other name. */
enum xe_kind xe_builtin(const char *name);

/* Finds the encoding pseudo-attribute in an XML declaration: s[0..n) starts with "<?xml"
 * and holds the declaration up to at least its "?>". 1 with the name at s + *off, *len bytes (not
 * checked further), 0 when there is no encoding pseudo-attribute or the declaration
 * cannot be read (expat then reports it). */
int xe_decl_encoding(const char *s, size_t n, size_t *off, size_t *len);

/* True when name is an XML EncName ([A-Za-z][A-Za-z0-9._-]*) of at most XE_NAME_MAX. */
bool xe_name_valid(const char *name, size_t len);

/* Whether an encoding may map byte b to another character than b in expat's model: not
 * for the ASCII bytes XML's syntax uses (letters, digits, markup, TAB/LF/CR, space). */
bool xe_byte_redefinable(unsigned char b);

/* The map for a declared name: XE_UTF8 and XE_ASCII when iconv's encoding of that name is
 * one of those, else XE_TABLE with the byte map. NULL when the name is unknown to iconv
 * or does not fit expat's model; why (may be NULL) then gets the reason, e.g. "unknown to
 * iconv" or "characters starting with byte 0x81 are 2 or 4 bytes long". */
struct xe_map *xe_map_new(const char *name, char *why, size_t why_size);
void xe_map_free(struct xe_map *m);

enum xe_kind xe_map_kind(const struct xe_map *m);
/* The declared name, as given to xe_map_new(). */
const char *xe_map_name(const struct xe_map *m);
/* The iconv name used (the declared one, or what an alias resolved to). */
const char *xe_map_iconv_name(const struct xe_map *m);
/* expat's entry for byte b: a code point (0..0xFFFF), -1 invalid, or -n for the first
 * byte of an n-byte character. */
int xe_map_byte(const struct xe_map *m, unsigned char b);
/* The code point of the multi-byte character at s (as many bytes as its first byte
 * says), or -1 when those bytes are not a character. */
int xe_map_convert(struct xe_map *m, const char *s);

/* Fills expat's XML_Encoding from m; m then belongs to expat (released with the parser). */
void xe_map_to_expat(struct xe_map *m, XML_Encoding *info);

#endif
