"""Issue 7 part 7: XML reports in the encodings tools really write.

`parse` on junit, checkstyle, pmd and pmd-cpd reports written in the encodings Java and
Windows tools declare: by a real JVM (OpenJDK's OutputStreamWriter, the way PMD's CPD and
Ant write their reports: `encoding="` + file.encoding + `"`, unmappable characters as '?'),
with no locale (file.encoding ANSI_X3.4-1968) and with -Dfile.encoding=Cp1252; by libxml2
(xmllint --encode); and by Python's codecs for the others (MacRoman, KOI8-R, Shift_JIS...).
Every name, message and path must come out as the same UTF-8 text; an encoding that cannot
be parsed is exit 1 with `FILE:LINE:COLUMN: unsupported encoding "NAME": why`.

The coordinator's side is in CoordinatorJUnit: a `stagevisor run --backend local` stage
whose processes (the JVM) write such reports, and the JUnit file it writes.
"""
import json
import os
import shutil
import subprocess
import sys
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(__file__))
import rstest  # noqa: E402

# Texts with characters outside ASCII: a test name with é, a message with €.
NAME = "testCaf\u00e9Cr\u00e8me"
MESSAGE = "expected 10 \u20ac but was 9,99 \u20ac \u2013 \u201cquoted\u201d & <tagged>"
PATH = "/app/src/Caf\u00e9.php"
RUSSIAN = "\u0421\u0447\u0451\u0442 \u0441\u043b\u0438\u0448\u043a\u043e\u043c \u0434\u043b\u0438\u043d\u043d\u044b\u0439"
JAPANESE = "\u65e5\u672c\u8a9e\u306e\u30c6\u30b9\u30c8 \uff76\uff80\uff76\uff85"


