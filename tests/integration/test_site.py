"""examples/drupal-like-site through the real `stagevisor run --backend local` and the real
agent, with Debian's apache2 + mod_php, phpunit, chromium + chromedriver, phpcs, phpmd, phpcpd
and phploc.

What it checks, each stage run in a copy of examples/ (world-readable: Apache's workers are
www-data) with the spec's loopback ports replaced by free ones:
  - tests.json is green (exit 0) and the coordinator's JUnit file holds exactly the test cases
    PHPUnit itself wrote (its own --log-junit files of the unit and the browser runs), with
    PHPUnit's statuses, and the summary's counts are PHPUnit's;
  - the browser test really ran in Chromium against Apache: its three cases pass, Apache's
    access log (through the agent) has the browser's form submits, and in a copy whose front
    page heading is changed (the site renamed in its config) exactly the heading's case fails
    (exit 1);
  - SV_DEMO_FAIL=1 turns the stage red (exit 1) with testGrossAddsVat failed in the JUnit file;
  - analysis.json is green although each tool finds something: the findings are the tools'
    own (their reports in the workspace), none of them fails, phploc's metrics arrive.
Without chromium/chromedriver on the machine, the browser parts are skipped with the reason
printed, and the unit tests run without the browser processes.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svtest  # noqa: E402
from svtest import case_status, phpunit_truth, coord_cases  # noqa: E402

SRC = os.environ.get("SV_SRC") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SITE = os.path.join(SRC, "examples", "drupal-like-site")
SITE_REL = os.path.join("examples", "drupal-like-site")
BROWSER_CASES = ["testFrontPageHeading", "testGreetingFormSubmit", "testPriceFormSubmit"]


coord_path = svtest.coord_path


def browser_missing():
    """Why the browser test cannot run here, or None."""
    for prog in ("chromedriver", "chromium", "apache2"):
        if not shutil.which(prog) and not os.path.exists("/usr/sbin/" + prog):
            return "%s is not installed (scripts/install-deps installs chromium and chromium-driver)" % prog
    p = subprocess.run(["php", "-r", "exit(function_exists('curl_init') ? 0 : 1);"], capture_output=True)
    if p.returncode != 0:
        return "php-curl is not installed (the WebDriver client needs it)"
    return None


def replace_ports(obj, ports):
    if isinstance(obj, str):
        for old, new in ports.items():
            obj = obj.replace(old, new)
        return obj
    if isinstance(obj, list):
        return [replace_ports(x, ports) for x in obj]
    if isinstance(obj, dict):
        return {k: replace_ports(v, ports) for k, v in obj.items()}
    return obj








class Workspace:
    """A copy of examples/drupal-like-site at examples/drupal-like-site under a fresh,
    world-readable directory, and the stage specs rewritten to free ports."""

    def __init__(self, parent, name, with_browser=True, edit=None):
        self.root = os.path.join(parent, name)
        os.makedirs(os.path.join(self.root, "examples"))
        for d in (parent, self.root, os.path.join(self.root, "examples")):
            os.chmod(d, 0o755)
        self.site = os.path.join(self.root, SITE_REL)
        shutil.copytree(SITE, self.site, ignore=shutil.ignore_patterns("build", "var", "vendor"))
        if edit:
            edit(self.site)
        self.ports = {"8089": str(svtest.free_port()), "9515": str(svtest.free_port())}
        while self.ports["9515"] == self.ports["8089"]:
            self.ports["9515"] = str(svtest.free_port())
        self.specs = {}
        for stage in ("tests", "analysis"):
            with open(os.path.join(SITE, "stages", stage + ".json")) as f:
                spec = replace_ports(json.load(f), self.ports)
            if not with_browser:
                spec["processes"] = [p for p in spec["processes"] if p["name"] not in ("browser", "chromedriver", "apache")]
            path = os.path.join(self.root, stage + ".spec.json")
            with open(path, "w") as f:
                json.dump(spec, f)
            self.specs[stage] = path

    def run(self, stage, env=None):
        junit = os.path.join(self.root, stage + ".junit.xml")
        summary = os.path.join(self.root, stage + ".summary.json")
        cmd = [coord_path(), "run", "--backend", "local", "--spec", self.specs[stage], "--agent", svtest.agent_path(),
               "--junit", junit, "--json", summary, "--state-dir", os.path.join(self.root, "state"),
               "--timeout", str(int(svtest.slack(300)))]
        full_env = dict(os.environ)
        full_env.pop("SV_DEMO_FAIL", None)
        full_env.update(env or {})
        p = subprocess.run(cmd, cwd=self.root, env=full_env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=svtest.slack(400))
        text = p.stdout.decode("utf-8", "replace")
        svtest.note_sanitizer(text.splitlines())
        with open(summary) as f:
            summ = json.load(f)
        return p.returncode, text, junit, summ

    def report(self, name):
        return os.path.join(self.site, "build", "reports", name)


class SiteTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sv-site-")
        cls.no_browser = browser_missing()
        if cls.no_browser:
            sys.stderr.write("test_site: the browser test is skipped: %s\n" % cls.no_browser)

    @classmethod
    def tearDownClass(cls):
        svtest.kill_strays(cls.tmp)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def tearDown(self):
        self.assertEqual(svtest.take_sanitizer_reports(), [])

    def need_browser(self):
        if self.no_browser:
            self.skipTest("browser test skipped: " + self.no_browser)

    def explain(self, rc, text):
        return "stagevisor exited %d; its output ends:\n%s" % (rc, "\n".join(text.splitlines()[-50:]))

    def test_tests_green_with_phpunits_counts(self):
        ws = Workspace(self.tmp, "green", with_browser=not self.no_browser)
        rc, text, junit, summ = ws.run("tests")
        self.assertEqual(rc, 0, self.explain(rc, text))
        self.assertEqual((summ["result"], summ["complete"]), ("passed", True))
        truth = phpunit_truth(ws.report("unit.xml"))
        self.assertEqual(len(truth), 14)  # the example's unit tests (README.md), all passing
        if not self.no_browser:
            browser = phpunit_truth(ws.report("browser.xml"))
            self.assertEqual(sorted(n for _, n in browser), BROWSER_CASES)
            truth.update(browser)
        got = {k: st for k, (st, _) in coord_cases(junit).items()}
        self.assertEqual(got, truth)
        self.assertEqual(set(truth.values()), {"passed"})
        self.assertEqual(summ["tests"], {"passed": len(truth), "failed": 0, "error": 0, "skipped": 0})
        if self.no_browser:
            self.skipTest("browser part skipped: " + self.no_browser)
        # The browser went through Apache: its form submits are in Apache's access log, which
        # reaches the console through the agent.
        self.assertIn('"GET /greet?name=Ada+%3CLovelace%3E HTTP/1.1" 200', text)
        self.assertIn('"GET /price?unit=1000&qty=12 HTTP/1.1" 200', text)

    def test_changed_heading_fails_the_browser_test(self):
        self.need_browser()

        def edit(site):
            # The heading shows the site's name from its configuration: rename the site in the
            # copy. The unit tests use their own configuration, so only the browser can see it.
            path = os.path.join(site, "config", "sync", "system.site.json")
            with open(path) as f:
                conf = json.load(f)
            self.assertEqual(conf["name"], "Stagevisor Demo Shop")
            conf["name"] = "Renamed Shop"
            with open(path, "w") as f:
                json.dump(conf, f)

        ws = Workspace(self.tmp, "heading", edit=edit)
        rc, text, junit, summ = ws.run("tests")
        self.assertEqual(rc, 1, self.explain(rc, text))
        cases = coord_cases(junit)
        browser = {k[1]: v for k, v in cases.items() if k[0] == "SvDemo\\Tests\\Browser\\FrontPageTest"}
        self.assertEqual(sorted(browser), BROWSER_CASES)
        self.assertEqual(browser["testFrontPageHeading"][0], "failed")
        failure = browser["testFrontPageHeading"][1].find("failure")
        self.assertIn('the front page heading is "Welcome to Renamed Shop"', failure.get("message"))
        self.assertEqual(browser["testGreetingFormSubmit"][0], "passed")
        self.assertEqual(browser["testPriceFormSubmit"][0], "passed")
        self.assertEqual([k for k, (st, _) in cases.items() if st != "passed"],
                         [("SvDemo\\Tests\\Browser\\FrontPageTest", "testFrontPageHeading")])
        self.assertEqual(summ["tests"], {"passed": 16, "failed": 1, "error": 0, "skipped": 0})

    def test_demo_fail_switch_turns_red(self):
        ws = Workspace(self.tmp, "red", with_browser=False)
        rc, text, junit, summ = ws.run("tests", env={"SV_DEMO_FAIL": "1"})
        self.assertEqual(rc, 1, self.explain(rc, text))
        self.assertEqual(summ["result"], "failed")
        cases = coord_cases(junit)
        failed = [k for k, (st, _) in cases.items() if st != "passed"]
        self.assertEqual(failed, [("Drupal\\Tests\\sv_shop\\Unit\\PriceCalculatorTest", "testGrossAddsVat")])
        failure = cases[failed[0]][1].find("failure")
        self.assertIn("Failed asserting that 12960 is identical to 12000.", failure.get("message"))
        self.assertIn("FAILED Drupal\\Tests\\sv_shop\\Unit\\PriceCalculatorTest::testGrossAddsVat", text)
        truth = phpunit_truth(ws.report("unit.xml"))
        self.assertEqual({k: st for k, (st, _) in cases.items()}, truth)
        self.assertEqual(summ["tests"], {"passed": 13, "failed": 1, "error": 0, "skipped": 0})

    def test_analysis_green_with_findings(self):
        ws = Workspace(self.tmp, "analysis", with_browser=False)
        rc, text, junit, summ = ws.run("analysis")
        self.assertEqual(rc, 0, self.explain(rc, text))
        # The tools' own reports are the truth: every finding arrives, none fails the stage.
        cs = [e.get("severity") for e in ET.parse(ws.report("phpcs.xml")).getroot().iter("error")]
        pmd = list(ET.parse(ws.report("phpmd.xml")).getroot().iter("violation"))
        cpd = list(ET.parse(ws.report("phpcpd.xml")).getroot().iter("duplication"))
        self.assertTrue(cs and set(cs) == {"warning"}, cs)
        self.assertTrue(pmd and all(int(v.get("priority")) >= 3 for v in pmd), [v.get("rule") for v in pmd])
        self.assertEqual(len(cpd), 1)
        self.assertEqual(summ["findings"]["error"], 0)
        self.assertEqual(summ["findings"]["warning"], len(cs) + len(pmd) + len(cpd))
        self.assertGreater(summ["metrics"], 0)
        by_tool = {}
        for suite in ET.parse(junit).getroot():
            by_tool[suite.get("name")] = [case_status(c) for c in suite]
        self.assertEqual(by_tool["phpcs"], ["passed"] * len(cs))
        self.assertEqual(by_tool["phpmd"], ["passed"] * len(pmd))
        self.assertEqual(by_tool["phpcpd"], ["passed"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
