/* cleanup — see cleanup.h. */
#include "cleanup.h"

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "aws/aws_client.h"
#include "fgtask.h"
#include "pipeline.h"
#include "taskdef.h"

#define CLEANUP_FAMILY_PREFIX "stagevisor-"
#define CLEANUP_DELETE_IMAGES_MAX 100u   /* BatchDeleteImage's imageIds limit */
#define CLEANUP_DELETE_DEFS_MAX 10u      /* DeleteTaskDefinitions' limit */
#define CLEANUP_PAGES_MAX 1000u          /* of any listing: a broken endpoint must not loop */

enum { CLEANUP_OK = 0, CLEANUP_REFUSED = 1, CLEANUP_USAGE = 2, CLEANUP_NO_ANSWER = 3 };

struct cleanup_options {
	const char *config, *build_id, *endpoint, *profile;
	bool dry_run;
};

struct cleanup {
	struct aws_client *c;
	const struct pipeline *p;
	bool dry;
	json_t *tasks;    /* fgtask_list(), stopped tasks included */
	json_t *defs;     /* ARN -> DescribeTaskDefinition answer ({taskDefinition, tags}) */
	json_t *resolved; /* "tag:T" / "digest:D" -> {digest, tags} or null (not in the repository) */
	json_t *keep;     /* digest -> why it stays (a running task uses it) */
	json_t *cands;    /* digest -> {"tags": [...], "why": "..."}: the build's images */
	unsigned img_deleted, img_kept, td_deregistered, td_deleted, td_kept;
	int rc;           /* the worst outcome so far */
};

void cleanup_usage(void)
{
	printf("usage: stagevisor cleanup --config FILE [--build-id ID] [--dry-run]\n"
	       "\n"
	       "Removes what builds leave behind on AWS (the Jenkinsfile runs it in post { always }):\n"
	       "\n"
	       "  images   the images build ID used, deleted by digest from the config's\n"
	       "           aws.ecr_repository: the images of the task definitions of the tasks tagged\n"
	       "           stagevisor:build=ID (as long as ECS still lists them), the images tagged\n"
	       "           ID itself, and each stage's image with ${BUILD_ID} in stages.NAME.image\n"
	       "           expanded to ID (e.g. site:tests-ID). An image that a running task started\n"
	       "           by stagevisor uses (a playground, another build's stage) or that carries\n"
	       "           a release tag (v1.2.3, 1.2.3, IMAGE-v1.2.3) is kept, and the output says why.\n"
	       "  task definitions\n"
	       "           revisions of the families stagevisor-* that stagevisor registered (they\n"
	       "           carry its definition-hash tag) and that no running task uses are\n"
	       "           deregistered, the latest of each family kept; deregistered ones are then\n"
	       "           deleted (DeleteTaskDefinitions) where the API allows it.\n"
	       "\n"
	       "  --config FILE      the pipeline config (coordinator/README.md, \"Pipeline config\")\n"
	       "  --build-id ID      the build whose images go (default: $BUILD_TAG); without one,\n"
	       "                     no image is deleted and only task definitions are cleaned\n"
	       "  --dry-run          say what would be done, change nothing\n"
	       "  --endpoint-url URL, --profile P\n"
	       "                     as for `stagevisor aws` (endpoints also from AWS_ENDPOINT_URL,\n"
	       "                     AWS_ENDPOINT_URL_ECS, AWS_ENDPOINT_URL_ECR)\n"
	       "\n"
	       "Running it again does nothing more. It never stops a task (teardown does).\n"
	       "\n"
	       "exit codes: 0 done (or nothing to do), 1 AWS refused something (its error line, or\n"
	       "a BatchDeleteImage/DeleteTaskDefinitions failure, on stderr; the rest is still done),\n"
	       "2 usage or config error, 3 no usable answer from AWS (connection, timeout)\n");
}

/* ---- pure helpers ---------------------------------------------------------------------- */

bool cleanup_valid_tag(const char *tag)
{
	size_t n = tag ? strlen(tag) : 0;

	if (n == 0 || n > 128 || tag[0] == '.' || tag[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)tag[i]) && !strchr("_.-", tag[i]))
			return false;
	return true;
}

bool cleanup_release_tag(const char *tag)
{
	const char *p = tag;

	if (!p || !cleanup_valid_tag(p))
		return false;
	/* PREFIX-vX.Y.Z: an image's release tag in a shared repository (the Jenkinsfile's
	 * <image>-vX.Y.Z); after a prefix the v is required, so that no build id ending in digits
	 * is taken for a release. */
	{
		const char *dash = strrchr(p, '-');
		if (dash && dash[1] == 'v' && dash > p)
			p = dash + 1;
		else if (dash)
			return false;
	}
	if (*p == 'v')
		p++;
	for (int part = 0; part < 3; part++) {
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
		if (part < 2 && *p++ != '.')
			return false;
	}
	return *p == '\0';
}

