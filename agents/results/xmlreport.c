/*
 * xmlreport — the XML formats (junit, checkstyle, pmd, pmd-cpd) on one streaming expat
 * driver. See parser.h for the contract.
 *
 * Safety: expat's billion-laughs protection (2.4+) is left at its defaults; no external
 * entity handler is installed and parameter-entity parsing stays off, so no file or URL
 * is ever loaded. Memory: expat keeps only the current tag, our state keeps the open
 * suite names (at most RS_XML_SUITES), one test case and text bounded by lim.max_text;
 * a single tag longer than lim.max_token (no callback for that many bytes) is an error.
 */
#include "parser_int.h"

#include "boundtext.h"
#include "xmlenc.h"

#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RS_XML_SUITES 64
#define RS_XML_PLACES 32
#define RS_XML_PIECE (64 * 1024)
#define RS_XML_SNIFF 512

enum xkind { XK_JUNIT, XK_CHECKSTYLE, XK_PMD, XK_CPD };
enum xmode { XM_SNIFF, XM_REPAIR, XM_RAW };
enum tstatus { TS_PASSED, TS_SKIPPED, TS_FAILED, TS_ERROR };
static const char *const STATUS[] = {"passed", "skipped", "failed", "error"};

struct xr {
	struct rs_parser *p;
	XML_Parser xp;
	enum xkind kind;
	enum xmode mode;
	bool utf16;          /* detected from the first bytes */
	struct xe_map *enc;  /* the declared encoding's map until expat takes it */
	char sniff[RS_XML_SNIFF];
	size_t nsniff;
	struct rs_utf8_state u8;
	unsigned long long fed;  /* bytes given to expat */
	unsigned long long done; /* expat's position: bytes of complete tokens */
	unsigned depth;
	bool root_seen;
	char *file; /* checkstyle/pmd: current <file name> */
	bool cs_phpcs; /* checkstyle root has a version attribute (phpcs) */
	struct rs_text text; /* collected character data (details, messages, fragments) */
	bool collect;
	/* junit */
	char *suite[RS_XML_SUITES];
	unsigned nsuite; /* open <testsuite> elements (may exceed RS_XML_SUITES) */
	bool in_case;
	unsigned case_depth;
	char *c_name, *c_class, *c_file;
	long c_line;
	double c_time;
	enum tstatus c_status;
	char *c_message; /* the message attribute */
	bool c_has_details;

	/* pmd */
	bool in_violation;
	char *v_rule;
	long v_line, v_end, v_priority;
	/* pmd-cpd */
	bool in_dup;
	long d_lines, d_tokens;
	json_t *d_places;
	unsigned d_nplaces, d_places_cut;
	char *d_file;
	long d_line;
	bool in_frag;
	struct rs_fp_norm d_frag;
};

static struct xr *X(struct rs_parser *p)
{
	return p->state;
}

static void XMLCALL xmlreport_on_text(void *arg, const XML_Char *s, int len);

/* Character data is reported only while some is wanted: expat then skips the calls for
 * the whitespace between elements (a tenth of a large report's parse time). */
static void text_wanted(struct xr *x, bool *flag, bool on)
{
	*flag = on;
	if (x->xp)
		XML_SetCharacterDataHandler(x->xp, (x->collect || x->in_frag) ? xmlreport_on_text : NULL);
}

static const char *attr(const XML_Char **atts, const char *name)
{
	for (; atts && atts[0]; atts += 2)
		if (strcmp(atts[0], name) == 0)
			return atts[1];
	return NULL;
}

/* strtol(v, NULL, 10), with the usual short run of digits done inline. */
static long to_long(const char *v)
{
	long r = 0;
	int i;

	if (!v)
		return 0;
	for (i = 0; i < 18 && v[i] >= '0' && v[i] <= '9'; i++)
		r = r * 10 + (v[i] - '0');
	if (i > 0 && v[i] == '\0')
		return r;
	return strtol(v, NULL, 10);
}

static long attr_long(const XML_Char **atts, const char *name)
{
	return to_long(attr(atts, name));
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = dup_or_null(s);
}

/* Stops expat with an error at the current position. */
static void xfail(struct xr *x, const char *msg, const char *what)
{
	rs_p_fail(x->p, XML_GetCurrentLineNumber(x->xp), XML_GetCurrentColumnNumber(x->xp) + 1, "%s%s", msg,
		  what ? what : "");
	XML_StopParser(x->xp, XML_FALSE);
}

