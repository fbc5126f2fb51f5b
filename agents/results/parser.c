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
	json_decref(p->c_tool);
	json_decref(p->c_rule);
	json_decref(p->c_file);
	for (int i = 0; i < 3; i++)
		json_decref(p->c_sev[i]);
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
	p->emit(p->arg, ev);
	return 0;
}

json_t *rs_json_shared(json_t **cache, const char *s)
{
	if (*cache && strcmp(json_string_value(*cache), s) == 0)
		return json_incref(*cache);
	json_decref(*cache);
	*cache = json_string_nocheck(s);
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

/* A shared string value for s (valid UTF-8: from expat or jansson), bounded. */
static json_t *shared_name(struct rs_parser *p, json_t **cache, const char *s)
{
	size_t n = strlen(s);

	if (n > p->lim.max_text)
		return rs_text_json_part(s, p->lim.max_text, n - p->lim.max_text);
	return rs_json_shared(cache, s);
}

json_t *rs_p_finding(struct rs_parser *p, const struct rs_finding *f)
{
	static const char *const sev[3] = {"error", "warning", "info"};
	static const char hex[] = "0123456789abcdef";
	json_t *ev = json_object();
	const char *rel = rs_fp_relpath(f->file, p->root);
	json_t *msgv = f->message; /* owned until set into ev */
	const char *msg = msgv ? json_string_value(msgv) : NULL;
	uint64_t h = RS_FNV_INIT;
	unsigned occ;
	int si = strcmp(f->severity, "error") == 0 ? 0 : strcmp(f->severity, "warning") == 0 ? 1 : 2;
	char fp[24] = "fp1:";

	if (!ev)
		goto fail;
	h = rs_fnv_str(h, f->tool);
	h = rs_fnv_str(h, f->rule);
	h = rs_fnv_str(h, rel);
	h = rs_fnv_nodigits(h, msg);
	if (f->code_hash)
		h = rs_fnv(h, f->code_hash, sizeof(*f->code_hash));
	else if (p->src && f->file && f->line > 0)
		(void)rs_fp_src_lines(p->src, p->root, f->file, f->line, f->end_line, &h);
	occ = rs_fp_occ_next(&p->occ, h);
	h = rs_fnv(h, &occ, sizeof(occ));
	for (int i = 0; i < 16; i++)
		fp[4 + i] = hex[(h >> (60 - 4 * i)) & 15];
	fp[20] = '\0';
	if (!p->c_sev[si] && !(p->c_sev[si] = json_string_nocheck(sev[si])))
		goto fail;

	if (json_object_set_new_nocheck(ev, "type", json_string_nocheck("finding")) < 0 ||
	    json_object_set_new_nocheck(ev, "tool", shared_name(p, &p->c_tool, f->tool ? f->tool : "")) < 0 ||
	    json_object_set_new_nocheck(ev, "rule", shared_name(p, &p->c_rule, f->rule ? f->rule : "")) < 0 ||
	    json_object_set_new_nocheck(ev, "severity", json_incref(p->c_sev[si])) < 0)
		goto fail;
	if (f->file && json_object_set_new_nocheck(ev, "file", shared_name(p, &p->c_file, f->file)) < 0)
		goto fail;
	if (f->line > 0 && json_object_set_new_nocheck(ev, "line", json_integer(f->line)) < 0)
		goto fail;
	if (f->end_line > f->line && json_object_set_new_nocheck(ev, "end_line", json_integer(f->end_line)) < 0)
		goto fail;
	if (f->column > 0 && json_object_set_new_nocheck(ev, "column", json_integer(f->column)) < 0)
		goto fail;
	/* set_new steals the value even when it fails. */
	if (json_object_set_new_nocheck(ev, "message", msgv ? msgv : json_string_nocheck("")) < 0) {
		msgv = NULL;
		goto fail;
	}
	msgv = NULL;
	if (json_object_set_new_nocheck(ev, "fingerprint", json_string_nocheck(fp)) < 0)
		goto fail;
	return ev;
fail:
	json_decref(msgv);
	json_decref(ev);
	return NULL;
}