long cleanup_revision(const char *arn, char *family, size_t familylen)
{
	const char *name = strrchr(arn, '/'), *colon;
	char *end;
	long rev;

	if (family && familylen)
		family[0] = '\0'; /* also when it is not a revision ARN */
	name = name ? name + 1 : arn;
	colon = strrchr(name, ':');
	if (!colon || colon == name || !isdigit((unsigned char)colon[1]))
		return -1;
	rev = strtol(colon + 1, &end, 10);
	if (*end || rev <= 0)
		return -1;
	if (family)
		snprintf(family, familylen, "%.*s", (int)(colon - name), name);
	return rev;
}

/* ACCOUNT.dkr.ecr.REGION.amazonaws.com[.cn] of this region. */
static bool cleanup_ecr_host(const char *host, size_t len, const char *region)
{
	char h[256], suffix[160];
	const char *dot;
	size_t acct;

	if (len >= sizeof h)
		return false;
	memcpy(h, host, len);
	h[len] = '\0';
	dot = strchr(h, '.');
	if (!dot || dot == h)
		return false;
	acct = (size_t)(dot - h);
	for (size_t i = 0; i < acct; i++)
		if (!isdigit((unsigned char)h[i]))
			return false;
	snprintf(suffix, sizeof suffix, ".dkr.ecr.%s.amazonaws.com", region);
	if (strcmp(dot, suffix) == 0)
		return true;
	snprintf(suffix, sizeof suffix, ".dkr.ecr.%s.amazonaws.com.cn", region);
	return strcmp(dot, suffix) == 0;
}

int cleanup_image_ref(const char *image, const char *region, const char *repository, char *tag,
		      size_t taglen, char *digest, size_t digestlen)
{
	const char *slash, *at, *name, *colon, *end;
	size_t n;

	tag[0] = digest[0] = '\0';
	if (!image || !*image || strlen(image) > 1024)
		return -1;
	slash = strchr(image, '/');
	name = image;
	/* The first component is a registry when it has a '.' or a ':' or is localhost (docker's
	 * rule); then it must be this region's ECR. */
	if (slash) {
		size_t first = (size_t)(slash - image);
		if (memchr(image, '.', first) || memchr(image, ':', first) ||
		    (first == 9 && memcmp(image, "localhost", 9) == 0)) {
			if (!cleanup_ecr_host(image, first, region))
				return 0;
			name = slash + 1;
		}
	}
	at = strchr(name, '@');
	end = at ? at : name + strlen(name);
	colon = NULL;
	for (const char *p = name; p < end; p++)
		if (*p == ':')
			colon = p;
	if (colon && strchr(colon, '/'))
		colon = NULL;
	n = (size_t)((colon ? colon : end) - name);
	if (n == 0)
		return -1;
	if (strlen(repository) != n || memcmp(name, repository, n) != 0)
		return 0;
	if (colon) {
		size_t tl = (size_t)(end - colon - 1);
		if (tl == 0 || tl >= taglen)
			return -1;
		memcpy(tag, colon + 1, tl);
		tag[tl] = '\0';
	}
	if (at) {
		if (strlen(at + 1) >= digestlen || !strchr(at + 1, ':'))
			return -1;
		snprintf(digest, digestlen, "%s", at + 1);
	}
	return 1;
}

/* ---- AWS calls ------------------------------------------------------------------------- */

static void cleanup_worse(struct cleanup *cl, int rc)
{
	if (rc == CLEANUP_NO_ANSWER || (rc == CLEANUP_REFUSED && cl->rc == CLEANUP_OK))
		cl->rc = rc;
}

/* One JSON 1.1 call; 0, or -1 with e filled (nothing printed). */
static int cleanup_call(struct cleanup *cl, const char *svc, const char *op, json_t *in, json_t **out,
			struct aws_error *e)
{
	struct aws_result r;
	int rc;

	memset(&r, 0, sizeof r);
	*out = NULL;
	rc = aws_client_json(cl->c, svc, op, in, out, &r);
	if (rc < 0)
		*e = r.error;
	else if (!*out)
		*out = json_object();
	aws_result_clear(&r);
	return rc;
}

/* AWS's one line on stderr; the outcome made worse. */
static void cleanup_error(struct cleanup *cl, const char *svc, const char *op, const struct aws_error *e)
{
	char line[2048];

	aws_error_format(e, svc, op, line, sizeof line);
	fprintf(stderr, "%s\n", line);
	cleanup_worse(cl, e->transport ? CLEANUP_NO_ANSWER : CLEANUP_REFUSED);
}

