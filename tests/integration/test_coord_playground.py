"""`stagevisor playground up|down|list --backend local` with the real stagevisor-agent.

A service-mode stage serving HTTP (python3 -m http.server on ${PORT}, ready by an HTTP probe):
`up` gives it its own port, returns once it is ready and prints http://SLUG.localhost:PORT/,
which answers; `list` shows it running; a second `up` does not start another; `down` stops it
gracefully, forgets it and frees its port; a stage whose service fails makes `up` exit 3 with
the log's tail and no state left behind; a dead agent shows as dead.
With real Apache + mod_php (examples/stages/playground.json): two branches up at once from the
same spec, each on its own port with its own ${HOST}, served for its <slug>.localhost Host
header; down one, the other still serves. A pinned port that something else listens on fails
`up` at once naming the holder, and a probe answered by a process outside the playground's
tree fails `up` instead of calling it ready; neither leaves state behind.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from coordtest import (SRC, SkipTest, Tests, agent_or_skip, check, coord, free_port, slack, wait_until,  # noqa: E402
                       write_spec)
from svtest import port_open  # noqa: E402


def pg(tmp, agent, *argv, timeout=120, cwd=None):
    return subprocess.run([coord(), "playground"] + list(argv) + ["--state-dir", os.path.join(tmp, "state"),
                                                                  "--agent", agent],
                          capture_output=True, text=True, timeout=slack(timeout), cwd=cwd)


def web_spec(tmp, port="${PORT}", name="spec.json"):
    return write_spec(tmp, {"stage": "playground", "mode": "service", "stop_timeout": 10, "processes": [
        {"name": "web", "role": "service", "command": ["python3", "-m", "http.server", "--bind", "127.0.0.1",
                                                        str(port), "--directory", tmp],
         "ready": {"http": "http://127.0.0.1:%s/" % port, "timeout_ms": 20000}}]}, name)


def state_files(tmp):
    d = os.path.join(tmp, "state", "playgrounds")
    return sorted(f for f in os.listdir(d) if f.endswith((".json", ".spec"))) if os.path.isdir(d) else []


def get(port, path="/", host=None, timeout=10):
    """(status, body) of GET http://127.0.0.1:port/path with the Host header `host`."""
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), headers={"Host": host} if host else {})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(req, timeout=timeout) as r:
        return r.status, r.read().decode("utf-8", "replace")


def listing(tmp, agent):
    p = pg(tmp, agent, "list", "--json")
    check(p.returncode == 0, p.stderr)
    return json.loads(p.stdout)


def test_up_list_down(tmp):
    agent = agent_or_skip()
    spec = web_spec(tmp)
    p = pg(tmp, agent, "up", "--backend", "local", "--spec", spec, "--name", "feature/login")
    check(p.returncode == 0, "up: %s\n%s" % (p.returncode, p.stderr))
    url = p.stdout.strip().splitlines()[-1]
    pgs = listing(tmp, agent)
    check(len(pgs) == 1 and pgs[0]["name"] == "feature/login" and pgs[0]["running"] and pgs[0]["ready"], pgs)
    port = pgs[0]["port"]
    check(re.fullmatch(r"feature-login--[a-z2-7]{8}", pgs[0]["slug"]), pgs[0]["slug"])
    check(url == "http://%s.localhost:%d/" % (pgs[0]["slug"], port) == pgs[0]["url"], "URL %r" % url)
    check(get(port, host="%s.localhost:%d" % (pgs[0]["slug"], port))[0] == 200, "the playground answers")
    check(os.path.basename(pgs[0]["state_file"]) == "feature%2Flogin.json", pgs[0]["state_file"])
    pid = pgs[0]["pid"]
    p = pg(tmp, agent, "up", "--backend", "local", "--spec", spec, "--name", "feature/login")
    check(p.returncode == 0 and "already up" in p.stderr, "second up: %s" % p.stderr)
    check(listing(tmp, agent)[0]["pid"] == pid, "a second agent was started")
    table = pg(tmp, agent, "list").stdout
    check("feature/login" in table and "running" in table and url in table, table)
    p = pg(tmp, agent, "down", "--name", "feature/login")
    check(p.returncode == 0, "down: %s" % p.stderr)
    check(listing(tmp, agent) == [], "state removed")
    check(not port_open(port), "port %d still open after down" % port)
    log = open(pgs[0]["log"]).read()
    check('"event":"stopping"' in log and '"reason":"signal"' in log, "graceful teardown in the log")
    p = pg(tmp, agent, "down", "--name", "feature/login")
    check(p.returncode == 0 and "nothing to stop" in p.stdout, "down again: %s" % p.stdout)


