"""deploy/scripts (db-export, db-reset, assets-sync) against real peers on 127.0.0.1: moto's S3
server (no request auth) through the real AWS CLI, and a private MariaDB server started here
(mariadb-install-db into a temporary datadir, its own socket and loopback port; as root with
--user=root) and stopped at the end. The scripts connect over TCP as a user with a password in
MYSQL_PWD; every mysql/mysqldump command line they run is recorded by a wrapper on PATH and
checked for the password, like every output.

Cases: shellcheck is clean; --help lists exactly the options the parser takes; usage errors,
missing tools and a password on argv exit with their documented codes; the export makes a
dated dump in S3 holding the data; retention keeps the newest N of that name and nothing else
is touched; the reset restores the data after it was changed; the reset picks the newest key
stamp (not LastModified) and --key picks another; a truncated dump stops the reset before the
database is dropped; assets-sync uploads new and changed files, skips css/js/php, keeps
deleted files without --delete and removes them with it; every --dry-run changes nothing in
S3 or the database.

When the MariaDB server cannot start, the database cases skip with the exact reason; without
moto the whole file exits 77 (skipped) with the reason.
"""
import gzip
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import awsfake  # noqa: E402
from svtest import free_port, wait_until  # noqa: E402

SRC = os.environ.get("SV_SRC") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPTS = os.path.join(SRC, "deploy", "scripts")
EXPORT = os.path.join(SCRIPTS, "db-export")
RESET = os.path.join(SCRIPTS, "db-reset")
ASSETS = os.path.join(SCRIPTS, "assets-sync")
BUCKET = "dumps"
DB_PASSWORD = "Pw-s3cret-4c1d"
AWS_SECRET = "moto-secret-key-9f8e7d6c5b4a"
DUMP_KEY = re.compile(r"^(.*)-(\d{8}T\d{6}Z)\.sql\.gz$")