static const char *cleanup_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static bool cleanup_running(const json_t *task)
{
	const char *st = cleanup_str(task, "lastStatus");
	return !st || strcmp(st, "STOPPED") != 0;
}

static const char *cleanup_task_id(const json_t *task)
{
	const char *arn = cleanup_str(task, "taskArn"), *s;

	if (!arn)
		return "?";
	s = strrchr(arn, '/');
	return s ? s + 1 : arn;
}

/* "family:revision" of an ARN, for the output. */
static const char *cleanup_short_def(const char *arn)
{
	const char *s = strrchr(arn, '/');
	return s ? s + 1 : arn;
}

/*
 * The DescribeTaskDefinition answer (include TAGS) for arn, cached: 1 with *def, 0 when ECS
 * no longer has that revision (deleted: ClientException "Unable to describe task definition"),
 * -1 after another error (printed).
 */
static int cleanup_def_get(struct cleanup *cl, const char *arn, const json_t **def)
{
	struct aws_error e;
	json_t *in, *out = NULL;
	const json_t *have = json_object_get(cl->defs, arn);

	if (have) {
		*def = have;
		return json_is_null(have) ? 0 : 1;
	}
	in = json_pack("{s:s, s:[s]}", "taskDefinition", arn, "include", "TAGS");
	if (cleanup_call(cl, "ecs", "DescribeTaskDefinition", in, &out, &e) < 0) {
		json_decref(in);
		if (strcmp(e.code, "ClientException") == 0 && strstr(e.message, "Unable to describe task definition")) {
			json_object_set_new(cl->defs, arn, json_null());
			return 0;
		}
		cleanup_error(cl, "ecs", "DescribeTaskDefinition", &e);
		return -1;
	}
	json_decref(in);
	json_object_set_new(cl->defs, arn, out);
	*def = out;
	return 1;
}

/* The same where the revision must exist: NULL after an error or when it is gone. */
static const json_t *cleanup_def(struct cleanup *cl, const char *arn)
{
	const json_t *def = NULL;
	int k = cleanup_def_get(cl, arn, &def);

	if (k == 0) {
		fprintf(stderr, "ecs DescribeTaskDefinition: %s no longer exists\n", cleanup_short_def(arn));
		cleanup_worse(cl, CLEANUP_REFUSED);
	}
	return k == 1 ? def : NULL;
}

/*
 * An image of the repository by tag or digest, resolved with DescribeImages (cached): 1 with
 * *digest (borrowed) and *tags, 0 when the repository has no such image, -1 after an error.
 */
static int cleanup_resolve(struct cleanup *cl, const char *tag, const char *digest, const char **dout,
			   const json_t **tags)
{
	char key[600];
	struct aws_error e;
	json_t *in, *out = NULL, *img, *entry;
	const json_t *have;

	snprintf(key, sizeof key, "%s:%s", digest[0] ? "digest" : "tag", digest[0] ? digest : tag);
	if (!(have = json_object_get(cl->resolved, key))) {
		in = json_pack("{s:s, s:[{s:s}]}", "repositoryName", cl->p->aws.ecr_repository, "imageIds",
			       digest[0] ? "imageDigest" : "imageTag", digest[0] ? digest : tag);
		if (cleanup_call(cl, "ecr", "DescribeImages", in, &out, &e) < 0) {
			json_decref(in);
			if (strcmp(e.code, "ImageNotFoundException") != 0) {
				cleanup_error(cl, "ecr", "DescribeImages", &e);
				return -1;
			}
			json_object_set_new(cl->resolved, key, json_null());
			return 0;
		}
		json_decref(in);
		img = json_array_get(json_object_get(out, "imageDetails"), 0);
		if (!cleanup_str(img, "imageDigest"))
			entry = json_null();
		else
			entry = json_pack("{s:s, s:O}", "digest", cleanup_str(img, "imageDigest"), "tags",
					  json_is_array(json_object_get(img, "imageTags")) ?
					  json_object_get(img, "imageTags") : json_array());
		json_decref(out);
		json_object_set_new(cl->resolved, key, entry);
		have = entry;
	}
	if (json_is_null(have))
		return 0;
	*dout = cleanup_str(have, "digest");
	*tags = json_object_get(have, "tags");
	return 1;
}

/* "tags a, b" or "untagged", for the output. */
static void cleanup_tags_text(const json_t *tags, char *out, size_t len)
{
	size_t i, o = 0;
	json_t *t;

	if (!json_array_size(tags)) {
		snprintf(out, len, "untagged");
		return;
	}
	out[0] = '\0';
	json_array_foreach(tags, i, t) {
		int n = snprintf(out + o, len - o, "%s%s", i ? ", " : "tags ", json_string_value(t));
		if (n < 0 || (size_t)n >= len - o)
			break;
		o += (size_t)n;
	}
}

