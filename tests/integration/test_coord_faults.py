"""Fault tests of issue 4: the real stagevisor-agent streaming to `stagevisor run` through
faults, and nothing lost or counted twice.

- a proxy that resets every connection after a few KB, and one that stalls then resets, with a
  stage of 20,000 log lines and 2,000 test results: every result in the JUnit file exactly
  once, the stream complete (every event acknowledged over HTTPS or recovered from the
  fallback lines; only log lines may be missing, and then counted and said), the verdict right;
  the counts are printed. How much of the stream goes over HTTPS within the stop budget is a
  performance figure, measured by tests/bench/faults_bench.py, not asserted here;
- the coordinator answering 503 and 429 for a while (STAGEVISOR_TEST_FAULTS, test only);
- the coordinator unreachable at the agent's start, appearing later;
- the agent killed with SIGTERM in the middle of a stream: results flushed, `end` sent.
"""
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from coordtest import (FaultProxy, Run, Tests, agent_or_skip, all_cases, check, free_port, read_junit,  # noqa: E402
                       real_spec, slack, stage_script, wait_until, write_spec)

TESTS, LOGS = 2000, 20000


def exactly_once(junit, n):
    names = [c["name"] for c in all_cases(read_junit(junit)) if c["classname"] != "stagevisor.stage"
             and not c["classname"].startswith("stagevisor.")]
    check(len(names) == n, "%d test cases in the JUnit file, want %d" % (len(names), n))
    check(len(set(names)) == n, "duplicates: %d distinct of %d" % (len(set(names)), len(names)))
    check(sorted(names) == ["t%05d" % i for i in range(n)], "names differ")


UPLINK_SUMMARY = re.compile(r"uplink: (\d+) of (\d+) events acknowledged; (\d+) requests, (\d+) failed "
                            r"\((\d+) timed out\), (\d+) connections \((\d+) resumed")


def uplink_summary(out):
    """The agent's last uplink summary line (printed at the end of a stream that had failures):
    {acked, events, requests, failed, timeouts, connections, resumed}, or None."""
    found = UPLINK_SUMMARY.findall(out)
    if not found:
        return None
    keys = ("acked", "events", "requests", "failed", "timeouts", "connections", "resumed")
    return dict(zip(keys, map(int, found[-1])))


UNACKED = re.compile(r"stop budget used up with (\d+) events unacknowledged")


def through_proxy(tmp, mode, **kw):
    """20,000 log lines and 2,000 results through a proxy that breaks every connection after
    2-8 KB. The stage's job ends at once, so the delivery runs within the agent's stop budget
    (30 s). What must hold on any machine, however slow or busy: the verdict (5 tests fail:
    exit 1), every result in the JUnit file exactly once, the stream complete (the results and
    lifecycle events acknowledged over HTTPS or recovered from the fallback lines), every
    event the agent numbered stored or, for a log line (no fallback channel), counted as
    missing; and when some did not go over HTTPS, the agent says how many were left
    unacknowledged when its stop budget ran out. How much went over HTTPS in the 30 s is a
    performance figure (tests/bench/faults_bench.py), printed here, not asserted."""
    agent = agent_or_skip()
    port = free_port()
    proxy = FaultProxy(port, mode=mode, **kw)
    t0 = time.monotonic()
    try:
        r = Run(tmp, real_spec(tmp, TESTS, LOGS, failed=5), agent=agent,
                extra=["--listen", "127.0.0.1:%d" % port, "--advertise", "https://127.0.0.1:%d/" % proxy.port])
        rc = r.wait(slack(300))
    finally:
        proxy.close()
    took = time.monotonic() - t0
    s = r.summary()
    u = uplink_summary(r.out)
    print("  %s: %.1f s; %d connections, %d faults injected; log events over HTTPS %s (%s missing); "
          "uplink %s" % (mode, took, proxy.conns, proxy.cuts, s.get("logs"),
                          s.get("missing_logs"), u), flush=True)
    # the verdict and the results, whatever the channel
    check(rc == 1, "exit %s (5 tests fail)\n%s" % (rc, r.err[-3000:]))
    check(s["complete"], "stream incomplete: %s" % s["problems"])
    check(s["tests"] == {"passed": TESTS - 5, "failed": 5, "error": 0, "skipped": 0}, "tests %s" % s["tests"])
    exactly_once(r.junit, TESTS)
    # the faults happened and reached the uplink
    check(proxy.cuts >= 1, "the proxy never interfered")
    check(u is not None, "no uplink summary line from the agent:\n%s" % r.out[-2000:])
    check(u["failed"] >= 1 and u["connections"] >= 2, "the faults did not reach the uplink: %s" % u)
    check(u["resumed"] >= 1, "no replacement connection resumed its TLS session: %s" % u)
    if mode == "stall":
        check(u["timeouts"] >= 1, "stalls not detected by the request timeout: %s" % u)
    # nothing lost silently: every event numbered by the agent (the `end` included) is stored
    # or is a log line counted as missing; every output line of the job is a log event
    lines = LOGS + 2 * TESTS + 5
    check(s["events"] + s["missing_logs"] + 1 == u["events"],
          "%s stored + %s missing log lines, but the agent numbered %s events" % (s["events"], s["missing_logs"], u["events"]))
    check(s["logs"] + s["missing_logs"] == lines, "%s log events stored + %s missing, want %d output lines"
          % (s["logs"], s["missing_logs"], lines))
    check(u["acked"] <= u["events"], "more acknowledged than sent: %s" % u)
    if u["acked"] < u["events"]:
        unacked = [int(n) for n in UNACKED.findall(r.out + r.err)]
        check(unacked == [u["events"] - u["acked"]],
              "%d events unacknowledged, but the agent did not say so once (%s)" % (u["events"] - u["acked"], unacked))
        check(s["missing_logs"] <= unacked[0], "%s log lines missing, more than the %s unacknowledged"
              % (s["missing_logs"], unacked[0]))
        check("some log lines only in the agent's output" in r.out or s["missing_logs"] == 0,
              "missing log lines not reported in the summary:\n%s" % r.out[-1500:])
    else:
        check(s["missing_logs"] == 0, "every event acknowledged, yet %s log lines missing" % s["missing_logs"])
    return s