def xml_text(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def reports(name, message, path):
    """The four XML formats with these texts, as str (the caller encodes)."""
    n, m, p = xml_text(name), xml_text(message), xml_text(path)
    return {
        "junit": ('<testsuites>\n<testsuite name="Suite %s" tests="2" failures="1">\n'
                  '  <testcase name="%s" classname="com.example.%s" time="0.01"/>\n'
                  '  <testcase name="testFails" classname="com.example.%s" time="0.02">\n'
                  '    <failure message="%s" type="AssertionError">%s\n\tat com.example.T(%s)</failure>\n'
                  '  </testcase>\n</testsuite>\n</testsuites>\n') % (n, n, n, n, m, m, p),
        "checkstyle": ('<checkstyle version="3.7.1">\n<file name="%s">\n'
                       ' <error line="3" column="1" severity="error" message="%s" source="Generic.X.Y"/>\n'
                       '</file>\n</checkstyle>\n') % (p, m),
        "pmd": ('<pmd version="2.13.0">\n<file name="%s">\n'
                ' <violation beginline="4" endline="4" rule="ShortVariable" ruleset="Naming Rules" priority="3">\n'
                '  %s\n </violation>\n</file>\n</pmd>\n') % (p, m),
        "pmd-cpd": ('<pmd-cpd>\n<duplication lines="3" tokens="20">\n'
                    ' <file path="%s" line="10"/>\n <file path="/app/src/b.php" line="20"/>\n'
                    ' <codefragment>echo "%s";</codefragment>\n</duplication>\n</pmd-cpd>\n') % (p, m),
    }


def decl(encoding):
    return '<?xml version="1.0" encoding="%s"?>\n' % encoding


class Check:
    def check_events(self, fmt, path, name, message, file_path):
        """parse FORMAT FILE gives the texts back, as UTF-8."""
        ev, r = rstest.parse(fmt, path)
        r.stdout.decode("utf-8")  # strict
        if fmt == "junit":
            self.assertEqual([e["name"] for e in ev], [name, "testFails"], path)
            self.assertEqual(ev[0]["suite"], "Suite " + name)
            self.assertEqual(ev[0]["class"], "com.example." + name)
            self.assertEqual(ev[1]["message"], message)
            self.assertEqual(ev[1]["details"], "%s\n\tat com.example.T(%s)" % (message, file_path))
        else:
            self.assertEqual(len(ev), 1, path)
            self.assertEqual(ev[0]["file"], file_path)
            if fmt != "pmd-cpd":
                self.assertEqual(ev[0]["message"], message)
            else:
                self.assertEqual(ev[0]["places"][0]["file"], file_path)
        return ev


class Encodings(unittest.TestCase, Check):
    @classmethod
    def setUpClass(cls):
        print("parse command:", " ".join(rstest.parse_cmd()))
        cls.tmp = rstest.tmpdir("encodings")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def write(self, name, data):
        p = os.path.join(self.tmp, name)
        with open(p, "wb") as f:
            f.write(data)
        return p

    def test_python_codecs_every_format(self):
        """(declared name, Python codec, texts the charset holds)"""
        cases = [
            ("Cp1252", "cp1252", NAME, MESSAGE, PATH),
            ("windows-1252", "cp1252", NAME, MESSAGE, PATH),
            ("ISO-8859-15", "iso8859_15", NAME, "expected 10 \u20ac, \u0153uvre & <x>", PATH),
            ("ISO8859_15", "iso8859_15", NAME, "10 \u20ac", PATH),
            ("MacRoman", "mac_roman", NAME, "10 \u20ac \u2013 \u201cquoted\u201d", PATH),
            ("x-MacRoman", "mac_roman", NAME, "caf\u00e9", PATH),
            ("Cp1250", "cp1250", "test\u010c\u00ed\u017eek", "Prom\u011bnn\u00e1 \u20ac", "/app/\u00da\u010det.php"),
            ("KOI8-R", "koi8_r", "test" + RUSSIAN.replace(" ", "_"), RUSSIAN, "/app/\u0421\u0447\u0451\u0442.php"),
            ("Shift_JIS", "shift_jis", "test" + JAPANESE.replace(" ", "_"), JAPANESE, "/app/\u65e5\u672c.php"),
            ("EUC-JP", "euc_jp", "test\u65e5\u672c", JAPANESE, "/app/\u65e5\u672c.php"),
            ("Big5", "big5", "test\u4e2d\u6587", "\u6e2c\u8a66\u5931\u6557", "/app/\u4e2d\u6587.php"),
            ("UTF8", "utf-8", NAME, MESSAGE, PATH),
        ]
        for enc, codec, name, message, file_path in cases:
            for fmt, body in reports(name, message, file_path).items():
                with self.subTest(encoding=enc, format=fmt):
                    p = self.write("%s.%s.xml" % (enc, fmt), (decl(enc) + body).encode(codec))
                    self.check_events(fmt, p, name, message, file_path)

    def test_ascii_declared_as_java_and_libxml2_write_it(self):
        # Java replaces what ASCII cannot hold with '?'; libxml2 writes character references.
        for enc in ("ANSI_X3.4-1968", "US-ASCII", "ASCII"):
            for fmt, body in reports(NAME, MESSAGE, PATH).items():
                with self.subTest(encoding=enc, format=fmt, writer="java-like"):
                    p = self.write("%s.q.%s.xml" % (enc, fmt), (decl(enc) + body).encode("ascii", "replace"))
                    q = lambda s: s.encode("ascii", "replace").decode()  # noqa: E731
                    self.check_events(fmt, p, q(NAME), q(MESSAGE), q(PATH))
                with self.subTest(encoding=enc, format=fmt, writer="refs"):
                    p = self.write("%s.r.%s.xml" % (enc, fmt),
                                   (decl(enc) + body).encode("ascii", "xmlcharrefreplace"))
                    self.check_events(fmt, p, NAME, MESSAGE, PATH)

    def test_xmllint_encode(self):
        """libxml2 re-encodes a UTF-8 report into the declared encoding (an independent writer)."""
        if not shutil.which("xmllint"):
            self.skipTest("xmllint is not installed")
        for enc in ("windows-1252", "Cp1252", "ISO-8859-15", "ANSI_X3.4-1968", "KOI8-R", "Shift_JIS"):
            for fmt, body in reports(NAME, MESSAGE, PATH).items():
                with self.subTest(encoding=enc, format=fmt):
                    src = self.write("lint.%s.xml" % fmt, (decl("UTF-8") + body).encode())
                    r = subprocess.run(["xmllint", "--encode", enc, src], capture_output=True, timeout=60)
                    self.assertEqual(r.returncode, 0, r.stderr)
                    self.assertIn(('encoding="%s"' % enc).encode(), r.stdout[:80])
                    p = self.write("lint.%s.%s.xml" % (enc, fmt), r.stdout)
                    self.check_events(fmt, p, NAME, MESSAGE, PATH)

    def test_unsupported_encodings_are_named(self):
        cases = [
            ("X-FOO", "unknown to iconv"),
            ("GB18030", "expat needs the first byte to fix the length"),
            ("ISO-2022-JP", "it uses shift sequences"),
            ("IBM037", "not ASCII-compatible"),
        ]
        for enc, why in cases:
            for fmt, body in reports("t", "m", "/a.php").items():
                with self.subTest(encoding=enc, format=fmt):
                    p = self.write("bad.%s.%s.xml" % (enc, fmt), (decl(enc) + body).encode("ascii"))
                    ev, r = rstest.parse(fmt, p, check=False)
                    self.assertEqual(r.returncode, 1)
                    self.assertEqual(ev, [])
                    # "FILE:1:31": the column of the name in the declaration.
                    self.assertIn('%s:1:31: unsupported encoding "%s": ' % (p, enc), r.stderr.decode())
                    self.assertIn(why, r.stderr.decode())


# ---- a real JVM ----------------------------------------------------------------------------

def java_escape(s):
    """A Java string literal's body, ASCII only. (\\uXXXX is read before the lexer, so it
    must not stand for '"', '\\' or a newline.)"""
    special = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}
    return "".join(special.get(c) or (c if 0x20 <= ord(c) < 0x7F else "\\u%04x" % ord(c)) for c in s)


