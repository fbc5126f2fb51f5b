"""Issue 2, behaviour 8: accounting. When a process ends, its `exited` lifecycle event carries its
exit status, run time, CPU time, peak memory, and who killed it: the agent at teardown
(agent-stop), the agent at the deadline (agent-deadline), the kernel's OOM killer (oom, via the
oom_kill counter of cgroup v2 memory.events or cgroup v1 memory.oom_control) or something else
(other).

The OOM case runs twice over:
- for real, where this test can make a memory cgroup (root, a writable cgroup v1 memory
  hierarchy or cgroup v2 with the memory controller): a child cgroup with a small limit, the
  agent inside it, a process that allocates past the limit; it must read killed_by "oom";
- on a fake cgroup tree (STAGEVISOR_CGROUP_ROOT, agents/README.md) in both layouts, v1 and v2,
  always: the process bumps the fake counter and SIGKILLs itself ("oom"), or only SIGKILLs
  itself ("other"). This runs everywhere, so the path and counter logic is tested even where
  no cgroup can be made; the real case says why when it is skipped."""
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

# Bumps the fake cgroup's oom_kill counter (the file in argv[1]), then dies of SIGKILL as an
# OOM-killed process does; with no argument it only dies of SIGKILL.
FAKE_OOM = r"""
import os, re, signal, sys
if len(sys.argv) > 1:
    text = open(sys.argv[1]).read()
    n = int(re.search(r"^oom_kill (\d+)$", text, re.M).group(1))
    open(sys.argv[1], "w").write(re.sub(r"(?m)^oom_kill \d+$", "oom_kill %d" % (n + 1), text))
os.kill(os.getpid(), signal.SIGKILL)
"""

HOG = "b = b'\\x01' * (1 << 30)"
LIMIT = 128 << 20


def own_memory_cgroup():
    """(version, directory) of this process's memory cgroup, from /proc/self/cgroup and
    /proc/self/mountinfo (the mount's root taken off the path), or (None, reason)."""
    cg = svtest.read_text("/proc/self/cgroup") or ""
    mounts = [ln.split(" ") for ln in (svtest.read_text("/proc/self/mountinfo") or "").splitlines()]
    v1 = [ln.split(":", 2)[2] for ln in cg.splitlines()
          if ln.count(":") >= 2 and "memory" in ln.split(":", 2)[1].split(",")]
    v2 = [ln[3:] for ln in cg.splitlines() if ln.startswith("0::")]
    for version, paths in ((1, v1), (2, v2)):
        if not paths:
            continue
        for m in mounts:
            if "-" not in m:
                continue
            d = m.index("-")
            fstype, opts = m[d + 1], m[d + 3].split(",") if len(m) > d + 3 else []
            if (version == 1 and fstype == "cgroup" and "memory" in opts) or (version == 2 and fstype == "cgroup2"):
                root, mnt = m[3], m[4].replace("\\040", " ")
                path = paths[0]
                if root != "/" and not (path == root or path.startswith(root + "/")):
                    continue
                rest = path[len(root):] if root != "/" else path
                directory = mnt + rest.rstrip("/")
                if version == 2:
                    ctrl = svtest.read_text(os.path.join(directory, "cgroup.controllers")) or ""
                    if "memory" not in ctrl.split():
                        return None, "cgroup v2 at %s has no memory controller" % directory
                return version, directory
        if version == 1:
            return None, "the memory controller (cgroup v1) is not mounted where this process's cgroup is visible"
    return None, "this process has no memory cgroup"


def make_limited_cgroup(tag):
    """A child memory cgroup with a LIMIT-byte limit and no swap: (version, directory), or
    (None, reason) when this test cannot make one here."""
    version, parent = own_memory_cgroup()
    if version is None:
        return None, parent
    if os.geteuid() != 0 or not os.access(parent, os.W_OK):
        return None, "%s is not writable (not root, or a read-only cgroup mount)" % parent
    cg = os.path.join(parent, tag)
    try:
        os.mkdir(cg)
    except OSError as e:
        return None, "cannot create a memory cgroup in %s: %s" % (parent, e)
    try:
        if version == 1:
            with open(os.path.join(cg, "memory.limit_in_bytes"), "w") as f:
                f.write(str(LIMIT))
            try:  # memory+swap no higher than memory: no swapping out of the OOM
                with open(os.path.join(cg, "memory.memsw.limit_in_bytes"), "w") as f:
                    f.write(str(LIMIT))
            except OSError:
                pass
            if cgroup_counter(version, cg) is None:
                raise OSError("memory.oom_control has no oom_kill counter (a kernel before 4.13)")
        else:
            with open(os.path.join(cg, "memory.max"), "w") as f:
                f.write(str(LIMIT))
            try:
                with open(os.path.join(cg, "memory.swap.max"), "w") as f:
                    f.write("0")
            except OSError:
                pass
    except OSError as e:
        os.rmdir(cg)
        return None, "cannot set a memory limit in %s: %s" % (cg, e)
    return version, cg


def cgroup_counter(version, cg):
    text = svtest.read_text(os.path.join(cg, "memory.oom_control" if version == 1 else "memory.events")) or ""
    for ln in text.splitlines():
        if ln.startswith("oom_kill "):
            return int(ln.split()[1])
    return None


