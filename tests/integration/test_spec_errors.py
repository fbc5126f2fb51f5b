"""Issue 2, behaviour 9 (bad input): the real stagevisor-agent rejects every bad stage spec
before anything starts, exits with the documented usage/config code 125, and prints
"stagevisor-agent: <JSON path>: <what is wrong>" on stderr. A good spec with --check exits 0
and starts nothing. Both ways of giving a spec are tested: --spec FILE and STAGEVISOR_SPEC.

Runs against $SV_AGENT (set by ctest)."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svtest  # noqa: E402

CONFIG_ERROR = 125
PREFIX = "stagevisor-agent: "


def proc(name, command=None, **kw):
    p = {"name": name, "command": ["true"] if command is None else command}
    p.update(kw)
    return p


def stage(*procs, **top):
    s = {"version": 1, "stage": "spec-errors"}
    s.update(top)
    s["processes"] = list(procs)
    return s


# (case name, spec as a dict or raw text, expected text on stderr after the prefix)
BAD = [
    ("invalid_json", '{\n  "version": 1,\n  oops\n}', "line 3, column 6: invalid JSON: "),
    ("truncated_json", '{"version": 1, "processes": [', "line 1, column "),
    ("empty_document", "", "invalid JSON: "),
    ("duplicate_key", '{"version": 1,\n "version": 1}', "line 2, column "),
    ("not_an_object", "[1, 2]", "the spec must be a JSON object, got an array"),
    ("missing_version", {"processes": [proc("a")]}, 'version: missing'),
    ("wrong_version", stage(proc("a"), version=2), "version: unsupported spec version 2"),
    ("unknown_top_field", dict(stage(proc("a")), proceses=[]),
     'proceses: unknown field "proceses"; did you mean "processes"?'),
    ("unknown_process_field", stage(proc("a", dependson=[])),
     'processes[0].dependson: unknown field "dependson"; did you mean "depends_on"?'),
    ("case_typo", stage(proc("a", Essential=True)),
     'processes[0].Essential: unknown field "Essential"; did you mean "essential"?'),
    ("bad_mode", stage(proc("a"), mode="batch"), 'mode: unknown mode "batch"'),
    ("stop_timeout_over_fargate_cap", stage(proc("a"), stop_timeout=121),
     "stop_timeout: must be between 1 and 120 seconds, got 121"),
    ("unknown_stop_signal", stage(proc("a"), stop_signals=["SIGWINCH", "SIGNOPE"]),
     'stop_signals[1]: unknown signal "SIGNOPE"'),
    ("no_processes", stage(), "processes: must not be empty"),
    ("missing_command", stage({"name": "a"}), "processes[0].command: missing"),
    ("empty_command", stage(proc("a", [])), "processes[0].command: must not be empty"),
    ("missing_name", stage({"command": ["true"]}), "processes[0].name: missing"),
    ("bad_name", stage(proc("a b")), 'processes[0].name: "a b" is not a valid name'),
    ("duplicate_name", stage(proc("a"), proc("a")), 'processes[1].name: duplicate name "a"'),
    ("wrong_type", stage(proc("a", essential="yes")),
     "processes[0].essential: expected a boolean, got a string"),
    ("bad_env_name", stage(proc("a", env={"1X": "y"})),
     'processes[0].env.1X: "1X" is not a valid environment variable name'),
    ("unknown_dependency", stage(proc("web", role="service"),
                                 proc("runner", depends_on=[{"name": "wbe", "condition": "ready"}])),
     'processes[1].depends_on[0].name: no process named "wbe"'),
    ("self_dependency", stage(proc("a", depends_on=[{"name": "a"}])),
     'processes[0].depends_on[0].name: process "a" depends on itself'),
    ("dependency_cycle", stage(proc("a", depends_on=[{"name": "b"}]), proc("b", depends_on=[{"name": "a"}])),
     "processes[1].depends_on[0]: dependency cycle: a -> b -> a"),
    ("bad_condition", stage(proc("s"), proc("t", depends_on=[{"name": "s", "condition": "healthy"}])),
     'processes[1].depends_on[0].condition: unknown condition "healthy"'),
    ("two_probes", stage(proc("a", ready={"tcp": "127.0.0.1:1", "log": "x"})),
     "processes[0].ready.log: a ready probe is exactly one of tcp, http, exec, log"),
    ("bad_tcp_port", stage(proc("a", ready={"tcp": "127.0.0.1:70000"})),
     "processes[0].ready.tcp: port must be a number from 1 to 65535"),
    ("https_probe", stage(proc("a", ready={"http": "https://127.0.0.1/"})),
     "processes[0].ready.http: only http:// URLs can be probed"),
    ("bad_regex", stage(proc("a", ready={"log": "ready ("})),
     "processes[0].ready.log: invalid regular expression: "),
    ("interval_too_small", stage(proc("a", ready={"tcp": "127.0.0.1:1", "interval_ms": 1})),
     "processes[0].ready.interval_ms: must be between 10 and"),
    ("bad_restart_policy", stage(proc("a", restart={"policy": "on_failure"})),
     'processes[0].restart.policy: unknown restart policy "on_failure"'),
    ("backoff_cap_below_start", stage(proc("a", restart={"backoff_ms": 500, "backoff_max_ms": 100})),
     "processes[0].restart.backoff_max_ms: must be at least backoff_ms (500), got 100"),
    ("unknown_stop_signal_name", stage(proc("a", stop_signal="SIGTREM")),
     'processes[0].stop_signal: unknown signal "SIGTREM"'),
    ("sigkill_stop_signal", stage(proc("a", stop_signal="KILL")),
     "processes[0].stop_signal: SIGKILL cannot be a stop signal"),
    ("grace_over_stop_timeout", stage(proc("a", stop_grace=20), stop_timeout=10),
     "processes[0].stop_grace: 20 s is more than the stage's stop_timeout (10 s)"),
    ("exit_code_out_of_range", stage(proc("a", success_exit_codes=[0, 256])),
     "processes[0].success_exit_codes[1]: must be between 0 and 255, got 256"),
    ("bad_result_format", stage(proc("a", results=[{"format": "xunit", "path": "x.xml"}])),
     'processes[0].results[0].format: unknown format "xunit"'),
    ("junit_from_stdout", stage(proc("a", results=[{"format": "junit", "stream": "stdout"}])),
     'processes[0].results[0].stream: format "junit" is read from files'),
    ("path_and_stream", stage(proc("a", results=[{"format": "teamcity", "path": "x", "stream": "stdout"}])),
     'processes[0].results[0].stream: give either "path" or "stream", not both'),
    ("job_stage_without_essential_job", stage(proc("a", role="service")),
     'processes: a "job" mode stage ends when its essential jobs end'),
]


def text_of(spec):
    return spec if isinstance(spec, str) else json.dumps(spec, indent=1)


class SpecErrorsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="sv-spec-")
        self.dir = self.tmp.name
        self.agent = svtest.agent_path()

    def tearDown(self):
        self.tmp.cleanup()

    def run_agent(self, args, env_spec=None):
        env = dict(os.environ)
        env.pop("STAGEVISOR_SPEC", None)
        if env_spec is not None:
            env["STAGEVISOR_SPEC"] = env_spec
        p = subprocess.run([self.agent] + args, env=env, cwd=self.dir, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=svtest.slack(30))
        return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")

    def write(self, name, text):
        path = os.path.join(self.dir, name + ".json")
        with open(path, "w") as f:
            f.write(text)
        return path

    def assert_rejected(self, how, case, rc, err, want):
        self.assertEqual(rc, CONFIG_ERROR, "%s (%s): exit code %d, stderr: %r" % (case, how, rc, err[-500:]))
        lines = [ln for ln in err.splitlines() if ln.startswith(PREFIX)]
        self.assertTrue(any(want in ln for ln in lines),
                        "%s (%s): no stderr line \"%s...%s...\"; stderr: %r" % (case, how, PREFIX, want, err[-800:]))

    def test_bad_specs_with_check_file(self):
        for case, spec, want in BAD:
            with self.subTest(case=case):
                path = self.write(case, text_of(spec))
                rc, _, err = self.run_agent(["--check", "--spec", path])
                self.assert_rejected("--check --spec", case, rc, err, want)

    def test_bad_specs_with_check_env(self):
        for case, spec, want in BAD:
            if text_of(spec) == "":
                continue  # an empty STAGEVISOR_SPEC may mean "not set"; tested by file above
            with self.subTest(case=case):
                rc, _, err = self.run_agent(["--check"], env_spec=text_of(spec))
                self.assert_rejected("--check, STAGEVISOR_SPEC", case, rc, err, want)

    def test_bad_specs_start_nothing(self):
        """Without --check: a spec whose error is found late (in the last process, or only in
        the dependency graph) still starts nothing; the first process would leave a marker."""
        marker = os.path.join(self.dir, "started")
        first = proc("first", ["sh", "-c", "touch '%s'; sleep 5" % marker], role="service", essential=False)
        late_errors = [
            ("cycle", stage(first, proc("a", depends_on=[{"name": "b"}]), proc("b", depends_on=[{"name": "a"}])),
             "processes[2].depends_on[0]: dependency cycle: a -> b -> a"),
            ("unknown_dependency", stage(first, proc("runner", depends_on=[{"name": "wbe"}])),
             'processes[1].depends_on[0].name: no process named "wbe"'),
            ("bad_regex_last", stage(first, proc("runner", ready={"log": "("})),
             "processes[1].ready.log: invalid regular expression"),
            ("unknown_signal_last", stage(first, proc("runner", stop_signal="SIGNOPE")),
             'processes[1].stop_signal: unknown signal "SIGNOPE"'),
            ("typo_last", stage(first, proc("runner", comand=["x"])),
             'processes[1].comand: unknown field "comand"; did you mean "command"?'),
        ]
        for case, spec, want in late_errors:
            with self.subTest(case=case):
                rc, _, err = self.run_agent(["--spec", self.write(case, text_of(spec))])
                self.assert_rejected("--spec", case, rc, err, want)
                rc, _, err = self.run_agent([], env_spec=text_of(spec))
                self.assert_rejected("STAGEVISOR_SPEC", case, rc, err, want)
                self.assertFalse(os.path.exists(marker), "%s: a process was started" % case)

    def test_too_large_spec_file(self):
        spec = stage(proc("a", env={"PAD": "x" * (1024 * 1024)}))
        rc, _, err = self.run_agent(["--check", "--spec", self.write("large", text_of(spec))])
        self.assertEqual(rc, CONFIG_ERROR, err)
        self.assertIn("1048576", err)

    def test_missing_spec_file(self):
        rc, _, err = self.run_agent(["--check", "--spec", os.path.join(self.dir, "nope.json")])
        self.assertEqual(rc, CONFIG_ERROR, err)
        self.assertTrue(any(ln.startswith(PREFIX) for ln in err.splitlines()), err)
        self.assertIn("nope.json", err)

    def test_no_spec_at_all(self):
        rc, _, err = self.run_agent(["--check"])
        self.assertEqual(rc, CONFIG_ERROR, err)
        self.assertTrue(err.startswith(PREFIX) or PREFIX in err, err)

    def test_good_spec_check_starts_nothing(self):
        marker = os.path.join(self.dir, "started")
        touch = ["sh", "-c", "touch '%s'" % marker]
        good = [
            ("minimal", stage(proc("job", touch))),
            ("issue_example", {
                "version": 1, "stage": "tests", "mode": "job", "stop_timeout": 30,
                "stop_signals": ["SIGWINCH"],
                "processes": [
                    {"name": "web", "command": touch, "env": {"APACHE_RUN_DIR": "/tmp/a"},
                     "cwd": "/", "role": "service", "essential": False,
                     "ready": {"tcp": "127.0.0.1:8080", "interval_ms": 100, "timeout_ms": 30000},
                     "restart": {"policy": "on-failure", "max_retries": 5, "backoff_ms": 200,
                                 "backoff_max_ms": 10000},
                     "stop_signal": "SIGWINCH", "stop_grace": 10},
                    {"name": "runner", "command": touch, "role": "job", "essential": True,
                     "depends_on": [{"name": "web", "condition": "ready"}],
                     "success_exit_codes": [0, 1],
                     "results": [{"format": "junit", "path": "reports/*.xml"},
                                 {"format": "teamcity", "stream": "stdout", "fail_on": "never"}]},
                ]}),
            ("service_stage", stage(proc("fpm", touch, role="service", stop_signal="QUIT",
                                         ready={"log": "ready to handle connections$"}),
                                    proc("nginx", touch, role="service", depends_on=[{"name": "fpm"}],
                                         ready={"http": "http://127.0.0.1:8080/health"}),
                                    mode="service", stop_signals=["SIGWINCH", "QUIT"])),
        ]
        for case, spec in good:
            with self.subTest(case=case):
                rc, out, err = self.run_agent(["--check", "--spec", self.write(case, text_of(spec))])
                self.assertEqual(rc, 0, "%s (--check --spec): exit %d, stderr %r" % (case, rc, err[-500:]))
                rc, out, err = self.run_agent(["--check"], env_spec=text_of(spec))
                self.assertEqual(rc, 0, "%s (--check, STAGEVISOR_SPEC): exit %d, stderr %r" % (case, rc, err[-500:]))
                self.assertFalse(os.path.exists(marker), "%s: --check started a process" % case)


if __name__ == "__main__":
    unittest.main(verbosity=2)
