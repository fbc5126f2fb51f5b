/* Unit tests of coordinator/junit.c: escaping and the document's shape. (The integration tests
 * read the files with a real XML parser.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "evfix.h"
#include "junit.h"
#include "report.h"

static char *escaped(const char *in)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	junit_escape(f, in);
	fclose(f);
	return buf;
}

static void escapes_markup(void **state)
{
	char *s = escaped("a<b>&\"c'\n\t");
	(void)state;
	assert_string_equal(s, "a&lt;b&gt;&amp;&quot;c&apos;&#10;&#9;");
	free(s);
}

static void drops_invalid_xml_chars(void **state)
{
	/* Controls other than tab, LF and CR are not XML 1.0 characters at all, not even as
	 * references; nor are U+FFFE and U+FFFF. Valid multibyte text passes through. */
	char *s = escaped("x\x01y\x1b[31mz\xef\xbf\xbe\xef\xbf\xbf\xc3\xa9\xf0\x9f\x98\x80");
	(void)state;
	assert_string_equal(s, "xy[31mz\xc3\xa9\xf0\x9f\x98\x80");
	free(s);
	s = escaped(NULL);
	assert_string_equal(s, "");
	free(s);
}

/* The document through a temporary file: GCC 12 at -O2 takes a buffer returned through
 * open_memstream's pointer for a dangling one (-Wdangling-pointer) and the build is -Werror. */
static char *document(struct stream *s, struct report *r)
{
	FILE *f = tmpfile();
	long len;
	char *buf;

	assert_non_null(f);
	assert_int_equal(junit_write(f, s, r), 0);
	len = ftell(f);
	assert_true(len >= 0);
	buf = malloc((size_t)len + 1);
	assert_non_null(buf);
	rewind(f);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

static void groups_tests_findings_and_infra(void **state)
{
	struct stream *s = stream_new("st", NULL, 0);
	struct report r;
	struct report_agent a = {.started = true, .exited = true, .exit_code = 1};
	char err[200], *doc;
	json_t *ev[] = {
		evfix_test("st", 1, "t1", "passed"),
		evfix_test("st", 2, "t2", "failed"),
		evfix("st", 3, "{\"type\":\"finding\",\"tool\":\"phpcs\",\"rule\":\"R\",\"severity\":\"warning\","
		               "\"file\":\"a.php\",\"line\":3,\"message\":\"m <x>\",\"fingerprint\":\"fp1\"}"),
		evfix("st", 4, "{\"type\":\"finding\",\"tool\":\"phpmd\",\"rule\":\"R2\",\"severity\":\"info\","
		               "\"file\":\"a.php\",\"line\":4,\"message\":\"note\",\"fingerprint\":\"fp2\"}"),
	};
	(void)state;
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(stream_add(s, ev[i], STREAM_FROM_HTTPS, err, sizeof err), 1);
		json_decref(ev[i]);
	}
	/* No end event: the stream is incomplete, an infrastructure failure. */
	report_judge(&r, s, &a, 0, false, 1.5, "unit");
	assert_int_equal(r.exit_code, REPORT_INFRA);
	doc = document(s, &r);
	assert_non_null(strstr(doc, "<testsuites name=\"unit\""));
	assert_int_equal(count(doc, "<testsuite "), 4); /* S, phpcs, phpmd, stagevisor */
	assert_int_equal(count(doc, "<testcase "), 5);  /* 2 tests, 2 findings, stream */
	assert_null(strstr(doc, "stagevisor.stage"));
	assert_non_null(strstr(doc, "name=\"fp1\" classname=\"phpcs.R\""));
	assert_non_null(strstr(doc, "message=\"m &lt;x&gt;\""));
	assert_non_null(strstr(doc, "<system-out>info R2 at a.php:4: note</system-out>"));
	assert_non_null(strstr(doc, "name=\"stream\" classname=\"stagevisor.infrastructure\""));
	assert_non_null(strstr(doc, "stream incomplete"));
	free(doc);
	stream_free(s);
}

/* The agent marks each finding with "fails" (its results entry's fail_on): a finding that does
 * not decide the stage (phpcpd with fail_on "never", a warning under fail_on "error") passes,
 * with its text in <system-out>; one that does is a <failure>; and the suite's counts agree. */
