/* parser — see parser.h. Format dispatch and what all formats share. */
#include "parser_int.h"

#include "boundtext.h"

#include <stdarg.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct rs_format *const FORMATS[] = {
	&rs_fmt_junit, &rs_fmt_teamcity, &rs_fmt_checkstyle, &rs_fmt_phpstan,
	&rs_fmt_pmd,   &rs_fmt_cpd,      &rs_fmt_phploc,
};
#define NFORMATS (sizeof(FORMATS) / sizeof(FORMATS[0]))

static const char *const NAMES[] = {
	"junit", "teamcity", "checkstyle", "phpstan-json", "pmd", "pmd-cpd", "phploc-json", NULL,
};

const char *const *rs_format_names(void)
{
	return NAMES;
}

static const struct rs_format *find_format(const char *name)
{
	for (size_t i = 0; name && i < NFORMATS; i++)
		if (strcmp(FORMATS[i]->name, name) == 0)
			return FORMATS[i];
	return NULL;
}

bool rs_format_known(const char *format)
{
	return find_format(format) != NULL;
}

void rs_limits_default(struct rs_limits *lim)
{
	lim->max_text = RS_LIMITS_DEFAULT_TEXT;
	lim->max_token = RS_LIMITS_DEFAULT_TOKEN;
	lim->max_json = RS_LIMITS_DEFAULT_JSON;
	lim->max_depth = RS_LIMITS_DEFAULT_DEPTH;
	lim->max_event = RS_LIMITS_DEFAULT_EVENT;
}

/* A copy of s that is valid UTF-8. */
static char *repaired_dup(const char *s)
{
	size_t n = strlen(s);
	char *out = malloc(3 * n + 12);
	struct rs_utf8_state st = {{0}, 0};
	size_t o;

	if (!out)
		return NULL;
	o = rs_utf8_repair(&st, s, n, out, true);
	out[o] = '\0';
	return out;
}

struct rs_parser *rs_parser_new(const char *format, const char *source, rs_emit_fn emit, void *arg,
				const struct rs_limits *lim)
{
	const struct rs_format *fmt = find_format(format);
	struct rs_parser *p = NULL;

	if (!fmt || !emit)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->fmt = fmt;
	p->emit = emit;
	p->arg = arg;
	rs_limits_default(&p->lim);
	if (lim) {
		if (lim->max_text)
			p->lim.max_text = lim->max_text;
		if (lim->max_token)
			p->lim.max_token = lim->max_token;
		if (lim->max_json)
			p->lim.max_json = lim->max_json;
		if (lim->max_depth)
			p->lim.max_depth = lim->max_depth;
		if (lim->max_event)
			p->lim.max_event = lim->max_event;
	}
	rs_fp_occ_init(&p->occ);
	p->source = repaired_dup(source ? source : "");
	if (!p->source || !(p->j_source = json_string_nocheck(p->source)) || fmt->init(p) < 0)
		goto fail;
	p->source_len = strlen(p->source);
	p->source_plain = true;
	for (size_t i = 0; i < p->source_len; i++) {
		unsigned char c = (unsigned char)p->source[i];

		if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80)
			p->source_plain = false;
	}
	return p;
fail:
	rs_parser_free(p);
	return NULL;
}

int rs_parser_set_root(struct rs_parser *p, const char *root)
{
	char *r = NULL;

	if (root && !(r = strdup(root)))
		return -1;
	free(p->root);
	p->root = r;
	p->root_n = r ? strlen(r) : 0;
	while (p->root_n > 1 && r[p->root_n - 1] == '/')
		p->root_n--;
	if (r && !p->src && !(p->src = rs_fp_src_new()))
		return -1;
	return 0;
}

int rs_parser_set_writer(struct rs_parser *p, rs_write_fn write, void *arg)
{
	if (!p->jl && !(p->jl = malloc(sizeof(*p->jl))))
		return -1;
	rs_jl_init(p->jl, write, arg);
	return 0;
}

int rs_parser_set_tool(struct rs_parser *p, const char *tool)
{
	char *t = NULL;

	if (tool && !(t = repaired_dup(tool)))
		return -1;
	free(p->tool);
	p->tool = t;
	return 0;
}