/* ---- images ------------------------------------------------------------------------------ */

typedef void (*cleanup_image_fn)(struct cleanup *cl, const char *digest, const json_t *tags, const char *why,
				 const json_t *task);

/* Each image of the repository a task uses (its definition's containers, and the digests ECS
 * reports for its containers), resolved; fn is called once per image found. -1 after an error. */
static int cleanup_task_images(struct cleanup *cl, const json_t *task, cleanup_image_fn fn)
{
	const char *defarn = cleanup_str(task, "taskDefinitionArn");
	const json_t *def, *c;
	char tag[256], digest[160], why[300];
	const char *d;
	const json_t *tags;
	size_t i;
	int k;

	if (!defarn)
		return 0;
	if ((k = cleanup_def_get(cl, defarn, &def)) < 0)
		return -1;
	/* A deleted revision (an earlier cleanup's) of a stopped task: its images were judged
	 * then. A running task's must be known, or nothing could be deleted safely. */
	if (k == 0 && cleanup_running(task)) {
		fprintf(stderr, "stagevisor cleanup: task definition %s of running task %s is gone: images are not "
			"judged\n", cleanup_short_def(defarn), cleanup_task_id(task));
		cleanup_worse(cl, CLEANUP_REFUSED);
		return -1;
	}
	if (k == 0)
		return 0;
	snprintf(why, sizeof why, "an image of task definition %s", cleanup_short_def(defarn));
	json_array_foreach(json_object_get(json_object_get(def, "taskDefinition"), "containerDefinitions"), i, c) {
		if (cleanup_image_ref(cleanup_str(c, "image"), cl->p->aws.region, cl->p->aws.ecr_repository, tag,
				      sizeof tag, digest, sizeof digest) != 1)
			continue;
		if ((k = cleanup_resolve(cl, tag, digest, &d, &tags)) < 0)
			return -1;
		if (k == 1)
			fn(cl, d, tags, why, task);
	}
	/* ECS reports the digest each container actually ran: the tag may have moved since. */
	json_array_foreach(json_object_get(task, "containers"), i, c) {
		const char *rd = cleanup_str(c, "imageDigest");
		if (!rd || cleanup_image_ref(cleanup_str(c, "image"), cl->p->aws.region, cl->p->aws.ecr_repository, tag,
					     sizeof tag, digest, sizeof digest) != 1)
			continue;
		if ((k = cleanup_resolve(cl, "", rd, &d, &tags)) < 0)
			return -1;
		if (k == 1)
			fn(cl, d, tags, why, task);
	}
	return 0;
}

static void cleanup_on_kept_image(struct cleanup *cl, const char *digest, const json_t *tags, const char *why,
				  const json_t *task)
{
	char text[700];
	const char *build = fgtask_tag(task, TASKDEF_TAG_BUILD), *stage = fgtask_tag(task, TASKDEF_TAG_STAGE);
	const char *branch = fgtask_tag(task, TASKDEF_TAG_BRANCH);

	(void)tags;
	(void)why;
	if (json_object_get(cl->keep, digest))
		return;
	snprintf(text, sizeof text, "used by running task %s (stage %s, build %s%s%s)", cleanup_task_id(task),
		 stage ? stage : "?", build ? build : "?", branch ? ", branch " : "", branch ? branch : "");
	json_object_set_new(cl->keep, digest, json_string(text));
}

static void cleanup_on_build_image(struct cleanup *cl, const char *digest, const json_t *tags, const char *why,
				   const json_t *task)
{
	(void)task;
	if (json_object_get(cl->cands, digest))
		return;
	json_object_set_new(cl->cands, digest, json_pack("{s:O, s:s}", "tags", tags, "why", why));
}

