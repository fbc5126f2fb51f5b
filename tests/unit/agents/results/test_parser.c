/*
 * Unit tests of agents/results/parser.c and its formats (xmlreport.c, teamcity.c,
 * jsonreport.c): every format on small hand-made reports, the edge cases of issue 3
 * (nested suites, no classname, CDATA, entities, non-UTF-8 bytes, empty and truncated
 * files, a 10 MB failure message), expat's protections, and chunking: feeding a report
 * one byte at a time gives the same events as feeding it at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "boundtext.h"
#include "collect.h"
#include "parser.h"

static const char PHPUNIT_JUNIT[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<testsuites>\n"
	"  <testsuite name=\"\" tests=\"4\">\n"
	"    <testsuite name=\"Ns\\CartTest\" file=\"/src/tests/CartTest.php\">\n"
	"      <testcase name=\"testOk\" class=\"Ns\\CartTest\" classname=\"Ns.CartTest\" file=\"/src/tests/CartTest.php\" line=\"12\" time=\"0.25\"/>\n"
	"      <testcase name=\"testFail\" class=\"Ns\\CartTest\" classname=\"Ns.CartTest\" file=\"/src/tests/CartTest.php\" line=\"20\" time=\"0.5\">\n"
	"        <failure type=\"PHPUnit\\Framework\\ExpectationFailedException\">Ns\\CartTest::testFail\n"
	"total &lt;wrong&gt; &amp; &quot;bad&quot;\nFailed asserting that 1 is identical to 2.\n\n/src/tests/CartTest.php:22</failure>\n"
	"      </testcase>\n"
	"      <testsuite name=\"Ns\\CartTest::testData\">\n"
	"        <testcase name=\"testData with data set #0\" class=\"Ns\\CartTest\" line=\"30\" time=\"0.1\">\n"
	"          <error type=\"RuntimeException\">Ns\\CartTest::testData with data set #0 (1)\nRuntimeException: boom\n\n/src/x.php:3</error>\n"
	"        </testcase>\n"
	"      </testsuite>\n"
	"      <testcase name=\"testSkip\" class=\"Ns\\CartTest\" time=\"0\"><skipped/></testcase>\n"
	"    </testsuite>\n"
	"  </testsuite>\n"
	"</testsuites>\n";

static void junit_phpunit(void **state)
{
	json_t *ev;
	struct rs_error err;

	(void)state;
	assert_int_equal(collect_parse("junit", PHPUNIT_JUNIT, strlen(PHPUNIT_JUNIT), 0, NULL, &ev, &err), 0);
	assert_int_equal(json_array_size(ev), 4);
	assert_string_equal(ev_str(ev, 0, "type"), "test");
	assert_string_equal(ev_str(ev, 0, "status"), "passed");
	assert_string_equal(ev_str(ev, 0, "suite"), "Ns\\CartTest");
	assert_string_equal(ev_str(ev, 0, "class"), "Ns\\CartTest");
	assert_string_equal(ev_str(ev, 0, "file"), "/src/tests/CartTest.php");
	assert_string_equal(ev_str(ev, 0, "source"), "report.xml");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(ev, 0), "line")), 12);
	assert_true(json_real_value(json_object_get(json_array_get(ev, 0), "time")) == 0.25);
	assert_string_equal(ev_str(ev, 1, "status"), "failed");
	/* The message is the first paragraph without PHPUnit's "Class::test" line. */
	assert_string_equal(ev_str(ev, 1, "message"),
			    "total <wrong> & \"bad\"\nFailed asserting that 1 is identical to 2.");
	assert_non_null(strstr(ev_str(ev, 1, "details"), "/src/tests/CartTest.php:22"));
	assert_string_equal(ev_str(ev, 2, "status"), "error");
	assert_string_equal(ev_str(ev, 2, "suite"), "Ns\\CartTest::testData"); /* innermost suite */
	assert_string_equal(ev_str(ev, 2, "message"), "RuntimeException: boom");
	assert_string_equal(ev_str(ev, 3, "status"), "skipped");
	assert_null(json_object_get(json_array_get(ev, 3), "line"));
	json_decref(ev);
}

static void junit_chunking_gives_same_events(void **state)
{
	json_t *whole, *bytes, *sevens;
	struct rs_error err;

	(void)state;
	assert_int_equal(collect_parse("junit", PHPUNIT_JUNIT, strlen(PHPUNIT_JUNIT), 0, NULL, &whole, &err), 0);
	assert_int_equal(collect_parse("junit", PHPUNIT_JUNIT, strlen(PHPUNIT_JUNIT), 1, NULL, &bytes, &err), 0);
	assert_int_equal(collect_parse("junit", PHPUNIT_JUNIT, strlen(PHPUNIT_JUNIT), 7, NULL, &sevens, &err), 0);
	assert_true(json_equal(whole, bytes));
	assert_true(json_equal(whole, sevens));
	json_decref(whole);
	json_decref(bytes);
	json_decref(sevens);
}

static void junit_surefire_no_classname_cdata(void **state)
{
	const char *x = "<testsuite name=\"com.example.AppTest\" tests=\"2\">"
			"<testcase name=\"bare\"/>"
			"<testcase name=\"withCdata\" classname=\"com.example.AppTest\" time=\"1,234.5\">"
			"<failure message=\"expected: &lt;1&gt;\" type=\"AssertionError\"><![CDATA[at <App>.java:1 & more]]></failure>"
			"<system-out>noise</system-out></testcase></testsuite>";
	json_t *ev;
	struct rs_error err;

	(void)state;
	assert_int_equal(collect_parse("junit", x, strlen(x), 0, NULL, &ev, &err), 0);
	assert_int_equal(json_array_size(ev), 2);
	/* No classname: the suite stands for the class. */
	assert_string_equal(ev_str(ev, 0, "class"), "com.example.AppTest");
	assert_string_equal(ev_str(ev, 0, "name"), "bare");
	assert_string_equal(ev_str(ev, 1, "message"), "expected: <1>");
	assert_string_equal(ev_str(ev, 1, "details"), "at <App>.java:1 & more");
	assert_true(json_real_value(json_object_get(json_array_get(ev, 1), "time")) == 1234.5);
	json_decref(ev);
}

