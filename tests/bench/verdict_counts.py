#!/usr/bin/env python3
"""verdict_counts.py — the JUnit file's counts next to PHPUnit's own (issue 7, part 1).

A measurement, not a test (the assertions are in tests/integration/test_coord_verdict.py and
test_demo.py): runs `stagevisor run --backend local` with the real agent and Debian's phpunit on
  - examples/site with examples/stages/tests.json as it is, and with success_exit_codes [0,1,2];
  - a generated suite (500 passed, 7 failed, 3 errors, 4 skipped) reported by --log-junit and
    by --teamcity on stdout, each with and without success_exit_codes;
and prints, per run, PHPUnit's counts (its own JUnit file for examples/site, its summary line
for the generated suite), the JUnit file's counts, the exit code, and any case of stagevisor's
own ("classname:name[:FAIL]").

    tests/bench/verdict_counts.py BUILD_DIR     (default: build)

TeamCity has no error status: PHPUnit's errors arrive there as failures.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import test_coord_verdict as tv  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
COORD, AGENT = BUILD + "/coordinator/stagevisor", BUILD + "/agents/stagevisor-agent"


def counts(path, first_suite=False):
    r = ET.parse(path).getroot()
    if first_suite:
        r = r.find("testsuite")
    return {k: int(r.get(k)) for k in ("tests", "failures", "errors", "skipped")}


def run(spec, cwd):
    j = os.path.join(cwd, "junit.xml")
    p = subprocess.run([COORD, "run", "--backend", "local", "--spec", spec, "--junit", j, "--agent", AGENT,
                        "--state-dir", os.path.join(cwd, "state")], cwd=cwd, capture_output=True, text=True)
    own = [c.get("classname") + ":" + c.get("name") + (":FAIL" if c.find("failure") is not None else "")
           for c in ET.parse(j).getroot().iter("testcase") if c.get("classname", "").startswith("stagevisor")]
    return p.returncode, counts(j), own, p.stdout


def show(label, theirs, rc, ours, own):
    print("%-40s PHPUnit %s | JUnit file %s | exit %d | stagevisor cases %s" % (label, theirs, ours, rc, own))


def main():
    tmps = []
    try:
        for codes in (None, [0, 1, 2]):
            tmp = tempfile.mkdtemp(prefix="sv-verdict-")
            tmps.append(tmp)
            shutil.copytree(os.path.join(ROOT, "examples"), os.path.join(tmp, "examples"),
                            ignore=shutil.ignore_patterns("build"))
            with open(os.path.join(tmp, "examples", "stages", "tests.json")) as f:
                spec = json.load(f)
            for p in spec["processes"]:
                if p["name"] == "phpunit" and codes:
                    p["success_exit_codes"] = codes
            path = os.path.join(tmp, "spec.json")
            with open(path, "w") as f:
                json.dump(spec, f)
            rc, ours, own, _ = run(path, tmp)
            theirs = counts(os.path.join(tmp, "examples", "site", "build", "reports", "phpunit.xml"), True)
            show("examples/site" + (" (codes 0,1,2)" if codes else ""), theirs, rc, ours, own)
        for fmt in ("junit", "teamcity"):
            for codes in (None, [0, 1, 2]):
                tmp = tempfile.mkdtemp(prefix="sv-verdict-")
                tmps.append(tmp)
                site = tv.suite(tmp, passed=500, failed=7, errors=3, skipped=4)
                if fmt == "junit":
                    cmd = ["phpunit", "--do-not-cache-result", "--log-junit", "out.xml", "tests"]
                    res = [{"format": "junit", "path": "out.xml"}]
                else:
                    cmd = ["phpunit", "--do-not-cache-result", "--teamcity", "tests"]
                    res = [{"format": "teamcity", "stream": "stdout"}]
                proc = {"name": "phpunit", "cwd": site, "command": cmd, "results": res}
                if codes:
                    proc["success_exit_codes"] = codes
                path = os.path.join(tmp, "spec.json")
                with open(path, "w") as f:
                    json.dump({"version": 1, "stage": "gen", "processes": [proc]}, f)
                rc, ours, own, out = run(path, tmp)
                show("generated 514, %s%s" % (fmt, " (codes 0,1,2)" if codes else ""), tv.own_summary(out), rc,
                     ours, own)
    finally:
        for t in tmps:
            shutil.rmtree(t, ignore_errors=True)


if __name__ == "__main__":
    main()
