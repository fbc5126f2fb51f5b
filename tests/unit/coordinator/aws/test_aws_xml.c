/* Unit tests of coordinator/aws/aws_xml.c: REST-XML and query answers as the JSON `aws` prints. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aws_xml.h"

static char *conv(const char *xml, const char *op)
{
	char err[300] = "";
	json_t *j = aws_xml_to_json(xml, strlen(xml), op, err, sizeof err);
	char *s;

	if (!j)
		fail_msg("not converted: %s", err);
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	return s;
}

static void check(const char *xml, const char *op, const char *want)
{
	char *got = conv(xml, op);
	assert_string_equal(got, want);
	free(got);
}

static void query_protocol(void **state)
{
	(void)state;
	check("<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult>"
	      "<UserId>AID</UserId><Account>123456789012</Account><Arn>arn:aws:iam::123456789012:user/ci</Arn>"
	      "</GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>"
	      "</GetCallerIdentityResponse>", "GetCallerIdentity",
	      "{\"Account\":\"123456789012\",\"Arn\":\"arn:aws:iam::123456789012:user/ci\",\"UserId\":\"AID\"}");
	check("<ListUsersResponse><ListUsersResult><Users><member><UserName>a</UserName></member><member><UserName>b"
	      "</UserName></member></Users><IsTruncated>false</IsTruncated></ListUsersResult></ListUsersResponse>",
	      "ListUsers", "{\"IsTruncated\":false,\"Users\":[{\"UserName\":\"a\"},{\"UserName\":\"b\"}]}");
}

static void rest_xml(void **state)
{
	(void)state;
	check("<?xml version=\"1.0\"?>\n<ListHostedZonesResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\">"
	      "<HostedZones><HostedZone><Id>/hostedzone/Z1</Id><Name>example.test.</Name><Config><PrivateZone>false"
	      "</PrivateZone></Config></HostedZone></HostedZones><IsTruncated>false</IsTruncated><MaxItems>100</MaxItems>"
	      "</ListHostedZonesResponse>", "ListHostedZones",
	      "{\"HostedZones\":[{\"Config\":{\"PrivateZone\":false},\"Id\":\"/hostedzone/Z1\",\"Name\":\"example.test.\"}],"
	      "\"IsTruncated\":false,\"MaxItems\":\"100\"}");
	/* an empty plural is an empty list; "Status" is not a plural */
	check("<R><HostedZones/><Status></Status></R>", NULL, "{\"HostedZones\":[],\"Status\":\"\"}");
	/* S3's flattened lists: one Contents is still a list; repeated names elsewhere make one */
	check("<ListBucketResult><Name>b</Name><Contents><Key>k</Key></Contents></ListBucketResult>", "ListObjectsV2",
	      "{\"Contents\":[{\"Key\":\"k\"}],\"Name\":\"b\"}");
	check("<R><X>1</X><Y>2</Y><X>3</X></R>", NULL, "{\"X\":[\"1\",\"3\"],\"Y\":\"2\"}");
	/* a one-value answer */
	check("<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"/>", "GetBucketLocation",
	      "{\"LocationConstraint\":null}");
	check("<LocationConstraint>eu-west-1</LocationConstraint>", NULL, "{\"LocationConstraint\":\"eu-west-1\"}");
	/* namespace prefixes dropped, text trimmed, entities decoded */
	check("<a:R xmlns:a=\"x\"><a:V>  x &amp; y  </a:V></a:R>", NULL, "{\"V\":\"x & y\"}");
}

static void refusals(void **state)
{
	char err[300], *deep;
	size_t n = 0;
	(void)state;
	assert_null(aws_xml_to_json("<a><b>", 6, NULL, err, sizeof err));
	assert_non_null(strstr(err, "line 1: "));
	assert_null(aws_xml_to_json("", 0, NULL, err, sizeof err));
	assert_null(aws_xml_to_json("{\"json\":1}", 10, NULL, err, sizeof err));
	deep = malloc(70 * 7 + 1);
	for (int i = 0; i < 70; i++)
		n += (size_t)sprintf(deep + n, "<a>");
	assert_null(aws_xml_to_json(deep, n, NULL, err, sizeof err));
	assert_string_equal(err, "nested deeper than 64 levels");
	free(deep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(query_protocol),
		cmocka_unit_test(rest_xml),
		cmocka_unit_test(refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