/* A JSON string of s bounded to max_text bytes (expat's strings are valid UTF-8). */
static json_t *bstr(struct xr *x, const char *s)
{
	size_t n = strlen(s);

	if (n <= x->p->lim.max_text)
		return json_stringn_nocheck(s, n);
	return rs_text_json_part(s, x->p->lim.max_text, n - x->p->lim.max_text);
}

static int set_b(struct xr *x, json_t *ev, const char *key, const char *s)
{
	if (!s)
		return 0;
	return json_object_set_new_nocheck(ev, key, bstr(x, s));
}

/* ---- junit ---- */

static void case_clear(struct xr *x)
{
	free(x->c_name);
	free(x->c_class);
	free(x->c_file);
	x->c_name = x->c_class = x->c_file = NULL;
	free(x->c_message);
	x->c_message = NULL;
	x->c_line = 0;
	x->c_time = 0;
	x->c_status = TS_PASSED;
	x->c_has_details = false;
	rs_text_reset(&x->text);
	text_wanted(x, &x->collect, false);
	x->in_case = false;
}

static double parse_time(const char *s)
{
	char buf[64];
	size_t o = 0;

	if (!s)
		return 0;
	/* The usual "12.000345": digits, a point, digits (strtod is a tenth of the run). */
	{
		const char *q = s;
		unsigned long long ip = 0, fp = 0, scale = 1;
		int nd = 0, nf = 0;

		while (*q >= '0' && *q <= '9' && nd < 12)
			ip = ip * 10 + (unsigned)(*q++ - '0'), nd++;
		if (*q == '.') {
			q++;
			while (*q >= '0' && *q <= '9' && nf < 12)
				fp = fp * 10 + (unsigned)(*q++ - '0'), scale *= 10, nf++;
		}
		if (*q == '\0' && nd > 0)
			return (double)ip + (double)fp / (double)scale;
	}
	/* Some writers group thousands ("1,234.5"). */
	for (; *s && o + 1 < sizeof(buf); s++)
		if (*s != ',')
			buf[o++] = *s;
	buf[o] = '\0';
	double t = strtod(buf, NULL);
	return t >= 0 && t < 1e12 ? t : 0;
}

static void junit_start(struct xr *x, const char *el, const XML_Char **atts)
{
	if (x->in_case) {
		if (x->depth != x->case_depth + 1)
			return; /* deeper than a child of <testcase> */
		enum tstatus st;

		if (strcmp(el, "failure") == 0)
			st = TS_FAILED;
		else if (strcmp(el, "error") == 0)
			st = TS_ERROR;
		else if (strcmp(el, "skipped") == 0)
			st = TS_SKIPPED;
		else
			return; /* system-out, system-err, rerunFailure, properties, ... */
		if (st >= x->c_status) {
			const char *m = attr(atts, "message");

			x->c_status = st;
			if (m)
				set_str(&x->c_message, m);
		}
		/* Several children (Surefire's flaky reruns): their texts are joined. */
		if (x->c_has_details)
			(void)rs_text_append(&x->text, "\n", 1);
		text_wanted(x, &x->collect, true);
		return;
	}
	if (strcmp(el, "testsuite") == 0) {
		if (x->nsuite < RS_XML_SUITES)
			x->suite[x->nsuite] = dup_or_null(attr(atts, "name"));
		x->nsuite++;
	} else if (strcmp(el, "testcase") == 0) {
		/* One pass over the attributes (the first of each name counts, as attr() does). */
		const char *cls = NULL, *classname = NULL, *name = NULL, *file = NULL, *line = NULL, *tval = NULL;

		for (const XML_Char **a = atts; a && a[0]; a += 2) {
			const char *k = a[0], **slot = NULL;

			switch (k[0]) {
			case 'c':
				if (strcmp(k, "class") == 0)
					slot = &cls;
				else if (strcmp(k, "classname") == 0)
					slot = &classname;
				break;
			case 'n':
				if (strcmp(k, "name") == 0)
					slot = &name;
				break;
			case 'f':
				if (strcmp(k, "file") == 0)
					slot = &file;
				break;
			case 'l':
				if (strcmp(k, "line") == 0)
					slot = &line;
				break;
			case 't':
				if (strcmp(k, "time") == 0)
					slot = &tval;
				break;
			default:
				break;
			}
			if (slot && !*slot)
				*slot = a[1];
		}
		case_clear(x);
		x->in_case = true;
		x->case_depth = x->depth;
		x->c_name = dup_or_null(name);
		x->c_class = dup_or_null(cls ? cls : classname);
		x->c_file = dup_or_null(file);
		x->c_line = to_long(line);
		x->c_time = parse_time(tval);
	}
}

