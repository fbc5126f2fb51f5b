"""An HTTPS Slack stand-in on 127.0.0.1 for end-to-end tests of the coordinator's Slack post:
test_coord_slack.py's scripted handler behind TLS with a throwaway self-signed certificate
(`openssl req -x509`, SAN IP:127.0.0.1) made in the test's temp dir. The coordinator trusts it
only through STAGEVISOR_CA_FILE=<srv.cert>.

    srv = HttpsSlack(tmp)            # answers 200 "ok"
    url = srv.url("T0/B0/secret")    # https://127.0.0.1:<port>/services/T0/B0/secret
    srv.requests                     # [(time, path, headers, body)]
    srv.close()
"""
import http.server
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