static int sticky(struct rs_parser *p, struct rs_error *err)
{
	if (err)
		*err = p->err;
	return -1;
}

int rs_parser_feed(struct rs_parser *p, const char *buf, size_t len, struct rs_error *err)
{
	if (p->failed)
		return sticky(p, err);
	if (len > 0 && p->fmt->feed(p, buf, len) < 0) {
		if (!p->failed)
			rs_p_fail(p, 0, 0, "out of memory");
		return sticky(p, err);
	}
	return 0;
}

int rs_parser_finish(struct rs_parser *p, struct rs_error *err)
{
	if (p->failed)
		return sticky(p, err);
	if (p->fmt->finish(p) < 0) {
		if (!p->failed)
			rs_p_fail(p, 0, 0, "out of memory");
		return sticky(p, err);
	}
	if (p->jl) {
		rs_jl_flush(p->jl);
		if (p->jl->failed)
			return rs_p_fail(p, 0, 0, "cannot write the events"), sticky(p, err);
	}
	return 0;
}

unsigned long rs_parser_events(const struct rs_parser *p)
{
	return p->events;
}

void rs_parser_free(struct rs_parser *p)
{
	if (!p)
		return;
	if (p->fmt)
		p->fmt->destroy(p);
	rs_fp_src_free(p->src);
	free(p->source);
	json_decref(p->j_source);
	for (size_t i = 0; i < sizeof(p->shared) / sizeof(p->shared[0]); i++)
		json_decref(p->shared[i]);
	if (p->jl) {
		rs_jl_flush(p->jl);
		free(p->jl);
	}
	free(p->root);
	free(p->tool);
	free(p);
}

int rs_p_fail(struct rs_parser *p, unsigned long line, unsigned long column, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return -1;
	p->failed = true;
	snprintf(p->err.file, sizeof(p->err.file), "%s", p->source);
	p->err.line = line;
	p->err.column = column;
	va_start(ap, fmt);
	vsnprintf(p->err.text, sizeof(p->err.text), fmt, ap);
	va_end(ap);
	return -1;
}

const char *rs_error_format(const struct rs_error *err, char *buf, size_t size)
{
	if (err->line)
		snprintf(buf, size, "%s:%lu:%lu: %s", err->file, err->line, err->column, err->text);
	else
		snprintf(buf, size, "%s: %s", err->file, err->text);
	return buf;
}

/* An upper bound of the event's compact JSON size without encoding it: escapes at most
 * double a string's bytes (the strings here hold no control characters but TAB, LF, CR). */
static size_t size_bound(json_t *ev)
{
	size_t n = 2;
	const char *key;
	json_t *v;

	json_object_foreach(ev, key, v)
	{
		n += strlen(key) + 4;
		if (json_is_string(v))
			n += 2 * json_string_length(v) + 2;
		else if (json_is_array(v) || json_is_object(v))
			n += json_dumpb(v, NULL, 0, JSON_COMPACT);
		else
			n += 32;
	}
	return n;
}

/* Cuts the string member key to half its length; the marker counts everything cut. */
static int halve(json_t *ev, const char *key)
{
	json_t *v = json_object_get(ev, key);
	const char *s = json_string_value(v), *m;
	size_t len, cut = 0, keep;
	json_t *nv;

	if (!s || (len = json_string_length(v)) < 64)
		return -1;
	/* An earlier cut: " [… N bytes cut]" at the end. */
	m = strstr(s, " [\xE2\x80\xA6 ");
	while (m && strstr(m + 1, " [\xE2\x80\xA6 "))
		m = strstr(m + 1, " [\xE2\x80\xA6 ");
	if (m && strcmp(m + strcspn(m, "b"), "bytes cut]") == 0) {
		cut = (size_t)strtoull(m + 6, NULL, 10);
		len = (size_t)(m - s);
	}
	keep = rs_utf8_boundary(s, len / 2);
	nv = rs_text_json_part(s, keep, cut + (len - keep));
	return nv ? json_object_set_new_nocheck(ev, key, nv) : -1;
}

