#!/usr/bin/env python3
"""Fargate playgrounds and teardown against moto's server (issue 9).

The coordinator runs as the IAM user `ci` whose only permissions are
deploy/iam/coordinator-policy.json, on a moto with request authentication on (ECS, EC2, Logs);
Route 53 is a second moto without authentication (moto 5.2 refuses every signed Route 53 call
when authentication is on), reached through AWS_ENDPOINT_URL_ROUTE_53 via a stand-in that
answers the first change PENDING (moto says INSYNC at once), so the wait is exercised. The scene (VPC, subnet,
security group, cluster, hosted zone, stage tasks of several ages) is set by a second IAM user,
`scene`, with every permission; fargate_launcher.py plays Fargate with it, starting the real
stagevisor-agent for each task with a service-mode spec: python3 -m http.server on a free
loopback port with an http ready probe.

Cases: up (record created with the task's IP, INSYNC waited for, URL printed, the agent told to
detach, tags), up again (same URL, one task), list, max exceeded (the oldest stopped and said
so), down (task stopped, record deleted; twice is fine); teardown with tasks of several ages,
--dry-run (changes nothing), a second run (does nothing and says so); up with a Slack webhook
(tlsfake.py's HTTPS stand-in, trusted through STAGEVISOR_CA_FILE) posts the playground's URL;
Route 53 never INSYNC (the stand-in): up past --dns-wait exits 3, deletes its record again and
stops the task; --dns-wait 0 submits the change without waiting.
"""
import datetime
import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import socketserver
import sys
import threading
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import awsfake  # noqa: E402
from awsfake import Moto, base_env  # noqa: E402
from tlsfake import HttpsSlack  # noqa: E402
from svtest import SANITIZER_MARKS, agent_path, coord_path, free_port, wait_until  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SKIP = awsfake.moto_or_skip_reason()
REGION = "eu-west-1"
DOMAIN = "preview.example.test"
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


class SceneMoto(Moto):
    """moto with authentication on and two users: `scene` (everything: the test's own setup and
    the launcher) made by the first unsigned calls, then `ci` (the coordinator's policy, exactly)
    made by `scene`."""

    def _make_user(self):
        import botocore.session
        iam = self._client("iam")
        iam.create_user(UserName="scene")
        iam.put_user_policy(UserName="scene", PolicyName="all", PolicyDocument=json.dumps(ALL))
        key = iam.create_access_key(UserName="scene")["AccessKey"]
        self.scene_key, self.scene_secret = key["AccessKeyId"], key["SecretAccessKey"]
        s = botocore.session.Session()
        for k in ("config_file", "credentials_file"):
            s.set_config_variable(k, os.devnull)
        iam = s.create_client("iam", region_name="us-east-1", endpoint_url=self.url,
                              aws_access_key_id=self.scene_key, aws_secret_access_key=self.scene_secret)
        iam.create_user(UserName="ci")
        arn = iam.create_policy(PolicyName="ci", PolicyDocument=json.dumps(self.policy))["Policy"]["Arn"]
        iam.attach_user_policy(UserName="ci", PolicyArn=arn)
        key = iam.create_access_key(UserName="ci")["AccessKey"]
        self.access_key, self.secret_key = key["AccessKeyId"], key["SecretAccessKey"]

    def scene(self, service):
        import botocore.session
        s = botocore.session.Session()
        for k in ("config_file", "credentials_file"):
            s.set_config_variable(k, os.devnull)
        return s.create_client(service, region_name=REGION, endpoint_url=self.url,
                               aws_access_key_id=self.scene_key, aws_secret_access_key=self.scene_secret)


