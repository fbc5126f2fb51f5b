"""The README's first command, scripts/demo, end to end with the real binaries.

What it checks: `scripts/demo` (with SV_COORD and SV_AGENT instead of its own build, and
--no-deps) runs the stages "tests" and "analysis" of examples/site on the local backend and
  - exits 1 and ends with "pipeline failed: ..." naming both stages (the example fails on purpose);
  - writes JUnit files that parse, have the shape the Jenkins junit plugin reads, and hold every
    test PHPUnit itself reports, exactly once, with PHPUnit's own status (the ground truth is a
    direct PHPUnit run of the same command as examples/stages/tests.json, in another copy);
  - holds every finding of phpcs, phpmd and phpcpd (again: the tools run directly, as the spec
    runs them, are the ground truth), failing only where the spec's fail_on says so (phpcs
    errors fail, its warnings and phpcpd's duplication pass with their text in <system-out>);
  - writes summaries whose verdicts and counts agree with the JUnit files, and phploc metrics;
  - leaves the source tree clean (the stages run in a workspace copy under --out).
Then `scripts/demo --stages playground` brings Apache + mod_php up through
`stagevisor playground up` on a port of its own, gets the example page from it at
http://demo.localhost:PORT/, brings it down (port closed again,
no Apache left), and exits 0 with "pipeline passed": the verdict is not always "failed".
With the coordinator's scripted agent: a stage whose results never arrive exits 3 (no silent
pass), all-passing tests exit 0, failing ones 1. And usage errors exit 2.
It does not check the console layout (the coordinator's tests do) or timings.
"""
import glob
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svtest  # noqa: E402

SRC = os.environ.get("SV_SRC") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEMO = os.path.join(SRC, "scripts", "demo")
STAGES = os.path.join(SRC, "examples", "stages")


coord_path = svtest.coord_path


def run_demo(out, *args, timeout=None):
    cmd = [DEMO, "--no-deps", "--coord", coord_path(), "--agent", svtest.agent_path(), "--out", out] + list(args)
    p = subprocess.run(cmd, cwd=SRC, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout or svtest.slack(240))
    text = p.stdout.decode("utf-8", "replace")
    svtest.note_sanitizer(text.splitlines())
    return p.returncode, text


def load_spec(stage):
    with open(os.path.join(STAGES, stage + ".json")) as f:
        return json.load(f)


def run_spec_directly(stage, workspace):
    """Runs the processes of a job stage's spec in order, without stagevisor, in workspace
    (a copy of examples/): the tools' own reports are the ground truth. Returns
    {process name: [report paths]}."""
    reports = {}
    for p in load_spec(stage)["processes"]:
        cwd = os.path.join(workspace, p.get("cwd", "."))
        env = dict(os.environ)
        env.update(p.get("env", {}))
        r = subprocess.run(p["command"], cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=120)
        ok = p.get("success_exit_codes", [0])
        if r.returncode not in ok and not p.get("results"):  # PHPUnit exits 1/2 when tests fail
            raise AssertionError("%s exited %d running directly (%s)" % (p["name"], r.returncode, p["command"]))
        for res in p.get("results", []):
            if "path" in res:
                reports.setdefault(p["name"], []).extend(glob.glob(os.path.join(cwd, res["path"])))
    return reports


def junit_cases(path):
    """(root, [(suite name, testcase element)]) with the junit plugin's shape checked."""
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites", root.tag
    cases = []
    for suite in root:
        assert suite.tag == "testsuite", suite.tag
        n = 0
        for case in suite:
            assert case.tag == "testcase", case.tag
            assert case.get("name") and case.get("classname"), ET.tostring(case)
            kids = [k.tag for k in case]
            assert len([k for k in kids if k in ("failure", "error", "skipped")]) <= 1, kids
            cases.append((suite.get("name"), case))
            n += 1
        assert int(suite.get("tests")) == n, (suite.get("name"), suite.get("tests"), n)
    return root, cases


def case_status(case):
    for k in case:
        if k.tag == "failure":
            return "failed"
        if k.tag == "error":
            return "error"
        if k.tag == "skipped":
            return "skipped"
    return "passed"


def phpunit_truth(report):
    """{(class, name): status} from PHPUnit's own JUnit file."""
    truth = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        key = (case.get("class") or case.get("classname"), case.get("name"))
        assert key not in truth, key
        truth[key] = case_status(case)
    return truth


class DemoTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sv-demo-")
        cls.out = os.path.join(cls.tmp, "out")
        cls.tree_before = os.path.exists(os.path.join(SRC, "examples", "site", "build"))
        cls.rc, cls.text = run_demo(cls.out)
        cls.junit = {s: os.path.join(cls.out, "junit", s + ".xml") for s in ("tests", "analysis")}
        cls.summary = {}
        for s in ("tests", "analysis"):
            try:
                with open(os.path.join(cls.out, "summary", s + ".json")) as f:
                    cls.summary[s] = json.load(f)
            except (OSError, ValueError):
                cls.summary[s] = None
        # The ground truth: the same commands, run directly in another copy of examples/.
        cls.truth_ws = os.path.join(cls.tmp, "truth")
        shutil.copytree(os.path.join(SRC, "examples"), os.path.join(cls.truth_ws, "examples"),
                        ignore=shutil.ignore_patterns("build"))
        cls.truth = {s: run_spec_directly(s, cls.truth_ws) for s in ("tests", "analysis")}

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def tearDown(self):
        self.assertEqual(svtest.take_sanitizer_reports(), [])

    def explain(self):
        return "scripts/demo exited %d; its output ends:\n%s" % (self.rc, "\n".join(self.text.splitlines()[-60:]))

    def test_exit_code_and_verdict(self):
        self.assertEqual(self.rc, 1, self.explain())
        last = [ln for ln in self.text.splitlines() if ln.startswith("pipeline ")]
        self.assertTrue(last, self.explain())
        verdict = last[-1]
        self.assertTrue(verdict.startswith("pipeline failed: "), verdict)
        (report,) = self.truth["tests"]["phpunit"]
        bad = sum(1 for st in phpunit_truth(report).values() if st in ("failed", "error"))
        self.assertIn("tests: %d tests failed" % bad, verdict)
        self.assertIn("analysis: ", verdict)
        self.assertIn("JUnit files (for the Jenkins junit plugin): ", self.text)

    def test_tests_junit_matches_phpunit(self):
        self.assertTrue(os.path.exists(self.junit["tests"]), self.explain())
        _, cases = junit_cases(self.junit["tests"])
        got = {}
        for suite, case in cases:
            key = (case.get("classname"), case.get("name"))
            self.assertNotIn(key, got, "test case twice in the JUnit file: %s" % (key,))
            got[key] = case_status(case)
        (report,) = self.truth["tests"]["phpunit"]
        truth = phpunit_truth(report)
        # Every case is PHPUnit's: no case of stagevisor's own, and the counts are PHPUnit's.
        self.assertEqual(got, truth)
        root, _ = junit_cases(self.junit["tests"])
        own = ET.parse(report).getroot().find("testsuite")
        for attr in ("tests", "failures", "errors", "skipped"):
            self.assertEqual(root.get(attr), own.get(attr), "%s: ours %s, PHPUnit's %s" % (attr, root.get(attr), own.get(attr)))
        # The example's deliberate outcomes, so that an empty or shrunken suite cannot pass.
        self.assertEqual(truth[("Example\\Tests\\CartTest", "testBulkDiscount")], "failed")
        self.assertEqual(truth[("Example\\Tests\\CartTest", "testNegativeQuantity")], "error")
        self.assertEqual(truth[("Example\\Tests\\CartTest", 'testTotals with data set "wrong"')], "failed")
        self.assertGreaterEqual(list(truth.values()).count("passed"), 1)
        self.assertGreaterEqual(list(truth.values()).count("skipped"), 1)

    def test_tests_failure_messages_survive(self):
        _, cases = junit_cases(self.junit["tests"])
        bulk = [c for _, c in cases if c.get("name") == "testBulkDiscount"]
        self.assertEqual(len(bulk), 1)
        failure = bulk[0].find("failure")
        self.assertIsNotNone(failure)
        # Characters that need escaping in XML attributes, through PHPUnit -> agent -> stream -> XML.
        self.assertIn('total with <5% discount> & "quotes"', failure.get("message"))
        self.assertIn("238", failure.get("message"))
        # Failed tests are the tools' cases only: no stage case, no stagevisor suite.
        self.assertEqual([c for _, c in cases if c.get("classname", "").startswith("stagevisor.")], [])
        self.assertNotIn("stagevisor", [s for s, _ in cases])

    def test_analysis_junit_matches_tools(self):
        self.assertTrue(os.path.exists(self.junit["analysis"]), self.explain())
        _, cases = junit_cases(self.junit["analysis"])
        by_tool = {}
        for suite, case in cases:
            by_tool.setdefault(suite, []).append(case)
        self.assertNotIn("stagevisor", by_tool, "findings only: no case of stagevisor's own")
        # phpcs: one case per <error> of its checkstyle report. Its entry has fail_on "error":
        # errors are failures (severity as type), warnings pass with their text in <system-out>.
        (cs,) = self.truth["analysis"]["phpcs"]
        want = sorted(e.get("severity") for e in ET.parse(cs).getroot().iter("error"))
        self.assertIn("error", want)
        self.assertIn("warning", want)
        got = sorted(c.find("failure").get("type") for c in by_tool.get("phpcs", []) if c.find("failure") is not None)
        self.assertEqual(got, [w for w in want if w == "error"], "phpcs findings that fail")
        passed = [c for c in by_tool.get("phpcs", []) if case_status(c) == "passed"]
        self.assertEqual(len(passed), want.count("warning"), "phpcs warnings pass")
        for c in passed:
            self.assertTrue((c.findtext("system-out") or "").startswith("warning "), ET.tostring(c))
        self.assertEqual(len(by_tool.get("phpcs", [])), len(want))
        # phpmd: one case per <violation>.
        (pmd,) = self.truth["analysis"]["phpmd"]
        violations = list(ET.parse(pmd).getroot().iter("violation"))
        self.assertGreaterEqual(len(violations), 2)
        self.assertEqual(len(by_tool.get("phpmd", [])), len(violations), "phpmd findings")
        rules = sorted(c.get("classname") for c in by_tool["phpmd"])
        self.assertEqual(rules, sorted("phpmd." + v.get("rule") for v in violations))
        # phpcpd: one case per <duplication> (Cart::total() copied into Invoice::sum()).
        (cpd,) = self.truth["analysis"]["phpcpd"]
        dups = list(ET.parse(cpd).getroot().iter("duplication"))
        self.assertEqual(len(dups), 1)
        self.assertEqual(len(by_tool.get("phpcpd", [])), len(dups), "phpcpd findings")
        # fail_on "never": reported, not failing (Jenkins must not show it as a failure).
        for c in by_tool["phpcpd"]:
            self.assertEqual(case_status(c), "passed", ET.tostring(c))
            self.assertIn("duplication", c.findtext("system-out") or "")
        # Every finding case names a file of the example.
        for tool in ("phpcs", "phpmd", "phpcpd"):
            for c in by_tool[tool]:
                self.assertIn("examples/site/src/", c.get("file", ""), ET.tostring(c))

    def test_summaries_agree(self):
        t, a = self.summary["tests"], self.summary["analysis"]
        self.assertIsNotNone(t, self.explain())
        self.assertIsNotNone(a, self.explain())
        self.assertEqual((t["result"], t["exit_code"], t["complete"]), ("failed", 1, True))
        (report,) = self.truth["tests"]["phpunit"]
        statuses = list(phpunit_truth(report).values())
        self.assertEqual(t["tests"], {k: statuses.count(k) for k in ("passed", "failed", "error", "skipped")})
        self.assertEqual((a["result"], a["exit_code"], a["complete"]), ("failed", 1, True))
        # phpcs and phpmd errors fail the stage (fail_on "error"); phpcpd is reported only.
        self.assertGreaterEqual(a["findings"]["error"], 2)
        self.assertGreaterEqual(a["findings"]["warning"], 2)
        self.assertGreater(a["metrics"], 0, "phploc's metrics")
        self.assertEqual(t["problems"], [])
        self.assertEqual(a["problems"], [])

    def test_reports_in_workspace_not_in_tree(self):
        reports = os.path.join(self.out, "workspace", "examples", "site", "build", "reports")
        for name in ("phpunit.xml", "phpcs.xml", "phpmd.xml", "phpcpd.xml", "phploc.json"):
            self.assertTrue(os.path.exists(os.path.join(reports, name)), name)
        if not self.tree_before:
            self.assertFalse(os.path.exists(os.path.join(SRC, "examples", "site", "build")),
                             "the demo wrote into the source tree")


