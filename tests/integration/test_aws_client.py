"""`stagevisor aws` against moto's server with request authentication on (issue 8).

moto checks every signature and every permission after the first 6 calls (which create the IAM
user, its policy, its access key and a role): a good call to ecs, ecr, logs and sts; ListClusters printed
exactly as `aws ecs list-clusters` (AWS CLI v1) prints it; the credentials from a profile of the
shared files, from a role's temporary credentials (AssumeRole: the session token signed); endpoints from
AWS_ENDPOINT_URL_<SERVICE> and the config file's services section; a wrong secret
(SignatureDoesNotMatch, XML even for JSON services), an unknown key, a missing permission; route53
reads on a moto without authentication (moto 5.2 refuses even the AWS CLI's route53 signatures).
No secret appears in any output (Runner's scan).

AWS_CA_BUNDLE and the profile's ca_bundle: moto behind tlsfake.py's TLS forwarder (a certificate
nobody trusts) is reached with either (as the AWS CLI reaches it with AWS_CA_BUNDLE), refused
without (a certificate error), and an unreadable bundle is an error naming AWS_CA_BUNDLE.

Also the credentials of emulated IMDSv2 and ECS container endpoints, accepted by moto.

Without moto (a fresh Debian 12 where pip could not install it) the script prints the reason and
exits 77, which ctest reports as skipped in its summary; where moto is installed the tests run.
"""
import json
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import awsfake  # noqa: E402
from awsfake import FakeEcsCreds, FakeImds, Moto, Runner, base_env, creds_doc, write  # noqa: E402
from tlsfake import TlsForward  # noqa: E402

CONTAINER_TOKEN = "container-auth-token-" + "m" * 40

SKIP = awsfake.moto_or_skip_reason()