static const char *innermost_suite(struct xr *x)
{
	unsigned n = x->nsuite < RS_XML_SUITES ? x->nsuite : RS_XML_SUITES;

	while (n > 0) {
		if (x->suite[n - 1] && x->suite[n - 1][0])
			return x->suite[n - 1];
		n--;
	}
	return "";
}

/* PHPUnit writes "Class::test\nmessage...\n\nfile:line" as the failure text: the message
 * is the first paragraph without that first line. */
static void message_from_text(struct xr *x, struct rs_ev *e)
{
	const char *s = x->text.buf ? x->text.buf : "";
	size_t n = x->text.len, start = 0, end;
	const char *nl;

	while (start < n && (s[start] == '\n' || s[start] == '\r' || s[start] == ' '))
		start++;
	nl = memchr(s + start, '\n', n - start);
	if (nl && x->c_class && x->c_name) {
		size_t cl = strlen(x->c_class);

		if ((size_t)(nl - (s + start)) > cl + 2 && strncmp(s + start, x->c_class, cl) == 0 &&
		    strncmp(s + start + cl, "::", 2) == 0)
			start = (size_t)(nl - s) + 1;
	}
	for (end = start; end < n; end++)
		if (s[end] == '\n' && end + 1 < n && (s[end + 1] == '\n' || s[end + 1] == '\r'))
			break;
	while (end > start && (s[end - 1] == '\n' || s[end - 1] == '\r' || s[end - 1] == ' '))
		end--;
	rs_ev_strn(e, "message", s + start, end - start, end == n ? x->text.cut : 0);
}

static void junit_emit(struct xr *x)
{
	const char *suite = innermost_suite(x);
	struct rs_ev e;

	rs_ev_init(&e);
	rs_ev_lit(&e, "type", "test");
	rs_ev_str(&e, "suite", suite);
	/* No classname (Behat, phpcs): the suite stands for the class. */
	rs_ev_str(&e, "class", x->c_class ? x->c_class : suite);
	rs_ev_str(&e, "name", x->c_name ? x->c_name : "");
	rs_ev_str(&e, "file", x->c_file);
	if (x->c_line > 0)
		rs_ev_int(&e, "line", x->c_line);
	rs_ev_lit(&e, "status", STATUS[x->c_status]);
	rs_ev_real(&e, "time", x->c_time);
	if (x->c_status != TS_PASSED) {
		if (x->c_message)
			rs_ev_str(&e, "message", x->c_message);
		else if (rs_text_total(&x->text) > 0 && x->c_status != TS_SKIPPED)
			message_from_text(x, &e);
		if (rs_text_total(&x->text) > 0)
			rs_ev_strn(&e, "details", x->text.buf ? x->text.buf : "", x->text.len, x->text.cut);
	}
	if (rs_p_emit_ev(x->p, &e) < 0)
		xfail(x, "out of memory", NULL);
}

static void junit_end(struct xr *x, const char *el)
{
	if (x->in_case) {
		if (x->depth == x->case_depth + 1) {
			text_wanted(x, &x->collect, false);
			if (rs_text_total(&x->text) > 0)
				x->c_has_details = true;
		} else if (x->depth == x->case_depth && strcmp(el, "testcase") == 0) {
			junit_emit(x);
			case_clear(x);
		}
		return;
	}
	if (strcmp(el, "testsuite") == 0 && x->nsuite > 0) {
		x->nsuite--;
		if (x->nsuite < RS_XML_SUITES) {
			free(x->suite[x->nsuite]);
			x->suite[x->nsuite] = NULL;
		}
	}
}

/* ---- checkstyle ---- */

