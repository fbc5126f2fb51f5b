#!/usr/bin/env python3
"""coord_fake_agent — a scripted stand-in for stagevisor-agent, for the coordinator's tests.

What it does: what the real agent's uplink does on the wire (protocol/PROTOCOL.md): reads
STAGEVISOR_URL/TOKEN/PIN/STREAM/SPEC, pins the server certificate by its SHA-256, POSTs
batches of consecutive events, resumes from the acknowledged seq, honours resend_from,
retries 429/503 and broken connections with backoff, writes the fallback lines
(`@@stagevisor {json}`) for every event but logs, and exits with the stage's result.
It lets the coordinator be tested on its own, with exact control over what is sent; the
end-to-end tests with the real agent are in test_coord_e2e.py.
What it does not do: supervise processes. The "stage" is a plan given in FAKE_AGENT_PLAN:
  {"tests": N, "failed": N, "skipped": N, "logs": N, "findings": N, "result": 0,
   "batch": 500, "no_https": false, "no_fallback": false, "skip_end": false,
   "crash_after": 0 (SIGKILL itself after that many events), "hold": false (wait for SIGTERM
   before the end), "info": PATH (write the environment it got as JSON), "bad_totals": false}
"""
import hashlib
import http.client
import json
import os
import signal
import socket
import ssl
import sys
import time
import urllib.parse

PLAN = json.loads(os.environ.get("FAKE_AGENT_PLAN", "{}"))
if "--check" in sys.argv[1:]:
    # `stagevisor run` validates the spec with the agent's --check before it starts anything;
    # the fake accepts every spec unless the plan says "reject".
    if PLAN.get("reject"):
        print("stagevisor-agent: %s" % PLAN["reject"], file=sys.stderr)
        sys.exit(125)
    print("ok")
    sys.exit(0)
URL = os.environ.get("STAGEVISOR_URL")
TOKEN = os.environ.get("STAGEVISOR_TOKEN")
PIN = os.environ.get("STAGEVISOR_PIN")
STREAM = os.environ.get("STAGEVISOR_STREAM", "standalone")
SPEC = json.loads(os.environ.get("STAGEVISOR_SPEC", "{}"))
stop = {"term": False}


def on_term(sig, frame):
    stop["term"] = True


signal.signal(signal.SIGTERM, on_term)


def ts():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % (int(t * 1000) % 1000)


class Uplink:
    def __init__(self):
        u = urllib.parse.urlparse(URL)
        self.host, self.port = u.hostname, u.port
        self.path = (u.path if u.path.endswith("/") else u.path + "/") + "v1/streams/%s/events" % STREAM
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self.ctx.check_hostname = False
        self.ctx.verify_mode = ssl.CERT_NONE
        self.ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        self.conn = None
        self.ack = 0
        self.cancel = False
        self.statuses = {}

    def connect(self):
        c = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=10)
        c.connect()
        der = c.sock.getpeercert(binary_form=True)
        if hashlib.sha256(der).hexdigest() != PIN:
            raise ssl.SSLError("certificate does not match STAGEVISOR_PIN")
        self.conn = c

    def post(self, events):
        body = json.dumps({"v": 1, "stream": STREAM, "events": events}, separators=(",", ":"))
        if self.conn is None:
            self.connect()
        self.conn.request("POST", self.path, body=body.encode(),
                          headers={"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"})
        r = self.conn.getresponse()
        data = r.read()
        self.statuses[r.status] = self.statuses.get(r.status, 0) + 1
        if r.status != 200:
            return r.status, None
        return 200, json.loads(data)

    def deliver(self, events, deadline):
        """Sends events (consecutive, already stamped) until all are acknowledged."""
        delay = 0.01
        by_seq = {e["seq"]: e for e in events}
        last = events[-1]["seq"] if events else self.ack
        while self.ack < last:
            if time.monotonic() > deadline:
                return False
            start = self.ack + 1
            batch = [by_seq[s] for s in range(start, min(last, start + PLAN.get("batch", 500) - 1) + 1)]
            try:
                status, answer = self.post(batch)
            except (OSError, http.client.HTTPException, ssl.SSLError):
                self.conn = None
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
                continue
            if status != 200:
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
                continue
            delay = 0.01
            self.ack = max(self.ack, answer["ack"])
            ctl = answer.get("control", {})
            if ctl.get("cancel"):
                self.cancel = True
        return True


