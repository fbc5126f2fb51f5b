"""Issue 3: the real tools' reports, made now from examples/site, parsed by `parse`, with
the counts cross-checked against each tool's own summary; fingerprints stable across a
change that moves code, and changed when the flagged line changes."""
import os
import re
import shutil
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import rstest  # noqa: E402


class Tools(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        print("parse command:", " ".join(rstest.parse_cmd()))
        cls.tmp = rstest.tmpdir("tools")
        cls.site = rstest.site_copy(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def check_source_and_fields(self, events, source, kind):
        for e in events:
            self.assertEqual(e["type"], kind)
            self.assertEqual(e["source"], source)

    def test_phpunit_junit_and_teamcity(self):
        junit, tc = self.path("junit.xml"), self.path("teamcity.txt")
        r = rstest.run_tool(["phpunit", "--log-junit", junit, "--log-teamcity", tc], self.site, ok=(1, 2))
        m = re.search(r"Tests: (\d+), Assertions: \d+(?:, Errors: (\d+))?(?:, Failures: (\d+))?"
                      r"(?:, Warnings: \d+)?(?:, Skipped: (\d+))?(?:, Incomplete: (\d+))?", r.stdout)
        self.assertIsNotNone(m, r.stdout)
        tests, errors, failures, skipped, incomplete = (int(g or 0) for g in m.groups())
        self.assertEqual((tests, errors, failures), (11, 1, 2))  # the example is made so

        events, _ = rstest.parse("junit", junit)
        self.check_source_and_fields(events, junit, "test")
        st = rstest.by_status(events)
        self.assertEqual(len(events), tests)
        self.assertEqual(st["failed"], failures)
        self.assertEqual(st["error"], errors)
        self.assertEqual(st["skipped"], skipped + incomplete)
        self.assertEqual(st["passed"], tests - failures - errors - skipped - incomplete)
        bulk = [e for e in events if e["name"] == "testBulkDiscount"][0]
        self.assertEqual(bulk["class"], "Example\\Tests\\CartTest")
        self.assertTrue(bulk["file"].endswith("tests/CartTest.php"))
        self.assertEqual(bulk["message"], 'total with <5% discount> & "quotes"\nFailed asserting that 238 is identical to 250.')
        self.assertIn("CartTest.php:30", bulk["details"])
        for e in events:
            self.assertIsInstance(e["time"], float)

        # TeamCity does not tell errors from failures: both are "failed".
        tev, _ = rstest.parse("teamcity", tc)
        st2 = rstest.by_status(tev)
        self.assertEqual(len(tev), tests)
        self.assertEqual(st2["failed"], failures + errors)
        self.assertEqual(st2["skipped"], skipped + incomplete)
        self.assertEqual(sorted(e["name"] for e in tev), sorted(e["name"] for e in events))
        tbulk = [e for e in tev if e["name"] == "testBulkDiscount"][0]
        self.assertEqual(tbulk["message"], bulk["message"])

    def test_phpcs_checkstyle_and_junit(self):
        cs, cj = self.path("phpcs.xml"), self.path("phpcs-junit.xml")
        r = rstest.run_tool(["phpcs", "--standard=PSR12", "--report=summary", "--report-checkstyle=" + cs,
                             "--report-junit=" + cj, "src"], self.site, ok=(1, 2))
        m = re.search(r"A TOTAL OF (\d+) ERRORS? AND (\d+) WARNINGS?", r.stdout)
        self.assertIsNotNone(m, r.stdout)
        nerr, nwarn = int(m.group(1)), int(m.group(2))
        self.assertGreater(nerr, 0)
        events, _ = rstest.parse("checkstyle", cs)
        self.check_source_and_fields(events, cs, "finding")
        self.assertEqual(sum(e["severity"] == "error" for e in events), nerr)
        self.assertEqual(sum(e["severity"] == "warning" for e in events), nwarn)
        for e in events:
            self.assertEqual(e["tool"], "phpcs")
            self.assertRegex(e["rule"], r"^\w+(\.\w+){3}$")
            self.assertRegex(e["fingerprint"], r"^fp1:[0-9a-f]{16}$")
            self.assertTrue(e["file"].endswith("src/Invoice.php"))
            self.assertGreater(e["line"], 0)
        self.assertEqual(len({e["fingerprint"] for e in events}), len(events))

        jev, _ = rstest.parse("junit", cj)
        st = rstest.by_status(jev)
        self.assertEqual(st["failed"], nerr + nwarn)

    def test_phpmd_xml_and_checkstyle(self):
        text = rstest.run_tool(["phpmd", "src", "text", "cleancode,codesize,unusedcode,naming"], self.site, ok=(2,))
        expected = [l for l in text.stdout.splitlines() if re.match(r"^/.*\.php:\d+\s", l)]
        self.assertGreater(len(expected), 0)
        pmd = self.path("phpmd.xml")
        rstest.run_tool(["phpmd", "src", "xml", "cleancode,codesize,unusedcode,naming", "--reportfile", pmd],
                        self.site, ok=(2,))
        events, _ = rstest.parse("pmd", pmd)
        self.check_source_and_fields(events, pmd, "finding")
        self.assertEqual(len(events), len(expected))
        rules = sorted(re.split(r"\s+", l)[1] for l in expected)
        self.assertEqual(sorted(e["rule"] for e in events), rules)
        self.assertIn("UnusedLocalVariable", rules)

        pcs = self.path("phpmd-checkstyle.xml")
        rstest.run_tool(["phpmd", "src", "checkstyle", "cleancode,codesize,unusedcode,naming", "--reportfile", pcs],
                        self.site, ok=(2,))
        cev, _ = rstest.parse("checkstyle", pcs)
        self.assertEqual(len(cev), len(expected))
        self.assertEqual(sorted(e["rule"] for e in cev), rules)
        self.assertTrue(all(e["tool"] == "phpmd" for e in cev))

    def test_phpcpd_duplications(self):
        cpd = self.path("cpd.xml")
        r = rstest.run_tool(["phpcpd", "--log-pmd", cpd, "src"], self.site, ok=(0, 1))
        m = re.search(r"Found (\d+) clones? with (\d+) duplicated lines in (\d+) files", r.stdout)
        self.assertIsNotNone(m, r.stdout)
        clones, lines, files = (int(g) for g in m.groups())
        events, _ = rstest.parse("pmd-cpd", cpd)
        self.check_source_and_fields(events, cpd, "finding")
        self.assertEqual(len(events), clones)
        e = events[0]
        self.assertEqual((e["tool"], e["rule"], e["severity"]), ("phpcpd", "duplication", "warning"))
        self.assertEqual(e["end_line"] - e["line"] + 1, lines)
        self.assertEqual(len({p["file"] for p in e["places"]}), files)
        self.assertIn("%d lines" % lines, e["message"])

    def test_phploc_metrics(self):
        out = self.path("phploc.json")
        r = rstest.run_tool(["phploc", "--log-json", out, "src"], self.site)
        loc = int(re.search(r"Lines of Code \(LOC\)\s+(\d+)", r.stdout).group(1))
        classes = int(re.search(r"^\s+Classes\s+(\d+)\s*$", r.stdout, re.M).group(1))
        events, _ = rstest.parse("phploc-json", out)
        self.check_source_and_fields(events, out, "metric")
        metrics = {e["name"]: e["value"] for e in events}
        self.assertEqual(metrics["loc"], loc)
        self.assertEqual(metrics["classes"], classes)
        self.assertTrue(all(e["tool"] == "phploc" for e in events))

    def test_fingerprints_survive_moved_code_and_change_with_the_line(self):
        def findings(site, name):
            out = self.path(name)
            rstest.run_tool(["phpcs", "--standard=PSR12", "--report=checkstyle", "--report-file=" + out, "src"],
                            site, ok=(1, 2))
            ev, _ = rstest.parse("checkstyle", out, extra=["--root", site])
            return {(e["rule"], e["message"]): e["fingerprint"] for e in ev}, ev

        before, ev1 = findings(self.site, "fp1.xml")
        again, _ = findings(self.site, "fp2.xml")
        self.assertEqual(before, again)  # same code, same fingerprints

        moved = os.path.join(self.tmp, "moved")
        shutil.copytree(self.site, moved)
        inv = os.path.join(moved, "src", "Invoice.php")
        src = open(inv).read().replace("    public function describe(",
                                       "    // Three comment lines\n    // move the findings\n    // down.\n"
                                       "    public function describe(", 1)
        open(inv, "w").write(src)
        after, ev2 = findings(moved, "fp3.xml")
        self.assertEqual(before, after)  # moved down 3 lines, in another workspace: unchanged
        self.assertEqual([e["line"] + 3 for e in ev1], [e["line"] for e in ev2])

        open(inv, "w").write(src.replace("$verbose == true", "$verbose === true"))
        changed, _ = findings(moved, "fp4.xml")
        self.assertNotEqual(before[("Squiz.ControlStructures.ControlSignature.NewlineAfterOpenBrace",
                                    "Newline required after opening brace")],
                            changed[("Squiz.ControlStructures.ControlSignature.NewlineAfterOpenBrace",
                                     "Newline required after opening brace")])


if __name__ == "__main__":
    unittest.main(verbosity=2)
