"""Fault tests of issue 4: the real stagevisor-agent streaming to `stagevisor run` through
faults, and nothing lost or counted twice.

- a proxy that resets every connection after a few KB, and one that stalls then resets, with a
  stage of 20,000 log lines and 2,000 test results: every result in the JUnit file exactly
  once; through the cutting proxy every event (log lines too: they are not on the fallback
  channel) delivered over HTTPS within the stop budget, through the stalling one most of them
  (see through_proxy); the counts are printed;
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
                       real_spec, sanitize, slack, wait_until)

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


def through_proxy(tmp, mode, **kw):
    """20,000 log lines and 2,000 results through a proxy that breaks every connection after
    2-8 KB. The stage's job ends at once, so the delivery runs within the agent's stop budget
    (30 s). Every result in the JUnit file once, the stream complete, and every event, the
    log lines included (they have no fallback channel), delivered over HTTPS: the uplink
    shrinks its batches to fit the path, replaces a broken connection at once when the ack
    advanced (resuming the TLS session), and gives up on a stalled request after a timeout
    learnt from the path's round trips."""
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
    # what the issue demands, whatever the channel
    check(rc == 1, "exit %s (5 tests fail)\n%s" % (rc, r.err[-3000:]))
    check(s["complete"], "stream incomplete: %s" % s["problems"])
    check(s["tests"] == {"passed": TESTS - 5, "failed": 5, "error": 0, "skipped": 0}, "tests %s" % s["tests"])
    exactly_once(r.junit, TESTS)
    check(proxy.cuts >= 100, "the proxy hardly interfered (%d faults)" % proxy.cuts)
    # and the HTTPS stream itself survived the path
    check(u is not None, "no uplink summary line from the agent:\n%s" % r.out[-2000:])
    check(u["failed"] >= 100 and u["connections"] >= 100, "the faults did not reach the uplink: %s" % u)
    check(u["resumed"] * 2 >= u["connections"], "replacement connections did not resume TLS sessions: %s" % u)
    if mode == "cut":
        check(s["missing_logs"] == 0 and u["acked"] == u["events"],
              "not every event over HTTPS within the stop budget: %s of %s acknowledged, %s log lines missing"
              % (u["acked"], u["events"], s["missing_logs"]))
    else:
        # Every connection stalls (the proxy holds it 1.5 s, then resets it): each costs the
        # learnt timeout (10 ms at least) plus a reconnect, for ~14 events. On this 2-core
        # machine the whole stream fits in the 30 s budget when it is quiet (measured: 26,012
        # of 26,012 events in 28-30 s, plain and ASan), not always when other tests share the
        # cores (measured 77% with ASan under load); then the rest of the results arrive by
        # the fallback channel (checked above) and this asserts that most of the stream still
        # went over HTTPS.
        share = 0.6 if sanitize() else 0.7
        check(u["timeouts"] >= 100, "stalls not detected by the request timeout: %s" % u)
        check(u["acked"] >= share * u["events"],
              "only %s of %s events acknowledged over HTTPS through the stalling proxy (want %d%%)"
              % (u["acked"], u["events"], share * 100))
    return s


def test_proxy_cutting_connections(tmp):
    through_proxy(tmp, "cut")


def test_proxy_stalling_connections(tmp):
    through_proxy(tmp, "stall", stall=1.5)


def test_coordinator_busy_503_429(tmp):
    agent = agent_or_skip()
    r = Run(tmp, real_spec(tmp, 300, 3000), agent=agent, env={"STAGEVISOR_TEST_FAULTS": "503x3,429x3"})
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
        r = Run(tmp, real_spec(tmp, 100, 1000), agent=agent,
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
    agent = agent_or_skip()
    r = Run(tmp, real_spec(tmp, 400, 400, delay=0.01), agent=agent)
    pid = wait_until(lambda: re.search(r"agent \S+ started, pid (\d+)", r.output()), slack(20), "agent start")
    wait_until(lambda: r.output().count("##teamcity[testFinished") >= 20, slack(30), "some results")
    os.kill(int(pid.group(1)), signal.SIGTERM)
    rc = r.wait(slack(120))
    s = r.summary()
    check(s["complete"], "after SIGTERM the agent flushes and sends end: %s" % s["problems"])
    n = s["tests"]["passed"] + s["tests"]["failed"]
    check(20 <= n < 400, "results before the stop: %d" % n)
    check(rc in (1, 3) and s["agent_result"] not in (None, 0), "exit %s, agent result %s" % (rc, s["agent_result"]))
    exactly_once(r.junit, n)


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
