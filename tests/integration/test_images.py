"""The images (images/playground, images/tests, images/analysis) and their stage specs.

Two parts, two ctest tests (tests/integration/images.cmake):

  test_images.py local    the images' own specs (images/*/stage.json) on the local backend:
                          `stagevisor run --backend local` in a directory laid out like the
                          images' /srv (site/ = a copy of examples/drupal-like-site,
                          stagevisor/apache.conf), with the variables the Dockerfiles set (ENV)
                          given to the coordinator. Always runs.
  test_images.py podman   the images themselves, built with podman FROM a Debian bookworm base
                          made here with debootstrap (cached under the build directory), run
                          with host networking against a coordinator on loopback: `stagevisor
                          run --agent WRAPPER`, where WRAPPER runs the container with the
                          STAGEVISOR_URL/TOKEN/PIN/STREAM the coordinator gives its agent, as
                          the Fargate backend passes them in a task's environment. Exits 77
                          (skipped) with the reason printed when podman cannot work here.

What is checked, in both parts:
  - tests: exit 0, the JUnit file holds the 14 unit and 3 browser cases of PHPUnit's own
    JUnit files, all passed; the browser's form submits are in Apache's log (Chromium ran);
  - analysis: exit 0, findings are the tools' own reports' (phpcs, phpmd, phpcpd), none fails,
    phploc's metrics arrive;
  - playground: serves the site's front page; SIGWINCH (the image's STOPSIGNAL, taken as
    teardown through STAGEVISOR_STOP_SIGNALS, which the spec does not list) stops it
    gracefully: Apache logs its graceful stop, the agent and the coordinator exit 0.
The podman part also checks the images' metadata (ENTRYPOINT, STOPSIGNAL), that the spec
baked into the image is the one that ran, and measures each image's and the agent layer's size
(printed; images/README.md has the figures).

Podman here: runc (crun fails without CAP_SYS_RESOURCE on a hybrid cgroup layout), ulimits of
1024 for open files and processes, storage under the build directory: all in a private
CONTAINERS_CONF / CONTAINERS_STORAGE_CONF written by this test; /etc is never changed.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svtest  # noqa: E402
from svtest import case_status, phpunit_truth, coord_cases  # noqa: E402

SRC = os.environ.get("SV_SRC") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("SV_BUILD") or os.path.join(SRC, "build")
SITE = os.path.join(SRC, "examples", "drupal-like-site")
IMAGES = os.path.join(SRC, "images")
BROWSER_CASES = ["testFrontPageHeading", "testGreetingFormSubmit", "testPriceFormSubmit"]
HEADING = "Welcome to Stagevisor Demo Shop"
PART = sys.argv[1] if len(sys.argv) > 1 else "local"
PODMAN = os.environ.get("SV_PODMAN") or "podman"  # another podman binary, or a missing one to see the skip








def stopping_signals(workdir):
    """The signals of the stage/stopping events the coordinator stored for the one run in
    workdir/state (the agent's stream as it arrived)."""
    runs = os.path.join(workdir, "state", "runs")
    streams = os.listdir(runs)
    assert len(streams) == 1, streams
    out = []
    with open(os.path.join(runs, streams[0], "events.jsonl")) as f:
        for line in f:
            ev = json.loads(line)
            if ev.get("type") == "stage" and ev.get("event") == "stopping":
                out.append(ev.get("signal"))
    return out


def spec_of(name):
    return os.path.join(IMAGES, name, "stage.json")


def http_get(port, path="/"):
    import urllib.request
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=5) as r:
        return r.status, r.read().decode("utf-8", "replace")


def layout(parent):
    """A directory like the images' /srv: site/ and stagevisor/apache.conf, world-readable
    (Apache's workers are www-data). Returns (root, reports dir)."""
    root = tempfile.mkdtemp(prefix="srv-", dir=parent)
    os.chmod(root, 0o755)
    shutil.copytree(SITE, os.path.join(root, "site"), ignore=shutil.ignore_patterns("build", "var", "vendor"))
    os.makedirs(os.path.join(root, "stagevisor"))
    shutil.copy(os.path.join(IMAGES, "apache.conf"), os.path.join(root, "stagevisor"))
    reports = os.path.join(root, "site", "build", "reports")
    os.makedirs(reports)
    for d, dirs, files in os.walk(root):
        os.chmod(d, 0o777 if d.startswith(os.path.join(root, "site", "build")) else 0o755)
        for f in files:
            os.chmod(os.path.join(d, f), 0o644)
    return root, reports


