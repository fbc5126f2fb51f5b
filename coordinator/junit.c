/* junit — see junit.h. */
#include "junit.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Decodes one UTF-8 sequence (jansson gave us valid UTF-8); returns its length, 0 at the end. */
static size_t junit_utf8(const unsigned char *p, unsigned long *cp)
{
	if (p[0] < 0x80) {
		*cp = p[0];
		return p[0] ? 1 : 0;
	}
	if ((p[0] & 0xe0) == 0xc0 && (p[1] & 0xc0) == 0x80) {
		*cp = ((unsigned long)(p[0] & 0x1f) << 6) | (p[1] & 0x3f);
		return 2;
	}
	if ((p[0] & 0xf0) == 0xe0 && (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80) {
		*cp = ((unsigned long)(p[0] & 0x0f) << 12) | ((unsigned long)(p[1] & 0x3f) << 6) | (p[2] & 0x3f);
		return 3;
	}
	if ((p[0] & 0xf8) == 0xf0 && (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80) {
		*cp = ((unsigned long)(p[0] & 0x07) << 18) | ((unsigned long)(p[1] & 0x3f) << 12) |
		      ((unsigned long)(p[2] & 0x3f) << 6) | (p[3] & 0x3f);
		return 4;
	}
	*cp = 0xfffd; /* not UTF-8: skip one byte */
	return 1;
}

static int junit_xml_char(unsigned long c)
{
	return c == 0x9 || c == 0xa || c == 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) ||
	       (c >= 0x10000 && c <= 0x10ffff);
}

void junit_escape(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	unsigned long cp;
	size_t n;

	while ((n = junit_utf8(p, &cp)) > 0) {
		if (!junit_xml_char(cp) || (cp == 0xfffd && n == 1)) {
			p += n;
			continue;
		}
		switch (cp) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&apos;", out); break;
		/* Attribute values would normalise these to spaces; keep them as references. */
		case '\n': fputs("&#10;", out); break;
		case '\r': fputs("&#13;", out); break;
		case '\t': fputs("&#9;", out); break;
		default: fwrite(p, 1, n, out); break;
		}
		p += n;
	}
}

static const char *junit_str(const json_t *ev, const char *key)
{
	const char *v = json_string_value(json_object_get(ev, key));
	return v ? v : "";
}

/* A group: test suite name or tool name, with its counts and the seqs of its cases. */
struct junit_group {
	char *name;
	unsigned long tests, failures, errors, skipped;
	double time;
	uint64_t *seqs;
	size_t nseqs, capseqs;
};

struct junit_groups {
	struct junit_group *g;
	size_t n, cap;
};

static struct junit_group *junit_group(struct junit_groups *gs, const char *name)
{
	for (size_t i = 0; i < gs->n; i++)
		if (strcmp(gs->g[i].name, name) == 0)
			return &gs->g[i];
	if (gs->n == gs->cap) {
		size_t cap = gs->cap ? gs->cap * 2 : 16;
		struct junit_group *g = realloc(gs->g, cap * sizeof *g);
		if (!g)
			return NULL;
		gs->g = g;
		gs->cap = cap;
	}
	memset(&gs->g[gs->n], 0, sizeof gs->g[0]);
	gs->g[gs->n].name = strdup(name);
	if (!gs->g[gs->n].name)
		return NULL;
	return &gs->g[gs->n++];
}

static int junit_group_add(struct junit_group *g, uint64_t seq)
{
	if (g->nseqs == g->capseqs) {
		size_t cap = g->capseqs ? g->capseqs * 2 : 64;
		uint64_t *p = realloc(g->seqs, cap * sizeof *p);
		if (!p)
			return -1;
		g->seqs = p;
		g->capseqs = cap;
	}
	g->seqs[g->nseqs++] = seq;
	return 0;
}

static void junit_groups_free(struct junit_groups *gs)
{
	for (size_t i = 0; i < gs->n; i++) {
		free(gs->g[i].name);
		free(gs->g[i].seqs);
	}
	free(gs->g);
}

/*
 * Whether a finding fails the stage: the agent says so in "fails" (it knows the fail_on of
 * the results entry the finding came from); from an agent without that member, severity
 * error and warning fail.
 */
static bool junit_finding_fails(const json_t *ev)
{
	const json_t *f = json_object_get(ev, "fails");
	const char *sev;

	if (json_is_boolean(f))
		return json_is_true(f);
	sev = json_string_value(json_object_get(ev, "severity"));
	return sev && (strcmp(sev, "error") == 0 || strcmp(sev, "warning") == 0);
}