def fake_cgroup_tree(top, version, counter=5):
    """A fake tree under top standing for "/": proc/self/cgroup and proc/self/mountinfo of a
    cgroup v1 hybrid host (as this machine) or a cgroup v2 host, and the counter file where the
    mountinfo says. Returns the counter file's path."""
    if version == 1:
        cgroup = "9:name=systemd:/\n4:memory:/ecs/task-1/ci\n1:cpu:/\n0::/\n"
        # the container sees its own cgroup as the mount's root; the mount point has a space
        mountinfo = ("22 1 253:1 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
                     "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
                     "34 30 0:31 /ecs/task-1 /sys/fs/cgroup/mem\\040ory rw,relatime master:9 - cgroup cgroup rw,memory\n"
                     "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n")
        counter_file = os.path.join(top, "sys/fs/cgroup/mem ory/ci/memory.oom_control")
        text = "oom_kill_disable 0\nunder_oom 0\noom_kill %d\n" % counter
    else:
        cgroup = "0::/system.slice/ci.scope\n"
        mountinfo = ("22 1 253:1 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
                     "26 22 0:23 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate\n")
        counter_file = os.path.join(top, "sys/fs/cgroup/system.slice/ci.scope/memory.events")
        text = "low 0\nhigh 0\nmax 4\noom 2\noom_kill %d\noom_group_kill 0\n" % counter
    os.makedirs(os.path.join(top, "proc/self"))
    os.makedirs(os.path.dirname(counter_file))
    for rel, t in (("proc/self/cgroup", cgroup), ("proc/self/mountinfo", mountinfo)):
        with open(os.path.join(top, rel), "w") as f:
            f.write(t)
    with open(counter_file, "w") as f:
        f.write(text)
    return counter_file


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
        # lower bounds only: 0.3 s of CPU and 0.2 s asleep take at least that long anywhere
        self.assertGreaterEqual(e["run_ms"], 450, e)
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

    def killed_in_fake_tree(self, version, bump):
        top = os.path.join(self.dir, "cgroot-v%d-%s" % (version, bump))
        counter_file = fake_cgroup_tree(top, version)
        argv = [sys.executable, "-c", FAKE_OOM] + ([counter_file] if bump else [])
        rc, out, err = svtest.run_agent({"processes": [{"name": "hog", "command": argv}]},
                                        env={"STAGEVISOR_CGROUP_ROOT": top}, timeout=svtest.slack(60))
        ev = [e for e in svtest.parse_events(out.splitlines())
              if e.get("type") == "process" and e.get("event") == "exited"]
        self.assertEqual(rc, 137, err)
        self.assertIn("oom_kill %d" % (6 if bump else 5), svtest.read_text(counter_file))
        return [(e.get("signal"), e.get("killed_by")) for e in ev]

    def test_oom_fake_cgroup_v1(self):
        self.assertEqual(self.killed_in_fake_tree(1, True), [(9, "oom")])
        self.assertEqual(self.killed_in_fake_tree(1, False), [(9, "other")])

    def test_oom_fake_cgroup_v2(self):
        self.assertEqual(self.killed_in_fake_tree(2, True), [(9, "oom")])
        self.assertEqual(self.killed_in_fake_tree(2, False), [(9, "other")])

    def test_oom_fake_cgroup_without_counter(self):
        # A v1 kernel before 4.13 has no oom_kill line: no death is put down to the OOM killer.
        top = os.path.join(self.dir, "cgroot-old")
        counter_file = fake_cgroup_tree(top, 1)
        with open(counter_file, "w") as f:
            f.write("oom_kill_disable 0\nunder_oom 0\n")
        rc, out, err = svtest.run_agent({"processes": [{"name": "hog", "command": [sys.executable, "-c", FAKE_OOM]}]},
                                        env={"STAGEVISOR_CGROUP_ROOT": top}, timeout=svtest.slack(60))
        ev = [(e.get("signal"), e.get("killed_by")) for e in svtest.parse_events(out.splitlines())
              if e.get("type") == "process" and e.get("event") == "exited"]
        self.assertEqual((rc, ev), (137, [(9, "other")]), err)

    def test_oom_killed_real_cgroup(self):
        version, cg = make_limited_cgroup("sv-oom-%d" % os.getpid())
        if version is None:
            self.skipTest("real OOM case skipped (the fake-tree cases ran): " + cg)
        print("\nreal OOM case: cgroup v%d at %s, limit %d MiB" % (version, cg, LIMIT >> 20), file=sys.stderr)
        try:
            before = cgroup_counter(version, cg)
            spec = svtest.write_spec(self.dir, {"processes": [
                {"name": "hog", "command": [sys.executable, "-c", HOG]}]})

            def enter():
                with open(os.path.join(cg, "cgroup.procs"), "w") as f:
                    f.write(str(os.getpid()))
            r = subprocess.run([svtest.agent_path(), "--spec", spec], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, preexec_fn=enter, timeout=svtest.slack(60))
            err = r.stderr.decode(errors="replace")
            svtest.note_sanitizer(err.splitlines())
            ev = [e for e in svtest.parse_events(r.stdout.decode(errors="replace").splitlines())
                  if e.get("type") == "process" and e.get("event") == "exited"]
            self.assertEqual([(e.get("signal"), e.get("killed_by")) for e in ev], [(9, "oom")], err[-2000:])
            self.assertEqual(r.returncode, 137)
            self.assertGreater(cgroup_counter(version, cg), before, "the kernel counted no OOM kill")
        finally:
            svtest.wait_until(lambda: rmdir_quietly(cg), svtest.slack(30), "cgroup %s removed" % cg, interval=0.05)


def rmdir_quietly(path):
    try:
        os.rmdir(path)
        return True
    except FileNotFoundError:
        return True
    except OSError:
        return False


if __name__ == "__main__":
    unittest.main(verbosity=2)