def java_source():
    """ReportWriter: writes the four formats like PMD's CPD and Ant do: the declaration names
    System.getProperty("file.encoding") and an OutputStreamWriter in the default charset
    writes the text (unmappable characters become '?'). Arguments: DIR [NAME...] where each
    NAME is written as DIR/NAME.FORMAT.xml."""
    texts = {k: java_escape(v) for k, v in reports(NAME, MESSAGE, PATH).items()}
    puts = "\n".join('        write(dir + "/" + base + ".%s.xml", "%s");' % (fmt, body)
                     for fmt, body in texts.items())
    return """import java.io.*;
import java.nio.charset.Charset;

public class ReportWriter {
    static void write(String path, String body) throws IOException {
        String enc = System.getProperty("file.encoding");
        try (Writer w = new OutputStreamWriter(new FileOutputStream(path), Charset.defaultCharset())) {
            w.write("<?xml version=\\"1.0\\" encoding=\\"" + enc + "\\"?>\\n");
            w.write(body);
        }
    }

    public static void main(String[] args) throws IOException {
        String dir = args[0], base = args.length > 1 ? args[1] : "java";
%s
        System.out.println("wrote " + base + " in " + System.getProperty("file.encoding"));
    }
}
""" % puts


def java_env():
    """The environment of a container with no locale: no LANG, LC_ALL, LC_CTYPE."""
    return {k: v for k, v in os.environ.items() if not k.startswith("LC_") and k not in ("LANG", "LANGUAGE")}


JAVA_OPTS = ["-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto"]


def compile_java(tmp):
    """ReportWriter.class in tmp, or None (with the reason) when no JDK is installed."""
    if not shutil.which("java") or not shutil.which("javac"):
        return None, "no JDK (java, javac) installed"
    src = os.path.join(tmp, "ReportWriter.java")
    with open(src, "w", encoding="ascii") as f:
        f.write(java_source())
    r = subprocess.run(["javac", "-encoding", "US-ASCII", "-d", tmp, src], capture_output=True, text=True,
                       timeout=300)
    if r.returncode != 0:
        raise AssertionError("javac failed:\n%s" % r.stderr)
    return tmp, None


