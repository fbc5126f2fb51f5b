"""`stagevisor cleanup` (coordinator/cleanup.c) against moto's server with authentication on,
as an IAM user whose only permissions are deploy/iam/coordinator-policy.json.

The scene (set up and read back by the test as moto's "admin" user, awsfake.Moto(admin=True);
stagevisor runs as the user "ci" with the coordinator's policy): images pushed to moto's
ECR with PutImage, task definitions of the families stagevisor-* (with stagevisor's hash tag)
and others, tasks started by stagevisor for build B1 (a stopped tests task, a running
playground) and for another build. Then: --dry-run changes nothing; cleanup deletes B1's images
by digest but keeps the running playground's image and the release-tagged one and says why,
deregisters and deletes the old revisions but keeps the latest of each family and the one a
running task uses, leaves other families and untagged revisions alone; a second run does
nothing; without ecr:BatchDeleteImage in the policy it fails with AWS's AccessDenied line.
moto implements DeleteTaskDefinitions and never answers BatchDeleteImage with a failure other
than ImageNotFound: a stand-in endpoint (OldEcs, named as such) covers an API without
DeleteTaskDefinitions (said in the output, not a failure) and such a failure entry (exit 1)."""
import hashlib
import json
import os
import subprocess
import sys
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import awsfake  # noqa: E402
from svtest import SANITIZER_MARKS, coord_path  # noqa: E402

ROOT = os.environ.get("SV_SRC") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SKIP = awsfake.moto_or_skip_reason()
REGION = "us-east-1"
ACCOUNT = "123456789012"
REGISTRY = "%s.dkr.ecr.%s.amazonaws.com" % (ACCOUNT, REGION)
REPO = "stagevisor/site"
B1, B0 = "jenkins-site-PR-12-7", "jenkins-site-PR-11-3"
HASH_TAG = "stagevisor:definition-hash"


def manifest(name):
    """A distinct image manifest (moto computes the digest from it)."""
    layer = hashlib.sha256(name.encode()).hexdigest()
    return json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                       "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 100,
                                  "digest": "sha256:" + layer},
                       "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 200,
                                   "digest": "sha256:" + hashlib.sha256(layer.encode()).hexdigest()}]})


def moto_api(moto, path, body):
    req = urllib.request.Request(moto.url + path, data=body.encode(), method="POST",
                                 headers={"Content-Type": "application/json"})  # else moto sees no body
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read()


