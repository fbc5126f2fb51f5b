/* Unit tests of coordinator/route53.c: the ChangeResourceRecordSets body (exact text, escaping,
 * refused input; read back with expat through aws_xml), the answers of ChangeResourceRecordSets,
 * GetChange and ListResourceRecordSets (shapes from the Route 53 API reference), and the slug
 * length that keeps <slug>.<domain> within a certificate's CN. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aws/aws_xml.h"
#include "route53.h"
#include "slug.h"

static void upsert_body_is_exact(void **state)
{
	char err[256];
	char *x = route53_change_xml("UPSERT", "feature-x--abcdefgh.preview.example.com", "10.0.1.17", 60,
				     "stagevisor playground", err, sizeof err);
	(void)state;
	assert_non_null(x);
	assert_string_equal(x,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<ChangeResourceRecordSetsRequest xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\">"
		"<ChangeBatch><Comment>stagevisor playground</Comment><Changes><Change><Action>UPSERT</Action>"
		"<ResourceRecordSet><Name>feature-x--abcdefgh.preview.example.com.</Name><Type>A</Type><TTL>60</TTL>"
		"<ResourceRecords><ResourceRecord><Value>10.0.1.17</Value></ResourceRecord></ResourceRecords>"
		"</ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>\n");
	free(x);
}

/* The comment is the one free text: escaped, control characters dropped, cut at 256. */
static void comment_is_escaped(void **state)
{
	char err[256], big[600];
	json_t *doc;
	char *x = route53_change_xml("DELETE", "main.example.com", "192.0.2.1", 300,
				     "a <b> & \"c\" 'd'\n\x01]]>", err, sizeof err);
	(void)state;
	assert_non_null(x);
	assert_non_null(strstr(x, "<Comment>a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;]]&gt;</Comment>"));
	doc = aws_xml_to_json(x, strlen(x), NULL, err, sizeof err);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "ChangeBatch"), "Comment")),
			    "a <b> & \"c\" 'd']]>");
	/* <Changes> holds <Change>s: a list for aws_xml */
	json_t *changes = json_object_get(json_object_get(doc, "ChangeBatch"), "Changes");
	assert_true(json_is_array(changes));
	json_t *rrs = json_object_get(json_array_get(changes, 0), "ResourceRecordSet");
	assert_non_null(rrs);
	assert_string_equal(json_string_value(json_object_get(rrs, "Name")), "main.example.com.");
	assert_string_equal(json_string_value(json_object_get(rrs, "TTL")), "300");
	json_decref(doc);
	free(x);
	memset(big, 'c', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	x = route53_change_xml("UPSERT", "main.example.com", "192.0.2.1", 60, big, err, sizeof err);
	assert_non_null(x);
	assert_non_null(strstr(x, "<Comment>"));
	assert_null(strstr(x, big + 300)); /* not all 599 */
	free(x);
	x = route53_change_xml("UPSERT", "main.example.com", "192.0.2.1", 60, NULL, err, sizeof err);
	assert_non_null(x);
	assert_null(strstr(x, "Comment"));
	free(x);
}

static void bad_input_is_refused(void **state)
{
	char err[256], label64[80], longname[300];
	const char *names[] = {"", "Main.example.com", "main.example.com.", "-a.example.com", "a-.example.com",
			       "a..b", ".a", "a b.example.com", "a<b>.example.com", "a&amp;.example.com", "é.example.com",
			       label64, longname};
	const char *ips[] = {"", "1.2.3", "::1", "1.2.3.4 ", "256.1.1.1", "1.2.3.4</Value>", "localhost"};
	(void)state;
	memset(label64, 'a', 64);
	strcpy(label64 + 64, ".example.com");
	for (int i = 0; i < 5; i++)
		memcpy(longname + i * 60, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.", 60);
	longname[299] = '\0';
	longname[298] = 'a';
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char *x = route53_change_xml("UPSERT", names[i], "10.0.0.1", 60, NULL, err, sizeof err);
		if (x)
			fail_msg("name \"%s\" accepted", names[i]);
		assert_non_null(strstr(err, "not a DNS name"));
	}
	for (size_t i = 0; i < sizeof ips / sizeof ips[0]; i++) {
		char *x = route53_change_xml("UPSERT", "a.example.com", ips[i], 60, NULL, err, sizeof err);
		if (x)
			fail_msg("address \"%s\" accepted", ips[i]);
		assert_non_null(strstr(err, "not an IPv4 address"));
	}
	assert_null(route53_change_xml("DROP", "a.example.com", "10.0.0.1", 60, NULL, err, sizeof err));
	assert_non_null(strstr(err, "UPSERT"));
	assert_null(route53_change_xml("upsert", "a.example.com", "10.0.0.1", 60, NULL, err, sizeof err));
	assert_null(route53_change_xml("UPSERT", "a.example.com", "10.0.0.1", 0, NULL, err, sizeof err));
	assert_true(route53_name_ok("a.b"));
	assert_true(route53_name_ok("x--abcdefgh.preview.example.com"));
}

