"""Faults of `stagevisor run --backend fargate` (issue 9), against moto's server with
authentication on, the coordinator running as an IAM user whose only permissions are
deploy/iam/coordinator-policy.json, and fargate_launcher.py playing Fargate (the real agent per
task). Every AWS call of the coordinator and of the launcher goes through ecs_standin.EcsStandIn,
a STAND-IN proxy in front of moto that forwards everything unchanged (signatures included)
and, only where a test names a task, answers DescribeTasks/ListTasks as Fargate would for
what moto cannot express (a stop code, a stopped reason, a container's OOM reason and exit
code). The stand-in is named in each test that uses a fate.

- The coordinator SIGKILLed after RunTask (while its agent is mid-stage) and the same command
  run again: it re-attaches (moto holds exactly one task for that build and stage), the results
  reported before and after the kill are all in the JUnit file, the run passes; the killed run's
  TLS identity was there for the second, and is gone once it completes.
- A task that never starts (stand-in: TaskFailedToStart + CannotPullContainerError): exit 3, one
  `stagevisor.infrastructure` case carrying coordinator/taskfail.c's hint, no retry.
- A task whose container is OOM-killed (the test SIGKILLs the agent as the kernel would; the
  stand-in adds ECS's OutOfMemoryError reason and exit code 137): the stage fails with the OOM
  named in its console and JUnit, and the results it reported before are kept.
- The coordinator's policy without ecs:RunTask: AWS's AccessDenied error line and exit 3 (with
  the full policy the other tests pass: the policy is both needed and enough).
Also the stand-in itself: a signed call passes through it with the Host header as sent, and is
refused by moto when the Host header is rewritten.
"""
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import awsfake  # noqa: E402
import fargatetest  # noqa: E402
from ecs_standin import EcsStandIn  # noqa: E402
from fargatetest import CLUSTER, REGION, tag, wait_for  # noqa: E402
from svtest import sanitize  # noqa: E402

STAGE = "tests"


def slack(seconds):
    return seconds * 4 if sanitize() else seconds


def teamcity_job(first, gate=None, ready=None, rest=0):
    """python3 printing `first` TeamCity results, touching `ready`, waiting for `gate` to exist,
    then printing `rest` more."""
    return ("import os,time\n"
            "def t(i):\n"
            "    print(\"##teamcity[testStarted name='case%%02d']\" %% i)\n"
            "    print(\"##teamcity[testFinished name='case%%02d' duration='1']\" %% i, flush=True)\n"
            "for i in range(%d): t(i)\n"
            "ready, gate = %r, %r\n"
            "if ready: open(ready, 'w').close()\n"
            "while gate and not os.path.exists(gate): time.sleep(0.05)\n"
            "for i in range(%d, %d): t(i)\n" % (first, ready, gate, first, first + rest))


def junit_cases(path):
    root = ET.parse(path).getroot()
    out = []
    for suite in root.iter("testsuite"):
        for tc in suite.iter("testcase"):
            kids = [k for k in tc if k.tag in ("failure", "error", "skipped")]
            out.append({"suite": suite.get("name"), "name": tc.get("name"), "classname": tc.get("classname"),
                        "status": kids[0].tag if kids else "passed",
                        "message": kids[0].get("message") if kids else None,
                        "text": (kids[0].text or "") if kids else ""})
    return out


def spec_for(job):
    return {"version": 1, "stage": STAGE, "mode": "job", "stop_timeout": 20, "processes": [
        {"name": "runner", "role": "job", "command": ["python3", "-u", "-c", job],
         "results": [{"format": "teamcity", "stream": "stdout"}]}]}


