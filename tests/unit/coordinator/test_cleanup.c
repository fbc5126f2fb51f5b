/* Unit tests of coordinator/cleanup.c's pure helpers: which image references are the
 * config's ECR repository's (and their tag or digest), task-definition revisions from ARNs,
 * release tags (kept), and ECR tag syntax (a build id that is no tag is not looked up). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cleanup.h"

static int ref(const char *image, char *tag, char *digest)
{
	return cleanup_image_ref(image, "eu-west-1", "stagevisor/site", tag, 130, digest, 100);
}

static void image_references(void **state)
{
	char tag[130], digest[100];
	const char *d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	char with_digest[300];
	(void)state;

	assert_int_equal(ref("123456789012.dkr.ecr.eu-west-1.amazonaws.com/stagevisor/site:tests-7", tag, digest), 1);
	assert_string_equal(tag, "tests-7");
	assert_string_equal(digest, "");
	snprintf(with_digest, sizeof with_digest, "123456789012.dkr.ecr.eu-west-1.amazonaws.com/stagevisor/site@%s", d);
	assert_int_equal(ref(with_digest, tag, digest), 1);
	assert_string_equal(tag, "");
	assert_string_equal(digest, d);
	snprintf(with_digest, sizeof with_digest, "stagevisor/site:v1@%s", d);
	assert_int_equal(ref(with_digest, tag, digest), 1);
	assert_string_equal(tag, "v1");
	assert_string_equal(digest, d);
	/* no registry: the repository's name alone; no tag: "" (ECR's latest is not guessed) */
	assert_int_equal(ref("stagevisor/site", tag, digest), 1);
	assert_string_equal(tag, "");
	assert_int_equal(ref("123456789012.dkr.ecr.eu-west-1.amazonaws.com.cn/stagevisor/site:x", tag, digest), 1);

	/* another repository, another region's or another registry's image */
	assert_int_equal(ref("123456789012.dkr.ecr.eu-west-1.amazonaws.com/stagevisor/site-tests:x", tag, digest), 0);
	assert_int_equal(ref("123456789012.dkr.ecr.eu-west-1.amazonaws.com/site:x", tag, digest), 0);
	assert_int_equal(ref("123456789012.dkr.ecr.us-east-1.amazonaws.com/stagevisor/site:x", tag, digest), 0);
	assert_int_equal(ref("docker.io/stagevisor/site:x", tag, digest), 0);
	assert_int_equal(ref("localhost:5000/stagevisor/site:x", tag, digest), 0);
	assert_int_equal(ref("evil.dkr.ecr.eu-west-1.amazonaws.com/stagevisor/site:x", tag, digest), 0);
	assert_int_equal(ref("php:8.2-apache", tag, digest), 0);

	/* malformed */
	assert_int_equal(ref("", tag, digest), -1);
	assert_int_equal(ref("stagevisor/site:", tag, digest), -1);
	assert_int_equal(ref("stagevisor/site@nocolon", tag, digest), -1);
	assert_int_equal(cleanup_image_ref(NULL, "eu-west-1", "site", tag, sizeof tag, digest, sizeof digest), -1);
}

static void revisions(void **state)
{
	char fam[64];
	(void)state;
	assert_int_equal(cleanup_revision("arn:aws:ecs:eu-west-1:123456789012:task-definition/stagevisor-tests:12", fam,
					  sizeof fam), 12);
	assert_string_equal(fam, "stagevisor-tests");
	assert_int_equal(cleanup_revision("stagevisor-playground:3", fam, sizeof fam), 3);
	assert_string_equal(fam, "stagevisor-playground");
	assert_int_equal(cleanup_revision("stagevisor-tests", fam, sizeof fam), -1);
	assert_string_equal(fam, "");
	assert_int_equal(cleanup_revision("stagevisor-tests:", NULL, 0), -1);
	assert_int_equal(cleanup_revision("stagevisor-tests:0", NULL, 0), -1);
	assert_int_equal(cleanup_revision("stagevisor-tests:3x", NULL, 0), -1);
	assert_int_equal(cleanup_revision(":3", NULL, 0), -1);
}

static void release_tags(void **state)
{
	(void)state;
	assert_true(cleanup_release_tag("v1.2.3"));
	assert_true(cleanup_release_tag("1.2.3"));
	assert_true(cleanup_release_tag("v10.0.123"));
	assert_false(cleanup_release_tag("v1.2"));
	assert_false(cleanup_release_tag("v1.2.3-rc1"));
	/* an image's release in the shared repository: <image>-vX.Y.Z (the Jenkinsfile's Deploy) */
	assert_true(cleanup_release_tag("tests-v1.2.3"));
	assert_true(cleanup_release_tag("unit-tests-v0.10.2"));
	assert_false(cleanup_release_tag("tests-1.2.3"));
	assert_false(cleanup_release_tag("tests-v1.2"));
	assert_false(cleanup_release_tag("tests-v1.2.3x"));
	assert_false(cleanup_release_tag("tests-jenkins-site-7"));
	assert_false(cleanup_release_tag("tests-v1.2.3-jenkins-site-7"));
	assert_false(cleanup_release_tag("-v1.2.3"));
	assert_false(cleanup_release_tag("jenkins-site-7"));
	assert_false(cleanup_release_tag("v.1.2"));
	assert_false(cleanup_release_tag(""));
	assert_false(cleanup_release_tag(NULL));
}

static void tags(void **state)
{
	char long_tag[200];
	(void)state;
	assert_true(cleanup_valid_tag("jenkins-site-PR-12-7"));
	assert_true(cleanup_valid_tag("a_b.c-d"));
	assert_false(cleanup_valid_tag("jenkins-site-feature%2Fx-3"));
	assert_false(cleanup_valid_tag("-x"));
	assert_false(cleanup_valid_tag(".x"));
	assert_false(cleanup_valid_tag(""));
	memset(long_tag, 'a', sizeof long_tag);
	long_tag[128] = '\0';
	assert_true(cleanup_valid_tag(long_tag));
	long_tag[128] = 'a';
	long_tag[129] = '\0';
	assert_false(cleanup_valid_tag(long_tag));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(image_references),
		cmocka_unit_test(revisions),
		cmocka_unit_test(release_tags),
		cmocka_unit_test(tags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
