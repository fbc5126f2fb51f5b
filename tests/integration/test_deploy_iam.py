"""deploy/: the ECS task-definition templates and the IAM documents, checked against real peers.

- deploy/taskdefs/*.json: botocore's own parameter validator on ECS RegisterTaskDefinition
  (every field known and well-typed, as the AWS CLI's --cli-input-json would check), and the
  same family, sizes, roles, container, logs and stop timeout as the request the coordinator
  itself makes for deploy/pipeline.example.json (tests/unit/taskdef_dump), so they cannot drift.
- deploy/iam/*.json: moto's IAM policy-grammar validators (identity policies and trust policies,
  the checks IAM's CreatePolicy / CreateRole make), stricter checks of our own (Sid, Resource
  ARNs, no wildcard actions), and every action a real operation of its service in botocore's
  service model (ecs, ecr, logs, ec2, route53, s3, sts), except the few IAM actions that are
  permissions without an API operation of their own (listed below, each with why).
- coordinator-policy.json is exactly what the coordinator's code calls: every AWS operation
  named in coordinator/*.c is allowed, and every allowed action is called (or listed below).
- The ARNs in the policies name the roles, repository, log group and zone of
  deploy/pipeline.example.json, and the S3 ARNs the Jenkinsfile's Nightly buckets and prefixes.
- The templates' images are the example config's with ${BUILD_ID} as a release (v1.0.0)."""
import glob
import json
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import groovy_decl  # noqa: E402

try:
    import botocore.session
    from botocore.validate import ParamValidator
    BOTOCORE = None
except ImportError as e:  # never pass silently: say why
    BOTOCORE = str(e)
try:
    from moto.iam.policy_validation import IAMPolicyDocumentValidator, IAMTrustPolicyDocumentValidator
    MOTO = None
except ImportError as e:
    MOTO = str(e)

SRC = os.environ.get("SV_SRC") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("SV_BUILD") or os.path.join(SRC, "build")
DUMP = os.path.join(BUILD, "tests", "unit", "taskdef_dump")
IAM = os.path.join(SRC, "deploy", "iam")
TASKDEFS = os.path.join(SRC, "deploy", "taskdefs")

# Services whose IAM action names are their API operation names (botocore service model).
MODEL_SERVICES = {"ecs": "ecs", "ecr": "ecr", "logs": "logs", "ec2": "ec2", "route53": "route53", "s3": "s3",
                  "sts": "sts"}
# IAM actions that are permissions, not API operations: each with the operation(s) it governs.
PERMISSION_ONLY = {
    "iam:PassRole": "checked by ECS when RunTask/RegisterTaskDefinition hand a role to a task",
    "s3:ListBucket": "the permission of s3 ListObjectsV2 (what db-reset, db-export, assets-sync list with)",
}
# Actions of the coordinator's policy that no coordinator/*.c names as an operation, with why.
IMPLIED = {
    "iam:PassRole": "RunTask and RegisterTaskDefinition pass the execution and task roles",
    "ecs:TagResource": "RunTask and RegisterTaskDefinition with tags need it (ECS tag-on-create authorization); "
                       "playground expiry updates call it",
}
ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:(iam|ecs|ecr|logs|ec2|route53|s3|sts):[a-z0-9-]*:(\d{12}|\*)?:.+$")
SID = re.compile(r"^[A-Za-z0-9]+$")


def load(path):
    with open(path) as f:
        return json.load(f)


def statements(doc):
    st = doc["Statement"]
    return st if isinstance(st, list) else [st]


def as_list(v):
    return v if isinstance(v, list) else [v]


def is_trust(path):
    return path.endswith("-trust.json")


