"""`stagevisor run --backend fargate` end to end: moto's server with authentication on (the
coordinator as the IAM user holding only deploy/iam/coordinator-policy.json), the launcher
playing Fargate with the real stagevisor-agent, PHPUnit suites that need no network.

- a passing stage: exit 0, the JUnit file's tests are PHPUnit's, the task was started with
  the build's tags, the ingest listened on the first port of coordinator.ports; the TLS
  identity saved for a re-attach is removed once the stream is whole;
- a failing stage: exit 1, the JUnit counts equal PHPUnit's own (its --log-junit file);
- the same with the HTTPS path blocked (launcher --block-stream): every result comes back
  through the CloudWatch fallback, the counts are still PHPUnit's;
- two stages at once on one host: each its own port, both complete;
- SIGINT: StopTask (with our reason, seen in moto), exit 130, the JUnit file still written;
- no free port in coordinator.ports: exit 3 naming the range, no task; --timeout: the task
  stopped, exit 3;
- a task that never starts: capacity retried with a new task, an image pull failure one
  `agent` case with the hint (moto's StopTask reason stands for ECS's);
- usage errors before any AWS call: a bad config field (its path), no build identity;
- Slack over HTTPS (tlsfake.py's stand-in, trusted through STAGEVISOR_CA_FILE): a failing stage
  posts one message with the stage, the counts, the failed test and BUILD_URL, the webhook URL in
  no output; without STAGEVISOR_CA_FILE the post fails with a certificate warning, same exit code.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fargatetest as ft  # noqa: E402
from coordtest import SkipTest, Tests, check, read_junit  # noqa: E402
from svtest import coord_path  # noqa: E402
from tlsfake import HttpsSlack  # noqa: E402


def scene(tmp, need_phpunit=True):
    why = ft.skip_reason(need_phpunit)
    if why:
        raise SkipTest(why)
    return ft.Fargate(tmp)


def counts(junit):
    j = read_junit(junit)
    root = j["root"]
    return {k: int(root.get(k)) for k in ("tests", "failures", "errors", "skipped")}, j


def phpunit_own(site):
    top = ET.parse(os.path.join(site, "phpunit.xml")).getroot().find("testsuite")
    return {k: int(top.get(k)) for k in ("tests", "failures", "errors", "skipped")}


def run_stage(fg, tmp, stage, site, build, stop_timeout=20, extra=()):
    cfg = fg.config({stage: ft.phpunit_spec(site, stage, stop_timeout=stop_timeout)}, name="%s.json" % stage)
    junit = os.path.join(tmp, "%s.xml" % stage)
    summary = os.path.join(tmp, "%s.summary.json" % stage)
    r = fg.run(cfg, stage, build=build, args=["--junit", junit, "--json", summary] + list(extra))
    return r, cfg, junit, summary


def test_passing_stage(tmp):
    fg = scene(tmp)
    try:
        fg.launcher()
        site = ft.phpunit_suite(tmp, passed=3)
        first, last = ft.free_port_range(3)
        # the image the build pushed: ${BUILD_ID} becomes the build id made an image tag
        cfg = fg.config({"unit": {"image": "site:unit-${BUILD_ID}", "cpu": 256, "memory": 512, "stop_timeout": 20,
                                  "spec": ft.phpunit_spec(site, "unit")}}, ports=(first, last))
        junit = os.path.join(tmp, "unit.xml")
        r = fg.run(cfg, "unit", build="jenkins-site/main-11", args=["--junit", junit],
                   env=fg.env(BRANCH_NAME="main"))
        rc = r.wait(180)
        check(rc == 0, "exit %s\n%s" % (rc, r.text()))
        got, j = counts(junit)
        check(got == {"tests": 3, "failures": 0, "errors": 0, "skipped": 0}, got)
        check("stagevisor" not in j["suites"], j["suites"].keys())
        tasks = fg.tasks()
        check(len(tasks) == 1, "%d tasks" % len(tasks))
        t = tasks[0]
        check(ft.tag(t, "stagevisor:build") == "jenkins-site/main-11" and ft.tag(t, "stagevisor:stage") == "unit"
              and ft.tag(t, "stagevisor:branch") == "main", t.get("tags"))
        td = fg.ecs.describe_task_definition(taskDefinition=t["taskDefinitionArn"])["taskDefinition"]
        image = td["containerDefinitions"][0]["image"]
        check(image == "site:unit-jenkins-site-main-11", image)
        env = {e["name"]: e["value"] for e in t["overrides"]["containerOverrides"][0]["environment"]}
        check(env["STAGEVISOR_URL"] == "https://127.0.0.1:%d/" % first, env["STAGEVISOR_URL"])
        check(r.saw("task definition") and r.saw("registered"), r.text())
        # the identity kept for a re-attach is gone once the stream is whole
        check(fg.identities() == {}, fg.identities())
    finally:
        fg.close()


def test_failing_stage_counts_are_phpunits(tmp):
    fg = scene(tmp)
    try:
        fg.launcher()
        site = ft.phpunit_suite(tmp, passed=4, failed=2, errors=1, skipped=1)
        r, cfg, junit, summary = run_stage(fg, tmp, "unit", site, "jenkins-site-PR-3-1")
        rc = r.wait(180)
        check(rc == 1, "exit %s\n%s" % (rc, r.text()))
        got, j = counts(junit)
        check(got == phpunit_own(site), "junit %s, phpunit %s" % (got, phpunit_own(site)))
        check("stagevisor" not in j["suites"], j["suites"].keys())
        s = json.load(open(summary))
        check(s["complete"] is True and s["result"] == "failed", s)
    finally:
        fg.close()


def test_https_blocked_results_from_cloudwatch(tmp):
    fg = scene(tmp)
    try:
        fg.launcher(block_stream=True)
        site = ft.phpunit_suite(tmp, passed=5, failed=1, skipped=1)
        # A short stop budget: the agent waits that long for acknowledgements nobody sends.
        r, cfg, junit, summary = run_stage(fg, tmp, "unit", site, "jenkins-site-PR-4-1", stop_timeout=3)
        rc = r.wait(180)
        check(rc == 1, "exit %s\n%s" % (rc, r.text()))
        got, j = counts(junit)
        check(got == phpunit_own(site), "junit %s, phpunit %s" % (got, phpunit_own(site)))
        s = json.load(open(summary))
        # Every result and lifecycle event came through CloudWatch: only log lines are missing.
        check(s["complete"] is True and s["from_fallback"] > 0 and s["from_fallback"] + s["missing_logs"] + s["logs"]
              >= s["events"], s)
        check(r.saw("CloudWatch Logs"), r.text())
    finally:
        fg.close()


def test_two_stages_at_once_each_its_port(tmp):
    fg = scene(tmp)
    try:
        fg.launcher()
        a = ft.phpunit_suite(tmp, passed=2, name="a")
        b = ft.phpunit_suite(tmp, passed=1, failed=1, name="b")
        first, last = ft.free_port_range(4)
        cfg = fg.config({"a": ft.phpunit_spec(a, "a"), "b": ft.phpunit_spec(b, "b")}, ports=(first, last))
        ja, jb = os.path.join(tmp, "a.xml"), os.path.join(tmp, "b.xml")
        ra = fg.run(cfg, "a", build="jenkins-site-main-5", args=["--junit", ja])
        rb = fg.run(cfg, "b", build="jenkins-site-main-5", args=["--junit", jb])
        check(ra.wait(180) == 0, ra.text())
        check(rb.wait(180) == 1, rb.text())
        check(counts(ja)[0]["tests"] == 2 and counts(jb)[0] == phpunit_own(b), (counts(ja)[0], counts(jb)[0]))
        urls = sorted({e["value"] for t in fg.tasks() for e in t["overrides"]["containerOverrides"][0]["environment"]
                       if e["name"] == "STAGEVISOR_URL"})
        check(urls == ["https://127.0.0.1:%d/" % first, "https://127.0.0.1:%d/" % (first + 1)], urls)
    finally:
        fg.close()


def test_sigint_stops_the_task_and_writes_junit(tmp):
    fg = scene(tmp, need_phpunit=False)
    try:
        fg.launcher()
        spec = {"version": 1, "stage": "slow", "mode": "job", "stop_timeout": 5,
                "processes": [{"name": "sleeper", "role": "job", "command": ["sleep", "600"]}]}
        cfg = fg.config({"slow": spec})
        junit = os.path.join(tmp, "slow.xml")
        r = fg.run(cfg, "slow", build="jenkins-site-main-9", args=["--junit", junit])
        ft.wait_for(lambda: r.saw("process sleeper started"), 120, "the stage to run")
        r.signal(signal.SIGINT)
        rc = r.wait(120)
        check(rc == 130, "exit %s\n%s" % (rc, r.text()))
        t = fg.tasks()[0]
        check(t["desiredStatus"] == "STOPPED" and "interrupted (SIGINT)" in t.get("stoppedReason", ""), t)
        check(os.path.exists(junit), "no JUnit file")
        read_junit(junit)
    finally:
        fg.close()


def test_infrastructure_errors_exit_3(tmp):
    """No free port in coordinator.ports (the one port held by another server): exit 3 naming
    the range, no task, a `stagevisor` case; then --timeout: the task stopped, exit 3."""
    fg = scene(tmp, need_phpunit=False)
    held = socket.socket()
    try:
        fg.launcher()
        spec = {"version": 1, "stage": "slow", "mode": "job", "stop_timeout": 5,
                "processes": [{"name": "sleeper", "role": "job", "command": ["sleep", "600"]}]}
        held.bind(("127.0.0.1", 0))
        held.listen(1)
        port = held.getsockname()[1]
        cfg = fg.config({"slow": spec}, ports=(port, port), name="one-port.json")
        junit = os.path.join(tmp, "noport.xml")
        r = fg.run(cfg, "slow", build="jenkins-site-main-20", args=["--junit", junit])
        rc = r.wait(120)
        check(rc == 3 and "no free port in coordinator.ports %d-%d on 127.0.0.1" % (port, port) in r.text(),
              "exit %s\n%s" % (rc, r.text()))
        check(fg.tasks() == [], "a task was started without an ingest port")
        cases = {c["name"]: c for c in read_junit(junit)["suites"]["stagevisor"]}
        check("no free port" in cases["agent"]["message"], cases)

        cfg = fg.config({"slow": spec}, name="timeout.json")
        junit = os.path.join(tmp, "timeout.xml")
        r = fg.run(cfg, "slow", build="jenkins-site-main-21", args=["--junit", junit, "--timeout", "3"])
        rc = r.wait(120)
        check(rc == 3, "exit %s\n%s" % (rc, r.text()))
        t = fg.tasks()[0]
        check(t["desiredStatus"] == "STOPPED" and "time limit reached" in t.get("stoppedReason", ""), t)
        cases = {c["name"]: c for c in read_junit(junit)["suites"]["stagevisor"]}
        check("timeout" in cases, cases)
    finally:
        held.close()
        fg.close()


def test_start_failure_retried_then_reported(tmp):
    """No launcher: the tasks never run. Moto's StopTask sets the stopped reason ECS would
    write: "Capacity is unavailable" starts a new task; an image that does not exist is one
    `agent` case with the reason and the hint, exit 3."""
    fg = scene(tmp, need_phpunit=False)
    try:
        spec = {"version": 1, "stage": "s", "mode": "job", "processes": [{"name": "t", "role": "job", "command": ["true"]}]}
        cfg = fg.config({"s": spec})
        junit = os.path.join(tmp, "s.xml")
        r = fg.run(cfg, "s", build="jenkins-site-main-30", args=["--junit", junit])
        ft.wait_for(lambda: len(fg.tasks("RUNNING")) == 1, 60, "the first task")
        fg.ecs.stop_task(cluster=ft.CLUSTER, task=fg.tasks("RUNNING")[0]["taskArn"],
                         reason="Capacity is unavailable at this time. Please try again later or in a different "
                                "availability zone")
        ft.wait_for(lambda: len(fg.tasks("RUNNING")) == 1 and len(fg.tasks()) == 2, 60, "a second task")
        fg.ecs.stop_task(cluster=ft.CLUSTER, task=fg.tasks("RUNNING")[0]["taskArn"],
                         reason="CannotPullContainerError: pull image manifest has been retried 5 time(s): "
                                "failed to resolve ref site:test: not found")
        rc = r.wait(120)
        check(rc == 3, "exit %s\n%s" % (rc, r.text()))
        check(r.saw("starting a new one"), r.text())
        cases = {c["name"]: c for c in read_junit(junit)["suites"]["stagevisor"]}
        m = cases["agent"]["message"]
        check("image-pull" in m and "not found" in m and "check stages.NAME.image" in m, m)
        check(len(fg.tasks()) == 2, "%d tasks" % len(fg.tasks()))
    finally:
        fg.close()


SLACK_SECRET = "T0FARGATE/B0FARGATE/fargateWebhookSecret91"
BUILD_URL = "https://jenkins.example.test/job/site/PR-8/2/"


def test_failing_stage_posts_to_slack_over_https(tmp):
    fg = scene(tmp)
    srv = HttpsSlack(tmp)
    try:
        fg.launcher()
        site = ft.phpunit_suite(tmp, passed=3, failed=1)
        cfg = fg.config({"unit": ft.phpunit_spec(site, "unit")}, slack=srv.url(SLACK_SECRET))
        runs = []
        for build, extra in (("jenkins-site-PR-8-2", {"STAGEVISOR_CA_FILE": srv.cert}), ("jenkins-site-PR-8-3", {})):
            r = fg.run(cfg, "unit", build=build, env=fg.env(BUILD_URL=BUILD_URL, BRANCH_NAME="PR-8", **extra))
            rc = r.wait(180)
            runs.append(r)
            check(rc == 1, "exit %s (CA file %s)\n%s" % (rc, bool(extra), r.text()))
            check(SLACK_SECRET not in r.text() and "B0FARGATE" not in r.text(), "the webhook URL was printed")
        trusted, untrusted = runs
        # With the CA file: exactly one post, carrying what a reader of the channel needs.
        check(len(srv.requests) == 1, "requests: %d\n%s" % (len(srv.requests), untrusted.text()))
        _, path, _, body = srv.requests[0]
        check(path.endswith(SLACK_SECRET), path)
        msg = json.loads(body)
        blocks = json.dumps(msg["blocks"])
        check(msg["text"].startswith("Stage unit failed on PR-8: tests: 3 passed, 1 failed, 0 errors, 0 skipped"),
              msg["text"])
        failed_name = "GenTest::testT003"
        check(failed_name in blocks and "Failed asserting" in blocks, body)
        check("<%s|" % BUILD_URL in blocks, blocks)  # the Jenkins build as the link
        check("Slack notification failed" not in trusted.text(), trusted.text())
        # Without it: the stand-in's certificate is nobody the system trusts; a warning, exit 1 all the same.
        warn = [l for l in untrusted.text().splitlines() if "Slack notification failed" in l]
        check(len(warn) == 1 and "certificate" in warn[0].lower(), untrusted.text())
    finally:
        srv.close()
        fg.close()


def test_usage_errors_before_any_aws_call(tmp):
    why = ft.skip_reason()
    if why:
        raise SkipTest(why)
    env = dict(os.environ)
    for k in ("BUILD_TAG", "AWS_ENDPOINT_URL"):
        env.pop(k, None)
    env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"  # nothing listens: a call would fail, not hang
    bad = os.path.join(tmp, "bad.json")
    with open(bad, "w") as f:
        json.dump({"version": 1,
                   "aws": {"region": "eu-west-1", "cluster": "ci", "subnets": ["subnet-0a"], "security_groups": ["sg-0a"],
                           "execution_role_arn": ft.EXEC_ROLE, "log_group": "/sv", "ecr_repository": "site"},
                   "coordinator": {"advertise": "https://127.0.0.1", "ports": [30000, 30001]},
                   "stages": {"unit": {"image": "site:1", "cpu": 1024, "memory": 3000, "spec": {}}}}, f)
    p = subprocess.run([coord_path(), "run", "--backend", "fargate", "--config", bad, "--stage", "unit",
                        "--build-id", "b"], env=env, capture_output=True, text=True, timeout=60)
    check(p.returncode == 2 and "stages.unit.memory" in p.stderr, "exit %s: %s" % (p.returncode, p.stderr))
    p = subprocess.run([coord_path(), "run", "--backend", "fargate", "--config", bad, "--stage", "unit"],
                       env=env, capture_output=True, text=True, timeout=60)
    check(p.returncode == 2 and "BUILD_TAG" in p.stderr, "exit %s: %s" % (p.returncode, p.stderr))


if __name__ == "__main__":
    Tests(sys.modules[__name__]).main()