/* Keeps the event within lim.max_event (the protocol refuses bigger events). */
static void fit(struct rs_parser *p, json_t *ev)
{
	static const char *const order[] = {"details", "message", "name", "class", "suite", "file", "tip"};

	if (size_bound(ev) <= p->lim.max_event)
		return;
	for (int round = 0; round < 64 && json_dumpb(ev, NULL, 0, JSON_COMPACT) > p->lim.max_event; round++) {
		const char *longest = NULL;
		size_t best = 0;

		for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
			json_t *v = json_object_get(ev, order[i]);

			if (json_is_string(v) && json_string_length(v) > best) {
				best = json_string_length(v);
				longest = order[i];
			}
		}
		if (!longest || halve(ev, longest) < 0)
			break;
	}
}

int rs_p_emit(struct rs_parser *p, json_t *ev)
{
	if (!ev)
		return -1;
	if (json_object_set_new_nocheck(ev, "source", json_incref(p->j_source)) < 0) {
		json_decref(ev);
		return -1;
	}
	fit(p, ev);
	p->events++;
	if (p->jl) {
		rs_jl_json(p->jl, ev);
		rs_jl_put1(p->jl, '\n');
		json_decref(ev);
		return 0;
	}
	p->emit(p->arg, ev);
	return 0;
}

/* ---- events built as member lists ---- */

/* The members whose values repeat from event to event: one cached json_t each. */
static const char *const SHARED[8] = {"type", "suite", "class", "file", "status", "tool", "rule", "severity"};

static int shared_slot(const char *key)
{
	for (int i = 0; i < 8; i++)
		if (strcmp(SHARED[i], key) == 0)
			return i;
	return -1;
}

/* Bytes of s[0..n) as a JSON string's content (escapes included). */
static size_t escaped_len(const char *s, size_t n)
{
	size_t len = n;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f')
			len += 1;
		else if (c < 0x20)
			len += 5;
	}
	return len;
}

static size_t field_size(const struct rs_field *f, bool exact)
{
	size_t k = f->klen + 4;

	switch (f->kind) {
	case RF_STR:
		return k + 2 + (f->cut ? 40 : 0) + (exact ? escaped_len(f->s, f->n) : 2 * f->n);
	case RF_JSON:
		return k + json_dumpb(f->j, NULL, 0, JSON_COMPACT);
	default:
		return k + 32;
	}
}

/* Bounds every string (lim.max_text; a cut one ends at a character boundary), then
 * halves the longest texts until the event fits lim.max_event. Sizes are upper bounds of
 * the compact JSON: first a quick one (escapes at most double these strings' bytes: they
 * hold no control characters but TAB, LF and CR), then, only when that is too big, the
 * exact escaped lengths. */
static void ev_bound(struct rs_parser *p, struct rs_ev *e)
{
	static const char *const order[] = {"details", "message", "name", "class", "suite", "file", "tip"};
	size_t total = 2;

	for (int i = 0; i < e->n; i++) {
		struct rs_field *f = &e->f[i];

		if (f->kind == RF_STR && f->n > p->lim.max_text) {
			f->cut += f->n - p->lim.max_text;
			f->n = p->lim.max_text;
		}
		if (f->kind == RF_STR && f->cut > 0) {
			size_t keep = rs_utf8_boundary(f->s, f->n);

			f->cut += f->n - keep;
			f->n = keep;
		}
		total += field_size(f, false);
	}
	if (total <= p->lim.max_event)
		return;
	total = 2;
	for (int i = 0; i < e->n; i++)
		total += field_size(&e->f[i], true);
	for (int round = 0; round < 64 && total > p->lim.max_event; round++) {
		struct rs_field *longest = NULL;

		for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++)
			for (int i = 0; i < e->n; i++)
				if (e->f[i].kind == RF_STR && strcmp(e->f[i].key, order[k]) == 0 && e->f[i].n >= 64 &&
				    (!longest || e->f[i].n > longest->n))
					longest = &e->f[i];
		if (!longest)
			break;
		size_t keep = rs_utf8_boundary(longest->s, longest->n / 2);

		total -= field_size(longest, true);
		longest->cut += longest->n - keep;
		longest->n = keep;
		total += field_size(longest, true);
	}
}

/* ev_write() straight into the writer's buffer when the event surely fits there (no
 * JSON member, nothing cut: every string at most 6 bytes per byte): no call per token.
 * 0 when it did, -1 when ev_write() must. */