/* BatchDeleteImage for n digests; its `failures` read. */
static void cleanup_delete_images(struct cleanup *cl, const char *const *digests, size_t n)
{
	struct aws_error e;
	json_t *ids = json_array(), *in, *out = NULL, *f;
	char tags[600];
	size_t i, k;

	for (i = 0; i < n; i++)
		json_array_append_new(ids, json_pack("{s:s}", "imageDigest", digests[i]));
	in = json_pack("{s:s, s:o}", "repositoryName", cl->p->aws.ecr_repository, "imageIds", ids);
	if (cleanup_call(cl, "ecr", "BatchDeleteImage", in, &out, &e) < 0) {
		cleanup_error(cl, "ecr", "BatchDeleteImage", &e);
		json_decref(in);
		return;
	}
	json_decref(in);
	for (i = 0; i < n; i++) {
		const json_t *cand = json_object_get(cl->cands, digests[i]);
		const json_t *failure = NULL;
		json_array_foreach(json_object_get(out, "failures"), k, f)
			if (json_is_string(json_object_get(json_object_get(f, "imageId"), "imageDigest")) &&
			    strcmp(cleanup_str(json_object_get(f, "imageId"), "imageDigest"), digests[i]) == 0)
				failure = f;
		cleanup_tags_text(json_object_get(cand, "tags"), tags, sizeof tags);
		if (!failure) {
			printf("deleted image %s (%s): %s\n", digests[i], tags, cleanup_str(cand, "why"));
			cl->img_deleted++;
		} else if (strcmp(cleanup_str(failure, "failureCode") ? cleanup_str(failure, "failureCode") : "",
				  "ImageNotFound") == 0) {
			printf("image %s (%s) was already gone\n", digests[i], tags);
		} else {
			fprintf(stderr, "ecr BatchDeleteImage: not deleted: %s (%s): %s: %s\n", digests[i], tags,
				cleanup_str(failure, "failureCode") ? cleanup_str(failure, "failureCode") : "?",
				cleanup_str(failure, "failureReason") ? cleanup_str(failure, "failureReason") : "");
			cl->img_kept++;
			cleanup_worse(cl, CLEANUP_REFUSED);
		}
	}
	json_decref(out);
}

static void cleanup_images(struct cleanup *cl, const char *build_id)
{
	char buildtag[TASKDEF_TAG_VALUE_MAX + 1], tags[600];
	const char *digest, *d, *del[CLEANUP_DELETE_IMAGES_MAX];
	const json_t *t, *itags;
	size_t i, ndel = 0;
	json_t *task, *cand;
	int k;

	if (!build_id) {
		printf("images: no build id (--build-id, BUILD_TAG): none deleted\n");
		return;
	}
	taskdef_tag_value(build_id, buildtag, sizeof buildtag);
	/* What must stay first: the images of every task still running, this build's too. */
	json_array_foreach(cl->tasks, i, task) {
		if (cleanup_running(task) && cleanup_task_images(cl, task, cleanup_on_kept_image) < 0)
			return;
	}
	json_array_foreach(cl->tasks, i, task) {
		const char *b = fgtask_tag(task, TASKDEF_TAG_BUILD);
		if (b && strcmp(b, buildtag) == 0 && cleanup_task_images(cl, task, cleanup_on_build_image) < 0)
			return;
	}
	if (!cleanup_valid_tag(build_id)) {
		printf("images: the build id %s is not an image tag: no image tagged with it is looked for\n", build_id);
	} else {
		char why[300];
		snprintf(why, sizeof why, "tagged with the build id");
		if ((k = cleanup_resolve(cl, build_id, "", &d, &itags)) < 0)
			return;
		if (k == 1)
			cleanup_on_build_image(cl, d, itags, why, NULL);
	}
	/* The stages' images of this build by their tags: ${BUILD_ID} in stages.NAME.image expanded
	 * as `run` expands it (taskdef_expand_image), so they are found after ECS has forgotten the
	 * build's stopped tasks (about an hour after they stop). */
	for (i = 0; i < cl->p->nstages; i++) {
		const struct pipeline_stage *st = &cl->p->stages[i];
		char img[TASKDEF_IMAGE_MAX + 1], e[512], itag[TASKDEF_IMAGE_TAG_MAX + 2], idig[200], why[300];

		if (!strstr(st->image, "${" TASKDEF_BUILD_ID_VAR "}"))
			continue;
		if (taskdef_expand_image(st, build_id, img, sizeof img, e, sizeof e) < 0) {
			printf("images: %s: not looked for\n", e);
			continue;
		}
		if (cleanup_image_ref(img, cl->p->aws.region, cl->p->aws.ecr_repository, itag, sizeof itag, idig,
				      sizeof idig) != 1 || (!itag[0] && !idig[0])) {
			printf("images: stages.%s.image %s is not an image of ECR repository %s in %s: not looked for\n",
			       st->name, img, cl->p->aws.ecr_repository, cl->p->aws.region);
			continue;
		}
		snprintf(why, sizeof why, "tagged %s (stages.%s.image for build %s)", itag[0] ? itag : idig, st->name,
			 build_id);
		if ((k = cleanup_resolve(cl, itag, idig, &d, &itags)) < 0)
			return;
		if (k == 1)
			cleanup_on_build_image(cl, d, itags, why, NULL);
	}
	if (json_object_size(cl->cands) == 0) {
		printf("images: none of build %s in ECR repository %s\n", build_id, cl->p->aws.ecr_repository);
		return;
	}
	json_object_foreach(cl->cands, digest, cand) {
		const char *keep = cleanup_str(cl->keep, digest), *release = NULL;
		itags = json_object_get(cand, "tags");
		json_array_foreach(itags, i, t) {
			if (cleanup_release_tag(json_string_value(t)))
				release = json_string_value(t);
		}
		cleanup_tags_text(itags, tags, sizeof tags);
		if (keep || release) {
			printf("kept image %s (%s): %s%s\n", digest, tags, keep ? keep : "it carries the release tag ",
			       keep ? "" : release);
			cl->img_kept++;
			continue;
		}
		if (cl->dry) {
			printf("would delete image %s (%s): %s\n", digest, tags, cleanup_str(cand, "why"));
			cl->img_deleted++;
			continue;
		}
		del[ndel++] = digest;
		if (ndel == CLEANUP_DELETE_IMAGES_MAX) {
			cleanup_delete_images(cl, del, ndel);
			ndel = 0;
		}
	}
	if (ndel)
		cleanup_delete_images(cl, del, ndel);
}