class Scene:
    """What builds B0 and B1 left in moto's ECR and ECS."""

    def __init__(self, moto, images_only=False):
        """images_only: the cluster and B1's build-tagged image, no tasks (enough to be refused)."""
        self.moto = moto
        m = self.moto
        ec2, ecs, ecr = m.admin_client("ec2"), m.admin_client("ecs"), m.admin_client("ecr")
        if images_only:
            ecs.create_cluster(clusterName="ci")
            ecr.create_repository(repositoryName=REPO)
            self.digest = {"b1": ecr.put_image(repositoryName=REPO, imageManifest=manifest("b1"),
                                               imageTag=B1)["image"]["imageId"]["imageDigest"]}
            self.subnet, self.sg = "subnet-0123abcd", "sg-0123abcd"
            return
        vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        self.subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
        self.sg = ec2.create_security_group(GroupName="ci", Description="ci", VpcId=vpc)["GroupId"]
        moto_api(m, "/moto-api/state-manager/set-transition",
                 json.dumps({"model_name": "ecs::task", "transition": {"progression": "manual", "times": 1000000}}))
        ecs.create_cluster(clusterName="ci")
        ecr.create_repository(repositoryName=REPO)
        ecr.create_repository(repositoryName="other")
        self.digest = {}
        for name, tags in (("b1", [B1]), ("tests-b1", ["tests-b1"]), ("playground-b1", ["playground-b1"]),
                           ("analysis-b1", ["analysis-b1", "v1.4.0"]), ("tests-b0", ["tests-b0"]),
                           ("tests-b1-other", ["tests-b1"])):
            repo = "other" if name.endswith("-other") else REPO
            d = None
            for t in tags:
                d = ecr.put_image(repositoryName=repo, imageManifest=manifest(name), imageTag=t)["image"]["imageId"][
                    "imageDigest"]
            self.digest[name] = d
        # stagevisor-tests: 1 (B0's tests), 2 (B1's tests), 3 (the latest, unused)
        self.tests = [self.register("stagevisor-tests", "tests-b0"), self.register("stagevisor-tests", "tests-b1"),
                      self.register("stagevisor-tests", "tests-b1", h="3333")]
        self.analysis = [self.register("stagevisor-analysis", "analysis-b1")]
        self.playground = [self.register("stagevisor-playground", "playground-b1"),
                           self.register("stagevisor-playground", "playground-b1", h="2222")]
        # not stagevisor's: another family, and a stagevisor-* family without the hash tag
        self.foreign = [self.register("other-app", "tests-b1", tagged=False),
                        self.register("other-app", "tests-b1", tagged=False)]
        self.legacy = [self.register("stagevisor-legacy", "tests-b1", tagged=False),
                       self.register("stagevisor-legacy", "tests-b1", tagged=False)]
        b0 = self.run(self.tests[0], B0, "tests")
        ecs.stop_task(cluster="ci", task=b0, reason="done")
        t1 = self.run(self.tests[1], B1, "tests")
        ecs.stop_task(cluster="ci", task=t1, reason="done")
        a1 = self.run(self.analysis[0], B1, "analysis")
        ecs.stop_task(cluster="ci", task=a1, reason="done")
        self.play_task = self.run(self.playground[0], B1, "playground", branch="feature/x")

    def register(self, family, tag, tagged=True, h=None):
        ecs = self.moto.admin_client("ecs")
        tags = [{"key": HASH_TAG, "value": h or hashlib.sha256((family + tag).encode()).hexdigest()[:16]}] if tagged else []
        kw = {"tags": tags} if tags else {}
        return ecs.register_task_definition(
            family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
            containerDefinitions=[{"name": "stage", "image": "%s/%s:%s" % (REGISTRY, REPO, tag), "cpu": 256,
                                   "memory": 512, "essential": True}], **kw)["taskDefinition"]["taskDefinitionArn"]

    def run(self, taskdef, build, stage, branch=None):
        tags = [{"key": "stagevisor:build", "value": build}, {"key": "stagevisor:stage", "value": stage}]
        if branch:
            tags.append({"key": "stagevisor:branch", "value": branch})
        return self.moto.admin_client("ecs").run_task(
            cluster="ci", taskDefinition=taskdef, launchType="FARGATE", startedBy="stagevisor", tags=tags,
            networkConfiguration={"awsvpcConfiguration": {"subnets": [self.subnet], "securityGroups": [self.sg]}},
        )["tasks"][0]["taskArn"]


class State:
    """What is there now, read as moto's admin user."""

    def __init__(self, moto):
        ecr, ecs = moto.admin_client("ecr"), moto.admin_client("ecs")
        self.images = {d["imageDigest"]: sorted(d.get("imageTags", []))
                       for d in ecr.describe_images(repositoryName=REPO)["imageDetails"]}
        repos = [r["repositoryName"] for r in ecr.describe_repositories()["repositories"]]
        self.other = len(ecr.describe_images(repositoryName="other")["imageDetails"]) if "other" in repos else 0
        self.defs = {}
        for fam in ecs.list_task_definition_families()["families"]:
            for status in ("ACTIVE", "INACTIVE"):
                for arn in ecs.list_task_definitions(familyPrefix=fam, status=status)["taskDefinitionArns"]:
                    self.defs[arn.split("/")[-1]] = status

    def __eq__(self, other):
        return (self.images, self.other, self.defs) == (other.images, other.other, other.defs)

    def __repr__(self):
        return "images %s\ndefinitions %s" % (self.images, self.defs)