static int ev_write_fast(struct rs_jl *o, const struct rs_ev *e)
{
	size_t bound = 4;
	char *q;

	for (int i = 0; i < e->n; i++) {
		const struct rs_field *f = &e->f[i];

		if (f->kind == RF_JSON || (f->kind == RF_STR && f->cut))
			return -1;
		bound += f->klen + 4 + (f->kind == RF_STR ? 6 * f->n + 2 : 48);
	}
	if (bound > RS_JL_BUF)
		return -1;
	if (RS_JL_BUF - o->len < bound)
		rs_jl_flush(o);
	q = o->buf + o->len;
	for (int i = 0; i < e->n; i++) {
		const struct rs_field *f = &e->f[i];

		*q++ = i ? ',' : '{';
		*q++ = '"';
		q = rs_jl_copy(q, f->key, f->klen); /* the formats' own ASCII names */
		*q++ = '"';
		*q++ = ':';
		switch (f->kind) {
		case RF_STR:
			*q++ = '"';
			q = f->raw ? rs_jl_copy(q, f->s, f->n) : rs_jl_escape_to(q, f->s, f->n);
			*q++ = '"';
			break;
		case RF_INT: {
			char b[24], *be = b + sizeof(b), *d = be;
			unsigned long long u = f->i < 0 ? 0ULL - (unsigned long long)f->i : (unsigned long long)f->i;

			do {
				*--d = (char)('0' + u % 10);
				u /= 10;
			} while (u);
			if (f->i < 0)
				*--d = '-';
			q = rs_jl_copy(q, d, (size_t)(be - d));
			break;
		}
		case RF_REAL:
			/* rarer (junit's time): through the writer, which has room */
			o->len = (size_t)(q - o->buf);
			rs_jl_real(o, f->d);
			q = o->buf + o->len;
			break;
		case RF_JSON:
			break;
		}
	}
	*q++ = '}';
	*q++ = '\n';
	o->len = (size_t)(q - o->buf);
	return 0;
}

static void ev_write(struct rs_jl *o, const struct rs_ev *e)
{
	rs_jl_put1(o, '{');
	for (int i = 0; i < e->n; i++) {
		const struct rs_field *f = &e->f[i];

		size_t kn = f->klen;

		/* Keys are the formats' own ASCII names: nothing to escape. */
		if (i)
			rs_jl_put1(o, ',');
		rs_jl_put1(o, '"');
		rs_jl_put(o, f->key, kn);
		rs_jl_put(o, "\":", 2);
		switch (f->kind) {
		case RF_STR:
			if (f->cut) {
				char marker[64];
				int m = snprintf(marker, sizeof(marker), RS_TEXT_MARKER_FMT, f->cut);

				rs_jl_string2(o, f->s, f->n, marker, (size_t)m);
			} else if (f->raw) {
				rs_jl_put1(o, '"');
				rs_jl_put(o, f->s, f->n);
				rs_jl_put1(o, '"');
			} else
				rs_jl_string(o, f->s, f->n);
			break;
		case RF_INT:
			rs_jl_int(o, f->i);
			break;
		case RF_REAL:
			rs_jl_real(o, f->d);
			break;
		case RF_JSON:
			rs_jl_json(o, f->j);
			break;
		}
	}
	rs_jl_put(o, "}\n", 2);
}

static json_t *ev_to_json(struct rs_parser *p, const struct rs_ev *e)
{
	json_t *ev = json_object();

	if (!ev)
		return NULL;
	for (int i = 0; i < e->n; i++) {
		const struct rs_field *f = &e->f[i];
		json_t *v = NULL;
		int slot;

		switch (f->kind) {
		case RF_STR:
			if (f->cut == 0 && (slot = shared_slot(f->key)) >= 0)
				v = rs_json_shared(&p->shared[slot], f->s, f->n);
			else
				v = rs_text_json_part(f->s, f->n, f->cut);
			break;
		case RF_INT:
			v = json_integer(f->i);
			break;
		case RF_REAL:
			v = json_real(f->d);
			break;
		case RF_JSON:
			v = json_incref(f->j);
			break;
		}
		if (json_object_set_new_nocheck(ev, f->key, v) < 0) {
			json_decref(ev);
			return NULL;
		}
	}
	return ev;
}

