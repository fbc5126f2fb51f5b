"""Issue 2, behaviour 6: exit codes. A child's code 0-255 passes through, a child killed by
signal n gives 128+n, a command not found 127, not executable 126; success_exit_codes count as
success; the first failed essential job's code is the stage's; a clean teardown of a service
stage gives 0; the agent's own usage errors give the documented 125 with a message."""
import concurrent.futures
import os
import signal
import stat
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svtest  # noqa: E402

USAGE_ERROR = 125
PARALLEL = 8

# Every catchable signal whose default action ends the process: 1-16, 24-27, 29-31 and
# SIGRTMIN..SIGRTMAX (SIGKILL, 9, is not catchable but included). The others (CHLD, CONT,
# STOP, TSTP, TTIN, TTOU, URG, WINCH) are ignored or stop a process by default: nothing can die
# of them.
TERMINATING = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 24, 25, 26, 27, 29, 30, 31] + \
    list(range(signal.SIGRTMIN, signal.SIGRTMAX + 1))

KILL_SELF = r"""
import os, resource, signal, sys, time
n = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
if n != signal.SIGKILL:
    signal.signal(n, signal.SIG_DFL)
os.kill(os.getpid(), n)
time.sleep(10)
"""


def job(command, **kw):
    p = {"name": "job", "command": command}
    p.update(kw)
    return {"processes": [p]}


class ExitCodesTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="sv-exit-")
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()
        self.assertEqual(svtest.take_sanitizer_reports(), [], "sanitizer reports from the agent")

    def run_many(self, specs):
        """Runs the agent once per spec, PARALLEL at a time: [(rc, out, err)] in order."""
        with concurrent.futures.ThreadPoolExecutor(PARALLEL) as ex:
            return list(ex.map(lambda s: svtest.run_agent(s, timeout=svtest.slack(60), cwd=self.dir), specs))

    def test_all_exit_codes_pass_through(self):
        res = self.run_many([job(["sh", "-c", "exit %d" % n]) for n in range(256)])
        wrong = [(n, r[0]) for n, r in enumerate(res) if r[0] != n]
        self.assertEqual(wrong, [], "(child code, agent code) pairs that differ: %s; first stderr: %s"
                         % (wrong[:20], res[wrong[0][0]][2][-300:] if wrong else ""))
        # The exited event carries the code as well.
        ev = svtest.parse_events(res[42][1].splitlines())
        ex = [e for e in ev if e.get("type") == "process" and e.get("event") == "exited"]
        self.assertEqual([(e.get("exit_code"), e.get("signal"), e.get("status")) for e in ex], [(42, None, 42)])

    def test_every_terminating_signal_gives_128_plus_n(self):
        res = self.run_many([job([sys.executable, "-c", KILL_SELF, str(n)]) for n in TERMINATING])
        wrong = [(n, r[0]) for n, r in zip(TERMINATING, res) if r[0] != 128 + n]
        self.assertEqual(wrong, [], "(signal, agent code) pairs that are not 128+n: %s" % wrong)
        ev = svtest.parse_events(res[TERMINATING.index(15)][1].splitlines())
        ex = [e for e in ev if e.get("type") == "process" and e.get("event") == "exited"]
        self.assertEqual([(e.get("exit_code"), e.get("signal"), e.get("status")) for e in ex], [(None, 15, 143)])

    def test_not_found_127_not_executable_126(self):
        noexec = os.path.join(self.dir, "noexec.sh")
        with open(noexec, "w") as f:
            f.write("#!/bin/sh\nexit 0\n")
        os.chmod(noexec, stat.S_IRUSR | stat.S_IWUSR)
        cases = [(["/nonexistent/sv-prog"], 127), (["sv-no-such-command"], 127),
                 ([noexec], 126), ([self.dir], 126)]
        res = self.run_many([job(c) for c, _ in cases])
        for (cmd, want), (rc, out, err) in zip(cases, res):
            self.assertEqual(rc, want, "%s: agent exited %d, want %d; stderr %s" % (cmd, rc, want, err[-300:]))
            ex = [e for e in svtest.parse_events(out.splitlines())
                  if e.get("type") == "process" and e.get("event") == "exited"]
            self.assertEqual([e.get("status") for e in ex], [want], "%s: exited events %s" % (cmd, ex))

    def test_success_exit_codes(self):
        res = self.run_many([job(["sh", "-c", "exit 3"], success_exit_codes=[0, 3]),
                             job(["sh", "-c", "exit 4"], success_exit_codes=[0, 3])])
        self.assertEqual([r[0] for r in res], [0, 4],
                         "a code in success_exit_codes is success; other codes pass through")

    def test_first_failed_essential_job_decides(self):
        spec = {"processes": [
            {"name": "late", "command": ["sh", "-c", "sleep 0.5; exit 5"]},
            {"name": "early", "command": ["sh", "-c", "exit 3"]},
            {"name": "optional", "essential": False, "command": ["sh", "-c", "exit 9"]}]}
        rc, out, err = svtest.run_agent(spec, timeout=svtest.slack(30), cwd=self.dir)
        self.assertEqual(rc, 3, err[-300:])
        spec = {"processes": [
            {"name": "ok", "command": ["true"]},
            {"name": "optional", "essential": False, "command": ["sh", "-c", "exit 9"]}]}
        rc, out, err = svtest.run_agent(spec, timeout=svtest.slack(30), cwd=self.dir)
        self.assertEqual(rc, 0, "a non-essential job's failure is not the stage's result; " + err[-300:])

    def test_service_mode_clean_teardown_is_0(self):
        a = svtest.Agent({"mode": "service", "processes": [
            {"name": "svc", "role": "service", "command": ["sleep", "600"]}]}, self.dir)
        try:
            a.wait_event(svtest.slack(10), type="process", process="svc", event="started")
            a.signal(signal.SIGTERM)
            self.assertEqual(a.wait_exit(svtest.slack(10)), 0)
            ended = a.events(type="stage", event="ended")
            self.assertEqual([e.get("result") for e in ended], [0], ended)
        finally:
            a.close()

    def test_job_stage_torn_down_by_signal(self):
        # Documented in supervisor/README.md: a teardown by signal before the essential jobs
        # ended gives 128 + signal when no failure decided the result.
        a = svtest.Agent({"processes": [{"name": "long", "command": ["sleep", "600"]}]}, self.dir)
        try:
            a.wait_event(svtest.slack(10), type="process", process="long", event="started")
            a.signal(signal.SIGTERM)
            self.assertEqual(a.wait_exit(svtest.slack(10)), 128 + signal.SIGTERM)
        finally:
            a.close()

    def test_usage_errors_125(self):
        spec = os.path.join(self.dir, "ok.json")
        svtest.write_spec(self.dir, {"processes": [{"name": "x", "command": ["true"]}]}, "ok.json")
        env = {k: v for k, v in os.environ.items() if k != "STAGEVISOR_SPEC"}
        cases = [["--no-such-option"], [], ["--spec"], ["--spec", os.path.join(self.dir, "missing.json")],
                 ["--spec", spec, "extra-argument"]]
        for args in cases:
            r = subprocess.run([svtest.agent_path()] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=env, timeout=svtest.slack(10), stdin=subprocess.DEVNULL)
            self.assertEqual(r.returncode, USAGE_ERROR, "%s: exit %d, stderr %r" % (args, r.returncode, r.stderr))
            self.assertTrue(r.stderr.strip(), "%s: no message on stderr" % args)
        r = subprocess.run([svtest.agent_path(), "--spec", os.path.join(self.dir, "missing.json")],
                           stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env)
        self.assertIn(b"missing.json", r.stderr, "the message must name the file")

    def test_version_help_check(self):
        rc, out, err = svtest.run_agent(args=["--version"])
        self.assertEqual(rc, 0)
        self.assertIn("0.1.0", out + err)
        rc, out, err = svtest.run_agent(args=["--help"])
        self.assertEqual(rc, 0)
        self.assertIn("--spec", out + err)
        marker = os.path.join(self.dir, "ran")
        path = svtest.write_spec(self.dir, {"processes": [{"name": "x", "command": ["touch", marker]}]})
        rc, out, err = svtest.run_agent(args=["--check", "--spec", path])
        self.assertEqual(rc, 0, err)
        self.assertFalse(os.path.exists(marker), "--check must not start anything")


if __name__ == "__main__":
    unittest.main(verbosity=2)
