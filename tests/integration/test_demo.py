"""The README's first command, scripts/demo, end to end with the real binaries and peers.

The demo runs three times here (it is the test; each run takes seconds), in one output
directory, as a user would run it again and again:
  1. green: exits 0; its console has every stage's prefixed lines, the playground's URL and
     the page fetched from it (the site's heading, served by mod_php); the summary table has a
     row per stage (build, tests, analysis, playground, teardown) whose counts are the tools'
     own (PHPUnit's JUnit files in the workspace, the hooks' JUnit file); the JUnit files hold
     exactly PHPUnit's cases; the playground is down afterwards (its port closed) and no
     process of the run is left;
  2. red, with the documented switch SV_DEMO_FAIL=1 in the environment, in the same output
     directory (a second run: state, ports, the previous workspace): exits 1, the failed test
     is named in the console (the coordinator's FAILED line and the summary's "failed:" list)
     and is the one <failure> of the tests JUnit file, with PHPUnit's message;
  3. red again, with --fail, after a playground "demo" was left up in the demo's state
     directory (as an interrupted run leaves it): the demo brings it down first, then runs
     and exits 1; no process is left.
Also: usage errors exit 2, --help documents the switches. It does not check timings (the
demo's own "done in N s" line is for people), nor the Fargate path (--fargate:
test_demo_fargate.py).
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svtest  # noqa: E402
from svtest import case_status, junit_cases  # noqa: E402

SRC = os.environ.get("SV_SRC") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEMO = os.path.join(SRC, "scripts", "demo")
SITE_REL = os.path.join("examples", "drupal-like-site")
FAILING = ("Drupal\\Tests\\sv_shop\\Unit\\PriceCalculatorTest", "testGrossAddsVat")
STAGES = ["build", "tests", "analysis", "playground", "teardown"]


def run_demo(out, *args, env=None):
    cmd = [DEMO, "--no-deps", "--coord", svtest.coord_path(), "--agent", svtest.agent_path(), "--out", out]
    full_env = dict(os.environ)
    full_env.pop("SV_DEMO_FAIL", None)
    full_env.update(env or {})
    p = subprocess.run(cmd + list(args), cwd=SRC, env=full_env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=svtest.slack(400))
    text = p.stdout.decode("utf-8", "replace")
    svtest.note_sanitizer(text.splitlines())
    return p.returncode, text


def workspace(out):
    """The run's workspace: OUT/workspace, or the temporary one recorded in OUT/workspace.path."""
    try:
        with open(os.path.join(out, "workspace.path")) as f:
            return f.read().strip()
    except FileNotFoundError:
        return os.path.join(out, "workspace")