class Stages:
    """The checks shared by both parts. Subclasses give run(stage, env) and a reports dir."""

    def explain(self, rc, text):
        return "stagevisor exited %s; its output ends:\n%s" % (rc, "\n".join(text.splitlines()[-60:]))

    def coordinator(self, stage, workdir, agent, extra=()):
        junit = os.path.join(workdir, stage + ".junit.xml")
        summary = os.path.join(workdir, stage + ".summary.json")
        cmd = [svtest.coord_path(), "run", "--backend", "local", "--spec", spec_of(stage), "--agent", agent,
               "--no-pidns", "--junit", junit, "--json", summary, "--state-dir", os.path.join(workdir, "state"),
               "--timeout", str(int(svtest.slack(400)))] + list(extra)
        return cmd, junit, summary

    def check_tests(self, rc, text, junit, summ, reports):
        self.assertEqual(rc, 0, self.explain(rc, text))
        self.assertEqual((summ["result"], summ["complete"]), ("passed", True))
        truth = phpunit_truth(os.path.join(reports, "unit.xml"))
        self.assertEqual(len(truth), 14)  # the example's unit tests (its README)
        browser = phpunit_truth(os.path.join(reports, "browser.xml"))
        self.assertEqual(sorted(n for _, n in browser), BROWSER_CASES)
        truth.update(browser)
        self.assertEqual({k: st for k, (st, _) in coord_cases(junit).items()}, truth)
        self.assertEqual(set(truth.values()), {"passed"})
        self.assertEqual(summ["tests"], {"passed": 17, "failed": 0, "error": 0, "skipped": 0})
        self.assertIn('"GET /greet?name=Ada+%3CLovelace%3E HTTP/1.1" 200', text)
        self.assertIn('"GET /price?unit=1000&qty=12 HTTP/1.1" 200', text)

    def check_analysis(self, rc, text, junit, summ, reports):
        self.assertEqual(rc, 0, self.explain(rc, text))
        cs = [e.get("severity") for e in ET.parse(os.path.join(reports, "phpcs.xml")).getroot().iter("error")]
        pmd = list(ET.parse(os.path.join(reports, "phpmd.xml")).getroot().iter("violation"))
        cpd = list(ET.parse(os.path.join(reports, "phpcpd.xml")).getroot().iter("duplication"))
        self.assertTrue(cs and set(cs) == {"warning"}, cs)
        self.assertTrue(pmd, "phpmd found nothing")
        self.assertEqual(len(cpd), 1)
        self.assertEqual(summ["findings"]["error"], 0)
        self.assertEqual(summ["findings"]["warning"], len(cs) + len(pmd) + len(cpd))
        self.assertGreater(summ["metrics"], 0)
        by_tool = {}
        for suite in ET.parse(junit).getroot():
            by_tool[suite.get("name")] = [case_status(c) for c in suite]
        self.assertEqual(by_tool["phpcs"], ["passed"] * len(cs))
        self.assertEqual(by_tool["phpcpd"], ["passed"])

    def check_playground(self, proc, port, stop, logfile):
        """proc: the coordinator running the playground; stop(): sends the stop signal."""
        svtest.wait_until(lambda: proc.poll() is not None or svtest.port_open(port), svtest.slack(120),
                          "the playground's port %d open" % port, interval=0.1)
        self.assertIsNone(proc.poll(), svtest.read_text(logfile))
        status, body = svtest.wait_until(lambda: self.try_get(port), svtest.slack(60), "the front page", 0.1)
        self.assertEqual(status, 200)
        self.assertIn(HEADING, body)
        status, body = http_get(port, "/price?unit=1000&qty=12")
        self.assertEqual(status, 200)
        stop()
        rc = proc.wait(timeout=svtest.slack(120))
        text = svtest.read_text(logfile)
        self.assertEqual(rc, 0, self.explain(rc, text))
        self.assertIn("caught SIGWINCH, shutting down gracefully", text)  # Apache's graceful stop
        self.assertFalse(svtest.port_open(port))
        return text

    def try_get(self, port):
        try:
            return http_get(port)
        except OSError:
            return None