def port_open(port):
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


class PlaygroundTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sv-pg-")

    def tearDown(self):
        out = os.path.join(self.tmp, "out")
        if os.path.isdir(os.path.join(out, "state")):  # never leave a playground behind
            subprocess.run([coord_path(), "playground", "down", "--name", "demo", "--state-dir",
                            os.path.join(out, "state")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=120)
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.assertEqual(svtest.take_sanitizer_reports(), [])

    def test_playground_up_request_down(self):
        out = os.path.join(self.tmp, "out")
        rc, text = run_demo(out, "--stages", "playground")  # its own free port, from `up`
        tail = "\n".join(text.splitlines()[-40:])
        self.assertEqual(rc, 0, tail)
        m = re.search(r"playground demo is up: http://demo\.localhost:(\d+)/ \(served on 127\.0\.0\.1:(\d+)\)", text)
        self.assertTrue(m and m.group(1) == m.group(2), tail)
        port = int(m.group(1))
        self.assertIn("$ curl http://demo.localhost:%d/?name=demo" % port, text)
        self.assertIn("Hello, demo!", text)
        self.assertIn("playground demo is down", text)
        self.assertEqual([ln for ln in text.splitlines() if ln.startswith("pipeline ")][-1], "pipeline passed")
        self.assertFalse(port_open(port), "Apache still listens after playground down")
        log = os.path.join(out, "state", "playgrounds", "demo.log")
        with open(log, errors="replace") as f:
            log_text = f.read()
        self.assertIn("caught SIGWINCH, shutting down gracefully", log_text)  # its stop_signal
        self.assertIn('"GET /?name=demo HTTP/1.1" 200', log_text)  # access log through the agent


class VerdictTest(unittest.TestCase):
    """The demo's own verdict, with the coordinator's scripted agent (coord_fake_agent.py) in
    place of the real one: a stage whose results never arrive is not a pass, and a stage whose
    tests all pass is one."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sv-verdict-")
        self.fake = os.path.join(os.path.dirname(os.path.abspath(__file__)), "coord_fake_agent.py")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.assertEqual(svtest.take_sanitizer_reports(), [])

    def demo_with_plan(self, plan):
        out = os.path.join(self.tmp, "out-%d" % len(os.listdir(self.tmp)))
        cmd = [DEMO, "--no-deps", "--coord", coord_path(), "--agent", self.fake, "--out", out, "--stages", "tests"]
        env = dict(os.environ, FAKE_AGENT_PLAN=json.dumps(plan))
        p = subprocess.run(cmd, cwd=SRC, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=svtest.slack(120))
        text = p.stdout.decode("utf-8", "replace")
        svtest.note_sanitizer(text.splitlines())
        verdict = [ln for ln in text.splitlines() if ln.startswith("pipeline ")]
        return p.returncode, verdict[-1] if verdict else "", text

    def test_no_results_is_not_a_pass(self):
        rc, verdict, text = self.demo_with_plan({"tests": 0, "result": 0})
        self.assertEqual(rc, 3, text[-3000:])
        self.assertEqual(verdict, "pipeline failed: tests: no test results reached the coordinator, "
                                  "although the tools ran (see their output above)")

    def test_passing_tests_pass(self):
        rc, verdict, text = self.demo_with_plan({"tests": 5, "failed": 0, "result": 0})
        self.assertEqual(rc, 0, text[-3000:])
        self.assertEqual(verdict, "pipeline passed")
        self.assertIn("5 passed, 0 failed, 0 errors, 0 skipped", text)

    def test_failing_tests_fail(self):
        rc, verdict, text = self.demo_with_plan({"tests": 5, "failed": 2, "result": 1})
        self.assertEqual(rc, 1, text[-3000:])
        self.assertEqual(verdict, "pipeline failed: tests: 2 tests failed")


class UsageTest(unittest.TestCase):
    def test_usage_errors(self):
        for args in (["--stages", "bogus"], ["--port", "0"], ["--frobnicate"]):
            p = subprocess.run([DEMO] + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
            self.assertEqual(p.returncode, 2, (args, p.stdout))
        p = subprocess.run([DEMO, "--help"], stdout=subprocess.PIPE, timeout=60)
        self.assertEqual(p.returncode, 0)
        self.assertIn(b"--playground", p.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
