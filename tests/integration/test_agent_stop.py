"""Issue 2, behaviour 5: the stop plan. Processes are stopped in reverse dependency order with
their stop signal sent to their process group, SIGKILL after their grace, and a final sweep that
sends the stop signal and then SIGKILL to every remaining descendant; all within stop_timeout.
No process ever gets SIGKILL without being sent its stop signal first."""
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svtest  # noqa: E402

# NAME RECFILE READYFILE MODE: records "NAME TERM t" on SIGTERM; MODE exit: then "NAME exit t"
# after 0.1 s and exits 0; MODE ignore: keeps running.
TERMREC = r"""
import os, signal, sys, time
name, rec, ready, mode = sys.argv[1:5]
def note(what):
    with open(rec, "a") as f:
        f.write("%s %s %.6f %d\n" % (name, what, time.monotonic(), os.getpid()))
def on_term(n, f):
    note("TERM")
    if mode == "exit":
        time.sleep(0.1)
        note("exit")
        os._exit(0)
signal.signal(signal.SIGTERM, on_term)
with open(ready + ".tmp", "w") as f:
    f.write(str(os.getpid()))
os.rename(ready + ".tmp", ready)
while True:
    time.sleep(1)
"""

# A process with three grandchildren: g1 in its process group (exits on TERM), g2 and g3
# detached in their own sessions and orphaned (g2 ignores TERM, g3 exits on it).
FAMILY = r"""
import os, subprocess, sys, time
termrec, rec, d = sys.argv[1:4]
def spawn(name, mode, detach):
    ready = os.path.join(d, name + ".ready")
    argv = [sys.executable, "-c", termrec, name, rec, ready, mode]
    if detach:
        pid = os.fork()
        if pid == 0:
            os.setsid()
            subprocess.Popen(argv)
            os._exit(0)
        os.waitpid(pid, 0)
    else:
        subprocess.Popen(argv)
    while not os.path.exists(ready):
        time.sleep(0.01)
spawn("g1", "exit", False)
spawn("g2", "ignore", True)
spawn("g3", "exit", True)
open(os.path.join(d, "family.ready"), "w").write("ok")
while True:
    time.sleep(1)
"""


