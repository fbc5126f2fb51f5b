"""coordinator/fgtask.c against moto's server, as the IAM user holding only the coordinator's
policy (deploy/iam/coordinator-policy.json), through tests/integration/fgtask_tool.c:

- the task definition is registered when none matches, reused (same ARN, no new revision) while
  its content is unchanged, and registered again when it changes;
- two `ensure` at once on one host make one registration, not two;
- RunTask, the task found again by its build and stage tags (and not for another build), the
  tasks started by stagevisor listed, StopTask with its reason;
- without ecs:RunTask in the policy, RunTask fails with AWS's AccessDenied line.
"""
import atexit
import ipaddress
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fargatetest as ft  # noqa: E402
from coordtest import SkipTest, Tests, check  # noqa: E402
from svtest import built_binary  # noqa: E402

_scene = {}


def tool():
    return built_binary("SV_FGTASK_TOOL", os.path.join("tests", "integration", "fgtask_tool"))


def scene():
    if "fg" not in _scene:
        why = ft.skip_reason()
        if why:
            raise SkipTest(why)
        tmp = tempfile.mkdtemp(prefix="sv-fgtask-")
        _scene["fg"] = ft.Fargate(tmp)
        atexit.register(_scene["fg"].close)
    return _scene["fg"]


SPEC = {"version": 1, "stage": "unit", "mode": "job",
        "processes": [{"name": "t", "role": "job", "command": ["true"]}]}


def call(fg, config, stage, state, *args, env=None, expect=0):
    p = subprocess.run([tool(), config, stage, state] + list(args), env=env or fg.env(), capture_output=True,
                       text=True, timeout=120)
    check(p.returncode == expect, "fgtask_tool %s: exit %d\n%s%s" % (args, p.returncode, p.stdout, p.stderr))
    return json.loads(p.stdout) if expect == 0 else p.stderr


def revisions(fg, family):
    return fg.ecs.list_task_definitions(familyPrefix=family)["taskDefinitionArns"]


def test_definition_reused_while_unchanged(tmp):
    fg = scene()
    state = os.path.join(tmp, "state")
    cfg = fg.config({"reuse": SPEC}, name="reuse.json")
    first = call(fg, cfg, "reuse", state, "ensure")
    check(first["registered"] is True, first)
    again = call(fg, cfg, "reuse", state, "ensure")
    check(again == {"arn": first["arn"], "registered": False}, again)
    check(len(revisions(fg, "stagevisor-reuse")) == 1, revisions(fg, "stagevisor-reuse"))
    td = fg.ecs.describe_task_definition(taskDefinition=first["arn"], include=["TAGS"])
    check(any(t["key"] == "stagevisor:definition-hash" for t in td.get("tags", [])), td.get("tags"))
    c = td["taskDefinition"]["containerDefinitions"][0]
    check(c["logConfiguration"]["options"]["awslogs-group"] == ft.LOG_GROUP, c)

    # A changed definition (more memory) is a new revision; then it is reused in turn.
    doc = json.load(open(cfg))
    doc["stages"]["reuse"]["cpu"], doc["stages"]["reuse"]["memory"] = 512, 1024
    json.dump(doc, open(cfg, "w"))
    changed = call(fg, cfg, "reuse", state, "ensure")
    check(changed["registered"] is True and changed["arn"] != first["arn"], changed)
    check(call(fg, cfg, "reuse", state, "ensure") == {"arn": changed["arn"], "registered": False}, "reuse")
    check(len(revisions(fg, "stagevisor-reuse")) == 2, revisions(fg, "stagevisor-reuse"))


def test_two_concurrent_ensures_register_once(tmp):
    fg = scene()
    state = os.path.join(tmp, "state")
    cfg = fg.config({"together": SPEC}, name="together.json")
    procs = [subprocess.Popen([tool(), cfg, "together", state, "ensure"], env=fg.env(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        check(p.returncode == 0, "ensure: %s" % err)
        outs.append(json.loads(out))
    check(sorted(o["registered"] for o in outs) == [False, True], outs)
    check(outs[0]["arn"] == outs[1]["arn"], outs)
    check(len(revisions(fg, "stagevisor-together")) == 1, revisions(fg, "stagevisor-together"))


def test_run_find_list_stop(tmp):
    fg = scene()
    state = os.path.join(tmp, "state")
    cfg = fg.config({"unit": SPEC}, name="unit.json")
    task = call(fg, cfg, "unit", state, "run", "jenkins-site-PR-7-3", "sv-00000000000000aa", "feature/x y")
    arn = task["taskArn"]
    check(task.get("startedBy") == "stagevisor", task.get("startedBy"))
    ov = {e["name"]: e["value"] for e in task["overrides"]["containerOverrides"][0]["environment"]}
    check(ov["STAGEVISOR_STREAM"] == "sv-00000000000000aa" and json.loads(ov["STAGEVISOR_SPEC"]) == SPEC, ov)

    found = call(fg, cfg, "unit", state, "find", "jenkins-site-PR-7-3")
    check(found and found["taskArn"] == arn, found)
    check(ft.tag(found, "stagevisor:branch") == "feature/x y", found.get("tags"))
    check(call(fg, cfg, "unit", state, "find", "jenkins-site-PR-7-4") is None, "another build found a task")
    listed = call(fg, cfg, "unit", state, "list")
    check(arn in [t["taskArn"] for t in listed], listed)
    desc = call(fg, cfg, "unit", state, "describe", arn)
    check(desc["lastStatus"] == "RUNNING", desc)
    addr = call(fg, cfg, "unit", state, "address", arn)
    check(ipaddress.ip_address(addr["address"]).version == 4, addr)  # moto's, not from the subnet

    call(fg, cfg, "unit", state, "stop", arn, "stagevisor run: interrupted (SIGINT)")
    desc = call(fg, cfg, "unit", state, "describe", arn)
    check(desc["lastStatus"] == "STOPPED" and desc["stoppedReason"] == "stagevisor run: interrupted (SIGINT)", desc)
    check(call(fg, cfg, "unit", state, "find", "jenkins-site-PR-7-3") is None, "a stopped task was found")
    check(arn not in [t["taskArn"] for t in call(fg, cfg, "unit", state, "list")], "stopped task listed as running")
    check(arn in [t["taskArn"] for t in call(fg, cfg, "unit", state, "list", "stopped")], "stopped task not listed")


def test_policy_without_run_task_fails(tmp):
    why = ft.skip_reason()
    if why:
        raise SkipTest(why)
    fg = ft.Fargate(tmp, drop="ecs:RunTask")
    try:
        cfg = fg.config({"unit": SPEC})
        err = call(fg, cfg, "unit", os.path.join(tmp, "state"), "run", "b-1", "sv-00000000000000bb", expect=1)
        check("ecs RunTask: AccessDenied" in err, err)
        check(fg.tasks() == [], "a task started without ecs:RunTask")
    finally:
        fg.close()


if __name__ == "__main__":
    Tests(sys.modules[__name__]).main()
