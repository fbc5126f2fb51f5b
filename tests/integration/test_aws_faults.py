"""Faults between `stagevisor aws` and AWS (issue 8), with a scripted stand-in endpoint on
loopback (awsfake.ScriptedAws): throttling and 503 bursts retried with full-jitter backoff
within the standard mode's bounds and AWS_MAX_ATTEMPTS; non-retryable errors answered at once;
connection resets, a stalled server past the timeout, HTML and truncated error bodies, a
truncated success body; an expired session token (expired_token_stand_in: moto does not expire
tokens, so the stand-in answers ExpiredTokenException as AWS does); clock skew corrected by the
server's Date and retried once. The tests assert attempts, exit codes and error lines, never
timing; real sleeps are shortened (STAGEVISOR_AWS_BACKOFF_SCALE) while the computed backoff
is checked against its cap. No secret appears in any output.
"""
import json
import os
import re
import shutil
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import awsfake  # noqa: E402
from awsfake import Runner, ScriptedAws, base_env, json_error  # noqa: E402

SECRET = "faults-secret-key-0123456789abcdefXYZ"
TOKEN = "faults-session-token-" + "Q" * 60
OK = {"status": 200, "body": json.dumps({"clusterArns": ["arn:aws:ecs:us-east-1:1:cluster/a"]})}
THROTTLE = json_error(400, "ThrottlingException", "Rate exceeded")