int rs_p_emit_ev(struct rs_parser *p, struct rs_ev *e)
{
	int rc = 0;

	rs_ev_strn(e, "source", p->source, p->source_len, 0);
	e->f[e->n - 1].raw = p->source_plain;
	ev_bound(p, e);
	p->events++;
	if (p->jl) {
		if (ev_write_fast(p->jl, e) < 0)
			ev_write(p->jl, e);
	} else {
		json_t *ev = ev_to_json(p, e);

		if (ev)
			p->emit(p->arg, ev);
		else
			rc = -1;
	}
	for (int i = 0; i < e->n; i++)
		if (e->f[i].kind == RF_JSON)
			json_decref(e->f[i].j);
	e->n = 0;
	return rc;
}

json_t *rs_json_shared(json_t **cache, const char *s, size_t n)
{
	if (*cache && json_string_length(*cache) == n && memcmp(json_string_value(*cache), s, n) == 0)
		return json_incref(*cache);
	json_decref(*cache);
	*cache = json_stringn_nocheck(s, n);
	return json_incref(*cache);
}

int rs_json_set_strn(json_t *obj, const char *key, const char *s, size_t n)
{
	json_t *v;

	if (!s)
		return 0;
	v = rs_text_json_part(s, n, 0);
	return v ? json_object_set_new_nocheck(obj, key, v) : -1;
}

int rs_json_set_str(json_t *obj, const char *key, const char *s)
{
	return s ? rs_json_set_strn(obj, key, s, strlen(s)) : 0;
}

const char *rs_severity_word(const char *s)
{
	if (!s)
		return "warning";
	/* The usual spellings first (strcasecmp per finding shows in profiles). */
	if (strcmp(s, "error") == 0)
		return "error";
	if (strcmp(s, "warning") == 0)
		return "warning";
	if (strcasecmp(s, "error") == 0 || strcasecmp(s, "fatal") == 0 || strcasecmp(s, "critical") == 0)
		return "error";
	if (strcasecmp(s, "info") == 0 || strcasecmp(s, "ignore") == 0 || strcasecmp(s, "notice") == 0)
		return "info";
	return "warning";
}

/* rs_fnv_str() of tool, rule and rel in turn: a function of the bytes
 * "tool\0rule\0rel\0" (NULL hashes as ""). Consecutive findings mostly repeat all three
 * (one file, one tool, few rules): the last key and its hash are kept (bounded). */
static uint64_t prefix_hash(struct rs_parser *p, const char *tool, const char *rule, const char *rel)
{
	size_t tn = tool ? strlen(tool) : 0, rn = rule ? strlen(rule) : 0, ln = rel ? strlen(rel) : 0;
	size_t total = tn + rn + ln + 3;
	char *k = p->fpc_key;
	uint64_t h;

	if (p->fpc_len == total && memcmp(k, tool ? tool : "", tn) == 0 && memcmp(k + tn + 1, rule ? rule : "", rn) == 0 &&
	    memcmp(k + tn + rn + 2, rel ? rel : "", ln) == 0 && k[tn] == '\0' && k[tn + rn + 1] == '\0')
		return p->fpc_hash;
	h = rs_fnv_str(RS_FNV_INIT, tool);
	h = rs_fnv_str(h, rule);
	h = rs_fnv_str(h, rel);
	if (total <= sizeof(p->fpc_key)) {
		memcpy(k, tool ? tool : "", tn);
		k[tn] = '\0';
		memcpy(k + tn + 1, rule ? rule : "", rn);
		k[tn + rn + 1] = '\0';
		memcpy(k + tn + rn + 2, rel ? rel : "", ln);
		k[total - 1] = '\0';
		p->fpc_len = total;
		p->fpc_hash = h;
	} else
		p->fpc_len = 0;
	return h;
}

/* rs_fnv_nodigits_n(h, m, n): the hash of m with each run of digits as one '#' (a '#'
 * hashes the same), then a 0 byte. Messages repeat with other numbers ("contains 121
 * characters"): the last normalized text, for the same h, gives the hash again. */