/* phpmd's checkstyle messages end with "(Rule, Ruleset) ": returns the rule, cut from msg. */
static char *phpmd_rule(char *msg)
{
	size_t n = strlen(msg);
	char *open, *comma, *rule;

	while (n > 0 && msg[n - 1] == ' ')
		n--;
	if (n < 4 || msg[n - 1] != ')')
		return NULL;
	msg[n - 1] = '\0';
	open = strrchr(msg, '(');
	comma = open ? strchr(open, ',') : NULL;
	if (!open || !comma || strncmp(comma, ", ", 2) != 0 || strstr(comma, "Rules") == NULL) {
		msg[n - 1] = ')';
		return NULL;
	}
	*comma = '\0';
	rule = strdup(open + 1);
	while (open > msg && open[-1] == ' ')
		open--;
	*open = '\0';
	return rule;
}

static void checkstyle_start(struct xr *x, const char *el, const XML_Char **atts)
{
	if (strcmp(el, "file") == 0) {
		set_str(&x->file, attr(atts, "name"));
		rs_fp_occ_reset(&x->p->occ);
		return;
	}
	if (strcmp(el, "error") != 0)
		return;
	/* One pass over the attributes (the first of each name counts, as attr() does). */
	const char *source = NULL, *m = NULL, *sev = NULL, *a_line = NULL, *a_end = NULL, *a_col = NULL;

	for (const XML_Char **a = atts; a && a[0]; a += 2) {
		const char *k = a[0], **slot = NULL;

		switch (k[0]) {
		case 's':
			if (strcmp(k, "source") == 0)
				slot = &source;
			else if (strcmp(k, "severity") == 0)
				slot = &sev;
			break;
		case 'm':
			if (strcmp(k, "message") == 0)
				slot = &m;
			break;
		case 'l':
			if (strcmp(k, "line") == 0)
				slot = &a_line;
			break;
		case 'e':
			if (strcmp(k, "endline") == 0)
				slot = &a_end;
			break;
		case 'c':
			if (strcmp(k, "column") == 0)
				slot = &a_col;
			break;
		default:
			break;
		}
		if (slot && !*slot)
			*slot = a[1];
	}
	char *msg = NULL;
	char *rule = NULL;
	const char *tool = x->p->tool;
	struct rs_finding f = {0};
	struct rs_ev e;
	int rc;

	if (!source && !x->cs_phpcs) {
		/* Maybe phpmd's "message (Rule, Ruleset)": a copy to cut the rule from. */
		if (!(msg = strdup(m ? m : "")))
			goto oom;
		if ((rule = phpmd_rule(msg)) != NULL && !tool)
			tool = "phpmd";
		m = msg;
	}
	if (!tool)
		tool = x->cs_phpcs ? "phpcs" : "checkstyle";
	f.tool = tool;
	f.rule = rule ? rule : source;
	f.severity = rs_severity_word(sev);
	f.file = x->file;
	f.line = to_long(a_line);
	f.end_line = to_long(a_end);
	f.column = to_long(a_col);
	f.message = m ? m : "";
	f.message_len = strlen(f.message);
	rs_p_finding(x->p, &f, &e);
	rc = rs_p_emit_ev(x->p, &e);
	free(msg);
	free(rule);
	if (rc < 0)
		goto oom;
	return;
oom:
	xfail(x, "out of memory", NULL);
}

/* ---- pmd (phpmd xml) ---- */

static const char *pmd_severity(long priority)
{
	/* PMD priorities 1 (high) .. 5 (low). */
	if (priority >= 1 && priority <= 2)
		return "error";
	if (priority == 3)
		return "warning";
	return "info";
}

static void pmd_start(struct xr *x, const char *el, const XML_Char **atts)
{
	if (strcmp(el, "file") == 0) {
		set_str(&x->file, attr(atts, "name"));
		rs_fp_occ_reset(&x->p->occ);
	} else if (strcmp(el, "violation") == 0) {
		x->in_violation = true;
		set_str(&x->v_rule, attr(atts, "rule"));
		x->v_line = attr_long(atts, "beginline");
		x->v_end = attr_long(atts, "endline");
		x->v_priority = attr_long(atts, "priority");
		rs_text_reset(&x->text);
		text_wanted(x, &x->collect, true);
	} else if (strcmp(el, "error") == 0) {
		/* phpmd could not process a file. */
		struct rs_finding f = {0};
		const char *m = attr(atts, "msg");

		f.tool = x->p->tool ? x->p->tool : "phpmd";
		f.rule = "processing-error";
		f.severity = "error";
		f.file = attr(atts, "filename");
		struct rs_ev e;

		f.message = m ? m : "";
		f.message_len = strlen(f.message);
		rs_p_finding(x->p, &f, &e);
		if (rs_p_emit_ev(x->p, &e) < 0)
			xfail(x, "out of memory", NULL);
	}
}

