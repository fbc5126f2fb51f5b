"""`stagevisor run` with the real stagevisor-agent: a small stage end to end.

A job printing TeamCity test results and log lines, and a job writing a JUnit report file; the
JUnit file the coordinator writes parses and has the expected cases; the stream is complete with
every log line delivered over HTTPS; the console shows the failed test; exit codes follow the
stage (0 passed, 1 failed, 2 when the agent's --check rejects the spec).
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from coordtest import (Tests, agent_or_skip, all_cases, check, no_control_chars, read_junit, real_spec, run,  # noqa: E402
                       write_spec, xmllint_ok)


def test_teamcity_stage_passes(tmp):
    agent = agent_or_skip()
    r = run(tmp, real_spec(tmp, 40, 200), agent=agent, timeout=120)
    check(r.rc == 0, "exit %s\n%s%s" % (r.rc, r.out[-2000:], r.err[-2000:]))
    s = r.summary()
    check(s["complete"] and s["missing_logs"] == 0, "summary %s" % s)
    check(s["tests"]["passed"] == 40, "tests %s" % s["tests"])
    j = read_junit(r.junit)
    check(xmllint_ok(r.junit), "xmllint")
    names = sorted(c["name"] for c in all_cases(j) if not c["classname"].startswith("stagevisor."))
    check(names == ["t%05d" % i for i in range(40)], "cases %s" % names[:5])
    check(no_control_chars(r.out), "control characters in the console")


def test_teamcity_stage_fails(tmp):
    agent = agent_or_skip()
    r = run(tmp, real_spec(tmp, 10, 20, failed=2), agent=agent, timeout=120)
    check(r.rc == 1, "exit %s\n%s" % (r.rc, r.err[-2000:]))
    failed = [c for c in all_cases(read_junit(r.junit)) if c["status"] == "failure" and c["name"].startswith("t0")]
    check(len(failed) == 2 and failed[0]["message"].startswith("boom"), "failures %s" % failed)
    check(sum(" FAILED " in l for l in r.out.splitlines()) == 2, "a console line per failed test")


def test_junit_report_file(tmp):
    agent = agent_or_skip()
    report = os.path.join(tmp, "report.xml")
    xml = ('<?xml version="1.0"?><testsuites><testsuite name="Calc" tests="3">'
           '<testcase name="testAdd" classname="CalcTest" file="tests/CalcTest.php" line="10" time="0.01"/>'
           '<testcase name="testSub" classname="CalcTest" time="0.02"><failure message="1 != 2">trace</failure></testcase>'
           '<testcase name="testMul" classname="CalcTest"><skipped/></testcase>'
           '</testsuite></testsuites>')
    spec = write_spec(tmp, {"stage": "phpunit", "processes": [
        {"name": "phpunit", "role": "job", "command": ["sh", "-c", "cat > %s <<'EOF'\n%s\nEOF\n" % (report, xml)],
         "results": [{"format": "junit", "path": report}]}]})
    r = run(tmp, spec, agent=agent, timeout=120)
    check(r.rc == 1, "exit %s\n%s" % (r.rc, r.err[-2000:]))
    cases = {c["name"]: c for c in all_cases(read_junit(r.junit))}
    check(cases["testAdd"]["status"] == "passed" and cases["testSub"]["status"] == "failure" and
          cases["testMul"]["status"] == "skipped", "cases %s" % cases)
    check(r.summary()["complete"], "complete")


def test_agent_rejects_spec(tmp):
    """A spec the agent rejects is the user's error, found by `--check` before anything starts
    (test_coord_speccheck.py has the rest): exit 2, no JUnit, no state."""
    agent = agent_or_skip()
    spec = write_spec(tmp, {"stage": "bad", "processes": [{"name": "x", "command": []}]})
    r = run(tmp, spec, agent=agent, timeout=60)
    check(r.rc == 2, "exit %s\n%s%s" % (r.rc, r.out, r.err))
    check("processes[0].command" in r.err, r.err)
    check(not os.path.exists(r.junit) and not os.path.exists(os.path.join(tmp, "state")), "something was written")


def test_runs_in_own_pid_namespace_when_root(tmp):
    agent = agent_or_skip()
    spec = write_spec(tmp, {"stage": "ns", "processes": [
        {"name": "p", "role": "job", "command": ["sh", "-c", "echo ppid=$PPID"]}]})
    r = run(tmp, spec, agent=agent, timeout=60)
    check(r.rc == 0, "exit %s" % r.rc)
    if os.geteuid() == 0:
        check("(own PID namespace)" in r.out, r.out[:500])
        check("ppid=1" in r.out, "the agent is PID 1 of its namespace: %s" % r.out[-500:])


if __name__ == "__main__":
    Tests(sys.modules[__name__]).main()