static void junit_internal_entities_expand(void **state)
{
	const char *x = "<?xml version=\"1.0\"?><!DOCTYPE t [<!ENTITY who \"world\">]>"
			"<testsuite name=\"s\"><testcase name=\"hello &who;&#x21;\"/></testsuite>";
	json_t *ev;
	struct rs_error err;

	(void)state;
	assert_int_equal(collect_parse("junit", x, strlen(x), 0, NULL, &ev, &err), 0);
	assert_string_equal(ev_str(ev, 0, "name"), "hello world!");
	json_decref(ev);
}

static void junit_billion_laughs_is_refused(void **state)
{
	char x[4096];
	size_t o = 0;
	json_t *ev;
	struct rs_error err;

	(void)state;
	o += (size_t)snprintf(x + o, sizeof(x) - o, "<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY l0 \"lollollollollol\">");
	for (int i = 1; i < 10; i++)
		o += (size_t)snprintf(x + o, sizeof(x) - o,
				      "<!ENTITY l%d \"&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;\">", i, i - 1,
				      i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
	snprintf(x + o, sizeof(x) - o, "]><testsuite><testcase name=\"&l9;\"/></testsuite>");
	assert_int_equal(collect_parse("junit", x, strlen(x), 0, NULL, &ev, &err), -1);
	assert_int_equal(json_array_size(ev), 0);
	assert_non_null(strstr(err.text, "amplification"));
	json_decref(ev);
}

static void junit_external_entity_is_not_loaded(void **state)
{
	const char *x = "<?xml version=\"1.0\"?><!DOCTYPE t [<!ENTITY ext SYSTEM \"file:///etc/passwd\">]>"
			"<testsuite><testcase name=\"a&ext;b\"/></testsuite>";
	json_t *ev;
	struct rs_error err;

	(void)state;
	/* expat skips (does not load) the external entity; the name has no file content. */
	if (collect_parse("junit", x, strlen(x), 0, NULL, &ev, &err) == 0) {
		assert_int_equal(json_array_size(ev), 1);
		assert_null(strstr(ev_str(ev, 0, "name"), "root:"));
	}
	json_decref(ev);
}

static void junit_invalid_utf8_is_repaired(void **state)
{
	const char x[] = "<testsuite name=\"s\"><testcase name=\"caf\xE9 \xFF ok\xC3\xA9\">"
			 "<failure>bad \xC3 split \x01 ctrl</failure></testcase></testsuite>";
	json_t *ev;
	struct rs_error err;

	(void)state;
	/* Whole and byte by byte: a broken sequence split across feeds is repaired the same. */
	for (size_t chunk = 0; chunk <= 1; chunk++) {
		assert_int_equal(collect_parse("junit", x, sizeof(x) - 1, chunk, NULL, &ev, &err), 0);
		assert_string_equal(ev_str(ev, 0, "name"), "caf\xEF\xBF\xBD \xEF\xBF\xBD ok\xC3\xA9");
		assert_string_equal(ev_str(ev, 0, "details"), "bad \xEF\xBF\xBD split \xEF\xBF\xBD ctrl");
		json_decref(ev);
	}
}

static void junit_latin1_declared_is_converted(void **state)
{
	const char x[] = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><testsuite><testcase name=\"caf\xE9\"/></testsuite>";
	json_t *ev;
	struct rs_error err;

	(void)state;
	assert_int_equal(collect_parse("junit", x, sizeof(x) - 1, 0, NULL, &ev, &err), 0);
	assert_string_equal(ev_str(ev, 0, "name"), "caf\xC3\xA9");
	json_decref(ev);
}

/* Issue 7: the encodings tools write (Java without a locale, Windows build agents). */
static void junit_declared_encodings_come_out_as_utf8(void **state)
{
	static const struct {
		const char *enc;
		const char *name;  /* "café" (and "€ 5" where the charset has the euro) in enc */
		const char *want;  /* in UTF-8 */
	} cases[] = {
		{"Cp1252", "caf\xE9 \x80 5", "caf\xC3\xA9 \xE2\x82\xAC 5"},
		{"windows-1252", "caf\xE9 \x80 5", "caf\xC3\xA9 \xE2\x82\xAC 5"},
		{"ISO-8859-15", "caf\xE9 \xA4 5", "caf\xC3\xA9 \xE2\x82\xAC 5"},
		{"ISO8859_15", "caf\xE9 \xA4 5", "caf\xC3\xA9 \xE2\x82\xAC 5"},
		{"MacRoman", "caf\x8E \xDB 5", "caf\xC3\xA9 \xE2\x82\xAC 5"},
		{"x-MacRoman", "caf\x8E", "caf\xC3\xA9"},
		{"Cp1250", "caf\xE9 \x80 5", "caf\xC3\xA9 \xE2\x82\xAC 5"},
		{"KOI8-R", "\xCB\xC1\xC6\xC5", "\xD0\xBA\xD0\xB0\xD1\x84\xD0\xB5"}, /* кафе */
		{"ANSI_X3.4-1968", "caf&#233;", "caf\xC3\xA9"},
		{"US-ASCII", "caf&#xE9;", "caf\xC3\xA9"},
		{"UTF8", "caf\xC3\xA9", "caf\xC3\xA9"},
		{"Shift_JIS", "\x82\xA0\xB1", "\xE3\x81\x82\xEF\xBD\xB1"},
		{"EUC-JP", "\xA4\xA2", "\xE3\x81\x82"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char x[512];
		int n = snprintf(x, sizeof(x),
				 "<?xml version=\"1.0\" encoding=\"%s\"?>\n<testsuite name=\"%s\"><testcase "
				 "name=\"%s\" classname=\"C\"><failure message=\"%s\">%s</failure></testcase></testsuite>",
				 cases[i].enc, cases[i].name, cases[i].name, cases[i].name, cases[i].name);
		json_t *whole, *bytes;
		struct rs_error err;

		if (collect_parse("junit", x, (size_t)n, 0, NULL, &whole, &err) != 0)
			fail_msg("%s: %s", cases[i].enc, err.text);
		assert_int_equal(json_array_size(whole), 1);
		assert_string_equal(ev_str(whole, 0, "name"), cases[i].want);
		assert_string_equal(ev_str(whole, 0, "suite"), cases[i].want);
		assert_string_equal(ev_str(whole, 0, "message"), cases[i].want);
		assert_string_equal(ev_str(whole, 0, "details"), cases[i].want);
		/* One byte at a time: the declaration and every character cut across feeds. */
		assert_int_equal(collect_parse("junit", x, (size_t)n, 1, NULL, &bytes, &err), 0);
		assert_true(json_equal(whole, bytes));
		json_decref(whole);
		json_decref(bytes);
	}
}

/* "ANSI_X3.4-1968" is read as UTF-8 (ASCII's superset): a tool that declared ASCII and
 * wrote UTF-8 anyway keeps its text, a stray byte becomes U+FFFD like in UTF-8 reports. */
static void junit_ascii_declared_with_non_ascii_bytes(void **state)
{
	const char x[] = "<?xml version=\"1.0\" encoding=\"ANSI_X3.4-1968\"?><testsuite>"
			 "<testcase name=\"caf\xC3\xA9\"/><testcase name=\"caf\xE9\"/></testsuite>";
	json_t *ev;
	struct rs_error err;

	(void)state;
	assert_int_equal(collect_parse("junit", x, sizeof(x) - 1, 0, NULL, &ev, &err), 0);
	assert_string_equal(ev_str(ev, 0, "name"), "caf\xC3\xA9");
	assert_string_equal(ev_str(ev, 1, "name"), "caf\xEF\xBF\xBD");
	json_decref(ev);
}

static void unsupported_encoding_is_named(const char *doc, size_t len, const char *format, unsigned long line,
					  unsigned long column, const char *text)
{
	json_t *ev;
	struct rs_error err;
	char buf[1200];

	assert_int_equal(collect_parse(format, doc, len, 0, NULL, &ev, &err), -1);
	assert_int_equal(json_array_size(ev), 0);
	if (err.line != line || err.column != column || !strstr(err.text, text))
		fail_msg("got \"%s\", want %lu:%lu and \"%s\"", rs_error_format(&err, buf, sizeof(buf)), line,
			 column, text);
	json_decref(ev);
	/* The same error one byte at a time. */
	assert_int_equal(collect_parse(format, doc, len, 1, NULL, &ev, &err), -1);
	assert_true(err.line == line && err.column == column && strstr(err.text, text));
	json_decref(ev);
}

static void unsupported_encodings_are_errors_naming_them(void **state)
{
	static const char foo[] = "<?xml version=\"1.0\" encoding=\"X-FOO\"?><testsuite/>";
	static const char gb[] = "<?xml version=\"1.0\"\n   encoding='GB18030'?><checkstyle/>";
	static const char jis[] = "<?xml version=\"1.0\" encoding=\"ISO-2022-JP\"?><pmd/>";
	static const char ebcdic[] = "<?xml version=\"1.0\" encoding=\"IBM037\"?><pmd-cpd/>";
	/* UTF-16LE text declaring a single-byte encoding: contradictory. */
	static const char u16[] = "<\0?\0x\0m\0l\0 \0v\0e\0r\0s\0i\0o\0n\0=\0\"\0001\0.\0000\0\"\0 \0e\0n\0c\0o\0d\0i\0n\0g\0="
				  "\0\"\0C\0p\0001\0002\0005\0002\0\"\0?\0>\0<\0a\0/\0>\0";
	char big[200];

	(void)state;
	unsupported_encoding_is_named(foo, sizeof(foo) - 1, "junit", 1, 31,
				      "unsupported encoding \"X-FOO\": unknown to iconv");
	unsupported_encoding_is_named(gb, sizeof(gb) - 1, "checkstyle", 2, 14,
				      "unsupported encoding \"GB18030\": a character starting with byte 0x81");
	unsupported_encoding_is_named(jis, sizeof(jis) - 1, "pmd", 1, 31,
				      "unsupported encoding \"ISO-2022-JP\": it uses shift sequences");
	unsupported_encoding_is_named(ebcdic, sizeof(ebcdic) - 1, "pmd-cpd", 1, 31,
				      "unsupported encoding \"IBM037\": byte 0x3C is not '<'");
	unsupported_encoding_is_named(u16, sizeof(u16) - 1, "junit", 1, 1,
				      "unsupported encoding \"Cp1252\": declared in a UTF-16 document");
	snprintf(big, sizeof(big), "<?xml version=\"1.0\" encoding=\"%080d\"?><a/>", 0);
	big[31] = 'A'; /* a valid name of 80 characters */
	unsupported_encoding_is_named(big, strlen(big), "junit", 1, 31, "name longer than 64 characters");
}

/* Checkstyle, pmd and pmd-cpd go through the same driver: one report each. */
static void other_xml_formats_in_declared_encodings(void **state)
{
	const char cs[] = "<?xml version=\"1.0\" encoding=\"windows-1250\"?><checkstyle version=\"3\">"
			  "<file name=\"/app/\xDA\xE8\x65t.php\"><error line=\"1\" severity=\"error\" "
			  "message=\"Prom\xECnn\xE1\" source=\"X.Y\"/></file></checkstyle>";
	const char pmd[] = "<?xml version=\"1.0\" encoding=\"KOI8-R\"?><pmd><file name=\"/app/a.php\">"
			   "<violation beginline=\"1\" rule=\"R\" priority=\"1\">\xF3\xFE\xB3\xF4</violation></file></pmd>";
	const char cpd[] = "<?xml version=\"1.0\" encoding=\"ANSI_X3.4-1968\"?><pmd-cpd>"
			   "<duplication lines=\"2\" tokens=\"9\"><file path=\"/app/caf&#233;.php\" line=\"3\"/>"
			   "<file path=\"/app/b.php\" line=\"4\"/><codefragment>x</codefragment></duplication></pmd-cpd>";
	json_t *ev;
	struct rs_error err;

	(void)state;
	assert_int_equal(collect_parse("checkstyle", cs, sizeof(cs) - 1, 0, NULL, &ev, &err), 0);
	assert_string_equal(ev_str(ev, 0, "file"), "/app/\xC3\x9A\xC4\x8D" "et.php"); /* Účet */
	assert_string_equal(ev_str(ev, 0, "message"), "Prom\xC4\x9Bnn\xC3\xA1");    /* Proměnná */
	json_decref(ev);
	assert_int_equal(collect_parse("pmd", pmd, sizeof(pmd) - 1, 0, NULL, &ev, &err), 0);
	assert_string_equal(ev_str(ev, 0, "message"), "\xD0\xA1\xD0\xA7\xD0\x81\xD0\xA2"); /* СЧЁТ */
	json_decref(ev);
	assert_int_equal(collect_parse("pmd-cpd", cpd, sizeof(cpd) - 1, 0, NULL, &ev, &err), 0);
	assert_string_equal(ev_str(ev, 0, "file"), "/app/caf\xC3\xA9.php");
	json_decref(ev);
}

static void junit_empty_file_is_an_error(void **state)
{
	json_t *ev;
	struct rs_error err;

	(void)state;
	assert_int_equal(collect_parse("junit", "", 0, 0, NULL, &ev, &err), -1);
	assert_string_equal(err.file, "report.xml");
	assert_int_equal(err.line, 1);
	assert_non_null(strstr(err.text, "no element found"));
	json_decref(ev);
}

static void junit_truncated_file_reports_position_and_finished_tests(void **state)
{
	size_t cut = (size_t)(strstr(PHPUNIT_JUNIT, "<testsuite name=\"Ns\\CartTest::testData\">") - PHPUNIT_JUNIT) + 10;
	json_t *ev;
	struct rs_error err;

	(void)state;
	assert_int_equal(collect_parse("junit", PHPUNIT_JUNIT, cut, 0, NULL, &ev, &err), -1);
	/* The tests that were complete were reported before the error. */
	assert_int_equal(json_array_size(ev), 2);
	unsigned long line = 1;

	for (size_t i = 0; i < cut; i++)
		line += PHPUNIT_JUNIT[i] == '\n';
	assert_int_equal(err.line, line);
	assert_true(err.column > 0);
	json_decref(ev);
}

static void junit_wrong_root_is_an_error(void **state)
{
	const char *x = "<checkstyle><file name=\"a\"/></checkstyle>";
	json_t *ev;
	struct rs_error err;

	(void)state;
	assert_int_equal(collect_parse("junit", x, strlen(x), 0, NULL, &ev, &err), -1);
	assert_non_null(strstr(err.text, "checkstyle"));
	assert_int_equal(err.line, 1);
	json_decref(ev);
}

static void junit_huge_failure_message_is_cut_with_marker(void **state)
{
	const size_t big = 10u * 1024u * 1024u;
	const char *head = "<testsuite name=\"s\"><testcase name=\"t\" class=\"C\"><failure>";
	const char *tail = "</failure></testcase></testsuite>";
	size_t hl = strlen(head), tl = strlen(tail);
	char *x = malloc(hl + big + tl);
	json_t *ev;
	struct rs_error err;
	char marker[64];
	const char *details;

	(void)state;
	assert_non_null(x);
	memcpy(x, head, hl);
	memset(x + hl, 'a', big);
	memcpy(x + hl + big, tail, tl);
	assert_int_equal(collect_parse("junit", x, hl + big + tl, 65536, NULL, &ev, &err), 0);
	details = ev_str(ev, 0, "details");
	snprintf(marker, sizeof(marker), " [\xE2\x80\xA6 %zu bytes cut]", big - RS_LIMITS_DEFAULT_TEXT);
	assert_int_equal(strlen(details), RS_LIMITS_DEFAULT_TEXT + strlen(marker));
	assert_string_equal(details + RS_LIMITS_DEFAULT_TEXT, marker);
	/* The message (first paragraph) is bounded the same way. */
	assert_true(strlen(ev_str(ev, 0, "message")) <= RS_LIMITS_DEFAULT_TEXT + 64);
	json_decref(ev);
	free(x);
}

static void events_fit_the_protocol_bound(void **state)
{
	const size_t big = 200000;
	const char *head = "<testsuite name=\"s\"><testcase name=\"t\" class=\"C\"><failure message=\"";
	const char *mid = "\">";
	const char *tail = "</failure></testcase></testsuite>";
	size_t hl = strlen(head), ml = strlen(mid), tl = strlen(tail), o = 0;
	char *x = malloc(hl + 2 * big + ml + tl);
	json_t *ev;
	struct rs_error err;
	char *enc;

	(void)state;
	assert_non_null(x);
	memcpy(x + o, head, hl), o += hl;
	memset(x + o, 'm', big), o += big;
	memcpy(x + o, mid, ml), o += ml;
	/* Newlines double in JSON: the worst case for the size. */
	memset(x + o, '\n', big), o += big;
	memcpy(x + o, tail, tl), o += tl;
	assert_int_equal(collect_parse("junit", x, o, 4096, NULL, &ev, &err), 0);
	enc = json_dumps(json_array_get(ev, 0), JSON_COMPACT);
	assert_true(strlen(enc) <= RS_LIMITS_DEFAULT_EVENT);
	assert_true(strlen(enc) > RS_LIMITS_DEFAULT_EVENT / 2);
	/* Both texts still end with a marker that counts all that was cut. */
	assert_non_null(strstr(ev_str(ev, 0, "details"), " bytes cut]"));
	assert_non_null(strstr(ev_str(ev, 0, "message"), " bytes cut]"));
	{
		const char *d = ev_str(ev, 0, "details");
		const char *m = strstr(d, " [\xE2\x80\xA6 ");
		size_t kept = (size_t)(m - d), cut = strtoull(m + 6, NULL, 10);

		assert_int_equal(kept + cut, big);
	}
	free(enc);
	json_decref(ev);
	free(x);
}

static void junit_huge_tag_is_an_error(void **state)
{
	struct rs_limits lim = {.max_token = 1024};
	char x[8192];
	json_t *ev;
	struct rs_error err;

	(void)state;
	memset(x, 'a', sizeof(x));
	memcpy(x, "<testsuite><testcase name=\"", 27);
	assert_int_equal(collect_parse("junit", x, sizeof(x), 100, &lim, &ev, &err), -1);
	assert_non_null(strstr(err.text, "longer than 1024 bytes"));
	json_decref(ev);
}

static void junit_big_text_is_not_a_big_token(void **state)
{
	struct rs_limits lim = {.max_token = 1024};
	const size_t big = 1024 * 1024;
	const char *head = "<testsuite name=\"s\"><system-out>";
	const char *tail = "</system-out><testcase name=\"t\"><system-err>";
	const char *end = "</system-err></testcase></testsuite>";
	size_t hl = strlen(head), tl = strlen(tail), el = strlen(end), o = 0;
	char *x = malloc(hl + tl + el + 2 * big);
	json_t *ev;
	struct rs_error err;

	(void)state;
	assert_non_null(x);
	memcpy(x + o, head, hl), o += hl;
	memset(x + o, 'o', big), o += big;
	memcpy(x + o, tail, tl), o += tl;
	memset(x + o, 'e', big), o += big;
	memcpy(x + o, end, el), o += el;
	/* Text is streamed by expat, not held: only tags count against max_token. */
	assert_int_equal(collect_parse("junit", x, o, 4096, &lim, &ev, &err), 0);
	assert_int_equal(json_array_size(ev), 1);
	assert_string_equal(ev_str(ev, 0, "status"), "passed");
	json_decref(ev);
	free(x);
}

static void junit_deep_nesting_is_bounded(void **state)
{
	struct rs_limits lim = {.max_depth = 50};
	char x[2048] = "";
	json_t *ev;
	struct rs_error err;

	(void)state;
	for (int i = 0; i < 60; i++)
		strcat(x, "<testsuite>");
	assert_int_equal(collect_parse("junit", x, strlen(x), 0, &lim, &ev, &err), -1);
	assert_non_null(strstr(err.text, "nested too deeply"));
	json_decref(ev);
}

static const char TEAMCITY[] =
	"PHPUnit 9.6.7 by Sebastian Bergmann and contributors.\n"
	"##teamcity[testCount count='3' flowId='1']\n"
	"##teamcity[testSuiteStarted name='Ns|\\CartTest' flowId='1']\n"
	"##teamcity[testStarted name='testOk' locationHint='php_qn:///src/CartTest.php::\\Ns\\CartTest::testOk' flowId='1']\n"
	"##teamcity[testFinished name='testOk' duration='250' flowId='1']\n"
	"##teamcity[testStarted name='test|'quoted|' |[x|]' flowId='1']\n"
	"##teamcity[testFailed name='test|'quoted|' |[x|]' message='line1|nline2 |||| pipe |0x00e9' details=' /src/CartTest.php:9|n ' flowId='1']\n"
	"##teamcity[testFinished name='test|'quoted|' |[x|]' duration='3' flowId='1']\n"
	"noise ##teamcity[testIgnored name='testSkip' message='later' flowId='1']\n"
	"##teamcity[testFinished name='testSkip' duration='0' flowId='1']\n"
	"##teamcity[testStarted name='testHangs' flowId='1']\n";

static void teamcity_messages(void **state)
{
	json_t *ev;
	struct rs_error err;

	(void)state;
	assert_int_equal(collect_parse("teamcity", TEAMCITY, strlen(TEAMCITY), 0, NULL, &ev, &err), 0);
	assert_int_equal(json_array_size(ev), 4);
	assert_string_equal(ev_str(ev, 0, "name"), "testOk");
	assert_string_equal(ev_str(ev, 0, "class"), "Ns\\CartTest");
	assert_string_equal(ev_str(ev, 0, "file"), "/src/CartTest.php");
	assert_string_equal(ev_str(ev, 0, "suite"), "Ns\\CartTest");
	assert_true(json_real_value(json_object_get(json_array_get(ev, 0), "time")) == 0.25);
	assert_string_equal(ev_str(ev, 1, "name"), "test'quoted' [x]");
	assert_string_equal(ev_str(ev, 1, "status"), "failed");
	assert_string_equal(ev_str(ev, 1, "message"), "line1\nline2 || pipe \xC3\xA9");
	assert_string_equal(ev_str(ev, 2, "status"), "skipped");
	assert_string_equal(ev_str(ev, 2, "message"), "later");
	/* Started, never finished: reported as an error at the end, not lost. */
	assert_string_equal(ev_str(ev, 3, "name"), "testHangs");
	assert_string_equal(ev_str(ev, 3, "status"), "error");
	json_decref(ev);
}

static void teamcity_chunking_gives_same_events(void **state)
{
	json_t *whole, *bytes;
	struct rs_error err;

	(void)state;
	assert_int_equal(collect_parse("teamcity", TEAMCITY, strlen(TEAMCITY), 0, NULL, &whole, &err), 0);
	assert_int_equal(collect_parse("teamcity", TEAMCITY, strlen(TEAMCITY), 1, NULL, &bytes, &err), 0);
	assert_true(json_equal(whole, bytes));
	json_decref(whole);
	json_decref(bytes);
}

static void teamcity_long_line_is_cut_with_marker(void **state)
{
	struct rs_limits lim = {.max_token = 200, .max_text = 64};
	char x[4096];
	json_t *ev;
	struct rs_error err;
	int n;

	(void)state;
	n = snprintf(x, sizeof(x), "##teamcity[testStarted name='t']\n##teamcity[testFailed name='t' message='");
	memset(x + n, 'm', 1000);
	n += 1000;
	n += snprintf(x + n, sizeof(x) - (size_t)n, "']\n##teamcity[testFinished name='t']\n");
	assert_int_equal(collect_parse("teamcity", x, (size_t)n, 0, &lim, &ev, &err), 0);
	assert_int_equal(json_array_size(ev), 1);
	assert_string_equal(ev_str(ev, 0, "status"), "failed");
	assert_non_null(strstr(ev_str(ev, 0, "message"), "bytes cut]"));
	assert_true(strlen(ev_str(ev, 0, "message")) < 100);
	json_decref(ev);
}

static void checkstyle_phpcs_and_phpmd(void **state)
{
	const char *phpcs = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<checkstyle version=\"3.7.1\">\n"
			    "<file name=\"/src/A.php\">\n"
			    " <error line=\"3\" column=\"5\" severity=\"error\" message=\"Bad &amp; ugly\" source=\"Squiz.A.B.C\"/>\n"
			    " <error line=\"4\" column=\"1\" severity=\"warning\" message=\"Too long\" source=\"Generic.Files.LineLength.TooLong\"/>\n"
			    "</file>\n<file name=\"/src/B.php\">\n"
			    " <error line=\"1\" column=\"1\" severity=\"info\" message=\"Hmm\" source=\"X.Y.Z.W\"/>\n"
			    "</file>\n</checkstyle>\n";
	const char *phpmd = "<checkstyle><file name=\"/src/A.php\">"
			    "<error line=\"37\" endline=\"37\" severity=\"info\" message=\"Avoid unused local variables such as '$u'. (UnusedLocalVariable, Unused Code Rules) \"/>"
			    "</file></checkstyle>";
	json_t *ev;
	struct rs_error err;

	(void)state;
	assert_int_equal(collect_parse("checkstyle", phpcs, strlen(phpcs), 0, NULL, &ev, &err), 0);
	assert_int_equal(json_array_size(ev), 3);
	assert_string_equal(ev_str(ev, 0, "type"), "finding");
	assert_string_equal(ev_str(ev, 0, "tool"), "phpcs");
	assert_string_equal(ev_str(ev, 0, "rule"), "Squiz.A.B.C");
	assert_string_equal(ev_str(ev, 0, "severity"), "error");
	assert_string_equal(ev_str(ev, 0, "message"), "Bad & ugly");
	assert_string_equal(ev_str(ev, 0, "file"), "/src/A.php");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(ev, 0), "column")), 5);
	assert_string_equal(ev_str(ev, 1, "severity"), "warning");
	assert_string_equal(ev_str(ev, 2, "severity"), "info");
	assert_string_equal(ev_str(ev, 2, "file"), "/src/B.php");
	assert_non_null(strstr(ev_str(ev, 0, "fingerprint"), "fp1:"));
	assert_string_not_equal(ev_str(ev, 0, "fingerprint"), ev_str(ev, 1, "fingerprint"));
	json_decref(ev);

	assert_int_equal(collect_parse("checkstyle", phpmd, strlen(phpmd), 0, NULL, &ev, &err), 0);
	assert_string_equal(ev_str(ev, 0, "tool"), "phpmd");
	assert_string_equal(ev_str(ev, 0, "rule"), "UnusedLocalVariable");
	assert_string_equal(ev_str(ev, 0, "message"), "Avoid unused local variables such as '$u'.");
	json_decref(ev);
}

