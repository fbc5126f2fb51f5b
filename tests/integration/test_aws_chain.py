"""The credential chain of `stagevisor aws` (issue 8) with emulated metadata endpoints on
loopback: EC2 instance metadata (IMDSv2: token PUT, role, credentials; a 401 on a stale token
fetches a new one; credentials that expire during the call are refreshed; a failed refresh keeps
the still-valid ones; an ExpiredTokenException answer refreshes them once) and the ECS container-credentials endpoint (FULL_URI, token file). The
credentials they hand out sign requests to a stand-in endpoint that records the key (the same
peers against moto's authentication are in test_aws_client.py). No test lets the chain reach
169.254.169.254 or 169.254.170.2: IMDS is pointed at loopback or disabled. No secret (keys,
session tokens, IMDS tokens, the container token) appears in any output.
"""
import json
import os
import shutil
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import awsfake  # noqa: E402
from awsfake import FakeEcsCreds, FakeImds, Runner, ScriptedAws, base_env, creds_doc, json_error  # noqa: E402

OK = {"status": 200, "body": json.dumps({"clusterArns": []})}
THROTTLE = json_error(400, "ThrottlingException", "Rate exceeded")
CONTAINER_TOKEN = "container-auth-token-" + "k" * 40


class Chain(unittest.TestCase):
    def setUp(self):
        self.tmp = awsfake.tmpdir()
        self.runner = Runner()
        self.closers = []

    def tearDown(self):
        for c in self.closers:
            c.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def peer(self, p):
        self.closers.append(p)
        return p

    def imds(self, docs, **kw):
        m = self.peer(FakeImds(docs, **kw))
        for d in docs:
            if isinstance(d, dict):
                self.runner.secret(d["SecretAccessKey"], d["Token"])
        return m

    def run_aws(self, endpoint, env, op="ListClusters"):
        r = self.runner.run(["ecs", op, "--endpoint-url", endpoint, "--debug"], env)
        for m in getattr(self, "_all_imds", []):
            self.runner.secret(*m.tokens)  # the IMDS session tokens handed out so far
        self.runner.check_secrets()
        return r

    def imds_env(self, m):
        self._all_imds = getattr(self, "_all_imds", []) + [m]
        e = base_env(self.tmp)
        del e["AWS_EC2_METADATA_DISABLED"]
        e["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = m.url + "/"
        e["AWS_METADATA_SERVICE_TIMEOUT"] = "10"  # a loaded test machine; the default is 1 s
        return e

    def test_imdsv2_stale_token(self):
        m = self.imds([creds_doc(1, 6 * 3600)], stale_first=True)
        s = self.peer(ScriptedAws([OK]))
        r = self.run_aws(s.url, self.imds_env(m))
        self.runner.secret(*m.tokens)
        self.runner.check_secrets()
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(s.requests[0]["access_key"], "ASIAIMDS0001")
        self.assertEqual(s.requests[0]["token"], creds_doc(1, 0)["Token"])
        self.assertEqual([(meth, st) for meth, _, st in m.log], [("PUT", 200), ("GET", 401), ("PUT", 200),
                                                                ("GET", 200), ("GET", 200)])
        self.assertEqual(m.log[-1][1], "/latest/meta-data/iam/security-credentials/ci-role")

    def test_credentials_expiring_during_the_call_are_refreshed(self):
        # generation 1 expires in 5 minutes: inside the 15-minute refresh window, so the retry
        # after the throttled first attempt signs with freshly fetched generation 2
        m = self.imds([creds_doc(1, 300), creds_doc(2, 6 * 3600)])
        s = self.peer(ScriptedAws([THROTTLE, OK]))
        r = self.run_aws(s.url, self.imds_env(m))
        self.assertEqual(r.rc, 0, r)
        self.assertEqual([q["access_key"] for q in s.requests], ["ASIAIMDS0001", "ASIAIMDS0002"])
        self.assertEqual(m.creds_served, 2)
        self.assertEqual(len(m.tokens), 1)  # the IMDS session token is reused

    def test_failed_refresh_keeps_valid_credentials(self):
        m = self.imds([creds_doc(1, 300), 500])
        s = self.peer(ScriptedAws([THROTTLE, OK]))
        r = self.run_aws(s.url, self.imds_env(m))
        self.assertEqual(r.rc, 0, r)
        self.assertEqual([q["access_key"] for q in s.requests], ["ASIAIMDS0001", "ASIAIMDS0001"])
        self.assertEqual(m.creds_served, 2)

    def test_expired_token_answer_refreshes_once(self):
        # AWS calls generation 1's token expired before its announced time: generation 2 is
        # fetched and the call retried once; a second ExpiredTokenException is final
        m = self.imds([creds_doc(1, 6 * 3600), creds_doc(2, 6 * 3600)])
        expired = json_error(400, "ExpiredTokenException", "The security token included in the request is expired")
        s = self.peer(ScriptedAws([lambda q: expired if q["access_key"] == "ASIAIMDS0001" else OK]))
        r = self.run_aws(s.url, self.imds_env(m))
        self.assertEqual(r.rc, 0, r)
        self.assertEqual([q["access_key"] for q in s.requests], ["ASIAIMDS0001", "ASIAIMDS0002"])
        m2 = self.imds([creds_doc(3, 6 * 3600)])
        s.script = [expired]
        s.requests.clear()
        r = self.run_aws(s.url, self.imds_env(m2))
        self.assertEqual(r.rc, 1, r)
        self.assertEqual(len(s.requests), 2)
        self.assertRegex(r.error_line(), r"^ecs ListClusters: ExpiredTokenException: ")

    def test_expired_credentials_refused(self):
        m = self.imds([creds_doc(1, -30)])
        s = self.peer(ScriptedAws([OK]))
        r = self.run_aws(s.url, self.imds_env(m))
        self.assertEqual(r.rc, 2, r)
        self.assertIn("credentials from iam-role are expired or expire within 60 s", r.err)
        self.assertEqual(len(s.requests), 0)

    def test_imds_disabled_is_not_contacted(self):
        m = self.imds([creds_doc(1, 3600)])
        s = self.peer(ScriptedAws([OK]))
        e = self.imds_env(m)
        e["AWS_EC2_METADATA_DISABLED"] = "true"
        r = self.run_aws(s.url, e)
        self.assertEqual(r.rc, 2, r)
        self.assertEqual(m.log, [])
        # and the environment comes before it
        e = self.imds_env(m)
        e.update(AWS_ACCESS_KEY_ID="AKIAENV0000000000000", AWS_SECRET_ACCESS_KEY="env-secret-0000000000")
        self.runner.secret("env-secret-0000000000")
        r = self.run_aws(s.url, e)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(m.log, [])
        self.assertEqual(s.requests[-1]["access_key"], "AKIAENV0000000000000")

    def test_container_credentials_with_token_file(self):
        doc = creds_doc(7, 3600, prefix="ASIAECS")
        self.runner.secret(doc["SecretAccessKey"], doc["Token"], CONTAINER_TOKEN)
        c = self.peer(FakeEcsCreds(doc, CONTAINER_TOKEN))
        s = self.peer(ScriptedAws([OK]))
        tokfile = awsfake.write(os.path.join(self.tmp, "token"), CONTAINER_TOKEN + "\n")
        e = base_env(self.tmp)
        e.update(AWS_CONTAINER_CREDENTIALS_FULL_URI=c.url + "/creds/task-1",
                 AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=tokfile,
                 AWS_CONTAINER_AUTHORIZATION_TOKEN="the-file-wins-over-this")
        r = self.run_aws(s.url, e)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(c.auth_seen, [CONTAINER_TOKEN])
        self.assertEqual(s.requests[0]["access_key"], "ASIAECS0007")
        # a refused token: configuration error, the token never printed
        e["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = awsfake.write(os.path.join(self.tmp, "bad"), "wrong-token-zz9\n")
        self.runner.secret("wrong-token-zz9")
        r = self.run_aws(s.url, e)
        self.assertEqual(r.rc, 2, r)
        self.assertIn("/creds/task-1: HTTP 403 (authorization token refused)", r.err)

    def test_container_full_uri_must_be_loopback_or_https(self):
        s = self.peer(ScriptedAws([OK]))
        e = base_env(self.tmp)
        e["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://192.0.2.10/creds"
        r = self.run_aws(s.url, e)
        self.assertEqual(r.rc, 2, r)
        self.assertIn("http is allowed only to loopback or the ECS/EKS container endpoint", r.err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