/* The collected text without surrounding blanks (phpmd indents its messages). */
static void trimmed_text(struct xr *x, struct rs_finding *f)
{
	const char *s = x->text.buf ? x->text.buf : "";
	size_t a = 0, b = x->text.len;

	while (a < b && strchr(" \t\r\n", s[a]))
		a++;
	while (b > a && x->text.cut == 0 && strchr(" \t\r\n", s[b - 1]))
		b--;
	f->message = s + a;
	f->message_len = b - a;
	f->message_cut = x->text.cut;
}

static void pmd_end(struct xr *x, const char *el)
{
	if (!x->in_violation || strcmp(el, "violation") != 0)
		return;
	struct rs_finding f = {0};

	f.tool = x->p->tool ? x->p->tool : "phpmd";
	f.rule = x->v_rule;
	f.severity = pmd_severity(x->v_priority);
	f.file = x->file;
	f.line = x->v_line;
	f.end_line = x->v_end;
	trimmed_text(x, &f);
	x->in_violation = false;
	text_wanted(x, &x->collect, false);
	struct rs_ev e;

	rs_p_finding(x->p, &f, &e);
	if (rs_p_emit_ev(x->p, &e) < 0)
		xfail(x, "out of memory", NULL);
}

/* ---- pmd-cpd (phpcpd --log-pmd) ---- */

static void cpd_start(struct xr *x, const char *el, const XML_Char **atts)
{
	if (strcmp(el, "duplication") == 0) {
		x->in_dup = true;
		x->d_lines = attr_long(atts, "lines");
		x->d_tokens = attr_long(atts, "tokens");
		json_decref(x->d_places);
		x->d_places = json_array();
		x->d_nplaces = x->d_places_cut = 0;
		free(x->d_file);
		x->d_file = NULL;
		x->d_line = 0;
		rs_fp_norm_init(&x->d_frag);
		if (!x->d_places)
			xfail(x, "out of memory", NULL);
	} else if (x->in_dup && strcmp(el, "file") == 0) {
		const char *path = attr(atts, "path");
		long line = attr_long(atts, "line");

		if (x->d_nplaces == 0) {
			x->d_file = dup_or_null(path);
			x->d_line = line;
		}
		x->d_nplaces++;
		if (x->d_nplaces > RS_XML_PLACES) {
			x->d_places_cut++;
			return;
		}
		json_t *pl = json_object();

		if (!pl || set_b(x, pl, "file", path ? path : "") < 0 ||
		    json_object_set_new_nocheck(pl, "line", json_integer(line)) < 0 ||
		    json_array_append_new(x->d_places, pl) < 0) {
			json_decref(pl);
			xfail(x, "out of memory", NULL);
		}
	} else if (x->in_dup && strcmp(el, "codefragment") == 0) {
		text_wanted(x, &x->in_frag, true);
	}
}

static void cpd_end(struct xr *x, const char *el)
{
	if (strcmp(el, "codefragment") == 0) {
		text_wanted(x, &x->in_frag, false);
		return;
	}
	if (!x->in_dup || strcmp(el, "duplication") != 0)
		return;
	struct rs_finding f = {0};
	char msg[1024];
	int o;
	uint64_t code = rs_fp_norm_end(&x->d_frag);
	struct rs_ev e;

	o = snprintf(msg, sizeof(msg), "Duplicated code: %ld lines, %ld tokens, in %u places", x->d_lines,
		     x->d_tokens, x->d_nplaces);
	f.tool = x->p->tool ? x->p->tool : "phpcpd";
	f.rule = "duplication";
	f.severity = "warning";
	f.file = x->d_file;
	f.line = x->d_line;
	f.end_line = x->d_lines > 0 ? x->d_line + x->d_lines - 1 : 0;
	f.message = msg;
	f.message_len = (size_t)o < sizeof(msg) ? (size_t)o : sizeof(msg) - 1;
	f.code_hash = &code;
	x->in_dup = false;
	rs_p_finding(x->p, &f, &e);
	rs_ev_json(&e, "places", x->d_places);
	x->d_places = NULL;
	if (x->d_places_cut)
		rs_ev_int(&e, "places_cut", x->d_places_cut);
	if (rs_p_emit_ev(x->p, &e) < 0)
		xfail(x, "out of memory", NULL);
}