static const char *junit_suite_of(const json_t *ev)
{
	const char *s = junit_str(ev, "suite");
	if (!*s)
		s = junit_str(ev, "class");
	return *s ? s : "tests";
}

static void junit_attr(FILE *out, const char *name, const char *value)
{
	if (!value || !*value)
		return;
	fprintf(out, " %s=\"", name);
	junit_escape(out, value);
	fputc('"', out);
}

static void junit_testcase(FILE *out, const json_t *ev)
{
	const char *status = junit_str(ev, "status");
	const char *cls = junit_str(ev, "class");
	json_t *line = json_object_get(ev, "line");
	double t = json_number_value(json_object_get(ev, "time"));
	char buf[32];

	fputs("    <testcase", out);
	junit_attr(out, "name", junit_str(ev, "name"));
	junit_attr(out, "classname", *cls ? cls : junit_suite_of(ev));
	junit_attr(out, "file", junit_str(ev, "file"));
	if (json_is_integer(line)) {
		snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(line));
		junit_attr(out, "line", buf);
	}
	fprintf(out, " time=\"%.3f\"", t > 0 ? t : 0.0);
	if (strcmp(status, "failed") == 0 || strcmp(status, "error") == 0) {
		const char *tag = strcmp(status, "failed") == 0 ? "failure" : "error";
		fprintf(out, ">\n      <%s", tag);
		junit_attr(out, "message", junit_str(ev, "message"));
		fprintf(out, " type=\"%s\">", status);
		junit_escape(out, junit_str(ev, "details"));
		fprintf(out, "</%s>\n    </testcase>\n", tag);
	} else if (strcmp(status, "skipped") == 0) {
		fputs(">\n      <skipped", out);
		junit_attr(out, "message", junit_str(ev, "message"));
		fputs("/>\n    </testcase>\n", out);
	} else {
		fputs("/>\n", out);
	}
}

static void junit_finding(FILE *out, const json_t *ev)
{
	const char *sev = junit_str(ev, "severity");
	const char *fp = junit_str(ev, "fingerprint");
	json_t *line = json_object_get(ev, "line"), *col = json_object_get(ev, "column");
	char where[1200], cls[300];

	snprintf(where, sizeof where, "%s", junit_str(ev, "file"));
	if (json_is_integer(line)) {
		size_t n = strlen(where);
		snprintf(where + n, sizeof where - n, ":%lld", (long long)json_integer_value(line));
		if (json_is_integer(col)) {
			n = strlen(where);
			snprintf(where + n, sizeof where - n, ":%lld", (long long)json_integer_value(col));
		}
	}
	snprintf(cls, sizeof cls, "%s.%s", junit_str(ev, "tool"), junit_str(ev, "rule"));
	fputs("    <testcase", out);
	junit_attr(out, "name", *fp ? fp : "finding");
	junit_attr(out, "classname", cls);
	junit_attr(out, "file", junit_str(ev, "file"));
	fputs(" time=\"0\"", out);
	if (junit_finding_fails(ev)) {
		fputs(">\n      <failure", out);
		junit_attr(out, "message", junit_str(ev, "message"));
		fputs(" type=\"", out);
		junit_escape(out, sev);
		fputs("\">", out);
		junit_escape(out, sev);
		fputs(" ", out);
		junit_escape(out, junit_str(ev, "rule"));
		fputs(" at ", out);
		junit_escape(out, where);
		fputs(": ", out);
		junit_escape(out, junit_str(ev, "message"));
		fputs("</failure>\n    </testcase>\n", out);
	} else {
		fputs(">\n      <system-out>", out);
		junit_escape(out, sev);
		fputs(" ", out);
		junit_escape(out, junit_str(ev, "rule"));
		fputs(" at ", out);
		junit_escape(out, where);
		fputs(": ", out);
		junit_escape(out, junit_str(ev, "message"));
		fputs("</system-out>\n    </testcase>\n", out);
	}
}

static void junit_suite_open(FILE *out, const struct junit_group *g)
{
	fputs("  <testsuite", out);
	junit_attr(out, "name", g->name);
	fprintf(out, " tests=\"%lu\" failures=\"%lu\" errors=\"%lu\" skipped=\"%lu\" time=\"%.3f\">\n", g->tests,
	        g->failures, g->errors, g->skipped, g->time);
}

