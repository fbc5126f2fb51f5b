"""Benchmark of issue 9's Fargate backend (not a test; not part of the suite). All on one moto
server on 127.0.0.1 (authentication on, the coordinator's IAM policy), fargate_launcher.py
playing Fargate, in one run:

1. One stage's AWS calls, `stagevisor run --backend fargate` against the same sequence by the
   AWS CLI (`aws ecs register-task-definition`, `aws ecs run-task`, `aws ecs wait
   tasks-stopped`), alternating, --runs times each: wall time (the whole stage, both running
   the same job in the real agent), peak RSS (/usr/bin/time; for the CLI the largest of its
   three processes), the number of AWS calls (counted at tests/integration/ecs_standin.py,
   which here only forwards and counts), and the time from the agent's `end` event (its
   timestamp, read back from CloudWatch Logs) to the client's exit. Every iteration uses a new
   image tag, so both register a new task-definition revision each time (the same sequence).
   The CLI's task runs the agent without STAGEVISOR_URL (nobody to stream to).
2. DescribeTasks calls while watching --watchers stages for --sim-seconds simulated seconds:
   tests/bench/taskwatch_bench.c (sv_taskwatch_bench) runs one process per stage around the
   real coordinator/taskwatch.c with the coordinator's reconciliation interval, simulated time
   running --speed times faster than the wall clock; every DescribeTasks is a real signed call
   to moto, counted at the proxy. The same watchers unshared (each its own state directory)
   are measured too, and the baselines computed: one waiter per task polling every 6 s (the
   AWS CLI waiter's interval), one call per second per agent (the Jenkins ECS plugin).

    tests/bench/fargate_bench.py [--runs N] [--watchers N] [--sim-seconds S] [--speed X]
                                 [--poll-ms P] [--max-age-ms A]

Binaries: $SV_COORD / $SV_AGENT / $SV_TASKWATCH_BENCH, else the first build*/ directory that
has them (use a non-sanitizer build).
"""
import argparse
import calendar
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import fargatetest  # noqa: E402
from ecs_standin import EcsStandIn  # noqa: E402
from fargatetest import CLUSTER, LOG_GROUP, REGION, EXEC_ROLE  # noqa: E402
from svtest import built_binary, coord_path  # noqa: E402

# 20 TeamCity results over about 8 s: longer than the AWS CLI's start-up, so that its waiter
# really waits, as it would for any real stage.
JOB = ("import time\n"
       "for i in range(20):\n"
       "    print(\"##teamcity[testStarted name='t%02d']\" % i)\n"
       "    time.sleep(0.4)\n"
       "    print(\"##teamcity[testFinished name='t%02d' duration='400']\" % i, flush=True)\n")
SPEC = {"version": 1, "stage": "bench", "mode": "job", "stop_timeout": 20, "processes": [
    {"name": "runner", "role": "job", "command": ["python3", "-u", "-c", JOB],
     "results": [{"format": "teamcity", "stream": "stdout"}]}]}