class Faults(unittest.TestCase):
    def setUp(self):
        self.tmp = awsfake.tmpdir()
        self.runner = Runner()
        self.runner.secret(SECRET, TOKEN)
        self.server = None

    def tearDown(self):
        if self.server:
            self.server.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def serve(self, script):
        self.server = ScriptedAws(script)
        return self.server

    def call(self, *args, op="ListClusters", service="ecs", **env):
        e = base_env(self.tmp)
        e.update(AWS_ACCESS_KEY_ID="AKIAFAULTS0000000000", AWS_SECRET_ACCESS_KEY=SECRET, AWS_SESSION_TOKEN=TOKEN)
        e.update(env)
        return self.runner.run([service, op, "--endpoint-url", self.server.url, "--debug"] + list(args), e)

    def backoffs(self, r):
        """(backoff, cap) of each retry line."""
        return [(float(a), float(b)) for a, b in re.findall(r"backoff ([\d.]+) s \(cap ([\d.]+) s\)", r.err)]

    def test_throttling_burst_retried_with_backoff(self):
        s = self.serve([THROTTLE, THROTTLE, OK])
        r = self.call()
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(len(s.requests), 3)
        self.assertEqual(r.attempts(), 3, r)
        b = self.backoffs(r)
        self.assertEqual([cap for _, cap in b], [2.0, 4.0])
        for wait, cap in b:
            self.assertTrue(0 <= wait <= cap, b)
        self.assertEqual(r.json()["clusterArns"], ["arn:aws:ecs:us-east-1:1:cluster/a"])
        # each attempt is signed anew (its own X-Amz-Date may differ), with the session token
        self.assertTrue(all(q["token"] == TOKEN and q["access_key"] == "AKIAFAULTS0000000000" for q in s.requests))
        self.assertTrue(all(q["target"] == "AmazonEC2ContainerServiceV20141113.ListClusters" for q in s.requests))
        self.assertTrue(all(q["content_type"] == "application/x-amz-json-1.1" for q in s.requests))

    def test_503_burst_exhausts_max_attempts(self):
        s = self.serve([{"status": 503, "body": ""}])
        r = self.call()
        self.assertEqual(r.rc, 1, r)
        self.assertEqual(len(s.requests), 3)
        self.assertEqual(r.error_line(), "ecs ListClusters: HTTP 503: Service Unavailable (empty body) (request id req-3)")
        self.assertIn("giving up after 3 attempts (max_attempts 3)", r.err)

    def test_max_attempts_from_environment_and_config(self):
        s = self.serve([{"status": 503, "body": ""}] * 5 + [OK])
        r = self.call(AWS_MAX_ATTEMPTS="6")
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(len(s.requests), 6)
        caps = [cap for _, cap in self.backoffs(r)]
        self.assertEqual(caps, [2.0, 4.0, 8.0, 16.0, 20.0])  # capped at 20 s
        self.server.close()
        s = self.serve([{"status": 503, "body": ""}])
        cfg = awsfake.write(os.path.join(self.tmp, "cfg"), "[default]\nmax_attempts = 2\n")
        r = self.call(AWS_CONFIG_FILE=cfg)
        self.assertEqual(r.rc, 1, r)
        self.assertEqual(len(s.requests), 2)
        r = self.call(AWS_MAX_ATTEMPTS="0")
        self.assertEqual(r.rc, 2, r)
        self.assertIn("AWS_MAX_ATTEMPTS: not a number of attempts from 1 to 20: '0'", r.err)

    def test_not_retried(self):
        s = self.serve([json_error(400, "com.amazonaws.ecs#AccessDeniedException",
                                   "User: arn:aws:iam::1:user/ci is not authorized to perform: ecs:RunTask on resource: *")])
        r = self.call("{}", op="RunTask")
        self.assertEqual(r.rc, 1, r)
        self.assertEqual(len(s.requests), 1)
        self.assertEqual(r.error_line(), "ecs RunTask: AccessDeniedException: User: arn:aws:iam::1:user/ci is not "
                                         "authorized to perform: ecs:RunTask on resource: * (request id req-1)")

    def test_expired_token_stand_in(self):
        s = self.serve([json_error(400, "ExpiredTokenException", "The security token included in the request is expired")])
        r = self.call(service="logs", op="DescribeLogGroups")
        self.assertEqual(r.rc, 1, r)
        self.assertEqual(len(s.requests), 1)
        self.assertEqual(r.error_line(), "logs DescribeLogGroups: ExpiredTokenException: The security token included in "
                                         "the request is expired (request id req-1)")
        self.assertEqual(s.requests[0]["target"], "Logs_20140328.DescribeLogGroups")

    def test_connection_resets(self):
        s = self.serve(["reset"])
        r = self.call()
        self.assertEqual(r.rc, 3, r)
        self.assertEqual(len(s.requests), 3)
        self.assertRegex(r.error_line(), r"^ecs ListClusters: ConnectionReset: ")
        s.script = ["reset", OK]
        s.requests.clear()
        r = self.call()
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(len(s.requests), 2)

    def test_refused_connection(self):
        port = awsfake.free_port()
        self.server = ScriptedAws([OK])  # unused; the call goes to a closed port
        e = base_env(self.tmp)
        e.update(AWS_ACCESS_KEY_ID="AKIAFAULTS0000000000", AWS_SECRET_ACCESS_KEY=SECRET, AWS_MAX_ATTEMPTS="2")
        r = self.runner.run(["ecr", "DescribeRepositories", "--endpoint-url", "http://127.0.0.1:%d" % port, "--debug"], e)
        self.assertEqual(r.rc, 3, r)
        self.assertEqual(r.attempts(), 2, r)
        self.assertRegex(r.error_line(), r"^ecr DescribeRepositories: ConnectionError: ")

    def test_stall_past_timeout(self):
        s = self.serve(["stall"])
        r = self.call("--timeout", "1", AWS_MAX_ATTEMPTS="2")
        self.assertEqual(r.rc, 3, r)
        self.assertEqual(len(s.requests), 2)
        self.assertRegex(r.error_line(), r"^ecs ListClusters: Timeout: ")
        self.assertIn("timeout, backoff", r.err)

    def test_html_error_page(self):
        page = "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body><h1>502</h1></body></html>"
        s = self.serve([{"status": 502, "body": page, "headers": {"Content-Type": "text/html"}}])
        r = self.call()
        self.assertEqual(r.rc, 1, r)
        self.assertEqual(len(s.requests), 3)  # 502 is transient
        self.assertEqual(r.error_line(), "ecs ListClusters: HTTP 502: HTML error page: 502 Bad Gateway (not an AWS API "
                                         "answer: a proxy, load balancer or wrong endpoint?) (request id req-3)")

    def test_truncated_error_body(self):
        s = self.serve([{"status": 400, "body": '{"__type":"InvalidParameterException","mess'}])
        r = self.call()
        self.assertEqual(r.rc, 1, r)
        self.assertEqual(len(s.requests), 1)
        self.assertEqual(r.error_line(), "ecs ListClusters: HTTP 400: truncated or malformed JSON error body (43 bytes) "
                                         "(request id req-1)")
        s.script = [{"status": 400, "body": "<ErrorResponse><Error><Code>ValidationError</Code><Message>bad"}]
        r = self.call()
        self.assertEqual(r.rc, 1, r)
        self.assertRegex(r.error_line(), r"^ecs ListClusters: ValidationError: ")

    def test_truncated_success_body(self):
        s = self.serve(["truncate"])
        r = self.call()
        self.assertEqual(r.rc, 3, r)
        self.assertEqual(len(s.requests), 3)
        self.assertEqual(r.out, "")  # never a partial or empty result
        s.script = [{"status": 200, "body": '{"clusterArns": ["a"'}]
        s.requests.clear()
        r = self.call()
        self.assertEqual(r.rc, 3, r)
        self.assertRegex(r.error_line(), r"^ecs ListClusters: MalformedResponse: HTTP 200 answer is not a JSON object")
        self.assertEqual(r.out, "")

    def test_clock_skew_corrected_once(self):
        offset = 3600  # the server's clock is an hour ahead of ours

        def skewed(info):
            server_now = time.time() + offset
            sent = time.mktime(time.strptime(info["amz_date"], "%Y%m%dT%H%M%SZ")) - time.timezone
            hdr = {"Date": awsfake.http_date(server_now)}
            if abs(sent - server_now) > 300:
                return json_error(400, "InvalidSignatureException", "Signature expired: %s is now earlier than %s "
                                  "(%s - 5 min.)" % (info["amz_date"], info["amz_date"], info["amz_date"]), hdr)
            return dict(OK, headers=hdr)

        s = self.serve([skewed])
        r = self.call()
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(len(s.requests), 2)
        self.assertIn("clock skew", r.err)
        # a server that stays skewed (its Date lies) gets one corrected retry, not more
        s.script = [lambda info: json_error(400, "RequestTimeTooSkewed", "too skewed",
                                            {"Date": awsfake.http_date(time.time() - 7200)})]
        s.requests.clear()
        r = self.call()
        self.assertEqual(r.rc, 1, r)
        self.assertEqual(len(s.requests), 2)
        self.assertRegex(r.error_line(), r"^ecs ListClusters: RequestTimeTooSkewed: too skewed")

    def test_run_task_throttled_burst(self):
        # RunTask (a client-side rate-limit category: the buckets are unit-tested) throttled
        # three times, then answered: four attempts with AWS_MAX_ATTEMPTS=4
        s = self.serve([THROTTLE, THROTTLE, THROTTLE, OK])
        r = self.call("{}", op="RunTask", AWS_MAX_ATTEMPTS="4")
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(len(s.requests), 4)

    def test_no_region_no_credentials(self):
        self.serve([OK])
        e = base_env(self.tmp)
        e.pop("AWS_DEFAULT_REGION")
        e.update(AWS_ACCESS_KEY_ID="AKIAFAULTS0000000000", AWS_SECRET_ACCESS_KEY=SECRET)
        r = self.runner.run(["ecs", "ListClusters", "--endpoint-url", self.server.url], e)
        self.assertEqual(r.rc, 2, r)
        self.assertIn("no region", r.err)
        e = base_env(self.tmp)
        r = self.runner.run(["ecs", "ListClusters", "--endpoint-url", self.server.url], e)
        self.assertEqual(r.rc, 2, r)
        self.assertIn("ecs ListClusters: NoCredentials: no credentials found (environment: AWS_ACCESS_KEY_ID not set;",
                      r.err)
        self.assertIn("instance metadata: disabled (AWS_EC2_METADATA_DISABLED=true)", r.err)
        self.assertEqual(len(self.server.requests), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
