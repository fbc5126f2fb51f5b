"""`stagevisor run --backend local` end to end with a scripted agent (coord_fake_agent.py).

Covers what the coordinator decides on its own: the environment handed to the agent (URL,
token, pin, stream, inline spec), the JUnit file as the Jenkins junit plugin reads it, the JSON
summary, the console (plain lines, no control characters, a line per failed test), the exit
codes (0, 1, 2, 3, 128+n), stream completeness (end missing, totals mismatch, crash), the
fallback lines as a second channel, 503/429 phases, SIGTERM during a run, and the time limit.
The same flows with the real stagevisor-agent are in test_coord_e2e.py.
"""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from coordtest import (Run, Tests, all_cases, check, coord, fake_spec, no_control_chars, read_junit, run,  # noqa: E402
                       slack, wait_until, xmllint_ok)


def test_passing_stage(tmp):
    spec = fake_spec(tmp)
    info = os.path.join(tmp, "env.json")
    stats = os.path.join(tmp, "uplink.json")
    r = run(tmp, spec, plan={"tests": 30, "logs": 100, "info": info, "stats": stats, "no_fallback": True})
    check(r.rc == 0, "exit %s\n%s%s" % (r.rc, r.out, r.err))
    env = json.load(open(info))
    check(env["STAGEVISOR_URL"].startswith("https://127.0.0.1:") and env["STAGEVISOR_URL"].endswith("/"),
          "URL %s" % env["STAGEVISOR_URL"])
    check(env["STAGEVISOR_TOKEN"].startswith("svt1.") and len(env["STAGEVISOR_TOKEN"]) == 69, "token format")
    check(len(env["STAGEVISOR_PIN"]) == 64, "pin %s" % env["STAGEVISOR_PIN"])
    check(json.loads(env["STAGEVISOR_SPEC"]) == json.load(open(spec)), "the spec is passed inline, unchanged")
    check(env["STAGEVISOR_TOKEN"] not in r.out + r.err, "the token was printed")
    # Everything came over HTTPS (no fallback lines in this plan) with the pinned certificate.
    check(json.load(open(stats)).get("200", 0) >= 1, "no batch was accepted")
    j = read_junit(r.junit)
    check(xmllint_ok(r.junit), "xmllint rejects the JUnit file")
    tests = [c for c in all_cases(j) if c["classname"].startswith("Suite")]
    check(len(tests) == 30 and all(c["status"] == "passed" for c in tests), "tests %s" % tests[:3])
    check("stagevisor" not in j["suites"], "a stagevisor suite without a problem: %s" % j["suites"].get("stagevisor"))
    check(len(all_cases(j)) == 30, "only the tools' cases: %d" % len(all_cases(j)))
    s = r.summary()
    check(s["result"] == "passed" and s["exit_code"] == 0 and s["complete"] and s["tests"]["passed"] == 30,
          "summary %s" % s)
    check(s["logs"] == 100 and s["from_fallback"] == 0, "summary %s" % s)
    events = [json.loads(l) for l in open(s["events_file"])]
    check(sorted(e["seq"] for e in events) == list(range(1, len(events) + 1)), "events file has gaps or dups")
    check("result     passed (exit 0)" in r.out, "summary table:\n%s" % r.out)


def test_failing_tests_console_and_junit(tmp):
    r = run(tmp, fake_spec(tmp), plan={"tests": 12, "failed": 3, "skipped": 2, "logs": 40, "findings": 6})
    check(r.rc == 1, "exit %s\n%s%s" % (r.rc, r.out, r.err))
    check(no_control_chars(r.out), "control characters in the non-tty console output")
    failed_lines = [l for l in r.out.splitlines() if " FAILED " in l]
    check(len(failed_lines) == 3, "FAILED lines: %s" % failed_lines)
    check(failed_lines[0].startswith("[") and "expected 1 <got> 2" in failed_lines[0], failed_lines[0])
    j = read_junit(r.junit)
    cases = all_cases(j)
    tests = [c for c in cases if c["classname"].startswith("Suite")]
    check(sorted(c["status"] for c in tests).count("failure") == 3, "failures")
    check([c["status"] for c in tests].count("skipped") == 2, "skipped")
    f = [c for c in tests if c["status"] == "failure"][0]
    check(f["message"] == 'expected 1 <got> 2 & "quoted"', "message round trip: %r" % f["message"])
    check(f["text"] == "trace line 1\ntrace line 2", "details %r" % f["text"])
    # Findings: one suite per tool, cases named by fingerprint; error/warning fail, info passes.
    check(set(j["suites"]) >= {"phpcs", "phpmd"}, "suites %s" % list(j["suites"]))
    findings = j["suites"]["phpcs"] + j["suites"]["phpmd"]
    check(len(findings) == 6, "findings %d" % len(findings))
    check(all(len(c["name"]) == 16 for c in findings), "named by fingerprint")
    check(sum(c["status"] == "failure" for c in findings) == 4, "error+warning fail")
    s = r.summary()
    check(s["findings"] == {"error": 2, "warning": 2, "info": 2}, "summary %s" % s["findings"])


