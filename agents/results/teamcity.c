/*
 * teamcity — TeamCity service messages (PHPUnit --log-teamcity / --teamcity), one per
 * line, parsed as lines arrive. See parser.h for the contract.
 *
 * A line may carry other output before "##teamcity["; lines without it are ignored
 * (the stream is a process's stdout). Values use TeamCity's escapes: |' |n |r || |[ |]
 * and |0xNNNN. A `test` event is emitted at testFinished; tests still open at the end of
 * input are emitted with status "error" (the runner died inside them). Bounds: a line
 * is kept up to lim.max_token bytes (the rest is counted and reported in the cut
 * marker of the text it belonged to), at most RS_TC_OPEN tests are open at once (more
 * parallel flows: the oldest open one is reported as an error), suite names nest
 * RS_TC_SUITES deep.
 */
#include "parser_int.h"

#include "boundtext.h"

#include <stdlib.h>
#include <string.h>

#define RS_TC_OPEN 64
#define RS_TC_SUITES 64
#define RS_TC_ATTRS 16

struct tc_test {
	bool used;
	unsigned long order;
	char *flow, *name, *suite, *class, *file;
	const char *status;
	bool unfinished; /* the runner ended inside it (tc_finish): marked "unfinished" */
	json_t *message, *details;
};

struct tc {
	char *line;
	size_t len, alloc;
	size_t over; /* bytes of the current line beyond max_token */
	unsigned long lineno;
	unsigned long order;
	char *suite[RS_TC_SUITES];
	unsigned nsuite;
	struct tc_test open[RS_TC_OPEN];
};

struct tc_attr {
	const char *name;
	size_t name_len;
	char *value; /* decoded, NUL-terminated, in the scratch buffer */
	size_t len;
	bool unterminated;
};

static void test_clear(struct tc_test *t)
{
	free(t->flow);
	free(t->name);
	free(t->suite);
	free(t->class);
	free(t->file);
	json_decref(t->message);
	json_decref(t->details);
	memset(t, 0, sizeof(*t));
}

