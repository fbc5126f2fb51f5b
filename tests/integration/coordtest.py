"""coordtest — helpers for the coordinator's integration tests (test_coord_*.py).

What it does: finds the binaries (stagevisor, sv_ingest_server, stagevisor-agent, the scripted
fake agent), runs `stagevisor run` with a spec in a temporary directory, talks to an ingest
server over TLS with the certificate pinned by its SHA-256 (as the agent does), and reads
JUnit files with a real XML parser, checking the shape the Jenkins junit plugin reads
(testsuites/testsuite/testcase with failure|error|skipped children).
What it does not do: assert test outcomes; the tests do.
"""
import hashlib
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svtest  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("SV_SRC") or os.path.abspath(os.path.join(HERE, "..", ".."))
FAKE_AGENT = os.path.join(HERE, "coord_fake_agent.py")


def _from_build(env, rel):
    p = os.environ.get(env)
    if p:
        return p
    for d in sorted(os.listdir(SRC)):
        cand = os.path.join(SRC, d, rel)
        if d.startswith("build") and os.access(cand, os.X_OK):
            return cand
    raise RuntimeError("%s not found: set %s" % (rel, env))


def coord():
    return _from_build("SV_COORD", "coordinator/stagevisor")


def ingest_server():
    return _from_build("SV_INGEST_SERVER", "tests/integration/sv_ingest_server")


def real_agent():
    try:
        return _from_build("SV_AGENT", "agents/stagevisor-agent")
    except RuntimeError:
        return None


def sanitize():
    return os.environ.get("SV_SANITIZE", "0") in ("1", "ON", "on", "true", "TRUE")


def slack(seconds):
    return seconds * 4 if sanitize() else seconds


# The same polling and port helpers as the agent's tests.
free_port = svtest.free_port


def wait_until(pred, timeout, what="condition", interval=0.01):
    return svtest.wait_until(pred, timeout, what, interval)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


# --- TLS client with pinning ----------------------------------------------------------------