/* ---- task definitions ---------------------------------------------------------------------- */

/* Every page of a listing into one array (the answer's member named key). NULL after an error. */
static json_t *cleanup_list(struct cleanup *cl, const char *svc, const char *op, json_t *in, const char *key)
{
	struct aws_error e;
	json_t *all = json_array(), *out = NULL;
	unsigned pages = 0;

	for (;;) {
		const char *next;
		if (cleanup_call(cl, svc, op, in, &out, &e) < 0) {
			cleanup_error(cl, svc, op, &e);
			json_decref(all);
			return NULL;
		}
		json_array_extend(all, json_object_get(out, key));
		next = cleanup_str(out, "nextToken");
		if (!next || !*next || ++pages >= CLEANUP_PAGES_MAX) {
			json_decref(out);
			return all;
		}
		json_object_set_new(in, "nextToken", json_string(next));
		json_decref(out);
	}
}

static json_t *cleanup_revisions(struct cleanup *cl, const char *family, const char *status)
{
	json_t *in = json_pack("{s:s, s:s, s:s}", "familyPrefix", family, "status", status, "sort", "ASC");
	json_t *arns = cleanup_list(cl, "ecs", "ListTaskDefinitions", in, "taskDefinitionArns");

	json_decref(in);
	return arns;
}

/* Whether stagevisor registered this revision (its definition-hash tag); -1 after an error. */
static int cleanup_ours(struct cleanup *cl, const char *arn)
{
	const json_t *def = cleanup_def(cl, arn);

	if (!def)
		return -1;
	return taskdef_hash_from_tags(json_object_get(def, "tags")) != NULL;
}

/* The running task of stagevisor's that uses arn, or NULL. */
static const json_t *cleanup_user(const struct cleanup *cl, const char *arn)
{
	size_t i;
	json_t *task;

	json_array_foreach(cl->tasks, i, task)
		if (cleanup_running(task) && cleanup_str(task, "taskDefinitionArn") &&
		    strcmp(cleanup_str(task, "taskDefinitionArn"), arn) == 0)
			return task;
	return NULL;
}

/* An error answer meaning "this endpoint has no such operation". */
static bool cleanup_unsupported(const struct aws_error *e)
{
	static const char *const codes[] = {"UnknownOperationException", "InvalidAction", "NotImplemented",
					    "UnsupportedOperation", "UnsupportedOperationException"};

	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
		if (strcmp(e->code, codes[i]) == 0)
			return true;
	return !e->transport && (e->status == 404 || e->status == 501);
}

/* DeleteTaskDefinitions for up to 10 revisions; false when the API is not available here. */
static bool cleanup_delete_defs(struct cleanup *cl, const char *const *arns, size_t n)
{
	struct aws_error e;
	json_t *list = json_array(), *in, *out = NULL, *f;
	size_t i, k;

	for (i = 0; i < n; i++)
		json_array_append_new(list, json_string(arns[i]));
	in = json_pack("{s:o}", "taskDefinitions", list);
	if (cleanup_call(cl, "ecs", "DeleteTaskDefinitions", in, &out, &e) < 0) {
		json_decref(in);
		if (cleanup_unsupported(&e)) {
			char line[2048];
			aws_error_format(&e, "ecs", "DeleteTaskDefinitions", line, sizeof line);
			printf("task definitions: deregistered revisions cannot be deleted here, they stay INACTIVE "
			       "(%s)\n", line);
			return false;
		}
		cleanup_error(cl, "ecs", "DeleteTaskDefinitions", &e);
		return true;
	}
	json_decref(in);
	for (i = 0; i < n; i++) {
		const json_t *failure = NULL;
		json_array_foreach(json_object_get(out, "failures"), k, f)
			if (cleanup_str(f, "arn") && strcmp(cleanup_str(f, "arn"), arns[i]) == 0)
				failure = f;
		if (!failure) {
			printf("deleted task definition %s\n", cleanup_short_def(arns[i]));
			cl->td_deleted++;
		} else {
			fprintf(stderr, "ecs DeleteTaskDefinitions: not deleted: %s: %s\n", cleanup_short_def(arns[i]),
				cleanup_str(failure, "reason") ? cleanup_str(failure, "reason") : "?");
			cleanup_worse(cl, CLEANUP_REFUSED);
		}
	}
	json_decref(out);
	return true;
}

