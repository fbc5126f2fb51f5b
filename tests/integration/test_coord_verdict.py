"""The verdict with the real PHPUnit: failed tests are test failures, not infrastructure problems.

`stagevisor run --backend local` with the real stagevisor-agent runs generated PHPUnit suites
(Debian's phpunit) the obvious way, without `success_exit_codes` (PHPUnit exits 1 or 2 when
tests fail or error), and the JUnit file is checked against PHPUnit's own counts: its own
--log-junit file and the summary line it prints ("Tests: 10, Assertions: 8, Errors: 1,
Failures: 2, Skipped: 1."). For a stage whose only problem is failing tests the counts are
equal, exactly, with no case of stagevisor's own, and the exit code is 1. A PHP fatal error
mid-suite, or a non-zero exit that the reports do not explain, is a `process phpunit` case in
the `stagevisor` suite with the exit status and PHPUnit's last output lines.
"""
import os
import re
import shutil
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from coordtest import SkipTest, Tests, agent_or_skip, check, read_junit, run, write_spec  # noqa: E402

SUMMARY = re.compile(r"^(?:phpunit \| )?Tests: (\d+), Assertions: \d+(.*)\.$")
OK = re.compile(r"^(?:phpunit \| )?OK \((\d+) tests?, \d+ assertions?\)$")


def phpunit():
    p = shutil.which("phpunit")
    if not p:
        raise SkipTest("phpunit is not installed (scripts/install-deps)")
    return p


