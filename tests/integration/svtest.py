"""svtest — small helpers for integration tests that run the real stagevisor-agent.

What it does: finds the agent binary, writes a stage spec into a temporary directory, starts the
agent (optionally as PID 1 of a new PID namespace), collects its stdout/stderr lines in the
background, parses the `@@stagevisor {json}` fallback lines (protocol/PROTOCOL.md), and waits for
conditions by polling with generous deadlines (never fixed sleeps).
What it does not do: assert anything; the test files do that.

Other tests may import it (sys.path.insert(0, os.path.dirname(__file__))). Keep it stable:
    agent_path(), coord_path(), built_binary(env, relpath), sanitize(), slack(x), free_port(), write_spec(dir, spec),
    wait_until(pred, timeout, what), wait_file(path, timeout), wait_port(port, timeout),
    parse_events(lines), Agent(spec, tmpdir, ...) with .events(), .wait_event(...), .wait_exit(),
    .wait_running(pred, timeout, what), .signal(sig), .stdout_lines(), .stderr_lines(), .close();
    proc_stat(pid), children_of(pid), descendants_of(pid), pid_alive(pid), kill_strays(marker),
    take_sanitizer_reports() (assert it is [] in tearDown),
    AgentTestCase (a temp dir self.dir, a record path self.rec, at most one self.agent).
"""
import json
import os
import random
import tempfile
import unittest
import signal
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET

MARKER = "@@stagevisor "
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")
_sanitizer_reports = []


def note_sanitizer(stderr_lines):
    """Remembers sanitizer reports among an agent's stderr lines (see take_sanitizer_reports)."""
    for ln in stderr_lines:
        if any(m in ln for m in SANITIZER_MARKS):
            _sanitizer_reports.append(ln)


def take_sanitizer_reports():
    """ASan/LSan/UBSan report lines seen since the last call: tests assert this is empty in
    tearDown, so a sanitizer finding fails the test even where the exit code is not checked."""
    out = list(_sanitizer_reports)
    del _sanitizer_reports[:]
    return out


def built_binary(env, relpath):
    """A built program: $env, else the first build dir under $SV_SRC (or the repo) that has relpath."""
    p = os.environ.get(env)
    if p:
        return p
    src = os.environ.get("SV_SRC") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    for d in sorted(os.listdir(src)):
        cand = os.path.join(src, d, relpath)
        if d.startswith("build") and os.access(cand, os.X_OK):
            return cand
    raise RuntimeError("%s not found: set %s" % (os.path.basename(relpath), env))


def agent_path():
    """The agent binary: $SV_AGENT, else the first build dir that has it."""
    return built_binary("SV_AGENT", os.path.join("agents", "stagevisor-agent"))


def coord_path():
    """The coordinator binary: $SV_COORD, else the first build dir that has it."""
    return built_binary("SV_COORD", os.path.join("coordinator", "stagevisor"))


def sanitize():
    return os.environ.get("SV_SANITIZE", "0") in ("1", "ON", "on", "true", "TRUE")


def slack(seconds):
    """A timing threshold, relaxed (x4) when the agent runs under ASan+UBSan."""
    return seconds * 4 if sanitize() else seconds


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port():
    """A loopback port free now, for a server the test starts later. Not from bind(0): that
    is the kernel's ephemeral range, from which every outgoing connection (a test's HTTP call,
    the coordinator's) takes its local port too, and on a busy machine one can take the port
    before the server binds it. A random port below that range, checked by binding it."""
    low, high = 20000, min(_ephemeral_low(), 32768)
    if high - low >= 1000:
        for _ in range(500):
            port = random.randrange(low, high)
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
            finally:
                s.close()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def write_spec(directory, spec, name="spec.json"):
    """Writes spec (dict) as JSON; fills version/stage/mode defaults. Returns the path."""
    full = {"version": 1, "stage": "it", "mode": "job"}
    full.update(spec)
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        json.dump(full, f, indent=1)
    return path