def test_proxy_cutting_connections(tmp):
    through_proxy(tmp, "cut")


def test_proxy_stalling_connections(tmp):
    through_proxy(tmp, "stall", stall=1.5)


def test_coordinator_busy_503_429(tmp):
    agent = agent_or_skip()
    # Every log line must come over HTTPS here (they have no other channel): the longest stop
    # budget (120 s) makes that a matter of correctness, not of the machine's speed.
    r = Run(tmp, real_spec(tmp, 300, 3000, stop_timeout=120), agent=agent,
            env={"STAGEVISOR_TEST_FAULTS": "503x3,429x3"})
    rc = r.wait(slack(180))
    check(rc == 0, "exit %s\n%s" % (rc, r.err[-2000:]))
    s = r.summary()
    check(s["complete"] and s["missing_logs"] == 0, "summary %s" % s)
    exactly_once(r.junit, 300)


def test_coordinator_appears_later(tmp):
    agent = agent_or_skip()
    port = free_port()
    proxy = FaultProxy(port, mode="pass", start_after=2.0)
    try:
        r = Run(tmp, real_spec(tmp, 100, 1000, stop_timeout=120), agent=agent,
                extra=["--listen", "127.0.0.1:%d" % port, "--advertise", "https://127.0.0.1:%d/" % proxy.port])
        rc = r.wait(slack(180))
    finally:
        proxy.close()
    check(rc == 0, "exit %s\n%s" % (rc, r.err[-2000:]))
    s = r.summary()
    check(s["complete"] and s["missing_logs"] == 0, "logs must arrive over HTTPS once it appears: %s" % s)
    check(proxy.conns >= 1, "the agent never connected")
    exactly_once(r.junit, 100)


def test_agent_sigterm_mid_stream(tmp):
    # The job prints 400 log lines and 20 results, then waits (for the stop signal): the
    # SIGTERM always comes in the middle of the stage, however slow the machine.
    agent = agent_or_skip()
    script = stage_script(20, 400, delay=0.01) + "sys.stdout.flush()\ntime.sleep(600)\n"
    spec = write_spec(tmp, {"stage": "unit", "stop_timeout": 30, "processes": [
        {"name": "runner", "role": "job", "command": ["python3", "-u", "-c", script],
         "results": [{"format": "teamcity", "stream": "stdout"}]}]})
    r = Run(tmp, spec, agent=agent)
    pid = wait_until(lambda: re.search(r"agent \S+ started, pid (\d+)", r.output()), slack(60), "agent start")
    wait_until(lambda: r.output().count("##teamcity[testFinished") >= 20, slack(60), "the 20 results")
    os.kill(int(pid.group(1)), signal.SIGTERM)
    rc = r.wait(slack(120))
    s = r.summary()
    check(s["complete"], "after SIGTERM the agent flushes and sends end: %s" % s["problems"])
    check(s["tests"] == {"passed": 20, "failed": 0, "error": 0, "skipped": 0}, "results before the stop: %s" % s["tests"])
    check(rc in (1, 3) and s["agent_result"] not in (None, 0), "exit %s, agent result %s" % (rc, s["agent_result"]))
    exactly_once(r.junit, 20)


def test_fake_agent_small_batches_through_cutting_proxy(tmp):
    """The coordinator's side of the cut connections, with the scripted agent sending small
    batches (a few KB, so some get through between cuts): exactly once, nothing lost."""
    from coordtest import fake_spec
    port = free_port()
    proxy = FaultProxy(port, mode="cut")
    try:
        r = Run(tmp, fake_spec(tmp), plan={"tests": 300, "failed": 5, "logs": 3000, "batch": 8,
                                           "no_fallback": True, "deadline": 600},
                extra=["--listen", "127.0.0.1:%d" % port, "--advertise", "https://127.0.0.1:%d/" % proxy.port])
        rc = r.wait(slack(600))
    finally:
        proxy.close()
    check(rc == 1, "exit %s\n%s" % (rc, r.err[-2000:]))
    s = r.summary()
    check(s["complete"] and s["missing_logs"] == 0 and s["logs"] == 3000, "summary %s" % s)
    check(proxy.cuts >= 5, "the proxy hardly interfered (%d)" % proxy.cuts)
    print("  fake agent: %d connections, %d cuts" % (proxy.conns, proxy.cuts))
    names = [c["name"] for c in all_cases(read_junit(r.junit)) if c["classname"].startswith("Suite")]
    check(len(names) == 300 and len(set(names)) == 300, "exactly once: %d/%d" % (len(names), len(set(names))))


if __name__ == "__main__":
    Tests(sys.modules[__name__]).main()
