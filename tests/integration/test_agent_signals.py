"""Issue 2, behaviour 2: signals. SIGTERM, SIGINT and the spec's stop_signals mean teardown;
SIGHUP, SIGUSR1 and SIGUSR2 are forwarded to the processes; each process runs in its own
process group, with the signal mask and dispositions restored and no agent fd inherited."""
import os
import re
import signal
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svtest  # noqa: E402

# Records every HUP/USR1/USR2/TERM/INT/QUIT/WINCH it gets, one name per line; exits on TERM.
RECORDER = r"""
import os, signal, sys, time
rec = sys.argv[1]
def on(n, f):
    with open(rec, "a") as fh:
        fh.write(signal.Signals(n).name + "\n")
    if n == signal.SIGTERM:
        sys.exit(0)
for s in (signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2, signal.SIGTERM, signal.SIGINT,
          signal.SIGQUIT, signal.SIGWINCH):
    signal.signal(s, on)
with open(rec + ".ready", "w") as fh:
    fh.write(str(os.getpid()))
while True:
    time.sleep(1)
"""

# Lists its open fds; fds that are gone once listed were the listing's own directory fd.
FDLIST = r"""
import os
fds = []
for fd in sorted(os.listdir("/proc/self/fd"), key=int):
    try:
        fds.append("%s=%s" % (fd, os.readlink("/proc/self/fd/" + fd)))
    except OSError:
        pass
print("FDS " + " ".join(fds), flush=True)
"""


class SignalsTest(svtest.AgentTestCase):
    prefix = "sv-sig-"

    def recorder_stage(self, extra=None):
        spec = {"mode": "service", "stop_timeout": 10, "processes": [
            {"name": "rec", "role": "service", "command": [sys.executable, "-c", RECORDER, self.rec]}]}
        spec.update(extra or {})
        self.agent = svtest.Agent(spec, self.dir)
        svtest.wait_file(self.rec + ".ready", svtest.slack(15))
        return self.agent

    def recorded(self):
        return (svtest.read_text(self.rec) or "").split()

    def assert_teardown_by(self, sig, extra=None):
        a = self.recorder_stage(extra)
        a.signal(sig)
        rc = a.wait_exit(svtest.slack(10))
        self.assertEqual(rc, 0, "%s must tear down a service stage cleanly (exit 0); stderr: %s"
                         % (sig.name, a.stderr_lines()[-5:]))
        self.assertEqual(self.recorded(), ["SIGTERM"],
                         "the process must get its stop signal (SIGTERM) once, nothing else")

    def test_sigterm_is_teardown(self):
        self.assert_teardown_by(signal.SIGTERM)

    def test_sigint_is_teardown(self):
        self.assert_teardown_by(signal.SIGINT)

    def test_spec_stop_signal_sigwinch_is_teardown(self):
        self.assert_teardown_by(signal.SIGWINCH, {"stop_signals": ["SIGWINCH"]})

    def test_spec_stop_signal_sigquit_is_teardown(self):
        self.assert_teardown_by(signal.SIGQUIT, {"stop_signals": ["SIGQUIT"]})

    def test_hup_usr1_usr2_forwarded(self):
        a = self.recorder_stage()
        want = []
        for sig in (signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2, signal.SIGHUP):
            a.signal(sig)
            want.append(sig.name)
            svtest.wait_until(lambda: self.recorded() == want, svtest.slack(30),
                              "%s forwarded (recorded so far: %s)" % (sig.name, self.recorded()))
            self.assertTrue(a.running(), "%s must not stop the agent" % sig.name)
        a.signal(signal.SIGTERM)
        self.assertEqual(a.wait_exit(svtest.slack(10)), 0)
        self.assertEqual(self.recorded(), want + ["SIGTERM"])

    def test_own_process_group(self):
        pidfile = os.path.join(self.dir, "pids")
        spec = {"mode": "service", "processes": [
            {"name": "a", "role": "service", "essential": False, "command": ["sh", "-c", 'echo $$ >> "$0"; exec sleep 600', pidfile]},
            {"name": "b", "role": "service", "essential": False, "command": ["sh", "-c", 'echo $$ >> "$0"; exec sleep 600', pidfile]}]}
        self.agent = a = svtest.Agent(spec, self.dir)
        svtest.wait_until(lambda: len((svtest.read_text(pidfile) or "").split()) == 2,
                          svtest.slack(10), "both processes started")
        agent_pgrp = svtest.proc_stat(a.pid)[2]
        for pid in map(int, svtest.read_text(pidfile).split()):
            st = svtest.proc_stat(pid)
            self.assertIsNotNone(st)
            self.assertEqual(st[1], a.pid, "process %d is not the agent's child" % pid)
            self.assertEqual(st[2], pid, "process %d is not the leader of its own process group" % pid)
            self.assertNotEqual(st[2], agent_pgrp)
        # Stopping the process group of one process (as apache2 -DFOREGROUND does on its way out)
        # does not touch the agent.
        first = int(svtest.read_text(pidfile).split()[0])
        os.killpg(first, signal.SIGTERM)
        svtest.wait_until(lambda: (svtest.proc_stat(first) or "Z")[0] == "Z" or not svtest.pid_alive(first),
                          svtest.slack(30), "process a stopped")
        self.assertTrue(a.running())
        a.signal(signal.SIGTERM)
        self.assertEqual(a.wait_exit(svtest.slack(10)), 0)

    def test_signal_mask_and_dispositions_restored(self):
        spec = {"processes": [{"name": "status", "command": ["cat", "/proc/self/status"]}]}
        self.agent = a = svtest.Agent(spec, self.dir)
        self.assertEqual(a.wait_exit(svtest.slack(10)), 0)
        text = "\n".join(a.stdout_lines())
        for field in ("SigBlk", "SigIgn"):
            m = re.search(field + r":\s*([0-9a-f]+)", text)
            self.assertIsNotNone(m, "%s line of the child's /proc/self/status not in the agent output" % field)
            self.assertEqual(int(m.group(1), 16), 0, "child's %s is %s, must be empty" % (field, m.group(1)))

    def test_no_agent_fd_inherited(self):
        # Another process (and its pipes) exists when the lister is started.
        spec = {"processes": [
            {"name": "other", "role": "service", "essential": False, "command": ["sleep", "600"]},
            {"name": "lister", "command": [sys.executable, "-c", FDLIST],
             "depends_on": [{"name": "other", "condition": "started"}]}]}
        self.agent = a = svtest.Agent(spec, self.dir)
        self.assertEqual(a.wait_exit(svtest.slack(15)), 0)
        line = next((ln for ln in a.stdout_lines() if "FDS " in ln), None)
        self.assertIsNotNone(line, "the child's fd list is not in the agent output: %s" % a.stdout_lines())
        fds = line[line.index("FDS ") + 4:].split()
        self.assertEqual([f.split("=")[0] for f in fds], ["0", "1", "2"],
                         "the child inherited more than stdin/stdout/stderr: %s" % fds)


if __name__ == "__main__":
    unittest.main(verbosity=2)
