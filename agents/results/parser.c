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

void rs_ev_init(struct rs_ev *e)
{
	e->n = 0;
}

static struct rs_field *ev_add(struct rs_ev *e, const char *key, enum rs_fkind kind)
{
	struct rs_field *f;

	if (e->n >= RS_EV_FIELDS)
		return NULL; /* cannot happen: no format builds that many members */
	f = &e->f[e->n++];
	memset(f, 0, sizeof(*f));
	f->key = key;
	f->kind = kind;
	return f;
}

void rs_ev_strn(struct rs_ev *e, const char *key, const char *s, size_t n, size_t cut)
{
	struct rs_field *f = ev_add(e, key, RF_STR);

	if (f) {
		f->s = s;
		f->n = n;
		f->cut = cut;
	}
}

void rs_ev_str(struct rs_ev *e, const char *key, const char *s)
{
	if (s)
		rs_ev_strn(e, key, s, strlen(s), 0);
}

void rs_ev_int(struct rs_ev *e, const char *key, long long v)
{
	struct rs_field *f = ev_add(e, key, RF_INT);

	if (f)
		f->i = v;
}

void rs_ev_real(struct rs_ev *e, const char *key, double v)
{
	struct rs_field *f = ev_add(e, key, RF_REAL);

	if (f)
		f->d = v;
}

void rs_ev_json(struct rs_ev *e, const char *key, json_t *v)
{
	struct rs_field *f;

	if (!v)
		return;
	if (!(f = ev_add(e, key, RF_JSON))) {
		json_decref(v);
		return;
	}
	f->j = v;
}

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
	size_t k = strlen(f->key) + 4;

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

static void ev_write(struct rs_jl *o, const struct rs_ev *e)
{
	rs_jl_put1(o, '{');
	for (int i = 0; i < e->n; i++) {
		const struct rs_field *f = &e->f[i];

		if (i)
			rs_jl_put1(o, ',');
		rs_jl_string(o, f->key, strlen(f->key));
		rs_jl_put1(o, ':');
		switch (f->kind) {
		case RF_STR:
			if (f->cut) {
				char marker[64];
				int m = snprintf(marker, sizeof(marker), RS_TEXT_MARKER_FMT, f->cut);

				rs_jl_string2(o, f->s, f->n, marker, (size_t)m);
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

	rs_ev_strn(e, "source", p->source, strlen(p->source), 0);
	ev_bound(p, e);
	p->events++;
	if (p->jl) {
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
	if (strcasecmp(s, "error") == 0 || strcasecmp(s, "fatal") == 0 || strcasecmp(s, "critical") == 0)
		return "error";
	if (strcasecmp(s, "info") == 0 || strcasecmp(s, "ignore") == 0 || strcasecmp(s, "notice") == 0)
		return "info";
	return "warning";
}

void rs_p_finding(struct rs_parser *p, const struct rs_finding *f, struct rs_ev *e)
{
	static const char hex[] = "0123456789abcdef";
	const char *rel = rs_fp_relpath(f->file, p->root);
	uint64_t h = RS_FNV_INIT;
	unsigned occ;

	h = rs_fnv_str(h, f->tool);
	h = rs_fnv_str(h, f->rule);
	h = rs_fnv_str(h, rel);
	h = rs_fnv_nodigits_n(h, f->message, f->message ? f->message_len : 0);
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
	rs_ev_str(e, "type", "finding");
	rs_ev_str(e, "tool", f->tool ? f->tool : "");
	rs_ev_str(e, "rule", f->rule ? f->rule : "");
	rs_ev_str(e, "severity", f->severity);
	rs_ev_str(e, "file", f->file);
	if (f->line > 0)
		rs_ev_int(e, "line", f->line);
	if (f->end_line > f->line)
		rs_ev_int(e, "end_line", f->end_line);
	if (f->column > 0)
		rs_ev_int(e, "column", f->column);
	rs_ev_strn(e, "message", f->message ? f->message : "", f->message ? f->message_len : 0, f->message_cut);
	rs_ev_strn(e, "fingerprint", e->fp, 20, 0);
}