def test_same_name_twice_at_once(tmp):
    agent = agent_or_skip()
    spec = web_spec(tmp)
    argv = [coord(), "playground", "up", "--backend", "local", "--spec", spec, "--name", "main",
            "--state-dir", os.path.join(tmp, "state"), "--agent", agent]
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=slack(60)) for p in procs]
    try:
        check(all(p.returncode == 0 for p in procs), outs)
        check(sum("main is already " in err for _, err in outs) == 1, "exactly one found it there: %s" % (outs,))
        urls = [out.strip().splitlines()[-1] for out, _ in outs]
        check(urls[0] == urls[1], urls)
        check(len(listing(tmp, agent)) == 1, "one playground")
    finally:
        check(pg(tmp, agent, "down", "--name", "main").returncode == 0, "down")


def test_failing_service(tmp):
    agent = agent_or_skip()
    spec = write_spec(tmp, {"stage": "playground", "mode": "service", "stop_timeout": 5, "processes": [
        {"name": "web", "role": "service", "command": ["sh", "-c", "echo cannot bind; exit 1"],
         "ready": {"tcp": "127.0.0.1:%d" % free_port(), "timeout_ms": 20000}}]})
    p = pg(tmp, agent, "up", "--backend", "local", "--spec", spec, "--name", "broken")
    check(p.returncode == 3, "up: %s\n%s" % (p.returncode, p.stderr))
    check("did not come up" in p.stderr and "cannot bind" in p.stderr, p.stderr)
    check(listing(tmp, agent) == [], "no state left behind")


def test_job_spec_refused(tmp):
    agent = agent_or_skip()
    spec = write_spec(tmp, {"stage": "j", "processes": [{"name": "x", "command": ["true"]}]})
    p = pg(tmp, agent, "up", "--backend", "local", "--spec", spec, "--name", "x")
    check(p.returncode == 2 and "service" in p.stderr, p.stderr)


def test_usage_errors(tmp):
    agent = agent_or_skip()
    spec = web_spec(tmp)
    fixed = web_spec(tmp, port=free_port(), name="fixed.json")
    for argv, says in [(["--name", ""], "--name: must not be empty"),
                       (["--name", "/" * 100], "--name: too long"),
                       (["--name", "x", "--port", "0"], "--port: expected a number 1-65535"),
                       (["--name", "x", "--port", "http"], "--port: expected a number 1-65535"),
                       (["--name", "x", "--url", "http://" + "a" * 2000], "--url: longer than")]:
        p = pg(tmp, agent, "up", "--backend", "local", "--spec", spec, *argv)
        check(p.returncode == 2 and says in p.stderr, "%s: %s %s" % (argv, p.returncode, p.stderr))
    p = pg(tmp, agent, "up", "--backend", "local", "--spec", fixed, "--name", "x", "--port", str(free_port()))
    check(p.returncode == 2 and "does not use ${PORT}" in p.stderr, p.stderr)
    check(state_files(tmp) == [], state_files(tmp))


