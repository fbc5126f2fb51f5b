"""The agent's uplink (issue 4) against a tiny HTTPS coordinator stand-in on 127.0.0.1: Python's
ssl + http.server with a self-signed certificate made with `openssl req -x509` at test time, the
agent pinning the SHA-256 of its DER form. The server applies the protocol's ack rules
(protocol/PROTOCOL.md) and records every batch.

Checks: every event arrives, stored exactly once and in order (seq 1..end.seq, nothing missing);
the `end` event is acknowledged before the agent exits; the agent exits with the stage's result;
result and lifecycle events equal the fallback lines; log lines arrive as `log` events; a wrong
pin leaves the stage's result and fallback lines intact and says why on stderr; `cancel` stops the
stage; `detach` stops the uplink while the stage goes on; a bad STAGEVISOR_* variable is 125.
(The end-to-end run with the real coordinator belongs to coordinator/'s tests.)
"""
import hashlib
import http.server
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svtest  # noqa: E402

TOKEN = "svt1." + "ab" * 32
STREAM = "build-7.unit"


class Coordinator:
    """A minimal ingest endpoint: POST /v1/streams/{STREAM}/events with the bearer token."""

    def __init__(self, certfile, keyfile, control=None):
        self.gate = threading.Event()  # requests wait for it (set: answer at once)
        self.gate.set()
        self.lock = threading.Lock()
        self.batches = []        # every decoded batch, as received
        self.stored = []         # the events stored, in order (seq ack+1 .. last)
        self.ack = 0
        self.duplicates = 0
        self.responses = []      # (ack, control) per answer
        self.control = control   # fn(coord) -> dict or None: control flags for the next answer
        coord = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                if self.path != "/v1/streams/%s/events" % STREAM:
                    return self.answer(404, b"")
                if self.headers.get("Authorization") != "Bearer " + TOKEN:
                    return self.answer(401, b"")
                n = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(n))
                coord.gate.wait(60)
                self.answer(200, json.dumps(coord.take(body)).encode())

            def answer(self, status, body):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(certfile, keyfile)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def take(self, body):
        with self.lock:
            evs = body["events"]
            self.batches.append(evs)
            resp = {"ack": self.ack}
            if evs:
                first, last = evs[0]["seq"], evs[-1]["seq"]
                if first > self.ack + 1:
                    resp["resend_from"] = self.ack + 1
                else:
                    for e in evs:
                        if e["seq"] <= self.ack:
                            self.duplicates += 1
                        else:
                            self.stored.append(e)
                    self.ack = max(self.ack, last)
                    resp["ack"] = self.ack
            ctl = self.control(self) if self.control else None
            if ctl:
                resp["control"] = ctl
            self.responses.append((resp["ack"], ctl))
            return resp

    def snapshot(self):
        with self.lock:
            return list(self.stored), self.ack, list(self.responses)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def make_cert(directory, name="c"):
    cert, key = os.path.join(directory, name + ".pem"), os.path.join(directory, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1"],
                   check=True, capture_output=True)
    with open(cert) as f:
        pin = hashlib.sha256(ssl.PEM_cert_to_DER_cert(f.read())).hexdigest()
    return cert, key, pin


