"""Issue 2, behaviour 3: start order follows depends_on (started, ready, completed, succeeded);
readiness probes tcp, http, exec and log. With a real Apache (Debian's apache2 in the
foreground on a loopback port with its own config) that a job depends on being ready, and
Apache stopped gracefully with SIGWINCH as its stop_signal."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svtest  # noqa: E402

# stamp FILE NAME [code...]: appends "NAME start T" then runs code, then "NAME end T".
STAMP = r"""
import os, sys, time
stamps, name = sys.argv[1], sys.argv[2]
def stamp(what):
    with open(stamps, "a") as f:
        f.write("%s %s %.6f\n" % (name, what, time.monotonic()))
stamp("start")
code = sys.argv[3] if len(sys.argv) > 3 else ""
rc = 0
if code:
    g = {"stamp": stamp, "time": time, "os": os, "sys": sys, "args": sys.argv[4:]}
    exec(code, g)
    rc = g.get("rc", 0)
stamp("end")
sys.stdout.flush()
os._exit(rc)
"""

APACHE_CONF = """
ServerRoot /etc/apache2
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile {dir}/httpd.pid
DefaultRuntimeDir {dir}
Mutex file:{dir} default
ErrorLog {dir}/error.log
LogLevel info
User www-data
Group www-data
DocumentRoot {dir}/htdocs
"""


class OrderTest(svtest.AgentTestCase):
    prefix = "sv-order-"

    def setUp(self):
        super().setUp()
        os.chmod(self.dir, 0o755)  # Apache's workers run as www-data
        self.stamps = os.path.join(self.dir, "stamps")

    def cmd(self, name, code=""):
        return [sys.executable, "-c", STAMP, self.stamps, name, code]

    def times(self):
        t = {}
        for ln in (svtest.read_text(self.stamps) or "").splitlines():
            name, what, when = ln.split()
            t[(name, what)] = float(when)
        return t

    def run_stage(self, spec, timeout=30):
        self.agent = svtest.Agent(spec, self.dir)
        rc = self.agent.wait_exit(svtest.slack(timeout))
        return rc, self.times()

    def test_apache_ready_before_runner_and_graceful_sigwinch_stop(self):
        port = svtest.free_port()
        os.makedirs(os.path.join(self.dir, "htdocs"))
        with open(os.path.join(self.dir, "htdocs", "index.html"), "w") as f:
            f.write("stagevisor apache test\n")
        conf = os.path.join(self.dir, "httpd.conf")
        with open(conf, "w") as f:
            f.write(APACHE_CONF.format(port=port, dir=self.dir))
        url = "http://127.0.0.1:%d/index.html" % port
        fetch = ("import urllib.request\n"
                 "body = urllib.request.urlopen(args[0], timeout=60).read().decode()\n"
                 "open(args[1], 'w').write(body)\n"
                 "rc = 0 if 'stagevisor apache test' in body else 1\n")
        got = os.path.join(self.dir, "got")
        spec = {"mode": "job", "stop_timeout": 20, "processes": [
            {"name": "web", "role": "service", "essential": False,
             "command": ["apache2", "-f", conf, "-DFOREGROUND"],
             "ready": {"http": url, "interval_ms": 50, "timeout_ms": 20000},
             "stop_signal": "SIGWINCH", "stop_grace": 10},
            {"name": "runner", "role": "job", "essential": True,
             "command": self.cmd("runner", fetch) + [url, got],
             "depends_on": [{"name": "web", "condition": "ready"}]}]}
        rc, t = self.run_stage(spec)
        a = self.agent
        self.assertEqual(rc, 0, "stderr: %s" % a.stderr_lines()[-10:])
        self.assertIn("stagevisor apache test", svtest.read_text(got) or "")
        # Lifecycle order: web started < web ready < runner started.
        ev = [(e.get("process"), e.get("event")) for e in a.events(type="process")]
        self.assertIn(("web", "ready"), ev, ev)
        self.assertLess(ev.index(("web", "started")), ev.index(("web", "ready")))
        self.assertLess(ev.index(("web", "ready")), ev.index(("runner", "started")))
        # Graceful stop: Apache logged SIGWINCH and exited by itself, not by SIGKILL.
        log = svtest.read_text(os.path.join(self.dir, "error.log")) or ""
        self.assertIn("caught SIGWINCH, shutting down gracefully", log)
        web_exit = a.events(type="process", process="web", event="exited")
        self.assertEqual(len(web_exit), 1, web_exit)
        self.assertNotEqual(web_exit[0].get("signal"), 9, web_exit[0])
        self.assertEqual(web_exit[0].get("exit_code"), 0, web_exit[0])
        self.assertNotEqual(web_exit[0].get("killed_by"), "agent-deadline", web_exit[0])
        self.assertFalse(svtest.port_open(port), "Apache still listening after the agent exited")

    def test_tcp_probe(self):
        port = svtest.free_port()
        listen = ("import socket\ntime.sleep(0.5)\n"
                  "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                  "s.bind(('127.0.0.1', int(args[0]))); stamp('listening'); s.listen(8)\n"
                  "while True: s.accept()[0].close()\n")
        connect = "import socket\nsocket.create_connection(('127.0.0.1', int(args[0])), timeout=60).close()\n"
        spec = {"processes": [
            {"name": "srv", "role": "service", "essential": False, "command": self.cmd("srv", listen) + [str(port)],
             "ready": {"tcp": "127.0.0.1:%d" % port, "interval_ms": 20, "timeout_ms": 10000}},
            {"name": "client", "command": self.cmd("client", connect) + [str(port)],
             "depends_on": [{"name": "srv", "condition": "ready"}]}]}
        rc, t = self.run_stage(spec)
        self.assertEqual(rc, 0, self.agent.stderr_lines()[-5:])
        self.assertGreaterEqual(t[("client", "start")], t[("srv", "listening")])

    def test_log_probe(self):
        talk = ("print('booting', flush=True)\ntime.sleep(0.4)\nstamp('said')\n"
                "print('server ready to serve', flush=True)\ntime.sleep(600)\n")
        spec = {"processes": [
            {"name": "talker", "role": "service", "essential": False, "command": self.cmd("talker", talk),
             "ready": {"log": "ready to (serve|go)$", "interval_ms": 20, "timeout_ms": 10000}},
            {"name": "after", "command": self.cmd("after"),
             "depends_on": [{"name": "talker", "condition": "ready"}]}]}
        rc, t = self.run_stage(spec)
        self.assertEqual(rc, 0, self.agent.stderr_lines()[-5:])
        self.assertGreaterEqual(t[("after", "start")], t[("talker", "said")])

    def test_exec_probe(self):
        flag = os.path.join(self.dir, "flag")
        make = "time.sleep(0.4)\nstamp('made')\nopen(args[0], 'w').close()\ntime.sleep(600)\n"
        check = "rc = 0 if os.path.exists(args[0]) else 1\n"
        spec = {"processes": [
            {"name": "maker", "role": "service", "essential": False, "command": self.cmd("maker", make) + [flag],
             "ready": {"exec": ["test", "-e", flag], "interval_ms": 20, "timeout_ms": 10000}},
            {"name": "user", "command": self.cmd("user", check) + [flag],
             "depends_on": [{"name": "maker", "condition": "ready"}]}]}
        rc, t = self.run_stage(spec)
        self.assertEqual(rc, 0, self.agent.stderr_lines()[-5:])
        self.assertGreaterEqual(t[("user", "start")], t[("maker", "made")])

    def test_conditions_started_completed_succeeded(self):
        spec = {"processes": [
            {"name": "d", "command": self.cmd("d"), "depends_on": [{"name": "b", "condition": "succeeded"}]},
            {"name": "b", "command": self.cmd("b", "time.sleep(0.2)"),
             "depends_on": [{"name": "a", "condition": "completed"}]},
            {"name": "c", "command": self.cmd("c"), "depends_on": [{"name": "a", "condition": "started"}]},
            {"name": "a", "command": self.cmd("a", "time.sleep(0.4)\nrc = 1"), "essential": False}]}
        rc, t = self.run_stage(spec)
        self.assertEqual(rc, 0, "a non-essential job's failure is not the stage's result; stderr %s"
                         % self.agent.stderr_lines()[-5:])
        # "started" means a's exec succeeded, not that a ran its first line (c's interpreter may
        # come up first): compare the agent's events for that one.
        ev = [(e.get("process"), e.get("event")) for e in self.agent.events(type="process")]
        self.assertLess(ev.index(("a", "started")), ev.index(("c", "started")), ev)
        self.assertLess(ev.index(("c", "started")), ev.index(("a", "exited")), "'started' must not wait for the end")
        self.assertGreaterEqual(t[("b", "start")], t[("a", "end")])
        self.assertGreaterEqual(t[("d", "start")], t[("b", "end")])

    def test_env_and_cwd(self):
        sub = os.path.join(self.dir, "sub")
        os.mkdir(sub)
        spec = {"processes": [{"name": "ctx", "cwd": sub, "env": {"SV_H6_FOO": "bar baz", "PATH": os.environ["PATH"]},
                               "command": ["sh", "-c", 'echo "foo=$SV_H6_FOO"; echo "cwd=$(pwd)"']}]}
        rc, t = self.run_stage(spec)
        self.assertEqual(rc, 0)
        out = self.agent.stdout_lines()
        self.assertIn("ctx | foo=bar baz", out)
        self.assertIn("ctx | cwd=" + sub, out)

    def test_dependency_never_met_fails_stage(self):
        spec = {"processes": [
            {"name": "setup", "command": self.cmd("setup", "rc = 3"), "essential": False},
            {"name": "main", "command": self.cmd("main"),
             "depends_on": [{"name": "setup", "condition": "succeeded"}]}]}
        rc, t = self.run_stage(spec)
        self.assertNotEqual(rc, 0, "a dependency that can never be met must fail the stage")
        self.assertNotIn(("main", "start"), t, "main must never start")
        failed = self.agent.events(type="process", process="main", event="failed")
        text = " ".join(self.agent.stderr_lines()) + " " + " ".join(str(e.get("reason")) for e in failed)
        self.assertIn("setup", text, "the failure must name the dependency")

    def test_ready_timeout_fails_stage(self):
        port = svtest.free_port()
        spec = {"processes": [
            {"name": "never", "role": "service", "essential": False, "command": ["sleep", "600"],
             "ready": {"tcp": "127.0.0.1:%d" % port, "interval_ms": 50, "timeout_ms": 800}},
            {"name": "waiting", "command": self.cmd("waiting"),
             "depends_on": [{"name": "never", "condition": "ready"}]}]}
        rc, t = self.run_stage(spec, timeout=20)
        self.assertNotEqual(rc, 0)
        self.assertNotIn(("waiting", "start"), t)
        text = " ".join(self.agent.stderr_lines()) + " ".join(self.agent.stdout_lines())
        self.assertIn("never", text)


if __name__ == "__main__":
    unittest.main(verbosity=2)
