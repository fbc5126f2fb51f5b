"""awsfake — peers for the AWS client's integration tests, all on 127.0.0.1.

What it offers:
  coord_path()                  the stagevisor binary ($SV_COORD, else a build dir)
  base_env(tmp)                 an environment that cannot reach AWS or its metadata addresses:
                                no AWS_* variables from outside, IMDS disabled, config and
                                credentials files pointed at empty temp files, HOME in tmp
  Runner(secrets)               runs `stagevisor aws ...`, keeps every output, and asserts that
                                no secret (keys, tokens, signatures) appears in any of it
  Moto                          moto's server with request authentication on: an IAM user with a
                                policy and an access key made by the first unsigned calls
  moto_or_skip_reason()         None when moto can be imported, else the exact reason
  ScriptedAws                   a stand-in AWS endpoint answering from a script (status, headers,
                                body, or the faults "reset", "stall", "truncate"), recording
                                each request's access key, session token and X-Amz-Date
  FakeImds, FakeEcsCreds        EC2 instance metadata (IMDSv2, with a 401 on a stale token) and
                                the ECS container-credentials endpoint
What it does not do: assert anything about stagevisor beyond the secret scan.
"""
import datetime
import http.server
import json
import os
import re
import socket
import socketserver
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from svtest import SANITIZER_MARKS, coord_path, free_port, sanitize, wait_port  # noqa: E402




