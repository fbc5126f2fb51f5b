"""deploy/Jenkinsfile, read by a parser of declarative Groovy (groovy_decl.py: strings,
comments, GString expressions, nested braces), not by grep.

Checks the pipeline's structure against the issue: a BRANCH parameter for manual runs; a
weekday cron at close of business; Build (composer install, front-end build, `stagevisor
hooks`, image build and push to ECR), then, for pull requests (and manual runs), Tests,
Analysis and Playground in one `parallel`, failures there marking the build unstable; on main
(after approval), Release tests without catchError (they fail the pipeline) and Deploy (the
next semantic version on the images and the commit, pushed); a Nightly stage, on the timer
only, with `stagevisor teardown` and the database export; `post { always { junit ...;
stagevisor cleanup } }`; stage names unique, as Jenkins requires. The version script is taken
out of the Jenkinsfile and run against a real git repository. The parser itself is tested on
the constructs that defeat grep (braces in strings and comments, unbalanced files).
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import shutil
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import groovy_decl as gd  # noqa: E402

SRC = os.environ.get("SV_SRC") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
JENKINSFILE = os.path.join(SRC, "deploy", "Jenkinsfile")


def load():
    with open(JENKINSFILE) as f:
        return f.read()


def stage_map(stages_node):
    """{name: stage node} of the stage('...') sections directly in a stages/parallel section."""
    out = {}
    for s in stages_node.sections("stage"):
        name = s.first_string()
        assert name not in out, "stage %r twice" % name
        out[name] = s
    return out


def all_stage_names(tree):
    return [n.first_string() for n in tree.walk() if n.name == "stage" and n.body is not None]


def conditions(stage):
    """The when block as a set of "kind:arg" strings (nested not/allOf/anyOf flattened with a
    prefix for not)."""
    out = set()

    def visit(node, neg):
        for c in node.children():
            if c.name in ("allOf", "anyOf") and c.body is not None:
                visit(c, neg)
            elif c.name == "not" and c.body is not None:
                visit(c, not neg)
            else:
                out.add(("not " if neg else "") + c.name + (":" + c.first_string() if c.first_string() else ""))
    if stage.sections("when"):
        visit(stage.section("when"), False)
    return out


def sh_scripts(node):
    """The shell scripts of every sh step below node: `sh '...'`, `sh script: '...'`,
    `sh(script: '...')`."""
    out = []
    for n in node.walk():
        if n.name == "sh" and n.body is None:
            s = n.named_arg("script")
            out.append(s if s is not None else n.first_string())
    for n in node.walk():
        # sh(...) inside an expression: env.X = sh(label: ..., script: '...').trim()
        if n.body is None and n.name != "sh":
            items = n.args
            for k, it in enumerate(items):
                if (isinstance(it, gd.Tok) and it.kind == "name" and it.value == "sh" and k + 1 < len(items)
                        and isinstance(items[k + 1], gd.Group)):
                    out.append(gd.Node("sh", [items[k + 1]], None, it.line).named_arg("script"))
    return [s for s in out if s is not None]


def check_pipeline(text):
    """Raises AssertionError naming what is missing; returns the parsed pipeline."""
    tree = gd.parse(text)
    (pipeline,) = tree.sections("pipeline")
    assert pipeline.statements("agent") or pipeline.sections("agent"), "an agent"
    names = all_stage_names(pipeline)
    assert len(names) == len(set(names)), "stage names must be unique: %s" % names

    params = pipeline.section("parameters")
    branch = [p for p in params.statements("string") if p.named_arg("name") == "BRANCH"]
    assert branch, "a BRANCH string parameter for manual runs"
    cron = pipeline.section("triggers").statements("cron")
    assert cron and "H 19 * * 1-5" in cron[0].arg_strings(), "a weekday close-of-business cron"

    top = stage_map(pipeline.section("stages"))
    order = list(top)
    for name in ("Build", "Pull request", "Release tests", "Deploy", "Nightly"):
        assert name in top, "stage %r (have %s)" % (name, order)
    assert order.index("Build") < order.index("Pull request") < order.index("Release tests") < order.index("Deploy")

    build = "\n".join(sh_scripts(top["Build"]))
    for what in ("composer install", "npm ci", "npm run build", "stagevisor hooks", "docker build", "docker push",
                 ".dkr.ecr."):
        assert what in build, "Build runs %r" % what
    assert "not triggeredBy:TimerTrigger" in conditions(top["Build"])

    pr = top["Pull request"]
    assert "changeRequest" in conditions(pr), conditions(pr)
    assert not pr.sections("steps"), "the pull request stage is only its parallel branches"
    par = stage_map(pr.section("parallel"))
    assert sorted(par) == ["Analysis", "Playground", "Tests"], sorted(par)
    for name in ("Tests", "Analysis"):
        steps = par[name].section("steps")
        (ce,) = steps.sections("catchError")
        assert ce.named_arg("buildResult") == "UNSTABLE", name
        assert any("stagevisor run" in s and "--stage " + name.lower() in s for s in sh_scripts(ce)), name
    assert any("stagevisor playground up" in s for s in sh_scripts(par["Playground"]))

    for name in ("Release tests", "Deploy"):
        c = conditions(top[name])
        assert "branch:main" in c and "not changeRequest" in c and "not triggeredBy:TimerTrigger" in c, (name, c)
    rel = top["Release tests"].section("steps")
    assert not any(n.name == "catchError" for n in rel.walk()), "release tests must fail the pipeline"
    assert any("stagevisor run" in s and "--stage tests" in s for s in sh_scripts(rel))
    deploy = sh_scripts(top["Deploy"])
    assert any("git describe --tags" in s for s in deploy), "next version from the last tag"
    assert any("git tag -a" in s and "git push origin" in s for s in deploy), "tag on the commit, pushed"
    assert any("docker tag" in s and "$NEXT_VERSION" in s and "docker push" in s for s in deploy), "tag on the image"

    nightly = top["Nightly"]
    assert conditions(nightly) == {"triggeredBy:TimerTrigger"}, conditions(nightly)
    inner = stage_map(nightly.section("stages"))
    assert any("stagevisor teardown" in s for s in sh_scripts(inner["Teardown"]))
    assert any("db-export" in s for s in sh_scripts(inner["Database export"]))

    always = pipeline.section("post").section("always")
    assert always.statements("junit"), "post { always { junit ... } }"
    assert any("stagevisor cleanup" in s for s in sh_scripts(always))
    return pipeline


def version_script(pipeline):
    top = stage_map(pipeline.section("stages"))
    (s,) = [s for s in sh_scripts(top["Deploy"]) if "git describe" in s]
    return s


class JenkinsfileTest(unittest.TestCase):
    def test_structure(self):
        check_pipeline(load())

    def test_broken_variants_are_caught(self):
        text = load()
        variants = {
            "no playground": text.replace("stage('Playground')", "stage('Playgrounds')"),
            "release tests tolerated": text.replace(
                "// No catchError: failed tests fail the pipeline, and nothing is deployed.",
                "catchError(buildResult: 'UNSTABLE') { sh 'true' }"),
            "no cleanup": text.replace("stagevisor cleanup --config", "stagevisor clean --config"),
            "nightly on every build": text.replace("when { triggeredBy 'TimerTrigger' }\n            stages {",
                                                   "stages {"),
            "duplicate stage": text.replace("stage('Release tests')", "stage('Tests')"),
            "no hooks": text.replace("stagevisor hooks", "stagevisor hook"),
        }
        for what, variant in variants.items():
            self.assertNotEqual(variant, text, what)
            with self.assertRaises(AssertionError, msg=what):
                check_pipeline(variant)
        # Unbalanced: a brace removed is a parse error with a line, not a silent pass.
        broken = text.replace("parallel {", "parallel ", 1)
        with self.assertRaises(gd.ParseError):
            gd.parse(broken)

    def env(self):
        (pipeline,) = gd.parse(load()).sections("pipeline")
        return {c.name: c.first_string() for c in pipeline.section("environment").children()}

    def test_images_are_the_configs(self):
        """The Build stage pushes what the example config's stages run: one repository (the
        config's aws.ecr_repository), tags IMAGE-TAG where the config has IMAGE-${BUILD_ID}."""
        with open(os.path.join(SRC, "deploy", "pipeline.example.json")) as f:
            cfg = json.load(f)
        env = self.env()
        self.assertEqual(env["ECR_REPOSITORY"], cfg["aws"]["ecr_repository"])
        self.assertEqual(env["AWS_REGION"], cfg["aws"]["region"])
        top = stage_map(check_pipeline(load()).section("stages"))
        (build,) = [s for s in sh_scripts(top["Build"]) if "docker push" in s]
        loop = re.search(r"for image in ([a-z ]+); do", build).group(1).split()
        self.assertIn('docker push "$registry/$ECR_REPOSITORY:$image-$tag"', build)
        for stage, st in cfg["stages"].items():
            self.assertIn(stage, loop, "the Build stage builds no image for stage %s" % stage)
            self.assertRegex(st["image"], r"^\d{12}\.dkr\.ecr\.%s\.amazonaws\.com/%s:%s-\$\{BUILD_ID\}$"
                             % (re.escape(env["AWS_REGION"]), re.escape(env["ECR_REPOSITORY"]), stage))
        (deploy,) = [s for s in sh_scripts(top["Deploy"]) if "docker tag" in s]
        self.assertIn('"$registry/$ECR_REPOSITORY:$image-$tag" "$registry/$ECR_REPOSITORY:$image-$NEXT_VERSION"',
                      deploy)

    def test_image_tag_is_the_coordinators(self):
        """The tag line of Build and Deploy, run by bash, makes $BUILD_TAG the tag stagevisor's
        ${BUILD_ID} expands to (taskdef_image_tag: the same cases as tests/unit test_taskdef.c)."""
        top = stage_map(check_pipeline(load()).section("stages"))
        lines = set()
        for name in ("Build", "Deploy"):
            for s in sh_scripts(top[name]):
                lines.update(ln.strip() for ln in s.splitlines() if ln.strip().startswith("tag="))
        self.assertEqual(len(lines), 1, "Build and Deploy make the tag the same way: %s" % lines)
        (line,) = lines
        cases = {"jenkins-site-PR-12-7": "jenkins-site-PR-12-7",
                 "jenkins-site-feature%2Fx y_1.2": "jenkins-site-feature-2Fx-y_1.2",
                 "-x": "_x", ".x": "_x", "\u00e9t\u00e9": "_-t--", "b" * 300: "b" * 128}
        for build_tag, want in cases.items():
            out = subprocess.run(["bash", "-c", line + '\nprintf "%s" "$tag"'], capture_output=True,
                                 env=dict(os.environ, BUILD_TAG=build_tag, LC_ALL="C.UTF-8"), timeout=30)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertEqual(out.stdout.decode(), want, build_tag)

    def test_version_script(self):
        script = version_script(check_pipeline(load()))
        tmp = tempfile.mkdtemp(prefix="sv-jenkins-")
        try:
            env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com", GIT_COMMITTER_NAME="t",
                       GIT_COMMITTER_EMAIL="t@example.com", GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1")

            def git(*args):
                subprocess.run(["git", "-C", tmp] + list(args), env=env, check=True, capture_output=True)

            def next_version(bump=None):
                e = dict(env)
                e.pop("BUMP", None)
                if bump:
                    e["BUMP"] = bump
                p = subprocess.run(["sh", "-c", script], cwd=tmp, env=e, capture_output=True, text=True, timeout=60)
                self.assertEqual(p.returncode, 0, p.stderr)
                return p.stdout.strip()

            git("init", "-q", "-b", "main")
            git("commit", "-q", "--allow-empty", "-m", "first")
            self.assertEqual(next_version(), "v0.0.1")  # no tag yet
            git("tag", "-a", "v1.4.9", "-m", "r")
            git("commit", "-q", "--allow-empty", "-m", "second")
            git("tag", "-a", "not-a-version", "-m", "x")  # ignored: not vX.Y.Z
            self.assertEqual(next_version(), "v1.4.10")
            self.assertEqual(next_version("patch"), "v1.4.10")
            self.assertEqual(next_version("minor"), "v1.5.0")
            self.assertEqual(next_version("major"), "v2.0.0")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