@unittest.skipIf(SKIP, SKIP or "")
class AgainstMoto(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = awsfake.tmpdir()
        cls.moto = Moto(cls.tmp, auth=True)
        cls.runner = Runner()
        cls.runner.secret(cls.moto.secret_key)

    @classmethod
    def tearDownClass(cls):
        cls.moto.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def env(self, **kw):
        e = base_env(self.tmp)
        e.update({"AWS_ACCESS_KEY_ID": self.moto.access_key, "AWS_SECRET_ACCESS_KEY": self.moto.secret_key})
        e.update(kw)
        return e

    def aws(self, *args, env=None):
        return self.runner.run(list(args) + ["--endpoint-url", self.moto.url, "--debug"], env or self.env())

    def test_ecs_create_and_list_clusters(self):
        r = self.aws("ecs", "CreateCluster", '{"clusterName": "stagevisor-it"}')
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.json()["cluster"]["clusterName"], "stagevisor-it")
        self.assertEqual(r.attempts(), 1, r)
        r = self.aws("ecs", "list-clusters")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("arn:aws:ecs:us-east-1:123456789012:cluster/stagevisor-it", r.json()["clusterArns"])

    def test_same_output_as_aws_cli(self):
        self.aws("ecs", "create-cluster", '{"clusterName": "same-as-cli"}')
        mine = self.aws("ecs", "ListClusters")
        self.assertEqual(mine.rc, 0, mine)
        env = self.env()
        env.pop("STAGEVISOR_AWS_BACKOFF_SCALE")
        cli = subprocess.run(["aws", "--endpoint-url", self.moto.url, "ecs", "list-clusters"], env=env,
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(cli.returncode, 0, cli.stderr)
        self.assertEqual(json.loads(mine.out), json.loads(cli.stdout))
        self.assertEqual(mine.out, cli.stdout)  # the same text: 4-space indent, same order

    def test_ecr_and_logs(self):
        r = self.aws("ecr", "CreateRepository", '{"repositoryName": "site"}')
        self.assertEqual(r.rc, 0, r)
        r = self.aws("ecr", "describe-repositories")
        self.assertEqual(r.rc, 0, r)
        self.assertEqual([x["repositoryName"] for x in r.json()["repositories"]], ["site"])
        r = self.aws("logs", "DescribeLogGroups")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("logGroups", r.json())

    def test_sts_caller_identity(self):
        r = self.aws("sts", "get-caller-identity")
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.json()["Arn"], "arn:aws:iam::123456789012:user/ci")
        self.assertEqual(r.json()["Account"], "123456789012")

    def test_s3_reads(self):
        # S3's rules: path-style, x-amz-content-sha256 signed (moto checks the signature). A
        # "/" in a query value fails moto's own check for botocore too, so the prefix has none.
        s3 = self.moto.client("s3")
        s3.create_bucket(Bucket="site-assets")
        s3.put_object(Bucket="site-assets", Key="db/dump 1.sql", Body=b"x")
        r = self.aws("s3", "ListBuckets")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("site-assets", [b["Name"] for b in r.json()["Buckets"]])
        r = self.aws("s3", "list-objects-v2", '{"Bucket": "site-assets", "Prefix": "db"}')
        self.assertEqual(r.rc, 0, r)
        self.assertEqual([c["Key"] for c in r.json()["Contents"]], ["db/dump 1.sql"])
        r = self.aws("s3", "GetBucketLocation", '{"Bucket": "site-assets"}')
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.json(), {"LocationConstraint": None})
        r = self.aws("s3", "ListObjectsV2", '{"Bucket": "no-such-bucket"}')
        self.assertEqual(r.rc, 1, r)
        self.assertRegex(r.error_line(), r"^s3 ListObjectsV2: NoSuchBucket: The specified bucket does not exist")

    def test_wrong_secret(self):
        r = self.aws("ecs", "ListClusters", env=self.env(AWS_SECRET_ACCESS_KEY="not-the-secret-at-all-0000"))
        self.assertEqual(r.rc, 1, r)
        self.assertRegex(r.error_line(), r"^ecs ListClusters: SignatureDoesNotMatch: The request signature we calculated "
                                         r"does not match .* \(request id \S+\)$")
        self.assertEqual(r.attempts(), 1, r)  # not retried

    def test_unknown_access_key(self):
        r = self.aws("ecr", "DescribeRepositories",
                     env=self.env(AWS_ACCESS_KEY_ID="AKIAUNKNOWNKEY000000", AWS_SECRET_ACCESS_KEY="whatever-secret-x"))
        self.assertEqual(r.rc, 1, r)
        self.assertRegex(r.error_line(), r"^ecr DescribeRepositories: InvalidClientTokenId: ")

    def test_missing_permission(self):
        r = self.aws("logs", "create-log-group", '{"logGroupName": "/stagevisor/it"}')
        self.assertEqual(r.rc, 1, r)
        self.assertRegex(r.error_line(), r"^logs CreateLogGroup: AccessDenied(Exception)?: .*not authorized.*logs:CreateLogGroup")
        self.assertEqual(r.attempts(), 1, r)

    def test_session_token_signed(self):
        ak, sk, token = self.moto.assume_role()
        self.runner.secret(sk, token)
        env = self.env(AWS_ACCESS_KEY_ID=ak, AWS_SECRET_ACCESS_KEY=sk, AWS_SESSION_TOKEN=token)
        r = self.aws("ecs", "ListClusters", env=env)
        self.assertEqual(r.rc, 0, r)
        r = self.aws("sts", "GetCallerIdentity", env=env)
        self.assertEqual(r.rc, 0, r)
        self.assertIn(":assumed-role/ci-role/stagevisor-it", r.json()["Arn"])
        # a session token that is not the one issued with the key
        r = self.aws("ecs", "ListClusters", env=dict(env, AWS_SESSION_TOKEN="FwoGZXIvYXdzEBogus" + "z" * 40))
        self.assertEqual(r.rc, 1, r)

    def test_profile_from_shared_files(self):
        creds = write(os.path.join(self.tmp, "creds-profiles"),
                      "# CI keys\n[default]\naws_access_key_id = AKIAWRONG0000000000\naws_secret_access_key = wrong\n\n"
                      "[ci]\n  aws_access_key_id = %s\naws_secret_access_key=%s\n" % (self.moto.access_key, self.moto.secret_key))
        cfg = write(os.path.join(self.tmp, "config-profiles"), "[profile ci]\nregion = eu-west-1\n")
        env = base_env(self.tmp)
        env.update(AWS_SHARED_CREDENTIALS_FILE=creds, AWS_CONFIG_FILE=cfg)
        env.pop("AWS_DEFAULT_REGION")
        r = self.runner.run(["ecs", "ListClusters", "--profile", "ci", "--endpoint-url", self.moto.url], env)
        self.assertEqual(r.rc, 0, r)
        r = self.runner.run(["ecs", "ListClusters", "--endpoint-url", self.moto.url], dict(env, AWS_PROFILE="ci"))
        self.assertEqual(r.rc, 0, r)
        # the default profile has the wrong keys, and no region
        r = self.runner.run(["ecs", "ListClusters", "--endpoint-url", self.moto.url, "--region", "us-east-1"], env)
        self.assertEqual(r.rc, 1, r)
        r = self.runner.run(["ecs", "ListClusters", "--profile", "nosuch"], env)
        self.assertEqual(r.rc, 2, r)
        self.assertIn("profile nosuch: not found in", r.err)

    def test_endpoint_from_environment_and_config(self):
        env = self.env(AWS_ENDPOINT_URL_ECS=self.moto.url, AWS_ENDPOINT_URL="http://127.0.0.1:9")
        r = self.runner.run(["ecs", "ListClusters"], env)
        self.assertEqual(r.rc, 0, r)
        cfg = write(os.path.join(self.tmp, "config-services"),
                    "[default]\nregion = us-east-1\nservices = local-moto\n\n[services local-moto]\n"
                    "cloudwatch_logs =\n  endpoint_url = %s\n" % self.moto.url)
        r = self.runner.run(["logs", "DescribeLogGroups"], self.env(AWS_CONFIG_FILE=cfg))
        self.assertEqual(r.rc, 0, r)

    def test_ca_bundle(self):
        fwd = TlsForward(self.tmp, self.moto.url)
        try:
            call = ["sts", "GetCallerIdentity", "--endpoint-url", fwd.url]
            r = self.runner.run(call, self.env(AWS_CA_BUNDLE=fwd.cert))
            self.assertEqual(r.rc, 0, r)
            self.assertEqual(r.json()["Account"], "123456789012")
            self.assertGreaterEqual(fwd.count, 1)
            # The AWS CLI, given the same variable, reaches the same forwarder: the stand-in is sound.
            env = self.env(AWS_CA_BUNDLE=fwd.cert)
            env.pop("STAGEVISOR_AWS_BACKOFF_SCALE", None)
            cli = subprocess.run(["aws", "--endpoint-url", fwd.url, "sts", "get-caller-identity"], env=env,
                                 capture_output=True, text=True, timeout=120)
            self.assertEqual(cli.returncode, 0, cli.stderr)
            # The profile's ca_bundle, when the variable is not set.
            cfgfile = os.path.join(self.tmp, "ca-config")
            write(cfgfile, "[default]\nca_bundle = %s\n" % fwd.cert)
            r = self.runner.run(call, self.env(AWS_CONFIG_FILE=cfgfile))
            self.assertEqual(r.rc, 0, r)
            # Without a bundle the system's CAs do not vouch for it.
            before = fwd.count
            r = self.runner.run(call, self.env())
            self.assertNotEqual(r.rc, 0, r)
            self.assertIn("certificate", r.err.lower(), r)
            self.assertEqual(fwd.count, before)
            # A bundle that cannot be read: said, with where it came from, before any call.
            r = self.runner.run(call, self.env(AWS_CA_BUNDLE=os.path.join(self.tmp, "no-such.pem")))
            self.assertNotEqual(r.rc, 0, r)
            self.assertIn("AWS_CA_BUNDLE: cannot read", r.err)
            self.assertEqual(fwd.count, before)
        finally:
            fwd.close()

    def test_bad_input(self):
        r = self.aws("ecs", "ListClusters", "[1, 2]")
        self.assertEqual(r.rc, 2, r)
        self.assertIn("the parameters must be a JSON object", r.err)
        r = self.aws("ecs", "ListClusters", "{not json")
        self.assertEqual(r.rc, 2, r)
        r = self.aws("ecs", "ListClusters", "file://" + os.path.join(self.tmp, "missing.json"))
        self.assertEqual(r.rc, 2, r)
        self.assertIn("missing.json", r.err)
        r = self.aws("nosuchservice", "Foo")
        self.assertEqual(r.rc, 2, r)
        # an operation moto does not know: AWS's answer, exit 1, never an empty success
        r = self.aws("ecs", "NoSuchOperation")
        self.assertNotEqual(r.rc, 0, r)
        self.assertTrue(r.error_line().startswith("ecs NoSuchOperation: "), r)