@unittest.skipIf(SKIP, SKIP)
class Cleanup(unittest.TestCase):
    def start(self, policy, images_only=False):
        self.tmp = awsfake.tmpdir()
        self.moto = awsfake.Moto(self.tmp, policy=policy, admin=True)
        self.addCleanup(self.moto.close)
        self.scene = Scene(self.moto, images_only)
        self.config = os.path.join(self.tmp, "pipeline.json")
        with open(self.config, "w") as f:
            json.dump({"version": 1,
                       "aws": {"region": REGION, "cluster": "ci", "subnets": [self.scene.subnet],
                               "security_groups": [self.scene.sg],
                               "execution_role_arn": "arn:aws:iam::%s:role/stagevisor-task-execution" % ACCOUNT,
                               "log_group": "/stagevisor", "ecr_repository": REPO},
                       "coordinator": {"advertise": "https://127.0.0.1", "ports": [30000, 30009]},
                       "stages": {"tests": {"image": "%s/%s:tests-b1" % (REGISTRY, REPO), "cpu": 256,
                                            "memory": 512, "spec": {"version": 1, "stage": "tests", "mode": "job",
                                                                    "processes": []}}}}, f)

    def cleanup(self, *args):
        env = awsfake.base_env(self.tmp)
        env.update({"AWS_ACCESS_KEY_ID": self.moto.access_key, "AWS_SECRET_ACCESS_KEY": self.moto.secret_key,
                    "AWS_ENDPOINT_URL": self.moto.url})
        env.pop("BUILD_TAG", None)
        p = subprocess.run([coord_path(), "cleanup", "--config", self.config] + list(args), env=env,
                           capture_output=True, text=True, timeout=300)
        for mark in SANITIZER_MARKS:
            self.assertNotIn(mark, p.stderr)
        self.assertNotIn(self.moto.secret_key, p.stdout + p.stderr)
        return p

    def test_a_build_cleaned_up(self):
        self.start(awsfake.coordinator_policy(ROOT))
        s, d = self.scene, self.scene.digest
        before = State(self.moto)
        self.assertEqual(len(before.images), 5, before)

        dry = self.cleanup("--build-id", B1, "--dry-run")
        self.assertEqual(dry.returncode, 0, dry.stderr + dry.stdout)
        self.assertEqual(State(self.moto), before, "--dry-run changed something:\n" + dry.stdout)
        self.assertIn("would delete image %s" % d["b1"], dry.stdout)
        self.assertIn("would deregister task definition stagevisor-tests:1", dry.stdout)

        r = self.cleanup("--build-id", B1)
        self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
        out = r.stdout
        after = State(self.moto)
        # B1's images deleted by digest: tagged with the build id, and its stopped tasks' images
        self.assertIn("deleted image %s (tags %s): tagged with the build id" % (d["b1"], B1), out)
        self.assertIn("deleted image %s (tags tests-b1): an image of task definition stagevisor-tests:2"
                      % d["tests-b1"], out)
        self.assertNotIn(d["b1"], after.images)
        self.assertNotIn(d["tests-b1"], after.images)
        # the running playground's image is kept, and the output says why
        play_id = s.play_task.split("/")[-1]
        self.assertIn("kept image %s (tags playground-b1): used by running task %s (stage playground, build %s, "
                      "branch feature/x)" % (d["playground-b1"], play_id, B1), out)
        self.assertIn(d["playground-b1"], after.images)
        # a release-tagged image stays; another build's image and another repository are not touched
        self.assertIn("kept image %s (tags analysis-b1, v1.4.0): it carries the release tag v1.4.0"
                      % d["analysis-b1"], out)
        self.assertEqual(after.images.get(d["tests-b0"]), ["tests-b0"])
        self.assertEqual(after.other, 1)
        self.assertEqual(len(after.images), 3, after)
        # task definitions: old revisions deregistered, then deleted (moto implements
        # DeleteTaskDefinitions); the latest of each family and the one in use kept
        for rev in ("stagevisor-tests:1", "stagevisor-tests:2"):
            self.assertIn("deregistered task definition %s" % rev, out)
            self.assertIn("deleted task definition %s" % rev, out)
            self.assertNotIn(rev, after.defs)
        self.assertEqual(after.defs["stagevisor-tests:3"], "ACTIVE")
        self.assertEqual(after.defs["stagevisor-analysis:1"], "ACTIVE")
        self.assertEqual(after.defs["stagevisor-playground:1"], "ACTIVE")
        self.assertIn("kept task definition stagevisor-playground:1: used by running task %s" % play_id, out)
        self.assertEqual(after.defs["stagevisor-playground:2"], "ACTIVE")
        # not made by stagevisor: left alone
        for rev in ("other-app:1", "other-app:2", "stagevisor-legacy:1", "stagevisor-legacy:2"):
            self.assertEqual(after.defs[rev], "ACTIVE", rev)
        self.assertIn("done: images 2 deleted, 2 kept; task definitions 2 deregistered, 2 deleted", out)

        again = self.cleanup("--build-id", B1)
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertEqual(State(self.moto), after, "the second run changed something:\n" + again.stdout)
        self.assertNotIn("deleted image", again.stdout)
        self.assertNotIn("deregistered", again.stdout.replace("0 deregistered", ""))
        self.assertIn("images 0 deleted", again.stdout)
        self.assertIn("task definitions 0 deregistered, 0 deleted", again.stdout)

    def test_without_batch_delete_image_permission(self):
        self.start(awsfake.coordinator_policy(ROOT, drop="ecr:BatchDeleteImage"), images_only=True)
        before = State(self.moto)
        self.assertIn(self.scene.digest["b1"], before.images)
        r = self.cleanup("--build-id", B1)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertEqual(r.returncode, 1, r.stderr)
        line = [ln for ln in r.stderr.splitlines() if ln.startswith("ecr BatchDeleteImage: ")]
        self.assertEqual(len(line), 1, r.stderr)
        self.assertRegex(line[0], r"^ecr BatchDeleteImage: AccessDenied(Exception)?: .*ecr:BatchDeleteImage")
        self.assertEqual(State(self.moto).images, before.images)
        self.assertNotIn("deleted image", r.stdout)

    def test_stage_images_found_by_tag(self):
        """The Jenkinsfile's images: one repository, tags <image>-<build id made a tag>, the config's
        stages naming them with ${BUILD_ID}. No task is listed (ECS forgets stopped tasks after an
        hour): cleanup finds them by tag alone, keeps the release-tagged one and another build's."""
        self.start(awsfake.coordinator_policy(ROOT), images_only=True)
        ecr = self.moto.admin_client("ecr")
        ecr.create_repository(repositoryName="other")
        build = "jenkins-site/feature%2Fx-3"      # Jenkins' BUILD_TAG of a branch feature/x
        tag = "jenkins-site-feature-2Fx-3"        # the same made an image tag, as the Jenkinsfile does
        d = {}
        for name, repo, tags in (("tests", REPO, ["tests-" + tag]), ("analysis", REPO, ["analysis-" + tag]),
                                 ("playground", REPO, ["playground-" + tag, "playground-v2.0.0"]),
                                 ("tests-b0", REPO, ["tests-jenkins-site-main-2"]),
                                 ("elsewhere", "other", ["tests-" + tag])):
            for t in tags:
                d[name] = ecr.put_image(repositoryName=repo, imageManifest=manifest("stage-" + name),
                                        imageTag=t)["image"]["imageId"]["imageDigest"]
        with open(self.config) as f:
            cfg = json.load(f)
        spec = cfg["stages"]["tests"]["spec"]
        cfg["stages"] = {
            st: {"image": "%s/%s:%s-${BUILD_ID}" % (REGISTRY, REPO, st), "cpu": 256, "memory": 512, "spec": spec}
            for st in ("tests", "analysis", "playground")}
        cfg["stages"]["remote"] = {"image": "%s/other:tests-${BUILD_ID}" % REGISTRY, "cpu": 256, "memory": 512,
                                   "spec": spec}
        with open(self.config, "w") as f:
            json.dump(cfg, f)
        before = State(self.moto)

        dry = self.cleanup("--build-id", build, "--dry-run")
        self.assertEqual(dry.returncode, 0, dry.stderr + dry.stdout)
        self.assertEqual(State(self.moto), before, "--dry-run changed something:\n" + dry.stdout)
        self.assertIn("would delete image %s (tags tests-%s): tagged tests-%s (stages.tests.image for build %s)"
                      % (d["tests"], tag, tag, build), dry.stdout)

        r = self.cleanup("--build-id", build)
        self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
        after = State(self.moto)
        for st in ("tests", "analysis"):
            self.assertIn("deleted image %s (tags %s-%s): tagged %s-%s (stages.%s.image for build %s)"
                          % (d[st], st, tag, st, tag, st, build), r.stdout)
            self.assertNotIn(d[st], after.images)
        self.assertIn("kept image %s (tags playground-%s, playground-v2.0.0): it carries the release tag "
                      "playground-v2.0.0" % (d["playground"], tag), r.stdout)
        self.assertEqual(after.images.get(d["playground"]), sorted(["playground-" + tag, "playground-v2.0.0"]))
        self.assertEqual(after.images.get(d["tests-b0"]), ["tests-jenkins-site-main-2"])
        self.assertIn("images: stages.remote.image %s/other:tests-%s is not an image of ECR repository %s"
                      % (REGISTRY, tag, REPO), r.stdout)
        self.assertEqual(after.other, 1)
        self.assertIn("done: images 2 deleted, 1 kept", r.stdout)

    def test_usage_errors(self):
        self.tmp = awsfake.tmpdir()
        env = awsfake.base_env(self.tmp)
        p = subprocess.run([coord_path(), "cleanup"], env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--config FILE is required", p.stderr)
        bad = os.path.join(self.tmp, "bad.json")
        with open(bad, "w") as f:
            json.dump({"version": 1, "aws": {"region": REGION}}, f)
        p = subprocess.run([coord_path(), "cleanup", "--config", bad], env=env, capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertIn("coordinator: is required", p.stderr)  # the missing field, by its path
        p = subprocess.run([coord_path(), "cleanup", "--help"], env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0)
        self.assertIn("--dry-run", p.stdout)
        self.assertIn("--build-id", p.stdout)


DIGEST = "sha256:" + "ab" * 32


class OldEcs:
    """A stand-in endpoint (awsfake.ScriptedAws) for what moto does not do: an ECS-compatible
    API without DeleteTaskDefinitions (UnknownOperationException, as older emulators answer),
    and a BatchDeleteImage whose `failures` name a reason other than ImageNotFound. One family
    stagevisor-tests with revisions 1 (stagevisor's, unused) and 2 (the latest); one image tagged
    with the build id; no tasks."""

    def __init__(self):
        self.inactive = []
        self.calls = []

    def __call__(self, info):
        op = (info["target"] or "").split(".")[-1]
        body = json.loads(info["body"] or b"{}")
        self.calls.append(op)
        arn = "arn:aws:ecs:%s:%s:task-definition/stagevisor-tests:%%d" % (REGION, ACCOUNT)
        answers = {
            "ListTasks": {"taskArns": []},
            "ListTaskDefinitionFamilies": {"families": ["stagevisor-tests"]},
            "DescribeTaskDefinition": {"taskDefinition": {"taskDefinitionArn": body.get("taskDefinition"),
                                                          "containerDefinitions": []},
                                       "tags": [{"key": HASH_TAG, "value": "0123456789abcdef"}]},
            "DescribeImages": {"imageDetails": [{"imageDigest": DIGEST, "imageTags": [B1]}]},
            "BatchDeleteImage": {"imageIds": [], "failures": [
                {"imageId": {"imageDigest": DIGEST}, "failureCode": "ImageReferencedByManifestList",
                 "failureReason": "Requested image referenced by manifest list"}]},
        }
        if op == "ListTaskDefinitions":
            arns = [arn % 1, arn % 2] if body.get("status") == "ACTIVE" else self.inactive
            return {"body": json.dumps({"taskDefinitionArns": [a for a in arns if a not in self.inactive or
                                                                 body.get("status") != "ACTIVE"]})}
        if op == "DeregisterTaskDefinition":
            self.inactive.append(body["taskDefinition"])
            return {"body": json.dumps({"taskDefinition": {"status": "INACTIVE"}})}
        if op == "DeleteTaskDefinitions":
            return awsfake.json_error(400, "UnknownOperationException", "Unknown operation DeleteTaskDefinitions")
        return {"body": json.dumps(answers[op])} if op in answers else awsfake.json_error(400, "Unexpected", op)


class CleanupStandIn(unittest.TestCase):
    def test_no_delete_task_definitions_and_an_image_failure(self):
        tmp = awsfake.tmpdir()
        script = OldEcs()
        srv = awsfake.ScriptedAws([script])
        self.addCleanup(srv.close)
        config = os.path.join(tmp, "pipeline.json")
        with open(config, "w") as f:
            json.dump({"version": 1,
                       "aws": {"region": REGION, "cluster": "ci", "subnets": ["subnet-0123abcd"],
                               "security_groups": ["sg-0123abcd"],
                               "execution_role_arn": "arn:aws:iam::%s:role/x" % ACCOUNT,
                               "log_group": "/stagevisor", "ecr_repository": REPO},
                       "coordinator": {"advertise": "https://127.0.0.1", "ports": [30000, 30009]},
                       "stages": {"tests": {"image": "%s/%s:x" % (REGISTRY, REPO), "cpu": 256, "memory": 512,
                                            "spec": {"version": 1, "stage": "tests", "mode": "job",
                                                     "processes": []}}}}, f)
        env = awsfake.base_env(tmp)
        env.update({"AWS_ACCESS_KEY_ID": "AKIDSTANDIN", "AWS_SECRET_ACCESS_KEY": "standin-secret",
                    "AWS_ENDPOINT_URL": srv.url, "BUILD_TAG": B1})
        p = subprocess.run([coord_path(), "cleanup", "--config", config], env=env, capture_output=True, text=True,
                           timeout=120)
        for mark in SANITIZER_MARKS:
            self.assertNotIn(mark, p.stderr)
        # BUILD_TAG is the default build id; the failure entry is reported, and is an error
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("ecr BatchDeleteImage: not deleted: %s (tags %s): ImageReferencedByManifestList: "
                      "Requested image referenced by manifest list" % (DIGEST, B1), p.stderr)
        self.assertNotIn("deleted image", p.stdout)
        # the task definitions: deregistered, and the missing DeleteTaskDefinitions said, not failed
        self.assertIn("deregistered task definition stagevisor-tests:1", p.stdout)
        self.assertNotIn("stagevisor-tests:2", p.stdout)
        self.assertIn("deregistered revisions cannot be deleted here, they stay INACTIVE", p.stdout)
        self.assertIn("UnknownOperationException", p.stdout)
        self.assertNotIn("DeleteTaskDefinitions", p.stderr)
        self.assertEqual(script.calls.count("DeleteTaskDefinitions"), 1)
        self.assertIn("task definitions 1 deregistered, 0 deleted", p.stdout)


if __name__ == "__main__":
    unittest.main()