class LocalBackend(Stages, unittest.TestCase):
    """The images' specs on the local backend: the agent runs on this machine."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sv-images-local-")
        os.chmod(cls.tmp, 0o755)

    @classmethod
    def tearDownClass(cls):
        svtest.kill_strays(cls.tmp)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def tearDown(self):
        self.assertEqual(svtest.take_sanitizer_reports(), [])

    def env(self, **kw):
        env = dict(os.environ)
        env.pop("SV_DEMO_FAIL", None)
        env.update({k: str(v) for k, v in kw.items()})
        return env

    def run_stage(self, stage, env):
        root, reports = layout(self.tmp)
        cmd, junit, summary = self.coordinator(stage, root, svtest.agent_path())
        p = subprocess.run(cmd, cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=svtest.slack(500))
        text = p.stdout.decode("utf-8", "replace")
        svtest.note_sanitizer(text.splitlines())
        with open(summary) as f:
            return p.returncode, text, junit, json.load(f), reports

    def test_tests(self):
        # What images/tests/Dockerfile sets with ENV, on free ports.
        env = self.env(SV_ADDR="127.0.0.1", SV_PORT=svtest.free_port(), SV_WEBDRIVER_PORT=svtest.free_port(),
                       STAGEVISOR_STOP_SIGNALS="SIGWINCH")
        self.check_tests(*self.run_stage("tests", env))

    def test_analysis(self):
        self.check_analysis(*self.run_stage("analysis", self.env(STAGEVISOR_STOP_SIGNALS="SIGWINCH")))

    def test_playground_stops_gracefully_on_sigwinch(self):
        root, _ = layout(self.tmp)
        port = svtest.free_port()
        env = self.env(SV_ADDR="127.0.0.1", SV_PORT=port, STAGEVISOR_STOP_SIGNALS="SIGWINCH")
        cmd, junit, summary = self.coordinator("playground", root, svtest.agent_path())
        logfile = os.path.join(root, "coordinator.log")
        with open(logfile, "wb") as log:
            proc = subprocess.Popen(cmd, cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        try:
            def stop():
                agents = svtest.children_of(proc.pid)
                self.assertEqual(len(agents), 1, agents)
                os.kill(agents[0][0], signal.SIGWINCH)
            text = self.check_playground(proc, port, stop, logfile)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        svtest.note_sanitizer(text.splitlines())
        self.assertEqual(stopping_signals(root), [signal.SIGWINCH])

    def test_sigwinch_is_not_teardown_without_the_variable(self):
        # Without STAGEVISOR_STOP_SIGNALS (and a spec that does not list it), SIGWINCH is not a
        # stop signal: the playground keeps serving. The variable is what makes the image's
        # STOPSIGNAL work.
        root, _ = layout(self.tmp)
        port = svtest.free_port()
        env = self.env(SV_ADDR="127.0.0.1", SV_PORT=port)
        env.pop("STAGEVISOR_STOP_SIGNALS", None)
        with svtest.Agent(None, root, args=["--spec", spec_of("playground")], env=env) as agent:
            svtest.wait_until(lambda: self.try_get(port), svtest.slack(60), "the front page", 0.1)
            agent.signal(signal.SIGWINCH)
            agent.signal(signal.SIGTERM)
            agent.wait_exit(svtest.slack(60))
            reasons = [e.get("signal") for e in agent.events(type="stage", event="stopping")]
            self.assertEqual(reasons, [signal.SIGTERM])


class EntrypointOptions(unittest.TestCase):
    """What the images' ENTRYPOINT relies on: --default-spec and STAGEVISOR_STOP_SIGNALS."""

    def agent(self, args, **env):
        full = dict(os.environ)
        for k in ("STAGEVISOR_SPEC", "STAGEVISOR_STOP_SIGNALS"):
            full.pop(k, None)
        full.update(env)
        p = subprocess.run([svtest.agent_path()] + args, env=full, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=svtest.slack(60))
        svtest.note_sanitizer(p.stderr.decode().splitlines())
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def test_default_spec_is_used_only_without_stagevisor_spec(self):
        with tempfile.TemporaryDirectory() as d:
            default = svtest.write_spec(d, {"stage": "from-file", "processes": [
                {"name": "a", "command": ["sh", "-c", "echo default-ran"]}]})
            rc, out, err = self.agent(["--default-spec", default])
            self.assertEqual(rc, 0, err)
            self.assertIn("default-ran", out)
            inline = json.dumps({"version": 1, "processes": [{"name": "b", "command": ["sh", "-c", "echo inline-ran"]}]})
            rc, out, err = self.agent(["--default-spec", default], STAGEVISOR_SPEC=inline)
            self.assertEqual(rc, 0, err)
            self.assertIn("inline-ran", out)
            self.assertNotIn("default-ran", out)
            rc, out, err = self.agent(["--default-spec", os.path.join(d, "missing.json")])
            self.assertEqual(rc, 125)
            rc, out, err = self.agent(["--spec", default, "--default-spec", default])
            self.assertEqual(rc, 125)
            self.assertIn("--spec and --default-spec", err)

    def test_stop_signals_variable_is_checked(self):
        spec = spec_of("playground")
        self.assertEqual(self.agent(["--check", "--spec", spec], STAGEVISOR_STOP_SIGNALS="SIGWINCH, quit 28")[:2],
                         (0, "ok\n"))
        for bad, says in (("SIGWINK", '"SIGWINK" is not a signal name or number'),
                          ("WINCH,KILL", "SIGKILL cannot be caught"),
                          ("CHLD", "SIGCHLD tells the agent")):
            rc, out, err = self.agent(["--check", "--spec", spec], STAGEVISOR_STOP_SIGNALS=bad)
            self.assertEqual(rc, 125, bad)
            self.assertIn("STAGEVISOR_STOP_SIGNALS: " + says, err)


