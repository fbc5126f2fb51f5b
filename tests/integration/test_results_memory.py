"""Issue 3: a 200 MB JUnit file parses with bounded memory. The peak RSS of `parse` on a
200 MB file (20 MB under ASan, whose shadow memory dwarfs ours) stays under a fixed bound,
and barely above the peak for a file ten times smaller: memory does not grow with size."""
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import rstest  # noqa: E402

MB = 1024 * 1024


class Memory(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = rstest.tmpdir("memory")
        # ASan keeps freed blocks in a quarantine (256 MB by default) that grows with the
        # number of allocations, not with what the program holds: keep it small here.
        cls.env = dict(os.environ)
        if rstest.sanitize():
            cls.env["ASAN_OPTIONS"] = (os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=4").lstrip(":")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def measure(self, size):
        path = os.path.join(self.tmp, "junit-%d.xml" % size)
        cases, failures = rstest.gen_junit(path, size)
        out = os.path.join(self.tmp, "events-%d.jsonl" % size)
        with open(out, "wb") as f:
            status, wall, rss = rstest.run_measured(rstest.parse_cmd() + ["junit", path], stdout=f, env=self.env)
        self.assertEqual(status, 0)
        lines = failed = 0
        with open(out, "rb") as f:
            for line in f:
                lines += 1
                if b'"status":"failed"' in line:
                    failed += 1
        os.unlink(path)
        os.unlink(out)
        self.assertEqual(lines, cases)
        self.assertEqual(failed, failures)
        return rss, cases, wall

    def test_big_junit_bounded_memory(self):
        big = (20 if rstest.sanitize() else 200) * MB
        small_rss, _, _ = self.measure(big // 10)
        big_rss, cases, wall = self.measure(big)
        print("junit %d MB: %d cases, %.2f s, peak RSS %d KiB (%d KiB for a tenth)"
              % (big // MB, cases, wall, big_rss, small_rss))
        bound = 100 * 1024 if rstest.sanitize() else 8 * 1024  # the goal: under 8 MB
        self.assertLess(big_rss, bound)
        self.assertLess(big_rss, small_rss + (16 if rstest.sanitize() else 4) * 1024)


if __name__ == "__main__":
    unittest.main(verbosity=2)