def test_dead_agent_listed_as_dead(tmp):
    agent = agent_or_skip()
    p = pg(tmp, agent, "up", "--backend", "local", "--spec", web_spec(tmp), "--name", "main")
    check(p.returncode == 0, p.stderr)
    pid = listing(tmp, agent)[0]["pid"]
    os.killpg(pid, signal.SIGKILL)
    wait_until(lambda: not listing(tmp, agent)[0]["running"], slack(10), "the playground to show as dead")
    p = pg(tmp, agent, "down", "--name", "main")
    check(p.returncode == 0 and "was not running" in p.stdout, p.stdout)
    check(listing(tmp, agent) == [], "forgotten")


# --- own ports ---------------------------------------------------------------------------------

def listener(port=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(8)
    return s


def test_pinned_port_taken(tmp):
    agent = agent_or_skip()
    other = listener()
    try:
        port = other.getsockname()[1]
        p = pg(tmp, agent, "up", "--backend", "local", "--spec", web_spec(tmp), "--name", "main",
               "--port", str(port))
        check(p.returncode == 3, "up: %s\n%s" % (p.returncode, p.stderr))
        check("port %d is already in use by pid %d" % (port, os.getpid()) in p.stderr, p.stderr)
        check("--port" in p.stderr, "says what to do: %s" % p.stderr)
        check(listing(tmp, agent) == [] and state_files(tmp) == [], "no state: %s" % state_files(tmp))
        check("agent pid" not in p.stdout, "nothing was started: %s" % p.stdout)
    finally:
        other.close()
    # The same port, free again, is taken as pinned.
    p = pg(tmp, agent, "up", "--backend", "local", "--spec", web_spec(tmp), "--name", "main", "--port", str(port))
    check(p.returncode == 0 and p.stdout.strip().endswith(":%d/" % port), p.stdout + p.stderr)
    check(get(port)[0] == 200, "serves on the pinned port")
    check(pg(tmp, agent, "down", "--name", "main").returncode == 0, "down")


def test_port_answered_by_another_process(tmp):
    """A spec with a fixed port (no ${PORT}): the port is free when `up` starts, its service
    never listens, and the test starts a listener of its own once the service runs. The probe is
    answered, but not by the playground: `up` must fail, not call it ready."""
    agent = agent_or_skip()
    port = free_port()
    started = os.path.join(tmp, "started")
    spec = write_spec(tmp, {"stage": "playground", "mode": "service", "stop_timeout": 5, "processes": [
        {"name": "web", "role": "service", "command": ["sh", "-c", "touch %s; exec sleep 600" % started],
         "ready": {"tcp": "127.0.0.1:%d" % port, "interval_ms": 50, "timeout_ms": 60000}}]})
    proc = subprocess.Popen([coord(), "playground", "up", "--backend", "local", "--spec", spec, "--name", "fixed",
                             "--state-dir", os.path.join(tmp, "state"), "--agent", agent],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    other = None
    try:
        wait_until(lambda: os.path.exists(started), slack(30), "the service to start")
        other = listener(port)
        out, err = proc.communicate(timeout=slack(60))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if other:
            other.close()
    check(proc.returncode == 3, "up: %s\n%s\n%s" % (proc.returncode, out, err))
    check("does not use ${PORT}" in err, err)
    check("port %d answered, but not from this playground: it is held by pid %d" % (port, os.getpid()) in err, err)
    check(listing(tmp, agent) == [] and state_files(tmp) == [], "no state: %s" % state_files(tmp))


# --- real Apache + mod_php: examples/stages/playground.json ------------------------------------

WHOAMI = """<?php
header('Content-Type: text/plain');
echo 'host=', getenv('SV_HOST'), "\n";
echo 'name=', getenv('STAGEVISOR_PLAYGROUND_NAME'), "\n";
echo 'http_host=', $_SERVER['HTTP_HOST'] ?? '', "\n";
echo 'port=', $_SERVER['SERVER_PORT'] ?? '', "\n";
"""


def apache_workspace(tmp):
    """A copy of examples/ that Apache's workers (www-data when we are root) can read, with a
    page that tells which playground serves it."""
    if not shutil.which("apache2") or not os.path.exists("/usr/lib/apache2/modules/libphp8.2.so"):
        raise SkipTest("apache2 and libapache2-mod-php are not installed (scripts/install-deps)")
    ws = os.path.join(tmp, "ws")
    shutil.copytree(os.path.join(SRC, "examples"), os.path.join(ws, "examples"),
                    ignore=shutil.ignore_patterns("build", "vendor"))
    with open(os.path.join(ws, "examples", "site", "public", "whoami.php"), "w") as f:
        f.write(WHOAMI)
    for d in (tmp, ws):
        os.chmod(d, 0o755)
    for root, dirs, files in os.walk(ws):
        for x in dirs:
            os.chmod(os.path.join(root, x), 0o755)
        for x in files:
            os.chmod(os.path.join(root, x), 0o644)
    return ws


def test_apache_two_branches(tmp):
    agent = agent_or_skip()
    ws = apache_workspace(tmp)
    spec = os.path.join(ws, "examples", "stages", "playground.json")
    branches = ["feature/JIRA-123", "main"]
    try:
        # Both `up`s at once: each must pick its own port.
        procs = {b: subprocess.Popen([coord(), "playground", "up", "--backend", "local", "--spec", spec, "--name", b,
                                      "--timeout", "60", "--state-dir", os.path.join(tmp, "state"), "--agent", agent],
                                     cwd=ws, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for b in branches}
        urls = {}
        for b, proc in procs.items():
            out, err = proc.communicate(timeout=slack(120))
            check(proc.returncode == 0, "up %s: %s\n%s\n%s" % (b, proc.returncode, out, err))
            urls[b] = out.strip().splitlines()[-1]
        pgs = {x["name"]: x for x in listing(tmp, agent)}
        check(sorted(pgs) == sorted(branches), pgs)
        check(pgs["feature/JIRA-123"]["slug"] == "feature-jira-123--qhxw4cfu", pgs)
        check(pgs["main"]["slug"] == "main", pgs)
        check(pgs["main"]["port"] != pgs["feature/JIRA-123"]["port"], "two playgrounds, one port: %s" % pgs)
        table = pg(tmp, agent, "list").stdout
        for b in branches:
            x = pgs[b]
            check(urls[b] == "http://%s.localhost:%d/" % (x["slug"], x["port"]) == x["url"], (urls[b], x))
            check(urls[b] in table, table)
            # Served for its own Host name, by its own Apache (its own ${HOST} and name).
            status, body = get(x["port"], "/whoami.php", host="%s.localhost:%d" % (x["slug"], x["port"]))
            check(status == 200, status)
            check("host=%s.localhost\n" % x["slug"] in body and "name=%s\n" % b in body, body)
            check("http_host=%s.localhost:%d\n" % (x["slug"], x["port"]) in body, body)
            status, body = get(x["port"], "/?name=" + x["slug"], host="%s.localhost" % x["slug"])
            check(status == 200 and "Hello, %s!" % x["slug"] in body, body)
        # Down one: its port is free again, the other still serves.
        p = pg(tmp, agent, "down", "--name", "main")
        check(p.returncode == 0 and "still in use" not in p.stderr, p.stdout + p.stderr)
        check(not port_open(pgs["main"]["port"]), "main's port is still open after down")
        x = pgs["feature/JIRA-123"]
        status, body = get(x["port"], "/whoami.php", host="%s.localhost" % x["slug"])
        check(status == 200 and "name=feature/JIRA-123\n" in body, body)
        check([y["name"] for y in listing(tmp, agent)] == ["feature/JIRA-123"], "list after down")
        log = open(x["log"], errors="replace").read()
        check("AH00072" not in log and "could not bind" not in log, "an Apache could not bind:\n" + log[-2000:])
    finally:
        for b in branches:
            pg(tmp, agent, "down", "--name", b)
    check(state_files(tmp) == [], state_files(tmp))


if __name__ == "__main__":
    Tests(sys.modules[__name__]).main()
