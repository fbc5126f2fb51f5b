"""Benchmark of issue 8 (not a test): one `stagevisor aws ecs ListClusters` against one
`aws ecs list-clusters` (AWS CLI v1) on the same moto server (request authentication on, the same
IAM user's keys, the same 5 clusters), alternating, each run under /usr/bin/time -f: wall time
and peak RSS, medians over --runs. Both outputs are checked to be the same JSON first.

  tests/bench/aws_bench.sh [--runs N] [--stagevisor PATH]

The stagevisor binary: --stagevisor, $SV_COORD, else the first build*/coordinator/stagevisor
(use a non-sanitizer build). Everything runs on 127.0.0.1; IMDS is disabled.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import awsfake  # noqa: E402


def timed(cmd, env):
    """(wall seconds, peak RSS kB, stdout) of one run under /usr/bin/time."""
    fd, path = tempfile.mkstemp(prefix="sv-aws-bench-")
    os.close(fd)
    try:
        p = subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", path] + cmd, env=env, capture_output=True, text=True,
                           timeout=300)
        if p.returncode != 0:
            raise SystemExit("%s failed (%d): %s" % (cmd[0], p.returncode, p.stderr))
        with open(path) as f:
            wall, rss = f.read().split()[-2:]
        return float(wall), int(rss), p.stdout
    finally:
        os.unlink(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--stagevisor", default=None)
    a = ap.parse_args()
    if a.stagevisor:
        os.environ["SV_COORD"] = a.stagevisor
    reason = awsfake.moto_or_skip_reason()
    if reason:
        raise SystemExit("aws_bench: " + reason)
    if not os.access("/usr/bin/time", os.X_OK):
        raise SystemExit("aws_bench: /usr/bin/time is missing (Debian package `time`)")
    sv = awsfake.coord_path()
    tmp = tempfile.mkdtemp(prefix="sv-aws-bench-")
    moto = awsfake.Moto(tmp)
    try:
        ecs = moto.client("ecs")
        for i in range(5):
            ecs.create_cluster(clusterName="bench-%d" % i)
        env = awsfake.base_env(tmp)
        env.pop("STAGEVISOR_AWS_BACKOFF_SCALE")
        env.update(AWS_ACCESS_KEY_ID=moto.access_key, AWS_SECRET_ACCESS_KEY=moto.secret_key)
        mine = [sv, "aws", "ecs", "ListClusters", "--endpoint-url", moto.url]
        cli = ["aws", "--endpoint-url", moto.url, "ecs", "list-clusters"]
        _, _, o1 = timed(mine, env)
        _, _, o2 = timed(cli, env)
        if json.loads(o1) != json.loads(o2):
            raise SystemExit("aws_bench: the answers differ:\n%s\n%s" % (o1, o2))
        res = {"stagevisor": [], "aws": []}
        for _ in range(a.runs):
            res["stagevisor"].append(timed(mine, env)[:2])
            res["aws"].append(timed(cli, env)[:2])
        print("ecs ListClusters on moto %s (auth on, 5 clusters), %d runs each, medians:" % (moto.url, a.runs))
        print("%-34s %10s %14s" % ("", "wall (s)", "peak RSS (MB)"))
        med = {}
        for k, label in (("stagevisor", "stagevisor aws ecs ListClusters"), ("aws", "aws ecs list-clusters (CLI v1)")):
            w = statistics.median(x[0] for x in res[k])
            m = statistics.median(x[1] for x in res[k]) / 1024
            med[k] = (w, m)
            print("%-34s %10.3f %14.1f" % (label, w, m))
        print("ratio aws/stagevisor: wall %.1fx, RSS %.1fx" % (med["aws"][0] / max(med["stagevisor"][0], 0.001),
                                                             med["aws"][1] / med["stagevisor"][1]))
    finally:
        moto.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