static void checkstyle_identical_findings_get_distinct_fingerprints(void **state)
{
	const char *x = "<checkstyle version=\"1\"><file name=\"a.php\">"
			"<error line=\"3\" severity=\"error\" message=\"Same\" source=\"R.u.l.e\"/>"
			"<error line=\"9\" severity=\"error\" message=\"Same\" source=\"R.u.l.e\"/>"
			"</file></checkstyle>";
	const char *moved = "<checkstyle version=\"1\"><file name=\"a.php\">"
			    "<error line=\"13\" severity=\"error\" message=\"Same\" source=\"R.u.l.e\"/>"
			    "<error line=\"19\" severity=\"error\" message=\"Same\" source=\"R.u.l.e\"/>"
			    "</file></checkstyle>";
	json_t *ev, *ev2;
	struct rs_error err;

	(void)state;
	assert_int_equal(collect_parse("checkstyle", x, strlen(x), 0, NULL, &ev, &err), 0);
	assert_int_equal(collect_parse("checkstyle", moved, strlen(moved), 0, NULL, &ev2, &err), 0);
	assert_string_not_equal(ev_str(ev, 0, "fingerprint"), ev_str(ev, 1, "fingerprint"));
	/* Moved down by 10 lines (no source to read): same fingerprints. */
	assert_string_equal(ev_str(ev, 0, "fingerprint"), ev_str(ev2, 0, "fingerprint"));
	assert_string_equal(ev_str(ev, 1, "fingerprint"), ev_str(ev2, 1, "fingerprint"));
	json_decref(ev);
	json_decref(ev2);
}