class Java(unittest.TestCase, Check):
    @classmethod
    def setUpClass(cls):
        cls.tmp = rstest.tmpdir("encodings-java")
        cls.cp, cls.why = compile_java(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def run_java(self, base, opts=()):
        if not self.cp:
            self.skipTest(self.why)
        r = subprocess.run(["java"] + JAVA_OPTS + list(opts) + ["-cp", self.cp, "ReportWriter", self.tmp, base],
                           capture_output=True, text=True, timeout=300, env=java_env())
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.strip().rsplit(" ", 1)[-1]

    def test_jvm_without_locale(self):
        """The issue's CPD report: `encoding="ANSI_X3.4-1968"` from a JVM with no locale."""
        enc = self.run_java("nolocale")
        print("JVM without a locale writes file.encoding =", enc)
        with open(os.path.join(self.tmp, "nolocale.pmd-cpd.xml"), "rb") as f:
            head = f.read(60)
        self.assertIn(('encoding="%s"' % enc).encode(), head)
        q = lambda s: s.encode("ascii", "replace").decode()  # noqa: E731
        for fmt in ("junit", "checkstyle", "pmd", "pmd-cpd"):
            with self.subTest(format=fmt):
                p = os.path.join(self.tmp, "nolocale.%s.xml" % fmt)
                if enc == "ANSI_X3.4-1968":
                    self.check_events(fmt, p, q(NAME), q(MESSAGE), q(PATH))
                else:  # a JDK whose default is UTF-8 (18+): the same texts as written
                    self.check_events(fmt, p, NAME, MESSAGE, PATH)

    def test_jvm_with_windows_and_other_encodings(self):
        # Not MacRoman: OpenJDK 17 declares file.encoding=MacRoman but writes UTF-8 (a default
        # charset must be one of java.base's); the Python-written MacRoman reports cover it.
        for opt, codec in (("Cp1252", "cp1252"), ("ISO-8859-15", "iso8859_15"), ("KOI8-R", "koi8_r"),
                           ("EUC_JP", "euc_jp")):
            with self.subTest(encoding=opt):
                base = "java-" + opt
                enc = self.run_java(base, ["-Dfile.encoding=" + opt])
                self.assertEqual(enc, opt)
                # What Java could not encode is '?': the same as Python's "replace".
                same = lambda s: s.encode(codec, "replace").decode(codec)  # noqa: E731
                for fmt in ("junit", "checkstyle", "pmd", "pmd-cpd"):
                    p = os.path.join(self.tmp, "%s.%s.xml" % (base, fmt))
                    ev = self.check_events(fmt, p, same(NAME), same(MESSAGE), same(PATH))
                    if opt in ("Cp1252", "ISO-8859-15") and fmt == "junit":
                        self.assertEqual(ev[0]["name"], NAME)  # é survives
                        self.assertIn("\u20ac", ev[1]["message"])  # and €


# ---- the coordinator's JUnit file ------------------------------------------------------------

class CoordinatorJUnit(unittest.TestCase):
    """`stagevisor run --backend local` with the real agent: a stage whose processes write
    reports in Cp1252 (a JVM with -Dfile.encoding=Cp1252), ISO-8859-15 and ANSI_X3.4-1968
    (a JVM with no locale, pmd-cpd as in the issue); the JUnit file the coordinator writes
    has the texts as the same characters."""

    def test_stage_junit_file(self):
        from coordtest import agent_or_skip, coord, run, write_spec  # noqa: E402
        try:
            agent = agent_or_skip()
            coord()
        except Exception as e:  # noqa: BLE001
            self.skipTest(str(e))
        tmp = rstest.tmpdir("encodings-coord")
        self.addCleanup(shutil.rmtree, tmp, True)
        cp, why = compile_java(tmp)
        py = ("import sys\nopen(sys.argv[1], 'wb').write(sys.argv[2].encode('utf-8').decode('unicode_escape')"
              ".encode('iso8859_15'))\n")
        latin9 = decl("ISO-8859-15") + reports("testLatin9_\u00e9", "10 \u20ac \u0153", "/app/\u00e9.php")["junit"]
        procs = [{"name": "latin9", "role": "job",
                  "command": ["python3", "-c", py, os.path.join(tmp, "latin9.xml"),
                              latin9.encode("unicode_escape").decode("ascii")],
                  "results": [{"format": "junit", "path": os.path.join(tmp, "latin9.xml")}]}]
        if cp:
            java = ["env", "-u", "LANG", "-u", "LC_ALL", "-u", "LC_CTYPE", "-u", "LANGUAGE", "java"] + JAVA_OPTS
            procs += [
                {"name": "surefire", "role": "job",
                 "command": java + ["-Dfile.encoding=Cp1252", "-cp", cp, "ReportWriter", tmp, "win"],
                 "results": [{"format": "junit", "path": os.path.join(tmp, "win.junit.xml")}]},
                {"name": "cpd", "role": "job",
                 "command": java + ["-cp", cp, "ReportWriter", tmp, "nolocale"],
                 "results": [{"format": "pmd-cpd", "path": os.path.join(tmp, "nolocale.pmd-cpd.xml")}]},
            ]
        else:
            print("coordinator stage without the JVM processes:", why)
        spec = write_spec(tmp, {"stage": "encodings", "processes": procs})
        r = run(tmp, spec, agent=agent, timeout=300)
        self.assertIn(r.rc, (0, 1), "exit %s\n%s\n%s" % (r.rc, r.out[-3000:], r.err[-3000:]))
        with open(r.junit, "rb") as f:
            raw = f.read()
        root = ET.fromstring(raw)
        cases = {}
        for suite in root.iter("testsuite"):
            for tc in suite.iter("testcase"):
                kid = next((k for k in tc if k.tag in ("failure", "error", "skipped")), None)
                cases.setdefault(suite.get("name"), []).append(
                    (tc.get("classname"), tc.get("name"), kid.get("message") if kid is not None else None))
        names = [c[1] for cs in cases.values() for c in cs]
        messages = [c[2] for cs in cases.values() for c in cs if c[2]]
        self.assertIn("testLatin9_\u00e9", names, cases)
        self.assertTrue(any("10 \u20ac \u0153" in m for m in messages), messages)
        # The file is UTF-8 (whatever it declares, ElementTree decoded it): é is C3 A9.
        self.assertIn("testLatin9_\u00e9".encode("utf-8"), raw)
        if cp:
            self.assertIn(NAME, names, cases)
            self.assertTrue(any(MESSAGE in m for m in messages), messages)
            self.assertIn("Suite " + NAME, cases, list(cases))
            # The no-locale CPD report was parsed: its finding is in the file (a phpcpd suite).
            self.assertTrue(any(s and "phpcpd" in s for s in cases), list(cases))
        s = r.summary()
        self.assertTrue(s["complete"], s)
        self.assertNotIn("unknown encoding", r.out + r.err)
        self.assertNotIn("unsupported encoding", r.out + r.err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
