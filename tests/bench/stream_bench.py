#!/usr/bin/env python3
"""stream_bench — events per second from one real agent to the real coordinator over TLS on
loopback (issue 4's throughput goal: at least 200,000 per second).

A benchmark, not a test: medians of RUNS runs. Each run is `stagevisor run --backend local` of a
stage whose one job prints EVENTS lines as fast as it can (each line becomes a `log` event on the
stream); the run ends when the coordinator has stored the `end` event. The same stage run by the
agent alone (no stream: lines are only prefixed and written) is the baseline that shows what the
generator and the agent cost without the stream.

    tests/bench/stream_bench.py [--build DIR] [--events N] [--runs N]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build-bench"))
    ap.add_argument("--events", type=int, default=500000)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    subprocess.run([os.path.join(ROOT, "scripts", "install-deps")], check=True)
    subprocess.run(["cmake", "-S", ROOT, "-B", a.build, "-DCMAKE_BUILD_TYPE=Release"],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", a.build, "-j2", "--target", "stagevisor", "stagevisor-agent"],
                   check=True, stdout=subprocess.DEVNULL)
    coord = os.path.join(a.build, "coordinator", "stagevisor")
    agent = os.path.join(a.build, "agents", "stagevisor-agent")

    gen = ("import sys\nw = sys.stdout.write\n"
           "for i in range(%d):\n"
           "    w('line %%07d of the benchmark stream, about as long as a test log line\\n' %% i)\n"
           % a.events)
    spec = {"version": 1, "stage": "bench", "mode": "job", "stop_timeout": 60,
            "processes": [{"name": "gen", "command": [sys.executable, "-c", gen]}]}
    alone, streamed, stored = [], [], []
    with tempfile.TemporaryDirectory(prefix="sv-bench-stream-") as tmp:
        path = os.path.join(tmp, "spec.json")
        with open(path, "w") as f:
            json.dump(spec, f)
        for i in range(a.runs):
            t = time.monotonic()
            subprocess.run([agent, "--spec", path], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            alone.append(time.monotonic() - t)
            summary = os.path.join(tmp, "summary-%d.json" % i)
            t = time.monotonic()
            r = subprocess.run([coord, "run", "--backend", "local", "--spec", path, "--json", summary,
                                "--agent", agent, "--state-dir", os.path.join(tmp, "state")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            streamed.append(time.monotonic() - t)
            if r.returncode != 0:
                sys.exit("stagevisor run exited %d" % r.returncode)
            with open(summary) as f:
                stored.append(json.load(f))
    last = stored[-1]
    print("one agent -> coordinator over TLS on loopback, %d log events per run, medians of %d runs"
          % (a.events, a.runs))
    print("  agent alone (no stream)      %.2f s" % statistics.median(alone))
    print("  agent + stream + coordinator %.2f s" % statistics.median(streamed))
    print("  events/s over the stream: %.0f (goal >= 200,000); stream time / agent-alone time: %.2f"
          % (a.events / statistics.median(streamed), statistics.median(streamed) / statistics.median(alone)))
    print("  last run's summary: %s" % json.dumps({k: last[k] for k in last if k in ("stream", "result", "exit_code", "events", "totals", "complete")})[:400])


if __name__ == "__main__":
    main()
