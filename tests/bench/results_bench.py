"""Benchmark of the result parsers (issue 3): a 200 MB JUnit file (about 1.3 million test
cases, one in ten failing) and a 50 MB checkstyle file, parsed into JSON lines, side by side
in the same run with (a) Python's ElementTree.iterparse writing the same JSON lines and
(b) `xmllint --stream --noout` (libxml2's streaming parser, parsing only: the ceiling).
Medians of 3 runs of wall time and peak RSS (GNU time), MB/s, and the ratios. Goals: at
least 5x Python's speed, within 2x of xmllint's time, peak RSS under 8 MB.

    python3 tests/bench/results_bench.py [--build DIR] [--runs N] [--junit-mb 200] [--checkstyle-mb 50]

The parse command is $SV_AGENT parse when the agent answers `parse --help`, else the
stand-alone sv-parse from the build directory (--build, default build/ or $SV_BUILD).
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import rstest  # noqa: E402

MB = 1024 * 1024


def measure(argv, runs):
    """Medians of wall time, CPU time (user+sys: steadier on a shared machine) and peak RSS."""
    times, cpus, rss = [], [], []
    for _ in range(runs):
        status, wall, cpu, peak = rstest.run_timed(argv)
        if status != 0:
            raise SystemExit("%s exited %d" % (argv, status))
        times.append(wall)
        cpus.append(cpu)
        rss.append(peak)
    return statistics.median(times), statistics.median(cpus), statistics.median(rss)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.environ.get("SV_BUILD") or os.path.join(HERE, "..", "..", "build"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--junit-mb", type=int, default=200)
    ap.add_argument("--checkstyle-mb", type=int, default=50)
    args = ap.parse_args()
    rstest.BUILD = os.path.abspath(args.build)
    parse = rstest.parse_cmd()
    tmp = tempfile.mkdtemp(prefix="sv-results-bench-")
    try:
        junit = os.path.join(tmp, "junit.xml")
        cases, failures = rstest.gen_junit(junit, args.junit_mb * MB)
        cs = os.path.join(tmp, "checkstyle.xml")
        findings = rstest.gen_checkstyle(cs, args.checkstyle_mb * MB)
        print("parse command: %s" % " ".join(parse))
        print("junit: %.0f MB, %d cases, %d failing; checkstyle: %.0f MB, %d errors; medians of %d runs\n"
              % (os.path.getsize(junit) / MB, cases, failures, os.path.getsize(cs) / MB, findings, args.runs))
        # The JSON lines of both are checked once: same number of events.
        for fmt, path, n in (("junit", junit, cases), ("checkstyle", cs, findings)):
            ours = subprocess.run(parse + [fmt, path], capture_output=True).stdout.count(b"\n")
            py = subprocess.run([sys.executable, os.path.join(HERE, "results_iterparse.py"), fmt, path],
                                capture_output=True).stdout.count(b"\n")
            if ours != n or py != n:
                raise SystemExit("%s: %d events from parse, %d from Python, %d expected" % (fmt, ours, py, n))
        print("%-11s %-18s %8s %8s %8s %10s" % ("file", "parser", "wall s", "CPU s", "MB/s", "peak RSS"))
        ok = True
        for fmt, path in (("junit", junit), ("checkstyle", cs)):
            size = os.path.getsize(path) / MB
            rows = {
                "stagevisor parse": measure(parse + [fmt, path], args.runs),
                "python iterparse": measure([sys.executable, os.path.join(HERE, "results_iterparse.py"), fmt, path],
                                            args.runs),
                "xmllint --stream": measure(["xmllint", "--stream", "--noout", path], args.runs),
            }
            for name, (t, cpu, rss) in rows.items():
                print("%-11s %-18s %8.2f %8.2f %8.1f %7.1f MB" % (fmt, name, t, cpu, size / t, rss / 1024))
            t, cpu, rss = rows["stagevisor parse"]
            vs_py = rows["python iterparse"][0] / t
            vs_xl = t / rows["xmllint --stream"][0]
            print("%-11s ratios (wall): %.1fx Python's speed (goal >= 5), %.2fx xmllint's time (goal <= 2); "
                  "(CPU): %.1fx, %.2fx; RSS %.1f MB (goal < 8)\n"
                  % (fmt, vs_py, vs_xl, rows["python iterparse"][1] / cpu, cpu / rows["xmllint --stream"][1],
                     rss / 1024))
            ok = ok and vs_py >= 5 and vs_xl <= 2 and rss < 8 * 1024
        print("goals met" if ok else "goals NOT all met")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