def suite(tmp, passed, failed=0, errors=0, skipped=0, fatal_after=None, per_class=100):
    """Writes a PHPUnit suite under tmp/site/tests: passed, failed, erroring and skipped tests
    in classes of per_class methods; fatal_after=k puts a test that dies of a PHP fatal error
    (memory exhausted) after the k-th test. Returns the site directory."""
    site = os.path.join(tmp, "site")
    os.makedirs(os.path.join(site, "tests"))
    bodies = (["$this->assertTrue(true);"] * passed + ["$this->assertSame(1, 2);"] * failed +
              ["throw new \\RuntimeException('boom');"] * errors + ["$this->markTestSkipped('later');"] * skipped)
    if fatal_after is not None:
        bodies.insert(fatal_after, "ini_set('memory_limit', '16M'); $a = str_repeat('x', 64 << 20); "
                                   "$this->assertNotEmpty($a);")
    for c in range(0, len(bodies), per_class):
        name = "Gen%03dTest" % (c // per_class)
        with open(os.path.join(site, "tests", name + ".php"), "w") as f:
            f.write("<?php\nuse PHPUnit\\Framework\\TestCase;\nfinal class %s extends TestCase {\n" % name)
            for i, body in enumerate(bodies[c:c + per_class]):
                f.write("  public function testT%05d(): void { %s }\n" % (c + i, body))
            f.write("}\n")
    return site


def stage(tmp, site, command, results, **extra):
    p = {"name": "phpunit", "role": "job", "cwd": site, "env": {"TERM": "dumb"}, "command": command,
         "results": results}
    p.update(extra)
    return write_spec(tmp, {"stage": "unit", "processes": [p]})


def own_summary(text):
    """PHPUnit's own counts from its summary line: {tests, failures, errors, skipped}."""
    for line in reversed(text.splitlines()):
        m = OK.match(line.strip())
        if m:
            return {"tests": int(m.group(1)), "failures": 0, "errors": 0, "skipped": 0}
        m = SUMMARY.match(line.strip())
        if m:
            rest = dict((k.strip().lower(), int(v)) for k, v in re.findall(r", (\w+): (\d+)", m.group(2)))
            return {"tests": int(m.group(1)), "failures": rest.get("failures", 0), "errors": rest.get("errors", 0),
                    "skipped": rest.get("skipped", 0)}
    raise AssertionError("no PHPUnit summary line in:\n%s" % text[-2000:])


def own_junit(path):
    """PHPUnit's own counts from its --log-junit file (the root test suite)."""
    top = ET.parse(path).getroot().find("testsuite")
    return {k: int(top.get(k)) for k in ("tests", "failures", "errors", "skipped")}


def counts(junit):
    root = ET.parse(junit).getroot()
    return {k: int(root.get(k)) for k in ("tests", "failures", "errors", "skipped")}


def only_tools(r):
    """No case of stagevisor's own: every case in the file is a PHPUnit test."""
    j = read_junit(r.junit)
    check("stagevisor" not in j["suites"], "stagevisor suite: %s" % j["suites"].get("stagevisor"))
    s = r.summary()
    check(s["problems"] == [], "problems %s" % s["problems"])
    return j


def test_junit_failures_and_errors_are_test_failures(tmp):
    phpunit()
    agent = agent_or_skip()
    site = suite(tmp, passed=40, failed=3, errors=2, skipped=2)
    spec = stage(tmp, site, ["phpunit", "--do-not-cache-result", "--log-junit", "out.xml", "tests"],
                 [{"format": "junit", "path": "out.xml"}])
    r = run(tmp, spec, agent=agent, timeout=120)
    check(r.rc == 1, "exit %s\n%s" % (r.rc, r.out[-3000:]))
    only_tools(r)
    own = own_junit(os.path.join(site, "out.xml"))
    check(own == {"tests": 47, "failures": 3, "errors": 2, "skipped": 2}, "PHPUnit's own report %s" % own)
    check(counts(r.junit) == own, "ours %s, PHPUnit's %s" % (counts(r.junit), own))
    check(counts(r.junit) == own_summary(r.out), "ours %s, PHPUnit's summary %s" % (counts(r.junit), own_summary(r.out)))
    s = r.summary()
    check((s["result"], s["agent_result"], s["complete"]) == ("failed", 1, True), "summary %s" % s)
    check("process phpunit FAILED" in r.out and "problem " not in r.out, r.out[-1500:])


def test_dependent_of_failed_tests_is_no_extra_case(tmp):
    """A job waiting for PHPUnit to succeed never starts when tests fail: that is the tests'
    failure too, not an infrastructure case of its own."""
    phpunit()
    agent = agent_or_skip()
    site = suite(tmp, passed=5, failed=1)
    spec = write_spec(tmp, {"stage": "unit", "processes": [
        {"name": "phpunit", "cwd": site, "command": ["phpunit", "--do-not-cache-result", "--log-junit", "out.xml",
                                                     "tests"], "results": [{"format": "junit", "path": "out.xml"}]},
        {"name": "deploy", "command": ["true"], "depends_on": [{"name": "phpunit", "condition": "succeeded"}]}]})
    r = run(tmp, spec, agent=agent, timeout=120)
    check(r.rc == 1, "exit %s\n%s" % (r.rc, r.out[-3000:]))
    only_tools(r)
    check(counts(r.junit) == own_junit(os.path.join(site, "out.xml")), counts(r.junit))
    check("process deploy FAILED" in r.out, "deploy did not fail: %s" % r.out[-1500:])


def test_job_stopped_by_failed_tests_is_no_extra_case(tmp):
    """PHPUnit fails fast while a slower essential job runs beside it: the stage ends (an
    essential job failed), the other job is stopped before it writes its report, and that
    missing report is no case of its own: the tests decided."""
    phpunit()
    agent = agent_or_skip()
    site = suite(tmp, passed=5, failed=1)
    spec = write_spec(tmp, {"stage": "unit", "stop_timeout": 10, "processes": [
        {"name": "phpunit", "cwd": site, "command": ["phpunit", "--do-not-cache-result", "--log-junit", "out.xml",
                                                     "tests"], "results": [{"format": "junit", "path": "out.xml"}]},
        {"name": "lint", "cwd": site, "command": ["sh", "-c", "sleep 300; echo '<checkstyle/>' > cs.xml"],
         "results": [{"format": "checkstyle", "path": "cs.xml"}]}]})
    r = run(tmp, spec, agent=agent, timeout=120)
    check(r.rc == 1, "exit %s\n%s" % (r.rc, r.out[-3000:]))
    only_tools(r)
    check(counts(r.junit) == own_junit(os.path.join(site, "out.xml")), counts(r.junit))
    check("process lint exited, status 143" in r.out, r.out[-1500:])


def test_teamcity_on_stdout_2000_tests_20_failures(tmp):
    """The issue's example: 2,000 TeamCity tests with 20 failures are 20 failures, with or
    without success_exit_codes."""
    phpunit()
    agent = agent_or_skip()
    site = suite(tmp, passed=1975, failed=20, skipped=5)
    for codes in (None, [0, 1, 2]):
        extra = {"success_exit_codes": codes} if codes else {}
        sub = os.path.join(tmp, "codes" if codes else "plain")
        os.makedirs(sub)
        spec = stage(sub, site, ["phpunit", "--do-not-cache-result", "--teamcity", "tests"],
                     [{"format": "teamcity", "stream": "stdout"}], **extra)
        r = run(sub, spec, agent=agent, timeout=180)
        check(r.rc == 1, "%s: exit %s\n%s" % (codes, r.rc, r.out[-3000:]))
        only_tools(r)
        own = own_summary(r.out)
        check(own == {"tests": 2000, "failures": 20, "errors": 0, "skipped": 5}, "PHPUnit's summary %s" % own)
        check(counts(r.junit) == own, "%s: ours %s, PHPUnit's %s" % (codes, counts(r.junit), own))


def test_teamcity_errors_count_as_failed(tmp):
    """TeamCity has no error status (PHPUnit reports an error as testFailed): the file's
    failures are PHPUnit's failures + errors, every other count is PHPUnit's."""
    phpunit()
    agent = agent_or_skip()
    site = suite(tmp, passed=6, failed=2, errors=1, skipped=1)
    spec = stage(tmp, site, ["phpunit", "--do-not-cache-result", "--teamcity", "tests"],
                 [{"format": "teamcity", "stream": "stdout"}])
    r = run(tmp, spec, agent=agent, timeout=120)
    check(r.rc == 1, "exit %s\n%s" % (r.rc, r.out[-3000:]))
    only_tools(r)
    own, ours = own_summary(r.out), counts(r.junit)
    check(own == {"tests": 10, "failures": 2, "errors": 1, "skipped": 1}, "PHPUnit's summary %s" % own)
    check(ours == {"tests": 10, "failures": 3, "errors": 0, "skipped": 1}, "ours %s" % ours)


def test_passing_suite(tmp):
    phpunit()
    agent = agent_or_skip()
    site = suite(tmp, passed=12)
    spec = stage(tmp, site, ["phpunit", "--do-not-cache-result", "--log-junit", "out.xml", "tests"],
                 [{"format": "junit", "path": "out.xml"}])
    r = run(tmp, spec, agent=agent, timeout=120)
    check(r.rc == 0, "exit %s\n%s" % (r.rc, r.out[-3000:]))
    only_tools(r)
    own = own_junit(os.path.join(site, "out.xml"))
    check(counts(r.junit) == own == own_summary(r.out) == {"tests": 12, "failures": 0, "errors": 0, "skipped": 0},
          "ours %s, PHPUnit's %s" % (counts(r.junit), own))
    check(r.summary()["result"] == "passed", r.summary())


def fatal_case(r):
    j = read_junit(r.junit)
    cases = {c["name"]: c for c in j["suites"].get("stagevisor", [])}
    check("process phpunit" in cases, "no process case: %s" % list(cases))
    c = cases["process phpunit"]
    check(c["status"] == "failure" and "status 255" in c["message"], c)
    check("PHP Fatal error:  Allowed memory size" in c["text"] and "last output lines:" in c["text"], c["text"])
    p = [p for p in r.summary()["problems"] if p["name"] == "process phpunit"][0]
    check("PHP Fatal error:  Allowed memory size" in p["last_lines"], "summary %s" % p)
    return j, cases


def test_fatal_error_mid_suite_junit(tmp):
    """PHPUnit dies (exit 255) before writing its report: the case users most need to see."""
    phpunit()
    agent = agent_or_skip()
    site = suite(tmp, passed=3, failed=1, fatal_after=2)
    spec = stage(tmp, site, ["phpunit", "--do-not-cache-result", "--log-junit", "out.xml", "tests"],
                 [{"format": "junit", "path": "out.xml"}])
    r = run(tmp, spec, agent=agent, timeout=120)
    check(r.rc == 1, "exit %s\n%s" % (r.rc, r.out[-3000:]))
    _, cases = fatal_case(r)
    check(set(cases) == {"process phpunit", "report"}, "cases %s" % list(cases))
    check("out.xml" in cases["report"]["message"], cases["report"])
    check(r.summary()["agent_result"] == 255, r.summary())


def test_fatal_error_mid_suite_teamcity(tmp):
    """With TeamCity the tests before the fatal error are reported (one of them failed), the
    one it died in is an error marked unfinished, and the death is still a process case."""
    phpunit()
    agent = agent_or_skip()
    site = suite(tmp, passed=3, failed=1, fatal_after=4)
    spec = stage(tmp, site, ["phpunit", "--do-not-cache-result", "--teamcity", "tests"],
                 [{"format": "teamcity", "stream": "stdout"}])
    r = run(tmp, spec, agent=agent, timeout=120)
    check(r.rc == 1, "exit %s\n%s" % (r.rc, r.out[-3000:]))
    j, cases = fatal_case(r)
    check(list(cases) == ["process phpunit"], "cases %s" % list(cases))
    check("in the middle of a test" in cases["process phpunit"]["message"], cases)
    tests = j["suites"]["Gen000Test"]
    check(len(tests) == 5 and [c["status"] for c in tests].count("failure") == 1 and
          [c["status"] for c in tests].count("error") == 1, "tests %s" % tests)


def test_nonzero_exit_with_every_test_passed(tmp):
    """Every reported test passed, yet the job exited 3: nothing explains it, so it is a case."""
    phpunit()
    agent = agent_or_skip()
    site = suite(tmp, passed=4)
    spec = stage(tmp, site, ["sh", "-c", "phpunit --do-not-cache-result --log-junit out.xml tests; "
                                         "echo 'deploy step failed' >&2; exit 3"],
                 [{"format": "junit", "path": "out.xml"}])
    r = run(tmp, spec, agent=agent, timeout=120)
    check(r.rc == 1, "exit %s\n%s" % (r.rc, r.out[-3000:]))
    cases = {c["name"]: c for c in read_junit(r.junit)["suites"]["stagevisor"]}
    check(list(cases) == ["process phpunit"], cases)
    c = cases["process phpunit"]
    check("status 3" in c["message"] and "no failure" in c["message"], c["message"])
    check("deploy step failed" in c["text"], c["text"])
    check(counts(r.junit) == {"tests": 5, "failures": 1, "errors": 0, "skipped": 0}, counts(r.junit))


if __name__ == "__main__":
    Tests(sys.modules[__name__]).main()
