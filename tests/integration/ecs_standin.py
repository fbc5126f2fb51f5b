"""ecs_standin — a STAND-IN for what moto cannot say about ECS tasks, for the Fargate fault tests.

moto 5.2 keeps a task RUNNING until someone stops it and then reports exit code 0 and no stop
code; real Fargate also says why a task stopped (stopCode, stoppedReason, the container's
reason and exit code). This module is a small HTTP proxy on 127.0.0.1 in front of moto's
server: it forwards every request and answer unchanged (method, path, every header, the Host
header included, body) except, for the tasks a test names:

  - DescribeTasks answers are rewritten to what Fargate would say for that task's fate
    (FATES below: an image pull failure, a resource initialisation failure, a network
    interface timeout, an OOM kill, a Spot interruption);
  - for a fate that fails the start (the task never ran), ListTasks answers hide the task from
    desiredStatus RUNNING listings and show it under STOPPED, and RunTask's own answer says
    PROVISIONING: a launcher pointed at the stand-in never starts it, as Fargate would not.

Signing: a client signs for the host:port it connects to, the stand-in's. moto, with
authentication on, checks the signature against the Host header it receives, so the Host
header is forwarded as the client sent it (test_fargate_faults.py checks that a signed call
passes through, and that the same call with the Host rewritten is refused).

Every request is recorded (.calls: target or Action, operation, status, when, the JSON request), so the stand-in doubles as
the benchmark's call counter (tests/bench/fargate_bench.py).

A test names tasks by a rule on the RunTask request (stage tag, build tag; rules apply to the
first `times` tasks they match) or by task ARN:

    s = EcsStandIn(moto.url)
    s.rule("image-pull", stage="tests")          # the next task of stage "tests" fails to pull
    s.set_fate(task_arn, "oom")                  # this task, once stopped, was OOM-killed
    ... point the coordinator's and the launcher's AWS_ENDPOINT_URL_ECS at s.url ...
    s.close()

What it does not do: invent tasks, change anything in moto (the tests stop tasks themselves:
an OOM kill is the test SIGKILLing the agent, after which the launcher stops the task), or
rewrite any other service's answers.
"""
import http.client
import http.server
import json
import socketserver
import sys
import threading
import time
import urllib.parse

ECS_PREFIX = "AmazonEC2ContainerServiceV20141113."

# Fargate's own texts (the ECS troubleshooting guide's "stopped task error codes").
FATES = {
    "image-pull": {
        "start_failure": True, "stopCode": "TaskFailedToStart",
        "stoppedReason": "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to "
                         "resolve ref 123456789012.dkr.ecr.eu-west-1.amazonaws.com/site:tests-missing: "
                         "123456789012.dkr.ecr.eu-west-1.amazonaws.com/site:tests-missing: not found",
        "containerReason": "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to "
                           "resolve ref 123456789012.dkr.ecr.eu-west-1.amazonaws.com/site:tests-missing: not found",
        "exitCode": None,
    },
    "resource-init": {
        "start_failure": True, "stopCode": "TaskFailedToStart",
        "stoppedReason": "ResourceInitializationError: unable to pull secrets or registry auth: execution resource "
                         "retrieval failed: unable to retrieve ecr registry auth: service call has been retried 3 "
                         "time(s): AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/"
                         "stagevisor-task-execution/0f1e2d3c is not authorized to perform: "
                         "ecr:GetAuthorizationToken on resource: *",
        "containerReason": None, "exitCode": None,
    },
    "eni-timeout": {
        "start_failure": True, "stopCode": "TaskFailedToStart",
        "stoppedReason": "Timeout waiting for network interface provisioning to complete.",
        "containerReason": None, "exitCode": None,
    },
    "oom": {
        "start_failure": False, "stopCode": "EssentialContainerExited",
        "stoppedReason": "Essential container in task exited",
        "containerReason": "OutOfMemoryError: Container killed due to memory usage",
        "exitCode": 137,
    },
    "spot": {
        "start_failure": False, "stopCode": "SpotInterruption",
        "stoppedReason": "Your Spot Task was interrupted.",
        "containerReason": None, "exitCode": None,
    },
}


