"""fargatetest — the scene for the Fargate backend's integration tests, shared by every test of
`stagevisor run --backend fargate` (and of fgtask.c through tests/integration/fgtask_tool.c).

What it sets up, all on 127.0.0.1:
  Fargate(tmp, drop=None)       moto's server with authentication on, the user under test
                                holding exactly deploy/iam/coordinator-policy.json (minus the
                                action `drop`, for the tests that prove an action is needed),
                                and an admin user for the scene itself: ECS tasks made to stay
                                in their state (moto's manual state progression), a VPC with
                                DNS host names on, a subnet, a security group, the cluster and
                                the log group.
    .env(**extra)               the coordinator's environment: the user's keys, AWS_ENDPOINT_URL
                                at moto, no way to a real AWS address or a metadata address,
                                STAGEVISOR_FARGATE_POLL_MS (the test knob of the reconciliation
                                interval) short
    .config(stages, ...)        writes a pipeline config (coordinator: listen 127.0.0.1,
                                advertise https://127.0.0.1, a range of free ports)
    .launcher(block_stream)     starts tests/integration/fargate_launcher.py (as the admin),
                                which plays Fargate: the real agent per RUNNING task
    .run(config, stage, ...)    starts `stagevisor run --backend fargate` (a Popen with its
                                output collected: Run)
    .ecs / .logs                admin botocore clients, for what the tests check in moto
    .tasks(desired)             the cluster's task descriptions (admin), with tags
    .close()                    stops the launcher, the runs still alive, moto
  phpunit_suite(dir, ...)       a generated PHPUnit suite (no network needed), and
  phpunit_spec(site)            a stage spec that runs it with a JUnit report
  skip_reason()                 why these tests cannot run here (no moto, boto3 or phpunit), or None

What it does not do: assert anything about stagevisor; the tests do that.
"""
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from awsfake import Moto, base_env, coordinator_policy, moto_or_skip_reason  # noqa: E402
from svtest import SANITIZER_MARKS, agent_path, coord_path, wait_until  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
REGION = "eu-west-1"
CLUSTER = "ci"
LOG_GROUP = "/stagevisor"
EXEC_ROLE = "arn:aws:iam::123456789012:role/stagevisor-exec"


def skip_reason(need_phpunit=False):
    r = moto_or_skip_reason()
    if r:
        return r
    try:
        import boto3  # noqa: F401
    except ImportError as e:
        return "boto3 is not installed for %s (%s): the Fargate launcher needs it" % (sys.executable, e)
    if need_phpunit and not shutil.which("phpunit"):
        return "phpunit is not installed (scripts/install-deps)"
    return None


def free_port_range(n):
    """n consecutive loopback ports that are free now (bound and released, one by one)."""
    for _ in range(200):
        first = random.randrange(20000, 32000 - n)
        socks = []
        try:
            for p in range(first, first + n):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return first, first + n - 1
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise AssertionError("no %d consecutive free ports" % n)


def phpunit_suite(directory, passed, failed=0, errors=0, skipped=0, name="site"):
    """A PHPUnit suite under directory/name/tests (one class): passed, failed, erroring and
    skipped tests. Returns the site directory."""
    site = os.path.join(directory, name)
    os.makedirs(os.path.join(site, "tests"), exist_ok=True)
    bodies = (["$this->assertTrue(true);"] * passed + ["$this->assertSame(1, 2);"] * failed +
              ["throw new \\RuntimeException('boom');"] * errors + ["$this->markTestSkipped('later');"] * skipped)
    with open(os.path.join(site, "tests", "GenTest.php"), "w") as f:
        f.write("<?php\nuse PHPUnit\\Framework\\TestCase;\nfinal class GenTest extends TestCase {\n")
        for i, body in enumerate(bodies):
            f.write("  public function testT%03d(): void { %s }\n" % (i, body))
        f.write("}\n")
    return site