def base_env(tmp):
    """No AWS_* from the caller's environment; nothing that could reach a real AWS address."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    cfg = os.path.join(tmp, "aws-config")
    creds = os.path.join(tmp, "aws-credentials")
    for p in (cfg, creds):
        if not os.path.exists(p):
            open(p, "w").close()
    env.update({
        "HOME": tmp,
        "AWS_CONFIG_FILE": cfg,
        "AWS_SHARED_CREDENTIALS_FILE": creds,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_PAGER": "",  # Debian 12's awscli is v2, which would page its output
        "STAGEVISOR_AWS_BACKOFF_SCALE": "0.01",  # real sleeps shortened; the computed backoff is printed
        "ASAN_OPTIONS": "detect_leaks=1",
        "NO_PROXY": "127.0.0.1,localhost",
    })
    for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        env.pop(k, None)
    return env


class Result:
    def __init__(self, rc, out, err):
        self.rc, self.out, self.err = rc, out, err

    def json(self):
        return json.loads(self.out)

    def attempts(self):
        return len(re.findall(r"^stagevisor aws: attempt \d+:", self.err, re.M))

    def error_line(self):
        lines = [ln for ln in self.err.splitlines() if not ln.startswith("stagevisor aws: ")]
        return lines[-1] if lines else ""

    def __repr__(self):
        return "rc=%s\nstdout:\n%s\nstderr:\n%s" % (self.rc, self.out, self.err)


class Runner:
    """Runs stagevisor; every secret registered with .secret() is looked for in every output."""

    def __init__(self):
        self.secrets = set()
        self.outputs = []

    def secret(self, *values):
        for v in values:
            if v:
                self.secrets.add(v)

    def run(self, args, env, timeout=120, stdin=None):
        p = subprocess.run([coord_path(), "aws"] + list(args), env=env, capture_output=True, timeout=timeout,
                           input=stdin)
        r = Result(p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"))
        self.outputs.append(r)
        self.check_secrets()
        for m in SANITIZER_MARKS:
            if m in r.err:
                raise AssertionError("sanitizer report:\n%s" % r.err)
        return r

    def check_secrets(self):
        for r in self.outputs:
            for s in self.secrets:
                for text in (r.out, r.err):
                    if s in text:
                        raise AssertionError("a secret (%s...) appears in the output:\n%r" % (s[:4], r))
            for text in (r.out, r.err):
                for pat in ("Signature=", "AWS4-HMAC-SHA256 Credential", "X-Amz-Security-Token:"):
                    if pat in text:
                        raise AssertionError("%s appears in the output:\n%r" % (pat, r))
                # --debug shows the canonical request: the token header only as <redacted>
                for m in re.finditer(r"x-amz-security-token:(.*)", text, re.I):
                    if m.group(1) != "<redacted>":
                        raise AssertionError("a session token appears in the output:\n%r" % r)


# ---- moto ---------------------------------------------------------------------------------

def moto_or_skip_reason():
    try:
        import moto  # noqa: F401
        import botocore.session  # noqa: F401
    except ImportError as e:
        return ("moto is not installed for %s (%s): scripts/install-deps tries `pip install 'moto[server]==5.2.*'`;"
                " without it the tests against moto's server are skipped" % (sys.executable, e))
    return None


ALLOW_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["ecs:*", "ecr:*", "logs:Describe*", "sts:*", "s3:List*", "s3:CreateBucket",
                                                 "s3:PutObject", "s3:GetBucketLocation"], "Resource": "*"}],
}


def coordinator_policy(root, drop=None):
    """The coordinator's IAM policy from deploy/iam/, optionally without one action, plus what
    the tests themselves need to set the scene (the admin calls of setup are made before auth
    starts counting, or through the unsigned helper)."""
    with open(os.path.join(root, "deploy", "iam", "coordinator-policy.json")) as f:
        doc = json.load(f)
    if drop:
        for st in doc["Statement"]:
            acts = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            st["Action"] = [a for a in acts if a != drop]
        doc["Statement"] = [st for st in doc["Statement"] if st["Action"]]
    return doc


class Moto:
    """moto_server on a free loopback port. auth=True: INITIAL_NO_AUTH_ACTION_COUNT lets the
    first 6 calls (create user, policy, attach, access key, role, role policy) through; every
    later call is signature- and permission-checked against policy (default ALLOW_POLICY; the
    Fargate tests pass deploy/iam/coordinator-policy.json, see coordinator_policy()).
    admin=True also makes a user "admin" allowed everything (4 more calls before auth starts),
    for what the tests themselves do around the user under test: setting the scene (VPC,
    cluster, log group) and playing Fargate (fargate_launcher.py). .admin_key/.admin_secret,
    .admin_client(service)."""

    def __init__(self, tmp, auth=True, policy=None, admin=False):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        if auth:
            env["INITIAL_NO_AUTH_ACTION_COUNT"] = "10" if admin else "6"
        self.log = open(os.path.join(tmp, "moto-%d.log" % self.port), "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env)
        try:
            wait_port(self.port, 60)
        except AssertionError:
            self.close()
            raise
        self.access_key = self.secret_key = None
        self.admin_key = self.admin_secret = None
        self.policy = policy or ALLOW_POLICY
        if auth:
            self._make_user()
            if admin:
                self._make_admin()

    def _client(self, service, key="unsigned", secret="unsigned"):
        import botocore.session
        s = botocore.session.Session()
        for k in ("config_file", "credentials_file"):
            s.set_config_variable(k, os.devnull)
        return s.create_client(service, region_name="us-east-1", endpoint_url=self.url,
                               aws_access_key_id=key, aws_secret_access_key=secret)

    def _make_user(self):
        iam = self._client("iam")
        iam.create_user(UserName="ci")
        arn = iam.create_policy(PolicyName="ci", PolicyDocument=json.dumps(self.policy))["Policy"]["Arn"]
        iam.attach_user_policy(UserName="ci", PolicyArn=arn)
        key = iam.create_access_key(UserName="ci")["AccessKey"]
        self.access_key, self.secret_key = key["AccessKeyId"], key["SecretAccessKey"]
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                                                         "Action": "sts:AssumeRole"}]}
        iam.create_role(RoleName="ci-role", AssumeRolePolicyDocument=json.dumps(trust))
        iam.put_role_policy(RoleName="ci-role", PolicyName="ci", PolicyDocument=json.dumps(self.policy))

    def _make_admin(self):
        iam = self._client("iam")
        iam.create_user(UserName="admin")
        doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        arn = iam.create_policy(PolicyName="admin", PolicyDocument=json.dumps(doc))["Policy"]["Arn"]
        iam.attach_user_policy(UserName="admin", PolicyArn=arn)
        key = iam.create_access_key(UserName="admin")["AccessKey"]
        self.admin_key, self.admin_secret = key["AccessKeyId"], key["SecretAccessKey"]

    def admin_client(self, service, region="us-east-1"):
        import botocore.session
        s = botocore.session.Session()
        for k in ("config_file", "credentials_file"):
            s.set_config_variable(k, os.devnull)
        return s.create_client(service, region_name=region, endpoint_url=self.url,
                               aws_access_key_id=self.admin_key or "x", aws_secret_access_key=self.admin_secret or "y")

    def assume_role(self):
        """Temporary credentials (with a session token) of the role ci-role, which moto checks."""
        c = self.client("sts").assume_role(RoleArn="arn:aws:iam::123456789012:role/ci-role",
                                           RoleSessionName="stagevisor-it")["Credentials"]
        return c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]

    def client(self, service):
        return self._client(service, self.access_key or "x", self.secret_key or "y")

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


# ---- local stand-in servers ---------------------------------------------------------------

class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def _auth_key(headers):
    m = re.search(r"Credential=([^/]+)/", headers.get("Authorization", ""))
    return m.group(1) if m else None


def http_date(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT")


class ScriptedAws:
    """A stand-in AWS endpoint. script: a list consumed one entry per request; the last entry
    repeats. An entry is a dict {status, body, headers} or one of the faults:
      "reset"     close the connection with RST before answering
      "stall"     answer nothing until close() (the client's timeout must fire)
      "truncate"  a 200 whose Content-Length promises more than is sent, then close
    or a callable(request_info) returning an entry. .requests holds, per request: method, path,
    target, access_key, token, amz_date, body."""

    def __init__(self, script):
        self.script = list(script)
        self.requests = []
        self.release = threading.Event()
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _handle(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                info = {"method": self.command, "path": self.path, "target": self.headers.get("X-Amz-Target"),
                        "access_key": _auth_key(self.headers), "token": self.headers.get("X-Amz-Security-Token"),
                        "amz_date": self.headers.get("X-Amz-Date"), "body": body,
                        "content_type": self.headers.get("Content-Type")}
                outer.requests.append(info)
                i = min(len(outer.requests) - 1, len(outer.script) - 1)
                entry = outer.script[i]
                if callable(entry):
                    entry = entry(info)
                if entry == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                    self.close_connection = True
                    return
                if entry == "stall":
                    outer.release.wait(120)
                    self.close_connection = True
                    return
                if entry == "truncate":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/x-amz-json-1.1")
                    self.send_header("Content-Length", "500")
                    self.end_headers()
                    self.wfile.write(b'{"clusterArns": ["arn:aws:ecs:us-east-1:1:cluster/a"')
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                data = entry.get("body", b"")
                if isinstance(data, str):
                    data = data.encode()
                self.send_response(entry.get("status", 200))
                hdrs = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "req-%d" % len(outer.requests)}
                hdrs.update(entry.get("headers", {}))
                for k, v in hdrs.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self.server = _Server(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def json_error(status, code, message, headers=None):
    return {"status": status, "body": json.dumps({"__type": code, "message": message}), "headers": headers or {}}


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def creds_doc(gen, expires_in, prefix="ASIAIMDS"):
    return {"Code": "Success", "Type": "AWS-HMAC", "LastUpdated": iso(time.time()),
            "AccessKeyId": "%s%04d" % (prefix, gen), "SecretAccessKey": "imds-secret-%04d-%s" % (gen, "x" * 20),
            "Token": "imds-session-token-%04d-%s" % (gen, "y" * 40), "Expiration": iso(time.time() + expires_in)}


class FakeImds:
    """IMDSv2 on loopback. Tokens are issued by PUT /latest/api/token (the TTL header is
    required); stale_first: the first token is answered 401 once (as after its TTL passed).
    docs: a list of credential documents (or int statuses) served in turn, the last repeating.
    .log lists (method, path, status)."""

    ROLE = "ci-role"

    def __init__(self, docs, stale_first=False):
        self.docs = list(docs)
        self.stale_first = stale_first
        self.tokens = []
        self.log = []
        self.creds_served = 0
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _send(self, status, body=b""):
                if isinstance(body, str):
                    body = body.encode()
                outer.log.append((self.command, self.path, status))
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_PUT(self):
                if self.path != "/latest/api/token" or not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                    return self._send(400)
                tok = "imds-v2-token-%d-%s" % (len(outer.tokens) + 1, "t" * 30)
                outer.tokens.append(tok)
                self._send(200, tok)

            def do_GET(self):
                tok = self.headers.get("X-aws-ec2-metadata-token")
                if tok not in outer.tokens:
                    return self._send(401)
                if outer.stale_first and tok == outer.tokens[0]:
                    return self._send(401)
                if self.path == "/latest/meta-data/iam/security-credentials/":
                    return self._send(200, FakeImds.ROLE)
                if self.path == "/latest/meta-data/iam/security-credentials/" + FakeImds.ROLE:
                    i = min(outer.creds_served, len(outer.docs) - 1)
                    outer.creds_served += 1
                    d = outer.docs[i]
                    if isinstance(d, int):
                        return self._send(d, "error")
                    return self._send(200, json.dumps(d))
                return self._send(404)

        self.server = _Server(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class FakeEcsCreds:
    """The ECS container-credentials endpoint: GET /creds/<id> with Authorization = token."""

    def __init__(self, doc, token):
        self.doc, self.token = doc, token
        self.auth_seen = []
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                outer.auth_seen.append(self.headers.get("Authorization"))
                ok = self.path.startswith("/creds/") and self.headers.get("Authorization") == outer.token
                body = json.dumps(outer.doc).encode() if ok else b'{"message":"denied"}'
                self.send_response(200 if ok else 403)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = _Server(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def tmpdir():
    return tempfile.mkdtemp(prefix="sv-aws-it-")
