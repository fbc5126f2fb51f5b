"""Issue 2, behaviour 7: output. Each process's stdout and stderr are captured, split into lines
(long lines split at a bound), prefixed with the process name and written to the agent's
stdout/stderr. A blocked stdout never stalls supervision (drops are counted and reported). A
grandchild that keeps the pipe open after its process ended does not hang the stage."""
import fcntl
import os
import re
import signal
import struct
import sys
import termios
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svtest  # noqa: E402

# Writes 100-byte lines as fast as it can, noting in RECFILE.count how many bytes it wrote
# (every 2 MB); on SIGTERM records "TERM t" in RECFILE and exits.
FLOOD = r"""
import os, signal, sys, time
rec = sys.argv[1]
def on(n, f):
    with open(rec, "a") as fh:
        fh.write("TERM %.6f\n" % time.monotonic())
    os._exit(0)
signal.signal(signal.SIGTERM, on)
chunk = (b"flood " + b"x" * 93 + b"\n") * 200
n = 0
while True:
    n += os.write(1, chunk)
    if n % (100 * len(chunk)) == 0:
        with open(rec + ".count.tmp", "w") as fh:
            fh.write(str(n))
        os.rename(rec + ".count.tmp", rec + ".count")
"""


def pending(fd):
    """Bytes waiting unread in the pipe fd."""
    return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]


def drops_reported(lines):
    """The line reporting dropped output with a positive count: supervisor/README.md documents
    "stagevisor-agent | [stagevisor: N lines dropped: output blocked]"."""
    for ln in lines:
        if ln.startswith(svtest.MARKER):
            continue
        m = re.search(r"(\d+) lines? dropped", ln)
        if m and int(m.group(1)) > 0:
            return ln
    return None


class OutputTest(svtest.AgentTestCase):
    prefix = "sv-out-"

    def run_stage(self, spec, timeout=30):
        self.agent = svtest.Agent(spec, self.dir)
        return self.agent.wait_exit(svtest.slack(timeout))

    def test_lines_prefixed_with_process_name(self):
        code = ("import sys\nprint('hello out 1'); print('hello out 2', flush=True)\n"
                "print('hello err', file=sys.stderr, flush=True)\nsys.stdout.write('no newline at end')\n")
        rc = self.run_stage({"processes": [
            {"name": "printer", "command": [sys.executable, "-c", code]},
            {"name": "second", "command": ["echo", "from second"]}]})
        self.assertEqual(rc, 0)
        out, err = self.agent.stdout_lines(), self.agent.stderr_lines()
        for text, lines, name in (("hello out 1", out, "printer"), ("hello out 2", out, "printer"),
                                  ("no newline at end", out, "printer"), ("from second", out, "second"),
                                  ("hello err", err, "printer")):
            ln = next((x for x in lines if x.endswith(text)), None)
            self.assertIsNotNone(ln, "%r not among the agent's lines: %s" % (text, lines))
            self.assertIn(name, ln[:len(ln) - len(text)], "line %r is not prefixed with %r" % (ln, name))
        self.assertFalse([x for x in out if x.endswith("hello err")], "stderr must not go to stdout")

    def test_long_line_split(self):
        n = 200000
        code = "import sys\nsys.stdout.write('x' * %d + '\\nEND\\n')\n" % n
        rc = self.run_stage({"processes": [{"name": "longliner", "command": [sys.executable, "-c", code]}]})
        self.assertEqual(rc, 0)
        pieces = [ln for ln in self.agent.stdout_lines() if "longliner" in ln and ln.endswith("x" * 10)]
        self.assertGreater(len(pieces), 1, "a 200000-byte line must be split")
        total = sum(len(ln) - len(ln.rstrip("x")) for ln in pieces)
        self.assertEqual(total, n, "split pieces must carry all bytes of the long line")
        self.assertTrue(any(ln.endswith("END") and "longliner" in ln for ln in self.agent.stdout_lines()))

    def block_stdout_until_full(self, a):
        fd = a.proc.stdout.fileno()
        svtest.wait_until(lambda: pending(fd) >= 60000, svtest.slack(20), "the agent's stdout pipe to fill")

    def test_blocked_stdout_does_not_stall_supervision(self):
        go = os.path.join(self.dir, "go")
        quick = "while [ ! -e %s ]; do sleep 0.01; done; exit 3" % go
        spec = {"mode": "job", "stop_timeout": 10, "processes": [
            {"name": "flood", "role": "service", "essential": False,
             "command": [sys.executable, "-c", FLOOD, self.rec]},
            {"name": "quick", "role": "job", "command": ["sh", "-c", quick]}]}
        self.agent = a = svtest.Agent(spec, self.dir, read_stdout=False)
        self.block_stdout_until_full(a)
        # Nobody reads the agent's stdout. After a while (1 s, supervisor/README.md) the agent
        # reads the flood again and drops what does not fit: the flood then writes far more
        # than the pipes and the agent's buffers (2 MiB) hold.
        count = self.rec + ".count"
        a.wait_running(lambda: int(svtest.read_text(count) or 0) > 40 << 20, svtest.slack(30),
                       "the flood to write 40 MB while the agent's stdout is blocked")
        # The job ends: the agent must still reap it, end the stage and stop the flood.
        open(go, "w").close()
        svtest.wait_file(self.rec, svtest.slack(30), contains="TERM")
        a.start_reading()
        self.assertEqual(a.wait_exit(svtest.slack(15)), 3)
        ln = drops_reported(a.stdout_lines() + a.stderr_lines())
        self.assertIsNotNone(ln, "dropped output must be counted and reported")
        ex = a.events(type="process", process="flood", event="exited")
        self.assertTrue(ex and (ex[0].get("dropped_lines") or 0) > 0,
                        "the flood's exited event must count its dropped lines: %s" % ex)

    def test_blocked_stdout_sigterm_tears_down_promptly(self):
        spec = {"mode": "service", "stop_timeout": 10, "processes": [
            {"name": "flood", "role": "service", "command": [sys.executable, "-c", FLOOD, self.rec]}]}
        self.agent = a = svtest.Agent(spec, self.dir, read_stdout=False)
        self.block_stdout_until_full(a)
        a.signal(signal.SIGTERM)
        # The agent's stdout is still unread: the stop signal must reach the process anyway
        # (supervision never waits on stdout). How soon is the machine's business: no bound.
        svtest.wait_file(self.rec, svtest.slack(30), contains="TERM")
        a.start_reading()
        self.assertEqual(a.wait_exit(svtest.slack(15)), 0)

    def test_leaked_pipe_does_not_hang_the_stage(self):
        bgpid = os.path.join(self.dir, "bgpid")
        # The grandchild holds the pipes for 600 s and the stop budget is 120 s: a stage that
        # waited for the pipes' EOF would not end within the (generous) wait below.
        spec = {"stop_timeout": 120, "processes": [
            {"name": "leaky", "command": ["sh", "-c", 'sleep 600 & echo $! > "$0"; echo parent done; exit 0', bgpid]}]}
        self.agent = svtest.Agent(spec, self.dir)
        rc = self.agent.wait_exit(90)  # not slack()ed: it must stay below the 120 s budget
        self.assertEqual(rc, 0)
        self.assertTrue(any(ln.endswith("parent done") for ln in self.agent.stdout_lines()))
        pid = int(svtest.read_text(bgpid))
        st = svtest.proc_stat(pid)
        self.assertTrue(st is None or st[0] == "Z", "the leaked grandchild is still running after the agent exited")


if __name__ == "__main__":
    unittest.main(verbosity=2)