/* ---- expat callbacks ---- */

static const char *const ROOTS[][3] = {
	[XK_JUNIT] = {"testsuites", "testsuite", "testcase"},
	[XK_CHECKSTYLE] = {"checkstyle", NULL, NULL},
	[XK_PMD] = {"pmd", NULL, NULL},
	[XK_CPD] = {"pmd-cpd", NULL, NULL},
};

static void XMLCALL xmlreport_on_start(void *arg, const XML_Char *el, const XML_Char **atts)
{
	struct xr *x = arg;

	x->depth++;
	if (x->depth > x->p->lim.max_depth) {
		xfail(x, "elements nested too deeply", NULL);
		return;
	}
	if (!x->root_seen) {
		bool ok = false;

		x->root_seen = true;
		for (int i = 0; i < 3; i++)
			if (ROOTS[x->kind][i] && strcmp(el, ROOTS[x->kind][i]) == 0)
				ok = true;
		if (!ok) {
			xfail(x, "unexpected root element for this format: ", el);
			return;
		}
		if (x->kind == XK_CHECKSTYLE && attr(atts, "version"))
			x->cs_phpcs = true;
	}
	switch (x->kind) {
	case XK_JUNIT:
		junit_start(x, el, atts);
		break;
	case XK_CHECKSTYLE:
		checkstyle_start(x, el, atts);
		break;
	case XK_PMD:
		pmd_start(x, el, atts);
		break;
	case XK_CPD:
		cpd_start(x, el, atts);
		break;
	}
}

static void XMLCALL xmlreport_on_end(void *arg, const XML_Char *el)
{
	struct xr *x = arg;

	switch (x->kind) {
	case XK_JUNIT:
		junit_end(x, el);
		break;
	case XK_CHECKSTYLE:
		break;
	case XK_PMD:
		pmd_end(x, el);
		break;
	case XK_CPD:
		cpd_end(x, el);
		break;
	}
	x->depth--;
}

static void XMLCALL xmlreport_on_text(void *arg, const XML_Char *s, int len)
{
	struct xr *x = arg;

	if (x->collect) {
		if (rs_text_append(&x->text, s, (size_t)len) < 0)
			xfail(x, "out of memory", NULL);
	} else if (x->in_frag) {
		rs_fp_norm_feed(&x->d_frag, s, (size_t)len);
	}
}

/* ---- feeding ---- */

static int expat_error(struct xr *x)
{
	enum XML_Error code = XML_GetErrorCode(x->xp);

	if (x->p->failed)
		return -1; /* a handler stopped the parser and said why */
	return rs_p_fail(x->p, XML_GetCurrentLineNumber(x->xp), XML_GetCurrentColumnNumber(x->xp) + 1, "%s",
			 XML_ErrorString(code));
}

/* Bytes expat holds for a token it has not finished (a tag with its attributes; text is
 * reported or skipped piece by piece): bounded by lim.max_token. */
static int check_token(struct xr *x, size_t fed)
{
	XML_Index idx = XML_GetCurrentByteIndex(x->xp);

	x->fed += fed;
	if (idx >= 0)
		x->done = (unsigned long long)idx;
	if (x->fed - x->done > x->p->lim.max_token)
		return rs_p_fail(x->p, XML_GetCurrentLineNumber(x->xp), XML_GetCurrentColumnNumber(x->xp) + 1,
				 "an XML token is longer than %zu bytes", x->p->lim.max_token);
	return 0;
}

static int push(struct xr *x, const char *buf, size_t len, bool final)
{
	do {
		size_t n = len < RS_XML_PIECE ? len : RS_XML_PIECE;
		bool last = final && n == len;

		size_t o = n;

		if (x->mode == XM_RAW) {
			if (XML_Parse(x->xp, buf, (int)n, last) == XML_STATUS_ERROR)
				return expat_error(x);
		} else {
			void *out = XML_GetBuffer(x->xp, (int)(3 * n + 12));

			if (!out)
				return expat_error(x);
			o = rs_utf8_repair(&x->u8, buf, n, out, last);
			if (XML_ParseBuffer(x->xp, (int)o, last) == XML_STATUS_ERROR)
				return expat_error(x);
		}
		if (check_token(x, o) < 0)
			return -1;
		buf += n;
		len -= n;
	} while (len > 0);
	return 0;
}