def calls_in_code():
    """(service, Operation) pairs the coordinator's own code calls: aws_client_json(c, "ecs",
    "RunTask", ...) and helpers with the same argument pair, and aws_call structs
    (.service = "route53"; .operation = "GetChange"). awscmd.c (stagevisor aws: whatever the
    user asks, for debugging) and the aws/ library are not the coordinator's own calls."""
    found = set()
    for path in glob.glob(os.path.join(SRC, "coordinator", "*.c")):
        if os.path.basename(path) == "awscmd.c":
            continue
        with open(path) as f:
            text = f.read()
        for m in re.finditer(r'"(ecs|ecr|logs|ec2|route53|s3|sts)",\s*"([A-Z][A-Za-z0-9]+)"', text):
            found.add((m.group(1), m.group(2)))
        for m in re.finditer(r'\.service\s*=\s*"(\w+)";\s*\w+\.operation\s*=\s*"([A-Z][A-Za-z0-9]+)"', text):
            found.add((m.group(1), m.group(2)))
    return found


@unittest.skipIf(BOTOCORE, "botocore is not installed: %s" % BOTOCORE)
class TaskDefinitionTemplates(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = botocore.session.get_session().get_service_model("ecs")
        cls.shape = cls.model.operation_model("RegisterTaskDefinition").input_shape
        # The templates name a release's images: the config's ${BUILD_ID} as the Deploy stage's v1.0.0.
        out = subprocess.run([DUMP, os.path.join(SRC, "deploy", "pipeline.example.json"), "v1.0.0"], capture_output=True,
                             text=True, timeout=60)
        if out.returncode != 0:
            raise AssertionError("taskdef_dump failed: " + out.stderr)
        cls.ours = {s["stage"]: s["register"] for s in map(json.loads, out.stdout.splitlines()) if s}

    def test_templates_are_valid_register_requests(self):
        names = sorted(os.path.basename(p) for p in glob.glob(os.path.join(TASKDEFS, "*.json")))
        self.assertEqual(names, ["analysis.json", "playground.json", "tests.json"])
        for name in names:
            with self.subTest(template=name):
                doc = load(os.path.join(TASKDEFS, name))
                report = ParamValidator().validate(doc, self.shape)
                self.assertFalse(report.has_errors(), "%s: %s" % (name, report.generate_report()))
                self.assertEqual(doc["requiresCompatibilities"], ["FARGATE"])
                self.assertEqual(len(doc["containerDefinitions"]), 1)
                c = doc["containerDefinitions"][0]
                self.assertLessEqual(c["stopTimeout"], 120, "Fargate's stopTimeout cap")
                self.assertFalse(c["linuxParameters"]["initProcessEnabled"], "stagevisor-agent is PID 1")
                self.assertNotIn("environment", c, "STAGEVISOR_* come from RunTask's overrides, per run")

    def test_templates_agree_with_the_coordinators_requests(self):
        keys = ["family", "networkMode", "pidMode", "requiresCompatibilities", "cpu", "memory", "executionRoleArn"]
        ckeys = ["name", "image", "essential", "cpu", "memory", "stopTimeout", "logConfiguration"]
        for stage, ours in self.ours.items():
            with self.subTest(stage=stage):
                doc = load(os.path.join(TASKDEFS, stage + ".json"))
                self.assertEqual({k: doc[k] for k in keys}, {k: ours[k] for k in keys})
                c, oc = doc["containerDefinitions"][0], ours["containerDefinitions"][0]
                self.assertEqual({k: c[k] for k in ckeys}, {k: oc[k] for k in ckeys})
                if "taskRoleArn" in doc:
                    self.assertEqual(doc["taskRoleArn"], ours["taskRoleArn"])

    def test_the_validator_can_fail(self):
        doc = load(os.path.join(TASKDEFS, "tests.json"))
        bad = dict(doc, containerDefinition=doc["containerDefinitions"])
        self.assertTrue(ParamValidator().validate(bad, self.shape).has_errors(), "unknown field")
        bad = dict(doc, cpu=1024)
        self.assertTrue(ParamValidator().validate(bad, self.shape).has_errors(), "cpu is a string in the API")


@unittest.skipIf(BOTOCORE or MOTO, "botocore or moto is not installed: %s" % (BOTOCORE or MOTO))
class IamDocuments(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        session = botocore.session.get_session()
        cls.ops = {svc: set(session.get_service_model(m).operation_names) for svc, m in MODEL_SERVICES.items()}
        cls.paths = sorted(glob.glob(os.path.join(IAM, "*.json")))

    def problems(self, path, doc):
        """What is wrong with one document, as a list of sentences ([] when nothing)."""
        bad = []
        text = json.dumps(doc)
        try:
            (IAMTrustPolicyDocumentValidator if is_trust(path) else IAMPolicyDocumentValidator)(text).validate()
        except Exception as e:  # moto raises MalformedPolicyDocument with IAM's own message
            bad.append("IAM grammar: %s" % e)
        if doc.get("Version") != "2012-10-17":
            bad.append("Version must be 2012-10-17")
        if len(re.sub(r"\s", "", text)) > 6144:
            bad.append("over IAM's 6144-character limit for a managed policy")
        sids = [st.get("Sid") for st in statements(doc)]
        if len([s for s in sids if s]) != len(set(s for s in sids if s)):
            bad.append("duplicate Sid")
        for st in statements(doc):
            if st.get("Sid") is not None and not SID.match(st["Sid"]):
                bad.append("Sid %r: letters and digits only" % st["Sid"])
            if is_trust(path):
                if "Principal" not in st or "Resource" in st or as_list(st.get("Action")) != ["sts:AssumeRole"]:
                    bad.append("a trust statement has a Principal, sts:AssumeRole and no Resource")
                continue
            if "Principal" in st or "NotAction" in st or "NotResource" in st or st.get("Effect") != "Allow":
                bad.append("%s: identity policies here only Allow, with Action and Resource" % st.get("Sid"))
            for r in as_list(st.get("Resource", [])):
                if r != "*" and not ARN.match(r):
                    bad.append("%s: %r is not an ARN" % (st.get("Sid"), r))
            for a in as_list(st.get("Action", [])):
                svc, _, op = a.partition(":")
                if "*" in a or "?" in a:
                    bad.append("%s: wildcard action %s" % (st.get("Sid"), a))
                elif a in PERMISSION_ONLY:
                    pass
                elif svc not in self.ops:
                    bad.append("%s: %s is not an action of %s" % (st.get("Sid"), a, "/".join(sorted(self.ops))))
                elif op not in self.ops[svc]:
                    bad.append("%s: %s is not an operation of %s" % (st.get("Sid"), a, svc))
        return bad

    def test_every_document(self):
        names = [os.path.basename(p) for p in self.paths]
        for want in ("coordinator-policy.json", "coordinator-trust.json", "task-execution-policy.json",
                     "task-execution-trust.json", "task-policy.json", "task-trust.json"):
            self.assertIn(want, names)
        for path in self.paths:
            with self.subTest(document=os.path.basename(path)):
                self.assertEqual(self.problems(path, load(path)), [])

    def test_the_checks_can_fail(self):
        doc = load(os.path.join(IAM, "coordinator-policy.json"))
        p = os.path.join(IAM, "coordinator-policy.json")
        misspelt = json.loads(json.dumps(doc))
        misspelt["Statement"][0]["Action"].append("ecs:RunTasks")
        self.assertTrue(any("ecs:RunTasks is not an operation" in b for b in self.problems(p, misspelt)))
        wrong_effect = json.loads(json.dumps(doc))
        wrong_effect["Statement"][0]["Effect"] = "Allowed"
        self.assertTrue(any(b.startswith("IAM grammar") for b in self.problems(p, wrong_effect)))
        bad_arn = json.loads(json.dumps(doc))
        bad_arn["Statement"][-1]["Resource"] = "repository/site"
        self.assertTrue(self.problems(p, bad_arn))
        no_principal = load(os.path.join(IAM, "task-trust.json"))
        del no_principal["Statement"][0]["Principal"]
        self.assertTrue(self.problems(os.path.join(IAM, "task-trust.json"), no_principal))

    def test_coordinator_policy_is_what_the_code_calls(self):
        allowed = {a for st in statements(load(os.path.join(IAM, "coordinator-policy.json")))
                   for a in as_list(st["Action"])}
        called = {"%s:%s" % pair for pair in calls_in_code()}
        self.assertIn("ecs:RunTask", called, "the scan found nothing: has the calling convention changed?")
        self.assertEqual(sorted(called - allowed), [], "called but not allowed: AccessDenied in production")
        self.assertEqual(sorted(allowed - called - set(IMPLIED)), [], "allowed but never called")

    def test_arns_name_the_example_configs_resources(self):
        cfg = load(os.path.join(SRC, "deploy", "pipeline.example.json"))["aws"]
        region, acct = cfg["region"], cfg["execution_role_arn"].split(":")[4]
        resources = {}
        for path in self.paths:
            for st in statements(load(path)):
                resources.setdefault(os.path.basename(path), set()).update(as_list(st.get("Resource", [])))
        coord = resources["coordinator-policy.json"]
        self.assertIn(cfg["execution_role_arn"], coord)
        self.assertIn(cfg["task_role_arn"], coord)
        logs = "arn:aws:logs:%s:%s:log-group:%s:*" % (region, acct, cfg["log_group"])
        repo = "arn:aws:ecr:%s:%s:repository/%s" % (region, acct, cfg["ecr_repository"])
        self.assertIn(logs, coord)
        self.assertIn(repo, coord)
        self.assertIn("arn:aws:route53:::hostedzone/%s" % cfg["route53"]["zone_id"], coord)
        self.assertIn(logs, resources["task-execution-policy.json"])
        self.assertIn(repo, resources["task-execution-policy.json"])
        for stage in ("tests", "analysis", "playground"):
            td = load(os.path.join(TASKDEFS, stage + ".json"))
            self.assertEqual(td["executionRoleArn"], cfg["execution_role_arn"])
            self.assertEqual(td["containerDefinitions"][0]["logConfiguration"]["options"]["awslogs-group"],
                             cfg["log_group"])

    def test_s3_arns_are_the_jenkinsfiles_buckets(self):
        """The Nightly stage's buckets and prefixes (the Jenkinsfile's environment) are what
        nightly-scripts-policy.json allows, and the dump prefix what task-policy.json reads."""
        with open(os.path.join(SRC, "deploy", "Jenkinsfile")) as f:
            (pipeline,) = groovy_decl.parse(f.read()).sections("pipeline")
        env = {c.name: c.first_string() for c in pipeline.section("environment").children()}
        dumps = (env["DB_DUMP_BUCKET"], env["DB_DUMP_PREFIX"])
        assets = (env["ASSETS_BUCKET"], env["ASSETS_PREFIX"])

        def s3(path):
            doc = load(os.path.join(IAM, path))
            res = {r for st in statements(doc) for r in as_list(st.get("Resource", []))}
            prefixes = {(r, p) for st in statements(doc) if "s3:ListBucket" in as_list(st["Action"])
                        for r in as_list(st["Resource"])
                        for p in as_list(st.get("Condition", {}).get("StringLike", {}).get("s3:prefix", []))}
            return res, prefixes

        nightly, nightly_list = s3("nightly-scripts-policy.json")
        task, task_list = s3("task-policy.json")
        for bucket, prefix in (dumps, assets):
            self.assertTrue(prefix.endswith("/"), prefix)
            self.assertIn("arn:aws:s3:::%s/%s*" % (bucket, prefix), nightly)
            self.assertIn(("arn:aws:s3:::%s" % bucket, prefix), nightly_list)
            self.assertIn(("arn:aws:s3:::%s" % bucket, prefix + "*"), nightly_list)
        self.assertIn("arn:aws:s3:::%s/%s*" % dumps, task)
        self.assertIn(("arn:aws:s3:::%s" % dumps[0], dumps[1] + "*"), task_list)
        # every S3 ARN of the two documents is one of those buckets
        buckets = {dumps[0], assets[0]}
        for r in nightly | task:
            self.assertIn(r[len("arn:aws:s3:::"):].split("/")[0], buckets, r)


if __name__ == "__main__":
    unittest.main()
