"""The agent's live results (issue 3, "Live, not at the end"): the real stagevisor-agent runs
stages whose processes write JUnit files (in pieces, several Surefire-style files during the run)
and TeamCity lines on stdout, and real PHPUnit on a copy of examples/site. Checks: results
arrive while the process still runs; every test is on the fallback channel exactly once (the
final parse at process end re-reads every file); the exit code reflects failures; a missing or
malformed report is an error verdict (exit 3) naming the file; a stage SIGTERMed mid-run has
still reported every finished test, and end.totals counts them.
"""
import collections
import os
import shutil
import signal
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svtest  # noqa: E402

SRC = os.environ.get("SV_SRC") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

JUNIT_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'


def surefire(cls, cases):
    """A Surefire-style file: one <testsuite> for one class; cases = [(name, status)]."""
    body = []
    for name, status in cases:
        inner = {"passed": "", "failed": '<failure message="expected 1">at %s</failure>' % name,
                 "error": '<error message="npe">NullPointer</error>', "skipped": "<skipped/>"}[status]
        body.append('<testcase classname="%s" name="%s" time="0.01">%s</testcase>' % (cls, name, inner))
    return JUNIT_HEAD + '<testsuite name="%s" tests="%d">%s</testsuite>\n' % (cls, len(cases), "".join(body))


def sh(script):
    return ["/bin/sh", "-c", script]


def wait_for_go(name):
    """Shell that blocks until the test creates the file `name` (polling, the child's side)."""
    return "while [ ! -e %s ]; do sleep 0.02; done" % name