static void change_answers(void **state)
{
	static const char submitted[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<ChangeResourceRecordSetsResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\">"
		"<ChangeInfo><Id>/change/C2682N5HXP0BZ4</Id><Status>PENDING</Status>"
		"<SubmittedAt>2010-09-10T01:36:41.958Z</SubmittedAt></ChangeInfo></ChangeResourceRecordSetsResponse>";
	static const char insync[] =
		"<GetChangeResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><ChangeInfo>"
		"<Id>C2682N5HXP0BZ4</Id><Status>INSYNC</Status></ChangeInfo></GetChangeResponse>";
	static const char *const bad[] = {
		"", "not xml", "<GetChangeResponse/>",
		"<GetChangeResponse><ChangeInfo><Status>INSYNC</Status></ChangeInfo></GetChangeResponse>",
		"<GetChangeResponse><ChangeInfo><Id>C1</Id></ChangeInfo></GetChangeResponse>",
		"<GetChangeResponse><ChangeInfo><Id>../x</Id><Status>INSYNC</Status></ChangeInfo></GetChangeResponse>",
		"<GetChangeResponse><ChangeInfo><Id><A>1</A></Id><Status>INSYNC</Status></ChangeInfo></GetChangeResponse>",
	};
	char id[ROUTE53_ID_MAX], status[32], err[256];
	(void)state;
	assert_int_equal(route53_parse_change(submitted, strlen(submitted), id, sizeof id, status, sizeof status, err,
					      sizeof err), 0);
	assert_string_equal(id, "C2682N5HXP0BZ4");
	assert_string_equal(status, "PENDING");
	assert_int_equal(route53_parse_change(insync, strlen(insync), id, sizeof id, status, sizeof status, err,
					      sizeof err), 0);
	assert_string_equal(status, "INSYNC");
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (route53_parse_change(bad[i], strlen(bad[i]), id, sizeof id, status, sizeof status, err, sizeof err) != -1)
			fail_msg("accepted: %s", bad[i]);
}

static void record_answers(void **state)
{
	static const char two[] =
		"<ListResourceRecordSetsResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\">"
		"<ResourceRecordSets>"
		"<ResourceRecordSet><Name>main.example.com.</Name><Type>TXT</Type><TTL>300</TTL>"
		"<ResourceRecords><ResourceRecord><Value>\"x\"</Value></ResourceRecord></ResourceRecords></ResourceRecordSet>"
		"<ResourceRecordSet><Name>Main.Example.com.</Name><Type>A</Type><TTL>120</TTL>"
		"<ResourceRecords><ResourceRecord><Value>10.0.0.9</Value></ResourceRecord>"
		"<ResourceRecord><Value>10.0.0.10</Value></ResourceRecord></ResourceRecords></ResourceRecordSet>"
		"</ResourceRecordSets><IsTruncated>false</IsTruncated><MaxItems>2</MaxItems>"
		"</ListResourceRecordSetsResponse>";
	static const char other[] =
		"<ListResourceRecordSetsResponse><ResourceRecordSets><ResourceRecordSet><Name>mainx.example.com.</Name>"
		"<Type>A</Type><TTL>60</TTL><ResourceRecords><ResourceRecord><Value>10.0.0.1</Value></ResourceRecord>"
		"</ResourceRecords></ResourceRecordSet></ResourceRecordSets><IsTruncated>true</IsTruncated>"
		"</ListResourceRecordSetsResponse>";
	static const char none[] =
		"<ListResourceRecordSetsResponse><ResourceRecordSets/><IsTruncated>false</IsTruncated>"
		"<MaxItems>1</MaxItems></ListResourceRecordSetsResponse>";
	char ip[64], err[256];
	unsigned ttl = 0;
	(void)state;
	assert_int_equal(route53_parse_record(two, strlen(two), "main.example.com", ip, sizeof ip, &ttl, err, sizeof err), 1);
	assert_string_equal(ip, "10.0.0.9");
	assert_int_equal(ttl, 120);
	assert_int_equal(route53_parse_record(other, strlen(other), "main.example.com", ip, sizeof ip, &ttl, err,
					      sizeof err), 0);
	assert_int_equal(route53_parse_record(other, strlen(other), "mainx.example.com", ip, sizeof ip, &ttl, err,
					      sizeof err), 1);
	assert_int_equal(ttl, 60);
	assert_int_equal(route53_parse_record(none, strlen(none), "main.example.com", ip, sizeof ip, &ttl, err,
					      sizeof err), 0);
	assert_int_equal(route53_parse_record("<x", 2, "main.example.com", ip, sizeof ip, &ttl, err, sizeof err), -1);
	assert_int_equal(route53_parse_record("<Other/>", 8, "main.example.com", ip, sizeof ip, &ttl, err, sizeof err), -1);
}

static void slug_room_fits_a_certificate(void **state)
{
	char slug[SLUG_MAX + 1], name[300];
	const char *domains[] = {"a.io", "preview.example.com", "previews.of-the-company-with-a-long-name.example.com"};
	(void)state;
	assert_int_equal(route53_slug_max("a.io"), 59);
	assert_int_equal(route53_slug_max("x"), 62);
	assert_int_equal(route53_slug_max(""), SLUG_MAX);
	assert_int_equal(route53_slug_max("preview.example.com"), 44);
	for (size_t i = 0; i < sizeof domains / sizeof domains[0]; i++) {
		size_t m = route53_slug_max(domains[i]);
		assert_true(m >= SLUG_MIN_MAX);
		assert_int_equal(slug_make("feature/JIRA-1234-a-branch-name-that-goes-on-and-on-and-on-and-on", m, slug,
					   sizeof slug), 0);
		snprintf(name, sizeof name, "%s.%s", slug, domains[i]);
		assert_true(strlen(name) <= ROUTE53_CN_MAX);
		assert_true(route53_name_ok(name));
	}
	/* 52 characters is the longest domain pipeline.c accepts: the shortest slug still fits. */
	assert_int_equal(route53_slug_max("previews.of-the-company-with-a-long-name.example.com"), SLUG_MIN_MAX);
	assert_int_equal(route53_slug_max("previews.of-the-company-with-a-longer-name.example.com"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(upsert_body_is_exact),
		cmocka_unit_test(comment_is_escaped),
		cmocka_unit_test(bad_input_is_refused),
		cmocka_unit_test(change_answers),
		cmocka_unit_test(record_answers),
		cmocka_unit_test(slug_room_fits_a_certificate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