def wait_until(pred, timeout, what="condition", interval=0.005):
    """Polls pred() until it returns a truthy value (returned) or raises AssertionError at timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(interval)


def read_text(path):
    try:
        with open(path) as f:
            return f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None


def wait_file(path, timeout, contains=None):
    """Waits until path exists (and contains `contains`, if given); returns its text."""
    def ok():
        t = read_text(path)
        return t is not None and (contains is None or contains in t)
    wait_until(ok, timeout, "file %s%s" % (path, " containing %r" % contains if contains else ""))
    return read_text(path)


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_port(port, timeout):
    return wait_until(lambda: port_open(port), timeout, "port %d" % port, interval=0.02)


def parse_events(lines):
    """The JSON objects of the `@@stagevisor ` lines among lines (marker may follow a prefix)."""
    out = []
    for ln in lines:
        i = ln.find(MARKER)
        if i < 0:
            continue
        try:
            out.append(json.loads(ln[i + len(MARKER):]))
        except ValueError:
            pass
    return out


def proc_stat(pid):
    """(state, ppid, pgrp, sid) from /proc/pid/stat, or None when gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    rest = s[s.rindex(")") + 2:].split()
    return rest[0], int(rest[1]), int(rest[2]), int(rest[3])


def pid_alive(pid):
    """True while /proc/pid exists (zombies included)."""
    return proc_stat(pid) is not None


def all_pids():
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def children_of(pid):
    """[(child pid, state)] of every process whose parent is pid."""
    out = []
    for p in all_pids():
        st = proc_stat(p)
        if st and st[1] == pid:
            out.append((p, st[0]))
    return out


def descendants_of(pid):
    kids = {}
    for p in all_pids():
        st = proc_stat(p)
        if st:
            kids.setdefault(st[1], []).append(p)
    out, todo = [], [pid]
    while todo:
        for c in kids.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def kill_strays(marker):
    """SIGKILLs every process (but this one) whose command line contains marker, e.g. a test's
    temporary directory: what a crashed or misbehaving agent left behind."""
    me = os.getpid()
    for p in all_pids():
        if p == me:
            continue
        try:
            with open("/proc/%d/cmdline" % p, "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if marker.encode() in cmd:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass


class Agent:
    """One running stagevisor-agent.

    spec: dict (written to tmpdir/spec.json and passed with --spec) or None (pass args yourself).
    pid1: run as PID 1 of a new PID namespace via `unshare --pid --fork --mount-proc`; then
          .pid is the agent's pid as seen here (the unshare child), .wrapper_pid unshare's.
    read_stdout=False leaves the stdout pipe unread until .start_reading() (tests a blocked stdout).
    """

    def __init__(self, spec, tmpdir, args=None, env=None, pid1=False, read_stdout=True, stdin=None):
        self.tmpdir = tmpdir
        cmd = [agent_path()]
        if spec is not None:
            self.spec_path = write_spec(tmpdir, spec)
            cmd += ["--spec", self.spec_path]
        cmd += list(args or [])
        if pid1:
            cmd = ["unshare", "--pid", "--fork", "--mount-proc"] + cmd
        full_env = dict(os.environ)
        full_env.update(env or {})
        self._out, self._err = [], []
        self._out_t, self._err_t = [], []
        self._lock = threading.Lock()
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=stdin if stdin is not None else subprocess.DEVNULL,
                                     env=full_env, cwd=tmpdir)
        self.wrapper_pid = self.proc.pid
        self.pid = self.proc.pid
        if pid1:
            # unshare's child is the agent; it may even have ended already (a short stage).
            def agent_child():
                kids = children_of(self.wrapper_pid)
                if kids:
                    return kids[0][0]
                return -1 if self.proc.poll() is not None else None
            pid = wait_until(agent_child, slack(10), "unshare's child")
            if pid > 0:
                self.pid = pid
        self._threads = []
        self._spawn_reader(self.proc.stderr, self._err, self._err_t)
        if read_stdout:
            self.start_reading()

    def _spawn_reader(self, stream, sink, times):
        def run():
            for raw in iter(stream.readline, b""):
                t = time.monotonic()
                with self._lock:
                    sink.append(raw.decode("utf-8", "replace").rstrip("\n"))
                    times.append(t)
        th = threading.Thread(target=run, daemon=True)
        th.start()
        self._threads.append(th)

    def start_reading(self):
        self._spawn_reader(self.proc.stdout, self._out, self._out_t)

    def stdout_lines(self):
        with self._lock:
            return list(self._out)

    def stderr_lines(self):
        with self._lock:
            return list(self._err)

    def stdout_lines_timed(self):
        with self._lock:
            return list(zip(self._out_t, self._out))

    def events(self, **match):
        """Parsed @@stagevisor events whose members equal the given values."""
        return [e for e in parse_events(self.stdout_lines())
                if all(e.get(k) == v for k, v in match.items())]

    def wait_event(self, timeout, **match):
        """Waits for the first event matching; returns it."""
        return wait_until(lambda: (self.events(**match) or [None])[0], timeout,
                          "event %r (stderr: %s)" % (match, self.stderr_lines()[-5:]))

    def wait_running(self, pred, timeout, what="condition", interval=0.005):
        """wait_until(), failing at once (with the agent's status) if the agent exits meanwhile."""
        def check():
            v = pred()
            if v:
                return v
            rc = self.proc.poll()
            if rc is not None:
                raise AssertionError("the agent exited (status %d) while waiting for %s; stderr tail: %s"
                                     % (rc, what, self.stderr_lines()[-5:]))
            return None
        return wait_until(check, timeout, what, interval)

    def wait_line(self, pred, timeout, stream="stdout"):
        get = self.stdout_lines if stream == "stdout" else self.stderr_lines
        return wait_until(lambda: next((ln for ln in get() if pred(ln)), None), timeout,
                          "a %s line" % stream)

    def signal(self, sig):
        os.kill(self.pid, sig)

    def running(self):
        return self.proc.poll() is None

    def wait_exit(self, timeout):
        """The agent's exit status (as Popen reports it: negative for a signal); raises on timeout."""
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("agent still running after %.1f s; stdout tail: %s; stderr tail: %s"
                                 % (timeout, self.stdout_lines()[-8:], self.stderr_lines()[-8:]))
        for th in self._threads:
            th.join(timeout=5)
        return rc

    def close(self):
        """Kills the agent and everything under it if it is still running (test cleanup)."""
        if self.proc.poll() is None:
            for p in descendants_of(self.wrapper_pid) + [self.wrapper_pid]:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        kill_strays(self.tmpdir)
        for th in self._threads:
            th.join(timeout=5)
        note_sanitizer(self.stderr_lines())
        for s in (self.proc.stdout, self.proc.stderr):
            try:
                s.close()
            except Exception:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def run_agent(spec=None, args=(), env=None, timeout=30, cwd=None):
    """Runs the agent to completion: (returncode, stdout, stderr) as text."""
    cmd = [agent_path()] + list(args)
    full_env = dict(os.environ)
    if spec is not None:
        full_env["STAGEVISOR_SPEC"] = json.dumps(dict({"version": 1, "stage": "it", "mode": "job"}, **spec))
    full_env.update(env or {})
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                       env=full_env, timeout=timeout, cwd=cwd)
    note_sanitizer(r.stderr.decode("utf-8", "replace").splitlines())
    return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")