static void pmd_violations(void **state)
{
	const char *x = "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<pmd version=\"@package_version@\">\n"
			"<file name=\"/src/Cart.php\">\n"
			"<violation beginline=\"22\" endline=\"24\" rule=\"ElseExpression\" ruleset=\"Clean Code Rules\" priority=\"1\">\n"
			"      The method add uses an else expression.\n    </violation>\n"
			"<violation beginline=\"29\" endline=\"29\" rule=\"ShortVariable\" ruleset=\"Naming Rules\" priority=\"3\">"
			"Avoid variables with short names like $n.</violation>\n"
			"<violation beginline=\"5\" endline=\"5\" rule=\"Low\" priority=\"5\">low</violation>\n"
			"</file>\n<error filename=\"/src/Broken.php\" msg=\"Unexpected token\"/>\n</pmd>\n";
	json_t *ev;
	struct rs_error err;

	(void)state;
	assert_int_equal(collect_parse("pmd", x, strlen(x), 0, NULL, &ev, &err), 0);
	assert_int_equal(json_array_size(ev), 4);
	assert_string_equal(ev_str(ev, 0, "tool"), "phpmd");
	assert_string_equal(ev_str(ev, 0, "rule"), "ElseExpression");
	assert_string_equal(ev_str(ev, 0, "severity"), "error");
	assert_string_equal(ev_str(ev, 0, "message"), "The method add uses an else expression.");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(ev, 0), "end_line")), 24);
	assert_string_equal(ev_str(ev, 1, "severity"), "warning");
	assert_string_equal(ev_str(ev, 2, "severity"), "info");
	assert_string_equal(ev_str(ev, 3, "rule"), "processing-error");
	assert_string_equal(ev_str(ev, 3, "file"), "/src/Broken.php");
	json_decref(ev);
}