/* The declared encoding (from the sniffed declaration; off: its offset in x->sniff):
 * UTF-8 and ASCII stay on the repair path (expat told to read UTF-8, which ASCII is a
 * subset of), expat's own encodings are passed as they are, any other one gets its byte
 * map now (handed to expat by xmlreport_on_encoding). 0, or -1 with the error naming the
 * encoding at its position. */
static int sniff_encoding(struct xr *x, const char *name, size_t namelen, size_t off, size_t bom)
{
	char shown[XE_NAME_MAX + 1], why[192];
	unsigned long line = 1, col = 1;
	struct xe_map *m;

	x->mode = XM_REPAIR;
	if (namelen <= XE_NAME_MAX && !xe_name_valid(name, namelen))
		return 0; /* not an encoding name: expat says the declaration is malformed */
	snprintf(shown, sizeof(shown), "%.*s", (int)(namelen < XE_NAME_MAX ? namelen : XE_NAME_MAX), name);
	for (size_t i = bom; i < off; i++, col++)
		if (x->sniff[i] == '\n' || (x->sniff[i] == '\r' && (i + 1 >= off || x->sniff[i + 1] != '\n')))
			line++, col = 0;
	if (namelen > XE_NAME_MAX)
		return rs_p_fail(x->p, line, col, "unsupported encoding \"%s...\": name longer than %d characters",
				 shown, XE_NAME_MAX);
	switch (xe_builtin(shown)) {
	case XE_UTF8:
		return 0;
	case XE_ASCII:
		break;
	case XE_EXPAT:
		x->mode = XM_RAW;
		return 0;
	case XE_TABLE:
		if (!(m = xe_map_new(shown, why, sizeof(why))))
			return rs_p_fail(x->p, line, col, "unsupported encoding \"%s\": %s", shown, why);
		if (xe_map_kind(m) == XE_TABLE) {
			x->enc = m;
			x->mode = XM_RAW;
			return 0;
		}
		xe_map_free(m); /* an alias of UTF-8 or US-ASCII */
		break;
	}
	/* US-ASCII and its aliases: read as UTF-8 (same bytes; a stray non-ASCII byte is
	 * repaired like in any UTF-8 report instead of failing it). */
	if (XML_SetEncoding(x->xp, "UTF-8") != XML_STATUS_OK)
		return rs_p_fail(x->p, 0, 0, "out of memory");
	return 0;
}

/* Decides from the XML declaration whether bytes are repaired as UTF-8 (the default and
 * what most tools write) or passed to expat as declared (ISO-8859-1, UTF-16, Cp1252...).
 * 1 decided, 0 more bytes needed, -1 error (an unsupported encoding). */
static int sniff_decide(struct xr *x, bool final)
{
	const char *s = x->sniff;
	size_t n = x->nsniff, bom = 0, off, len;
	const char *decl = "<?xml";

	if (n >= 2 && (((unsigned char)s[0] == 0xFE && (unsigned char)s[1] == 0xFF) ||
		       ((unsigned char)s[0] == 0xFF && (unsigned char)s[1] == 0xFE) || s[0] == '\0' || s[1] == '\0')) {
		x->mode = XM_RAW; /* UTF-16 */
		x->utf16 = true;
		return 1;
	}
	if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
		bom = 3;
	s += bom;
	n -= bom;
	for (size_t i = 0; i < n && i < 5; i++)
		if (s[i] != decl[i]) {
			x->mode = XM_REPAIR;
			return 1;
		}
	const char *end = memmem(s, n, "?>", 2);

	if (!end) {
		if (final || x->nsniff == RS_XML_SNIFF) {
			x->mode = XM_REPAIR;
			return 1;
		}
		return 0;
	}
	x->mode = XM_REPAIR;
	if (xe_decl_encoding(s, (size_t)(end + 2 - s), &off, &len) == 1 &&
	    sniff_encoding(x, s + off, len, bom + off, bom) < 0)
		return -1;
	return 1;
}

