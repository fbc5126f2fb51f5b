"""A spec error is the user's error, found before anything starts (coordinator/speccheck.c).

`stagevisor run` and `stagevisor playground up` ask the real `stagevisor-agent --check` about the
spec first: a misspelt field, invalid JSON or a missing file is exit 2 with the agent's own
message (field path, "did you mean"), and nothing is started (no agent, no process, no ingest
server) and nothing written (no state directory, no run directory, no JUnit file).
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from coordtest import Tests, agent_or_skip, check, coord, slack, write_spec  # noqa: E402


def stagevisor(tmp, agent, *argv):
    return subprocess.run([coord()] + list(argv) + ["--state-dir", os.path.join(tmp, "state"), "--agent", agent],
                          capture_output=True, text=True, timeout=slack(60), cwd=tmp)


def run(tmp, agent, spec):
    return stagevisor(tmp, agent, "run", "--backend", "local", "--spec", spec,
                      "--junit", os.path.join(tmp, "junit.xml"), "--json", os.path.join(tmp, "summary.json"))


def nothing_happened(tmp, p):
    """Exit 2, no state, no reports, no process of the spec ran, no ingest server started."""
    check(p.returncode == 2, "exit %s, want 2\n%s%s" % (p.returncode, p.stdout, p.stderr))
    check(not os.path.exists(os.path.join(tmp, "state")), "state written: %s" % list(os.walk(os.path.join(tmp, "state"))))
    check(not os.path.exists(os.path.join(tmp, "junit.xml")) and not os.path.exists(os.path.join(tmp, "summary.json")),
          "reports written")
    check(not os.path.exists(os.path.join(tmp, "started")), "a process of the spec ran")
    check("ingest" not in p.stdout and "INCOMPLETE" not in p.stdout and "infrastructure" not in p.stdout + p.stderr,
          "the run went on: %s" % p.stdout)
    check("line -1" not in p.stderr, p.stderr)


def misspelt(tmp, **top):
    """A valid process that would leave a file behind if it ran, and a misspelt field."""
    spec = {"stage": "bad", "processes": [
        {"name": "marker", "command": ["touch", os.path.join(tmp, "started")], "role": "job"},
        {"name": "web", "command": ["true"], "role": "job", "dependson": [{"name": "marker"}]}]}
    spec.update(top)
    return write_spec(tmp, spec)


def test_run_misspelt_field_did_you_mean(tmp):
    agent = agent_or_skip()
    p = run(tmp, agent, misspelt(tmp))
    nothing_happened(tmp, p)
    want = 'stagevisor-agent: processes[1].dependson: unknown field "dependson"; did you mean "depends_on"?'
    check(want in p.stderr.splitlines(), "the agent's own message, as it wrote it:\n%s" % p.stderr)
    check("is not valid; nothing was started" in p.stderr, p.stderr)


def test_run_bad_value_names_the_field(tmp):
    agent = agent_or_skip()
    spec = write_spec(tmp, {"stage": "bad", "processes": [
        {"name": "marker", "command": ["touch", os.path.join(tmp, "started")],
         "restart": {"policy": "on_failure"}}]})
    p = run(tmp, agent, spec)
    nothing_happened(tmp, p)
    check('processes[0].restart.policy' in p.stderr and 'did you mean "on-failure"?' in p.stderr, p.stderr)


def test_run_invalid_json_line_and_column(tmp):
    agent = agent_or_skip()
    path = os.path.join(tmp, "spec.json")
    with open(path, "w") as f:
        f.write('{\n  "version": 1,\n  "processes": [oops]\n}\n')
    p = run(tmp, agent, path)
    nothing_happened(tmp, p)
    check("stagevisor-agent: line 3, column" in p.stderr and "invalid JSON" in p.stderr, p.stderr)


def test_run_missing_spec_file(tmp):
    agent = agent_or_skip()
    missing = os.path.join(tmp, "no-such-spec.json")
    p = run(tmp, agent, missing)
    nothing_happened(tmp, p)
    check("stagevisor run: cannot open %s: No such file or directory" % missing in p.stderr, p.stderr)


def test_agent_check_missing_file_message(tmp):
    """The agent's own --check says the same, without a line or column."""
    agent = agent_or_skip()
    missing = os.path.join(tmp, "nope.json")
    p = subprocess.run([agent, "--check", "--spec", missing], capture_output=True, text=True, timeout=slack(30))
    check(p.returncode == 125, "exit %s" % p.returncode)
    check(p.stderr.strip() == "stagevisor-agent: cannot open %s: No such file or directory" % missing, p.stderr)


def test_valid_spec_still_runs(tmp):
    """The check lets a valid spec through: the run starts and passes."""
    agent = agent_or_skip()
    spec = write_spec(tmp, {"stage": "ok", "processes": [
        {"name": "marker", "command": ["touch", os.path.join(tmp, "started")], "role": "job"}]})
    p = run(tmp, agent, spec)
    check(p.returncode == 0, "exit %s\n%s%s" % (p.returncode, p.stdout, p.stderr))
    check(os.path.exists(os.path.join(tmp, "started")), "the process did not run")
    check(os.path.isdir(os.path.join(tmp, "state", "runs")), "no run state")


def test_playground_up_bad_spec(tmp):
    agent = agent_or_skip()
    for spec, want in ((misspelt(tmp, mode="service"), 'did you mean "depends_on"?'),
                       (os.path.join(tmp, "none.json"), "cannot open %s: No such file or directory"
                        % os.path.join(tmp, "none.json"))):
        p = stagevisor(tmp, agent, "playground", "up", "--backend", "local", "--spec", spec, "--name", "feature/x")
        nothing_happened(tmp, p)
        check(want in p.stderr, p.stderr)


if __name__ == "__main__":
    Tests(sys.modules[__name__]).main()
