"""`stagevisor hooks DIR` with the real binary: real shell scripts in temporary directories.

Checks: name (byte) order; each output line prefixed with the script's label, stdout on
stdout and stderr on stderr, a last line without its newline kept; a JUnit case per script
with its time and output; the first failure stops the run and its exit code is the command's,
the scripts after it are not run and are skipped cases; a script killed by a signal gives
128+n; --timeout kills the script's whole process group (SIGTERM, SIGKILL after the grace when
it ignores SIGTERM) and exits 124; a SIGTERM to stagevisor reaches the running script and the
command exits 143; non-executable files, directories, dotfiles and editor backups are skipped
with a line each; an empty directory passes; a missing one, a missing DIR and bad options are
usage errors (2) naming the problem; scripts get /dev/null as stdin, the caller's working
directory and --env variables; a script that cannot be executed gives 126. Then the example
site's own devops_hooks, twice.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svtest  # noqa: E402

SRC = os.environ.get("SV_SRC") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


coord_path = svtest.coord_path


class HooksTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sv-hooks-it-")
        self.dir = os.path.join(self.tmp, "devops_hooks")
        os.mkdir(self.dir)
        self.rec = os.path.join(self.tmp, "record")
        self.junit = os.path.join(self.tmp, "hooks.xml")

    def tearDown(self):
        svtest.kill_strays(self.tmp)
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.assertEqual(svtest.take_sanitizer_reports(), [])

    def script(self, name, body, mode=0o755, shebang="#!/bin/sh\n"):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(shebang + body)
        os.chmod(path, mode)
        return path

    def recorder(self, name, extra=""):
        return self.script(name, 'echo "%s" >> "%s"\n%s' % (name, self.rec, extra))

    def run_hooks(self, *args, timeout=120, stdin=subprocess.DEVNULL, cwd=None, directory=None):
        cmd = [coord_path(), "hooks", directory or self.dir] + list(args)
        p = subprocess.run(cmd, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=svtest.slack(timeout), cwd=cwd or self.tmp)
        out, err = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
        svtest.note_sanitizer(err.splitlines())
        return p.returncode, out, err

    def record(self):
        return svtest.read_text(self.rec).split() if os.path.exists(self.rec) else []

    def cases(self):
        root = ET.parse(self.junit).getroot()
        self.assertEqual(root.tag, "testsuites")
        (suite,) = list(root)
        self.assertEqual(suite.get("name"), "devops_hooks")
        cases = list(suite)
        self.assertEqual(int(suite.get("tests")), len(cases))
        self.assertEqual(int(suite.get("failures")), sum(1 for c in cases if c.find("failure") is not None))
        self.assertEqual(int(suite.get("skipped")), sum(1 for c in cases if c.find("skipped") is not None))
        return suite, {c.get("name"): c for c in cases}, [c.get("name") for c in cases]

    def test_order_prefix_and_junit(self):
        self.recorder("30-c.sh", "echo third line one\necho third line two\n")
        self.recorder("10-a.sh", "echo first\n")
        self.recorder("2-b", "echo second\n")
        self.recorder("B-upper.sh", "echo upper\n")
        self.recorder("a-lower.sh", "echo lower\n")
        rc, out, err = self.run_hooks("--junit", self.junit)
        self.assertEqual(rc, 0, out + err)
        want = ["10-a.sh", "2-b", "30-c.sh", "B-upper.sh", "a-lower.sh"]  # C locale byte order
        self.assertEqual(self.record(), want)
        lines = out.splitlines()
        for ln in ("10-a | first", "2-b | second", "30-c | third line one", "30-c | third line two",
                   "B-upper | upper", "a-lower | lower"):
            self.assertIn(ln, lines)
        self.assertLess(lines.index("30-c | third line one"), lines.index("30-c | third line two"))
        self.assertLess(lines.index("10-a | first"), lines.index("2-b | second"))
        self.assertIn("stagevisor hooks: 5 passed, 0 failed, 0 not run, 0 skipped", out)
        suite, cases, order = self.cases()
        self.assertEqual(order, want)
        total = 0.0
        for name in want:
            c = cases[name]
            self.assertEqual(list(c), [c.find("system-out")] if c.find("system-out") is not None else [])
            t = float(c.get("time"))
            self.assertGreaterEqual(t, 0.0)
            total += t
            self.assertEqual(c.get("classname"), "devops_hooks")
        self.assertGreaterEqual(float(suite.get("time")) + 0.01, total)
        self.assertEqual(cases["30-c.sh"].findtext("system-out"), "third line one\nthird line two\n")
        # A script's time is its own: a hook that waits for a file that appears only after the
        # other hook ran is timed from its own start.
        self.assertIn("stagevisor hooks: 10-a.sh passed in ", out)

    def test_stops_at_first_failure_with_its_code(self):
        self.recorder("10-ok.sh")
        self.recorder("20-fails.sh", "".join("echo 'line %d <&>'\n" % i for i in range(30)) + "echo 'bad thing' >&2\nexit 7\n")
        self.recorder("30-never.sh")
        self.recorder("40-never.sh")
        rc, out, err = self.run_hooks("--junit", self.junit)
        self.assertEqual(rc, 7, out + err)
        self.assertEqual(self.record(), ["10-ok.sh", "20-fails.sh"])
        self.assertIn("stagevisor hooks: 20-fails.sh FAILED after ", out)
        self.assertIn(": exit status 7", out)
        self.assertIn("stagevisor hooks: not run: 30-never.sh", out)
        self.assertIn("stagevisor hooks: 1 passed, 1 failed, 2 not run, 0 skipped", out)
        self.assertIn("20-fails | bad thing", err.splitlines())
        suite, cases, order = self.cases()
        self.assertEqual(order, ["10-ok.sh", "20-fails.sh", "30-never.sh", "40-never.sh"])
        failure = cases["20-fails.sh"].find("failure")
        self.assertIsNotNone(failure)
        self.assertEqual(failure.get("message"), "exit status 7")
        text = failure.text
        self.assertIn("[stderr] bad thing", text)
        self.assertIn("line 29 <&>", text)   # the last lines, escaped and read back
        self.assertNotIn("line 5 ", text)    # only the last ones
        for name in ("30-never.sh", "40-never.sh"):
            sk = cases[name].find("skipped")
            self.assertIsNotNone(sk, name)
            self.assertEqual(sk.get("message"), "not run: 20-fails.sh failed")
        self.assertIsNone(cases["10-ok.sh"].find("failure"))
        self.assertEqual(int(suite.get("failures")), 1)
        self.assertEqual(int(suite.get("skipped")), 2)

    def test_exit_codes_pass_through(self):
        for code in (1, 2, 42, 255):
            shutil.rmtree(self.dir)
            os.mkdir(self.dir)
            self.script("10-x.sh", "exit %d\n" % code)
            rc, out, err = self.run_hooks()
            self.assertEqual(rc, code, out + err)

    def test_signal_is_128_plus_n(self):
        self.recorder("10-dies.sh", "echo before\nkill -KILL $$\n")
        self.recorder("20-never.sh")
        rc, out, err = self.run_hooks("--junit", self.junit)
        self.assertEqual(rc, 137, out + err)
        self.assertIn("killed by signal 9 (SIGKILL)", out)
        self.assertEqual(self.record(), ["10-dies.sh"])
        _, cases, _ = self.cases()
        self.assertEqual(cases["10-dies.sh"].find("failure").get("message"), "killed by signal 9 (SIGKILL)")
        self.assertIn("before", cases["10-dies.sh"].find("failure").text)

    def test_timeout_kills_the_process_group(self):
        marker = os.path.join(self.tmp, "bg-marker")
        # A background child in the script's group must go too, not only the script.
        self.script("10-slow.sh", 'sh -c "sleep 1000; echo never" "%s" &\necho started\nwait\n' % marker)
        self.recorder("20-never.sh")
        proc = subprocess.Popen([coord_path(), "hooks", self.dir, "--timeout", "1.5", "--junit", self.junit],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = proc.communicate(timeout=svtest.slack(60))
        out, err = out.decode(), err.decode()
        svtest.note_sanitizer(err.splitlines())
        self.assertEqual(proc.returncode, 124, out + err)
        self.assertIn("10-slow | started", out)
        self.assertIn("timed out after 1.5 s", out)
        self.assertEqual(self.record(), [])
        svtest.wait_until(lambda: not any(marker.encode() in (self._cmdline(p) or b"") for p in svtest.all_pids()),
                          30, "the script's background sleep to be gone")
        _, cases, _ = self.cases()
        self.assertTrue(cases["10-slow.sh"].find("failure").get("message").startswith("timed out after 1.5 s"))

    def test_timeout_sigkill_when_term_is_ignored(self):
        self.script("10-stubborn.sh", "trap '' TERM\necho ignoring\nwhile :; do sleep 0.1; done\n")
        rc, out, err = self.run_hooks("--timeout", "0.5", timeout=60)
        self.assertEqual(rc, 124, out + err)
        self.assertIn("timed out after 0.5 s (ended by SIGKILL)", out)

    @staticmethod
    def _cmdline(pid):
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                return f.read()
        except OSError:
            return None

    def test_sigterm_reaches_the_running_script(self):
        started = os.path.join(self.tmp, "started")
        got = os.path.join(self.tmp, "got-term")
        self.script("10-waits.sh", 'trap \'echo TERM > "%s"; exit 0\' TERM\ntouch "%s"\nwhile :; do sleep 0.1; done\n'
                    % (got, started))
        self.recorder("20-never.sh")
        proc = subprocess.Popen([coord_path(), "hooks", self.dir, "--junit", self.junit], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            svtest.wait_file(started, svtest.slack(30))
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=svtest.slack(60))
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        out, err = out.decode(), err.decode()
        svtest.note_sanitizer(err.splitlines())
        self.assertEqual(proc.returncode, 143, out + err)
        self.assertEqual(svtest.read_text(got), "TERM\n")
        self.assertIn("stagevisor hooks: interrupted by SIGTERM", out)
        self.assertEqual(self.record(), [])
        _, cases, _ = self.cases()
        self.assertEqual(cases["10-waits.sh"].find("failure").get("message"), "interrupted by SIGTERM")
        self.assertEqual(cases["20-never.sh"].find("skipped").get("message"), "not run: interrupted by SIGTERM")

    def test_skipped_files_are_reported(self):
        self.recorder("10-run.sh")
        skipped = {"20-not-exec.sh": "not executable", "10-run.sh~": "editor backup", "10-run.sh.bak": "editor backup",
                   "10-run.sh.swp": "editor backup", "10-run.sh.orig": "editor backup",
                   "#10-run.sh#": "editor autosave", ".hidden.sh": "hidden file", "README.md": "not executable"}
        for name in skipped:
            self.recorder(name)
        os.chmod(os.path.join(self.dir, "20-not-exec.sh"), 0o644)
        os.chmod(os.path.join(self.dir, "README.md"), 0o644)
        os.mkdir(os.path.join(self.dir, "15-subdir"))
        skipped["15-subdir"] = "a directory"
        rc, out, err = self.run_hooks("--junit", self.junit)
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(self.record(), ["10-run.sh"])
        for name, why in skipped.items():
            self.assertIn("stagevisor hooks: skipping %s: %s" % (name, why), out.splitlines())
        self.assertIn("1 passed, 0 failed, 0 not run, %d skipped" % len(skipped), out)
        _, cases, order = self.cases()
        self.assertEqual(order, ["10-run.sh"])  # files that are no hooks are no test cases

    def test_output_edge_cases(self):
        self.script("10-no-newline.sh", "printf 'no newline at the end'\n")
        self.script("20-stderr.sh", "echo to-stdout\necho to-stderr >&2\nprintf 'partial err' >&2\n")
        self.script("30-long.sh", "head -c 20000 /dev/zero | tr '\\0' x; echo; echo after\n")
        self.script("40-crlf.sh", "printf 'dos line\\r\\n'\n")
        rc, out, err = self.run_hooks("--junit", self.junit)
        self.assertEqual(rc, 0, out + err)
        olines, elines = out.splitlines(), err.splitlines()
        self.assertIn("10-no-newline | no newline at the end", olines)
        self.assertIn("20-stderr | to-stdout", olines)
        self.assertIn("20-stderr | to-stderr", elines)
        self.assertIn("20-stderr | partial err", elines)
        self.assertNotIn("20-stderr | to-stderr", olines)
        self.assertIn("40-crlf | dos line", olines)
        long_parts = [ln for ln in olines if ln.startswith("30-long | x")]
        self.assertEqual(sum(len(ln) - len("30-long | ") for ln in long_parts), 20000)  # nothing lost
        self.assertIn("30-long | after", olines)
        _, cases, _ = self.cases()
        self.assertEqual(cases["20-stderr.sh"].findtext("system-out"),
                         "to-stdout\n[stderr] to-stderr\n[stderr] partial err\n")
        self.assertEqual(cases["10-no-newline.sh"].findtext("system-out"), "no newline at the end\n")

    def test_environment_stdin_and_cwd(self):
        work = os.path.join(self.tmp, "work")
        os.mkdir(work)
        self.script("10-env.sh", 'echo "foo=$FOO bar=$BAR"\necho "cwd=$(pwd)"\ncat\necho "stdin closed"\n')
        # stdin of stagevisor is a pipe that stays open: a script reading stdin must not hang.
        proc = subprocess.Popen([coord_path(), "hooks", "--env", "FOO=1", "--env", "BAR=a=b c", self.dir],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=work)
        try:
            out, err = proc.communicate(timeout=svtest.slack(30))
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        out = out.decode()
        svtest.note_sanitizer(err.decode().splitlines())
        self.assertEqual(proc.returncode, 0, out)
        self.assertIn("10-env | foo=1 bar=a=b c", out.splitlines())
        self.assertIn("10-env | cwd=%s" % work, out.splitlines())
        self.assertIn("10-env | stdin closed", out.splitlines())

    def test_cannot_execute(self):
        self.script("10-no-shebang.sh", "echo hi\n", shebang="")
        self.script("20-bad-interpreter.sh", "echo hi\n", shebang="#!/nonexistent/interpreter\n")
        rc, out, err = self.run_hooks()
        self.assertEqual(rc, 126, out + err)
        self.assertIn("not an executable format (a script needs a #! line)", err)
        os.unlink(os.path.join(self.dir, "10-no-shebang.sh"))
        rc, out, err = self.run_hooks()
        self.assertEqual(rc, 127, out + err)
        self.assertIn("No such file or directory", err)

    def test_empty_dir(self):
        rc, out, err = self.run_hooks("--junit", self.junit)
        self.assertEqual(rc, 0, out + err)
        self.assertIn("stagevisor hooks: no hooks to run in %s" % self.dir, out)
        suite, cases, _ = self.cases()
        self.assertEqual((suite.get("tests"), cases), ("0", {}))

    def test_usage_errors(self):
        missing = os.path.join(self.tmp, "no-such-dir")
        rc, out, err = self.run_hooks(directory=missing)
        self.assertEqual(rc, 2)
        self.assertIn("stagevisor hooks: %s: No such file or directory" % missing, err)
        afile = self.script("not-a-dir", "")
        rc, out, err = self.run_hooks(directory=afile)
        self.assertEqual(rc, 2)
        self.assertIn("not a directory", err)
        for args, text in ((["hooks"], "DIR is required"), (["hooks", self.dir, "--frob"], "unknown option --frob"),
                           (["hooks", self.dir, "--timeout", "soon"], "--timeout"),
                           (["hooks", self.dir, "--timeout", "0"], "--timeout"),
                           (["hooks", self.dir, "--env", "1X=y"], "--env"),
                           (["hooks", self.dir, "--junit"], "--junit needs a value"),
                           (["hooks", self.dir, self.dir], "unexpected argument")):
            p = subprocess.run([coord_path()] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
            self.assertEqual(p.returncode, 2, args)
            self.assertIn(text, p.stderr.decode(), args)
        p = subprocess.run([coord_path(), "hooks", "--help"], stdout=subprocess.PIPE, timeout=60)
        self.assertEqual(p.returncode, 0)
        for opt in (b"--junit FILE", b"--timeout S", b"--env NAME=VALUE", b"124", b"128+n"):
            self.assertIn(opt, p.stdout)
        p = subprocess.run([coord_path(), "--help"], stdout=subprocess.PIPE, timeout=60)
        listed = p.stdout.decode().split("not yet available:")[0]
        self.assertIn("hooks", listed)

    def test_junit_unwritable_is_infrastructure(self):
        self.script("10-ok.sh", "true\n")
        rc, out, err = self.run_hooks("--junit", os.path.join(self.tmp, "no", "such", "dir", "x.xml"))
        self.assertEqual(rc, 3, out + err)
        self.assertIn("--junit", err)


class SiteHooksTest(unittest.TestCase):
    """examples/drupal-like-site/devops_hooks, in a copy of the site."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sv-site-hooks-")
        self.site = os.path.join(self.tmp, "site")
        shutil.copytree(os.path.join(SRC, "examples", "drupal-like-site"), self.site,
                        ignore=shutil.ignore_patterns("build", "var", "vendor"))

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.assertEqual(svtest.take_sanitizer_reports(), [])

    def run_hooks(self):
        junit = os.path.join(self.tmp, "hooks.xml")
        p = subprocess.run([coord_path(), "hooks", "devops_hooks", "--junit", junit], cwd=self.site,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=svtest.slack(120))
        svtest.note_sanitizer(p.stderr.decode().splitlines())
        return p.returncode, p.stdout.decode(), p.stderr.decode(), junit

    def test_site_hooks_twice(self):
        rc, out, err, junit = self.run_hooks()
        self.assertEqual(rc, 0, out + err)
        lines = out.splitlines()
        self.assertIn("stagevisor hooks: skipping README.txt: not executable", lines)
        self.assertIn("stagevisor hooks: skipping 20-config-import.sh~: editor backup", lines)
        self.assertIn("20-config-import | 2 configuration objects imported", lines)
        self.assertIn("30-database-update | sv_shop: applied update 9001", lines)
        self.assertIn("30-database-update | 2 updates applied", lines)
        self.assertTrue(os.path.exists(os.path.join(self.site, "var", "cache", "cleared")))
        import json
        with open(os.path.join(self.site, "var", "config", "active.json")) as f:
            active = json.load(f)
        with open(os.path.join(self.site, "config", "sync", "system.site.json")) as f:
            self.assertEqual(active["system.site"], json.load(f))
        self.assertEqual(svtest.read_text(os.path.join(self.site, "var", "db", "sv_shop.version")), "9002\n")
        names = [c.get("name") for c in ET.parse(junit).getroot().iter("testcase")]
        self.assertEqual(names, ["10-cache-flush.sh", "20-config-import.sh", "30-database-update.sh"])
        # Again: the cache marker is replaced, and no update is applied twice.
        rc, out, err, junit = self.run_hooks()
        self.assertEqual(rc, 0, out + err)
        self.assertIn("10-cache-flush | cache cleared (1 entries removed)", out.splitlines())
        self.assertIn("30-database-update | 0 updates applied", out.splitlines())
        # A broken config export stops the build at the config import, with its code.
        with open(os.path.join(self.site, "config", "sync", "broken.json"), "w") as f:
            f.write("{not json")
        rc, out, err, junit = self.run_hooks()
        self.assertEqual(rc, 1, out + err)
        self.assertIn("20-config-import | config import: broken: Syntax error", err.splitlines())
        self.assertIn("stagevisor hooks: not run: 30-database-update.sh", out.splitlines())


if __name__ == "__main__":
    unittest.main(verbosity=2)