/* expat met a declared encoding it does not know: the map sniff_encoding() built. */
static int XMLCALL xmlreport_on_encoding(void *arg, const XML_Char *name, XML_Encoding *info)
{
	struct xr *x = arg;
	struct xe_map *m = x->enc;

	x->enc = NULL;
	if (m && strcmp(xe_map_name(m), name) == 0) {
		xe_map_to_expat(m, info);
		return XML_STATUS_OK;
	}
	xe_map_free(m);
	/* Not seen by the sniff: a UTF-16 document declaring a single-byte encoding, or a
	 * declaration longer than the sniff (its bytes were already read as UTF-8). */
	rs_p_fail(x->p, XML_GetCurrentLineNumber(x->xp), XML_GetCurrentColumnNumber(x->xp) + 1,
		  "unsupported encoding \"%.*s\": %s", XE_NAME_MAX, name,
		  x->utf16 ? "declared in a UTF-16 document" : "the XML declaration is longer than 512 bytes");
	return XML_STATUS_ERROR;
}

static int xml_feed(struct rs_parser *p, const char *buf, size_t len)
{
	struct xr *x = X(p);

	if (x->mode == XM_SNIFF) {
		size_t take = RS_XML_SNIFF - x->nsniff;
		int d;

		if (take > len)
			take = len;
		memcpy(x->sniff + x->nsniff, buf, take);
		x->nsniff += take;
		buf += take;
		len -= take;
		if ((d = sniff_decide(x, false)) <= 0)
			return d;
		if (push(x, x->sniff, x->nsniff, false) < 0)
			return -1;
	}
	return len ? push(x, buf, len, false) : 0;
}

static int xml_finish(struct rs_parser *p)
{
	struct xr *x = X(p);

	if (x->mode == XM_SNIFF) {
		if (sniff_decide(x, true) < 0)
			return -1;
		if (x->nsniff && push(x, x->sniff, x->nsniff, false) < 0)
			return -1;
	}
	if (push(x, "", 0, true) < 0)
		return -1;
	if (x->in_case && !p->failed)
		return rs_p_fail(p, 0, 0, "document ended inside a test case");
	return 0;
}

static void xml_destroy(struct rs_parser *p)
{
	struct xr *x = X(p);

	if (!x)
		return;
	if (x->xp)
		XML_ParserFree(x->xp);
	xe_map_free(x->enc);
	case_clear(x);
	rs_text_release(&x->text);
	for (unsigned i = 0; i < RS_XML_SUITES; i++)
		free(x->suite[i]);
	free(x->file);
	free(x->v_rule);
	free(x->d_file);
	json_decref(x->d_places);
	free(x);
	p->state = NULL;
}

static int xml_init(struct rs_parser *p, enum xkind kind)
{
	struct xr *x = calloc(1, sizeof(*x));

	if (!x)
		return -1;
	p->state = x;
	x->p = p;
	x->kind = kind;
	rs_text_init(&x->text, p->lim.max_text);
	/* NULL encoding: the document's own declaration (or UTF-8) decides. */
	x->xp = XML_ParserCreate(NULL);
	if (!x->xp)
		return -1;
	XML_SetUserData(x->xp, x);
	XML_SetElementHandler(x->xp, xmlreport_on_start, xmlreport_on_end);
	XML_SetUnknownEncodingHandler(x->xp, xmlreport_on_encoding, x);
	/* Never load external entities or DTDs (this is also expat's default). */
	XML_SetParamEntityParsing(x->xp, XML_PARAM_ENTITY_PARSING_NEVER);
	return 0;
}

static int junit_init(struct rs_parser *p)
{
	return xml_init(p, XK_JUNIT);
}
static int checkstyle_init(struct rs_parser *p)
{
	return xml_init(p, XK_CHECKSTYLE);
}
static int pmd_init(struct rs_parser *p)
{
	return xml_init(p, XK_PMD);
}
static int cpd_init(struct rs_parser *p)
{
	return xml_init(p, XK_CPD);
}

const struct rs_format rs_fmt_junit = {"junit", junit_init, xml_feed, xml_finish, xml_destroy};
const struct rs_format rs_fmt_checkstyle = {"checkstyle", checkstyle_init, xml_feed, xml_finish, xml_destroy};
const struct rs_format rs_fmt_pmd = {"pmd", pmd_init, xml_feed, xml_finish, xml_destroy};
const struct rs_format rs_fmt_cpd = {"pmd-cpd", cpd_init, xml_feed, xml_finish, xml_destroy};
