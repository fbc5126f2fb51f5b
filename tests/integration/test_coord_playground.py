"""`stagevisor playground up|down|list --backend local` with the real stagevisor-agent.

A service-mode stage serving HTTP (python3 -m http.server, ready by an HTTP probe): `up` returns
once it is ready and prints the URL, which answers; `list` shows it running; a second `up` does
not start another; `down` stops it gracefully and forgets it; a stage whose service fails makes
`up` exit 3 with the log's tail and no state left behind; a dead agent shows as dead.
"""
import json
import os
import signal
import subprocess
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from coordtest import (Tests, agent_or_skip, check, coord, free_port, slack, wait_until, write_spec)  # noqa: E402


def pg(tmp, agent, *argv, timeout=120):
    return subprocess.run([coord(), "playground"] + list(argv) + ["--state-dir", os.path.join(tmp, "state"),
                                                                  "--agent", agent],
                          capture_output=True, text=True, timeout=slack(timeout))


def web_spec(tmp, port, name="spec.json"):
    return write_spec(tmp, {"stage": "playground", "mode": "service", "stop_timeout": 10, "processes": [
        {"name": "web", "role": "service", "command": ["python3", "-m", "http.server", "--bind", "127.0.0.1",
                                                        str(port), "--directory", tmp],
         "ready": {"http": "http://127.0.0.1:%d/" % port, "timeout_ms": 20000}}]}, name)


def listing(tmp, agent):
    p = pg(tmp, agent, "list", "--json")
    check(p.returncode == 0, p.stderr)
    return json.loads(p.stdout)


def test_up_list_down(tmp):
    agent = agent_or_skip()
    port = free_port()
    spec = web_spec(tmp, port)
    p = pg(tmp, agent, "up", "--backend", "local", "--spec", spec, "--name", "feature/login")
    check(p.returncode == 0, "up: %s\n%s" % (p.returncode, p.stderr))
    url = p.stdout.strip().splitlines()[-1]
    check(url == "http://127.0.0.1:%d/" % port, "URL %r" % url)
    check(urllib.request.urlopen(url, timeout=5).status == 200, "the playground answers")
    pgs = listing(tmp, agent)
    check(len(pgs) == 1 and pgs[0]["name"] == "feature/login" and pgs[0]["running"] and pgs[0]["ready"], pgs)
    check(os.path.basename(pgs[0]["state_file"]) == "feature%2Flogin.json", pgs[0]["state_file"])
    pid = pgs[0]["pid"]
    p = pg(tmp, agent, "up", "--backend", "local", "--spec", spec, "--name", "feature/login")
    check(p.returncode == 0 and "already up" in p.stderr, "second up: %s" % p.stderr)
    check(listing(tmp, agent)[0]["pid"] == pid, "a second agent was started")
    table = pg(tmp, agent, "list").stdout
    check("feature/login" in table and "running" in table, table)
    p = pg(tmp, agent, "down", "--name", "feature/login")
    check(p.returncode == 0, "down: %s" % p.stderr)
    check(listing(tmp, agent) == [], "state removed")
    try:
        urllib.request.urlopen(url, timeout=2)
        check(False, "still serving after down")
    except OSError:
        pass
    log = open(pgs[0]["log"]).read()
    check('"event":"stopping"' in log and '"reason":"signal"' in log, "graceful teardown in the log")
    p = pg(tmp, agent, "down", "--name", "feature/login")
    check(p.returncode == 0 and "nothing to stop" in p.stdout, "down again: %s" % p.stdout)


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


def test_dead_agent_listed_as_dead(tmp):
    agent = agent_or_skip()
    port = free_port()
    p = pg(tmp, agent, "up", "--backend", "local", "--spec", web_spec(tmp, port), "--name", "main")
    check(p.returncode == 0, p.stderr)
    pid = listing(tmp, agent)[0]["pid"]
    os.killpg(pid, signal.SIGKILL)
    wait_until(lambda: not listing(tmp, agent)[0]["running"], slack(10), "the playground to show as dead")
    p = pg(tmp, agent, "down", "--name", "main")
    check(p.returncode == 0 and "was not running" in p.stdout, p.stdout)
    check(listing(tmp, agent) == [], "forgotten")


if __name__ == "__main__":
    Tests(sys.modules[__name__]).main()