int junit_write(FILE *out, const struct stream *s, const struct report *r)
{
	struct junit_groups suites = {0}, tools = {0};
	uint64_t max = stream_max_seq(s);
	unsigned long tests = 0, failures = 0, errors = 0, skipped = 0;
	char infra_name[] = "stagevisor";
	struct junit_group infra = {.name = infra_name};
	json_t *ev = NULL;
	int rc = -1;

	/* Pass 1: groups, counts (the plugin trusts the attributes less than the cases, but
	 * other readers do not) and each group's seqs, so that pass 2 decodes every kept event
	 * once more and only once. */
	for (uint64_t seq = 1; seq <= max; seq++) {
		enum stream_kind kind = stream_kind(s, seq);
		struct junit_group *g;
		if (kind != STREAM_KIND_TEST && kind != STREAM_KIND_FINDING)
			continue;
		if (!(ev = stream_load(s, seq)))
			goto done;
		if (kind == STREAM_KIND_TEST) {
			const char *st = junit_str(ev, "status");
			if (!(g = junit_group(&suites, junit_suite_of(ev))))
				goto done;
			g->tests++;
			g->failures += strcmp(st, "failed") == 0;
			g->errors += strcmp(st, "error") == 0;
			g->skipped += strcmp(st, "skipped") == 0;
			if (json_number_value(json_object_get(ev, "time")) > 0)
				g->time += json_number_value(json_object_get(ev, "time"));
		} else {
			const char *tool = junit_str(ev, "tool");
			if (!(g = junit_group(&tools, *tool ? tool : "analysis")))
				goto done;
			g->tests++;
			g->failures += junit_finding_fails(ev);
		}
		if (junit_group_add(g, seq))
			goto done;
		json_decref(ev);
		ev = NULL;
	}
	/* The tools' cases only; a `stagevisor` suite exists only for a problem to report. */
	infra.tests = r->ninfra;
	infra.failures = r->ninfra;
	infra.time = r->elapsed_s;
	for (size_t i = 0; i < suites.n; i++) {
		tests += suites.g[i].tests;
		failures += suites.g[i].failures;
		errors += suites.g[i].errors;
		skipped += suites.g[i].skipped;
	}
	for (size_t i = 0; i < tools.n; i++) {
		tests += tools.g[i].tests;
		failures += tools.g[i].failures;
	}
	tests += infra.tests;
	failures += infra.failures;

	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites", out);
	junit_attr(out, "name", r->stage);
	fprintf(out, " tests=\"%lu\" failures=\"%lu\" errors=\"%lu\" skipped=\"%lu\" time=\"%.3f\">\n", tests,
	        failures, errors, skipped, r->elapsed_s);
	/* Pass 2, group by group, in the order the cases arrived. */
	for (size_t i = 0; i < suites.n + tools.n; i++) {
		const struct junit_group *g = i < suites.n ? &suites.g[i] : &tools.g[i - suites.n];
		junit_suite_open(out, g);
		for (size_t k = 0; k < g->nseqs; k++) {
			if (!(ev = stream_load(s, g->seqs[k])))
				goto done;
			if (i < suites.n)
				junit_testcase(out, ev);
			else
				junit_finding(out, ev);
			json_decref(ev);
			ev = NULL;
		}
		fputs("  </testsuite>\n", out);
	}
	if (r->ninfra > 0)
		junit_suite_open(out, &infra);
	for (size_t i = 0; i < r->ninfra; i++) {
		fputs("    <testcase", out);
		junit_attr(out, "name", r->infra[i].name);
		fputs(" classname=\"stagevisor.infrastructure\" time=\"0\">\n      <failure", out);
		junit_attr(out, "message", r->infra[i].message);
		fputs(" type=\"infrastructure\">", out);
		junit_escape(out, r->infra[i].message);
		if (r->infra[i].detail[0]) {
			fputs("&#10;&#10;last output lines:&#10;", out);
			junit_escape(out, r->infra[i].detail);
		}
		fputs("</failure>\n    </testcase>\n", out);
	}
	if (r->ninfra > 0)
		fputs("  </testsuite>\n", out);
	fputs("</testsuites>\n", out);
	rc = ferror(out) ? -1 : 0;
done:
	json_decref(ev);
	junit_groups_free(&suites);
	junit_groups_free(&tools);
	return rc;
}

int junit_write_file(const char *path, const struct stream *s, const struct report *r)
{
	size_t n = strlen(path) + 16;
	char *tmp = malloc(n);
	FILE *f = NULL;
	int rc = -1, saved;

	if (!tmp)
		return -1;
	snprintf(tmp, n, "%s.tmp%ld", path, (long)getpid());
	f = fopen(tmp, "we");
	if (!f)
		goto done;
	if (junit_write(f, s, r) != 0) {
		fclose(f);
		unlink(tmp);
		goto done;
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		goto done;
	}
	rc = 0;
done:
	free(tmp);
	return rc;
}
