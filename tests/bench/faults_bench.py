#!/usr/bin/env python3
"""faults_bench — how much of a stream the agent delivers over HTTPS through a faulty path
within its stop budget, and how long the stage takes (issue 7, part 6: a performance figure,
no longer asserted by integration.coord_faults).

A benchmark, not a test: medians of RUNS runs of the stage that test_coord_faults uses
(20,000 log lines and 2,000 TeamCity results, 5 failing, printed at once; stop budget 30 s),
run by `stagevisor run --backend local` with the real agent:

  baseline  no proxy: the agent talks to the coordinator directly (what the machine does
            without faults; compare the others to it across machines)
  cut       a proxy that resets every connection after a random 2-8 KB
  stall     a proxy that stops forwarding after 2-8 KB for 1.5 s, then resets

For each: the share of the agent's events acknowledged over HTTPS (the rest of the results
come from the fallback lines; log lines that did not make it are counted missing), the stage's
wall time, connections and faults. Every run must still be right (exit 1, stream complete,
2,000 results): a wrong run is reported and counted, not hidden.

    tests/bench/faults_bench.py [--build DIR] [--runs N] [--modes baseline,cut,stall]

--build: a build tree with coordinator/stagevisor and agents/stagevisor-agent (default
build-bench, configured Release and built when the binaries are missing).
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))


def build(d):
    coord = os.path.join(d, "coordinator", "stagevisor")
    agent = os.path.join(d, "agents", "stagevisor-agent")
    if not (os.access(coord, os.X_OK) and os.access(agent, os.X_OK)):
        subprocess.run(["cmake", "-S", ROOT, "-B", d, "-DCMAKE_BUILD_TYPE=Release"], check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run(["cmake", "--build", d, "-j2", "--target", "stagevisor", "stagevisor-agent",
                        "stagevisor-agent-uplink"], check=True, stdout=subprocess.DEVNULL)
    return coord, agent


def one(mode, agent):
    """One run: {"ok", "share", "time", "conns", "faults", "missing_logs", "why"}."""
    import coordtest as ct
    import test_coord_faults as tf
    with tempfile.TemporaryDirectory(prefix="sv-bench-faults-") as tmp:
        port = ct.free_port()
        proxy = None
        if mode != "baseline":
            proxy = ct.FaultProxy(port, mode=mode, stall=1.5)
            extra = ["--listen", "127.0.0.1:%d" % port, "--advertise", "https://127.0.0.1:%d/" % proxy.port]
        else:
            extra = ["--listen", "127.0.0.1:%d" % port]
        t0 = time.monotonic()
        try:
            r = ct.Run(tmp, ct.real_spec(tmp, tf.TESTS, tf.LOGS, failed=5), agent=agent, extra=extra)
            rc = r.wait(600)
        finally:
            if proxy:
                proxy.close()
        took = time.monotonic() - t0
        s = r.summary()
        u = tf.uplink_summary(r.out)
        if u:
            share = u["acked"] / u["events"]
        else:  # no failure at all: the agent prints no summary line; everything was acknowledged
            share = 1.0 if s.get("missing_logs") == 0 and s.get("complete") else 0.0
        why = []
        if rc != 1:
            why.append("exit %s" % rc)
        if not s.get("complete"):
            why.append("incomplete: %s" % s.get("problems"))
        if s.get("tests") != {"passed": tf.TESTS - 5, "failed": 5, "error": 0, "skipped": 0}:
            why.append("tests %s" % s.get("tests"))
        return {"ok": not why, "why": "; ".join(why), "share": share, "time": took,
                "conns": proxy.conns if proxy else (u or {}).get("connections", 1),
                "faults": proxy.cuts if proxy else 0, "missing_logs": s.get("missing_logs")}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build-bench"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--modes", default="baseline,cut,stall")
    a = ap.parse_args()
    coord, agent = build(os.path.abspath(a.build))
    os.environ["SV_COORD"] = coord
    os.environ["SV_AGENT"] = agent
    os.environ.setdefault("SV_SRC", ROOT)
    modes = [m for m in a.modes.split(",") if m]
    res = {m: [] for m in modes}
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    print("faults_bench: %d runs, build %s, %d CPUs, load %.2f at start" % (a.runs, a.build, os.cpu_count(), load))
    for i in range(a.runs):
        for m in modes:  # interleaved, so a change in the machine's load hits every mode alike
            x = one(m, agent)
            res[m].append(x)
            print("  run %d %-8s %5.1f%% over HTTPS  %6.1f s  %5d connections  %5d faults  %5s log lines missing%s"
                  % (i + 1, m, 100 * x["share"], x["time"], x["conns"], x["faults"], x["missing_logs"],
                     "" if x["ok"] else "  WRONG: " + x["why"]), flush=True)
    base = statistics.median(x["time"] for x in res["baseline"]) if res.get("baseline") else None
    print("\nmedians over %d runs:" % a.runs)
    print("  %-8s %12s %9s %12s %s" % ("mode", "over HTTPS", "time", "vs baseline", "wrong runs"))
    for m in modes:
        t = statistics.median(x["time"] for x in res[m])
        share = statistics.median(x["share"] for x in res[m])
        wrong = sum(1 for x in res[m] if not x["ok"])
        print("  %-8s %11.1f%% %8.1fs %12s %d" % (m, 100 * share, t, "%.2fx" % (t / base) if base else "-", wrong))
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    print("load %.2f at the end" % load)
    return 1 if any(not x["ok"] for v in res.values() for x in v) else 0


if __name__ == "__main__":
    sys.exit(main())