@unittest.skipIf(SKIP, SKIP or "")
class Route53OnMotoWithoutAuth(unittest.TestCase):
    """moto 5.2 answers 403 SignatureDoesNotMatch to every signed route53 call, the AWS CLI's
    included; its REST-XML shape is tested on a moto without request authentication."""

    def test_route53_reads(self):
        tmp = awsfake.tmpdir()
        moto = Moto(tmp, auth=False)
        try:
            r53 = moto.client("route53")
            zid = r53.create_hosted_zone(Name="example.test", CallerReference="it")["HostedZone"]["Id"]
            runner = Runner()
            env = base_env(tmp)
            env.update(AWS_ACCESS_KEY_ID="AKIAEXAMPLE", AWS_SECRET_ACCESS_KEY="r53-secret-value-0000")
            runner.secret("r53-secret-value-0000")
            r = runner.run(["route53", "list-hosted-zones", "--endpoint-url", moto.url], env)
            self.assertEqual(r.rc, 0, r)
            zones = r.json()["HostedZones"]
            self.assertEqual([z["Name"] for z in zones], ["example.test."])
            self.assertEqual(zones[0]["Id"], zid)
            self.assertIs(r.json()["IsTruncated"], False)
            r = runner.run(["route53", "ListResourceRecordSets", json.dumps({"HostedZoneId": zid}),
                            "--endpoint-url", moto.url], env)
            self.assertEqual(r.rc, 0, r)
            self.assertEqual(sorted(x["Type"] for x in r.json()["ResourceRecordSets"]), ["NS", "SOA"])
            r = runner.run(["route53", "GetHostedZone", '{"Id": "/hostedzone/NOSUCHZONE"}', "--endpoint-url", moto.url], env)
            self.assertEqual(r.rc, 1, r)
            self.assertRegex(r.error_line(), r"^route53 GetHostedZone: NoSuchHostedZone: ")
            r = runner.run(["route53", "ChangeResourceRecordSets", "{}", "--endpoint-url", moto.url], env)
            self.assertEqual(r.rc, 2, r)
        finally:
            moto.close()
            shutil.rmtree(tmp, ignore_errors=True)