/* One family: deregister what is not the latest and not in use, then delete the deregistered. */
static void cleanup_family(struct cleanup *cl, const char *family, bool *can_delete)
{
	json_t *active = NULL, *inactive = NULL, *gone = json_array(), *v;
	const char *del[CLEANUP_DELETE_DEFS_MAX];
	long latest = -1;
	size_t i, ndel = 0;
	int ours;

	if (!(active = cleanup_revisions(cl, family, "ACTIVE")))
		goto out;
	json_array_foreach(active, i, v) {
		long rev = cleanup_revision(json_string_value(v), NULL, 0);
		if (rev > latest)
			latest = rev;
	}
	json_array_foreach(active, i, v) {
		const char *arn = json_string_value(v);
		const json_t *user;
		if (!arn || cleanup_revision(arn, NULL, 0) == latest) {
			cl->td_kept++;
			continue;
		}
		if ((ours = cleanup_ours(cl, arn)) < 0)
			goto out;
		if (!ours)
			continue; /* not registered by stagevisor: not ours to remove */
		if ((user = cleanup_user(cl, arn))) {
			printf("kept task definition %s: used by running task %s\n", cleanup_short_def(arn),
			       cleanup_task_id(user));
			cl->td_kept++;
			continue;
		}
		if (cl->dry) {
			printf("would deregister task definition %s\n", cleanup_short_def(arn));
			json_array_append(gone, v);
			cl->td_deregistered++;
			continue;
		}
		{
			struct aws_error e;
			json_t *in = json_pack("{s:s}", "taskDefinition", arn), *out = NULL;
			int rc = cleanup_call(cl, "ecs", "DeregisterTaskDefinition", in, &out, &e);
			json_decref(in);
			json_decref(out);
			if (rc < 0) {
				cleanup_error(cl, "ecs", "DeregisterTaskDefinition", &e);
				continue;
			}
		}
		printf("deregistered task definition %s\n", cleanup_short_def(arn));
		cl->td_deregistered++;
	}
	if (!*can_delete)
		goto out;
	if (!(inactive = cleanup_revisions(cl, family, "INACTIVE")))
		goto out;
	if (cl->dry)
		json_array_extend(inactive, gone);
	json_array_foreach(inactive, i, v) {
		const char *arn = json_string_value(v);
		const json_t *user;
		if (!arn || (ours = cleanup_ours(cl, arn)) < 0)
			goto out;
		if (!ours)
			continue;
		if ((user = cleanup_user(cl, arn))) {
			printf("kept deregistered task definition %s: used by running task %s\n", cleanup_short_def(arn),
			       cleanup_task_id(user));
			continue;
		}
		if (cl->dry) {
			printf("would delete task definition %s\n", cleanup_short_def(arn));
			cl->td_deleted++;
			continue;
		}
		del[ndel++] = arn;
		if (ndel == CLEANUP_DELETE_DEFS_MAX) {
			*can_delete = cleanup_delete_defs(cl, del, ndel);
			ndel = 0;
			if (!*can_delete)
				goto out;
		}
	}
	if (ndel)
		*can_delete = cleanup_delete_defs(cl, del, ndel);
out:
	json_decref(active);
	json_decref(inactive);
	json_decref(gone);
}

static void cleanup_taskdefs(struct cleanup *cl)
{
	json_t *in = json_pack("{s:s, s:s}", "familyPrefix", CLEANUP_FAMILY_PREFIX, "status", "ALL");
	json_t *families = cleanup_list(cl, "ecs", "ListTaskDefinitionFamilies", in, "families"), *f;
	bool can_delete = true;
	size_t i;

	json_decref(in);
	if (!families)
		return;
	json_array_foreach(families, i, f) {
		const char *name = json_string_value(f);
		if (name && strncmp(name, CLEANUP_FAMILY_PREFIX, strlen(CLEANUP_FAMILY_PREFIX)) == 0)
			cleanup_family(cl, name, &can_delete);
	}
	json_decref(families);
}

/* ---- the command ------------------------------------------------------------------------- */