static char *dupn(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static void put_utf8(char **o, unsigned cp)
{
	unsigned char *u = (unsigned char *)*o;

	if (cp < 0x80) {
		*u++ = (unsigned char)cp;
	} else if (cp < 0x800) {
		*u++ = (unsigned char)(0xC0 | (cp >> 6));
		*u++ = (unsigned char)(0x80 | (cp & 0x3F));
	} else {
		if (cp >= 0xD800 && cp <= 0xDFFF)
			cp = 0xFFFD;
		*u++ = (unsigned char)(0xE0 | (cp >> 12));
		*u++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		*u++ = (unsigned char)(0x80 | (cp & 0x3F));
	}
	*o = (char *)u;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parses "name k='v' k2='v2']" starting at s; values are decoded into out (which holds
 * at least end - s + 1 bytes). Returns the number of attributes, -1 when not a message. */
static int parse_message(const char *s, const char *end, char *out, const char **mname, size_t *mlen,
			 struct tc_attr *attrs)
{
	const char *q = s;
	int n = 0;

	while (q < end && *q != ' ' && *q != ']')
		q++;
	*mname = s;
	*mlen = (size_t)(q - s);
	if (*mlen == 0)
		return -1;
	for (;;) {
		while (q < end && *q == ' ')
			q++;
		if (q >= end || *q == ']')
			return n;
		const char *an = q;

		while (q < end && *q != '=' && *q != ' ' && *q != ']')
			q++;
		if (q >= end || *q != '=' || q + 1 >= end || q[1] != '\'')
			return n; /* single-value message or junk: keep what we have */
		struct tc_attr a = {an, (size_t)(q - an), out, 0, true};

		q += 2;
		while (q < end) {
			char c = *q++;

			if (c == '\'') {
				a.unterminated = false;
				break;
			}
			if (c == '|' && q < end) {
				char e = *q++;

				switch (e) {
				case 'n': *out++ = '\n'; break;
				case 'r': *out++ = '\r'; break;
				case 'x': *out++ = '\xC2'; *out++ = '\x85'; break; /* next line */
				case 'l': put_utf8(&out, 0x2028); break;
				case 'p': put_utf8(&out, 0x2029); break;
				case '0':
					if (q + 5 <= end && q[0] == 'x' && hexval(q[1]) >= 0 && hexval(q[2]) >= 0 &&
					    hexval(q[3]) >= 0 && hexval(q[4]) >= 0) {
						unsigned cp = (unsigned)(hexval(q[1]) << 12 | hexval(q[2]) << 8 |
									 hexval(q[3]) << 4 | hexval(q[4]));
						put_utf8(&out, cp);
						q += 5;
						break;
					}
					*out++ = '0';
					break;
				default: *out++ = e; break; /* |' || |[ |] */
				}
				continue;
			}
			*out++ = c;
		}
		a.len = (size_t)(out - a.value);
		*out++ = '\0';
		if (n < RS_TC_ATTRS)
			attrs[n++] = a;
		if (a.unterminated)
			return n;
	}
}

static const struct tc_attr *get(const struct tc_attr *attrs, int n, const char *name)
{
	size_t l = strlen(name);

	for (int i = 0; i < n; i++)
		if (attrs[i].name_len == l && memcmp(attrs[i].name, name, l) == 0)
			return &attrs[i];
	return NULL;
}

static bool is(const char *m, size_t ml, const char *name)
{
	return strlen(name) == ml && memcmp(m, name, ml) == 0;
}

static struct tc_test *find_test(struct tc *t, const char *flow, const char *name)
{
	for (int i = 0; i < RS_TC_OPEN; i++) {
		struct tc_test *e = &t->open[i];

		if (e->used && strcmp(e->name, name) == 0 && strcmp(e->flow, flow) == 0)
			return e;
	}
	return NULL;
}

static int emit_test(struct rs_parser *p, struct tc_test *e, double time)
{
	json_t *ev = json_object();
	int rc = 0;

	if (!ev)
		return -1;
	rc |= json_object_set_new_nocheck(ev, "type", json_string_nocheck("test"));
	rc |= rs_json_set_str(ev, "suite", e->suite ? e->suite : "");
	rc |= rs_json_set_str(ev, "class", e->class ? e->class : (e->suite ? e->suite : ""));
	rc |= rs_json_set_str(ev, "name", e->name);
	rc |= rs_json_set_str(ev, "file", e->file);
	rc |= json_object_set_new_nocheck(ev, "status", json_string_nocheck(e->status));
	rc |= json_object_set_new_nocheck(ev, "time", json_real(time));
	if (e->message) {
		rc |= json_object_set_new_nocheck(ev, "message", e->message);
		e->message = NULL;
	}
	if (e->details) {
		rc |= json_object_set_new_nocheck(ev, "details", e->details);
		e->details = NULL;
	}
	if (e->unfinished)
		rc |= json_object_set_new_nocheck(ev, "unfinished", json_true());
	test_clear(e);
	if (rc != 0) {
		json_decref(ev);
		return -1;
	}
	return rs_p_emit(p, ev);
}

static struct tc_test *open_test(struct rs_parser *p, struct tc *t, const char *flow, const char *name)
{
	struct tc_test *slot = NULL, *oldest = NULL;

	for (int i = 0; i < RS_TC_OPEN; i++) {
		if (!t->open[i].used) {
			slot = &t->open[i];
			break;
		}
		if (!oldest || t->open[i].order < oldest->order)
			oldest = &t->open[i];
	}
	if (!slot) {
		/* More parallel tests than we track: report the oldest as broken. */
		oldest->status = "error";
		if (!oldest->message)
			oldest->message = json_string_nocheck("too many tests open at once; this one never finished");
		if (emit_test(p, oldest, 0) < 0)
			return NULL;
		slot = oldest;
	}
	slot->used = true;
	slot->order = ++t->order;
	slot->flow = strdup(flow);
	slot->name = strdup(name);
	slot->status = "passed";
	if (t->nsuite > 0 && t->nsuite <= RS_TC_SUITES)
		slot->suite = strdup(t->suite[t->nsuite - 1]);
	else if (t->nsuite > RS_TC_SUITES)
		slot->suite = strdup(t->suite[RS_TC_SUITES - 1]);
	if (!slot->flow || !slot->name)
		return NULL;
	return slot;
}

/* php_qn:///path/File.php::\Ns\Class::method -> file and class. */
static void location(struct tc_test *e, const char *hint)
{
	const char *pfx = "php_qn://", *sep, *cls, *end;

	if (!hint || strncmp(hint, pfx, strlen(pfx)) != 0)
		return;
	hint += strlen(pfx);
	sep = strstr(hint, "::");
	if (!sep)
		return;
	free(e->file);
	free(e->class);
	e->file = dupn(hint, (size_t)(sep - hint));
	cls = sep + 2;
	if (*cls == '\\')
		cls++;
	end = strstr(cls, "::");
	e->class = end ? dupn(cls, (size_t)(end - cls)) : strdup(cls);
}

static json_t *value_json(const struct tc_attr *a, size_t over, size_t max_text)
{
	size_t cut = a->unterminated ? over : 0;
	size_t n = a->len;

	if (n > max_text) {
		cut += n - max_text;
		n = max_text;
	}
	return rs_text_json_part(a->value, n, cut);
}

static int handle_line(struct rs_parser *p, struct tc *t, char *line, size_t len)
{
	const char *start = memmem(line, len, "##teamcity[", 11);
	struct tc_attr attrs[RS_TC_ATTRS];
	const char *m;
	size_t ml;
	char *scratch;
	int n, rc = 0;

	if (!start)
		return 0;
	start += 11;
	scratch = malloc(2 * (size_t)(line + len - start) + RS_TC_ATTRS + 1); /* |l |p grow 2 -> 3 */
	if (!scratch)
		return -1;
	n = parse_message(start, line + len, scratch, &m, &ml, attrs);
	if (n < 0)
		goto out;
	const struct tc_attr *name = get(attrs, n, "name");
	const struct tc_attr *flow_a = get(attrs, n, "flowId");
	const char *flow = flow_a ? flow_a->value : "";

	if (is(m, ml, "testSuiteStarted")) {
		if (t->nsuite < RS_TC_SUITES && !(t->suite[t->nsuite] = strdup(name ? name->value : "")))
			rc = -1;
		t->nsuite++;
	} else if (is(m, ml, "testSuiteFinished")) {
		if (t->nsuite > 0) {
			t->nsuite--;
			if (t->nsuite < RS_TC_SUITES) {
				free(t->suite[t->nsuite]);
				t->suite[t->nsuite] = NULL;
			}
		}
	} else if (name && (is(m, ml, "testStarted") || is(m, ml, "testFailed") || is(m, ml, "testIgnored") ||
			    is(m, ml, "testFinished"))) {
		struct tc_test *e = find_test(t, flow, name->value);

		if (!e) {
			if (!(e = open_test(p, t, flow, name->value))) {
				rc = -1;
				goto out;
			}
		}
		if (is(m, ml, "testStarted")) {
			const struct tc_attr *hint = get(attrs, n, "locationHint");

			location(e, hint ? hint->value : NULL);
		} else if (is(m, ml, "testFailed") || is(m, ml, "testIgnored")) {
			const struct tc_attr *msg = get(attrs, n, "message");
			const struct tc_attr *det = get(attrs, n, "details");

			e->status = is(m, ml, "testFailed") ? "failed" : (strcmp(e->status, "failed") ? "skipped" : "failed");
			if (msg && !e->message)
				e->message = value_json(msg, t->over, p->lim.max_text);
			if (det && !e->details)
				e->details = value_json(det, t->over, p->lim.max_text);
		} else {
			const struct tc_attr *dur = get(attrs, n, "duration");
			double ms = dur ? strtod(dur->value, NULL) : 0;

			if (!(ms >= 0 && ms < 1e15))
				ms = 0;
			rc = emit_test(p, e, ms / 1000.0);
		}
	}
out:
	free(scratch);
	return rc;
}

static int tc_feed(struct rs_parser *p, const char *buf, size_t len)
{
	struct tc *t = p->state;

	while (len > 0) {
		const char *nl = memchr(buf, '\n', len);
		size_t n = nl ? (size_t)(nl - buf) : len;
		size_t room = p->lim.max_token - t->len;
		size_t take = n < room ? n : room;

		if (take > 0) {
			if (t->len + take > t->alloc) {
				size_t want = t->alloc ? t->alloc : 1024;
				char *nb;

				while (want < t->len + take)
					want *= 2;
				if (want > p->lim.max_token)
					want = p->lim.max_token;
				if (!(nb = realloc(t->line, want)))
					return -1;
				t->line = nb;
				t->alloc = want;
			}
			memcpy(t->line + t->len, buf, take);
			t->len += take;
		}
		t->over += n - take;
		if (!nl)
			break;
		t->lineno++;
		if (handle_line(p, t, t->line ? t->line : "", t->len) < 0)
			return -1;
		t->len = 0;
		t->over = 0;
		buf = nl + 1;
		len -= n + 1;
	}
	return 0;
}

static int tc_finish(struct rs_parser *p)
{
	struct tc *t = p->state;

	if (t->len > 0 || t->over > 0) {
		t->lineno++;
		if (handle_line(p, t, t->line, t->len) < 0)
			return -1;
		t->len = t->over = 0;
	}
	/* Tests that started but never finished: the runner died or was killed in them. */
	for (;;) {
		struct tc_test *oldest = NULL;

		for (int i = 0; i < RS_TC_OPEN; i++)
			if (t->open[i].used && (!oldest || t->open[i].order < oldest->order))
				oldest = &t->open[i];
		if (!oldest)
			break;
		oldest->status = "error";
		oldest->unfinished = true;
		if (!oldest->message)
			oldest->message = json_string_nocheck("the test did not finish (no testFinished message)");
		if (emit_test(p, oldest, 0) < 0)
			return -1;
	}
	return 0;
}

static void tc_destroy(struct rs_parser *p)
{
	struct tc *t = p->state;

	if (!t)
		return;
	for (int i = 0; i < RS_TC_OPEN; i++)
		test_clear(&t->open[i]);
	for (int i = 0; i < RS_TC_SUITES; i++)
		free(t->suite[i]);
	free(t->line);
	free(t);
	p->state = NULL;
}

static int tc_init(struct rs_parser *p)
{
	p->state = calloc(1, sizeof(struct tc));
	return p->state ? 0 : -1;
}

const struct rs_format rs_fmt_teamcity = {"teamcity", tc_init, tc_feed, tc_finish, tc_destroy};
