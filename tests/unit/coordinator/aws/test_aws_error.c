/* Unit tests of coordinator/aws/aws_error.c: AWS error answers of every shape to one line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aws_error.h"

static const char *line(long status, const char *ctype, const char *rid, const char *etype, const char *body)
{
	static char buf[2048];
	struct aws_error e;

	aws_error_from_response(&e, status, ctype, rid, etype, body, body ? strlen(body) : 0);
	aws_error_format(&e, "ecs", "RunTask", buf, sizeof buf);
	return buf;
}

static void json_shapes(void **state)
{
	(void)state;
	assert_string_equal(line(400, "application/x-amz-json-1.1", "rid-1", NULL,
	                         "{\"__type\":\"com.amazonaws.ecs#AccessDeniedException\",\"message\":\"User: arn:aws:iam::1:user/ci "
	                         "is not authorized to perform: ecs:RunTask\"}"),
	                    "ecs RunTask: AccessDeniedException: User: arn:aws:iam::1:user/ci is not authorized to perform: "
	                    "ecs:RunTask (request id rid-1)");
	assert_string_equal(line(400, NULL, NULL, NULL, "{\"__type\":\"ClusterNotFoundException\",\"Message\":\"Cluster not found.\"}"),
	                    "ecs RunTask: ClusterNotFoundException: Cluster not found.");
	/* the header names the type when the body does not */
	assert_string_equal(line(400, NULL, "r", "ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/",
	                         "{\"message\":\"Rate exceeded\"}"),
	                    "ecs RunTask: ThrottlingException: Rate exceeded (request id r)");
	assert_string_equal(line(400, NULL, NULL, NULL, "{\"code\":\"InvalidParameterException\",\"message\":\"a\\nb\\tc\"}"),
	                    "ecs RunTask: InvalidParameterException: a b c");
	/* JSON without a code: the status */
	assert_string_equal(line(403, NULL, NULL, NULL, "{\"message\":\"Forbidden\"}"), "ecs RunTask: HTTP 403: Forbidden");
}

static void xml_shapes(void **state)
{
	(void)state;
	/* moto's answer to a wrong signature, even for a JSON service */
	assert_string_equal(line(403, "text/xml", NULL, NULL,
	                         "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse>\n  <Errors>\n    <Error>\n"
	                         "      <Code>SignatureDoesNotMatch</Code>\n      <Message><![CDATA[The request signature we "
	                         "calculated does not match the signature you provided.]]></Message>\n    </Error>\n  </Errors>\n"
	                         "<RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId>\n</ErrorResponse>"),
	                    "ecs RunTask: SignatureDoesNotMatch: The request signature we calculated does not match the "
	                    "signature you provided. (request id 7a62c49f-347e-4fc4-9331-6e8eEXAMPLE)");
	assert_string_equal(line(403, NULL, NULL, NULL,
	                         "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type>"
	                         "<Code>AccessDenied</Code><Message>User is not authorized</Message></Error>"
	                         "<RequestId>abc</RequestId></ErrorResponse>"),
	                    "ecs RunTask: AccessDenied: User is not authorized (request id abc)");
	assert_string_equal(line(400, NULL, NULL, NULL,
	                         "<Response><Errors><Error><Code>AuthFailure</Code><Message>x</Message></Error></Errors>"
	                         "<RequestID>r2</RequestID></Response>"),
	                    "ecs RunTask: AuthFailure: x (request id r2)");
	/* S3's shape, with a namespace prefix on the elements */
	assert_string_equal(line(404, NULL, "hdr-id", NULL,
	                         "<s3:Error xmlns:s3=\"x\"><s3:Code>NoSuchBucket</s3:Code><s3:Message>The specified bucket does "
	                         "not exist</s3:Message></s3:Error>"),
	                    "ecs RunTask: NoSuchBucket: The specified bucket does not exist (request id hdr-id)");
	/* a truncated document still gives the code it had */
	assert_string_equal(line(503, NULL, NULL, NULL, "<ErrorResponse><Error><Code>SlowDown</Code><Mess"),
	                    "ecs RunTask: SlowDown: truncated or malformed XML error body (48 bytes)");
}

static void other_bodies(void **state)
{
	(void)state;
	assert_string_equal(line(502, "text/html", NULL, NULL,
	                         "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"),
	                    "ecs RunTask: HTTP 502: HTML error page: 502 Bad Gateway (not an AWS API answer: a proxy, load "
	                    "balancer or wrong endpoint?)");
	assert_string_equal(line(500, NULL, NULL, NULL, "{\"__type\":\"InternalFail"),
	                    "ecs RunTask: HTTP 500: truncated or malformed JSON error body (23 bytes)");
	assert_string_equal(line(503, NULL, NULL, NULL, ""), "ecs RunTask: HTTP 503: Service Unavailable (empty body)");
	assert_string_equal(line(400, NULL, NULL, NULL, NULL), "ecs RunTask: HTTP 400: Bad Request (empty body)");
	assert_string_equal(line(418, NULL, NULL, NULL, "I'm a\r\nteapot"),
	                    "ecs RunTask: HTTP 418: Client Error (13 bytes: I'm a teapot)");
}

static void transport(void **state)
{
	struct aws_error e;
	char buf[300];
	(void)state;
	aws_error_transport(&e, "Timeout", "Operation timed out after 2000 milliseconds", true);
	aws_error_format(&e, "logs", "GetLogEvents", buf, sizeof buf);
	assert_string_equal(buf, "logs GetLogEvents: Timeout: Operation timed out after 2000 milliseconds");
	assert_true(e.transport);
	assert_true(e.timeout);
}

static void skew(void **state)
{
	struct aws_error e;
	(void)state;
	aws_error_client(&e, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.");
	assert_true(aws_error_is_skew(&e));
	aws_error_client(&e, "InvalidSignatureException", "Signature expired: 20261204T050000Z is now earlier than "
	                 "20261204T054500Z (20261204T055000Z - 5 min.)");
	assert_true(aws_error_is_skew(&e));
	aws_error_client(&e, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature "
	                 "you provided.");
	assert_false(aws_error_is_skew(&e));
	aws_error_client(&e, "AccessDenied", "Signature expired");
	assert_false(aws_error_is_skew(&e));
}

static void http_dates(void **state)
{
	(void)state;
	assert_int_equal(aws_error_parse_http_date("Fri, 04 Dec 2026 05:40:00 GMT"), 1796362800);
	assert_int_equal(aws_error_parse_http_date("Friday, 04-Dec-26 05:40:00 GMT"), 1796362800);
	assert_int_equal(aws_error_parse_http_date("Fri Dec  4 05:40:00 2026"), 1796362800);
	assert_int_equal(aws_error_parse_http_date("yesterday"), -1);
	assert_int_equal(aws_error_parse_http_date("Fri, 04 Dec 2026 05:40:00 GMT trailing"), -1);
}

static void bounded(void **state)
{
	size_t n = 3 * 1024 * 1024;
	char *big = malloc(n + 1);
	struct aws_error e;
	(void)state;
	memset(big, 'x', n);
	big[0] = '{';
	big[n] = '\0';
	aws_error_from_response(&e, 500, NULL, NULL, NULL, big, n);
	assert_string_equal(e.code, "HTTP 500");
	assert_true(strlen(e.message) < sizeof e.message);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(json_shapes), cmocka_unit_test(xml_shapes), cmocka_unit_test(other_bodies),
		cmocka_unit_test(transport),   cmocka_unit_test(skew),       cmocka_unit_test(http_dates),
		cmocka_unit_test(bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
