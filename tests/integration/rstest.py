"""rstest — helpers for the results integration tests (issue 3).

What it does: finds the binary that implements `parse` ($SV_AGENT if it answers
`parse --help`, else the stand-alone sv-parse built from agents/results), runs
`parse FORMAT FILE...` and returns the events, and runs the Debian PHP tools on a copy of
examples/site into a temporary directory. What it does not do: assert anything.
"""
import json
import os
import shutil
import subprocess
import tempfile

SRC = os.environ.get("SV_SRC") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("SV_BUILD", "")


def sanitize():
    return os.environ.get("SV_SANITIZE", "0") in ("1", "ON", "on", "true", "TRUE")


def _answers_parse(exe):
    try:
        r = subprocess.run([exe, "parse", "--help"], capture_output=True, text=True, timeout=60)
    except OSError:
        return False
    return r.returncode == 0 and "FORMAT" in r.stdout


def parse_cmd():
    """argv prefix that runs `parse`: the agent when it dispatches parse, else sv-parse."""
    agent = os.environ.get("SV_AGENT")
    if agent and os.access(agent, os.X_OK) and _answers_parse(agent):
        return [agent, "parse"]
    for cand in (os.path.join(BUILD, "agents", "results", "sv-parse"), os.path.join(BUILD, "results", "sv-parse")):
        if os.access(cand, os.X_OK):
            return [cand, "parse"]
    raise RuntimeError("no parse command: SV_AGENT does not answer `parse --help` and sv-parse is not built")


def parse(fmt, *files, extra=(), check=True):
    """Runs parse; returns (events, completed process)."""
    r = subprocess.run(parse_cmd() + list(extra) + [fmt] + list(files), capture_output=True, timeout=600)
    if check and r.returncode != 0:
        raise AssertionError("parse %s %s failed (%d): %s" % (fmt, files, r.returncode, r.stderr.decode(errors="replace")))
    events = [json.loads(line) for line in r.stdout.decode("utf-8").splitlines() if line.strip()]
    return events, r


def site_copy(tmp):
    """A copy of examples/site under tmp (the tools write nothing into the repo)."""
    dst = os.path.join(tmp, "site")
    shutil.copytree(os.path.join(SRC, "examples", "site"), dst)
    return dst


def run_tool(argv, cwd, ok=(0,)):
    r = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=300, env=dict(os.environ, TERM="dumb"))
    if r.returncode not in ok:
        raise AssertionError("%s exited %d:\n%s\n%s" % (argv, r.returncode, r.stdout, r.stderr))
    return r


def tmpdir(name):
    return tempfile.mkdtemp(prefix="sv-results-%s-" % name)


def by_status(events):
    out = {"passed": 0, "failed": 0, "error": 0, "skipped": 0}
    for e in events:
        if e.get("type") == "test":
            out[e["status"]] += 1
    return out


def gen_junit(path, size_bytes, fail_every=10):
    """A PHPUnit-like JUnit file of about size_bytes: suites of 100 cases, one case in
    fail_every failing. Returns (cases, failures)."""
    cases = failures = 0
    written = 0
    with open(path, "w", buffering=1 << 20) as f:
        head = '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n'
        f.write(head)
        written += len(head)
        s = 0
        while written < size_bytes:
            cls = "App\\Module%d\\Thing%dTest" % (s % 97, s)
            fpath = "/app/tests/Module%d/Thing%dTest.php" % (s % 97, s)
            dotted = cls.replace("\\", ".")
            parts = ['  <testsuite name="%s" file="%s" tests="100">\n' % (cls, fpath)]
            for i in range(100):
                cases += 1
                if cases % fail_every == 0:
                    failures += 1
                    parts.append('    <testcase name="testCase%d" class="%s" file="%s" line="%d" assertions="1" time="0.0%05d">\n'
                                 '      <failure type="PHPUnit\\Framework\\ExpectationFailedException">%s::testCase%d\n'
                                 'Failed asserting that %d is identical to %d.\n\n%s:%d</failure>\n    </testcase>\n'
                                 % (i, cls, fpath, 10 + i * 7, i, cls, i, i, i + 1, fpath, 12 + i * 7))
                else:
                    parts.append('    <testcase name="testCase%d" class="%s" classname="%s" line="%d" '
                                 'time="0.0%05d"/>\n' % (i, cls, dotted, 10 + i * 7, i))
            parts.append("  </testsuite>\n")
            chunk = "".join(parts)
            f.write(chunk)
            written += len(chunk)
            s += 1
        f.write("</testsuites>\n")
    return cases, failures


def gen_checkstyle(path, size_bytes):
    """A phpcs-like checkstyle file of about size_bytes. Returns the number of errors."""
    n = 0
    written = 0
    sev = ("error", "warning")
    with open(path, "w", buffering=1 << 20) as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<checkstyle version="3.7.1">\n')
        i = 0
        while written < size_bytes:
            parts = ['<file name="/app/src/Module%d/File%d.php">\n' % (i % 50, i)]
            for j in range(50):
                n += 1
                parts.append(' <error line="%d" column="%d" severity="%s" message="Line exceeds 120 characters; contains %d characters" '
                             'source="Generic.Files.LineLength.TooLong"/>\n' % (j * 3 + 1, j % 80 + 1, sev[j % 2], 120 + j))
            parts.append("</file>\n")
            chunk = "".join(parts)
            f.write(chunk)
            written += len(chunk)
            i += 1
        f.write("</checkstyle>\n")
    return n


def run_timed(argv, stdout=subprocess.DEVNULL, stdin=None, env=None):
    """Runs argv under /usr/bin/time; returns (exit status, wall s, user+sys CPU s, peak RSS KiB).

    GNU time reports the child's own peak; getrusage() of a child forked from Python would
    report Python's pages too, which the child had until exec."""
    fd, report = tempfile.mkstemp(prefix="sv-time-")
    os.close(fd)
    try:
        subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M %x", "-o", report] + list(argv), stdout=stdout,
                       stderr=subprocess.DEVNULL, stdin=stdin, timeout=1800, env=env)
        wall, user, system, rss, status = open(report).read().split()[-5:]
    finally:
        os.unlink(report)
    return int(status), float(wall), float(user) + float(system), int(rss)


def run_measured(argv, stdout=subprocess.DEVNULL, stdin=None, env=None):
    """Runs argv; returns (exit status, wall seconds, peak RSS in KiB)."""
    status, wall, _, rss = run_timed(argv, stdout=stdout, stdin=stdin, env=env)
    return status, wall, rss