def podman_env(state):
    env = dict(os.environ)
    env["CONTAINERS_CONF"] = os.path.join(state, "containers.conf")
    env["CONTAINERS_STORAGE_CONF"] = os.path.join(state, "storage.conf")
    return env


def sh(cmd, env, timeout, what):
    p = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace")


class Podman:
    """The podman set-up under BUILD/images-test: config, storage, the debootstrap'd base."""

    BASE = "localhost/stagevisor-test-base:bookworm"

    def __init__(self):
        self.state = os.path.join(BUILD, "images-test")
        os.makedirs(self.state, exist_ok=True)
        with open(os.path.join(self.state, "containers.conf"), "w") as f:
            f.write('[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n'
                    'netns = "host"\ncgroupns = "host"\n'
                    '[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n')
        with open(os.path.join(self.state, "storage.conf"), "w") as f:
            f.write('[storage]\ndriver = "overlay"\nrunroot = "%s"\ngraphroot = "%s"\n'
                    % (os.path.join(self.state, "run"), os.path.join(self.state, "storage")))
        self.env = podman_env(self.state)
        self.times = {}

    def why_not(self):
        """None when podman can build and run images here, else the exact reason."""
        for prog in (PODMAN, "runc", "debootstrap"):
            if not shutil.which(prog) and not os.path.exists("/usr/sbin/" + prog):
                return "%s is not installed (scripts/install-deps installs podman, runc and debootstrap)" % prog
        rc, out = sh([PODMAN, "image", "exists", self.BASE], self.env, 120, "exists")
        if rc != 0:
            reason = self.make_base()
            if reason:
                return reason
        rc, out = sh([PODMAN, "run", "--rm", "--network", "host", self.BASE, "true"], self.env, 300, "run")
        if rc != 0:
            return "podman cannot run a container here: podman run exited %d: %s" % (rc, out.strip()[-2000:])
        return None

    def make_base(self):
        """debootstrap bookworm (minbase) into a tar kept in the build directory, then podman
        import. The tar is the cache: a rerun only imports it."""
        tar = os.path.join(self.state, "bookworm-minbase.tar")
        t0 = time.monotonic()
        if not os.path.exists(tar):
            rootfs = os.path.join(self.state, "rootfs")
            shutil.rmtree(rootfs, ignore_errors=True)
            rc, out = sh(["debootstrap", "--variant=minbase", "bookworm", rootfs, "http://deb.debian.org/debian"],
                         self.env, 1200, "debootstrap")
            if rc != 0:
                return "debootstrap of Debian bookworm failed (exit %d): %s" % (rc, out.strip()[-2000:])
            for d in ("var/cache/apt/archives", "var/lib/apt/lists"):
                for e in os.listdir(os.path.join(rootfs, d)):
                    p = os.path.join(rootfs, d, e)
                    if os.path.isfile(p):
                        os.unlink(p)
            rc, out = sh(["tar", "-C", rootfs, "-cf", tar + ".tmp", "."], self.env, 600, "tar")
            if rc != 0:
                return "cannot pack the debootstrap'd base: %s" % out
            os.rename(tar + ".tmp", tar)
            shutil.rmtree(rootfs, ignore_errors=True)
        self.times["debootstrap"] = time.monotonic() - t0
        rc, out = sh([PODMAN, "import", tar, self.BASE], self.env, 600, "import")
        if rc != 0:
            return "podman import of the debootstrap'd base failed (exit %d): %s" % (rc, out.strip()[-2000:])
        return None

    def build_cmd(self, name, target=None):
        cmd = [PODMAN, "build", "--network", "host", "-f", os.path.join(IMAGES, name, "Dockerfile"),
               "--build-arg", "BASE=" + self.BASE, "--build-arg", "BUILDER=" + self.BASE]
        if target:
            return cmd + ["--target", target, SRC]
        return cmd + ["-t", "localhost/stagevisor-%s:test" % name, SRC]

    def build_all(self):
        """{name: (rc, output, tag)}. The agent's build stage first (the same in the three
        Dockerfiles: built once, then a cache hit), then tests and analysis side by side (one
        downloads while the other unpacks), then playground, whose Apache layer is the tests
        image's."""
        out = {}
        t0 = time.monotonic()
        rc, text = sh(self.build_cmd("tests", target="agent"), self.env, 1500, "build agent")
        self.times["build agent"] = time.monotonic() - t0
        if rc != 0:
            return {n: (rc, text, None) for n in ("tests", "analysis", "playground")}
        t0 = time.monotonic()
        procs = {}
        for name in ("tests", "analysis"):
            log = tempfile.TemporaryFile()
            procs[name] = (subprocess.Popen(self.build_cmd(name), env=self.env, stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=subprocess.STDOUT), log)
        for name, (proc, log) in procs.items():
            rc = proc.wait(timeout=1500)
            log.seek(0)
            out[name] = (rc, log.read().decode("utf-8", "replace"), self.build_cmd(name)[-2])
            log.close()
        self.times["build tests + analysis"] = time.monotonic() - t0
        t0 = time.monotonic()
        rc, text = sh(self.build_cmd("playground"), self.env, 1500, "build playground")
        out["playground"] = (rc, text, self.build_cmd("playground")[-2])
        self.times["build playground"] = time.monotonic() - t0
        return out

    def inspect(self, tag):
        rc, out = sh([PODMAN, "image", "inspect", tag], self.env, 120, "inspect")
        assert rc == 0, out
        return json.loads(out)[0]

    def history(self, tag):
        rc, out = sh([PODMAN, "history", "--format", "json", tag], self.env, 120, "history")
        assert rc == 0, out
        return json.loads(out)