class AgentResults(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sv-res-")

    def tearDown(self):
        svtest.kill_strays(self.tmp)
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.assertEqual(svtest.take_sanitizer_reports(), [])

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        return path

    def results_of(self, events):
        return [e for e in events if e.get("type") == "test"]

    def assert_each_once(self, tests, expected):
        """expected: {(class, name): status}; every one reported exactly once, nothing else."""
        seen = collections.Counter((t.get("class"), t["name"]) for t in tests)
        dups = [k for k, n in seen.items() if n > 1]
        self.assertEqual(dups, [], "reported more than once")
        got = {(t.get("class"), t["name"]): t["status"] for t in tests}
        self.assertEqual(got, expected)

    def assert_totals(self, events, tests):
        end = [e for e in events if e.get("type") == "end"]
        self.assertEqual(len(end), 1)
        counts = collections.Counter(t["status"] for t in tests)
        self.assertEqual(end[0]["totals"]["tests"],
                         {s: counts.get(s, 0) for s in ("passed", "failed", "error", "skipped")})
        self.assertEqual(end[0]["seq"], end[0]["totals"]["events"] + 1)
        seqs = [e["seq"] for e in events]
        self.assertEqual(seqs, list(range(1, len(seqs) + 1)), "fallback seqs 1..N in order")
        return end[0]

    # ---- live files -------------------------------------------------------------------------

    def test_live_files_and_teamcity_each_test_once(self):
        """A JUnit file written in pieces and closed, Surefire files one per class during the
        run, TeamCity lines: each reported while the job still runs, each exactly once."""
        out = os.path.join(self.tmp, "out")
        self.write("a.part1", JUNIT_HEAD + '<testsuites><testsuite name="Big">'
                   '<testcase class="Big" classname="Big" name="p1"/>')
        self.write("a.part2", '<testcase class="Big" classname="Big" name="p2"><failure message="m">d</failure>'
                   '</testcase></testsuite></testsuites>\n')
        self.write("s1.xml", surefire("com.ex.OneTest", [("a", "passed"), ("b", "skipped")]))
        self.write("s2.xml", surefire("com.ex.TwoTest", [("c", "passed"), ("d", "error")]))
        tc = ("echo \"##teamcity[testStarted name='t1']\"; "
              "echo \"##teamcity[testFinished name='t1' duration='3']\"; ")
        script = " && ".join([
            "mkdir -p out/surefire",
            # one file written in two pieces with the fd held open in between, then closed
            "{ cat a.part1; %s; cat a.part2; } > out/big.xml" % wait_for_go("go1"),
            "cp s1.xml out/surefire/TEST-com.ex.OneTest.xml",
            tc.rstrip("; "),
            wait_for_go("go2"),
            "cp s2.xml out/surefire/TEST-com.ex.TwoTest.xml",
            wait_for_go("go3"),
        ])
        spec = {"processes": [{"name": "runner", "command": sh(script), "cwd": self.tmp, "results": [
            {"format": "junit", "path": "out/big.xml"},
            {"format": "junit", "path": "out/surefire/TEST-*.xml"},
            {"format": "teamcity", "stream": "stdout"}]}]}
        with svtest.Agent(spec, self.tmp) as a:
            T = svtest.slack(15)
            a.wait_running(lambda: os.path.exists(os.path.join(out, "big.xml")), T, "big.xml opened")
            self.assertEqual(self.results_of(a.events()), [], "nothing before a file is closed")
            self.write("go1", "")
            a.wait_running(lambda: a.events(type="test", name="a") and a.events(type="test", name="t1"), T,
                           "OneTest and the TeamCity test, live")
            self.assertTrue(a.events(type="test", name="p1"), "big.xml parsed when closed")
            self.assertEqual(a.events(type="process", event="exited"), [])
            self.write("go2", "")
            a.wait_running(lambda: a.events(type="test", name="d"), T, "TwoTest, live")
            self.assertEqual(a.events(type="process", event="exited"), [])
            self.write("go3", "")
            rc = a.wait_exit(T)
            events = a.events()
        tests = self.results_of(events)
        self.assert_each_once(tests, {
            ("Big", "p1"): "passed", ("Big", "p2"): "failed",
            ("com.ex.OneTest", "a"): "passed", ("com.ex.OneTest", "b"): "skipped",
            ("com.ex.TwoTest", "c"): "passed", ("com.ex.TwoTest", "d"): "error",
            ("", "t1"): "passed"})  # TeamCity without locationHint: no class
        self.assertEqual(rc, 1, "the job exited 0 but tests failed: the stage's result is 1")
        self.assert_totals(events, tests)
        ended = [e for e in events if e.get("type") == "stage" and e["event"] == "ended"][0]
        self.assertEqual(ended["result"], 1)
        self.assertEqual(ended["results"]["outcome"], "failed")
        self.assertEqual(ended["results"]["tests"], {"passed": 4, "failed": 1, "error": 1, "skipped": 1})

    def test_all_passed_exits_0_and_child_code_passes_through(self):
        """A job's failing exit explained by failed tests in its own report is a test failure
        (1); one that every reported test contradicts passes its code through, and stage/ended
        says which (its `processes` member)."""
        self.write("ok.xml", surefire("Ok", [("x", "passed")]))
        self.write("bad.xml", surefire("Bad", [("y", "failed")]))
        for src, code, want, explained in (("ok.xml", 0, 0, None), ("bad.xml", 0, 1, None), ("bad.xml", 5, 1, True),
                                           ("ok.xml", 7, 7, False)):
            shutil.rmtree(os.path.join(self.tmp, "r"), ignore_errors=True)
            spec = {"processes": [{"name": "j", "cwd": self.tmp,
                                   "command": sh("mkdir -p r && cp %s r/j.xml && exit %d" % (src, code)),
                                   "results": [{"format": "junit", "path": "r/j.xml"}]}]}
            rc, out, err = svtest.run_agent(spec, timeout=svtest.slack(30))
            self.assertEqual(rc, want, "%s exit %d: %s" % (src, code, err))
            events = svtest.parse_events(out.splitlines())
            self.assertEqual(len(self.results_of(events)), 1)
            ended = [e for e in events if e.get("type") == "stage" and e["event"] == "ended"][0]
            if explained is None:
                self.assertNotIn("processes", ended)
            else:
                self.assertEqual([(p["process"], p["status"], p["explained"]) for p in ended["processes"]],
                                 [("j", code, explained)], ended)

    def test_findings_fail_on(self):
        """Checkstyle warnings: fail_on warning fails the stage (1), fail_on error does not (0)."""
        self.write("cs.xml", '<?xml version="1.0"?>\n<checkstyle version="3.7.2"><file name="%s/src/A.php">'
                   '<error line="3" column="1" severity="warning" message="Line too long" source="Generic.L"/>'
                   '</file></checkstyle>\n' % self.tmp)
        for fail_on, want in (("warning", 1), ("error", 0), ("never", 0)):
            spec = {"processes": [{"name": "lint", "cwd": self.tmp, "command": sh("cp cs.xml out.xml"),
                                   "results": [{"format": "checkstyle", "path": "out.xml", "fail_on": fail_on}]}]}
            rc, out, err = svtest.run_agent(spec, timeout=svtest.slack(30))
            self.assertEqual(rc, want, "fail_on %s: %s" % (fail_on, err))
            events = svtest.parse_events(out.splitlines())
            self.assertEqual(len([e for e in events if e.get("type") == "finding"]), 1)
            end = [e for e in events if e.get("type") == "end"][0]
            self.assertEqual(end["totals"]["findings"], {"error": 0, "warning": 1, "info": 0})
            os.unlink(os.path.join(self.tmp, "out.xml"))

    # ---- reports that are missing or broken -------------------------------------------------

    def test_missing_junit_is_an_error_naming_it(self):
        spec = {"processes": [{"name": "phpunit", "cwd": self.tmp, "command": ["true"],
                               "results": [{"format": "junit", "path": "build/junit.xml"}]}]}
        rc, out, err = svtest.run_agent(spec, timeout=svtest.slack(30))
        self.assertEqual(rc, 3, err)
        self.assertIn("build/junit.xml", err)
        self.assertIn("results: error", err)
        events = svtest.parse_events(out.splitlines())
        ended = [e for e in events if e.get("type") == "stage" and e["event"] == "ended"][0]
        self.assertEqual(ended["results"]["outcome"], "error")
        self.assertIn("build/junit.xml", ended["results"]["error"])
        self.assertEqual([e for e in events if e.get("type") == "end"][0]["result"], 3)

    def test_malformed_junit_is_an_error_with_line_and_column(self):
        self.write("trunc.xml", JUNIT_HEAD + '<testsuite name="S">\n<testcase name="a"/>\n<testcase name="b"\n')
        spec = {"processes": [{"name": "j", "cwd": self.tmp, "command": sh("cp trunc.xml j.xml"),
                               "results": [{"format": "junit", "path": "j.xml"}]}]}
        rc, out, err = svtest.run_agent(spec, timeout=svtest.slack(30))
        self.assertEqual(rc, 3, err)
        line = [ln for ln in err.splitlines() if "results: error: " in ln]
        self.assertTrue(line, err)
        self.assertRegex(line[0], r"j\.xml:\d+:\d+: ")

    def test_failing_process_keeps_its_code_over_a_missing_report(self):
        spec = {"processes": [{"name": "j", "cwd": self.tmp, "command": sh("exit 4"),
                               "results": [{"format": "junit", "path": "none.xml"}]}]}
        rc, out, err = svtest.run_agent(spec, timeout=svtest.slack(30))
        self.assertEqual(rc, 4)
        self.assertIn("none.xml", err)

    def test_restarted_process_final_parse_after_its_last_run(self):
        """A process restarted on failure: its report is final only after the last run; each
        test once even though the file is rewritten by every run."""
        script = ("n=$(cat n 2>/dev/null || echo 0); n=$((n+1)); echo $n > n; "
                  "cp s.xml r.xml; [ $n -ge 2 ]")
        self.write("s.xml", surefire("R", [("once", "passed")]))
        spec = {"processes": [{"name": "j", "cwd": self.tmp, "command": sh(script),
                               "restart": {"policy": "on-failure", "max_retries": 3, "backoff_ms": 50},
                               "results": [{"format": "junit", "path": "r.xml"}]}]}
        rc, out, err = svtest.run_agent(spec, timeout=svtest.slack(30))
        events = svtest.parse_events(out.splitlines())
        self.assertEqual(len(events and [e for e in events if e.get("type") == "process" and e["event"] == "restarting"]), 1)
        self.assertEqual(rc, 0, err)
        self.assert_each_once(self.results_of(events), {("R", "once"): "passed"})

    # ---- a stage stopped mid-run ------------------------------------------------------------

    def test_sigterm_mid_run_still_reported_finished_tests(self):
        self.write("s1.xml", surefire("First", [("f1", "passed"), ("f2", "failed")]))
        script = ("mkdir -p sf && cp s1.xml sf/TEST-First.xml && "
                  "echo \"##teamcity[testStarted name='live']\" && "
                  "echo \"##teamcity[testFinished name='live' duration='1']\" && "
                  "echo \"##teamcity[testStarted name='unfinished']\" && "
                  "exec sleep 300")
        spec = {"stop_timeout": 5, "processes": [{"name": "suite", "cwd": self.tmp, "command": sh(script),
                                                   "stop_grace": 2, "results": [
                                                       {"format": "junit", "path": "sf/"},
                                                       {"format": "teamcity", "stream": "stdout"}]}]}
        with svtest.Agent(spec, self.tmp) as a:
            T = svtest.slack(15)
            a.wait_running(lambda: a.events(type="test", name="f2") and a.events(type="test", name="live"), T,
                           "the finished tests, live")
            a.signal(signal.SIGTERM)
            rc = a.wait_exit(T)
            events = a.events()
        self.assertEqual(rc, 128 + signal.SIGTERM)
        tests = self.results_of(events)
        names = collections.Counter(t["name"] for t in tests)
        for n in ("f1", "f2", "live"):
            self.assertEqual(names[n], 1, n)
        end = self.assert_totals(events, tests)
        self.assertEqual(end["result"], 143)
        self.assertGreaterEqual(end["totals"]["tests"]["passed"], 2)

    # ---- the real PHPUnit on examples/site --------------------------------------------------

    @unittest.skipUnless(shutil.which("phpunit") and os.path.isdir(os.path.join(SRC, "examples", "site")),
                         "phpunit or examples/site missing")
    def test_real_phpunit_junit_and_teamcity(self):
        site = os.path.join(self.tmp, "site")
        shutil.copytree(os.path.join(SRC, "examples", "site"), site)
        env = {"TERM": "dumb"}
        spec = {"processes": [
            {"name": "junit", "cwd": site, "env": env, "success_exit_codes": [0, 1, 2],
             "command": ["phpunit", "--do-not-cache-result", "--log-junit", "build/junit.xml"],
             "results": [{"format": "junit", "path": "build/junit.xml"}]},
            {"name": "teamcity", "cwd": site, "env": env, "success_exit_codes": [0, 1, 2],
             "depends_on": [{"name": "junit", "condition": "completed"}],
             "command": ["phpunit", "--do-not-cache-result", "--teamcity"],
             "results": [{"format": "teamcity", "stream": "stdout"}]}]}
        rc, out, err = svtest.run_agent(spec, timeout=svtest.slack(120))
        events = svtest.parse_events(out.splitlines())
        tests = self.results_of(events)
        for src in ("junit", "stdout"):
            mine = [t for t in tests if (t["source"] == "stdout") == (src == "stdout")]
            keys = collections.Counter((t.get("class"), t["name"]) for t in mine)
            self.assertEqual([k for k, n in keys.items() if n > 1], [], src)
            self.assertEqual(len(mine), 11, "%s: %s" % (src, sorted(keys)))  # examples/README.md
            st = collections.Counter(t["status"] for t in mine)
            self.assertEqual(st["passed"], 6, src)
            self.assertEqual(st["failed"] + st["error"], 3, src)  # TeamCity has no error status
        self.assertEqual(rc, 1, "phpunit's codes are successes here: the failed tests decide (%s)" % err[-500:])
        self.assert_totals(events, tests)


if __name__ == "__main__":
    unittest.main(verbosity=2)
