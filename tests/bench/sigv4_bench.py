"""Benchmark of the SigV4 signer (issue 8): signatures per second of coordinator/aws/sigv4.c
(through the test-only sv_sigv4_tool, requests parsed first, only the signing timed) against
botocore's SigV4Auth / S3SigV4Auth.add_auth on the same requests, in the same run, plus a
baseline so the figures compare across machines: plain HMAC-SHA256 of a 200-byte message per
second in C (OpenSSL, the same library the signer uses). A SigV4 signature costs 5 HMACs and 2
SHA-256 plus the canonical request, so "signatures per 1000 HMACs" shows how close the signer
is to the cost of its cryptography.

    python3 tests/bench/sigv4_bench.py [--build DIR] [--runs 5] [--requests 1000] [--repeat 20]

The requests are the integration test's random requests (tests/integration/
test_aws_sigv4_botocore.py, fixed seed): a mix of services, S3, session tokens and bodies up
to a few hundred bytes. Medians of --runs runs; each run signs every request --repeat times.
Not a test: it asserts nothing about speed (every signature is checked against botocore's once
before timing, so a wrong signer cannot look fast).
"""
import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import test_aws_sigv4_botocore as sigtest  # noqa: E402

import botocore.auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402


def find_tool(build):
    for d in ([build] if build else []) + [os.environ.get("SV_BUILD", ""), os.path.join(HERE, "..", "..", "build")]:
        if not d:
            continue
        p = os.path.join(d, "tests", "integration", "sv_sigv4_tool")
        if os.access(p, os.X_OK):
            return p
    raise SystemExit("sv_sigv4_tool not found: build the project (cmake --build build) or pass --build DIR")


def c_rate(tool, lines, repeat):
    res = subprocess.run([tool, "--repeat", str(repeat)], input=lines.encode(), capture_output=True, check=True)
    d = json.loads(res.stdout)
    return d["signatures"] / d["seconds"]


def hmac_rate(tool, n):
    d = json.loads(subprocess.run([tool, "--hmac", str(n)], capture_output=True, check=True).stdout)
    return d["hmacs"] / d["seconds"]


def botocore_prepared(reqs):
    """(auth, AWSRequest) pairs built once; only add_auth is timed, as only sigv4_sign is in C."""
    out = []
    for req in reqs:
        creds = Credentials(req["access_key"], req["secret_key"], req["session_token"])
        cls = botocore.auth.S3SigV4Auth if req["s3"] else botocore.auth.SigV4Auth
        host = [v for k, v in req["headers"] if k.lower() == "host"][0]
        url = "https://" + host + req["path"] + ("?" + req["query"] if req["query"] else "")
        r = AWSRequest(method=req["method"], url=url, data=req["body"])
        for k, v in req["headers"]:
            r.headers[k] = v
        if req["unsigned_payload"]:
            r.context["client_config"] = sigtest._S3Config(False)
        out.append((cls(creds, req["service"], req["region"]), r))
    return out


def botocore_rate(prepared, repeat):
    t0 = time.perf_counter()
    for _ in range(repeat):
        for auth, r in prepared:
            auth.add_auth(r)
    return repeat * len(prepared) / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", help="build directory holding tests/integration/sv_sigv4_tool")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=20, help="passes over the requests per run (C)")
    ap.add_argument("--seed", type=int, default=sigtest.DEFAULT_SEED)
    a = ap.parse_args()
    tool = find_tool(a.build)

    rng = random.Random(a.seed)
    reqs = [sigtest.rand_request(rng) for _ in range(a.requests)]
    # Same time for every request so botocore's clock patch is set once.
    for r in reqs:
        r["when"] = 1700000000
    # Correctness first: the C signatures equal botocore's.
    os.environ["SV_SIGV4_TOOL"] = tool
    mine = sigtest.run_tool(reqs)
    bad = sum(1 for req, m in zip(reqs, mine)
              if {k.lower(): v for k, v in m.get("added", [])} != sigtest.botocore_sign(req)[0])
    if bad:
        raise SystemExit("%d signatures differ from botocore's: run the integration test" % bad)
    lines = "".join(sigtest.tool_line(r) + "\n" for r in reqs)
    prepared = botocore_prepared(reqs)
    boto_repeat = max(1, a.repeat // 10)

    c, b, h = [], [], []
    for i in range(a.runs):
        c.append(c_rate(tool, lines, a.repeat))
        b.append(botocore_rate(prepared, boto_repeat))
        h.append(hmac_rate(tool, 200000))
        print("run %d: C %.0f sig/s, botocore %.0f sig/s, HMAC-SHA256 %.0f/s" % (i + 1, c[-1], b[-1], h[-1]),
              file=sys.stderr, flush=True)
    mc, mb, mh = statistics.median(c), statistics.median(b), statistics.median(h)
    print("SigV4 signatures per second, medians of %d runs, %d requests (seed %d), same run:" %
          (a.runs, a.requests, a.seed))
    print("  %-34s %12.0f /s" % ("stagevisor sigv4_sign (C, OpenSSL)", mc))
    print("  %-34s %12.0f /s" % ("botocore %s add_auth" % botocore.__version__, mb))
    print("  %-34s %12.0f /s" % ("baseline: HMAC-SHA256 (C, 200 B)", mh))
    print("  ratio C / botocore:                %8.1fx" % (mc / mb))
    print("  C signatures per 1000 HMACs:       %8.1f   (a signature is 5 HMACs + 2 SHA-256)" % (1000 * mc / mh))
    print("  botocore signatures per 1000 HMACs:%8.1f" % (1000 * mb / mh))


if __name__ == "__main__":
    main()
