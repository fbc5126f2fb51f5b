"""`scripts/demo --fargate --fail`: the demo pipeline through the Fargate backend, against
moto on 127.0.0.1 with tests/integration/fargate_launcher.py playing Fargate (scripts/demo-fargate
sets the scene; the coordinator holds only deploy/iam/coordinator-policy.json).

One run, red (the failing switch travels in the tests spec, since a task's environment is its
spec's): exits 1; the tests and analysis stages ran as ECS tasks (task definitions registered,
tasks started, their stream received), the failed test is named in the console and is the one
<failure> of the tests JUnit file; analysis passed with the tools' findings; the playground came
up as a task, its URL (the task's address) was printed and fetched with curl --connect-to at the
loopback port where the launcher runs it, and the page is the site's; the teardown stopped its
task; afterwards moto's port is closed and no process of the run is left. Without moto or boto3
it exits 77 (skipped) with the reason. Timings are not checked.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svtest  # noqa: E402
from test_demo import (FAILING, STAGES, case_status, junit_cases, port_open, processes_under,  # noqa: E402
                       run_demo, summary_rows, workspace)


def skip_reason():
    try:
        import fargatetest
    except ImportError as e:
        return "fargatetest cannot be imported: %s" % e
    return fargatetest.skip_reason()


class DemoFargateTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sv-demo-fg-")
        cls.out = os.path.join(cls.tmp, "out")
        cls.rc, cls.text = run_demo(cls.out, "--fargate", "--fail")
        cls.ws = workspace(cls.out)
        cls.strays = processes_under([cls.ws, cls.out])
        try:
            with open(os.path.join(cls.out, "fargate", "scene.json")) as f:
                cls.scene = json.load(f)
        except (OSError, ValueError):
            cls.scene = None

    @classmethod
    def tearDownClass(cls):
        svtest.kill_strays(cls.ws)
        svtest.kill_strays(cls.tmp)
        if cls.ws.startswith("/tmp/stagevisor-demo."):
            shutil.rmtree(cls.ws, ignore_errors=True)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def tearDown(self):
        self.assertEqual(svtest.take_sanitizer_reports(), [])

    def explain(self):
        return "scripts/demo exited %d; its output ends:\n%s" % (self.rc, "\n".join(self.text.splitlines()[-70:]))

    def test_red_through_fargate(self):
        self.assertEqual(self.rc, 1, self.explain())
        rows = summary_rows(self.text)
        self.assertEqual(list(rows), STAGES, self.explain())
        self.assertIn("17 tests: 16 passed, 1 failed, 0 errors, 0 skipped", rows["tests"])
        for stage in ("build", "analysis", "playground", "teardown"):
            self.assertEqual(rows[stage].split()[1], "passed", rows[stage])
        self.assertEqual([ln for ln in self.text.splitlines() if ln.startswith("pipeline ")][-1],
                         "pipeline failed: tests: 1 test failed")
        name = "%s::%s" % FAILING
        self.assertRegex(self.text, r"(?m)^tests +\| \[\d\d:\d\d:\d\d\] FAILED %s: " % re.escape(name))
        self.assertIn("  tests      %s  (in " % name, self.text)

    def test_stages_were_tasks(self):
        for stage in ("tests", "analysis"):
            self.assertRegex(self.text, r"(?m)^%s +\| \$ stagevisor run --backend fargate --config \S+ --stage %s "
                             % (stage, stage))
            self.assertRegex(self.text, r"(?m)^%s +\| .*task-definition/stagevisor-%s:\d+" % (stage, stage))
            self.assertRegex(self.text, r"(?m)^%s +\| .*stage %s: task [0-9a-f-]+ started" % (stage, stage))
        self.assertIsNotNone(self.scene, self.explain())
        self.assertTrue(self.scene["moto"].startswith("http://127.0.0.1:"), self.scene)

    def test_junit(self):
        cases = junit_cases(os.path.join(self.out, "junit", "tests.xml"))
        self.assertEqual(len(cases), 17)
        bad = [k for k, c in cases.items() if case_status(c) != "passed"]
        self.assertEqual(bad, [FAILING])
        msg = cases[FAILING].find("failure").get("message")
        self.assertIn("Failed asserting that 12960 is identical to 12000.", msg)
        analysis = junit_cases(os.path.join(self.out, "junit", "analysis.xml"))
        self.assertTrue(analysis)
        self.assertEqual({case_status(c) for c in analysis.values()}, {"passed"})
        ET.parse(os.path.join(self.out, "junit", "build.xml"))

    def test_playground_task_fetched_and_stopped(self):
        m = re.search(r"(?m)^playground \| the playground: (http://([0-9.]+)/)$", self.text)
        self.assertTrue(m, self.explain())
        url, addr = m.group(1), m.group(2)
        self.assertRegex(self.text, r"(?m)^playground \| \$ curl --connect-to %s:80:127\.0\.0\.1:\d+ %s$"
                         % (re.escape(addr), re.escape(url)))
        self.assertIn("playground | Welcome to Stagevisor Demo Shop\n", self.text)
        self.assertIn('playground | data-sapi="apache2handler"\n', self.text)
        self.assertRegex(self.text, r"(?m)^teardown +\| playground demo: stopped task [0-9a-f-]+$")
        with open(os.path.join(self.out, "specs", "playground.port")) as f:
            self.assertFalse(port_open(int(f.read())), "the playground's Apache still listens")

    def test_nothing_left(self):
        self.assertEqual(self.strays, [])
        if self.scene:
            self.assertFalse(port_open(int(self.scene["moto"].rsplit(":", 1)[1])), "moto still listens")


if __name__ == "__main__":
    why = skip_reason()
    if why:
        print("test_demo_fargate: skipped: %s" % why)
        sys.exit(77)
    unittest.main(verbosity=2)
