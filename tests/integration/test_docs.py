#!/usr/bin/env python3
"""test_docs — every command shown in docs/ is run, and must do what the page says.

The convention (docs/README.md, "Commands in these pages"):
  - Commands are shown only in fenced blocks whose info string is `console`. In them, a line
    starting with `$ ` is a command (a trailing `\\` continues it on the next line); the lines
    after it, up to the next `$ `, are output the command must print (stdout or stderr), each
    line a fragment of one output line, `…` standing for anything in between. A line
    `[exit N]` says the command exits N (default 0).
  - A fenced block whose opening line has `file=PATH` (```json file=hello.json) is written to
    PATH, relative to the shell's current directory, when the page reaches it: the file the
    page asks the reader to save.
  - A fenced block marked `sh`, `bash`, `shell` or `shell-session`, or a console block line that
    is neither a command nor output, is an error: a command the test would not run.
  - Each page runs in its own sandbox, top to bottom, as one shell session would (variables and
    the current directory carry over from one command to the next): a temporary directory with
    a copy of the repository's examples/, deploy/ and images/ as the current directory, the
    built `stagevisor` and `stagevisor-agent` first on PATH, HOME and XDG_STATE_HOME inside it,
    and, for a page with AWS commands, a moto server on 127.0.0.1 (AWS_ENDPOINT_URL, fake
    credentials, no metadata address); the Fargate launcher (fargate_launcher.py) plays
    Fargate's part for the pages that run a stage on it.

A few commands cannot run here as shown: ADJUSTED runs another form of them (a temporary
prefix instead of /usr/local, the build the test was given instead of a new one),
NOT_RUNNABLE lists the rest with the reason, PENDING the ones of features whose branch is not
merged yet. An entry that matches no command in the docs fails the test (no stale lists).

Also checked: every command of `stagevisor --help` and every option of each `--help` (and of
`stagevisor-agent --help`) is named on that command's reference page in docs/commands/.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import awsfake  # noqa: E402
from svtest import agent_path, coord_path, free_port, wait_until  # noqa: E402

ROOT = os.environ.get("SV_SRC") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DOCS = os.path.join(ROOT, "docs")
CMD_TIMEOUT = 300

JQ_CONFIG = ("sed -e \"s/123456789012/$ACCOUNT/g\" -e \"s/eu-west-1/$AWS_REGION/g\" deploy/pipeline.example.json | "
             "jq --arg subnet \"$SUBNET\" --arg sg \"$TASKS_SG\" --arg zone \"$ZONE\" --arg host \"$JENKINS_HOST\" "
             "'.aws.subnets = [$subnet] | .aws.security_groups = [$sg] | .aws.route53.zone_id = $zone | "
             ".coordinator.advertise = \"https://\" + $host | del(.slack)' > deploy/pipeline.json")

# Doc command (exactly as shown, after joining continuations) -> (what runs instead, why).
ADJUSTED = {
    "cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DSV_TESTS=OFF":
        ("cmake -S \"$SV_SRC\" -B \"$SV_DOCS_TMP/build-rel\" -DCMAKE_BUILD_TYPE=Release -DSV_TESTS=OFF >/dev/null",
         "configured in a temporary directory, from the checkout under test"),
    "cmake --build build -j2":
        ("cmake --build \"$SV_BUILD\" -j2 --target stagevisor stagevisor-agent stagevisor-agent-uplink",
         "compiling a second tree takes minutes on this machine: the build the test was given"),
    "sudo cmake --install build":
        ("DESTDIR=\"$SV_DOCS_TMP/root\" cmake --install \"$SV_BUILD\" --prefix /usr/local"
         " | sed \"s|$SV_DOCS_TMP/root||\" && ln -sf \"$SV_DOCS_TMP\"/root/usr/local/bin/* \"$SV_DOCS_TMP/bin/\"",
         "installed under a temporary DESTDIR (its path taken out of the output), whose bin/ is then"
         " first on PATH: the page's later commands run the installed programs"),
    "sudo apt-get install -y build-essential cmake pkg-config git libevent-dev libssl-dev libjansson-dev "
    "libcurl4-openssl-dev libexpat1-dev awscli jq":
        ("apt-get install -s -y build-essential cmake pkg-config git libevent-dev libssl-dev libjansson-dev "
         "libcurl4-openssl-dev libexpat1-dev awscli jq >/dev/null",
         "simulated (-s): the packages must exist and resolve; the machine's packages are not changed"),
    "JENKINS_HOST=jenkins.internal.example.com":
        ("JENKINS_HOST=127.0.0.1", "tests reach nothing but loopback"),
    JQ_CONFIG: (JQ_CONFIG.replace("del(.slack)", "del(.slack) | .coordinator.listen = \"127.0.0.1\""),
                "servers in tests listen on 127.0.0.1 only"),
}

# Doc command -> why it is not run.
NOT_RUNNABLE = {
}

# (regular expression on the command, why it waits). The lead removes these when the branches
# are merged; the commands then run like any other.
PENDING = [
    # Nothing pending: wip/fgrun, wip/fgplay and wip/fgcleanup are merged. The form of an entry:
    # (r"^stagevisor run .*--backend fargate", "run --backend fargate (branch wip/fgrun) is not merged"),
]

SHELL_INFOS = {"sh", "bash", "shell", "shell-session", "zsh", "console-session"}
EXIT_RE = re.compile(r"^\[exit (\d+)\]$")


class FileBlock:
    """A fenced block whose opening line says file=PATH: written there (relative to the shell's
    current directory) when the page reaches it, as a reader would save it."""

    def __init__(self, page, line, path):
        self.page, self.line, self.path, self.body = page, line, path, []


class Cmd:
    def __init__(self, page, line, text):
        self.page, self.line, self.text = page, line, text
        self.expect, self.exit = [], 0

    def where(self):
        return "%s:%d" % (os.path.relpath(self.page, ROOT), self.line)


def parse_page(path):
    """The page's commands, in order; raises ValueError on a block the test would not run."""
    cmds, fence, info, in_block = [], None, None, False
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        ln = lines[i]
        m = re.match(r"^(\s*)(```+|~~~+)\s*([\w-]*)", ln)
        if fence is None and m:
            fence, info, in_block = m.group(2), m.group(3).lower(), False
            fm = re.search(r"\bfile=(\S+)", ln)
            if fm:
                cmds.append(FileBlock(path, i + 1, fm.group(1)))
                info = "file"
            if info in SHELL_INFOS:
                raise ValueError("%s:%d: a ```%s block: show commands in ```console blocks with `$ ` prompts"
                                 % (path, i + 1, info))
            i += 1
            continue
        if fence is not None and ln.strip().startswith(fence[:3]) and ln.strip().strip(fence[0]) == "":
            fence = info = None
            i += 1
            continue
        if fence is not None and info == "file":
            cmds[-1].body.append(ln)
        elif fence is not None and info == "console":
            if ln.startswith("$ "):
                start, text = i + 1, ln[2:]
                while text.endswith("\\"):
                    i += 1
                    text = text[:-1].rstrip() + " " + lines[i].strip()
                cmds.append(Cmd(path, start, text.strip()))
                in_block = True
            elif ln.strip():
                if not in_block:
                    raise ValueError("%s:%d: output before any command in a console block" % (path, i + 1))
                e = EXIT_RE.match(ln.strip())
                if e:
                    cmds[-1].exit = int(e.group(1))
                else:
                    cmds[-1].expect.append(ln.strip())
        i += 1
    if fence is not None:
        raise ValueError("%s: a fenced block is not closed" % path)
    return cmds