def timed(argv, env, path):
    """Runs argv under /usr/bin/time: (rc, wall s, peak RSS kB, stdout, exit time)."""
    p = subprocess.Popen(["/usr/bin/time", "-f", "%e %M", "-o", path] + argv, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    out, err = p.communicate(timeout=600)
    t_exit = time.time()
    with open(path) as f:
        wall, rss = f.read().split()[-2:]
    if p.returncode != 0:
        raise SystemExit("%s failed (%d):\n%s\n%s" % (" ".join(argv[:6]), p.returncode, out[-2000:], err[-2000:]))
    return float(wall), int(rss), out, t_exit


def end_ts(fg, task_arn):
    """The agent's `end` event's timestamp (UTC seconds) from its CloudWatch stream."""
    for _ in range(200):
        for line in fg.log_lines(task_arn):
            if line.startswith("@@stagevisor ") and '"type":"end"' in line.replace(" ", ""):
                ev = json.loads(line[len("@@stagevisor "):])
                t = time.strptime(ev["ts"][:19], "%Y-%m-%dT%H:%M:%S")
                return calendar.timegm(t) + float("0." + ev["ts"][20:23])
        time.sleep(0.1)
    raise SystemExit("no end event in %s's logs" % task_arn)


def task_def(tag):
    """What the CLI registers: the same shape as the coordinator's definition of the stage."""
    return {"family": "cli-bench", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"],
            "cpu": "256", "memory": "512", "executionRoleArn": EXEC_ROLE,
            "containerDefinitions": [{"name": "stage", "image": "site:bench-%s" % tag, "cpu": 256, "memory": 512,
                                      "essential": True, "stopTimeout": 20,
                                      "logConfiguration": {"logDriver": "awslogs", "options": {
                                          "awslogs-group": LOG_GROUP, "awslogs-region": REGION,
                                          "awslogs-stream-prefix": "stagevisor"}}}]}


def stage_once(fg, proxy, tmp, i, mine):
    cfg = fg.config({"bench": {"image": "site:bench-%d" % i, "cpu": 256, "memory": 512, "stop_timeout": 20,
                               "spec": SPEC}}, name="bench-%d.json" % i)
    env = fg.env(AWS_ENDPOINT_URL=proxy.url)
    env.pop("STAGEVISOR_FARGATE_POLL_MS", None)  # the coordinator's own interval
    env.pop("STAGEVISOR_AWS_BACKOFF_SCALE", None)
    mark = len(proxy.calls)
    if mine:
        build = "bench-%d" % i
        argv = [coord_path(), "run", "--backend", "fargate", "--config", cfg, "--stage", "bench", "--build-id",
                build, "--state-dir", os.path.join(tmp, "state"), "--junit", os.path.join(tmp, "j%d.xml" % i)]
        wall, rss, _, t_exit = timed(argv, env, os.path.join(tmp, "time"))
        arns = [t["taskArn"] for t in fg.tasks() if fargatetest.tag(t, "stagevisor:build") == build]
        if not arns:
            raise SystemExit("no task of build %s among %s" % (build, [(t["taskArn"], t.get("tags")) for t in fg.tasks()]))
        calls = [c["op"] for c in proxy.calls[mark:]]
        return wall, rss, len(calls), t_exit - end_ts(fg, arns[0]), calls
    td = os.path.join(tmp, "td.json")
    with open(td, "w") as f:
        json.dump(task_def(i), f)
    t0 = time.time()
    rss = []
    cli = ["aws", "--endpoint-url", proxy.url, "--region", REGION, "--output", "json"]
    _, r1, out, _ = timed(cli + ["ecs", "register-task-definition", "--cli-input-json", "file://" + td], env,
                          os.path.join(tmp, "time"))
    arn = json.loads(out)["taskDefinition"]["taskDefinitionArn"]
    net = {"awsvpcConfiguration": {"subnets": [fg.subnet], "securityGroups": [fg.sg], "assignPublicIp": "DISABLED"}}
    ov = {"containerOverrides": [{"name": "stage", "environment": [
        {"name": "STAGEVISOR_SPEC", "value": json.dumps(SPEC)}]}]}
    _, r2, out, _ = timed(cli + ["ecs", "run-task", "--cluster", CLUSTER, "--task-definition", arn, "--launch-type",
                                 "FARGATE", "--network-configuration", json.dumps(net), "--overrides", json.dumps(ov),
                                 "--started-by", "cli-bench"], env, os.path.join(tmp, "time"))
    task = json.loads(out)["tasks"][0]["taskArn"]
    _, r3, _, t_exit = timed(cli + ["ecs", "wait", "tasks-stopped", "--cluster", CLUSTER, "--tasks", task], env,
                             os.path.join(tmp, "time"))
    rss = max(r1, r2, r3)
    calls = [c["op"] for c in proxy.calls[mark:]]
    return t_exit - t0, rss, len(calls), t_exit - end_ts(fg, task), calls


def watchers(fg, proxy, tmp, a, shared, speed):
    """sv_taskwatch_bench over a.watchers tasks of a cluster nobody launches: (calls counted by
    the driver, DescribeTasks counted at the proxy, the driver's JSON)."""
    arns_file = os.path.join(tmp, "arns")
    env = fg.env(AWS_ENDPOINT_URL=proxy.url)
    state = tempfile.mkdtemp(prefix="state-", dir=tmp)
    mark = len(proxy.calls)
    argv = [built_binary("SV_TASKWATCH_BENCH", os.path.join("tests", "integration", "sv_taskwatch_bench")),
            "--state-dir", state, "--cluster", "watch", "--arns", arns_file, "--region", REGION,
            "--watchers", str(a.watchers), "--sim-seconds", str(a.sim_seconds), "--speed", str(speed),
            "--poll-ms", str(a.poll_ms), "--max-age-ms", str(a.max_age_ms)]
    if not shared:
        argv.append("--unshared")
    p = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=1800)
    if p.returncode != 0:
        raise SystemExit("sv_taskwatch_bench failed (%d): %s" % (p.returncode, p.stderr[-2000:]))
    res = json.loads(p.stdout)
    counted = sum(1 for c in proxy.calls[mark:] if c["op"] == "DescribeTasks")
    return res["describe_calls"], counted, res