class ParserTest(unittest.TestCase):
    def test_braces_in_strings_and_comments(self):
        tree = gd.parse("""
pipeline { // a comment with a brace {
  /* and { another
     } */
  stages {
    stage('a {') { steps { sh 'echo "}"' } }
    stage("b ${x ? '}' : "{"}") { steps { sh '''
        echo '{'
    ''' } }
    stage('c') { steps { sh "echo \\"}\\" \\${HOME}" ; echo 'x' } }
  }
}
""")
        (p,) = tree.sections("pipeline")
        stages = p.section("stages").sections("stage")
        self.assertEqual([s.first_string() for s in stages], ["a {", "b ${x ? '}' : \"{\"}", "c"])
        self.assertEqual(sh_scripts(stages[0]), ['echo "}"'])
        self.assertEqual(sh_scripts(stages[1]), ["\n        echo '{'\n    "])
        self.assertEqual(sh_scripts(stages[2]), ['echo "}" ${HOME}'])
        self.assertEqual([n.name for n in stages[2].section("steps").children()], ["sh", "echo"])

    def test_errors_have_lines(self):
        for text, msg in (("a {\n b {\n}", "line 1: '{' is never closed"), ("a }", "line 1: '}' closes nothing"),
                          ("a {\n 'x\n}", "line 2: newline in a string"), ("a /* x", "unterminated comment"),
                          ("a (\n]", "line 2: ']' closes '(' of line 1"), ("x '''abc", "line 1: unterminated string")):
            with self.assertRaises(gd.ParseError) as cm:
                gd.parse(text)
            self.assertIn(msg, str(cm.exception))

    def test_multiline_statements(self):
        tree = gd.parse("junit allowEmptyResults: true,\n      testResults: 'r/*.xml'\nsh 'x'\n")
        self.assertEqual([n.name for n in tree.children()], ["junit", "sh"])
        self.assertEqual(tree.children()[0].named_arg("testResults"), "r/*.xml")


if __name__ == "__main__":
    unittest.main(verbosity=2)