@unittest.skipIf(SKIP, SKIP or "")
class ChainAgainstMoto(unittest.TestCase):
    """Credentials from the emulated metadata endpoints, checked by moto's authentication."""

    def test_imds_and_container_credentials_accepted_by_moto(self):
        tmp = awsfake.tmpdir()
        moto = Moto(tmp)
        closers = [moto]
        runner = Runner()
        try:
            ak, sk, token = moto.assume_role()
            runner.secret(sk, token, CONTAINER_TOKEN)
            doc = dict(creds_doc(1, 3600), AccessKeyId=ak, SecretAccessKey=sk, Token=token)
            m = FakeImds([doc], stale_first=True)
            closers.append(m)
            e = base_env(tmp)
            del e["AWS_EC2_METADATA_DISABLED"]
            e["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = m.url
            e["AWS_METADATA_SERVICE_TIMEOUT"] = "10"
            r = runner.run(["ecs", "ListClusters", "--endpoint-url", moto.url], e)
            runner.secret(*m.tokens)
            runner.check_secrets()
            self.assertEqual(r.rc, 0, r)
            self.assertIn("clusterArns", r.json())
            c = FakeEcsCreds(doc, CONTAINER_TOKEN)
            closers.append(c)
            e = base_env(tmp)
            e.update(AWS_CONTAINER_CREDENTIALS_FULL_URI=c.url + "/creds/x", AWS_CONTAINER_AUTHORIZATION_TOKEN=CONTAINER_TOKEN)
            r = runner.run(["sts", "GetCallerIdentity", "--endpoint-url", moto.url], e)
            self.assertEqual(r.rc, 0, r)
            self.assertIn(":assumed-role/ci-role/", r.json()["Arn"])
        finally:
            for x in closers:
                x.close()
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if SKIP:
        # ctest reports exit code 77 as "Skipped" in its summary (SKIP_RETURN_CODE)
        print("SKIPPED (needs moto): " + SKIP, flush=True)
        sys.exit(77)
    unittest.main(verbosity=2)
