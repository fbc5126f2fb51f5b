#!/usr/bin/env python3
"""uplink_memory — the agent's memory with its uplink active and EVENTS events in flight through a
coordinator that stopped answering (issue 4's memory goal: at most 8 MB plus the spool bound).

A benchmark, not a test: it prints medians of RUNS runs and judges against the goal.

The "coordinator" is a TLS server on 127.0.0.1 (certificate made with `openssl req` at run time,
pinned by the agent) that accepts connections and reads requests but never answers. The stage is
one job that prints EVENTS lines (each becomes a `log` event) and then waits; once its lines are
out, the agent's VmRSS and VmHWM are read from /proc. For comparison the same agent is measured
with no uplink, and with the uplink connected to the stalled server but no events.

    tests/bench/uplink_memory.py [--agent PATH] [--events N] [--runs N]
        [--buffer-bytes N] [--spool-bytes N]
"""
import argparse
import hashlib
import json
import os
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def build_agent():
    build = os.path.join(ROOT, "build-bench")
    subprocess.run(["cmake", "-S", ROOT, "-B", build, "-DCMAKE_BUILD_TYPE=Release", "-DSV_TESTS=OFF"],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", build, "-j2", "--target", "stagevisor-agent"],
                   check=True, stdout=subprocess.DEVNULL)
    return os.path.join(build, "agents", "stagevisor-agent")


class StalledServer:
    """Accepts TLS connections on 127.0.0.1 and reads forever; never answers."""

    def __init__(self, certfile, keyfile):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(certfile, keyfile)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.bytes = 0
        self.conns = []
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.hold, args=(c,), daemon=True).start()

    def hold(self, c):
        try:
            s = self.ctx.wrap_socket(c, server_side=True)
            self.conns.append(s)
            while True:
                d = s.recv(65536)
                if not d:
                    return
                self.bytes += len(d)
        except OSError:
            return

    def close(self):
        self.sock.close()
        for s in self.conns:
            try:
                s.close()
            except OSError:
                pass


def proc_mem(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0])
    return out


def wait_for(pred, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.01)
    return False


def one_run(agent, tmp, events, server, pin, buffer_bytes, spool_bytes, uplink):
    done = os.path.join(tmp, "done")
    if os.path.exists(done):
        os.unlink(done)
    script = ("import sys\n"
              "w = sys.stdout.write\n"
              "for i in range(%d):\n"
              "    w('line %%07d of the benchmark stream, about as long as a test log line\\n' %% i)\n"
              "sys.stdout.flush()\n"
              "open(%r, 'w').close()\n"
              "import time\n"
              "time.sleep(600)\n") % (events, done)
    spec = {"version": 1, "stage": "bench", "mode": "job", "stop_timeout": 2,
            "processes": [{"name": "gen", "command": [sys.executable, "-c", script]}]}
    env = dict(os.environ, STAGEVISOR_SPEC=json.dumps(spec), STAGEVISOR_STREAM="bench")
    for k in ("STAGEVISOR_URL", "STAGEVISOR_TOKEN", "STAGEVISOR_PIN"):
        env.pop(k, None)
    if uplink:
        env.update(STAGEVISOR_URL="https://127.0.0.1:%d/" % server.port,
                   STAGEVISOR_TOKEN="svt1." + "ab" * 32, STAGEVISOR_PIN=pin,
                   STAGEVISOR_BUFFER_BYTES=str(buffer_bytes),
                   STAGEVISOR_SPOOL_BYTES=str(spool_bytes),
                   STAGEVISOR_SPOOL=os.path.join(tmp, "spool"))
    p = subprocess.Popen([agent], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not wait_for(lambda: os.path.exists(done), 120):
            raise RuntimeError("the generator did not finish")
        # Let the agent take in what the pipe still holds, then read its memory.
        time.sleep(0.5)
        return proc_mem(p.pid)
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--agent", default=os.environ.get("SV_AGENT"))
    ap.add_argument("--events", type=int, default=100000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--buffer-bytes", type=int, default=1 << 20)
    ap.add_argument("--spool-bytes", type=int, default=64 << 20)
    a = ap.parse_args()
    agent = a.agent or build_agent()

    with tempfile.TemporaryDirectory(prefix="sv-bench-uplink-") as tmp:
        cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-subj", "/CN=127.0.0.1", "-days", "1", "-keyout", key, "-out", cert],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        der = ssl.PEM_cert_to_DER_cert(open(cert).read())
        pin = hashlib.sha256(der).hexdigest()
        server = StalledServer(cert, key)
        rows = []
        for label, events, uplink in (("no uplink", a.events, False),
                                      ("uplink, stalled coordinator, 0 events", 0, True),
                                      ("uplink, stalled coordinator, %d events" % a.events, a.events, True)):
            rss, hwm = [], []
            for _ in range(a.runs):
                m = one_run(agent, tmp, events, server, pin, a.buffer_bytes, a.spool_bytes, uplink)
                rss.append(m["VmRSS"])
                hwm.append(m["VmHWM"])
            rows.append((label, statistics.median(rss), statistics.median(hwm)))
        server.close()

    print("agent memory, medians of %d runs (memory buffer %d bytes, spool file bound %d bytes)"
          % (a.runs, a.buffer_bytes, a.spool_bytes))
    for label, rss, hwm in rows:
        print("  %-45s VmRSS %6d kB   VmHWM %6d kB" % (label, rss, hwm))
    in_flight = rows[2][2]
    goal = 8 * 1024
    print("  in flight vs no uplink: +%d kB RSS; goal: at most 8 MB (+ the spool bound, which is on"
          " disk): %s" % (rows[2][1] - rows[0][1], "met" if in_flight <= goal else "NOT met (%d kB)" % in_flight))


if __name__ == "__main__":
    main()