class Scene:
    """fargatetest.Fargate with the stand-in in front of moto: the coordinator's and the
    launcher's every AWS call goes through it."""

    def __init__(self, tmp, drop=None, launcher=True):
        self.tmp = tmp
        self.fg = fargatetest.Fargate(tmp, drop=drop)
        self.standin = EcsStandIn(self.fg.moto.url)
        self.la = None
        try:
            if launcher:
                self.la = self.fg.launcher(extra=["--endpoint", self.standin.url])
        except Exception:
            self.close()
            raise

    def env(self):
        return self.fg.env(AWS_ENDPOINT_URL=self.standin.url)

    def run(self, cfg, build, name):
        junit = os.path.join(self.tmp, "junit-%s.xml" % name)
        summary = os.path.join(self.tmp, "summary-%s.json" % name)
        r = self.fg.run(cfg, STAGE, build=build, env=self.env(),
                        args=["--branch", "main", "--junit", junit, "--json", summary, "--timeout", "300"])
        r.junit, r.summary = junit, summary
        return r

    def tasks(self, build):
        """moto's tasks (asked directly, not through the stand-in) tagged with this build."""
        return [t for t in self.fg.tasks() if tag(t, "stagevisor:build") == build]

    def run_tasks(self, build):
        """The RunTask requests (through the stand-in) tagged with this build."""
        return [c["request"] for c in list(self.standin.calls) if c["op"] == "RunTask" and c["request"] and
                any(t.get("key") == "stagevisor:build" and t.get("value") == build
                    for t in c["request"].get("tags", []))]

    def agent_pid(self, task_arn):
        m = re.search(r"launcher: started %s pid (\d+)" % re.escape(task_arn.rsplit("/", 1)[-1]), self.la.text())
        return int(m.group(1)) if m else None

    def close(self):
        self.fg.close()
        self.standin.close()


def summary(r):
    with open(r.summary) as f:
        return json.load(f)


SKIP = fargatetest.skip_reason()