static uint64_t message_hash(struct rs_parser *p, uint64_t h, const char *m, size_t n)
{
	const uint64_t ones = UINT64_C(0x0101010101010101), high = UINT64_C(0x8080808080808080);
	char norm[sizeof(p->fmc_norm)];
	size_t o = 0, i = 0;
	int in_digits = 0;

	if (!m)
		return rs_fnv_nodigits_n(h, m, n);
	/* The cached text again? Eight bytes without a digit at a time, compared as words. */
	if (p->fmc_len > 0 && p->fmc_in == h) {
		const char *c = p->fmc_norm;
		size_t cn = p->fmc_len - 1;
		bool same = true;

		while (i < n) {
			uint64_t w, v, t;
			char ch;

			if (i + 8 <= n && o + 8 <= cn) {
				memcpy(&w, m + i, 8);
				t = w ^ (ones * '0'); /* a digit becomes 0..9 */
				if (((t - ones * 10) & ~t & high) == 0) {
					memcpy(&v, c + o, 8);
					if (v != w) {
						same = false;
						break;
					}
					i += 8;
					o += 8;
					in_digits = 0;
					continue;
				}
			}
			ch = m[i++];
			if (ch >= '0' && ch <= '9') {
				if (in_digits)
					continue;
				in_digits = 1;
				ch = '#';
			} else
				in_digits = 0;
			if (o == cn || c[o] != ch) {
				same = false;
				break;
			}
			o++;
		}
		if (same && o == cn)
			return p->fmc_out;
		o = 0;
		i = 0;
		in_digits = 0;
	}
	for (; i < n; i++) {
		char c = m[i];

		if (c >= '0' && c <= '9') {
			if (in_digits)
				continue;
			in_digits = 1;
			c = '#';
		} else
			in_digits = 0;
		if (o == sizeof(norm))
			return rs_fnv_nodigits_n(h, m, n);
		norm[o++] = c;
	}
	if (p->fmc_len == o + 1 && p->fmc_in == h && memcmp(p->fmc_norm, norm, o) == 0)
		return p->fmc_out;
	p->fmc_in = h;
	h = rs_fnv(rs_fnv(h, norm, o), "", 1);
	memcpy(p->fmc_norm, norm, o);
	p->fmc_len = o + 1; /* 0: nothing kept */
	p->fmc_out = h;
	return h;
}

void rs_p_finding(struct rs_parser *p, const struct rs_finding *f, struct rs_ev *e)
{
	static const char hex[] = "0123456789abcdef";
	const char *rel = f->file;
	uint64_t h;
	unsigned occ;

	/* rs_fp_relpath(f->file, p->root), with root's length known */
	if (rel && p->root && p->root[0] && strncmp(rel, p->root, p->root_n) == 0 && rel[p->root_n] == '/')
		rel += p->root_n + 1;
	h = prefix_hash(p, f->tool, f->rule, rel);
	h = message_hash(p, h, f->message, f->message ? f->message_len : 0);
	if (f->code_hash)
		h = rs_fnv(h, f->code_hash, sizeof(*f->code_hash));
	else if (p->src && f->file && f->line > 0)
		(void)rs_fp_src_lines(p->src, p->root, f->file, f->line, f->end_line, &h);
	occ = rs_fp_occ_next(&p->occ, h);
	h = rs_fnv(h, &occ, sizeof(occ));
	memcpy(e->fp, "fp1:", 4);
	for (int i = 0; i < 16; i++)
		e->fp[4 + i] = hex[(h >> (60 - 4 * i)) & 15];
	e->fp[20] = '\0';

	rs_ev_init(e);
	rs_ev_lit(e, "type", "finding");
	rs_ev_str(e, "tool", f->tool ? f->tool : "");
	rs_ev_str(e, "rule", f->rule ? f->rule : "");
	rs_ev_lit(e, "severity", f->severity); /* error, warning or info */
	rs_ev_str(e, "file", f->file);
	if (f->line > 0)
		rs_ev_int(e, "line", f->line);
	if (f->end_line > f->line)
		rs_ev_int(e, "end_line", f->end_line);
	if (f->column > 0)
		rs_ev_int(e, "column", f->column);
	rs_ev_strn(e, "message", f->message ? f->message : "", f->message ? f->message_len : 0, f->message_cut);
	rs_ev_strn(e, "fingerprint", e->fp, 20, 0);
	e->f[e->n - 1].raw = true; /* hex */
}
