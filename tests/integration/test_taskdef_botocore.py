"""The ECS requests a stage becomes (coordinator/taskdef.c) checked against botocore's ECS
service model: every field known and well-typed (botocore's own parameter validator), for each
stage of deploy/pipeline.example.json. botocore is the real peer here: it is what the AWS CLI
and SDKs validate and serialise requests with."""
import json
import os
import subprocess
import unittest

try:
    import botocore.session
    from botocore.validate import ParamValidator
    BOTOCORE = None
except ImportError as e:  # a user's machine without botocore: say why, never pass silently
    BOTOCORE = str(e)

SRC = os.environ.get("SV_SRC") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("SV_BUILD") or os.path.join(SRC, "build")
TOOL = os.path.join(BUILD, "tests", "unit", "taskdef_dump")


@unittest.skipIf(BOTOCORE, "botocore is not installed: %s" % BOTOCORE)
class TaskdefAgainstBotocore(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = botocore.session.get_session().get_service_model("ecs")
        out = subprocess.run([TOOL, os.path.join(SRC, "deploy", "pipeline.example.json")],
                             capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise AssertionError("taskdef_dump failed: " + out.stderr)
        cls.stages = [json.loads(ln) for ln in out.stdout.splitlines() if ln.strip()]

    def validate(self, operation, params):
        shape = self.model.operation_model(operation).input_shape
        report = ParamValidator().validate(params, shape)
        self.assertFalse(report.has_errors(), "%s: %s" % (operation, report.generate_report()))

    def test_every_stage(self):
        self.assertEqual(sorted(s["stage"] for s in self.stages), ["analysis", "playground", "tests"])
        for s in self.stages:
            with self.subTest(stage=s["stage"]):
                self.validate("RegisterTaskDefinition", s["register"])
                self.validate("RunTask", s["run"])
                self.assertLessEqual(len(json.dumps(s["run"]["overrides"], separators=(",", ":"))), 8192)
                self.assertLessEqual(len(s["run"]["clientToken"]), 64)
                names = [e["name"] for e in s["run"]["overrides"]["containerOverrides"][0]["environment"]]
                self.assertEqual(names, ["STAGEVISOR_URL", "STAGEVISOR_TOKEN", "STAGEVISOR_PIN",
                                         "STAGEVISOR_STREAM", "STAGEVISOR_SPEC"])

    def test_validator_catches_a_bad_field(self):
        """The check can fail: a misspelt field is reported by botocore's validator."""
        bad = dict(self.stages[0]["register"])
        bad["containerDefinition"] = bad.pop("containerDefinitions")
        shape = self.model.operation_model("RegisterTaskDefinition").input_shape
        self.assertTrue(ParamValidator().validate(bad, shape).has_errors())


if __name__ == "__main__":
    unittest.main()