class MariaDB:
    """A private mariadbd: temporary datadir, own socket, a free loopback port. .reason is
    None when it runs, else why it could not start."""

    def __init__(self, tmp):
        self.proc = None
        self.reason = None
        self.dir = os.path.join(tmp, "mariadb")
        os.makedirs(self.dir)
        self.socket = os.path.join(self.dir, "sock")
        self.port = free_port()
        self.errlog = os.path.join(self.dir, "error.log")
        server = shutil.which("mariadbd") or shutil.which("mysqld") or (
            "/usr/sbin/mariadbd" if os.access("/usr/sbin/mariadbd", os.X_OK) else None)
        install = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
        self.client = shutil.which("mariadb") or shutil.which("mysql")
        if not (server and install and self.client and (shutil.which("mariadb-dump") or shutil.which("mysqldump"))):
            self.reason = ("MariaDB server/client not installed (mariadbd, mariadb-install-db, mariadb, mariadb-dump):"
                           " scripts/install-deps installs mariadb-server and mariadb-client")
            return
        user = ["--user=root"] if os.geteuid() == 0 else []
        data = os.path.join(self.dir, "data")
        p = subprocess.run([install, "--no-defaults", "--datadir=" + data, "--auth-root-authentication-method=normal",
                            "--skip-test-db"] + user, capture_output=True, text=True, timeout=300)
        if p.returncode != 0:
            self.reason = "mariadb-install-db failed (exit %d): %s" % (p.returncode, (p.stderr or p.stdout)[-600:])
            return
        self.proc = subprocess.Popen(
            [server, "--no-defaults", "--datadir=" + data, "--socket=" + self.socket, "--port=%d" % self.port,
             "--bind-address=127.0.0.1", "--pid-file=" + os.path.join(self.dir, "pid"), "--log-error=" + self.errlog,
             "--skip-log-bin", "--performance-schema=OFF", "--innodb-buffer-pool-size=16M",
             "--innodb-log-file-size=8M", "--skip-name-resolve"] + user,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def up():
            if self.proc.poll() is not None:
                return "exited"
            r = subprocess.run(self.root_cmd() + ["-e", "SELECT 1"], capture_output=True, timeout=60)
            return "up" if r.returncode == 0 else None
        try:
            state = wait_until(up, 180, "mariadbd accepting connections", interval=0.2)
        except AssertionError as e:
            state = str(e)
        if state != "up":
            self.reason = "mariadbd did not start (%s): %s" % (state, self.log_tail())
            self.close()
            return
        # ci: what db-reset needs (and the owner of the site's views, triggers and routines);
        # backup: the least db-export needs, as deploy/README.md says (mysql.proc: routines).
        self.sql("CREATE USER 'ci'@'127.0.0.1' IDENTIFIED BY '%s';"
                 " GRANT ALL PRIVILEGES ON `site`.* TO 'ci'@'127.0.0.1';"
                 " CREATE USER 'backup'@'127.0.0.1' IDENTIFIED BY '%s';"
                 " GRANT SELECT, SHOW VIEW, TRIGGER ON `site`.* TO 'backup'@'127.0.0.1';"
                 " GRANT SELECT ON mysql.proc TO 'backup'@'127.0.0.1';" % (DB_PASSWORD, DB_PASSWORD))

    def log_tail(self):
        try:
            with open(self.errlog, errors="replace") as f:
                return f.read()[-800:]
        except OSError:
            return "(no error log)"

    def root_cmd(self):
        return [self.client, "--no-defaults", "--user=root", "--socket=" + self.socket, "--batch", "--skip-column-names",
                "--default-character-set=utf8mb4"]

    def sql(self, query, db=None, user=None):
        """Runs SQL as root over the socket, or as user (password DB_PASSWORD) over TCP."""
        cmd = self.root_cmd()
        env = None
        if user:
            cmd = [self.client, "--no-defaults", "--user=" + user, "--host=127.0.0.1", "--port=%d" % self.port,
                   "--batch", "--skip-column-names", "--default-character-set=utf8mb4"]
            env = dict(os.environ, MYSQL_PWD=DB_PASSWORD)
        cmd = cmd + (["--database=" + db] if db else []) + ["-e", query]
        p = subprocess.run(cmd, capture_output=True, text=True, errors="backslashreplace", timeout=120, env=env)
        if p.returncode != 0:
            raise AssertionError("SQL failed: %s\n%s" % (query, p.stderr))
        return p.stdout

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


class Env:
    """Everything shared by the test cases: moto, MariaDB (or the reason it is absent), the
    scripts' environment with recording wrappers on PATH."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="sv-deploy-it-")
        self.moto = awsfake.Moto(self.tmp, auth=False)
        self.s3 = self.moto._client("s3", "AKIDMOTOTEST", AWS_SECRET)
        self.s3.create_bucket(Bucket=BUCKET)
        self.db = MariaDB(self.tmp)
        self.argv_log = os.path.join(self.tmp, "argv.log")
        wrappers = os.path.join(self.tmp, "bin")
        os.makedirs(wrappers)
        for tool in ("mariadb", "mysql", "mariadb-dump", "mysqldump"):
            real = shutil.which(tool)
            if real:
                awsfake.write(os.path.join(wrappers, tool),
                              "#!/bin/sh\nprintf '%%s\\n' \"%s $*\" >>\"$SV_ARGV_LOG\"\nexec %s \"$@\"\n" % (tool, real))
                os.chmod(os.path.join(wrappers, tool), 0o755)
        env = awsfake.base_env(self.tmp)
        env.update({"PATH": wrappers + os.pathsep + env["PATH"], "SV_ARGV_LOG": self.argv_log,
                    "AWS_ACCESS_KEY_ID": "AKIDMOTOTEST", "AWS_SECRET_ACCESS_KEY": AWS_SECRET,
                    "AWS_ENDPOINT_URL": self.moto.url, "MYSQL_PWD": DB_PASSWORD,
                    "DB_HOST": "127.0.0.1", "DB_PORT": str(self.db.port), "DB_USER": "backup",
                    "DB_DUMP_BUCKET": BUCKET, "TMPDIR": self.tmp})
        for k in ("DB_NAME", "DB_DUMP_PREFIX", "DB_DUMP_NAME", "DB_DUMP_KEEP", "DB_SOCKET", "DB_DEFAULTS_FILE",
                  "DRUPAL_ROOT", "ASSETS_BUCKET", "ASSETS_PREFIX", "MYSQL", "MYSQLDUMP"):
            env.pop(k, None)
        self.env = env
        self.outputs = []

    def close(self):
        self.db.close()
        self.moto.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


E = None


def setUpModule():
    global E
    E = Env()


def tearDownModule():
    if E:
        E.close()


def run(script, *args, env=None, expect=0):
    p = subprocess.run([script] + list(args), env=env or E.env, capture_output=True, text=True, timeout=300)
    out = p.stdout + p.stderr
    E.outputs.append(out)
    for secret in (DB_PASSWORD, AWS_SECRET):
        assert secret not in out, "a secret appears in the output of %s:\n%s" % (script, out)
    if expect is not None and p.returncode != expect:
        raise AssertionError("%s %s: exit %d, wanted %d\nstdout:\n%s\nstderr:\n%s"
                             % (os.path.basename(script), " ".join(args), p.returncode, expect, p.stdout, p.stderr))
    return p


def s3_state(prefix=""):
    """{key: ETag} under prefix: what every dry run must leave as it was."""
    out = {}
    for page in E.s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        for o in page.get("Contents", []):
            out[o["Key"]] = o["ETag"]
    return out


def s3_text(key):
    body = E.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return gzip.decompress(body).decode() if key.endswith(".gz") else body.decode()


def put(key, data):
    E.s3.put_object(Bucket=BUCKET, Key=key, Body=data)


class ScriptsTest(unittest.TestCase):
    """No peer state needed beyond the scripts' own checks."""

    def test_shellcheck_clean(self):
        sc = shutil.which("shellcheck")
        if not sc:
            self.skipTest("shellcheck is not installed (scripts/install-deps installs it from Debian)")
        files = [EXPORT, RESET, ASSETS, os.path.join(SCRIPTS, "lib", "common.sh")]
        p = subprocess.run([sc, "-x", "--severity=style"] + files, cwd=SRC, capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_help_tells_the_parser_truth(self):
        for script in (EXPORT, RESET, ASSETS):
            p = run(script, "--help")
            self.assertIn("Usage: %s " % os.path.basename(script), p.stdout)
            self.assertIn("Exit codes:", p.stdout)
            opts = set(re.findall(r"^  (--[a-z-]+)", p.stdout, re.M))
            self.assertGreater(len(opts), 5, p.stdout)
            with open(script) as f:
                parsed = set(re.findall(r"^\s+(--[a-z-]+(?: \| --[a-z-]+| \| \\\n\s+--[a-z-]+)*)\)",
                                        f.read(), re.M))
            accepted = {o for group in parsed for o in re.findall(r"--[a-z-]+", group)} - {"--password"}
            self.assertEqual(opts, accepted, os.path.basename(script))
            for o in opts:
                q = run(script, o, "x", expect=None)
                self.assertNotIn("unknown option", q.stderr, (script, o))
            q = run(script, "--no-such-option", expect=2)
            self.assertIn("unknown option --no-such-option", q.stderr)

    def test_usage_errors_and_missing_tools(self):
        env = dict(E.env)
        env.pop("DB_DUMP_BUCKET")
        p = run(EXPORT, "--database", "site", env=env, expect=2)
        self.assertIn("no bucket: give --bucket", p.stderr)
        p = run(EXPORT, "--bucket", BUCKET, expect=2)
        self.assertIn("no database: give --database", p.stderr)
        p = run(EXPORT, "--database", "site", "--keep", "0", expect=2)
        self.assertIn("option --keep: '0' is not a positive integer", p.stderr)
        p = run(EXPORT, "--database", "site", "--bucket", "s3://x/y", expect=2)
        self.assertIn("option --bucket", p.stderr)
        p = run(EXPORT, "--database", "site", "--prefix", expect=2)
        self.assertIn("option --prefix needs a value", p.stderr)
        for args in (["--password", DB_PASSWORD], ["--password=" + DB_PASSWORD], ["-p" + DB_PASSWORD]):
            for script in (EXPORT, RESET):
                p = run(script, "--database", "site", *args, expect=2)
                self.assertIn("the password is never an argument", p.stderr)
        p = run(RESET, "--database", "site", expect=2)
        self.assertIn("give --yes", p.stderr)
        p = run(RESET, "--database", "mysql", "--yes", expect=2)
        self.assertIn("system database", p.stderr)
        p = run(ASSETS, "--bucket", BUCKET, expect=2)
        self.assertIn("no docroot: give --root", p.stderr)
        p = run(ASSETS, "--root", E.tmp, "--bucket", BUCKET, expect=4)
        self.assertIn("no sites/*/files directory", p.stderr)
        # A PATH without the AWS CLI: exit 3 naming it.
        nobin = os.path.join(E.tmp, "no-aws-bin")
        if not os.path.isdir(nobin):
            os.makedirs(nobin)
            for d in ("/usr/local/bin", "/usr/bin", "/bin"):
                for name in os.listdir(d) if os.path.isdir(d) else []:
                    if not name.startswith("aws") and not os.path.lexists(os.path.join(nobin, name)):
                        os.symlink(os.path.join(d, name), os.path.join(nobin, name))
        env = dict(E.env, PATH=nobin)
        p = run(EXPORT, "--database", "site", env=env, expect=3)
        self.assertIn("required tool 'aws' not found", p.stderr)
        p = run(ASSETS, "--root", E.tmp, "--bucket", BUCKET, env=env, expect=3)
        self.assertIn("required tool 'aws' not found", p.stderr)
        p = run(RESET, "--database", "site", "--yes", env=dict(E.env, MYSQL="no-such-mysql"), expect=3)
        self.assertIn("required tool 'no-such-mysql' not found", p.stderr)


class EndpointTest(unittest.TestCase):
    """Where the scripts send their S3 calls, and how S3 errors are reported. A dead loopback
    port stands for every endpoint that must not be used, so nothing can leave 127.0.0.1."""

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="docroot-", dir=E.tmp)
        os.makedirs(os.path.join(self.root, "sites", "default", "files"))
        awsfake.write(os.path.join(self.root, "sites", "default", "files", "a.txt"), "a")
        self.dead = "http://127.0.0.1:%d" % free_port()

    def sync(self, *extra, env, expect=0):
        return run(ASSETS, "--root", self.root, "--bucket", BUCKET, "--prefix", "endpoint/", "--dry-run", *extra,
                   env=env, expect=expect)

    def test_endpoint_option_then_s3_variable_then_general_variable(self):
        p = self.sync("--endpoint-url", E.moto.url, env=dict(E.env, AWS_ENDPOINT_URL=self.dead,
                                                             AWS_ENDPOINT_URL_S3=self.dead))
        self.assertIn("(dryrun) upload:", p.stdout)
        self.assertIn("(endpoint %s)" % E.moto.url, p.stdout)
        p = self.sync(env=dict(E.env, AWS_ENDPOINT_URL=self.dead, AWS_ENDPOINT_URL_S3=E.moto.url))
        self.assertIn("(dryrun) upload:", p.stdout)
        # One attempt: the CLI would retry a refused connection with backoff for many seconds.
        p = self.sync(env=dict(E.env, AWS_ENDPOINT_URL=self.dead, AWS_MAX_ATTEMPTS="1"), expect=1)
        self.assertIn("aws s3 sync failed", p.stderr)
        p = self.sync("--endpoint-url", "127.0.0.1:9", env=E.env, expect=2)
        self.assertIn("must start with http:// or https://", p.stderr)

    def test_s3_errors_name_the_call(self):
        p = run(RESET, "--database", "site", "--bucket", "no-such-bucket", "--dry-run", expect=1)
        self.assertRegex(p.stderr, r"listing s3://no-such-bucket/site-\* failed \(endpoint [^)]*\) \(aws exit \d+\):"
                                   r" .*NoSuchBucket")
        p = run(RESET, "--database", "site", "--key", "nope.sql.gz", "--dry-run", expect=1)
        self.assertIn("looking up s3://%s/nope.sql.gz failed" % BUCKET, p.stderr)


class DatabaseTest(unittest.TestCase):
    """db-export and db-reset against the private MariaDB server."""

    def setUp(self):
        if E.db.reason:
            self.skipTest(E.db.reason)
        E.db.sql("DROP DATABASE IF EXISTS site; CREATE DATABASE site CHARACTER SET utf8mb4")
        E.db.sql("CREATE TABLE node (nid INT PRIMARY KEY, title VARCHAR(100), body TEXT) ENGINE=InnoDB;"
                 "INSERT INTO node VALUES (1, 'Zürich ✓', 'first'), (2, 'marker-%s', 'second');"
                 "CREATE TABLE config (name VARCHAR(64) PRIMARY KEY, data BLOB) ENGINE=InnoDB;"
                 "INSERT INTO config VALUES ('system.site', 0x00ff10);"
                 "CREATE VIEW node_titles AS SELECT nid, UPPER(title) AS t FROM node;"
                 "CREATE TRIGGER node_body BEFORE INSERT ON node FOR EACH ROW SET NEW.body = CONCAT('t:', NEW.body);"
                 "CREATE FUNCTION sv_double(x INT) RETURNS INT DETERMINISTIC RETURN x * 2;" % self._testMethodName,
                 db="site", user="ci")
        self.prefix = "it/%s/" % self._testMethodName
        self.original = self.snapshot()
        open(E.argv_log, "w").close()

    def tearDown(self):
        with open(E.argv_log) as f:
            argv = f.read()
        self.assertNotIn(DB_PASSWORD, argv, "the password was on a command line")

    def snapshot(self):
        """Every table's and view's rows, and the routines and triggers by name."""
        tables = E.db.sql("SELECT table_name FROM information_schema.tables WHERE table_schema='site' ORDER BY 1")
        out = {"routines": E.db.sql("SELECT routine_name, routine_definition FROM information_schema.routines"
                                    " WHERE routine_schema='site' ORDER BY 1"),
               "triggers": E.db.sql("SELECT trigger_name, action_statement FROM information_schema.triggers"
                                    " WHERE trigger_schema='site' ORDER BY 1")}
        for t in tables.split():
            out[t] = E.db.sql("SELECT * FROM `%s` ORDER BY 1" % t, db="site")
        return out

    def dump_of_current(self):
        """A mysqldump of `site` made by the test itself (not by db-export)."""
        dump = shutil.which("mariadb-dump") or shutil.which("mysqldump")
        p = subprocess.run([dump, "--no-defaults", "--user=root", "--socket=" + E.db.socket, "--single-transaction",
                            "site"], capture_output=True, timeout=120, check=True)
        return p.stdout

    def test_export_makes_a_dump_with_the_data(self):
        p = run(EXPORT, "--database", "site", "--prefix", self.prefix)
        keys = list(s3_state(self.prefix))
        self.assertEqual(len(keys), 1, keys)
        m = DUMP_KEY.match(keys[0][len(self.prefix):])
        self.assertTrue(m, keys)
        self.assertEqual(m.group(1), "site")
        self.assertIn("uploaded s3://%s/%s" % (BUCKET, keys[0]), p.stdout)
        text = s3_text(keys[0])
        self.assertIn("INSERT INTO `node` VALUES", text)
        self.assertIn("marker-test_export_makes_a_dump_with_the_data", text)
        self.assertIn("Zürich ✓", text)
        self.assertNotIn("CREATE DATABASE", text)
        self.assertTrue(text.rstrip().splitlines()[-1].startswith("-- Dump completed"))
        with open(E.argv_log) as f:
            argv = f.read()
        self.assertRegex(argv, r"(mariadb-dump|mysqldump) .*--single-transaction")

    def test_export_retention_keeps_the_newest_n(self):
        old = ["%ssite-2020010%dT000000Z.sql.gz" % (self.prefix, i) for i in range(1, 5)]
        others = [self.prefix + "site-notes.txt", self.prefix + "other-20190101T000000Z.sql.gz",
                  self.prefix + "site-20190101T000000Z.sql.gz.bak", "site-20190101T000000Z.sql.gz"]
        for k in old + others:
            put(k, gzip.compress(b"-- Dump completed\n"))
        p = run(EXPORT, "--database", "site", "--prefix", self.prefix.rstrip("/"), "--keep", "3")
        after = set(s3_state())
        new = [k for k in after if k.startswith(self.prefix) and DUMP_KEY.match(k[len(self.prefix):])
               and k not in old and k not in others]
        self.assertEqual(len(new), 1, sorted(after))
        self.assertEqual({k for k in after if k.startswith(self.prefix)},
                         {new[0], old[3], old[2]} | {k for k in others if k.startswith(self.prefix)})
        self.assertIn("site-20190101T000000Z.sql.gz", after)  # outside the prefix
        for k in old[:2]:
            self.assertIn("deleted old dump s3://%s/%s" % (BUCKET, k), p.stdout)

    def test_export_dry_run_changes_nothing(self):
        old = ["%ssite-2021010%dT000000Z.sql.gz" % (self.prefix, i) for i in range(1, 4)]
        for k in old:
            put(k, gzip.compress(b"-- Dump completed\n"))
        before = s3_state()
        p = run(EXPORT, "--database", "site", "--prefix", self.prefix, "--keep", "2", "--dry-run")
        self.assertEqual(s3_state(), before)
        self.assertEqual(self.snapshot(), self.original)
        self.assertIn("would upload it to s3://%s/%ssite-" % (BUCKET, self.prefix), p.stdout)
        self.assertIn("would delete s3://%s/%s" % (BUCKET, old[0]), p.stdout)
        self.assertIn("would delete s3://%s/%s" % (BUCKET, old[1]), p.stdout)
        self.assertNotIn(old[2], p.stdout)
        with open(E.argv_log) as f:
            self.assertNotRegex(f.read(), r"(mariadb-dump|mysqldump) ", "a dry run made a dump")

    def change_data(self):
        E.db.sql("UPDATE node SET title='changed' WHERE nid=1; DELETE FROM node WHERE nid=2; DROP TABLE config;"
                 "CREATE TABLE junk (x INT); DROP FUNCTION sv_double; DROP TRIGGER node_body", db="site")
        changed = self.snapshot()
        self.assertNotEqual(changed, self.original)
        return changed

    def test_reset_restores_the_data(self):
        run(EXPORT, "--database", "site", "--prefix", self.prefix)
        self.change_data()
        # The password from an option file this time, not MYSQL_PWD.
        opt = awsfake.write(os.path.join(E.tmp, "reset.cnf"), "[client]\npassword=%s\n" % DB_PASSWORD)
        os.chmod(opt, 0o600)
        env = dict(E.env)
        del env["MYSQL_PWD"]
        p = run(RESET, "--database", "site", "--prefix", self.prefix, "--user", "ci", "--defaults-file", opt, "--yes",
                env=env)
        self.assertEqual(self.snapshot(), self.original)
        self.assertEqual(E.db.sql("SELECT sv_double(21)", db="site").strip(), "42")
        E.db.sql("INSERT INTO node VALUES (3, 'x', 'b')", db="site")
        self.assertEqual(E.db.sql("SELECT body FROM node WHERE nid=3", db="site").strip(), "t:b")
        self.assertIn("done: 'site' reset from s3://%s/%s" % (BUCKET, self.prefix), p.stdout)

    def test_reset_dry_run_changes_nothing(self):
        run(EXPORT, "--database", "site", "--prefix", self.prefix)
        changed = self.change_data()
        before = s3_state()
        (key,) = s3_state(self.prefix)
        open(E.argv_log, "w").close()
        p = run(RESET, "--database", "site", "--prefix", self.prefix, "--user", "ci", "--dry-run")
        self.assertEqual(self.snapshot(), changed)
        self.assertEqual(s3_state(), before)
        self.assertIn("latest of 1 dump(s)", p.stdout)
        self.assertIn("would download s3://%s/%s" % (BUCKET, key), p.stdout)
        self.assertIn("would drop database 'site'", p.stdout)
        with open(E.argv_log) as f:
            self.assertNotIn("DROP", f.read())

    def test_reset_picks_the_newest_stamp(self):
        # Uploaded newest-stamp first, so LastModified says the opposite of the key stamps.
        dumps = {}
        for stamp, marker in (("20250301T020000Z", "newest"), ("20250228T020000Z", "middle"),
                              ("20240101T020000Z", "oldest")):
            E.db.sql("UPDATE node SET body='%s' WHERE nid=1" % marker, db="site")
            dumps[marker] = "%ssite-%s.sql.gz" % (self.prefix, stamp)
            put(dumps[marker], gzip.compress(self.dump_of_current()))
        E.db.sql("UPDATE node SET body='wrong' WHERE nid=1", db="site")
        put(self.prefix + "site-latest.sql.gz", gzip.compress(self.dump_of_current()))  # not a dump key
        E.db.sql("UPDATE node SET body='current' WHERE nid=1", db="site")
        p = run(RESET, "--database", "site", "--prefix", self.prefix, "--user", "ci", "--yes")
        self.assertEqual(E.db.sql("SELECT body FROM node WHERE nid=1", db="site").strip(), "newest")
        self.assertIn("latest of 3 dump(s)", p.stdout)
        run(RESET, "--database", "site", "--key", dumps["oldest"], "--user", "ci", "--yes")
        self.assertEqual(E.db.sql("SELECT body FROM node WHERE nid=1", db="site").strip(), "oldest")

    def test_reset_refuses_a_truncated_dump_before_dropping(self):
        good = self.dump_of_current()
        put(self.prefix + "site-20250101T000000Z.sql.gz", gzip.compress(good))
        put(self.prefix + "site-20250102T000000Z.sql.gz", gzip.compress(good[:len(good) // 2]))
        changed = self.change_data()
        p = run(RESET, "--database", "site", "--prefix", self.prefix, "--user", "ci", "--yes", expect=1)
        self.assertIn("not a complete mysqldump", p.stderr)
        self.assertIn("left as it was", p.stderr)
        self.assertEqual(self.snapshot(), changed)

    def test_reset_without_a_dump(self):
        p = run(RESET, "--database", "site", "--prefix", self.prefix + "empty", "--user", "ci", "--yes", expect=4)
        self.assertIn("no dump of 'site' under s3://%s/%sempty/" % (BUCKET, self.prefix), p.stderr)
        self.assertEqual(self.snapshot(), self.original)


def jenkinsfile_nightly_scripts():
    """{stage name: shell script} of deploy/Jenkinsfile's Nightly stages, by its parser."""
    import test_jenkinsfile as tj
    pipeline = tj.check_pipeline(tj.load())
    nightly = tj.stage_map(pipeline.section("stages"))["Nightly"]
    return {name: "\n".join(tj.sh_scripts(st)) for name, st in tj.stage_map(nightly.section("stages")).items()}


class JenkinsfileNightlyTest(unittest.TestCase):
    """The Nightly stages' own shell steps, taken out of deploy/Jenkinsfile and run as Jenkins
    would (sh, from the checkout) with its environment pointed at the peers here."""

    def test_nightly_export_and_asset_sync(self):
        if E.db.reason:
            self.skipTest(E.db.reason)
        scripts = jenkinsfile_nightly_scripts()
        E.db.sql("DROP DATABASE IF EXISTS site; CREATE DATABASE site; ", None)
        E.db.sql("CREATE TABLE t (x VARCHAR(20)); INSERT INTO t VALUES ('nightly-row')", db="site")
        root = tempfile.mkdtemp(prefix="nightly-", dir=E.tmp)
        os.makedirs(os.path.join(root, "sites", "default", "files", "css"))
        awsfake.write(os.path.join(root, "sites", "default", "files", "photo.jpg"), "jpeg")
        awsfake.write(os.path.join(root, "sites", "default", "files", "css", "css_1.css"), "agg")
        env = dict(E.env, DB_NAME="site", DB_DUMP_PREFIX="nightly/db/", ASSETS_ROOT=root,
                   ASSETS_BUCKET=BUCKET, ASSETS_PREFIX="nightly/files")
        for stage in ("Database export", "Asset sync"):
            self.assertIn(stage, scripts)
            p = subprocess.run(["sh", "-c", scripts[stage]], cwd=SRC, env=env, capture_output=True, text=True,
                               timeout=300)
            self.assertEqual(p.returncode, 0, "%s:\n%s%s" % (stage, p.stdout, p.stderr))
            self.assertNotIn(DB_PASSWORD, p.stdout + p.stderr)
        (key,) = s3_state("nightly/db/")
        self.assertRegex(key, r"^nightly/db/site-\d{8}T\d{6}Z\.sql\.gz$")
        self.assertIn("nightly-row", s3_text(key))
        self.assertEqual(set(s3_state("nightly/files/")), {"nightly/files/default/photo.jpg"})


class AssetsTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="docroot-", dir=E.tmp)
        self.prefix = "assets/%s/" % self._testMethodName
        self.files = {
            "default/a.txt": "alpha",
            "default/sub/b.jpg": "bravo-image",
            "default/styles/thumb/b.jpg": "derivative",
            "default/css/css_abc.css": "aggregated",
            "default/js/js_abc.js": "aggregated",
            "default/php/twig/x/y.php": "<?php compiled",
            "example.com/c.txt": "charlie",
        }
        for rel, text in self.files.items():
            self.write(rel, text)
        os.makedirs(os.path.join(self.root, "sites", "all", "modules"))  # no files dir: not a site

    def write(self, rel, text):
        site, rest = rel.split("/", 1)
        path = os.path.join(self.root, "sites", site, "files", rest)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)

    def remove(self, rel):
        site, rest = rel.split("/", 1)
        os.remove(os.path.join(self.root, "sites", site, "files", rest))

    def contents(self):
        return {k[len(self.prefix):]: s3_text(k) for k in s3_state(self.prefix)}

    def sync(self, *extra, expect=0):
        return run(ASSETS, "--root", self.root, "--bucket", BUCKET, "--prefix", self.prefix, *extra, expect=expect)

    def test_sync_uploads_skips_and_deletes_only_when_told(self):
        dry = self.sync("--dry-run")
        self.assertEqual(s3_state(self.prefix), {})
        self.assertIn("(dryrun) upload:", dry.stdout)
        p = self.sync()
        want = {k: v for k, v in self.files.items() if not re.match(r"default/(css|js|php)/", k)}
        self.assertEqual(self.contents(), want)
        self.assertIn("skipping (Drupal regenerates them, or --exclude): css/* js/* php/*", p.stdout)

        # Changed (another size), new, deleted.
        self.write("default/a.txt", "alpha, edited")
        self.write("default/new/d.txt", "delta")
        self.remove("default/sub/b.jpg")
        before = s3_state()
        for extra in ([], ["--delete"]):
            p = self.sync("--dry-run", *extra)
            self.assertEqual(s3_state(), before, "a dry run changed the bucket")
            self.assertIn("(dryrun) upload:", p.stdout)
            self.assertEqual("(dryrun) delete:" in p.stdout, bool(extra), p.stdout)
        self.sync()
        want.update({"default/a.txt": "alpha, edited", "default/new/d.txt": "delta"})
        self.assertEqual(self.contents(), want, "without --delete the deleted file stays")
        self.sync("--delete")
        del want["default/sub/b.jpg"]
        self.assertEqual(self.contents(), want)

    def test_site_and_exclude_options(self):
        put(self.prefix + "default/css/css_old.css", b"kept")  # excluded: never deleted
        self.sync("--site", "default", "--exclude", "styles/*", "--delete")
        got = self.contents()
        self.assertEqual(set(got), {"default/a.txt", "default/sub/b.jpg", "default/css/css_old.css"})
        p = self.sync("--site", "nosuch", expect=4)
        self.assertIn("sites/nosuch/files' is not a directory", p.stderr)


if __name__ == "__main__":
    reason = awsfake.moto_or_skip_reason()
    if reason:
        print("SKIPPED: " + reason)
        sys.exit(77)
    unittest.main(verbosity=2)