def _tags(req):
    return {t.get("key"): t.get("value") for t in (req.get("tags") or []) if isinstance(t, dict)}


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        """A client or moto going away at a test's end is not worth a traceback."""
        if isinstance(sys.exc_info()[1], (ConnectionError, http.client.HTTPException, OSError)):
            return
        super().handle_error(request, client_address)


class EcsStandIn:
    """The proxy. upstream: moto's URL (http://127.0.0.1:PORT). .url: the stand-in's own."""

    def __init__(self, upstream):
        u = urllib.parse.urlsplit(upstream)
        self.upstream = (u.hostname, u.port)
        self.rules = []          # [{"fate", "stage", "build", "left"}]
        self.fates = {}          # task arn -> fate name
        self.calls = []          # [{"target", "op", "status", "t", "request" (JSON protocols)}]
        self.rewritten = []      # task arns whose DescribeTasks answer was rewritten
        self.host_override = None  # tests only: forward this Host instead of the client's
        self.lock = threading.Lock()       # rules, fates, calls
        self.task_lock = threading.Lock()  # RunTask against ListTasks/DescribeTasks (see _forward)
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _body(self):
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    out = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return out
                        out += self.rfile.read(size)
                        self.rfile.readline()
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n) if n else b""

            def _handle(self):
                body = self._body()
                target = self.headers.get("X-Amz-Target") or ""
                if not target:
                    q = urllib.parse.parse_qs(body.decode("utf-8", "replace")) if body else {}
                    q.update(urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query))
                    target = (q.get("Action") or [self.command + " " + self.path.split("?")[0]])[0]
                status, headers, data = outer._forward(self, target, body)
                request = None
                if self.headers.get("X-Amz-Target") and len(body) < 65536:
                    try:
                        request = json.loads(body or b"{}")
                    except ValueError:
                        pass
                with outer.lock:
                    outer.calls.append({"target": target, "op": target.rsplit(".", 1)[-1], "status": status,
                                        "t": time.time(), "request": request})
                self.send_response(status)
                for k, v in headers:
                    if k.lower() not in ("content-length", "transfer-encoding", "connection", "x-amz-crc32",
                                         "server", "date"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        self.server = _Server(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.local = threading.local()
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    # ---- what a test says ---------------------------------------------------------------

    def rule(self, fate, stage=None, build=None, times=1):
        """The next `times` tasks RunTask starts with these tags (None: any) get this fate."""
        if fate not in FATES:
            raise ValueError("unknown fate %r (one of %s)" % (fate, ", ".join(sorted(FATES))))
        with self.lock:
            self.rules.append({"fate": fate, "stage": stage, "build": build, "left": times})

    def set_fate(self, task_arn, fate):
        if fate not in FATES:
            raise ValueError("unknown fate %r" % fate)
        with self.lock:
            self.fates[task_arn] = fate

    def fate_of(self, task_arn):
        with self.lock:
            return self.fates.get(task_arn)

    def count(self, op):
        """Calls whose target ends with op ("DescribeTasks", "RunTask", ...)."""
        with self.lock:
            return sum(1 for c in self.calls if c["target"].endswith(op))

    def ops(self):
        with self.lock:
            return [c["op"] for c in self.calls]

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    # ---- forwarding ------------------------------------------------------------------------

    def _upstream(self, reconnect=False):
        c = getattr(self.local, "conn", None)
        if c is None or reconnect:
            if c is not None:
                c.close()
            c = http.client.HTTPConnection(self.upstream[0], self.upstream[1], timeout=120)
            self.local.conn = c
        return c

    def _send(self, h, body):
        for attempt in (0, 1):
            c = self._upstream(reconnect=attempt == 1)
            try:
                c.putrequest(h.command, h.path, skip_host=True, skip_accept_encoding=True)
                for k, v in h.headers.items():
                    if k.lower() in ("content-length", "transfer-encoding", "connection"):
                        continue
                    if k.lower() == "host" and self.host_override:
                        v = self.host_override
                    c.putheader(k, v)
                c.putheader("Content-Length", str(len(body)))
                c.endheaders(body)
                r = c.getresponse()
                return r.status, r.getheaders(), r.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    def _forward(self, h, target, body):
        op = target[len(ECS_PREFIX):] if target.startswith(ECS_PREFIX) else None
        if op not in ("RunTask", "ListTasks", "DescribeTasks"):
            return self._send(h, body)
        # A RunTask and a ListTasks/DescribeTasks never overlap: a task moto has just started is
        # given its fate before anyone can list it (the launcher would start a doomed task).
        with self.task_lock:
            status, headers, data = self._send(h, body)
            if status != 200:
                return status, headers, data
            try:
                req = json.loads(body or b"{}")
                ans = json.loads(data)
            except ValueError:
                return status, headers, data
            changed = getattr(self, "_on_" + op)(req, ans)
            if changed:
                data = json.dumps(ans).encode()
            return status, headers, data

    def _on_RunTask(self, req, ans):
        tags = _tags(req)
        changed = False
        with self.lock:
            for t in ans.get("tasks") or []:
                for r in self.rules:
                    if r["left"] <= 0:
                        continue
                    if r["stage"] is not None and tags.get("stagevisor:stage") != r["stage"]:
                        continue
                    if r["build"] is not None and tags.get("stagevisor:build") != r["build"]:
                        continue
                    r["left"] -= 1
                    self.fates[t["taskArn"]] = r["fate"]
                    break
                fate = self.fates.get(t.get("taskArn"))
                if fate and FATES[fate]["start_failure"]:
                    t["lastStatus"] = "PROVISIONING"
                    for c in t.get("containers") or []:
                        c["lastStatus"] = "PENDING"
                    changed = True
        return changed

    def _on_ListTasks(self, req, ans):
        want = req.get("desiredStatus") or "RUNNING"
        with self.lock:
            doomed = {a for a, f in self.fates.items() if FATES[f]["start_failure"]}
        arns = ans.get("taskArns") or []
        if want == "RUNNING":
            kept = [a for a in arns if a not in doomed]
        elif want == "STOPPED" and not ans.get("nextToken"):
            kept = arns + sorted(a for a in doomed if a not in arns and self._in_cluster(a, req))
        else:
            kept = arns
        if kept == arns:
            return False
        ans["taskArns"] = kept
        return True

    @staticmethod
    def _in_cluster(arn, req):
        cluster = (req.get("cluster") or "default").rsplit("/", 1)[-1]
        parts = arn.split(":task/", 1)[-1].split("/")
        return len(parts) == 1 or parts[0] == cluster

    def _on_DescribeTasks(self, req, ans):
        changed = False
        for t in ans.get("tasks") or []:
            fate = self.fate_of(t.get("taskArn"))
            if not fate:
                continue
            f = FATES[fate]
            if not f["start_failure"] and t.get("lastStatus") != "STOPPED":
                continue  # an OOM kill or a Spot interruption shows once the task has stopped
            now = time.time()
            t["lastStatus"] = t["desiredStatus"] = "STOPPED"
            t["stopCode"] = f["stopCode"]
            t["stoppedReason"] = f["stoppedReason"]
            t.setdefault("stoppingAt", now)
            t.setdefault("stoppedAt", now)
            if f["start_failure"]:
                t.pop("startedAt", None)
                t.pop("pullStartedAt", None)
                t.pop("pullStoppedAt", None)
            for c in t.get("containers") or []:
                c["lastStatus"] = "STOPPED"
                if f["containerReason"]:
                    c["reason"] = f["containerReason"]
                else:
                    c.pop("reason", None)
                if f["exitCode"] is None:
                    c.pop("exitCode", None)
                else:
                    c["exitCode"] = f["exitCode"]
            with self.lock:
                if t["taskArn"] not in self.rewritten:
                    self.rewritten.append(t["taskArn"])
            changed = True
        return changed
