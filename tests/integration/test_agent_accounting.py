"""Issue 2, behaviour 8: accounting. When a process ends, its `exited` lifecycle event carries its
exit status, run time, CPU time, peak memory, and who killed it: the agent at teardown
(agent-stop), the agent at the deadline (agent-deadline), the kernel's OOM killer (oom, via
cgroup v2 memory.events) or something else (other)."""
import os
import signal
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svtest  # noqa: E402

# ~0.3 s of user CPU, 64 MiB touched, then 0.2 s asleep.
WORKER = r"""
import time
t = time.process_time()
while time.process_time() - t < 0.3:
    for i in range(100000):
        pass
block = b"\x01" * (64 << 20)
time.sleep(0.2)
print(len(block))
"""

IGNORE_TERM = r"""
import signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
open(sys.argv[1], "w").write("ready")
while True:
    time.sleep(1)
"""

CGROOT = "/sys/fs/cgroup"


def cgroup2_memory_root():
    """A cgroup v2 directory where a child with memory.max can be made, or None with a reason."""
    for root in (CGROOT, os.path.join(CGROOT, "unified")):
        ctrl = svtest.read_text(os.path.join(root, "cgroup.controllers"))
        if ctrl is None:
            continue
        if "memory" not in ctrl.split():
            continue
        if not os.access(root, os.W_OK):
            return None, "%s is not writable" % root
        return root, None
    return None, "no cgroup v2 hierarchy with the memory controller here (cgroup v1 or hybrid)"


class AccountingTest(svtest.AgentTestCase):
    prefix = "sv-acct-"

    def exited(self, name):
        ex = self.agent.events(type="process", process=name, event="exited")
        self.assertEqual(len(ex), 1, "one exited event for %s: %s" % (name, ex))
        return ex[0]

    def test_exited_event_carries_status_times_and_memory(self):
        self.agent = svtest.Agent({"processes": [
            {"name": "worker", "command": [sys.executable, "-c", WORKER]}]}, self.dir)
        self.assertEqual(self.agent.wait_exit(svtest.slack(30)), 0)
        e = self.exited("worker")
        for k in ("pid", "attempt", "exit_code", "signal", "status", "run_ms", "cpu_user_ms",
                  "cpu_sys_ms", "max_rss_kb", "killed_by"):
            self.assertIn(k, e, "exited event lacks %r: %s" % (k, e))
        self.assertEqual((e["exit_code"], e["signal"], e["status"], e["killed_by"]), (0, None, 0, None), e)
        self.assertGreaterEqual(e["run_ms"], 450, e)
        self.assertLess(e["run_ms"], svtest.slack(15000), e)
        self.assertGreaterEqual(e["cpu_user_ms"], 200, e)
        self.assertGreaterEqual(e["cpu_user_ms"] + e["cpu_sys_ms"], 250, e)
        self.assertGreaterEqual(e["max_rss_kb"], 60000, e)
        self.assertLess(e["max_rss_kb"], 1000000, e)
        self.assertEqual(e["attempt"], 1)

    def test_killed_by_agent_stop_agent_deadline_and_other(self):
        # stop_timeout 5 s keeps a reserve for flushing (supervisor.h: a fifth, at least 1 s), so
        # the processes' stop budget is at most 4 s: "late" (grace 5 s, ignores SIGTERM) is
        # killed when the budget runs out; "stubborn" (grace 1 s) when its grace ends.
        ready = [os.path.join(self.dir, n + ".ready") for n in ("stubborn", "late")]
        self.agent = a = svtest.Agent({"mode": "service", "stop_timeout": 5, "processes": [
            {"name": "stopped", "role": "service", "command": ["sleep", "600"]},
            {"name": "stubborn", "role": "service", "stop_grace": 1,
             "command": [sys.executable, "-c", IGNORE_TERM, ready[0]]},
            {"name": "late", "role": "service", "stop_grace": 5,
             "command": [sys.executable, "-c", IGNORE_TERM, ready[1]]},
            {"name": "victim", "role": "service", "essential": False, "command": ["sleep", "600"]}]}, self.dir)
        for r in ready:
            svtest.wait_file(r, svtest.slack(15))
        victim = a.wait_event(svtest.slack(10), type="process", process="victim", event="started")
        os.kill(victim["pid"], signal.SIGKILL)
        a.wait_event(svtest.slack(10), type="process", process="victim", event="exited")
        self.assertTrue(a.running(), "a non-essential service's death must not end the stage")
        a.signal(signal.SIGTERM)
        self.assertEqual(a.wait_exit(svtest.slack(15)), 0)
        got = {n: (self.exited(n).get("signal"), self.exited(n).get("status"), self.exited(n).get("killed_by"))
               for n in ("stopped", "stubborn", "late", "victim")}
        # SIGKILL after a process's own grace is part of the stop plan: "agent-stop"
        # (supervisor/README.md); "agent-deadline" is the SIGKILL when the stop budget ran out.
        self.assertEqual(got, {"stopped": (15, 143, "agent-stop"),
                               "stubborn": (9, 137, "agent-stop"),
                               "late": (9, 137, "agent-deadline"),
                               "victim": (9, 137, "other")})

    def test_oom_killed(self):
        root, why = cgroup2_memory_root()
        if root is None:
            self.skipTest("OOM case skipped: " + why)
        cg = os.path.join(root, "sv-oom-%d" % os.getpid())
        os.mkdir(cg)
        try:
            with open(os.path.join(cg, "memory.max"), "w") as f:
                f.write("%d" % (64 << 20))
            with open(os.path.join(cg, "memory.swap.max"), "w") as f:
                f.write("0")
            spec = svtest.write_spec(self.dir, {"processes": [
                {"name": "hog", "command": [sys.executable, "-c", "b = b'\\x01' * (512 << 20)"]}]})

            def enter():
                with open(os.path.join(cg, "cgroup.procs"), "w") as f:
                    f.write(str(os.getpid()))
            r = subprocess.run([svtest.agent_path(), "--spec", spec], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, preexec_fn=enter, timeout=svtest.slack(60))
            ev = [e for e in svtest.parse_events(r.stdout.decode(errors="replace").splitlines())
                  if e.get("type") == "process" and e.get("event") == "exited"]
            self.assertEqual([(e.get("signal"), e.get("killed_by")) for e in ev], [(9, "oom")], ev)
            self.assertEqual(r.returncode, 137)
        finally:
            os.rmdir(cg)


if __name__ == "__main__":
    unittest.main(verbosity=2)