static int cleanup_parse(struct cleanup_options *o, int argc, char **argv)
{
	enum { O_CONFIG = 1000, O_BUILD, O_DRY, O_ENDPOINT, O_PROFILE, O_HELP };
	static const struct option longopts[] = {
		{"config", required_argument, NULL, O_CONFIG}, {"build-id", required_argument, NULL, O_BUILD},
		{"dry-run", no_argument, NULL, O_DRY}, {"endpoint-url", required_argument, NULL, O_ENDPOINT},
		{"profile", required_argument, NULL, O_PROFILE}, {"help", no_argument, NULL, O_HELP},
		{NULL, 0, NULL, 0}};
	int ch;

	memset(o, 0, sizeof *o);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (ch) {
		case O_CONFIG: o->config = optarg; break;
		case O_BUILD: o->build_id = optarg; break;
		case O_DRY: o->dry_run = true; break;
		case O_ENDPOINT: o->endpoint = optarg; break;
		case O_PROFILE: o->profile = optarg; break;
		case 'h':
		case O_HELP: cleanup_usage(); return 1;
		default: return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "stagevisor cleanup: unexpected argument: %s\n", argv[optind]);
		return -1;
	}
	if (!o->config) {
		fprintf(stderr, "stagevisor cleanup: --config FILE is required (stagevisor cleanup --help)\n");
		return -1;
	}
	if (o->build_id && !*o->build_id) {
		fprintf(stderr, "stagevisor cleanup: --build-id: empty\n");
		return -1;
	}
	if (!o->build_id) {
		const char *tag = getenv("BUILD_TAG");
		o->build_id = tag && *tag ? tag : NULL;
	}
	return 0;
}

int cleanup_command(int argc, char **argv)
{
	struct cleanup_options o;
	struct aws_client_options co;
	struct pipeline_error pe;
	struct pipeline *p = NULL;
	struct cleanup cl;
	const char *scale;
	char err[1024];
	int prc;

	memset(&cl, 0, sizeof cl);
	if ((prc = cleanup_parse(&o, argc, argv)) != 0)
		return prc > 0 ? CLEANUP_OK : CLEANUP_USAGE;
	memset(&pe, 0, sizeof pe);
	if (!(p = pipeline_load(o.config, &pe))) {
		pipeline_error_format(&pe, err, sizeof err);
		fprintf(stderr, "stagevisor cleanup: %s: %s\n", o.config, err);
		return CLEANUP_USAGE;
	}
	if (aws_http_global_init() < 0) {
		fprintf(stderr, "stagevisor cleanup: libcurl initialisation failed\n");
		pipeline_free(p);
		return CLEANUP_NO_ANSWER;
	}
	memset(&co, 0, sizeof co);
	co.region = p->aws.region;
	co.endpoint_url = o.endpoint;
	co.profile = o.profile;
	scale = getenv("STAGEVISOR_AWS_BACKOFF_SCALE"); /* tests only, as for `stagevisor aws` */
	co.backoff_scale = scale ? strtod(scale, NULL) : 1.0;
	cl.p = p;
	cl.dry = o.dry_run;
	cl.defs = json_object();
	cl.resolved = json_object();
	cl.keep = json_object();
	cl.cands = json_object();
	if (!(cl.c = aws_client_new(&co, err, sizeof err))) {
		fprintf(stderr, "stagevisor cleanup: %s\n", err);
		cl.rc = CLEANUP_USAGE;
		goto out;
	}
	printf("stagevisor cleanup: cluster %s, ECR repository %s, build %s%s\n", p->aws.cluster,
	       p->aws.ecr_repository, o.build_id ? o.build_id : "(none)", o.dry_run ? " (dry run: nothing is changed)" : "");
	/* Without the list of tasks nothing can be judged safe to remove: stop here. */
	if (fgtask_list(cl.c, p->aws.cluster, true, &cl.tasks, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		cl.rc = strstr(err, "ConnectionError") || strstr(err, "Timeout") ? CLEANUP_NO_ANSWER : CLEANUP_REFUSED;
		goto out;
	}
	cleanup_images(&cl, o.build_id);
	cleanup_taskdefs(&cl);
	printf("%s: images %u %s, %u kept; task definitions %u %s, %u %s, %u kept\n",
	       o.dry_run ? "dry run" : "done", cl.img_deleted, o.dry_run ? "to delete" : "deleted", cl.img_kept,
	       cl.td_deregistered, o.dry_run ? "to deregister" : "deregistered", cl.td_deleted,
	       o.dry_run ? "to delete" : "deleted", cl.td_kept);
out:
	json_decref(cl.tasks);
	json_decref(cl.defs);
	json_decref(cl.resolved);
	json_decref(cl.keep);
	json_decref(cl.cands);
	aws_client_free(cl.c);
	aws_http_global_cleanup();
	pipeline_free(p);
	return cl.rc;
}