def py(code):
    """argv that runs a Python snippet with the interpreter running the tests."""
    return [sys.executable, "-c", code]


class AgentTestCase(unittest.TestCase):
    """A test with its own temporary directory (self.dir), a record file path in it (self.rec)
    and at most one agent (self.agent), closed afterwards; the agent's stderr must carry no
    sanitizer report."""
    prefix = "sv-test-"

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix=self.prefix)
        self.dir = self.tmp.name
        self.rec = os.path.join(self.dir, "rec")
        self.agent = None

    def tearDown(self):
        if self.agent:
            self.agent.close()
        self.tmp.cleanup()
        self.assertEqual(take_sanitizer_reports(), [], "sanitizer reports from the agent")


# ---- JUnit files: PHPUnit's own (the truth) and the coordinator's ---------------------------

def case_status(case):
    """A <testcase> element's status: passed, failed, error or skipped."""
    for k in case:
        if k.tag in ("failure", "error", "skipped"):
            return {"failure": "failed"}.get(k.tag, k.tag)
    return "passed"


def junit_cases(path):
    """{(class, name): element}; each case once (PHPUnit's files have "class", ours "classname")."""
    out = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        key = (case.get("class") or case.get("classname"), case.get("name"))
        assert key not in out, "twice in %s: %s" % (path, key)
        out[key] = case
    return out


def phpunit_truth(path):
    """{(class, name): status} from PHPUnit's own JUnit file."""
    return {k: case_status(c) for k, c in junit_cases(path).items()}


def coord_cases(path):
    """{(classname, name): (status, element)} of the coordinator's JUnit file, stagevisor's own
    suite left out."""
    out = {}
    for suite in ET.parse(path).getroot():
        if suite.get("name") == "stagevisor":
            continue
        for case in suite:
            key = (case.get("classname"), case.get("name"))
            assert key not in out, "twice in the JUnit file: %s" % (key,)
            out[key] = (case_status(case), case)
    return out