static void cpd_duplications(void **state)
{
	const char *x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<pmd-cpd>\n"
			"  <duplication lines=\"23\" tokens=\"74\">\n"
			"    <file path=\"/src/Cart.php\" line=\"41\"/>\n"
			"    <file path=\"/src/Invoice.php\" line=\"19\"/>\n"
			"    <codefragment>   $total = 0;\n   foreach ($a as $b) {}\n</codefragment>\n"
			"  </duplication>\n</pmd-cpd>\n";
	const char *reindented = "<pmd-cpd><duplication lines=\"23\" tokens=\"74\">"
				 "<file path=\"/src/Cart.php\" line=\"141\"/><file path=\"/src/Invoice.php\" line=\"19\"/>"
				 "<codefragment>$total   =   0;\n\t\tforeach ($a as $b) {}</codefragment>"
				 "</duplication></pmd-cpd>";
	json_t *ev, *ev2, *places;
	struct rs_error err;

	(void)state;
	assert_int_equal(collect_parse("pmd-cpd", x, strlen(x), 0, NULL, &ev, &err), 0);
	assert_int_equal(json_array_size(ev), 1);
	assert_string_equal(ev_str(ev, 0, "tool"), "phpcpd");
	assert_string_equal(ev_str(ev, 0, "rule"), "duplication");
	assert_string_equal(ev_str(ev, 0, "file"), "/src/Cart.php");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(ev, 0), "line")), 41);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(ev, 0), "end_line")), 63);
	places = json_object_get(json_array_get(ev, 0), "places");
	assert_int_equal(json_array_size(places), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(places, 1), "file")), "/src/Invoice.php");
	/* Whitespace and position changes keep the fingerprint (the code is the same). */
	assert_int_equal(collect_parse("pmd-cpd", reindented, strlen(reindented), 0, NULL, &ev2, &err), 0);
	assert_string_equal(ev_str(ev, 0, "fingerprint"), ev_str(ev2, 0, "fingerprint"));
	json_decref(ev);
	json_decref(ev2);
}