class AgentUplink(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sv-up-")
        self.cert, self.key, self.pin = make_cert(self.tmp)
        self.coord = None

    def tearDown(self):
        if self.coord:
            self.coord.close()
        svtest.kill_strays(self.tmp)
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.assertEqual(svtest.take_sanitizer_reports(), [])

    def env(self, pin=None):
        return {"STAGEVISOR_URL": "https://127.0.0.1:%d/" % self.coord.port, "STAGEVISOR_STREAM": STREAM,
                "STAGEVISOR_TOKEN": TOKEN, "STAGEVISOR_PIN": pin or self.pin,
                "STAGEVISOR_SPOOL": os.path.join(self.tmp, "spool")}

    def junit_job(self, lines=200, extra=""):
        with open(os.path.join(self.tmp, "j.xml"), "w") as f:
            f.write('<?xml version="1.0"?>\n<testsuite name="S"><testcase classname="S" name="ok"/>'
                    '<testcase classname="S" name="bad"><failure message="no">x</failure></testcase>'
                    '</testsuite>\n')
        script = ("i=0; while [ $i -lt %d ]; do echo \"line $i\"; i=$((i+1)); done; "
                  "echo to-stderr >&2; cp j.xml out.xml; %s") % (lines, extra)
        return {"name": "job", "cwd": self.tmp, "command": ["/bin/sh", "-c", script],
                "results": [{"format": "junit", "path": "out.xml"}]}

    def test_every_event_once_in_order_end_acked(self):
        self.coord = Coordinator(self.cert, self.key)
        spec = {"stop_timeout": 10, "processes": [self.junit_job(lines=500)]}
        with svtest.Agent(spec, self.tmp, env=self.env()) as a:
            rc = a.wait_exit(svtest.slack(30))
            fallback = a.events()
            err = a.stderr_lines()
        stored, ack, responses = self.coord.snapshot()
        self.assertEqual(rc, 1, "a failed test: the stage's result (%s)" % err[-5:])
        seqs = [e["seq"] for e in stored]
        self.assertEqual(seqs, list(range(1, len(stored) + 1)), "stored once each, in order, no gap")
        end = stored[-1]
        self.assertEqual(end["type"], "end")
        self.assertEqual(ack, end["seq"], "end acknowledged")
        self.assertEqual(end["result"], 1)
        self.assertEqual(end["seq"], end["totals"]["events"] + 1)
        self.assertTrue(all(e["stream"] == STREAM for e in stored))
        # the log lines went over HTTPS (not to the fallback channel), each once, in order
        logs = [e for e in stored if e["type"] == "log"]
        outs = [e["line"] for e in logs if e["fd"] == "stdout" and e["process"] == "job"]
        self.assertEqual(outs, ["line %d" % i for i in range(500)])
        self.assertIn("to-stderr", [e["line"] for e in logs if e["fd"] == "stderr"])
        self.assertEqual(end["totals"]["logs"], len(logs))
        self.assertEqual(end["totals"]["shed"], {"log": 0})
        # results and lifecycle: the same events on both channels
        self.assertEqual([e for e in stored if e["type"] != "log"], fallback)
        self.assertEqual(sorted(e["name"] for e in stored if e["type"] == "test"), ["bad", "ok"])
        self.assertFalse([ln for ln in err if "uplink" in ln], err)

    def test_shed_logs_counted_in_end(self):
        """A coordinator that does not answer while the job writes 1 MB of log lines through a
        64 KiB buffer and no spool file: log lines are shed, results are not; the placeholders
        keep every seq, and end.totals.shed.log is their number."""
        self.coord = Coordinator(self.cert, self.key)
        self.coord.gate.clear()
        env = dict(self.env(), STAGEVISOR_BUFFER_BYTES="65536", STAGEVISOR_SPOOL_BYTES="0")
        spec = {"stop_timeout": 20, "processes": [
            self.junit_job(lines=5000, extra="exec sh -c 'i=0; while [ $i -lt 5000 ]; do "
                           "echo xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                           "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx $i; i=$((i+1)); done'")]}
        with svtest.Agent(spec, self.tmp, env=env) as a:
            a.wait_event(svtest.slack(30), type="end")
            self.coord.gate.set()
            rc = a.wait_exit(svtest.slack(30))
            fallback = a.events()
        stored, ack, _ = self.coord.snapshot()
        self.assertEqual(rc, 1)
        end = fallback[-1]
        self.assertEqual(end["type"], "end")
        shed = end["totals"]["shed"]["log"]
        self.assertGreater(shed, 0, "1 MB through a 64 KiB buffer must shed")
        self.assertEqual([e["seq"] for e in stored], list(range(1, end["seq"] + 1)), "every seq, once, in order")
        self.assertEqual(stored[-1], end, "the same end on both channels")
        placeholders = [e for e in stored if e["type"] == "log" and e.get("shed")]
        self.assertEqual(len(placeholders), shed)
        self.assertEqual(sorted(e["name"] for e in stored if e["type"] == "test"), ["bad", "ok"])
        self.assertEqual(end["totals"]["logs"], len([e for e in stored if e["type"] == "log"]))

    def test_wrong_pin_stage_completes_with_fallback(self):
        self.coord = Coordinator(self.cert, self.key)
        spec = {"stop_timeout": 2, "processes": [self.junit_job(lines=10)]}
        with svtest.Agent(spec, self.tmp, env=self.env(pin="00" * 32)) as a:
            rc = a.wait_exit(svtest.slack(30))
            fallback = a.events()
            err = "\n".join(a.stderr_lines())
        self.assertEqual(rc, 1)
        self.assertEqual(self.coord.snapshot()[0], [], "nothing delivered to a server that fails the pin")
        self.assertIn("STAGEVISOR_PIN", err)
        self.assertIn("not every event was acknowledged", err)
        self.assertEqual(sorted(e["name"] for e in fallback if e["type"] == "test"), ["bad", "ok"])
        self.assertEqual(fallback[-1]["type"], "end")

    def test_cancel_stops_the_stage(self):
        def control(coord):
            if any(e["type"] == "process" and e["event"] == "started" for e in coord.stored):
                return {"cancel": True, "detach": False}
            return None
        self.coord = Coordinator(self.cert, self.key, control=control)
        spec = {"stop_timeout": 10, "processes": [
            {"name": "long", "command": ["sleep", "300"], "stop_grace": 2}]}
        with svtest.Agent(spec, self.tmp, env=self.env()) as a:
            rc = a.wait_exit(svtest.slack(30))
            err = a.stderr_lines()
        stored, ack, _ = self.coord.snapshot()
        stopping = [e for e in stored if e["type"] == "stage" and e["event"] == "stopping"]
        self.assertEqual([e["reason"] for e in stopping], ["cancel"])
        self.assertEqual(stored[-1]["type"], "end")
        self.assertEqual(ack, stored[-1]["seq"])
        self.assertEqual(rc, stored[-1]["result"])
        self.assertNotEqual(rc, 0, "a cancelled job did not succeed")
        self.assertTrue([ln for ln in err if "cancelled" in ln], err)

    def test_detach_stage_goes_on_without_uplink(self):
        def control(coord):
            return {"cancel": False, "detach": True} if coord.stored else None
        self.coord = Coordinator(self.cert, self.key, control=control)
        go = os.path.join(self.tmp, "go")
        job = self.junit_job(lines=5, extra="while [ ! -e go ]; do sleep 0.02; done")
        spec = {"stop_timeout": 10, "processes": [job]}
        with svtest.Agent(spec, self.tmp, env=self.env()) as a:
            a.wait_running(lambda: [ln for ln in a.stderr_lines() if "detached" in ln], svtest.slack(15),
                           "the detach line")
            n_batches = len(self.coord.batches)
            open(go, "w").close()
            rc = a.wait_exit(svtest.slack(30))
            fallback = a.events()
        self.assertEqual(rc, 1, "the stage ran to its end and kept its result")
        self.assertEqual(len(self.coord.batches), n_batches, "nothing sent after detach")
        self.assertEqual(fallback[-1]["type"], "end")
        self.assertEqual(sorted(e["name"] for e in fallback if e["type"] == "test"), ["bad", "ok"])

    def test_bad_uplink_variables_are_125(self):
        spec = {"processes": [{"name": "t", "command": ["true"]}]}
        env = {"STAGEVISOR_URL": "https://127.0.0.1:1/", "STAGEVISOR_STREAM": STREAM, "STAGEVISOR_TOKEN": TOKEN}
        rc, out, err = svtest.run_agent(spec, env=env, timeout=svtest.slack(30))
        self.assertEqual(rc, 125)
        self.assertIn("STAGEVISOR_PIN", err)
        self.assertEqual(out, "", "nothing started")

    def maps_of_running_agent(self, env):
        spec = {"processes": [{"name": "s", "command": ["sleep", "30"], "stop_grace": 1}]}
        with svtest.Agent(spec, self.tmp, env=env) as a:
            a.wait_event(svtest.slack(15), type="process", event="started")
            with open("/proc/%d/maps" % a.pid) as f:
                maps = f.read()
            a.signal(signal.SIGTERM)
            a.wait_exit(svtest.slack(15))
        return maps

    def test_openssl_mapped_only_with_url(self):
        """The memory goal (<= 4 MB without a coordinator): no libssl/libcrypto in the agent
        unless STAGEVISOR_URL is set (the uplink is a module loaded on demand)."""
        self.coord = Coordinator(self.cert, self.key)
        without = self.maps_of_running_agent({"STAGEVISOR_URL": ""})
        self.assertNotIn("libcrypto", without)
        self.assertNotIn("libssl", without)
        self.assertNotIn("stagevisor-agent-uplink", without)
        with_url = self.maps_of_running_agent(self.env())
        self.assertIn("libcrypto", with_url)
        self.assertIn("stagevisor-agent-uplink", with_url)

    def test_missing_module_is_125(self):
        """An agent binary copied without its uplink module: with STAGEVISOR_URL it refuses to
        start (125, saying so); without, it runs as usual."""
        lone = os.path.join(self.tmp, "bin")
        os.mkdir(lone)
        shutil.copy(svtest.agent_path(), lone)
        agent = os.path.join(lone, os.path.basename(svtest.agent_path()))
        spec = json.dumps({"version": 1, "stage": "it", "processes": [{"name": "t", "command": ["true"]}]})
        env = dict(os.environ, STAGEVISOR_SPEC=spec, STAGEVISOR_URL="https://127.0.0.1:1/",
                   STAGEVISOR_STREAM=STREAM, STAGEVISOR_TOKEN=TOKEN, STAGEVISOR_PIN=self.pin)
        r = subprocess.run([agent], env=env, capture_output=True, text=True, timeout=svtest.slack(30))
        svtest.note_sanitizer(r.stderr.splitlines())
        self.assertEqual(r.returncode, 125, r.stderr)
        self.assertIn("uplink module", r.stderr)
        self.assertEqual(r.stdout, "")
        env["STAGEVISOR_URL"] = ""
        r = subprocess.run([agent], env=env, capture_output=True, text=True, timeout=svtest.slack(30))
        self.assertEqual(r.returncode, 0, r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