def processes_under(paths):
    """(pid, cmdline) of every process whose cwd or command line is under one of paths."""
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            cwd = os.readlink("/proc/%s/cwd" % d)
            with open("/proc/%s/cmdline" % d, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if any(cwd == p or cwd.startswith(p + "/") or p in cmd for p in paths):
            found.append((int(d), cmd))
    return found


def port_open(port):
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0






def summary_rows(text):
    """{stage: row text} of the demo's summary table."""
    lines = text.splitlines()
    start = lines.index("pipeline summary")
    rows = {}
    for ln in lines[start + 2:]:
        if not ln.startswith("  "):
            break
        rows[ln.split()[0]] = ln
    return rows


class Run:
    """One demo run and what it left: exit code, console, JUnit files, PHPUnit's own reports,
    the processes still there after it."""

    def __init__(self, out, keep, *args, env=None):
        self.rc, self.text = run_demo(out, *args, env=env)
        self.ws = workspace(out)
        self.reports = os.path.join(self.ws, SITE_REL, "build", "reports")
        self.junit_shown = {s: os.path.join(out, "junit", s + ".xml") for s in ("build", "tests", "analysis")}
        # The JUnit files are kept in `keep`: the next run replaces them.
        if os.path.isdir(os.path.join(out, "junit")):
            shutil.copytree(os.path.join(out, "junit"), keep)
        self.junit = {s: os.path.join(keep, s + ".xml") for s in ("build", "tests", "analysis")}
        self.strays = processes_under([self.ws, out])
        # What the tools themselves reported, read now: the next run replaces this workspace.
        self.truth, self.findings, self.active_config = None, None, False
        try:
            self.truth = {}
            for name in ("unit.xml", "browser.xml"):
                for key, case in junit_cases(os.path.join(self.reports, name)).items():
                    self.truth[key] = case_status(case)
            self.findings = sum(len(list(ET.parse(os.path.join(self.reports, name)).getroot().iter(tag)))
                                for name, tag in (("phpcs.xml", "error"), ("phpmd.xml", "violation"),
                                                  ("phpcpd.xml", "duplication")))
        except (OSError, ET.ParseError) as e:
            self.missing = str(e)
        self.active_config = os.path.exists(os.path.join(self.ws, SITE_REL, "var", "config", "active.json"))

    def explain(self):
        return "scripts/demo exited %d; its output ends:\n%s" % (self.rc, "\n".join(self.text.splitlines()[-70:]))

    def phpunit_truth(self):
        assert self.findings is not None, "the tools' reports were not all there: " + self.missing
        return self.truth


class DemoTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sv-demo-")  # 0700: the demo must find www-data a workspace
        cls.out = os.path.join(cls.tmp, "out")
        cls.tree_had = {d: os.path.exists(os.path.join(SRC, SITE_REL, d)) for d in ("build", "var")}
        cls.green = Run(cls.out, os.path.join(cls.tmp, "junit-1"))
        cls.red = Run(cls.out, os.path.join(cls.tmp, "junit-2"), env={"SV_DEMO_FAIL": "1"})
        # An interrupted run's leftover: a playground "demo" up in the demo's state directory.
        cls.left_port = None
        cls.left_up = subprocess.run(
            [svtest.coord_path(), "playground", "up", "--backend", "local", "--spec",
             os.path.join(cls.out, "specs", "playground.json"), "--agent", svtest.agent_path(), "--name", "demo",
             "--timeout", "120", "--state-dir", os.path.join(cls.out, "state")],
            cwd=cls.red.ws, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            timeout=svtest.slack(200))
        m = re.search(rb"served on 127\.0\.0\.1:(\d+)", cls.left_up.stdout)
        if m:
            cls.left_port = int(m.group(1))
        cls.again = Run(cls.out, os.path.join(cls.tmp, "junit-3"), "--fail")

    @classmethod
    def tearDownClass(cls):
        for run in (cls.green, cls.red, cls.again):
            svtest.kill_strays(run.ws)
            if run.ws.startswith("/tmp/stagevisor-demo."):
                shutil.rmtree(run.ws, ignore_errors=True)
        svtest.kill_strays(cls.tmp)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def tearDown(self):
        self.assertEqual(svtest.take_sanitizer_reports(), [])

    # ---- 1. green ----------------------------------------------------------------------
    def test_green_exit_and_verdict(self):
        g = self.green
        self.assertEqual(g.rc, 0, g.explain())
        self.assertEqual([ln for ln in g.text.splitlines() if ln.startswith("pipeline ")][-1], "pipeline passed")
        self.assertEqual(list(summary_rows(g.text)), STAGES, g.explain())
        for stage, row in summary_rows(g.text).items():
            self.assertEqual(row.split()[1], "passed", row)
            self.assertRegex(row, r" \d+s$", "the stage's time")

    def test_green_stages_ran_side_by_side_prefixed(self):
        lines = self.green.text.splitlines()
        for stage in ("build", "tests", "analysis", "playground", "teardown"):
            self.assertIn("%-10s | " % stage, "\n".join(lines), stage)
        # The three parallel stages' lines are all prefixed between their banner and teardown.
        a = lines.index("== stages tests, analysis and playground, in parallel")
        b = lines.index("== teardown")
        block = [ln for ln in lines[a + 1:b] if ln]
        self.assertTrue(block)
        bad = [ln for ln in block if not re.match(r"(tests|analysis|playground) +\| ", ln)]
        self.assertEqual(bad, [])
        # Each process's output, through the agent and the coordinator, under its stage.
        self.assertIn("tests      | unit | OK (14 tests", self.green.text)
        self.assertIn("tests      | browser | OK (3 tests", self.green.text)
        self.assertRegex(self.green.text, r"analysis   \| phpcpd \| Found 1 clones")

    def test_green_playground_fetched(self):
        g = self.green
        m = re.search(r"^playground \| the playground: (http://demo\.localhost:(\d+)/)$", g.text, re.M)
        self.assertTrue(m, g.explain())
        url, port = m.group(1), int(m.group(2))
        self.assertIn("playground | $ curl %s\n" % url, g.text)
        self.assertIn("playground | Welcome to Stagevisor Demo Shop\n", g.text)
        self.assertIn('playground | data-sapi="apache2handler"\n', g.text)
        self.assertIn("served " + url, summary_rows(g.text)["playground"])
        self.assertIn("teardown   | playground demo is down", g.text)
        self.assertFalse(port_open(port), "the playground's Apache still listens after the demo")
        self.assertFalse(os.path.exists(os.path.join(self.out, "state", "playgrounds", "demo.json")))

    def test_green_counts_are_the_tools_own(self):
        g = self.green
        truth = g.phpunit_truth()
        self.assertEqual(len(truth), 17)  # 14 unit + 3 browser tests (examples/drupal-like-site/README.md)
        self.assertEqual(set(truth.values()), {"passed"})
        got = {k: case_status(c) for k, c in junit_cases(g.junit["tests"]).items()}
        self.assertEqual(got, truth)
        rows = summary_rows(g.text)
        self.assertIn("17 tests: 17 passed, 0 failed, 0 errors, 0 skipped", rows["tests"])
        hooks = junit_cases(g.junit["build"])
        self.assertEqual(sorted(n for _, n in hooks), ["10-cache-flush.sh", "20-config-import.sh", "30-database-update.sh"])
        self.assertIn("3 hooks: 3 passed, 0 failed, 0 not run", rows["build"])
        # The hooks ran in the workspace: the site there has its active configuration.
        self.assertTrue(g.active_config)
        # Analysis: every finding of the tools' reports, none failing (fail_on keeps it green).
        n = g.findings
        self.assertGreater(n, 0)
        self.assertIn("%d findings: 0 errors, %d warnings, 0 info" % (n, n), rows["analysis"])
        analysis = junit_cases(g.junit["analysis"])
        self.assertEqual(len(analysis), n)
        self.assertEqual({case_status(c) for c in analysis.values()}, {"passed"})
        for path in g.junit_shown.values():
            self.assertIn(os.path.relpath(path, SRC) if path.startswith(SRC + "/") else path, g.text)

    def test_green_leaves_nothing(self):
        self.assertEqual(self.green.strays, [])
        for d, had in self.tree_had.items():
            if not had:
                self.assertFalse(os.path.exists(os.path.join(SRC, SITE_REL, d)), "the demo wrote into the source tree: " + d)

    # ---- 2. red, a second run ----------------------------------------------------------
    def test_red_exit_and_failed_test_named(self):
        r = self.red
        self.assertEqual(r.rc, 1, r.explain())
        name = "%s::%s" % FAILING
        self.assertIn("tests      | [", r.text)
        self.assertRegex(r.text, r"(?m)^tests +\| \[\d\d:\d\d:\d\d\] FAILED %s: " % re.escape(name))
        failed = r.text[r.text.index("\nfailed:\n"):]
        self.assertIn("  tests      %s  (in " % name, failed)
        self.assertIn("Failed asserting that 12960 is identical to 12000.", failed)
        self.assertEqual([ln for ln in r.text.splitlines() if ln.startswith("pipeline ")][-1],
                         "pipeline failed: tests: 1 test failed")
        rows = summary_rows(r.text)
        self.assertEqual(rows["tests"].split()[1], "failed")
        self.assertIn("17 tests: 16 passed, 1 failed, 0 errors, 0 skipped", rows["tests"])
        for stage in ("build", "analysis", "playground", "teardown"):
            self.assertEqual(rows[stage].split()[1], "passed", rows[stage])

    def test_red_junit_has_the_failure(self):
        r = self.red
        cases = junit_cases(r.junit["tests"])
        bad = {k: c for k, c in cases.items() if case_status(c) != "passed"}
        self.assertEqual(list(bad), [FAILING])
        self.assertIn("Failed asserting that 12960 is identical to 12000.", bad[FAILING].find("failure").get("message"))
        self.assertEqual({k: case_status(c) for k, c in cases.items()}, r.phpunit_truth())

    def test_second_run_replaced_the_first(self):
        self.assertNotEqual(self.green.ws, "")
        self.assertFalse(self.green.ws != self.red.ws and os.path.exists(self.green.ws),
                         "the first run's temporary workspace is still there")
        with open(os.path.join(self.out, "summary", "tests.json")) as f:
            self.assertEqual(json.load(f)["result"], "failed")  # the third run's (red) summary
        self.assertEqual(self.red.strays, [])

    # ---- 3. after an interrupted run ---------------------------------------------------
    def test_leftover_playground_brought_down_first(self):
        a = self.again
        self.assertEqual(self.left_up.returncode, 0, self.left_up.stdout.decode(errors="replace")[-2000:])
        self.assertIn("demo: bringing down the playground an earlier demo left up", a.text)
        self.assertEqual(a.rc, 1, a.explain())
        self.assertIn("demo: the failing switch is on (SV_DEMO_FAIL=1)", a.text)
        self.assertRegex(a.text, r"(?m)^tests +\| \$ SV_DEMO_FAIL=1 stagevisor run ")
        self.assertEqual(summary_rows(a.text)["playground"].split()[1], "passed", a.explain())
        self.assertEqual(a.strays, [])
        self.assertIsNotNone(self.left_port)
        self.assertFalse(port_open(self.left_port), "the leftover playground still listens")


class UsageTest(unittest.TestCase):
    def test_usage_errors(self):
        for args in (["--timeout", "x"], ["--frobnicate"], ["--coord", "/bin/true"]):
            p = subprocess.run([DEMO] + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
            self.assertEqual(p.returncode, 2, (args, p.stdout))
        p = subprocess.run([DEMO, "--help"], stdout=subprocess.PIPE, timeout=60)
        self.assertEqual(p.returncode, 0)
        for opt in (b"--fail", b"SV_DEMO_FAIL=1", b"--fargate"):
            self.assertIn(opt, p.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