static void phpstan_json(void **state)
{
	const char *x = "{\"totals\":{\"errors\":1,\"file_errors\":2},\"files\":{"
			"\"/src/A.php\":{\"errors\":2,\"messages\":["
			"{\"message\":\"Undefined variable: $x\",\"line\":7,\"ignorable\":true,\"identifier\":\"variable.undefined\"},"
			"{\"message\":\"Call to an undefined method.\",\"line\":9,\"ignorable\":true,\"tip\":\"Learn more\"}]}},"
			"\"errors\":[\"Internal error: boom\"]}";
	json_t *ev;
	struct rs_error err;

	(void)state;
	for (size_t chunk = 0; chunk <= 3; chunk += 3) {
		assert_int_equal(collect_parse("phpstan-json", x, strlen(x), chunk, NULL, &ev, &err), 0);
		assert_int_equal(json_array_size(ev), 3);
		assert_string_equal(ev_str(ev, 0, "tool"), "phpstan");
		assert_string_equal(ev_str(ev, 0, "rule"), "variable.undefined");
		assert_string_equal(ev_str(ev, 0, "severity"), "error");
		assert_string_equal(ev_str(ev, 0, "file"), "/src/A.php");
		assert_int_equal(json_integer_value(json_object_get(json_array_get(ev, 0), "line")), 7);
		assert_string_equal(ev_str(ev, 1, "rule"), "phpstan");
		assert_string_equal(ev_str(ev, 1, "tip"), "Learn more");
		assert_string_equal(ev_str(ev, 2, "rule"), "phpstan.internal");
		assert_null(json_object_get(json_array_get(ev, 2), "file"));
		json_decref(ev);
	}
}

