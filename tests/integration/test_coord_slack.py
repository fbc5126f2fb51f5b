"""Slack notifications (coordinator/slack.c) against local HTTP(S) servers on 127.0.0.1:
the message arrives as Slack expects it, 429 honours Retry-After, 5xx and dropped connections
are retried a bounded number of times, 4xx is final, TLS is verified, and the webhook URL (a
secret) appears in no output."""
import http.server
import json
import os
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

SRC = os.environ.get("SV_SRC") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("SV_BUILD") or os.path.join(SRC, "build")
TOOL = os.path.join(BUILD, "tests", "unit", "slack_send")
SECRET = "T0SECRET/B0SECRET/XyZsecretWebhookToken42"


class Slack(http.server.BaseHTTPRequestHandler):
    """Answers from the server's script: a list of (status, headers, body) or "drop"."""

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        srv = self.server
        srv.requests.append((time.monotonic(), self.path, dict(self.headers), body))
        step = srv.script[min(len(srv.requests), len(srv.script)) - 1]
        if step == "drop":
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        status, headers, text = step
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text.encode())

    def log_message(self, *a):
        pass


class SlackTest(unittest.TestCase):
    def serve(self, script, tls=False):
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slack)
        srv.script = script
        srv.requests = []
        if tls:
            d = tempfile.mkdtemp(prefix="stagevisor-slack-")
            self.cert = os.path.join(d, "cert.pem")
            key = os.path.join(d, "key.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                            "-nodes", "-keyout", key, "-out", self.cert, "-days", "1", "-subj", "/CN=localhost",
                            "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(self.cert, key)
            srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        self.addCleanup(srv.server_close)
        self.addCleanup(srv.shutdown)
        scheme = "https" if tls else "http"
        return srv, "%s://127.0.0.1:%d/services/%s" % (scheme, srv.server_address[1], SECRET)

    def send(self, url, *opts):
        out = subprocess.run([TOOL] + list(opts) + [url], capture_output=True, text=True, timeout=120)
        both = out.stdout + out.stderr
        self.assertNotIn(SECRET, both)
        self.assertNotIn("B0SECRET", both)
        return out.returncode, out.stdout.strip()

    def test_posted_as_slack_expects(self):
        srv, url = self.serve([(200, {}, "ok")])
        rc, out = self.send(url)
        self.assertEqual((rc, out), (0, "ok"))
        self.assertEqual(len(srv.requests), 1)
        _, path, headers, body = srv.requests[0]
        self.assertTrue(path.endswith(SECRET))
        self.assertTrue(headers["Content-Type"].startswith("application/json"))
        msg = json.loads(body)
        self.assertIn("Stage tests failed on main", msg["text"])
        kinds = [b["type"] for b in msg["blocks"]]
        self.assertEqual(kinds[0], "section")
        self.assertIn("context", kinds)
        self.assertIn("CartTest::testTotal", json.dumps(msg["blocks"]))

    def test_429_honours_retry_after(self):
        srv, url = self.serve([(429, {"Retry-After": "1"}, "rate_limited"), (200, {}, "ok")])
        rc, out = self.send(url)
        self.assertEqual((rc, out), (0, "ok"))
        self.assertEqual(len(srv.requests), 2)
        self.assertGreaterEqual(srv.requests[1][0] - srv.requests[0][0], 0.95)

    def test_429_beyond_budget_gives_up_at_once(self):
        srv, url = self.serve([(429, {"Retry-After": "3600"}, "rate_limited")])
        rc, out = self.send(url, "--max-total-ms", "5000")
        self.assertEqual(rc, 1)
        self.assertIn("HTTP 429", out)
        self.assertIn("giving up", out)
        self.assertEqual(len(srv.requests), 1)

    def test_5xx_retried_a_bounded_number_of_times(self):
        srv, url = self.serve([(503, {}, "unavailable")])
        rc, out = self.send(url, "--attempts", "3")
        self.assertEqual(rc, 1)
        self.assertIn("HTTP 503", out)
        self.assertEqual(len(srv.requests), 3)

    def test_4xx_is_final(self):
        srv, url = self.serve([(404, {}, "no_service")])
        rc, out = self.send(url)
        self.assertEqual(rc, 1)
        self.assertIn("HTTP 404: no_service", out)
        self.assertEqual(len(srv.requests), 1)

    def test_dropped_connection_retried(self):
        srv, url = self.serve(["drop", (200, {}, "ok")])
        rc, out = self.send(url)
        self.assertEqual((rc, out), (0, "ok"))
        self.assertEqual(len(srv.requests), 2)

    def test_nobody_listening(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        rc, out = self.send("http://127.0.0.1:%d/services/%s" % (port, SECRET), "--attempts", "2")
        self.assertEqual(rc, 1)
        self.assertIn("attempt 2", out)

    def test_tls_verified(self):
        srv, url = self.serve([(200, {}, "ok")], tls=True)
        rc, out = self.send(url)
        self.assertEqual(rc, 1, "an unknown certificate must be refused")
        self.assertEqual(len(srv.requests), 0)
        rc, out = self.send(url, "--ca", self.cert)
        self.assertEqual((rc, out), (0, "ok"))


if __name__ == "__main__":
    unittest.main()