def main():
    if PLAN.get("info"):
        with open(PLAN["info"] + ".tmp", "w") as f:
            json.dump({k: v for k, v in os.environ.items() if k.startswith("STAGEVISOR_")}, f)
        os.rename(PLAN["info"] + ".tmp", PLAN["info"])
    seq = 0
    events = []
    totals = {"events": 0, "tests": {"passed": 0, "failed": 0, "error": 0, "skipped": 0},
              "findings": {"error": 0, "warning": 0, "info": 0}, "metrics": 0, "logs": 0, "shed": {"log": 0}}

    def emit(body):
        nonlocal seq
        seq += 1
        ev = {"v": 1, "stream": STREAM, "seq": seq, "ts": ts()}
        ev.update(body)
        events.append(ev)
        t = body["type"]
        if t == "test":
            totals["tests"][body["status"]] += 1
        elif t == "finding":
            totals["findings"][body["severity"]] += 1
        elif t == "log":
            totals["logs"] += 1
        elif t == "metric":
            totals["metrics"] += 1
        if t != "end":
            totals["events"] += 1
        if t != "log" and not PLAN.get("no_fallback"):
            sys.stdout.write("@@stagevisor " + json.dumps(ev, separators=(",", ":")) + "\n")
        elif t == "log":
            sys.stdout.write(body["line"] + "\n")
        if PLAN.get("crash_after") and seq >= PLAN["crash_after"]:
            # A real crash: as PID 1 of a PID namespace, signals it sends itself are ignored,
            # but a fault is not.
            sys.stdout.flush()
            import ctypes
            ctypes.string_at(0)

    stage = SPEC.get("stage", "fake")
    emit({"type": "stage", "event": "started", "stage": stage, "mode": SPEC.get("mode", "job")})
    emit({"type": "process", "event": "started", "process": "runner", "pid": os.getpid(), "attempt": 1})
    if SPEC.get("mode") == "service":
        # A service stage: every service process reports ready, then the stage runs until told to stop.
        PLAN.setdefault("hold", True)
        for p in SPEC.get("processes", []):
            if p.get("role") == "service":
                emit({"type": "process", "event": "started", "process": p["name"], "pid": os.getpid(), "attempt": 1})
                if not PLAN.get("never_ready"):
                    emit({"type": "process", "event": "ready", "process": p["name"], "pid": os.getpid(), "attempt": 1})
        if PLAN.get("fail_service"):
            emit({"type": "process", "event": "failed", "process": "web", "pid": os.getpid(), "attempt": 4,
                  "reason": "exited 1 four times", "last_lines": ["boom"]})
            sys.stdout.flush()
            sys.exit(1)
    n_tests, n_failed, n_skipped = PLAN.get("tests", 0), PLAN.get("failed", 0), PLAN.get("skipped", 0)
    n_logs = PLAN.get("logs", 0)
    per = max(1, n_logs // max(1, n_tests)) if n_tests else n_logs
    logs_left = n_logs
    for i in range(n_tests):
        for _ in range(min(per, logs_left)):
            emit({"type": "log", "process": "runner", "fd": "stdout", "line": "log line %d <&> \u00e9" % (n_logs - logs_left)})
            logs_left -= 1
        status = "failed" if i < n_failed else "skipped" if i < n_failed + n_skipped else "passed"
        ev = {"type": "test", "suite": "Suite%d" % (i % 3), "class": "Suite%d" % (i % 3), "name": "test_%05d" % i,
              "status": status, "time": 0.001}
        if status == "failed":
            ev["message"] = "expected 1 <got> 2 & \"quoted\"\x01"
            ev["details"] = "trace line 1\ntrace line 2"
        emit(ev)
    for _ in range(logs_left):
        emit({"type": "log", "process": "runner", "fd": "stdout", "line": "tail log %d" % logs_left})
        logs_left -= 1
    for i in range(PLAN.get("findings", 0)):
        sev = ["error", "warning", "info"][i % 3]
        emit({"type": "finding", "tool": "phpcs" if i % 2 else "phpmd", "rule": "Rule%d" % (i % 4),
              "severity": sev, "file": "src/A.php", "line": i + 1, "message": "finding <%d>" % i,
              "fingerprint": hashlib.sha256(b"f%d" % i).hexdigest()[:16]})
    sys.stdout.flush()
    uplink = Uplink() if URL and not PLAN.get("no_https") else None
    deadline = time.monotonic() + PLAN.get("deadline", 120)
    if uplink:
        uplink.deliver(events, deadline)
    if PLAN.get("hold"):
        sys.stdout.flush()
        while not stop["term"] and not (uplink and uplink.cancel):
            time.sleep(0.02)
            if uplink:
                uplink.deliver(events + [], deadline)
                try:
                    _, a = uplink.post([])
                    if a and a.get("control", {}).get("cancel"):
                        uplink.cancel = True
                except (OSError, http.client.HTTPException):
                    uplink.conn = None
    result = PLAN.get("result", 1 if n_failed else 0)
    reason = "signal" if stop["term"] else "cancel" if (uplink and uplink.cancel) else "jobs-ended"
    emit({"type": "process", "event": "exited", "process": "runner", "pid": os.getpid(), "attempt": 1,
          "exit_code": result, "signal": None, "status": result, "run_ms": 1, "cpu_user_ms": 0, "cpu_sys_ms": 0,
          "max_rss_kb": 1000, "killed_by": None})
    emit({"type": "stage", "event": "stopping", "stage": stage, "mode": SPEC.get("mode", "job"), "reason": reason})
    emit({"type": "stage", "event": "ended", "stage": stage, "mode": SPEC.get("mode", "job"), "result": result})
    if PLAN.get("bad_totals"):
        totals["tests"]["passed"] += 1
    if not PLAN.get("skip_end"):
        emit({"type": "end", "result": result, "totals": totals})
    sys.stdout.flush()
    if uplink:
        uplink.deliver(events, deadline)
        if PLAN.get("stats"):
            with open(PLAN["stats"], "w") as f:
                json.dump({str(k): v for k, v in uplink.statuses.items()}, f)
    sys.exit(result)


if __name__ == "__main__":
    main()