def commands(items):
    return [c for c in items if isinstance(c, Cmd)]


def pages():
    out = []
    for d, _, files in os.walk(DOCS):
        out += [os.path.join(d, f) for f in files if f.endswith(".md")]
    return sorted(out)


def matches(expected, output_lines):
    frags = [f.strip() for f in expected.split("…") if f.strip()]
    for ol in output_lines:
        pos = 0
        for fr in frags:
            k = ol.find(fr, pos)
            if k < 0:
                break
            pos = k + len(fr)
        else:
            return True
    return False


def pending_reason(text):
    for pat, why in PENDING:
        if re.search(pat, text):
            return why
    return None


RUNNER = """set -a
if [ -f "$SV_DOCS_STATE" ]; then . "$SV_DOCS_STATE" >/dev/null 2>&1; fi
cd "$(cat "$SV_DOCS_CWD")" || exit 99
{cmd}
sv_docs_rc=$?
export -p > "$SV_DOCS_STATE.new" 2>/dev/null && mv "$SV_DOCS_STATE.new" "$SV_DOCS_STATE"
pwd > "$SV_DOCS_CWD"
exit $sv_docs_rc
"""


class Sandbox:
    """One page's world: files, PATH, HOME, state, and the AWS peers when the page needs them."""

    def __init__(self, page_cmds):
        self.tmp = tempfile.mkdtemp(prefix="sv-docs-")
        os.chmod(self.tmp, 0o755)  # the playground's Apache workers (www-data) read the site
        self.work = os.path.join(self.tmp, "work")
        os.makedirs(self.work)
        for d in ("examples", "deploy", "images"):
            src = os.path.join(ROOT, d)
            if os.path.isdir(src):
                shutil.copytree(src, os.path.join(self.work, d), symlinks=True,
                                ignore=shutil.ignore_patterns("build", "vendor", "node_modules"))
        # The launcher and its helpers, where a page's Jenkinsfile-like steps may call them.
        self.bin = os.path.join(self.tmp, "bin")
        os.makedirs(self.bin)
        os.symlink(coord_path(), os.path.join(self.bin, "stagevisor"))
        os.symlink(agent_path(), os.path.join(self.bin, "stagevisor-agent"))
        env = awsfake.base_env(self.tmp)
        env.update({
            "PATH": self.bin + os.pathsep + env.get("PATH", "/usr/bin:/bin"),
            "HOME": os.path.join(self.tmp, "home"),
            "XDG_STATE_HOME": os.path.join(self.tmp, "state"),
            "SV_DOCS_TMP": self.tmp,
            "SV_DOCS_STATE": os.path.join(self.tmp, "shell.env"),
            "SV_DOCS_CWD": os.path.join(self.tmp, "cwd"),
            "SV_SRC": ROOT,
            "SV_BUILD": os.environ.get("SV_BUILD", os.path.dirname(os.path.dirname(coord_path()))),
            "LC_ALL": "C.UTF-8",
            "TERM": "dumb",
        })
        env.pop("AWS_DEFAULT_REGION", None)
        os.makedirs(env["HOME"])
        with open(env["SV_DOCS_CWD"], "w") as f:
            f.write(self.work)
        self.env = env
        self.moto = None
        self.launcher = None
        needs_aws = any(re.search(r"(^|[\s;&|(])(aws|stagevisor aws)\s|--backend fargate|^stagevisor (teardown|cleanup)",
                                  c.text) and not pending_reason(c.text) for c in commands(page_cmds))
        if needs_aws:
            self.start_moto()
            texts = [c.text for c in commands(page_cmds)]
            fargate = any(re.search(r"--backend fargate|^stagevisor (teardown|cleanup)\b", t) for t in texts)
            if fargate and not any("create-cluster" in t for t in texts):
                self.prepare_aws_world()

    def start_moto(self):
        self.moto = awsfake.Moto(self.tmp, auth=False)
        req = urllib.request.Request(self.moto.url + "/moto-api/state-manager/set-transition", method="POST",
                                     data=json.dumps({"model_name": "ecs::task",
                                                      "transition": {"progression": "manual", "times": 1000000}}).encode())
        urllib.request.urlopen(req, timeout=30).read()
        self.env.update({
            "AWS_ENDPOINT_URL": self.moto.url,
            "AWS_ACCESS_KEY_ID": "AKIADOCSEXAMPLE00000",
            "AWS_SECRET_ACCESS_KEY": "docs-example-secret-not-a-real-one",
            "AWS_REGION": "eu-west-1",
            "AWS_DEFAULT_REGION": "eu-west-1",
        })

    def prepare_aws_world(self):
        """What Getting started creates, for the pages that run Fargate commands without
        creating it themselves: cluster "ci", a VPC (DNS host names on) with a subnet and a
        security group, the log group, the ECR repository, the zone, and deploy/pipeline.json
        (the example with those ids, no Slack, the coordinator on 127.0.0.1)."""
        import boto3
        kw = dict(endpoint_url=self.moto.url, region_name="eu-west-1",
                  aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
                  aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"])
        boto3.client("ecs", **kw).create_cluster(clusterName="ci")
        ec2 = boto3.client("ec2", **kw)
        vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
        sg = ec2.create_security_group(GroupName="stagevisor-tasks", Description="tasks", VpcId=vpc)["GroupId"]
        boto3.client("logs", **kw).create_log_group(logGroupName="/stagevisor")
        boto3.client("ecr", **kw).create_repository(repositoryName="site")
        zone = boto3.client("route53", **kw).create_hosted_zone(
            Name="preview.example.com", CallerReference="sv-docs")["HostedZone"]["Id"]
        with open(os.path.join(self.work, "deploy", "pipeline.example.json")) as f:
            cfg = json.load(f)
        cfg["aws"].update({"subnets": [subnet], "security_groups": [sg]})
        cfg["aws"]["route53"]["zone_id"] = zone
        cfg["coordinator"].update({"advertise": "https://127.0.0.1", "listen": "127.0.0.1"})
        first = free_port()
        cfg["coordinator"]["ports"] = [first, min(first + 4, 65535)]
        cfg.pop("slack", None)
        # The playground image's Apache is not here: the sandbox's playground stage serves the
        # example site with PHP's built-in server on a free loopback port, in service mode.
        web = free_port()
        cfg["stages"]["playground"]["spec"] = {
            "version": 1, "stage": "playground", "mode": "service", "stop_timeout": 5,
            "processes": [{"name": "web", "role": "service",
                           "command": ["php", "-S", "127.0.0.1:%d" % web, "-t", os.path.join(self.work, "examples", "site", "public")],
                           "ready": {"http": "http://127.0.0.1:%d/" % web, "timeout_ms": 60000}}]}
        with open(os.path.join(self.work, "deploy", "pipeline.json"), "w") as f:
            json.dump(cfg, f, indent=2)

    def start_launcher(self, cluster):
        if self.launcher:
            return
        ready = os.path.join(self.tmp, "launcher.ready")
        self.launcher_log = open(os.path.join(self.tmp, "launcher.log"), "wb")
        self.launcher = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "tests", "integration", "fargate_launcher.py"),
             "--endpoint", self.moto.url, "--region", "eu-west-1", "--cluster", cluster,
             "--agent", agent_path(), "--ready-file", ready],
            stdout=self.launcher_log, stderr=subprocess.STDOUT, env=self.env,
            cwd=self.work)  # the task's working directory: the codebase, as in the images
        wait_until(lambda: os.path.exists(ready), 60, "the Fargate launcher to start")

    def run(self, cmd):
        script = RUNNER.format(cmd=cmd)
        p = subprocess.Popen(["bash", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, env=self.env, start_new_session=True)
        try:
            out, _ = p.communicate(timeout=CMD_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, _ = p.communicate()
            return None, out.decode("utf-8", "replace")
        return p.returncode, out.decode("utf-8", "replace")

    def close(self):
        # Playgrounds a page left up (it should not) are brought down, then everything goes.
        rc, out = self.run("stagevisor playground list --json 2>/dev/null || echo '[]'")
        try:
            for pg in json.loads(out or "[]"):
                self.run("stagevisor playground down --name %s" % json.dumps(pg.get("name", "")))
        except ValueError:
            pass
        if self.launcher:
            self.launcher.terminate()
            try:
                self.launcher.wait(30)
            except subprocess.TimeoutExpired:
                self.launcher.kill()
                self.launcher.wait()
            self.launcher_log.close()
        if self.moto:
            self.moto.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


class DocsTest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.pages = pages()
        cls.cmds = {p: parse_page(p) for p in cls.pages}

    def test_there_are_docs(self):
        self.assertTrue(os.path.isfile(os.path.join(DOCS, "README.md")), "docs/README.md is missing")
        total = sum(len(commands(c)) for c in self.cmds.values())
        self.assertGreater(total, 20, "the docs show almost no commands: is the console convention used?")
        with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
            self.assertIn("docs/", f.read(), "README.md does not link docs/")

    def test_lists_are_not_stale(self):
        shown = {c.text for cs in self.cmds.values() for c in commands(cs)}
        for k in list(ADJUSTED) + list(NOT_RUNNABLE):
            self.assertIn(k, shown, "test_docs.py lists a command no page shows any more: %r" % k)
        for pat, _ in PENDING:
            self.assertTrue(any(re.search(pat, t) for t in shown), "PENDING pattern %r matches nothing" % pat)

    def test_links_resolve(self):
        for p in self.pages:
            with open(p, encoding="utf-8") as f:
                text = f.read()
            for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
                if re.match(r"^[a-z]+:", target):
                    continue
                self.assertTrue(os.path.exists(os.path.normpath(os.path.join(os.path.dirname(p), target))),
                                "%s links %s, which does not exist" % (os.path.relpath(p, ROOT), target))

    def test_reference_pages_cover_help(self):
        """Each command of `stagevisor --help`, and each option its --help lists, is on its page."""
        out = subprocess.run([coord_path(), "--help"], capture_output=True, text=True).stdout
        names = re.findall(r"^  ([a-z]+)\s", out, re.M)
        self.assertIn("run", names)
        checks = [(n, [coord_path(), n, "--help"]) for n in names] + [("agent", [agent_path(), "--help"])]
        # The Fargate side of commands whose usage text is its own (once built).
        checks += [("playground", [coord_path(), "playground", "up", "--backend", "fargate", "--help"]),
                   ("run", [coord_path(), "run", "--backend", "fargate", "--help"])]
        for name, argv in checks:
            page = os.path.join(DOCS, "commands", ("stagevisor-%s.md" % name) if name != "agent" else "stagevisor-agent.md")
            self.assertTrue(os.path.isfile(page), "no reference page %s" % os.path.relpath(page, ROOT))
            with open(page, encoding="utf-8") as f:
                text = f.read()
            res = subprocess.run(argv, capture_output=True, text=True)
            if res.returncode != 0:  # a command not available in this build: its page says so
                self.assertIn("not yet available", res.stderr)
                continue
            for opt in sorted(set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", res.stdout))):
                self.assertTrue("`" + opt in text, "%s: `%s` is in `%s` but not on the page"
                                % (os.path.relpath(page, ROOT), opt, " ".join(argv[1:])))

    def test_man_pages(self):
        """docs/man/*.1 render without a groff warning, and stagevisor.1 names every command."""
        out = subprocess.run([coord_path(), "--help"], capture_output=True, text=True).stdout
        names = re.findall(r"^  ([a-z]+)\s", out, re.M)
        for page in ("stagevisor.1", "stagevisor-agent.1"):
            path = os.path.join(DOCS, "man", page)
            r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", path], capture_output=True, text=True,
                               env=dict(os.environ, LC_ALL="C.UTF-8"))
            self.assertEqual((r.returncode, r.stderr), (0, ""), "%s does not render cleanly" % page)
        with open(os.path.join(DOCS, "man", "stagevisor.1"), encoding="utf-8") as f:
            text = f.read()
        for n in names:
            self.assertIn(".B %s\n" % n, text, "stagevisor.1 does not describe the command %s" % n)

    def test_commands_run(self):
        ran, pending, skipped, failures = 0, [], [], []
        for page in self.pages:
            cmds = self.cmds[page]
            if not cmds:
                continue
            box = Sandbox(cmds)
            try:
                for c in cmds:
                    if isinstance(c, FileBlock):
                        with open(box.env["SV_DOCS_CWD"]) as f:
                            target = os.path.join(f.read().strip(), c.path)
                        os.makedirs(os.path.dirname(target), exist_ok=True)
                        with open(target, "w") as f:
                            f.write("\n".join(c.body) + "\n")
                        continue
                    why = pending_reason(c.text)
                    if why:
                        pending.append("%s: %s (%s)" % (c.where(), c.text, why))
                        continue
                    if c.text in NOT_RUNNABLE:
                        skipped.append("%s: %s (%s)" % (c.where(), c.text, NOT_RUNNABLE[c.text]))
                        continue
                    text = ADJUSTED[c.text][0] if c.text in ADJUSTED else c.text
                    if "--backend fargate" in text:
                        box.start_launcher("ci")
                    t0 = time.monotonic()
                    rc, out = box.run(text)
                    took = time.monotonic() - t0
                    if took > 3:
                        print("  took %.1f s: %s: %s" % (took, c.where(), c.text[:80]))
                    ran += 1
                    lines = out.splitlines()
                    problems = []
                    if rc is None:
                        problems.append("did not finish within %d s" % CMD_TIMEOUT)
                    elif rc != c.exit:
                        problems.append("exit %s, the page says %d" % (rc, c.exit))
                    for e in c.expect:
                        if not matches(e, lines):
                            problems.append("output lacks: %s" % e)
                    if problems:
                        failures.append("%s: $ %s\n    %s\n    --- output ---\n%s" % (
                            c.where(), c.text, "\n    ".join(problems),
                            "\n".join("    | " + ln for ln in lines[-40:])))
            finally:
                box.close()
        print("test_docs: %d commands run, %d pending, %d not runnable" % (ran, len(pending), len(skipped)))
        for p in pending:
            print("  PENDING " + p)
        for s in skipped:
            print("  NOT RUNNABLE " + s)
        self.assertEqual(failures, [], "\n\n".join(failures))


if __name__ == "__main__":
    unittest.main(verbosity=2)