def test_fallback_lines_rebuild_the_stream(tmp):
    """Nothing over HTTPS: the stream is rebuilt from the agent's stdout, logs excepted."""
    r = run(tmp, fake_spec(tmp), plan={"tests": 25, "failed": 1, "logs": 30, "no_https": True})
    check(r.rc == 1, "exit %s\n%s%s" % (r.rc, r.out, r.err))
    s = r.summary()
    check(s["complete"] and s["tests"]["passed"] == 24 and s["tests"]["failed"] == 1, "summary %s" % s)
    check(s["from_fallback"] == s["events"] and s["logs"] == 0, "all from fallback: %s" % s)
    check(len([c for c in all_cases(read_junit(r.junit)) if c["classname"].startswith("Suite")]) == 25, "cases")


def test_both_channels_merge_exactly_once(tmp):
    r = run(tmp, fake_spec(tmp), plan={"tests": 200, "logs": 300})
    check(r.rc == 0, "exit %s\n%s" % (r.rc, r.err))
    s = r.summary()
    names = [c["name"] for c in all_cases(read_junit(r.junit)) if c["classname"].startswith("Suite")]
    check(len(names) == 200 and len(set(names)) == 200, "each test exactly once: %d/%d" % (len(names), len(set(names))))
    check(s["complete"], "summary %s" % s)


def test_agent_crash_is_infrastructure(tmp):
    r = run(tmp, fake_spec(tmp), plan={"tests": 50, "crash_after": 20})
    check(r.rc == 3, "exit %s\n%s%s" % (r.rc, r.out, r.err))
    j = read_junit(r.junit)
    infra = {c["name"]: c for c in j["suites"]["stagevisor"]}
    check(infra["agent"]["status"] == "failure" and "killed by signal 11" in infra["agent"]["message"], "agent case %s" % infra)
    check(infra["stream"]["status"] == "failure" and "end event never arrived" in infra["stream"]["message"],
          "stream case %s" % infra)
    check(r.summary()["result"] == "infrastructure-error", "summary")


def test_missing_end_and_bad_totals(tmp):
    r = run(tmp, fake_spec(tmp), plan={"tests": 5, "skip_end": True})
    check(r.rc == 3, "no end: exit %s" % r.rc)
    os.makedirs(os.path.join(tmp, "b"))
    r = run(os.path.join(tmp, "b"), fake_spec(tmp), plan={"tests": 5, "bad_totals": True})
    check(r.rc == 3, "bad totals: exit %s" % r.rc)
    msg = {c["name"]: c for c in read_junit(r.junit)["suites"]["stagevisor"]}["stream"]["message"]
    check("totals differ" in msg, msg)


def test_agent_not_found(tmp):
    r = run(tmp, fake_spec(tmp), agent=os.path.join(tmp, "no-such-agent"))
    check(r.rc == 3, "exit %s" % r.rc)
    cases = {c["name"]: c for c in read_junit(r.junit)["suites"]["stagevisor"]}
    check("could not be started" in cases["agent"]["message"], cases)


def test_usage_errors(tmp):
    c = coord()
    for argv, code in ([[], 2], [["--help"], 0], [["--version"], 0], [["run", "--help"], 0], [["run"], 2],
                       [["run", "--spec", "/nonexistent.json"], 2], [["run", "--backend", "fargate", "--spec", "x"], 2],
                       [["run", "--spec", fake_spec(tmp), "--listen", "nonsense"], 2],
                       [["teardown"], 2], [["cleanup"], 2], [["hooks"], 2], [["aws"], 2], [["frobnicate"], 2],
                       [["playground"], 2], [["playground", "up"], 2], [["playground", "--help"], 0]):
        p = subprocess.run([c] + argv, capture_output=True, text=True, timeout=30)
        check(p.returncode == code, "%s: exit %s, want %s: %s" % (argv, p.returncode, code, p.stderr))
    p = subprocess.run([c, "--help"], capture_output=True, text=True)
    check("not yet available" in p.stdout and "cleanup" in p.stdout.split("not yet available")[1], p.stdout)
    check("teardown" in p.stdout.split("not yet available")[0], p.stdout)  # built: test_fargate_playground.py