def tls_context(max_version=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if max_version is not None:
        ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        ctx.maximum_version = max_version
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    return ctx


class Client:
    """One kept-alive HTTPS connection that checks the server's certificate against a pin."""

    def __init__(self, port, pin, timeout=10):
        self.port, self.pin, self.timeout = port, pin, timeout
        self.conn = None

    def _connect(self):
        c = http.client.HTTPSConnection("127.0.0.1", self.port, context=tls_context(), timeout=self.timeout)
        c.connect()
        der = c.sock.getpeercert(binary_form=True)
        check(hashlib.sha256(der).hexdigest() == self.pin, "the server certificate does not match the pin")
        self.conn = c

    def request(self, method, path, body=b"", headers=None):
        if self.conn is None:
            self._connect()
        self.conn.request(method, path, body=body, headers=headers or {})
        r = self.conn.getresponse()
        data = r.read()
        if r.getheader("Connection", "").lower() == "close":
            self.close()
        return r.status, data

    def post_events(self, stream, token, events, raw=None):
        body = raw if raw is not None else json.dumps({"v": 1, "stream": stream, "events": events}).encode()
        h = {"Content-Type": "application/json"}
        if token is not None:
            h["Authorization"] = "Bearer " + token
        return self.request("POST", "/v1/streams/%s/events" % stream, body, h)

    def close(self):
        if self.conn:
            self.conn.close()
        self.conn = None


def ts():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % (int(t * 1000) % 1000)


def event(stream, seq, **body):
    ev = {"v": 1, "stream": stream, "seq": seq, "ts": ts()}
    if not body:
        body = {"type": "metric", "name": "m", "value": seq}
    ev.update(body)
    return ev


class IngestServer:
    """sv_ingest_server: N streams, no agent. .info has url, port, pin, streams[{id, token}]."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([ingest_server()] + [str(a) for a in args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError("sv_ingest_server did not start: %s" % self.proc.stderr.read())
        self.info = json.loads(line)
        self.port, self.pin = self.info["port"], self.info["pin"]
        self.streams = self.info["streams"]

    def client(self, timeout=10):
        return Client(self.port, self.pin, timeout)

    def stats(self):
        self.proc.send_signal(signal.SIGUSR1)
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError("sv_ingest_server died (%s): %s" % (self.proc.wait(), self.proc.stderr.read()))
        return json.loads(line)["stats"]

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        line = self.proc.stdout.readline()
        rc = self.proc.wait(timeout=slack(20))
        if rc != 0:
            raise AssertionError("sv_ingest_server exited with %s: %s" % (rc, self.proc.stderr.read()))
        return json.loads(line)["stats"] if line else None


# --- stagevisor run -------------------------------------------------------------------------

def write_spec(directory, spec, name="spec.json"):
    full = {"version": 1, "stage": "it", "mode": "job"}
    full.update(spec)
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        json.dump(full, f)
    return path


def fake_spec(directory, **kw):
    spec = {"stage": "unit", "processes": [{"name": "runner", "command": ["true"]}]}
    spec.update(kw)
    return write_spec(directory, spec)


class Run:
    """`stagevisor run` as a child; .out and .err are the collected text once it ended."""

    def __init__(self, tmp, spec, agent=None, plan=None, extra=(), env=None):
        self.tmp = tmp
        self.junit = os.path.join(tmp, "junit.xml")
        self.json = os.path.join(tmp, "summary.json")
        argv = [coord(), "run", "--backend", "local", "--spec", spec, "--junit", self.junit, "--json", self.json,
                "--state-dir", os.path.join(tmp, "state"), "--agent", agent or FAKE_AGENT] + list(extra)
        e = dict(os.environ)
        if plan is not None:
            e["FAKE_AGENT_PLAN"] = json.dumps(plan)
        e.update(env or {})
        self.outf = open(os.path.join(tmp, "run.out"), "w+")
        self.errf = open(os.path.join(tmp, "run.err"), "w+")
        self.proc = subprocess.Popen(argv, stdout=self.outf, stderr=self.errf, env=e)
        self.rc = None

    def output(self):
        with open(self.outf.name) as f:
            return f.read()

    def wait(self, timeout=60):
        self.rc = self.proc.wait(timeout=slack(timeout))
        self.out = self.output()
        with open(self.errf.name) as f:
            self.err = f.read()
        return self.rc

    def summary(self):
        with open(self.json) as f:
            return json.load(f)


def run(tmp, spec, agent=None, plan=None, extra=(), env=None, timeout=60):
    r = Run(tmp, spec, agent, plan, extra, env)
    r.wait(timeout)
    return r


# --- JUnit ----------------------------------------------------------------------------------

def read_junit(path):
    """Parses the file and checks the structure the Jenkins junit plugin reads. Returns
    {"suites": {name: [case, ...]}, "root": element} where case is a dict with name,
    classname, status (passed|failure|error|skipped), message."""
    tree = ET.parse(path)
    root = tree.getroot()
    check(root.tag == "testsuites", "root is <%s>, not <testsuites>" % root.tag)
    suites = {}
    total = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for ts_el in root:
        check(ts_el.tag == "testsuite", "child of testsuites is <%s>" % ts_el.tag)
        check(ts_el.get("name"), "testsuite without a name")
        cases = []
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for tc in ts_el:
            if tc.tag in ("system-out", "system-err", "properties"):
                continue
            check(tc.tag == "testcase", "child of testsuite is <%s>" % tc.tag)
            check(tc.get("name") is not None and tc.get("classname") is not None, "testcase without name/classname")
            float(tc.get("time", "0"))
            status, message = "passed", None
            kids = [k for k in tc if k.tag in ("failure", "error", "skipped")]
            check(len(kids) <= 1, "testcase %s has %d results" % (tc.get("name"), len(kids)))
            if kids:
                status = kids[0].tag
                message = kids[0].get("message")
            counts["tests"] += 1
            counts["failures"] += status == "failure"
            counts["errors"] += status == "error"
            counts["skipped"] += status == "skipped"
            cases.append({"name": tc.get("name"), "classname": tc.get("classname"), "status": status,
                          "message": message, "text": kids[0].text if kids else None})
        for k in counts:
            check(int(ts_el.get(k, "0")) == counts[k],
                  "testsuite %s says %s=%s, has %d" % (ts_el.get("name"), k, ts_el.get(k), counts[k]))
            total[k] += counts[k]
        check(ts_el.get("name") not in suites, "two testsuites named %s" % ts_el.get("name"))
        suites[ts_el.get("name")] = cases
    for k in total:
        check(int(root.get(k, "0")) == total[k], "testsuites says %s=%s, has %d" % (k, root.get(k), total[k]))
    return {"suites": suites, "root": root}


def all_cases(j):
    return [c for cases in j["suites"].values() for c in cases]


def xmllint_ok(path):
    return subprocess.run(["xmllint", "--noout", path], capture_output=True).returncode == 0


def no_control_chars(text):
    return not any((ord(ch) < 0x20 and ch not in "\n") or ord(ch) == 0x7f for ch in text)


class Tests:
    """A tiny runner: each test_* function gets a fresh temporary directory."""

    def __init__(self, module):
        self.module = module

    def main(self):
        names = [n for n in sorted(dir(self.module)) if n.startswith("test_")]
        only = sys.argv[1:]
        failed = []
        for n in names:
            if only and n not in only:
                continue
            tmp = tempfile.mkdtemp(prefix="sv-coord-it-")
            t0 = time.monotonic()
            try:
                getattr(self.module, n)(tmp)
                print("PASS %s (%.1f s)" % (n, time.monotonic() - t0), flush=True)
            except SkipTest as e:
                print("SKIP %s: %s" % (n, e), flush=True)
            except Exception as e:  # noqa: BLE001 - report every failure and go on
                import traceback
                traceback.print_exc()
                print("FAIL %s: %s" % (n, e), flush=True)
                failed.append(n)
        print("%d failed: %s" % (len(failed), " ".join(failed)) if failed else "all passed")
        sys.exit(1 if failed else 0)


class SkipTest(Exception):
    pass


# --- a fault-injecting TCP proxy --------------------------------------------------------------

import random  # noqa: E402
import threading  # noqa: E402


class FaultProxy:
    """TCP proxy on 127.0.0.1 between an agent and the coordinator.

    mode "cut":   every connection is reset after a random 2-8 KB (in either direction).
    mode "stall": every connection stops forwarding after a random 2-8 KB for `stall` seconds,
                  then is reset (a peer that hangs, then vanishes).
    mode "pass":  forwards everything.
    start_after:  seconds before the proxy starts listening (the coordinator is unreachable
                  at the agent's start and appears later).
    """

    def __init__(self, upstream_port, mode="cut", stall=3.0, start_after=0.0, port=None, seed=1):
        self.upstream, self.mode, self.stall = upstream_port, mode, stall
        self.port = port or free_port()
        self.rng = random.Random(seed)
        self.cuts = 0
        self.conns = 0
        self.stop_ev = threading.Event()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._serve, args=(start_after,), daemon=True)
        self.thread.start()

    def _serve(self, start_after):
        if start_after:
            self.stop_ev.wait(start_after)
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", self.port))
        ls.listen(128)
        ls.settimeout(0.2)
        while not self.stop_ev.is_set():
            try:
                c, _ = ls.accept()
            except socket.timeout:
                continue
            try:
                u = socket.create_connection(("127.0.0.1", self.upstream))
            except OSError:
                c.close()
                continue
            for s in (c, u):
                # As real proxies do: without it each small TLS record waits for a delayed ACK
                # (40 ms on loopback), and the proxy, not the fault, sets the pace.
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self.conns += 1
                budget = self.rng.randint(2048, 8192)
            state = {"left": budget, "dead": False}
            for a, b in ((c, u), (u, c)):
                threading.Thread(target=self._pump, args=(a, b, c, u, state), daemon=True).start()
        ls.close()

    @staticmethod
    def _reset(s):
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        except OSError:
            pass
        try:
            # shutdown first: close() alone does not wake the other pump thread blocked in
            # recv() on this socket, and the socket would live on (a stall, not a cut).
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            s.close()
        except OSError:
            pass

    def _pump(self, src, dst, c, u, state):
        try:
            while not state["dead"] and not self.stop_ev.is_set():
                data = src.recv(4096)
                if not data:
                    break
                if self.mode != "pass":
                    with self.lock:
                        state["left"] -= len(data)
                        fault = state["left"] <= 0 and not state["dead"]
                        if fault:
                            state["dead"] = True
                            self.cuts += 1
                    if fault:
                        if self.mode == "stall":
                            self.stop_ev.wait(self.stall)
                        self._reset(c)
                        self._reset(u)
                        return
                dst.sendall(data)
        except OSError:
            pass
        state["dead"] = True
        for s in (c, u):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.stop_ev.set()
        self.thread.join(timeout=5)


def agent_or_skip():
    a = real_agent()
    if not a:
        raise SkipTest("stagevisor-agent is not built")
    return a


def stage_script(tests, logs, failed=0, delay=0.0):
    """A shell-free job: python3 printing `logs` log lines and `tests` TeamCity test results."""
    return ("import sys,time\n"
            "n,l,f,d=%d,%d,%d,%f\n"
            "per=max(1,l//max(1,n))\n"
            "left=l\n"
            "for i in range(n):\n"
            "    for _ in range(min(per,left)):\n"
            "        print('log line %%d' %% (l-left)); left-=1\n"
            "    print(\"##teamcity[testStarted name='t%%05d']\" %% i)\n"
            "    if i < f: print(\"##teamcity[testFailed name='t%%05d' message='boom %%d']\" %% (i, i))\n"
            "    print(\"##teamcity[testFinished name='t%%05d' duration='1']\" %% i)\n"
            "    if d: sys.stdout.flush(); time.sleep(d)\n"
            "for _ in range(left): print('tail')\n" % (tests, logs, failed, delay))


def real_spec(directory, tests, logs, failed=0, delay=0.0, stop_timeout=30):
    return write_spec(directory, {"stage": "unit", "stop_timeout": stop_timeout, "processes": [
        {"name": "runner", "role": "job", "command": ["python3", "-u", "-c", stage_script(tests, logs, failed, delay)],
         "results": [{"format": "teamcity", "stream": "stdout"}]}]})