static void phpstan_malformed_and_too_big(void **state)
{
	const char *bad = "{\"files\":{\n\"a\": [1,}\n}";
	struct rs_limits lim = {.max_json = 16};
	json_t *ev;
	struct rs_error err;

	(void)state;
	assert_int_equal(collect_parse("phpstan-json", bad, strlen(bad), 0, NULL, &ev, &err), -1);
	assert_int_equal(err.line, 2);
	assert_true(err.column > 0);
	json_decref(ev);
	assert_int_equal(collect_parse("phpstan-json", bad, strlen(bad), 0, &lim, &ev, &err), -1);
	assert_non_null(strstr(err.text, "larger than 16 bytes"));
	json_decref(ev);
	assert_int_equal(collect_parse("phpstan-json", "", 0, 0, NULL, &ev, &err), -1);
	json_decref(ev);
}

static void phploc_metrics(void **state)
{
	const char *x = "{\"directories\": 1, \"loc\": 132, \"ccnByLloc\": 0.43, \"name\": \"not a number\"}";
	json_t *ev;
	struct rs_error err;

	(void)state;
	assert_int_equal(collect_parse("phploc-json", x, strlen(x), 0, NULL, &ev, &err), 0);
	assert_int_equal(json_array_size(ev), 3);
	assert_string_equal(ev_str(ev, 1, "type"), "metric");
	assert_string_equal(ev_str(ev, 1, "name"), "loc");
	assert_string_equal(ev_str(ev, 1, "tool"), "phploc");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(ev, 1), "value")), 132);
	assert_true(json_real_value(json_object_get(json_array_get(ev, 2), "value")) == 0.43);
	json_decref(ev);
}

static void errors_are_sticky_and_formats_checked(void **state)
{
	json_t *arr = json_array();
	struct rs_parser *p;
	struct rs_error err;
	char buf[1024];

	(void)state;
	assert_null(rs_parser_new("nope", "x", collect_emit, arr, NULL));
	assert_false(rs_format_known("nope"));
	assert_true(rs_format_known("pmd-cpd"));
	p = rs_parser_new("junit", "r.xml", collect_emit, arr, NULL);
	assert_non_null(p);
	assert_int_equal(rs_parser_feed(p, "<a><b></a>", 10, &err), -1);
	assert_int_equal(rs_parser_feed(p, "<c/>", 4, &err), -1);
	assert_int_equal(rs_parser_finish(p, &err), -1);
	assert_string_equal(rs_error_format(&err, buf, sizeof(buf)), "r.xml:1:1: unexpected root element for this format: a");
	rs_parser_free(p);
	rs_parser_free(NULL);
	json_decref(arr);
}

/* ---- the writer (parse's fast path) and the callback give the same events ---- */

struct sink {
	char *buf;
	size_t len, cap;
};

static int sink_write(void *arg, const char *data, size_t len)
{
	struct sink *k = arg;

	if (k->len + len + 1 > k->cap) {
		k->cap = (k->len + len + 1) * 2;
		k->buf = realloc(k->buf, k->cap);
		assert_non_null(k->buf);
	}
	memcpy(k->buf + k->len, data, len);
	k->len += len;
	k->buf[k->len] = '\0';
	return 0;
}

/* Events as canonical text: sorted keys, reals at 10 digits (the writer prints whole
 * microseconds as such). */