def test_unavailable_commands_say_so(tmp):
    for cmd in ("cleanup",):  # aws: test_aws_*.py; hooks: test_hooks.py; teardown: test_fargate_playground.py
        p = subprocess.run([coord(), cmd], capture_output=True, text=True)
        check("not yet available" in p.stderr, "%s: %s" % (cmd, p.stderr))


def test_coordinator_503_429_phases(tmp):
    stats = os.path.join(tmp, "uplink.json")
    r = run(tmp, fake_spec(tmp), plan={"tests": 100, "logs": 100, "no_fallback": True, "batch": 20, "stats": stats},
            env={"STAGEVISOR_TEST_FAULTS": "503x6,429x4"})
    check(r.rc == 0, "exit %s\n%s" % (r.rc, r.err))
    st = json.load(open(stats))
    check(st.get("503") == 6 and st.get("429") == 4, "statuses the agent saw %s" % st)
    check(r.summary()["complete"], "complete")


def test_sigterm_stops_the_stage_and_writes_reports(tmp):
    r = Run(tmp, fake_spec(tmp), plan={"tests": 10, "failed": 1, "hold": True})
    wait_until(lambda: "FAILED" in r.output(), slack(20), "the failed test to show")
    r.proc.send_signal(signal.SIGTERM)
    rc = r.wait(60)
    check(rc == 128 + signal.SIGTERM, "exit %s\n%s%s" % (rc, r.out, r.err))
    check("stopping the stage (terminated)" in r.out, r.out)
    s = r.summary()
    check(s["result"] == "interrupted" and s["complete"], "summary %s" % s)
    check(len(all_cases(read_junit(r.junit))) >= 10, "JUnit written")


def test_cancel_reaches_agent_over_https(tmp):
    """SIGINT: the agent learns it from the `cancel` control flag as well as from SIGTERM."""
    r = Run(tmp, fake_spec(tmp), plan={"tests": 3, "hold": True, "no_fallback": True})
    wait_until(lambda: "process runner started" in r.output(), slack(20), "the stage to start")
    time.sleep(0.2)
    r.proc.send_signal(signal.SIGINT)
    rc = r.wait(60)
    check(rc == 130, "exit %s" % rc)
    check(r.summary()["complete"], "the agent flushed and sent end after the cancel")


def test_time_limit(tmp):
    r = run(tmp, fake_spec(tmp), plan={"tests": 2, "hold": True}, extra=["--timeout", "1"])
    check(r.rc == 3, "exit %s\n%s" % (r.rc, r.out))
    cases = {c["name"]: c for c in read_junit(r.junit)["suites"]["stagevisor"]}
    check(cases["timeout"]["status"] == "failure", cases)


def test_configured_certificate(tmp):
    key, crt = os.path.join(tmp, "k.pem"), os.path.join(tmp, "c.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", crt, "-days", "1", "-subj", "/CN=localhost"], check=True, capture_output=True)
    fp = subprocess.run(["openssl", "x509", "-in", crt, "-noout", "-fingerprint", "-sha256"], capture_output=True,
                        text=True, check=True).stdout.split("=")[1].strip().replace(":", "").lower()
    info = os.path.join(tmp, "env.json")
    r = run(tmp, fake_spec(tmp), plan={"tests": 3, "info": info, "no_fallback": True},
            extra=["--tls-cert", crt, "--tls-key", key])
    check(r.rc == 0, "exit %s\n%s" % (r.rc, r.err))
    check(json.load(open(info))["STAGEVISOR_PIN"] == fp, "pin is the configured certificate's fingerprint")


def test_listen_and_advertise_are_separate(tmp):
    from coordtest import free_port
    port = free_port()
    info = os.path.join(tmp, "env.json")
    r = run(tmp, fake_spec(tmp), plan={"tests": 1, "info": info, "no_https": True},
            extra=["--listen", "127.0.0.1:%d" % port, "--advertise", "https://ci.example.invalid:9443/"])
    check(r.rc == 0, "exit %s" % r.rc)
    check(json.load(open(info))["STAGEVISOR_URL"] == "https://ci.example.invalid:9443/", "advertised URL")
    check("https://ci.example.invalid:9443/" in r.out, "the console names the URL")


if __name__ == "__main__":
    Tests(sys.modules[__name__]).main()