def watch_part(fg, proxy, tmp, a):
    # its tasks are in a cluster no launcher watches: they stay RUNNING
    fg.ecs.create_cluster(clusterName="watch")
    td = fg.ecs.register_task_definition(**task_def("watch"))["taskDefinition"]["taskDefinitionArn"]
    net = {"awsvpcConfiguration": {"subnets": [fg.subnet], "securityGroups": [fg.sg]}}
    arns = []
    for _ in range(a.watchers):
        arns += [t["taskArn"] for t in fg.ecs.run_task(cluster="watch", taskDefinition=td, launchType="FARGATE",
                                                       networkConfiguration=net)["tasks"]]
    with open(os.path.join(tmp, "arns"), "w") as f:
        f.write("\n".join(arns) + "\n")
    shared = [watchers(fg, proxy, tmp, a, True, a.speed) for _ in range(a.watch_runs)]
    unshared = watchers(fg, proxy, tmp, a, False, a.unshared_speed)
    per_task_6s = a.watchers * (a.sim_seconds // 6)
    per_agent_1s = a.watchers * a.sim_seconds
    med = statistics.median(x[1] for x in shared)
    print("DescribeTasks while watching %d stages for %d simulated s (speed x%d, each run polls every %d ms, "
          "the shared answer at most %d ms old), %d runs:" % (a.watchers, a.sim_seconds, a.speed, a.poll_ms,
                                                               a.max_age_ms, a.watch_runs))
    print("  shared (taskwatch.c, one state dir): median %d calls at the proxy (runs: %s; the driver counted %s)"
          % (med, [x[1] for x in shared], [x[0] for x in shared]))
    print("  unshared (each watcher its own state dir, same interval, speed x%d): %d calls at the proxy "
          "(%d if moto kept up with every poll)" % (a.unshared_speed, unshared[1],
                                                   a.watchers * (a.sim_seconds * 1000 // a.poll_ms)))
    print("  baseline, one waiter per task every 6 s: %d (%.0fx the shared count)" % (per_task_6s,
                                                                                     per_task_6s / max(med, 1)))
    print("  baseline, one call per second per agent: %d (%.0fx the shared count)" % (per_agent_1s,
                                                                                      per_agent_1s / max(med, 1)))
    print("  wall time of a shared run: %.1f s" % statistics.median(x[2]["wall_s"] for x in shared), flush=True)


def stage_part(fg, proxy, tmp, a):
    fg.launcher()
    res = {True: [], False: []}
    for i in range(a.runs):
        for mine in (True, False):
            res[mine].append(stage_once(fg, proxy, tmp, i * 2 + (0 if mine else 1), mine))
    print("one stage (20 TeamCity results in about 8 s) on moto %s, auth on, %d runs each, medians:" % (fg.moto.url, a.runs))
    print("%-44s %9s %12s %7s %16s" % ("", "wall (s)", "peak RSS MB", "calls", "end->exit (ms)"))
    for mine, label in ((True, "stagevisor run --backend fargate"),
                        (False, "aws ecs register/run-task/wait (CLI v1)")):
        r = res[mine]
        print("%-44s %9.2f %12.1f %7d %16.0f" % (label, statistics.median(x[0] for x in r),
                                                  statistics.median(x[1] for x in r) / 1024,
                                                  statistics.median(x[2] for x in r),
                                                  statistics.median(x[3] for x in r) * 1000))
        print("    per run: wall %s, end->exit ms %s" % ([round(x[0], 2) for x in r], [round(x[3] * 1000) for x in r]))
    for mine in (True, False):
        print("  calls (%s, last run): %s" % ("stagevisor" if mine else "aws CLI", " ".join(res[mine][-1][4])))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--watchers", type=int, default=50)
    ap.add_argument("--sim-seconds", type=int, default=300)
    ap.add_argument("--speed", type=int, default=10)
    ap.add_argument("--poll-ms", type=int, default=10000,
                    help="how often each run asks taskwatch (simulated ms; FARGATE_POLL_MS_DEFAULT)")
    ap.add_argument("--max-age-ms", type=int, default=10000,
                    help="the shared answer's allowed age (simulated ms; `run` passes its poll interval)")
    ap.add_argument("--watch-runs", type=int, default=3)
    ap.add_argument("--unshared-speed", type=int, default=4,
                    help="slower: unshared, every watcher calls moto itself, and moto must keep up")
    ap.add_argument("--part", choices=("all", "stage", "watch"), default="all")
    a = ap.parse_args()
    reason = fargatetest.skip_reason()
    if reason:
        raise SystemExit("fargate_bench: " + reason)
    tmp = tempfile.mkdtemp(prefix="sv-fargate-bench-")
    fg = fargatetest.Fargate(tmp)
    proxy = EcsStandIn(fg.moto.url)
    try:
        if a.part in ("all", "watch"):
            watch_part(fg, proxy, tmp, a)
        if a.part in ("all", "stage"):
            stage_part(fg, proxy, tmp, a)
    finally:
        proxy.close()
        fg.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
