#!/usr/bin/env python3
"""A full disk on the Jenkins host (docs/operations.md, "A full disk"): `stagevisor run` with
its state directory or its reports on a tiny tmpfs that fills up, in a mount namespace of its
own (`unshare -m`, or `unshare -rm` when not root). Checks that the verdict comes from memory
when events.jsonl cannot be written, that a passed stage whose JUnit or JSON report cannot be
written exits 3 (never a green build without its report), that a failing stage keeps its own
code, and that a stage whose state directory is full from the start is still judged from
memory. Exits 77 (skipped) when no mount namespace can be made here, saying why.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from svtest import coord_path, write_spec  # noqa: E402

JUNIT = ('<testsuites><testsuite name="s" tests="{n}">{cases}</testsuite></testsuites>')


def junit_text(passed, failed):
    cases = ['<testcase classname="c" name="p%d"/>' % i for i in range(passed)]
    cases += ['<testcase classname="c" name="f%d"><failure message="no">x</failure></testcase>' % i
              for i in range(failed)]
    return JUNIT.format(n=passed + failed, cases="".join(cases))


def unshare_argv():
    base = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-rm"]
    try:
        r = subprocess.run(base + ["sh", "-c", "mount -t tmpfs -o size=16k tmpfs /mnt 2>/dev/null || "
                                   "mount -t tmpfs -o size=16k tmpfs \"$TMPDIR\""],
                           capture_output=True, timeout=30, env=dict(os.environ, TMPDIR=tempfile.gettempdir()))
    except (OSError, subprocess.SubprocessError) as e:
        return None, "unshare cannot run: %s" % e
    if r.returncode != 0:
        return None, "no mount namespace with a tmpfs here: %s" % r.stderr.decode(errors="replace").strip()
    return base, None


class FullDisk(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="sv-fulldisk-")
        self.full = os.path.join(self.dir, "full")
        os.makedirs(self.full)
        os.makedirs(os.path.join(self.dir, "out"))

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def spec(self, passed, failed, log_lines):
        xml = junit_text(passed, failed).replace("'", "")
        cmd = "seq 1 %d; printf '%%s' '%s' > out/j.xml" % (log_lines, xml)
        return write_spec(self.dir, {"version": 1, "stage": "fill", "processes": [
            {"name": "job", "command": ["sh", "-c", cmd], "cwd": self.dir,
             "success_exit_codes": [0],
             "results": [{"format": "junit", "path": "out/j.xml"}]}]})

    def run_full(self, args, size="16k", prefill=False):
        """stagevisor run ARGS with self.full a tmpfs of SIZE (filled up first with prefill)."""
        fill = " && (dd if=/dev/zero of=%s/filler bs=4k 2>/dev/null; true)" % self.full if prefill else ""
        script = 'mount -t tmpfs -o size=%s tmpfs "%s"%s && exec "$@"' % (size, self.full, fill)
        r = subprocess.run(UNSHARE + ["sh", "-c", script, "sh", coord_path(), "run", "--backend", "local"] + args,
                           capture_output=True, text=True, timeout=300, cwd=self.dir)
        return r.returncode, r.stdout, r.stderr

    def test_state_dir_fills_up_during_the_run(self):
        spec = self.spec(3, 0, 20000)  # ~20000 log events: far more than 16 KiB of events.jsonl
        junit = os.path.join(self.dir, "out", "junit.xml")
        rc, out, err = self.run_full(["--spec", spec, "--state-dir", os.path.join(self.full, "state"),
                                      "--junit", junit])
        self.assertEqual(rc, 0, out + err)
        self.assertIn("No space left on device: events not all written there; the reports are made from memory", err)
        self.assertIn("passed (exit 0)", out)
        cases = ET.parse(junit).getroot().findall(".//testcase")
        self.assertEqual(len(cases), 3)

    def test_junit_on_a_full_disk_turns_a_pass_into_exit_3(self):
        spec = self.spec(2, 0, 1)
        junit = os.path.join(self.full, "junit.xml")
        rc, out, err = self.run_full(["--spec", spec, "--state-dir", os.path.join(self.dir, "state"),
                                      "--junit", junit], prefill=True)
        self.assertEqual(rc, 3, out + err)
        self.assertIn("--junit %s: No space left on device" % junit, err)
        self.assertIn("the stage passed but its reports could not be written: exit 3", err)
        self.assertIn("passed (exit 0)", out)  # the summary still says what the stage did
        self.assertFalse(os.path.exists(junit))
        self.assertEqual([f for f in os.listdir(self.full) if f.startswith("junit")], [],
                         "a partial JUnit file was left behind")

    def test_json_on_a_full_disk_turns_a_pass_into_exit_3(self):
        spec = self.spec(1, 0, 1)
        rc, out, err = self.run_full(["--spec", spec, "--state-dir", os.path.join(self.dir, "state"),
                                      "--json", os.path.join(self.full, "summary.json")], prefill=True)
        self.assertEqual(rc, 3, out + err)
        self.assertIn("summary.json: No space left on device", err)

    def test_a_failing_stage_keeps_exit_1(self):
        spec = self.spec(1, 2, 1)
        rc, out, err = self.run_full(["--spec", spec, "--state-dir", os.path.join(self.dir, "state"),
                                      "--junit", os.path.join(self.full, "junit.xml")], prefill=True)
        self.assertEqual(rc, 1, out + err)
        self.assertIn("No space left on device", err)
        self.assertNotIn("the stage passed", err)

    def test_state_dir_full_from_the_start(self):
        """Nothing can be written to the state directory at all: the stage still runs and is
        judged from memory, and its JUnit file (elsewhere) is complete."""
        spec = self.spec(2, 0, 1)
        junit = os.path.join(self.dir, "out", "junit.xml")
        rc, out, err = self.run_full(["--spec", spec, "--state-dir", os.path.join(self.full, "state"),
                                      "--junit", junit], size="4k", prefill=True)
        self.assertEqual(rc, 0, out + err)
        self.assertIn("No space left on device: events not all written there", err)
        self.assertEqual(len(ET.parse(junit).getroot().findall(".//testcase")), 2)

if __name__ == "__main__":
    UNSHARE, why = unshare_argv()
    if UNSHARE is None:
        print("test_coord_fulldisk: skipped: " + why)
        sys.exit(77)
    unittest.main(verbosity=2)