def phpunit_spec(site, stage="tests", stop_timeout=20, extra_processes=()):
    """A job stage running PHPUnit on site/tests with its own JUnit report (an inline spec)."""
    procs = [{"name": "phpunit", "role": "job", "essential": True, "cwd": site, "env": {"TERM": "dumb"},
              "command": ["phpunit", "--log-junit", "phpunit.xml", "tests"],
              "results": [{"format": "junit", "path": "phpunit.xml"}]}]
    procs.extend(extra_processes)
    return {"version": 1, "stage": stage, "mode": "job", "stop_timeout": stop_timeout, "processes": procs}


class Run:
    """A `stagevisor run` in the background; its stdout and stderr kept line by line."""

    def __init__(self, argv, env, cwd=None):
        self.argv = argv
        self.proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL)
        self.out, self.err = [], []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._pump, args=(self.proc.stdout, self.out), daemon=True),
                        threading.Thread(target=self._pump, args=(self.proc.stderr, self.err), daemon=True)]
        for t in self.threads:
            t.start()

    def _pump(self, f, into):
        for raw in f:
            with self.lock:
                into.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def text(self):
        with self.lock:
            return "\n".join(self.out) + "\n--- stderr ---\n" + "\n".join(self.err)

    def saw(self, needle):
        with self.lock:
            return any(needle in ln for ln in self.out + self.err)

    def wait(self, timeout=120):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("stagevisor run did not finish in %d s:\n%s" % (timeout, self.text()))
        for t in self.threads:
            t.join(10)
        for m in SANITIZER_MARKS:
            if m in self.text():
                raise AssertionError("sanitizer report:\n%s" % self.text())
        return rc

    def signal(self, sig):
        self.proc.send_signal(sig)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Launcher:
    def __init__(self, fg, block_stream=False, extra=()):
        self.ready = os.path.join(fg.tmp, "launcher-ready-%d" % random.randrange(1 << 30))
        env = base_env(fg.tmp)
        env.update({"AWS_ACCESS_KEY_ID": fg.moto.admin_key, "AWS_SECRET_ACCESS_KEY": fg.moto.admin_secret,
                    "AWS_DEFAULT_REGION": REGION})
        argv = [sys.executable, os.path.join(HERE, "fargate_launcher.py"), "--endpoint", fg.moto.url,
                "--region", REGION, "--cluster", CLUSTER, "--agent", agent_path(), "--ready-file", self.ready,
                "--max-seconds", "600"]
        if block_stream:
            argv.append("--block-stream")
        argv.extend(extra)
        self.log_path = os.path.join(fg.tmp, "launcher-%d.log" % random.randrange(1 << 30))
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        wait_until(lambda: os.path.exists(self.ready) or self.proc.poll() is not None, 60, "the launcher to start")
        if self.proc.poll() is not None:
            raise AssertionError("the launcher exited:\n%s" % self.text())

    def text(self):
        self.log.flush()
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Fargate:
    def __init__(self, tmp, drop=None, policy=None):
        self.tmp = tmp
        self.moto = Moto(tmp, policy=policy or coordinator_policy(ROOT, drop), admin=True)
        self.launchers, self.runs = [], []
        try:
            self._scene()
        except Exception:
            self.moto.close()
            raise

    def _scene(self):
        # Tasks stay RUNNING until stopped, instead of moving one state per DescribeTasks.
        req = urllib.request.Request(self.moto.url + "/moto-api/state-manager/set-transition", method="POST",
                                     data=json.dumps({"model_name": "ecs::task", "transition": {
                                         "progression": "manual", "times": 1000000}}).encode())
        urllib.request.urlopen(req, timeout=30).read()
        ec2 = self.moto.admin_client("ec2", REGION)
        vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        self.subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.8.1.0/24")["Subnet"]["SubnetId"]
        self.sg = ec2.create_security_group(GroupName="stagevisor", Description="ingest", VpcId=vpc)["GroupId"]
        self.ecs = self.moto.admin_client("ecs", REGION)
        self.logs = self.moto.admin_client("logs", REGION)
        self.ecs.create_cluster(clusterName=CLUSTER)
        self.logs.create_log_group(logGroupName=LOG_GROUP)

    def env(self, **extra):
        env = base_env(self.tmp)
        env.update({"AWS_ACCESS_KEY_ID": self.moto.access_key, "AWS_SECRET_ACCESS_KEY": self.moto.secret_key,
                    "AWS_ENDPOINT_URL": self.moto.url, "AWS_DEFAULT_REGION": REGION,
                    "STAGEVISOR_FARGATE_POLL_MS": "300"})
        for k in ("BUILD_TAG", "BRANCH_NAME", "GIT_BRANCH", "BUILD_URL"):
            env.pop(k, None)
        env.update(extra)
        return env

    def config(self, stages, ports=None, name="pipeline.json", slack=None, **coordinator):
        """stages: {name: spec (dict or path)} or {name: full stage object (has "image")}."""
        first, last = ports or free_port_range(4)
        doc = {"version": 1,
               "aws": {"region": REGION, "cluster": CLUSTER, "subnets": [self.subnet],
                       "security_groups": [self.sg], "execution_role_arn": EXEC_ROLE,
                       "log_group": LOG_GROUP, "ecr_repository": "site"},
               "coordinator": {"advertise": "https://127.0.0.1", "listen": "127.0.0.1", "ports": [first, last]},
               "stages": {}}
        doc["coordinator"].update(coordinator)
        if slack:
            doc["slack"] = {"webhook_url": slack}
        for sname, spec in stages.items():
            if isinstance(spec, dict) and "image" in spec:
                doc["stages"][sname] = spec
            else:
                doc["stages"][sname] = {"image": "site:test", "cpu": 256, "memory": 512, "stop_timeout": 20,
                                        "spec": spec}
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            json.dump(doc, f, indent=1)
        return path

    def launcher(self, block_stream=False, extra=()):
        la = Launcher(self, block_stream, extra)
        self.launchers.append(la)
        return la

    def run(self, config, stage, build="jenkins-site-main-1", args=(), env=None, state_dir=None):
        argv = [coord_path(), "run", "--backend", "fargate", "--config", config, "--stage", stage,
                "--build-id", build, "--state-dir", state_dir or os.path.join(self.tmp, "state")]
        argv.extend(args)
        r = Run(argv, env or self.env())
        self.runs.append(r)
        return r

    def identities(self, state_dir=None):
        """The TLS identities saved for a re-attach (STATE/fargate/runs/<clientToken>/), with their files."""
        runs = os.path.join(state_dir or os.path.join(self.tmp, "state"), "fargate", "runs")
        if not os.path.isdir(runs):
            return {}
        return {d: sorted(os.listdir(os.path.join(runs, d))) for d in os.listdir(runs)}

    def tasks(self, desired=None):
        arns = []
        for d in ([desired] if desired else ["RUNNING", "STOPPED"]):
            arns += self.ecs.list_tasks(cluster=CLUSTER, desiredStatus=d).get("taskArns", [])
        out = []
        for i in range(0, len(arns), 100):
            out += self.ecs.describe_tasks(cluster=CLUSTER, tasks=arns[i:i + 100], include=["TAGS"])["tasks"]
        return out

    def log_lines(self, task_arn):
        stream = "stagevisor/stage/" + task_arn.rsplit("/", 1)[-1]
        ev = self.logs.get_log_events(logGroupName=LOG_GROUP, logStreamName=stream, startFromHead=True)
        return [e["message"] for e in ev["events"]]

    def close(self):
        for r in self.runs:
            r.kill()
        for la in self.launchers:
            la.close()
        self.moto.close()


def tag(task, key):
    for t in task.get("tags", []):
        if t["key"] == key:
            return t["value"]
    return None


def wait_for(pred, timeout, what):
    """wait_until with a slower poll, for conditions that call moto."""
    return wait_until(pred, timeout, what, interval=0.2)