class PendingRoute53:
    """A stand-in in front of the Route 53 moto that behaves as Route 53 does and moto does not:
    the first change is answered PENDING, and so is the first GetChange of it; everything else
    is moto's own answer. It records the GetChange calls."""

    def __init__(self, target):
        outer = self
        self.target = target
        self.get_changes = []
        self.pending_left = 1
        self.never_insync = False  # every change stays PENDING (Route 53 slow past --dns-wait)
        self.lock = threading.Lock()

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _forward(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                req = urllib.request.Request(outer.target + self.path, data=body if body else None,
                                             method=self.command,
                                             headers={k: v for k, v in self.headers.items()
                                                      if k.lower() not in ("host", "content-length")})
                try:
                    with NO_PROXY.open(req, timeout=30) as r:
                        status, data, ctype = r.status, r.read(), r.headers.get("Content-Type", "text/xml")
                except urllib.error.HTTPError as e:
                    status, data, ctype = e.code, e.read(), e.headers.get("Content-Type", "text/xml")
                with outer.lock:
                    if outer.never_insync:
                        data = data.replace(b"<Status>INSYNC</Status>", b"<Status>PENDING</Status>")
                    elif "/change/" in self.path:
                        outer.get_changes.append(self.path)
                        if len(outer.get_changes) == 1 and outer.pending_left == 0:
                            data = data.replace(b"<Status>INSYNC</Status>", b"<Status>PENDING</Status>")
                    elif self.command == "POST" and self.path.endswith("/rrset/") and outer.pending_left:
                        outer.pending_left -= 1
                        data = data.replace(b"<Status>INSYNC</Status>", b"<Status>PENDING</Status>")
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _forward

        class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = S(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def next_close(now, tz, hhmm):
    """The next close of business after now (UTC seconds), as coordinator/expiry.c computes it."""
    from zoneinfo import ZoneInfo
    z = ZoneInfo(tz)
    h, m = (int(x) for x in hhmm.split(":"))
    local = datetime.datetime.fromtimestamp(now, z)
    for day in range(3):
        d = (local + datetime.timedelta(days=day)).date()
        t = datetime.datetime(d.year, d.month, d.day, h, m, tzinfo=z).timestamp()
        if t > now:
            return int(t)
    raise AssertionError("no close")


def tags_of(task):
    return {t["key"]: t["value"] for t in task.get("tags", [])}


@unittest.skipIf(SKIP, SKIP or "")
class FargatePlayground(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = awsfake.tmpdir()
        cls.moto = SceneMoto(cls.tmp, policy=awsfake.coordinator_policy(ROOT))
        cls.r53moto = Moto(cls.tmp, auth=False)
        cls.r53proxy = PendingRoute53(cls.r53moto.url)
        cls.launcher = None
        try:
            cls._scene()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def _scene(cls):
        ec2, ecs = cls.moto.scene("ec2"), cls.moto.scene("ecs")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        cls.subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
        cls.sg = ec2.create_security_group(GroupName="pg", Description="pg", VpcId=vpc)["GroupId"]
        for c in ("ci", "night"):
            ecs.create_cluster(clusterName=c)
        req = urllib.request.Request(cls.moto.url + "/moto-api/state-manager/set-transition", method="POST",
                                     data=json.dumps({"model_name": "ecs::task", "transition": {
                                         "progression": "manual", "times": 1000000}}).encode())
        urllib.request.urlopen(req, timeout=30).read()
        import botocore.session
        s = botocore.session.Session()
        for k in ("config_file", "credentials_file"):
            s.set_config_variable(k, os.devnull)
        cls.r53 = s.create_client("route53", region_name="us-east-1", endpoint_url=cls.r53moto.url,
                                  aws_access_key_id="x", aws_secret_access_key="y")
        cls.zone = cls.r53.create_hosted_zone(Name=DOMAIN, CallerReference="it")["HostedZone"]["Id"]
        cls.env = base_env(cls.tmp)
        cls.env.update(AWS_ACCESS_KEY_ID=cls.moto.access_key, AWS_SECRET_ACCESS_KEY=cls.moto.secret_key,
                       AWS_ENDPOINT_URL=cls.moto.url, AWS_ENDPOINT_URL_ROUTE_53=cls.r53proxy.url,
                       AWS_DEFAULT_REGION=REGION)
        lenv = base_env(cls.tmp)
        lenv.update(AWS_ACCESS_KEY_ID=cls.moto.scene_key, AWS_SECRET_ACCESS_KEY=cls.moto.scene_secret,
                    AWS_DEFAULT_REGION=REGION)
        cls.launcher_log = open(os.path.join(cls.tmp, "launcher.log"), "wb")
        ready = os.path.join(cls.tmp, "launcher.ready")
        cls.launcher = subprocess.Popen(
            [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "fargate_launcher.py"),
             "--endpoint", cls.moto.url, "--region", REGION, "--cluster", "ci", "--agent", agent_path(),
             "--ready-file", ready, "--max-seconds", "600"],
            env=lenv, stdout=cls.launcher_log, stderr=subprocess.STDOUT)
        wait_until(lambda: os.path.exists(ready), 60, "the launcher")

    @classmethod
    def tearDownClass(cls):
        if cls.launcher and cls.launcher.poll() is None:
            cls.launcher.terminate()
            try:
                cls.launcher.wait(30)
            except subprocess.TimeoutExpired:
                cls.launcher.kill()
                cls.launcher.wait()
        if getattr(cls, "r53proxy", None):
            cls.r53proxy.close()
        for m in (getattr(cls, "moto", None), getattr(cls, "r53moto", None)):
            if m:
                m.close()
        if getattr(cls, "launcher_log", None):
            cls.launcher_log.close()
        if os.environ.get("SV_KEEP_TMP"):
            print("kept %s (SV_KEEP_TMP)" % cls.tmp, file=sys.stderr)
        else:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    # --- helpers ---------------------------------------------------------------------------

    def config(self, web_port=None, cluster="ci", pg_max=10, name="pipeline.json", command=None, spec=None,
               image="site:playground", slack=None):
        """A pipeline config whose playground stage serves http.server on web_port (or runs
        command instead)."""
        spec_ = {"version": 1, "stage": "playground", "mode": "service", "stop_timeout": 5,
                "processes": [{"name": "web", "role": "service", "essential": True,
                               "command": command or [sys.executable, "-m", "http.server", "--bind",
                                                      "127.0.0.1", str(web_port or 9)],
                               "env": {"PLAYGROUND_NAME": "${NAME}", "PLAYGROUND_HOST": "${HOST}"},
                               "ready": {"http": "http://127.0.0.1:%d/" % (web_port or 9), "interval_ms": 100,
                                         "timeout_ms": 60000}}]}
        spec = spec or spec_
        ports = free_port()
        doc = {"version": 1,
               "aws": {"region": REGION, "cluster": cluster, "subnets": [self.subnet], "security_groups": [self.sg],
                       "execution_role_arn": "arn:aws:iam::123456789012:role/exec", "log_group": "/stagevisor",
                       "ecr_repository": "site", "route53": {"zone_id": self.zone, "domain": DOMAIN}},
               "coordinator": {"advertise": "https://127.0.0.1", "listen": "127.0.0.1", "ports": [ports, ports]},
               "playgrounds": {"close_of_business": "19:00", "timezone": "Europe/London", "max": pg_max},
               "stages": {"playground": {"image": image, "cpu": 256, "memory": 512, "stop_timeout": 5,
                                         "spec": spec}}}
        if slack:
            doc["slack"] = {"webhook_url": slack}
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            json.dump(doc, f)
        return path

    def sv(self, *args, timeout=240, env=None):
        if args[0] == "playground":
            args = list(args) + ["--state-dir", os.path.join(self.tmp, "state")]
        p = subprocess.run([coord_path()] + list(args),
                           env=env or self.env, capture_output=True, text=True, timeout=timeout)
        for m in SANITIZER_MARKS:
            if m in p.stderr:
                raise AssertionError("sanitizer report from stagevisor %s:\n%s" % (" ".join(args), p.stderr))
        return p

    def records(self):
        out = {}
        for r in self.r53.list_resource_record_sets(HostedZoneId=self.zone)["ResourceRecordSets"]:
            if r["Type"] == "A":
                out[r["Name"].rstrip(".")] = [v["Value"] for v in r["ResourceRecords"]]
        return out

    def tasks(self, cluster="ci", status="RUNNING"):
        ecs = self.moto.scene("ecs")
        arns = ecs.list_tasks(cluster=cluster, desiredStatus=status)["taskArns"]
        if not arns:
            return []
        return ecs.describe_tasks(cluster=cluster, tasks=arns, include=["TAGS"])["tasks"]

    def scene_state(self):
        """For a failure message: every task's branch and states, and the launcher's last lines."""
        rows = ["%s %s/%s %s" % (tags_of(t).get("stagevisor:branch"), t.get("lastStatus"), t.get("desiredStatus"),
                                 t.get("stoppedReason", "")) for t in self.tasks(status="RUNNING") + self.tasks(status="STOPPED")]
        self.launcher_log.flush()
        with open(os.path.join(self.tmp, "launcher.log"), "rb") as f:
            tail = f.read()[-4000:].decode("utf-8", "replace")
        return "\ntasks:\n  %s\nlauncher.log (end):\n%s" % ("\n  ".join(rows), tail)

    def playground_tasks(self, branch):
        return [t for t in self.tasks() if tags_of(t).get("stagevisor:branch") == branch]

    def up(self, branch, cfg):
        before = time.time()
        p = self.sv("playground", "up", "--backend", "fargate", "--config", cfg, "--name", branch)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return p, before

    # --- cases -------------------------------------------------------------------------------

    def test_1_up_list_down_and_max(self):
        port1, port2, port3 = free_port(), free_port(), free_port()
        # up: the record holds the task's IP, INSYNC was waited for, the URL is the last line.
        # Two `up`s of one branch at once on this host: one task; the second waits for the first
        # (the lock in the state directory) and then finds its playground.
        # The image the build pushed: ${BUILD_ID} is --build-id made an image tag.
        cfg1 = self.config(port1, pg_max=2, name="p1.json", image="site:playground-${BUILD_ID}")
        before = time.time()
        argv = [coord_path(), "playground", "up", "--backend", "fargate", "--config", cfg1, "--name", "main",
                "--state-dir", os.path.join(self.tmp, "state"), "--build-id", "jenkins-site/main-5"]
        procs = [subprocess.Popen(argv, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
        outs = [pr.communicate(timeout=240) for pr in procs]
        for pr, (o, e) in zip(procs, outs):
            self.assertEqual(pr.returncode, 0, o + e)
            for m in SANITIZER_MARKS:
                self.assertNotIn(m, e)
        started = [o for o, _ in outs if "already up" not in o]
        self.assertEqual(len(started), 1, outs)
        self.assertIn("another `up` of it is running on this host", "".join(o for o, _ in outs))
        p = subprocess.CompletedProcess(argv, 0, started[0], "")
        url = "https://main.%s/" % DOMAIN
        self.assertEqual(p.stdout.strip().splitlines()[-1], url, p.stdout)
        # Route 53 answered PENDING twice (the stand-in): up polled GetChange until INSYNC.
        self.assertRegex(p.stdout, r"Route 53 change \S+ submitted: PENDING")
        self.assertRegex(p.stdout, r"waiting for Route 53 change \S+: PENDING")
        self.assertRegex(p.stdout, r"Route 53 change \S+ is INSYNC \(after")
        self.assertEqual(len(self.r53proxy.get_changes), 2, self.r53proxy.get_changes)
        self.assertLess(p.stdout.index("INSYNC"), p.stdout.index("is up:"))
        self.assertIn("UPSERT main.%s A " % DOMAIN, p.stdout)
        [task] = self.playground_tasks("main")
        ip = [d["value"] for a in task["attachments"] for d in a["details"] if d["name"] == "privateIPv4Address"][0]
        self.assertEqual(self.records().get("main." + DOMAIN), [ip])
        td = self.moto.scene("ecs").describe_task_definition(taskDefinition=task["taskDefinitionArn"])
        self.assertEqual(td["taskDefinition"]["containerDefinitions"][0]["image"], "site:playground-jenkins-site-main-5")
        tags = tags_of(task)
        self.assertEqual(tags["stagevisor:playground"], "main")
        self.assertEqual(tags["stagevisor:stage"], "playground")
        self.assertEqual(tags["stagevisor:build"], "playground:main")
        self.assertIn(int(tags["stagevisor:expires"]),
                      (next_close(before, "Europe/London", "19:00"), next_close(time.time(), "Europe/London", "19:00")))
        # The agent serves it, and was told to detach (its stderr is in CloudWatch Logs).
        with urllib.request.urlopen("http://127.0.0.1:%d/" % port1, timeout=30) as r:
            self.assertEqual(r.status, 200)
        logs = self.moto.scene("logs")
        tid = task["taskArn"].rsplit("/", 1)[-1]

        def detached():
            try:
                ev = logs.get_log_events(logGroupName="/stagevisor", logStreamName="stagevisor/stage/" + tid,
                                         startFromHead=True)["events"]
            except Exception:
                return False
            return any("detached" in e["message"] for e in ev)
        wait_until(detached, 60, "the agent's 'detached' line in CloudWatch Logs", interval=0.5)

        # up again: the same URL, no second task.
        p, _ = self.up("main", self.config(port1, pg_max=2, name="p1.json"))
        self.assertIn("already up", p.stdout)
        self.assertEqual(p.stdout.strip().splitlines()[-1], url)
        self.assertEqual(len(self.playground_tasks("main")), 1)

        # a second branch; list shows both from the tags.
        p, _ = self.up("feature/JIRA-1", self.config(port2, pg_max=2, name="p2.json"))
        slug2 = p.stdout.strip().splitlines()[-1].split("//")[1].split(".")[0]
        self.assertTrue(slug2.startswith("feature-jira-1--"), p.stdout)
        p = self.sv("playground", "list", "--backend", "fargate", "--config", self.config(name="l.json"), "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = {r["branch"]: r for r in json.loads(p.stdout)}
        self.assertEqual(set(rows), {"main", "feature/JIRA-1"})
        self.assertEqual(rows["main"]["url"], url)
        self.assertRegex(rows["main"]["expires"], r"^\d{4}-\d\d-\d\dT(18|19):00:00Z$")
        self.assertRegex(rows["main"]["started"], r"^\d{4}-\d\d-\d\dT")
        p = self.sv("playground", "list", "--backend", "fargate", "--config", self.config(name="l.json"))
        self.assertIn("https://%s.%s/" % (slug2, DOMAIN), p.stdout)

        # max 2: a third stops the oldest (main) first, and says so.
        p, _ = self.up("release", self.config(port3, pg_max=2, name="p3.json"))
        self.assertIn("stopping the oldest, main", p.stdout, self.scene_state())
        self.assertEqual(self.playground_tasks("main"), [])
        recs = self.records()
        self.assertNotIn("main." + DOMAIN, recs)
        self.assertIn("release." + DOMAIN, recs)
        self.assertIn("%s.%s" % (slug2, DOMAIN), recs)

        # down: task stopped, record deleted; again: nothing to do, not an error.
        cfg = self.config(name="d.json")
        p = self.sv("playground", "down", "--backend", "fargate", "--config", cfg, "--name", "feature/JIRA-1")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("stopped task", p.stdout)
        self.assertIn("deleted record %s.%s" % (slug2, DOMAIN), p.stdout)
        self.assertEqual(self.playground_tasks("feature/JIRA-1"), [])
        self.assertNotIn("%s.%s" % (slug2, DOMAIN), self.records())
        p = self.sv("playground", "down", "--backend", "fargate", "--config", cfg, "--name", "feature/JIRA-1")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("no task running", p.stdout)
        self.assertIn("no record", p.stdout)
        p = self.sv("playground", "down", "--backend", "fargate", "--config", cfg, "--name", "release")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(self.records(), {})
        # The stopped playgrounds' agents went away (SIGTERM from the launcher): their ports close.
        for port in (port1, port2, port3):
            wait_until(lambda: not _port_open(port), 60, "port %d closed" % port, interval=0.2)

    def test_2_teardown(self):
        """Tasks of several ages in a cluster no launcher watches: moto keeps them RUNNING."""
        ecs = self.moto.scene("ecs")
        cfg = self.config(cluster="night", name="night.json")
        td = ecs.register_task_definition(
            family="stagevisor-tests", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256",
            memory="512", containerDefinitions=[{"name": "stage", "image": "x", "cpu": 256, "memory": 512}])
        td = td["taskDefinition"]["taskDefinitionArn"]
        now = int(time.time())

        def start(build, extra):
            t = ecs.run_task(cluster="night", taskDefinition=td, launchType="FARGATE", startedBy="stagevisor",
                             networkConfiguration={"awsvpcConfiguration": {"subnets": [self.subnet],
                                                                           "securityGroups": [self.sg]}},
                             tags=[{"key": "stagevisor:build", "value": build},
                                   {"key": "stagevisor:stage", "value": "tests"}])["tasks"][0]
            ecs.tag_resource(resourceArn=t["taskArn"], tags=[{"key": k, "value": v} for k, v in extra.items()])
            return t["taskArn"]

        def record(name, ip):
            self.r53.change_resource_record_sets(HostedZoneId=self.zone, ChangeBatch={"Changes": [{
                "Action": "UPSERT", "ResourceRecordSet": {"Name": name, "Type": "A", "TTL": 60,
                                                          "ResourceRecords": [{"Value": ip}]}}]})

        expired_stage = start("jenkins-site-1", {"stagevisor:expires": str(now - 60)})
        fresh_stage = start("jenkins-site-2", {"stagevisor:expires": str(now + 3600)})
        gone_build = start("jenkins-site-3", {"stagevisor:started": str(now - 7 * 3600)})
        expired_pg = start("playground:old", {"stagevisor:playground": "old", "stagevisor:branch": "old",
                                              "stagevisor:expires": str(now - 1)})
        live_pg = start("playground:live", {"stagevisor:playground": "live", "stagevisor:branch": "live",
                                            "stagevisor:expires": str(now + 3600)})
        crashed_pg = start("playground:crashed", {"stagevisor:playground": "crashed",
                                                  "stagevisor:expires": str(now + 3600)})
        ecs.stop_task(cluster="night", task=crashed_pg, reason="Essential container in task exited")
        for n, ip in (("old", "10.0.1.5"), ("live", "10.0.1.6"), ("crashed", "10.0.1.7")):
            record("%s.%s" % (n, DOMAIN), ip)

        def running():
            return {t["taskArn"] for t in self.tasks("night")}

        # --dry-run: says what it would do, changes nothing.
        p = self.sv("teardown", "--dry-run", "--config", cfg)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        out = p.stdout
        self.assertIn("would stop stage tests of jenkins-site-1", out)
        self.assertIn("would stop stage tests of jenkins-site-3", out)
        self.assertIn("build is gone", out)
        self.assertIn("would stop playground old", out)
        self.assertIn("would delete record old.%s" % DOMAIN, out)
        self.assertIn("would delete record crashed.%s" % DOMAIN, out)
        self.assertNotIn("jenkins-site-2", out)
        self.assertNotIn("live", out)
        self.assertIn("would stop 3 tasks, would delete 2 records", out)
        self.assertEqual(running(), {expired_stage, fresh_stage, gone_build, expired_pg, live_pg})
        self.assertEqual(len(self.records()), 3)

        # The policy is what makes it work: without ecs:StopTask teardown fails, names the
        # missing permission, and stops nothing.
        iam = self.moto.scene("iam")
        iam.create_user(UserName="ci-nostop")
        iam.put_user_policy(UserName="ci-nostop", PolicyName="p", PolicyDocument=json.dumps(
            awsfake.coordinator_policy(ROOT, drop="ecs:StopTask")))
        key = iam.create_access_key(UserName="ci-nostop")["AccessKey"]
        env = dict(self.env, AWS_ACCESS_KEY_ID=key["AccessKeyId"], AWS_SECRET_ACCESS_KEY=key["SecretAccessKey"])
        p = self.sv("teardown", "--config", cfg, env=env)
        self.assertEqual(p.returncode, 3, p.stdout + p.stderr)
        self.assertIn("ecs:StopTask", p.stderr)
        self.assertEqual(running(), {expired_stage, fresh_stage, gone_build, expired_pg, live_pg})
        # (Route 53 runs without authentication here, so that run's record pass still removed the
        # crashed playground's record: put it back for the real run.)
        record("crashed.%s" % DOMAIN, "10.0.1.7")

        # the real run.
        p = self.sv("teardown", "--config", cfg)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("stopped playground old", p.stdout)
        self.assertIn("deleted record old.%s" % DOMAIN, p.stdout)
        self.assertIn("deleted record crashed.%s" % DOMAIN, p.stdout)
        self.assertIn("stopped 3 tasks, deleted 2 records", p.stdout)
        self.assertEqual(running(), {fresh_stage, live_pg})
        self.assertEqual(set(self.records()), {"live." + DOMAIN})

        # again: nothing to do, and it says so.
        p = self.sv("teardown", "--config", cfg)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("nothing to do", p.stdout)
        self.assertEqual(running(), {fresh_stage, live_pg})
        self.assertEqual(set(self.records()), {"live." + DOMAIN})

    def test_4_up_fails(self):
        """A playground whose service dies before it is ready: exit 3, the task stopped again,
        no record."""
        cfg = self.config(free_port(), name="bad.json",
                          command=[sys.executable, "-c", "import sys; print('cannot start'); sys.exit(3)"])
        p = self.sv("playground", "up", "--backend", "fargate", "--config", cfg, "--name", "broken",
                    "--timeout", "120")
        self.assertEqual(p.returncode, 3, p.stdout + p.stderr)
        self.assertRegex(p.stderr, r"broken: (process web failed|the stage is \w+ before it was ready|the task stopped)")
        self.assertIn("stopped task", p.stderr)
        wait_until(lambda: not self.playground_tasks("broken"), 60, "the failed playground's task stopped",
                   interval=0.5)
        self.assertNotIn("broken." + DOMAIN, self.records())

    def test_5_interrupted(self):
        """SIGINT while up waits for ready: the task is stopped again, exit 130."""
        cfg = self.config(free_port(), name="slow.json", command=[sys.executable, "-c", "import time; time.sleep(300)"])
        proc = subprocess.Popen([coord_path(), "playground", "up", "--backend", "fargate", "--config", cfg, "--name",
                                 "slow", "--state-dir", os.path.join(self.tmp, "state")],
                                env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            line = proc.stdout.readline()
            self.assertIn("waiting for ready", line)
            wait_until(lambda: self.playground_tasks("slow"), 60, "the slow playground's task", interval=0.2)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.assertEqual(proc.returncode, 130, err)
        self.assertIn("interrupted by signal 2: stopping the task", err)
        for m in SANITIZER_MARKS:
            self.assertNotIn(m, err)
        wait_until(lambda: not self.playground_tasks("slow"), 60, "the interrupted playground's task stopped",
                   interval=0.5)

    def test_6_up_posts_to_slack(self):
        """up with a webhook: one post naming the playground's URL; the webhook URL is printed nowhere."""
        secret = "T0PLAY/B0PLAY/playgroundWebhookSecret3"
        srv = HttpsSlack(self.tmp)
        cfg = self.config(free_port(), name="slack.json", slack=srv.url(secret))
        try:
            env = dict(self.env, STAGEVISOR_CA_FILE=srv.cert)
            p = self.sv("playground", "up", "--backend", "fargate", "--config", cfg, "--name", "slacky", env=env)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            url = "https://slacky.%s/" % DOMAIN
            self.assertEqual(p.stdout.strip().splitlines()[-1], url, p.stdout)
            self.assertNotIn("B0PLAY", p.stdout + p.stderr)
            self.assertNotIn("Slack notification failed", p.stderr)
            self.assertEqual(len(srv.requests), 1, p.stderr)
            _, path, _, body = srv.requests[0]
            self.assertTrue(path.endswith(secret), path)
            msg = json.loads(body)
            self.assertIn(url.rstrip("/"), json.dumps(msg["blocks"]))
            self.assertIn("slacky", msg["text"])
        finally:
            srv.close()
            self.sv("playground", "down", "--backend", "fargate", "--config", cfg, "--name", "slacky")

    def test_7_route53_never_insync(self):
        """Route 53 keeps the change PENDING (the stand-in rewrites moto's INSYNC): up waits
        --dns-wait seconds, then exits 3, deletes the record it made and stops the task;
        --dns-wait 0 returns once the change is submitted."""
        cfg = self.config(free_port(), name="dns.json")
        self.r53proxy.never_insync = True
        try:
            p = self.sv("playground", "up", "--backend", "fargate", "--config", cfg, "--name", "slowdns",
                        "--dns-wait", "3")
            self.assertEqual(p.returncode, 3, p.stdout + p.stderr)
            waited = re.search(r"Route 53 change \S+ is still PENDING after (\d+) s", p.stderr)
            self.assertTrue(waited and int(waited.group(1)) >= 3, p.stderr)
            self.assertIn("waiting for Route 53 change", p.stdout)
            self.assertIn("deleted record slowdns.%s again" % DOMAIN, p.stdout)
            self.assertIn("stopped task", p.stderr)
            self.assertNotIn("slowdns." + DOMAIN, self.records())
            wait_until(lambda: not self.playground_tasks("slowdns"), 60, "the playground's task stopped",
                       interval=0.5)
            polls = len(self.r53proxy.get_changes)
            p = self.sv("playground", "up", "--backend", "fargate", "--config", cfg, "--name", "nowait",
                        "--dns-wait", "0")
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertIn("submitted: PENDING (not waiting)", p.stdout)
            self.assertEqual(p.stdout.strip().splitlines()[-1], "https://nowait.%s/" % DOMAIN, p.stdout)
            self.assertEqual(len(self.r53proxy.get_changes), polls, "GetChange called with --dns-wait 0")
            self.assertIn("nowait." + DOMAIN, self.records())
            p = self.sv("playground", "down", "--backend", "fargate", "--config", cfg, "--name", "nowait",
                        "--dns-wait", "0")
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertNotIn("nowait." + DOMAIN, self.records())
        finally:
            self.r53proxy.never_insync = False
        p = self.sv("playground", "up", "--backend", "fargate", "--config", cfg, "--name", "x", "--dns-wait", "-1")
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("--dns-wait: expected seconds", p.stderr)

    def test_3_usage(self):
        p = self.sv("teardown")
        self.assertEqual(p.returncode, 2)
        self.assertIn("--config FILE is required", p.stderr)
        p = self.sv("playground", "up", "--backend", "fargate", "--config", self.config(name="u.json"))
        self.assertEqual(p.returncode, 2)
        self.assertIn("--name BRANCH is required", p.stderr)
        p = self.sv("playground", "up", "--backend", "fargate", "--config", self.config(name="u.json"),
                    "--name", "x", "--stage", "nope")
        self.assertEqual(p.returncode, 2)
        self.assertIn("stages.nope: no such stage", p.stderr)
        # ${BUILD_ID} in the image without --build-id or BUILD_TAG: exit 2, nothing started.
        before = len(self.tasks())
        env = dict(self.env)
        env.pop("BUILD_TAG", None)
        p = self.sv("playground", "up", "--backend", "fargate", "--config",
                    self.config(name="b.json", image="site:playground-${BUILD_ID}"), "--name", "x", env=env)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("stages.playground.image: it has ${BUILD_ID} but the run has no build id", p.stderr)
        self.assertEqual(len(self.tasks()), before)
        # The spec is checked by the agent before anything starts: nothing runs.
        before = len(self.tasks())
        bad = {"version": 1, "stage": "playground", "mode": "service",
               "processes": [{"name": "web", "role": "service", "comand": ["true"]}]}
        p = self.sv("playground", "up", "--backend", "fargate", "--config", self.config(name="s1.json", spec=bad),
                    "--name", "x")
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("stages.playground.spec is not valid; nothing was started", p.stderr)
        self.assertIn("comand", p.stderr)
        job = {"version": 1, "stage": "playground", "mode": "job",
               "processes": [{"name": "web", "role": "job", "command": ["true"]}]}
        p = self.sv("playground", "up", "--backend", "fargate", "--config", self.config(name="s2.json", spec=job),
                    "--name", "x")
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn('a playground needs "mode": "service"', p.stderr)
        self.assertEqual(len(self.tasks()), before)
        p = subprocess.run([coord_path(), "--help"], capture_output=True, text=True, env=self.env)
        self.assertRegex(p.stdout, r"\n  teardown +stop expired playgrounds")
        self.assertNotRegex(p.stdout.split("not yet available")[-1] if "not yet available" in p.stdout else "",
                            r"teardown")


def _port_open(port):
    import socket
    s = socket.socket()
    s.settimeout(1)
    try:
        s.connect(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


if __name__ == "__main__":
    unittest.main()