def created_by(layer):
    return layer.get("CreatedBy") or layer.get("created_by") or ""


class Images(Stages, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sv-images-")
        os.chmod(cls.tmp, 0o755)
        cls.pm = Podman()
        t0 = time.monotonic()
        cls.why = cls.pm.why_not()
        if cls.why:
            return
        cls.tags, cls.build_out = {}, {}
        for name, (rc, out, tag) in cls.pm.build_all().items():
            cls.build_out[name] = (rc, out)
            cls.tags[name] = tag if rc == 0 else None
        cls.pm.times["set-up"] = time.monotonic() - t0

    @classmethod
    def tearDownClass(cls):
        if not getattr(cls, "why", "x"):
            sys.stderr.write("test_images: times (s): %s\n" % ", ".join(
                "%s %.0f" % kv for kv in cls.pm.times.items()))
        svtest.kill_strays(cls.tmp)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        if self.why:
            self.skipTest(self.why)

    def image(self, name):
        rc, out = self.build_out[name]
        self.assertEqual(rc, 0, "podman build of images/%s failed:\n%s" % (name, out[-6000:]))
        return self.tags[name]

    def wrapper(self, tag, name, reports, extra_env=()):
        """An `--agent` for `stagevisor run`: runs the image as a backend would start its
        task, with the coordinator's STAGEVISOR_* variables (not STAGEVISOR_SPEC: the image
        runs the spec baked into it), host networking, and the reports directory mounted."""
        path = os.path.join(self.tmp, "agent-" + name)
        env_args = " ".join("-e %s" % e for e in extra_env)
        with open(path, "w") as f:
            f.write("#!/bin/sh\n"
                    "if [ \"${1:-}\" = --check ]; then\n"
                    "  if [ \"${2:-}\" = --spec ]; then STAGEVISOR_SPEC=$(cat \"$3\"); export STAGEVISOR_SPEC; fi\n"
                    "  exec %s run --rm --network host -e STAGEVISOR_SPEC %s --check\n"
                    "fi\n"
                    "exec %s run --rm --network host --name %s -v %s:/srv/site/build/reports \\\n"
                    "  -e STAGEVISOR_URL -e STAGEVISOR_TOKEN -e STAGEVISOR_PIN -e STAGEVISOR_STREAM %s %s\n"
                    % (PODMAN, tag, PODMAN, name, reports, env_args, tag))
        os.chmod(path, 0o755)
        return path

    def run_image(self, stage, extra_env=()):
        tag = self.image(stage)
        work = tempfile.mkdtemp(prefix=stage + "-", dir=self.tmp)
        reports = os.path.join(work, "reports")
        os.makedirs(reports)
        os.chmod(reports, 0o777)
        name = "sv-images-%s-%d" % (stage, os.getpid())
        cmd, junit, summary = self.coordinator(stage, work, self.wrapper(tag, name, reports, extra_env))
        env = dict(self.pm.env)
        env.update({k.split("=", 1)[0]: k.split("=", 1)[1] for k in extra_env})
        return cmd, junit, summary, reports, work, env, name, tag

    def test_tests_image(self):
        ports = ["SV_PORT=%d" % svtest.free_port(), "SV_WEBDRIVER_PORT=%d" % svtest.free_port()]
        cmd, junit, summary, reports, work, env, _, tag = self.run_image("tests", ports)
        p = subprocess.run(cmd, cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=svtest.slack(600))
        text = p.stdout.decode("utf-8", "replace")
        with open(summary) as f:
            self.check_tests(p.returncode, text, junit, json.load(f), reports)
        meta = self.pm.inspect(tag)["Config"]
        self.assertEqual(meta["Entrypoint"], ["/opt/stagevisor/bin/stagevisor-agent", "--default-spec",
                                              "/srv/stagevisor/stage.json"])

    def test_analysis_image(self):
        cmd, junit, summary, reports, work, env, _, _ = self.run_image("analysis")
        p = subprocess.run(cmd, cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=svtest.slack(600))
        text = p.stdout.decode("utf-8", "replace")
        with open(summary) as f:
            self.check_analysis(p.returncode, text, junit, json.load(f), reports)

    def test_playground_image_stops_gracefully(self):
        port = svtest.free_port()
        cmd, junit, summary, reports, work, env, name, tag = self.run_image(
            "playground", ["SV_ADDR=127.0.0.1", "SV_PORT=%d" % port])
        self.assertEqual(self.pm.inspect(tag)["Config"].get("StopSignal"), "SIGWINCH")
        logfile = os.path.join(work, "coordinator.log")
        with open(logfile, "wb") as log:
            proc = subprocess.Popen(cmd, cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT)
        try:
            def stop():
                # podman stop sends the image's STOPSIGNAL (SIGWINCH), then SIGKILL after -t:
                # a generous -t, so a stop that is not graceful shows as exit 137, not a slow pass.
                rc, out = sh([PODMAN, "stop", "-t", "90", name], self.pm.env, 200, "stop")
                self.assertEqual(rc, 0, out)
            text = self.check_playground(proc, port, stop, logfile)
        finally:
            if proc.poll() is None:
                sh([PODMAN, "rm", "-f", name], self.pm.env, 120, "rm")
                proc.kill()
                proc.wait()
        self.assertEqual(stopping_signals(work), [signal.SIGWINCH])

    def test_sizes(self):
        # Each image's size and its agent layer's (the COPY --from=agent), for images/README.md.
        for name in ("tests", "analysis", "playground"):
            tag = self.image(name)
            size = self.pm.inspect(tag)["Size"]
            hist = self.pm.history(tag)
            layers = [h for h in hist if "COPY" in created_by(h) and "/opt/stagevisor" in created_by(h)]
            self.assertEqual(len(layers), 1, hist)
            agent = layers[0].get("size", layers[0].get("Size"))
            self.assertGreater(agent, 100 * 1024)
            self.assertLess(agent, size)
            sys.stderr.write("test_images: %s: image %.1f MB, agent layer %.2f MB\n"
                             % (name, size / 1e6, agent / 1e6))


if __name__ == "__main__":
    suite = unittest.TestSuite()
    for cls in {"local": (EntrypointOptions, LocalBackend), "podman": (Images,)}[PART]:
        suite.addTests(unittest.defaultTestLoader.loadTestsFromTestCase(cls))
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    if not result.wasSuccessful():
        sys.exit(1)
    if PART == "podman" and getattr(Images, "why", None):
        sys.stderr.write("test_images: SKIPPED: %s\n" % Images.why)
        sys.exit(77)