static char *canon(json_t *ev)
{
	char *s = json_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(10));

	assert_non_null(s);
	return s;
}

static void same_both_ways(const char *format, const char *data, size_t len, size_t chunk)
{
	json_t *events;
	struct rs_error err, err2;
	struct sink k = {NULL, 0, 0};
	struct rs_parser *p = rs_parser_new(format, "report.xml", collect_emit, NULL, NULL);
	int rc1, rc2 = 0;
	char *line, *save = NULL;
	size_t i = 0;

	rc1 = collect_parse(format, data, len, chunk, NULL, &events, &err);
	assert_non_null(p);
	if (chunk == 0)
		chunk = len ? len : 1;
	assert_int_equal(rs_parser_set_writer(p, sink_write, &k), 0);
	for (size_t off = 0; off < len && rc2 == 0; off += chunk)
		rc2 = rs_parser_feed(p, data + off, len - off < chunk ? len - off : chunk, &err2);
	if (rc2 == 0)
		rc2 = rs_parser_finish(p, &err2);
	rs_parser_free(p); /* flushes */
	assert_int_equal(rc1, rc2);
	for (line = k.buf ? strtok_r(k.buf, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save), i++) {
		json_error_t je;
		json_t *w = json_loads(line, 0, &je);
		char *a, *b;

		assert_non_null(w);
		assert_true(i < json_array_size(events));
		a = canon(json_array_get(events, i));
		b = canon(w);
		assert_string_equal(a, b);
		free(a);
		free(b);
		json_decref(w);
	}
	assert_int_equal(i, json_array_size(events));
	json_decref(events);
	free(k.buf);
}

static void writer_and_callback_agree(void **state)
{
	static const char *const dirs[][2] = {
		{"results_junit", "junit"},         {"results_teamcity", "teamcity"},
		{"results_checkstyle", "checkstyle"}, {"results_pmd", "pmd"},
		{"results_pmd_cpd", "pmd-cpd"},     {"results_phpstan_json", "phpstan-json"},
		{"results_phploc_json", "phploc-json"},
	};
	const char *names[] = {"phpunit.xml", "phpcs.xml",   "edge.xml",     "latin1.xml",   "badutf8.xml",
			       "phpunit.txt", "escapes.txt", "phpmd.xml",    "phpcpd.xml",   "phpstan.json",
			       "phploc.json", "cp1252.xml",  "ansi.xml",     "sjis.xml",     "iso885915.xml",
			       "cp1250.xml",  "koi8r.xml",   "macroman.xml"};
	int files = 0;

	(void)state;
	for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++)
		for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++) {
			char path[1024], *data;
			FILE *f;
			long len;

			snprintf(path, sizeof(path), "%s/tests/fuzz/seeds/%s/%s", SV_SRC_DIR, dirs[d][0], names[n]);
			if (!(f = fopen(path, "rb")))
				continue;
			fseek(f, 0, SEEK_END);
			len = ftell(f);
			fseek(f, 0, SEEK_SET);
			data = malloc((size_t)len + 1);
			assert_int_equal(fread(data, 1, (size_t)len, f), (size_t)len);
			fclose(f);
			same_both_ways(dirs[d][1], data, (size_t)len, 0);
			same_both_ways(dirs[d][1], data, (size_t)len, 3);
			free(data);
			files++;
		}
	assert_true(files >= 20); /* the seeds are there */
	same_both_ways("junit", PHPUNIT_JUNIT, strlen(PHPUNIT_JUNIT), 0);
	same_both_ways("teamcity", TEAMCITY, strlen(TEAMCITY), 5);
	{
		/* Cut texts and the event-size guard take the same decisions both ways. */
		const size_t big = 200000;
		char *x = malloc(2 * big + 256);
		size_t o = 0;

		o += (size_t)sprintf(x, "<testsuite><testcase name=\"t\" class=\"C\"><failure message=\"");
		memset(x + o, 'm', big), o += big;
		o += (size_t)sprintf(x + o, "\">");
		memset(x + o, '\n', big), o += big;
		o += (size_t)sprintf(x + o, "</failure></testcase></testsuite>");
		same_both_ways("junit", x, o, 65536);
		free(x);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(junit_phpunit),
		cmocka_unit_test(junit_chunking_gives_same_events),
		cmocka_unit_test(junit_surefire_no_classname_cdata),
		cmocka_unit_test(junit_internal_entities_expand),
		cmocka_unit_test(junit_billion_laughs_is_refused),
		cmocka_unit_test(junit_external_entity_is_not_loaded),
		cmocka_unit_test(junit_invalid_utf8_is_repaired),
		cmocka_unit_test(junit_latin1_declared_is_converted),
		cmocka_unit_test(junit_declared_encodings_come_out_as_utf8),
		cmocka_unit_test(junit_ascii_declared_with_non_ascii_bytes),
		cmocka_unit_test(unsupported_encodings_are_errors_naming_them),
		cmocka_unit_test(other_xml_formats_in_declared_encodings),
		cmocka_unit_test(junit_empty_file_is_an_error),
		cmocka_unit_test(junit_truncated_file_reports_position_and_finished_tests),
		cmocka_unit_test(junit_wrong_root_is_an_error),
		cmocka_unit_test(junit_huge_failure_message_is_cut_with_marker),
		cmocka_unit_test(events_fit_the_protocol_bound),
		cmocka_unit_test(junit_huge_tag_is_an_error),
		cmocka_unit_test(junit_big_text_is_not_a_big_token),
		cmocka_unit_test(junit_deep_nesting_is_bounded),
		cmocka_unit_test(teamcity_messages),
		cmocka_unit_test(teamcity_chunking_gives_same_events),
		cmocka_unit_test(teamcity_long_line_is_cut_with_marker),
		cmocka_unit_test(checkstyle_phpcs_and_phpmd),
		cmocka_unit_test(checkstyle_identical_findings_get_distinct_fingerprints),
		cmocka_unit_test(pmd_violations),
		cmocka_unit_test(cpd_duplications),
		cmocka_unit_test(phpstan_json),
		cmocka_unit_test(phpstan_malformed_and_too_big),
		cmocka_unit_test(phploc_metrics),
		cmocka_unit_test(errors_are_sticky_and_formats_checked),
		cmocka_unit_test(writer_and_callback_agree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
