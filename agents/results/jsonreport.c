/*
 * jsonreport — the JSON formats (phpstan-json, phploc-json). See parser.h.
 *
 * jansson has no streaming interface, so the document is collected (bounded by
 * lim.max_json, 64 MiB by default: a phpstan report of ~200k errors) and parsed once at
 * the end; a bigger document is an error naming the bound, never a silent truncation.
 * Events therefore come at rs_parser_finish(); phpstan writes its report in one go at
 * its end anyway. Duplicate keys and NUL in strings are rejected by jansson's defaults.
 *
 * phpstan: {"totals": {...}, "files": {"path": {"errors": N, "messages": [{"message":
 * "...", "line": N, "ignorable": bool, "identifier": "...", "tip": "..."}]}},
 * "errors": ["general error", ...]} -> one `finding` per message (severity error, rule
 * = identifier or "phpstan"), and one per general error (rule "phpstan.internal").
 * phploc: a flat object of numbers -> one `metric` per number member.
 */
#include "parser_int.h"

#include "boundtext.h"

#include <stdlib.h>
#include <string.h>

struct jr {
	char *buf;
	size_t len, alloc;
	bool phploc;
};

static int jr_feed(struct rs_parser *p, const char *data, size_t len)
{
	struct jr *j = p->state;

	if (len > p->lim.max_json - j->len)
		return rs_p_fail(p, 0, 0, "JSON document larger than %zu bytes (the bound for JSON reports)",
				 p->lim.max_json);
	if (j->len + len > j->alloc) {
		size_t want = j->alloc ? j->alloc : 4096;
		char *nb;

		while (want < j->len + len)
			want *= 2;
		if (want > p->lim.max_json)
			want = p->lim.max_json;
		if (!(nb = realloc(j->buf, want)))
			return -1;
		j->buf = nb;
		j->alloc = want;
	}
	memcpy(j->buf + j->len, data, len);
	j->len += len;
	return 0;
}

/* A JSON string value bounded to max_text (jansson's strings are valid UTF-8). */
static json_t *bounded(struct rs_parser *p, const char *s)
{
	size_t n = strlen(s);

	if (n <= p->lim.max_text)
		return json_stringn_nocheck(s, n);
	return rs_text_json_part(s, p->lim.max_text, n - p->lim.max_text);
}

static int phpstan_events(struct rs_parser *p, json_t *doc)
{
	json_t *files = json_object_get(doc, "files");
	json_t *errors = json_object_get(doc, "errors");
	const char *path;
	json_t *fobj;
	size_t i;
	json_t *v;

	if (!json_is_object(doc) || (files && !json_is_object(files) && !json_is_array(files)) ||
	    (errors && !json_is_array(errors)))
		return rs_p_fail(p, 1, 1, "not a phpstan JSON report (expected \"files\" and \"errors\")");
	json_object_foreach(json_is_object(files) ? files : NULL, path, fobj)
	{
		json_t *msgs = json_object_get(fobj, "messages");
		json_t *m;

		rs_fp_occ_reset(&p->occ);
		json_array_foreach(msgs, i, m)
		{
			struct rs_finding f = {0};
			json_t *jt = json_object_get(m, "message");
			const char *text = json_string_value(jt);
			const char *ident = json_string_value(json_object_get(m, "identifier"));
			const char *tip = json_string_value(json_object_get(m, "tip"));
			struct rs_ev e;

			if (!text)
				continue;
			f.tool = p->tool ? p->tool : "phpstan";
			f.rule = ident ? ident : "phpstan";
			f.severity = "error";
			f.file = path;
			f.line = (long)json_integer_value(json_object_get(m, "line"));
			f.message = text;
			f.message_len = json_string_length(jt);
			rs_p_finding(p, &f, &e);
			rs_ev_str(&e, "tip", tip);
			if (rs_p_emit_ev(p, &e) < 0)
				return -1;
		}
	}
	rs_fp_occ_reset(&p->occ);
	json_array_foreach(errors, i, v)
	{
		struct rs_finding f = {0};
		struct rs_ev e;

		if (!json_is_string(v))
			continue;
		f.tool = p->tool ? p->tool : "phpstan";
		f.rule = "phpstan.internal";
		f.severity = "error";
		f.message = json_string_value(v);
		f.message_len = json_string_length(v);
		rs_p_finding(p, &f, &e);
		if (rs_p_emit_ev(p, &e) < 0)
			return -1;
	}
	return 0;
}

static int phploc_events(struct rs_parser *p, json_t *doc)
{
	const char *key;
	json_t *v;

	if (!json_is_object(doc))
		return rs_p_fail(p, 1, 1, "not a phploc JSON report (expected an object)");
	json_object_foreach(doc, key, v)
	{
		json_t *ev;

		if (!json_is_number(v))
			continue;
		ev = json_object();
		if (!ev || json_object_set_new_nocheck(ev, "type", json_string_nocheck("metric")) < 0 ||
		    json_object_set_new_nocheck(ev, "name", bounded(p, key)) < 0 ||
		    json_object_set_new_nocheck(ev, "value", json_copy(v)) < 0 ||
		    json_object_set_new_nocheck(ev, "tool", json_string_nocheck(p->tool ? p->tool : "phploc")) < 0) {
			json_decref(ev);
			return -1;
		}
		if (rs_p_emit(p, ev) < 0)
			return -1;
	}
	return 0;
}

static int jr_finish(struct rs_parser *p)
{
	struct jr *j = p->state;
	json_error_t e;
	json_t *doc;
	int rc;

	doc = json_loadb(j->buf ? j->buf : "", j->len, JSON_REJECT_DUPLICATES, &e);
	free(j->buf);
	j->buf = NULL;
	j->len = j->alloc = 0;
	if (!doc)
		return rs_p_fail(p, e.line > 0 ? (unsigned long)e.line : 1, e.column > 0 ? (unsigned long)e.column : 1,
				 "%s", e.text);
	rc = j->phploc ? phploc_events(p, doc) : phpstan_events(p, doc);
	json_decref(doc);
	return rc;
}

static void jr_destroy(struct rs_parser *p)
{
	struct jr *j = p->state;

	if (!j)
		return;
	free(j->buf);
	free(j);
	p->state = NULL;
}

static int phpstan_init(struct rs_parser *p)
{
	p->state = calloc(1, sizeof(struct jr));
	return p->state ? 0 : -1;
}

static int phploc_init(struct rs_parser *p)
{
	struct jr *j = calloc(1, sizeof(*j));

	if (!j)
		return -1;
	j->phploc = true;
	p->state = j;
	return 0;
}

const struct rs_format rs_fmt_phpstan = {"phpstan-json", phpstan_init, jr_feed, jr_finish, jr_destroy};
const struct rs_format rs_fmt_phploc = {"phploc-json", phploc_init, jr_feed, jr_finish, jr_destroy};
