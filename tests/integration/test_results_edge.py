"""Issue 3: `parse` on hand-made edge cases: nested suites, testcase without classname,
CDATA, entities, non-UTF-8 bytes, empty and truncated files (exit 1 naming
file:line:column), a 10 MB failure message (cut with the marker), phpstan JSON made after
phpstan's documented format, usage errors."""
import json
import os
import re
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import rstest  # noqa: E402


class Edge(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        print("parse command:", " ".join(rstest.parse_cmd()))
        cls.tmp = rstest.tmpdir("edge")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def write(self, name, data):
        p = os.path.join(self.tmp, name)
        with open(p, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        return p

    def test_nested_suites_no_classname_cdata_entities(self):
        p = self.write("nested.xml", """<?xml version="1.0"?>
<!DOCTYPE testsuites [<!ENTITY proj "shop">]>
<testsuites name="all">
  <testsuite name="outer">
    <testsuite name="inner &proj;">
      <testcase name="deep" classname="a.B" time="0.5"/>
      <testsuite name="innermost"><testcase name="deeper" classname="a.C"/></testsuite>
    </testsuite>
    <testcase name="no classname"><failure message="m &amp; m"><![CDATA[<stack> & trace]]></failure></testcase>
  </testsuite>
</testsuites>
""")
        ev, r = rstest.parse("junit", p)
        self.assertEqual([e["name"] for e in ev], ["deep", "deeper", "no classname"])
        self.assertEqual(ev[0]["suite"], "inner shop")
        self.assertEqual(ev[1]["suite"], "innermost")
        self.assertEqual(ev[2]["suite"], "outer")
        self.assertEqual(ev[2]["class"], "outer")  # no classname: the suite
        self.assertEqual(ev[2]["message"], "m & m")
        self.assertEqual(ev[2]["details"], "<stack> & trace")
        self.assertEqual(ev[0]["time"], 0.5)
        # Exactly one object per line, each line valid JSON.
        self.assertEqual(len(r.stdout.decode().splitlines()), 3)

    def test_non_utf8_bytes_become_valid_utf8(self):
        p = self.write("latin.xml", b'<testsuite name="s"><testcase name="caf\xe9 \xff"><failure>bad \xc3( bytes</failure>'
                                    b'</testcase></testsuite>')
        ev, r = rstest.parse("junit", p)
        r.stdout.decode("utf-8")  # strict: raises on invalid UTF-8
        self.assertEqual(ev[0]["name"], "caf\ufffd \ufffd")
        self.assertEqual(ev[0]["details"], "bad \ufffd( bytes")

    def test_empty_and_truncated_files_fail_with_position(self):
        empty = self.write("empty.xml", b"")
        ev, r = rstest.parse("junit", empty, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr.decode(), re.escape(empty) + r":1:\d+: no element found")

        trunc = self.write("trunc.xml", '<testsuite name="s">\n  <testcase name="ok"/>\n  <testcase name="cut">\n    <failure>half')
        ev, r = rstest.parse("junit", trunc, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr.decode(), re.escape(trunc) + r":4:\d+: ")
        self.assertEqual([e["name"] for e in ev], ["ok"])  # what finished is still reported

        # One bad file does not hide the others' events; the exit code still says malformed.
        good = self.write("good.xml", '<testsuite><testcase name="g"/></testsuite>')
        ev, r = rstest.parse("junit", trunc, good, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertEqual([e["name"] for e in ev], ["ok", "g"])

        for fmt in ("checkstyle", "pmd", "pmd-cpd", "phpstan-json", "phploc-json"):
            ev, r = rstest.parse(fmt, empty, check=False)
            self.assertEqual(r.returncode, 1, fmt)
            self.assertIn(empty, r.stderr.decode())
        ev, r = rstest.parse("teamcity", empty)  # a quiet stdout is not malformed
        self.assertEqual(ev, [])

    def test_ten_megabyte_failure_message_is_cut_with_marker(self):
        big = 10 * 1024 * 1024
        p = os.path.join(self.tmp, "big.xml")
        with open(p, "w") as f:
            f.write('<testsuite name="s"><testcase name="t" classname="C"><failure message="')
            f.write("m" * big)
            f.write('">')
            f.write("d" * big)
            f.write("</failure></testcase></testsuite>")
        ev, r = rstest.parse("junit", p)
        self.assertEqual(len(ev), 1)
        for key in ("message", "details"):
            m = re.search(r" \[\u2026 (\d+) bytes cut\]$", ev[0][key])
            self.assertIsNotNone(m, key)
            kept = len(ev[0][key]) - len(m.group(0))
            self.assertEqual(kept + int(m.group(1)), big)
            self.assertLessEqual(kept, 64 * 1024)
        self.assertLess(len(r.stdout), 200 * 1024)

    def test_phpstan_json_documented_format(self):
        doc = {
            "totals": {"errors": 1, "file_errors": 3},
            "files": {
                "/app/src/Cart.php": {"errors": 2, "messages": [
                    {"message": "Method Example\\Cart::total() should return int but returns float.", "line": 48,
                     "ignorable": True, "identifier": "return.type"},
                    {"message": "Undefined variable: $x", "line": 50, "ignorable": True},
                ]},
                "/app/src/Invoice.php": {"errors": 1, "messages": [
                    {"message": "Property Example\\Invoice::$items has no type specified.", "line": 9,
                     "ignorable": True, "tip": "See: https://phpstan.org/blog/solving-phpstan-no-value-type-specified-in-iterable-type"},
                ]},
            },
            "errors": ["Ignored error pattern #foo# was not matched in reported errors."],
        }
        p = self.write("phpstan.json", json.dumps(doc, indent=2))
        ev, _ = rstest.parse("phpstan-json", p)
        self.assertEqual(len(ev), doc["totals"]["file_errors"] + doc["totals"]["errors"])
        self.assertEqual([e["rule"] for e in ev], ["return.type", "phpstan", "phpstan", "phpstan.internal"])
        self.assertTrue(all(e["tool"] == "phpstan" and e["severity"] == "error" for e in ev))
        self.assertEqual(ev[0]["line"], 48)
        self.assertIn("tip", ev[2])

        bad = self.write("phpstan-bad.json", '{\n  "files": {\n    "a": [1,,]\n}')
        _, r = rstest.parse("phpstan-json", bad, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr.decode(), re.escape(bad) + r":3:\d+: ")

    def test_stdin_and_usage(self):
        cmd = rstest.parse_cmd()
        r = subprocess.run(cmd + ["teamcity", "-"], input=b"##teamcity[testStarted name='a']\n##teamcity[testFinished name='a' duration='5']\n",
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0)
        self.assertEqual(json.loads(r.stdout)["name"], "a")
        r = subprocess.run(cmd + ["nunit", "x.xml"], capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 125)
        self.assertIn("unknown format", r.stderr.decode())
        r = subprocess.run(cmd + ["junit"], capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 125)
        r = subprocess.run(cmd + ["junit", os.path.join(self.tmp, "missing.xml")], capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 1)
        self.assertIn("missing.xml", r.stderr.decode())


if __name__ == "__main__":
    unittest.main(verbosity=2)