class StopTest(svtest.AgentTestCase):
    prefix = "sv-stop-"

    def termrec(self, name, mode, **kw):
        p = {"name": name, "role": "service", "essential": False,
             "command": [sys.executable, "-c", TERMREC, name, self.rec, self.ready(name), mode]}
        p.update(kw)
        return p

    def ready(self, name):
        return os.path.join(self.dir, name + ".ready")

    def records(self):
        out = []
        for ln in (svtest.read_text(self.rec) or "").splitlines():
            name, what, t, pid = ln.split()
            out.append((name, what, float(t), int(pid)))
        return out

    def start(self, spec, names):
        self.agent = svtest.Agent(spec, self.dir)
        for n in names:
            svtest.wait_file(self.ready(n), svtest.slack(15))
        return self.agent

    def test_reverse_dependency_order(self):
        spec = {"mode": "service", "stop_timeout": 20, "processes": [
            self.termrec("c", "exit", depends_on=[{"name": "b", "condition": "started"}]),
            self.termrec("a", "exit"),
            self.termrec("b", "exit", depends_on=[{"name": "a", "condition": "started"}])]}
        a = self.start(spec, ["a", "b", "c"])
        a.signal(signal.SIGTERM)
        self.assertEqual(a.wait_exit(svtest.slack(15)), 0)
        r = self.records()
        terms = [x[0] for x in r if x[1] == "TERM"]
        self.assertEqual(terms, ["c", "b", "a"], "stop order must be the reverse of the dependencies: %s" % r)
        t = {(x[0], x[1]): x[2] for x in r}
        self.assertGreaterEqual(t[("b", "TERM")], t[("c", "exit")], "b stopped before c had ended")
        self.assertGreaterEqual(t[("a", "TERM")], t[("b", "exit")], "a stopped before b had ended")

    def test_tini_grandchildren_get_term(self):
        spec = {"mode": "service", "stop_timeout": 6, "processes": [
            {"name": "family", "role": "service",
             "command": [sys.executable, "-c", FAMILY, TERMREC, self.rec, self.dir], "stop_grace": 2}]}
        a = self.start(spec, ["family"])
        pids = {n: int(svtest.read_text(self.ready(n))) for n in ("g1", "g2", "g3")}
        a.signal(signal.SIGTERM)
        rc = a.wait_exit(svtest.slack(60))
        got = {x[0] for x in self.records() if x[1] == "TERM"}
        self.assertEqual(got, {"g1", "g2", "g3"},
                         "every grandchild must get the stop signal before SIGKILL; got it: %s (agent status %d)"
                         % (sorted(got), rc))
        for n, pid in pids.items():
            st = svtest.proc_stat(pid)
            self.assertTrue(st is None or st[0] == "Z", "%s (pid %d) left behind after the agent exited" % (n, pid))
        self.assertEqual(rc, 0, "clean teardown of a service stage exits 0")

    def test_ignoring_term_gets_sigkill_after_grace(self):
        spec = {"mode": "service", "stop_timeout": 20, "processes": [
            self.termrec("stubborn", "ignore", stop_grace=1)]}
        a = self.start(spec, ["stubborn"])
        t0 = time.monotonic()
        a.signal(signal.SIGTERM)
        a.wait_exit(svtest.slack(15))
        took = time.monotonic() - t0
        self.assertEqual([x[1] for x in self.records()], ["TERM"], "SIGTERM must come first")
        # a lower bound always holds; how late the SIGKILL comes is the machine's business
        self.assertGreaterEqual(took, 0.95, "SIGKILL came before the 1 s grace ended (%.3f s)" % took)
        ex = a.events(type="process", process="stubborn", event="exited")
        self.assertEqual(len(ex), 1, ex)
        self.assertEqual(ex[0].get("signal"), 9, ex[0])
        self.assertEqual(ex[0].get("killed_by"), "agent-stop", ex[0])  # its grace, not the stop budget

    def test_everything_within_stop_timeout(self):
        spec = {"mode": "service", "stop_timeout": 2, "processes": [
            self.termrec("stubborn1", "ignore", stop_grace=2),
            self.termrec("stubborn2", "ignore", stop_grace=2,
                         depends_on=[{"name": "stubborn1", "condition": "started"}])]}
        a = self.start(spec, ["stubborn1", "stubborn2"])
        pids = [int(svtest.read_text(self.ready(n))) for n in ("stubborn1", "stubborn2")]
        a.signal(signal.SIGTERM)
        a.wait_exit(svtest.slack(60))
        # Two graces of 2 s each would take 4 s: the 2 s budget (1 s of it for the processes,
        # the rest kept for flushing; supervisor.h) must cut them short. The agent says so
        # itself, whatever the machine's speed: its timers fire in deadline order, and the
        # budget's comes before either grace's, so both are SIGKILLed by the deadline.
        killed = {n: [(e.get("signal"), e.get("killed_by")) for e in a.events(type="process", process=n, event="exited")]
                  for n in ("stubborn1", "stubborn2")}
        self.assertEqual(killed, {"stubborn1": [(9, "agent-deadline")], "stubborn2": [(9, "agent-deadline")]})
        got = sorted(x[0] for x in self.records() if x[1] == "TERM")
        self.assertEqual(got, ["stubborn1", "stubborn2"], "both must get SIGTERM before SIGKILL")
        for pid in pids:
            st = svtest.proc_stat(pid)
            self.assertTrue(st is None or st[0] == "Z", "pid %d left behind" % pid)


if __name__ == "__main__":
    unittest.main(verbosity=2)
