#!/usr/bin/env python3
"""fargate_launcher — plays Fargate's part for tests (and the demo's AWS path) against a moto
server: for every task that moto accepted, it starts the real stagevisor-agent on this machine
with that task's container overrides (as PID 1 of its own PID namespace where allowed), copies
the agent's stdout into moto's CloudWatch Logs under the stream name the task definition's
awslogs options give (PREFIX/CONTAINER/TASK_ID), and stops the task in moto when the agent
exits. A StopTask by someone else (the coordinator, teardown) is passed to the agent as ECS
does: SIGTERM, then SIGKILL after the container's stopTimeout.

What it does not do: anything moto cannot express (a container's exit code, a stop code); the
tests that need those use a stand-in, named as such.

    fargate_launcher.py --endpoint URL --region R --cluster C --agent PATH
                        [--block-stream] [--ready-file F] [--max-seconds S]

Credentials come from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY). With
--block-stream the agent gets a STAGEVISOR_URL that nobody answers (a closed loopback port),
so its results reach the coordinator only through CloudWatch Logs. It prints one line per
event ("launcher: started TASK_ID pid N", "launcher: exited TASK_ID code N") on stdout.
"""
import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import boto3

CLOSED_URL_HOST = "127.0.0.1"


def closed_port():
    """A loopback port with nothing listening (bound, then closed)."""
    s = socket.socket()
    s.bind((CLOSED_URL_HOST, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def can_unshare():
    try:
        return subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", "true"],
                              capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


class Task:
    def __init__(self, launcher, arn, desc, taskdef):
        self.launcher = launcher
        self.arn = arn
        self.id = arn.rsplit("/", 1)[-1]
        container = taskdef["containerDefinitions"][0]
        self.container = container["name"]
        opts = (container.get("logConfiguration") or {}).get("options") or {}
        self.group = opts.get("awslogs-group")
        self.stream = "%s/%s/%s" % (opts.get("awslogs-stream-prefix", "ecs"), self.container, self.id)
        self.stop_timeout = int(container.get("stopTimeout") or 30)
        env = dict(os.environ)
        for k in list(env):
            if k.startswith("STAGEVISOR_") or k.startswith("AWS_"):
                del env[k]
        for o in (desc.get("overrides") or {}).get("containerOverrides", []):
            if o.get("name") == self.container:
                for e in o.get("environment", []):
                    env[e["name"]] = e["value"]
        if launcher.args.block_stream:
            env["STAGEVISOR_URL"] = "https://%s:%d/" % (CLOSED_URL_HOST, closed_port())
        self.env = env
        self.proc = None
        self.stopping = False
        self.pending = []
        self.lock = threading.Lock()

    def start(self):
        argv = [self.launcher.args.agent]
        if self.launcher.pidns:
            argv = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child"] + argv
        self.proc = subprocess.Popen(argv, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        if self.group:
            logs = self.launcher.logs
            try:
                logs.create_log_group(logGroupName=self.group)
            except logs.exceptions.ResourceAlreadyExistsException:
                pass
            logs.create_log_stream(logGroupName=self.group, logStreamName=self.stream)
        threading.Thread(target=self.pump, daemon=True).start()
        self.launcher.say("started %s pid %d" % (self.id, self.proc.pid))

    def pump(self):
        """Copies the agent's output to CloudWatch Logs in batches, as the awslogs driver does."""
        last = time.monotonic()
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self.lock:
                self.pending.append(line)
            if len(self.pending) >= 500 or time.monotonic() - last > 0.2:
                self.flush()
                last = time.monotonic()
        self.flush()
        code = self.proc.wait()
        self.launcher.say("exited %s code %d" % (self.id, code))
        try:
            # A task someone stopped keeps their stoppedReason (ECS does not overwrite it;
            # moto would).
            desc = self.launcher.ecs.describe_tasks(cluster=self.launcher.args.cluster, tasks=[self.arn])["tasks"]
            if not desc or desc[0].get("desiredStatus") != "STOPPED":
                self.launcher.ecs.stop_task(cluster=self.launcher.args.cluster, task=self.arn,
                                            reason="Essential container in task exited")
        except Exception as e:  # the task may have been stopped by the coordinator already
            self.launcher.say("stop_task %s: %s" % (self.id, e))
        self.launcher.done(self)

    def flush(self):
        with self.lock:
            lines, self.pending = self.pending, []
        if not lines or not self.group:
            return
        now = int(time.time() * 1000)
        for i in range(0, len(lines), 1000):
            events = [{"timestamp": now, "message": ln if ln else " "} for ln in lines[i:i + 1000]]
            self.launcher.logs.put_log_events(logGroupName=self.group, logStreamName=self.stream,
                                              logEvents=events)

    def stop(self):
        """ECS's StopTask: the stop signal, then SIGKILL after stopTimeout."""
        if self.stopping or not self.proc or self.proc.poll() is not None:
            return
        self.stopping = True
        self.launcher.say("stopping %s" % self.id)
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return

        def kill_later():
            deadline = time.monotonic() + self.stop_timeout
            while time.monotonic() < deadline and self.proc.poll() is None:
                time.sleep(0.1)
            if self.proc.poll() is None:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        threading.Thread(target=kill_later, daemon=True).start()


class Launcher:
    def __init__(self, args):
        self.args = args
        kw = dict(endpoint_url=args.endpoint, region_name=args.region)
        self.ecs = boto3.client("ecs", **kw)
        self.logs = boto3.client("logs", **kw)
        self.tasks = {}
        self.finished = set()
        self.pidns = not args.no_pidns and can_unshare()
        self.out_lock = threading.Lock()

    def say(self, text):
        with self.out_lock:
            print("launcher: " + text, flush=True)

    def done(self, task):
        self.finished.add(task.arn)

    def poll(self):
        arns = self.ecs.list_tasks(cluster=self.args.cluster, desiredStatus="RUNNING").get("taskArns", [])
        new = [a for a in arns if a not in self.tasks and a not in self.finished]
        for i in range(0, len(new), 100):
            for desc in self.ecs.describe_tasks(cluster=self.args.cluster, tasks=new[i:i + 100])["tasks"]:
                td = self.ecs.describe_task_definition(taskDefinition=desc["taskDefinitionArn"])["taskDefinition"]
                t = Task(self, desc["taskArn"], desc, td)
                self.tasks[t.arn] = t
                t.start()
        running = [a for a, t in self.tasks.items() if a not in self.finished and not t.stopping]
        for i in range(0, len(running), 100):
            for desc in self.ecs.describe_tasks(cluster=self.args.cluster, tasks=running[i:i + 100])["tasks"]:
                if desc.get("desiredStatus") == "STOPPED" or desc.get("lastStatus") == "STOPPED":
                    self.tasks[desc["taskArn"]].stop()

    def run(self):
        if self.args.ready_file:
            with open(self.args.ready_file, "w") as f:
                f.write("ready pidns=%s\n" % self.pidns)
        self.say("watching cluster %s (pid namespace: %s)" % (self.args.cluster, self.pidns))
        deadline = time.monotonic() + self.args.max_seconds
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *a: stop.set())
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                self.poll()
            except Exception as e:  # moto restarting, a test tearing down: keep watching
                self.say("poll: %s" % e)
            stop.wait(0.2)
        for t in self.tasks.values():
            if t.proc and t.proc.poll() is None:
                try:
                    os.killpg(t.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--region", default="eu-west-1")
    ap.add_argument("--cluster", required=True)
    ap.add_argument("--agent", required=True)
    ap.add_argument("--block-stream", action="store_true",
                    help="give agents a STAGEVISOR_URL nobody answers (CloudWatch fallback only)")
    ap.add_argument("--no-pidns", action="store_true")
    ap.add_argument("--ready-file")
    ap.add_argument("--max-seconds", type=float, default=1800,
                    help="stop watching after this long (a bound for tests)")
    Launcher(ap.parse_args()).run()


if __name__ == "__main__":
    sys.exit(main())