@unittest.skipIf(SKIP, SKIP or "")
class StandIn(unittest.TestCase):
    """The stand-in forwards signed calls unchanged: moto checks the signature against the Host
    header it sees, which must be the one the client signed for (the stand-in's)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sv-fg-faults-")
        cls.scene = Scene(cls.tmp, launcher=False)

    @classmethod
    def tearDownClass(cls):
        cls.scene.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_signed_call_passes_with_host_unchanged(self):
        scene = self.scene
        runner = awsfake.Runner()
        runner.secret(scene.fg.moto.secret_key)
        before = scene.standin.count("ListTasks")
        args = ["ecs", "ListTasks", json.dumps({"cluster": CLUSTER}), "--region", REGION]
        r = runner.run(args, scene.env())
        self.assertEqual(r.rc, 0, r)
        self.assertIsInstance(r.json()["taskArns"], list)
        scene.standin.host_override = "127.0.0.1:%d" % scene.fg.moto.port
        r = runner.run(args, scene.env())
        self.assertEqual(r.rc, 1, r)
        self.assertIn("SignatureDoesNotMatch", r.err)
        scene.standin.host_override = None
        self.assertEqual(scene.standin.count("ListTasks"), before + 2)

    def test_fates(self):
        """A start failure is STOPPED from the first DescribeTasks and hidden from RUNNING lists;
        an OOM shows only once moto has the task stopped; other tasks pass unchanged."""
        scene = self.scene
        import botocore.session
        sess = botocore.session.Session()
        for k in ("config_file", "credentials_file"):
            sess.set_config_variable(k, os.devnull)
        moto = scene.fg.moto
        ecs = sess.create_client("ecs", region_name=REGION, endpoint_url=scene.standin.url,
                                 aws_access_key_id=moto.admin_key, aws_secret_access_key=moto.admin_secret)
        td = ecs.register_task_definition(
            family="f", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
            containerDefinitions=[{"name": "stage", "image": "x", "cpu": 256, "memory": 512}])
        arn = td["taskDefinition"]["taskDefinitionArn"]
        net = {"awsvpcConfiguration": {"subnets": [scene.fg.subnet], "securityGroups": [scene.fg.sg]}}

        def start(build):
            return ecs.run_task(cluster=CLUSTER, taskDefinition=arn, launchType="FARGATE", networkConfiguration=net,
                                tags=[{"key": "stagevisor:build", "value": build}])["tasks"][0]

        scene.standin.rule("image-pull", build="b1")
        scene.standin.rule("oom", build="b2")
        pull, oom, plain = start("b1"), start("b2"), start("b3")
        self.assertEqual(pull["lastStatus"], "PROVISIONING")
        self.assertEqual(oom["lastStatus"], "RUNNING")
        running = ecs.list_tasks(cluster=CLUSTER, desiredStatus="RUNNING")["taskArns"]
        self.assertEqual(sorted(running), sorted([oom["taskArn"], plain["taskArn"]]))
        self.assertEqual(ecs.list_tasks(cluster=CLUSTER, desiredStatus="STOPPED")["taskArns"], [pull["taskArn"]])
        got = {t["taskArn"]: t for t in ecs.describe_tasks(
            cluster=CLUSTER, tasks=[pull["taskArn"], oom["taskArn"], plain["taskArn"]])["tasks"]}
        p = got[pull["taskArn"]]
        self.assertEqual((p["lastStatus"], p["stopCode"]), ("STOPPED", "TaskFailedToStart"))
        self.assertTrue(p["stoppedReason"].startswith("CannotPullContainerError: "))
        self.assertNotIn("exitCode", p["containers"][0])
        self.assertEqual(got[oom["taskArn"]]["lastStatus"], "RUNNING")
        self.assertNotIn("stopCode", got[oom["taskArn"]])
        ecs.stop_task(cluster=CLUSTER, task=oom["taskArn"], reason="Essential container in task exited")
        o = ecs.describe_tasks(cluster=CLUSTER, tasks=[oom["taskArn"]])["tasks"][0]
        self.assertEqual((o["lastStatus"], o["stopCode"]), ("STOPPED", "EssentialContainerExited"))
        self.assertEqual(o["containers"][0]["reason"], "OutOfMemoryError: Container killed due to memory usage")
        self.assertEqual(o["containers"][0]["exitCode"], 137)
        q = ecs.describe_tasks(cluster=CLUSTER, tasks=[plain["taskArn"]])["tasks"][0]
        self.assertEqual(q["lastStatus"], "RUNNING")
        self.assertNotIn("stopCode", q)
        self.assertEqual(sorted(scene.standin.rewritten), sorted([pull["taskArn"], oom["taskArn"]]))


@unittest.skipIf(SKIP, SKIP or "")
class Faults(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sv-fg-faults-")
        cls.scene = Scene(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        cls.scene.close()
        if not os.environ.get("SV_KEEP_TMP"):
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def stored(self, needle):
        """needle is in some run's events.jsonl in the state directory (what `run` stored)."""
        for d, _, files in os.walk(os.path.join(self.tmp, "state")):
            for f in files:
                if f == "events.jsonl":
                    with open(os.path.join(d, f), errors="replace") as fh:
                        if needle in fh.read():
                            return True
        return False

    def test_reattach_after_coordinator_killed(self):
        s = self.scene
        build = "jenkins-site-main-101"
        ready, gate = os.path.join(self.tmp, "reattach.ready"), os.path.join(self.tmp, "reattach.gate")
        cfg = s.fg.config({STAGE: spec_for(teamcity_job(3, gate=gate, ready=ready, rest=4))}, name="reattach.json")
        before = set(s.fg.identities())
        first = s.run(cfg, build, "reattach-1")
        wait_for(lambda: os.path.exists(ready) or first.proc.poll() is not None, slack(120), "the job's first results")
        self.assertIsNone(first.proc.poll(), first.text())
        # what the job reported so far has reached the first coordinator before it dies
        wait_for(lambda: self.stored("case02") or first.proc.poll() is not None, slack(60),
                 "case02 stored by the first coordinator")
        self.assertIsNone(first.proc.poll(), first.text())
        self.assertEqual(len(s.run_tasks(build)), 1)
        first.kill()
        (task,) = s.tasks(build)
        self.assertEqual(task["lastStatus"], "RUNNING")
        # the killed run left its TLS identity: the second serves it again
        saved = {k: v for k, v in s.fg.identities().items() if k not in before}
        self.assertEqual(list(saved.values()), [["cert.pem", "key.pem"]], s.fg.identities())
        mark = len(s.standin.calls)
        second = s.run(cfg, build, "reattach-2")
        # the job goes on once the second run has looked for the task (or started one)
        wait_for(lambda: second.proc.poll() is not None or any(
            c["op"] == "RunTask" or (c["op"] == "ListTasks" and (c["request"] or {}).get("startedBy"))
            for c in s.standin.calls[mark:]), slack(60), "the second run's look-up")
        open(gate, "w").close()
        rc = second.wait(slack(180))
        self.assertEqual(rc, 0, second.text())
        self.assertEqual(len(s.run_tasks(build)), 1, "the second run started a task:\n%s" % second.text())
        tasks = s.tasks(build)
        self.assertEqual([t["taskArn"] for t in tasks], [task["taskArn"]])
        cases = junit_cases(second.junit)
        self.assertEqual(sorted(c["name"] for c in cases), ["case%02d" % i for i in range(7)], cases)
        self.assertTrue(all(c["status"] == "passed" for c in cases), cases)
        sm = summary(second)
        self.assertTrue(sm["complete"], sm)
        self.assertEqual(sm["tests"]["passed"], 7, sm)
        self.assertFalse(set(saved) & set(s.fg.identities()), "the identity outlived the run")

    def test_task_never_starts_image_pull(self):
        """STAND-IN: moto cannot fail a task's start; ecs_standin answers DescribeTasks with
        TaskFailedToStart and CannotPullContainerError for this build's task (and hides it
        from the launcher's RUNNING list, so no agent starts)."""
        s = self.scene
        build = "jenkins-site-main-102"
        s.standin.rule("image-pull", build=build)
        cfg = s.fg.config({STAGE: spec_for(teamcity_job(2))}, name="pull.json")
        r = s.run(cfg, build, "pull")
        rc = r.wait(slack(180))
        text = r.text()
        self.assertEqual(rc, 3, text)
        tasks = s.tasks(build)
        self.assertEqual(len(tasks), 1, "an image that does not exist is not pulled again:\n%s" % text)
        self.assertIn(tasks[0]["taskArn"], s.standin.rewritten)
        self.assertIsNone(s.agent_pid(tasks[0]["taskArn"]), s.la.text())
        self.assertIn("CannotPullContainerError", text)
        cases = junit_cases(r.junit)
        self.assertEqual(len(cases), 1, cases)
        case = cases[0]
        self.assertTrue(case["classname"].startswith("stagevisor"), case)
        self.assertIn(case["status"], ("failure", "error"), case)
        both = (case["message"] or "") + "\n" + case["text"]
        self.assertIn("CannotPullContainerError", both)
        self.assertIn("the image or its tag does not exist: check stages.NAME.image", both)  # taskfail.c's hint

    def test_network_interface_timeout_starts_a_new_task(self):
        """STAND-IN: moto cannot time out a network interface; ecs_standin answers DescribeTasks
        for the build's first task with TaskFailedToStart and ECS's ENI time-out reason. That
        one is worth starting again: a second task runs the stage, which passes."""
        s = self.scene
        build = "jenkins-site-main-105"
        s.standin.rule("eni-timeout", build=build, times=1)
        cfg = s.fg.config({STAGE: spec_for(teamcity_job(3))}, name="eni.json")
        r = s.run(cfg, build, "eni")
        rc = r.wait(slack(180))
        text = r.text()
        self.assertEqual(rc, 0, text)
        tasks = s.tasks(build)
        self.assertEqual(len(tasks), 2, text)
        doomed = [t["taskArn"] for t in tasks if t["taskArn"] in s.standin.rewritten]
        self.assertEqual(len(doomed), 1, text)
        self.assertIsNone(s.agent_pid(doomed[0]), s.la.text())
        self.assertIn("network-interface-timeout", text)
        cases = junit_cases(r.junit)
        self.assertEqual(sorted(c["name"] for c in cases), ["case00", "case01", "case02"], cases)
        self.assertTrue(all(c["status"] == "passed" for c in cases), cases)
        tokens = [q.get("clientToken") for q in s.run_tasks(build)]
        self.assertEqual(len(tokens), 2, tokens)
        self.assertNotEqual(tokens[0], tokens[1], "a new task needs a new clientToken")

    def test_task_oom_killed(self):
        """STAND-IN: moto cannot say a container was OOM-killed. The test SIGKILLs the agent
        (as the kernel's OOM killer would), the launcher stops the task in moto, and
        ecs_standin answers DescribeTasks for it with ECS's OutOfMemoryError reason, stop code
        EssentialContainerExited and exit code 137."""
        s = self.scene
        build = "jenkins-site-main-103"
        ready, gate = os.path.join(self.tmp, "oom.ready"), os.path.join(self.tmp, "oom.gate")
        s.standin.rule("oom", build=build)
        cfg = s.fg.config({STAGE: spec_for(teamcity_job(2, gate=gate, ready=ready, rest=1))}, name="oom.json")
        r = s.run(cfg, build, "oom")
        wait_for(lambda: os.path.exists(ready) or r.proc.poll() is not None, slack(120), "the job's results")
        self.assertIsNone(r.proc.poll(), r.text())
        (task,) = s.tasks(build)
        pid = s.agent_pid(task["taskArn"])
        self.assertIsNotNone(pid, s.la.text())
        wait_for(lambda: self.stored("case01"), slack(60), "case01 stored")
        os.killpg(pid, signal.SIGKILL)
        rc = r.wait(slack(180))
        text = r.text()
        self.assertIn(rc, (1, 3), text)
        self.assertIn(task["taskArn"], s.standin.rewritten)
        self.assertIn("OutOfMemoryError", text)
        cases = junit_cases(r.junit)
        infra = [c for c in cases if c["classname"].startswith("stagevisor")]
        oom = [c for c in infra if "OutOfMemoryError" in (c["message"] or "") + c["text"]]
        self.assertEqual(len(oom), 1, cases)
        self.assertEqual(oom[0]["name"], "task", oom)
        self.assertIn(oom[0]["status"], ("failure", "error"), oom)
        self.assertIn("raise stages.NAME.memory", (oom[0]["message"] or "") + oom[0]["text"])  # taskfail.c's hint
        self.assertIn("task", [p["name"] for p in summary(r)["problems"]])
        # what the job reported before it was killed is kept
        self.assertEqual(sorted(c["name"] for c in cases if c not in infra), ["case00", "case01"], cases)


@unittest.skipIf(SKIP, SKIP or "")
class PolicyNeeded(unittest.TestCase):
    """deploy/iam/coordinator-policy.json is enough (the runs above pass with it) and needed:
    without ecs:RunTask the run stops at AWS's AccessDenied, exit 3, no task."""

    def test_without_run_task(self):
        tmp = tempfile.mkdtemp(prefix="sv-fg-faults-")
        scene = Scene(tmp, drop="ecs:RunTask", launcher=False)
        try:
            build = "jenkins-site-main-104"
            cfg = scene.fg.config({STAGE: spec_for(teamcity_job(1))})
            r = scene.run(cfg, build, "denied")
            rc = r.wait(slack(120))
            text = r.text()
            self.assertEqual(rc, 3, text)
            self.assertRegex(text, r"ecs RunTask: AccessDenied: User: arn:aws:iam::123456789012:user/ci is not "
                                   r"authorized to perform: ecs:RunTask")
            self.assertEqual(scene.tasks(build), [])
            self.assertEqual(len(scene.run_tasks(build)), 1, "AccessDenied is not retried")
        finally:
            scene.close()
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if SKIP:
        print("skipped: " + SKIP)
        sys.exit(77)
    unittest.main(verbosity=2)
