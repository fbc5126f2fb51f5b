"""HTTPS stand-ins on 127.0.0.1, each with a throwaway self-signed certificate (`openssl req
-x509`, SAN IP:127.0.0.1) made in the test's temp dir, that nothing trusts unless told to.

HttpsSlack: test_coord_slack.py's scripted Slack handler behind TLS, for end-to-end tests of the
coordinator's Slack post (trusted through STAGEVISOR_CA_FILE=<srv.cert>):

    srv = HttpsSlack(tmp)            # answers 200 "ok"
    url = srv.url("T0/B0/secret")    # https://127.0.0.1:<port>/services/T0/B0/secret
    srv.requests                     # [(time, path, headers, body)]
    srv.close()

TlsForward: TLS in front of a plain-HTTP server (moto), every request passed on as it came
(the Host header included, so SigV4 signatures still verify), for AWS_CA_BUNDLE:

    fwd = TlsForward(tmp, "http://127.0.0.1:5000")
    fwd.url, fwd.cert, fwd.count
"""
import http.client
import http.server
import urllib.parse
import os
import ssl
import subprocess
import threading

from test_coord_slack import Slack


def make_cert(directory, name="slack"):
    cert, key = os.path.join(directory, name + ".pem"), os.path.join(directory, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=stagevisor-test",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


class HttpsSlack:
    def __init__(self, tmp, script=None, handler=Slack):
        self.cert, key = make_cert(tmp)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.script = script or [(200, {}, "ok")]
        self.httpd.requests = []
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def requests(self):
        return self.httpd.requests

    def url(self, secret):
        return "https://127.0.0.1:%d/services/%s" % (self.port, secret)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class _Forward(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _any(self):
        srv = self.server
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n) if n else None
        conn = http.client.HTTPConnection(srv.target_host, srv.target_port, timeout=60)
        try:
            conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for k, v in self.headers.items():
                conn.putheader(k, v)
            conn.endheaders(body)
            resp = conn.getresponse()
            data = resp.read()
            srv.count += 1
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        finally:
            conn.close()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _any

    def log_message(self, *a):
        pass


class TlsForward:
    def __init__(self, tmp, target):
        self.cert, key = make_cert(tmp, "forward")
        t = urllib.parse.urlsplit(target)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Forward)
        self.httpd.target_host, self.httpd.target_port = t.hostname, t.port
        self.httpd.count = 0
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.url = "https://127.0.0.1:%d" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def count(self):
        return self.httpd.count

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