static void findings_fail_only_when_marked(void **state)
{
	struct stream *s = stream_new("st", NULL, 0);
	struct report r;
	struct report_agent a = {.started = true, .exited = true, .exit_code = 1};
	char err[200], *doc, *cpd, *cs, *end;
	json_t *ev[] = {
		evfix("st", 1, "{\"type\":\"finding\",\"tool\":\"phpcpd\",\"rule\":\"duplication\",\"severity\":\"warning\","
		               "\"file\":\"a.php\",\"line\":3,\"message\":\"dup\",\"fingerprint\":\"fpd\",\"fails\":false}"),
		evfix("st", 2, "{\"type\":\"finding\",\"tool\":\"phpcs\",\"rule\":\"W\",\"severity\":\"warning\","
		               "\"file\":\"a.php\",\"line\":4,\"message\":\"warn\",\"fingerprint\":\"fpw\",\"fails\":false}"),
		evfix("st", 3, "{\"type\":\"finding\",\"tool\":\"phpcs\",\"rule\":\"E\",\"severity\":\"error\","
		               "\"file\":\"a.php\",\"line\":5,\"message\":\"err\",\"fingerprint\":\"fpe\",\"fails\":true}"),
		/* An info finding under fail_on "info" fails too: "fails" decides, not the severity. */
		evfix("st", 4, "{\"type\":\"finding\",\"tool\":\"phpcs\",\"rule\":\"I\",\"severity\":\"info\","
		               "\"file\":\"a.php\",\"line\":6,\"message\":\"inf\",\"fingerprint\":\"fpi\",\"fails\":true}"),
		/* Without the member (an older agent): warning fails. */
		evfix("st", 5, "{\"type\":\"finding\",\"tool\":\"phpmd\",\"rule\":\"O\",\"severity\":\"warning\","
		               "\"file\":\"a.php\",\"line\":7,\"message\":\"old\",\"fingerprint\":\"fpo\"}"),
	};
	(void)state;
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(stream_add(s, ev[i], STREAM_FROM_HTTPS, err, sizeof err), 1);
		json_decref(ev[i]);
	}
	report_judge(&r, s, &a, 0, false, 1, "lint");
	doc = document(s, &r);
	cpd = strstr(doc, "<testsuite name=\"phpcpd\"");
	assert_non_null(cpd);
	assert_non_null(strstr(cpd, "tests=\"1\" failures=\"0\""));
	end = strstr(cpd, "</testsuite>");
	assert_non_null(end);
	assert_null(memmem(cpd, (size_t)(end - cpd), "<failure", 8));
	assert_non_null(strstr(cpd, "<system-out>warning duplication at a.php:3: dup</system-out>"));
	cs = strstr(doc, "<testsuite name=\"phpcs\"");
	assert_non_null(cs);
	assert_non_null(strstr(cs, "tests=\"3\" failures=\"2\""));
	assert_non_null(strstr(cs, "<system-out>warning W at a.php:4: warn</system-out>"));
	assert_non_null(strstr(cs, "<failure message=\"err\" type=\"error\">"));
	assert_non_null(strstr(cs, "<failure message=\"inf\" type=\"info\">"));
	assert_non_null(strstr(doc, "<failure message=\"old\" type=\"warning\">"));
	/* 2 phpcs + 1 phpmd findings, and the incomplete stream (no end event). */
	assert_int_equal(count(doc, "<failure"), 3 + 1);
	free(doc);
	stream_free(s);
}

static void put(struct stream *s, json_t *ev)
{
	char err[200];
	assert_int_equal(stream_add(s, ev, STREAM_FROM_HTTPS, err, sizeof err), 1);
	json_decref(ev);
}

/* A failing stage whose only problem is its failed tests: the document's counts are the
 * tool's own, with no case for the stage and no stagevisor suite. An unexplained failed
 * process adds exactly one case, with its last output lines. */
static void counts_are_the_tools_own(void **state)
{
	for (int explained = 1; explained >= 0; explained--) {
		struct stream *s = stream_new("st", NULL, 0);
		struct report r;
		struct report_agent a = {.started = true, .exited = true, .exit_code = explained ? 1 : 2};
		char ended[600], *doc;
		(void)state;
		put(s, evfix_test("st", 1, "t1", "passed"));
		put(s, evfix_test("st", 2, "t2", "failed"));
		put(s, evfix_test("st", 3, "t3", "error"));
		put(s, evfix_test("st", 4, "t4", "skipped"));
		put(s, evfix("st", 5, "{\"type\":\"process\",\"event\":\"failed\",\"process\":\"phpunit\","
		                      "\"reason\":\"exited with status 2\",\"last_lines\":[\"PHP Fatal error: <boom>\"]}"));
		snprintf(ended, sizeof ended,
		         "{\"type\":\"stage\",\"event\":\"ended\",\"stage\":\"unit\",\"mode\":\"job\",\"result\":%d,"
		         "\"processes\":[{\"process\":\"phpunit\",\"status\":2,\"explained\":%s}]}",
		         explained ? 1 : 2, explained ? "true" : "false");
		put(s, evfix("st", 6, ended));
		put(s, evfix("st", 7, explained ?
		             "{\"type\":\"end\",\"result\":1,\"totals\":{\"events\":6,\"tests\":{\"passed\":1,\"failed\":1,"
		             "\"error\":1,\"skipped\":1},\"findings\":{\"error\":0,\"warning\":0,\"info\":0},"
		             "\"metrics\":0,\"logs\":0,\"shed\":{\"log\":0}}}" :
		             "{\"type\":\"end\",\"result\":2,\"totals\":{\"events\":6,\"tests\":{\"passed\":1,\"failed\":1,"
		             "\"error\":1,\"skipped\":1},\"findings\":{\"error\":0,\"warning\":0,\"info\":0},"
		             "\"metrics\":0,\"logs\":0,\"shed\":{\"log\":0}}}"));
		report_judge(&r, s, &a, 0, false, 1, "unit");
		assert_true(r.complete);
		assert_int_equal(r.exit_code, REPORT_FAILED);
		doc = document(s, &r);
		if (explained) {
			assert_non_null(strstr(doc, "<testsuites name=\"unit\" tests=\"4\" failures=\"1\" errors=\"1\" skipped=\"1\""));
			assert_int_equal(count(doc, "<testsuite "), 1);
			assert_null(strstr(doc, "stagevisor"));
		} else {
			assert_non_null(strstr(doc, "<testsuites name=\"unit\" tests=\"5\" failures=\"2\" errors=\"1\" skipped=\"1\""));
			assert_non_null(strstr(doc, "<testsuite name=\"stagevisor\" tests=\"1\" failures=\"1\""));
			assert_non_null(strstr(doc, "name=\"process phpunit\" classname=\"stagevisor.infrastructure\""));
			assert_non_null(strstr(doc, "last output lines:&#10;PHP Fatal error: &lt;boom&gt;</failure>"));
		}
		free(doc);
		stream_free(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(escapes_markup),
		cmocka_unit_test(drops_invalid_xml_chars),
		cmocka_unit_test(groups_tests_findings_and_infra),
		cmocka_unit_test(findings_fail_only_when_marked),
		cmocka_unit_test(counts_are_the_tools_own),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
