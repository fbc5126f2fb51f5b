/* taskdef — see taskdef.h. */
#include "taskdef.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "placeholder.h"

static void sha256_hex(const void *data, size_t len, char *hex, size_t ndigits)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	for (size_t i = 0; i < ndigits / 2 && i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	hex[ndigits] = '\0';
}

char *taskdef_family(const struct pipeline_stage *st)
{
	size_t n = strlen("stagevisor-") + strlen(st->name) + 1;
	char *out = malloc(n);

	if (out)
		snprintf(out, n, "stagevisor-%s", st->name);
	return out;
}

void taskdef_tag_value(const char *in, char *out, size_t len)
{
	size_t o = 0;

	for (; in && *in && o + 1 < len && o < TASKDEF_TAG_VALUE_MAX; in++) {
		unsigned char c = (unsigned char)*in;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  strchr(" _.:/=+-@", c) != NULL;
		out[o++] = ok && c ? (char)c : '_';
	}
	out[o] = '\0';
}

void taskdef_image_tag(const char *build_id, char *out, size_t len)
{
	size_t o = 0;

	if (len == 0)
		return;
	for (; build_id && *build_id && o + 1 < len && o < TASKDEF_IMAGE_TAG_MAX; build_id++) {
		unsigned char c = (unsigned char)*build_id;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
			  c == '.' || c == '-';
		out[o] = ok ? (char)c : '-';
		if (o == 0 && (out[0] == '.' || out[0] == '-'))
			out[0] = '_';
		o++;
	}
	out[o] = '\0';
}

int taskdef_expand_image(const struct pipeline_stage *st, const char *build_id, char *out, size_t outlen,
			 char *err, size_t errlen)
{
	char tag[TASKDEF_IMAGE_TAG_MAX + 1];
	struct placeholder_var var = {TASKDEF_BUILD_ID_VAR, tag};
	const char *name, *colon, *end;
	unsigned used = 0;
	char *x;

	taskdef_image_tag(build_id, tag, sizeof tag);
	if (strstr(st->image, "${" TASKDEF_BUILD_ID_VAR "}") && !tag[0]) {
		snprintf(err, errlen, "stages.%s.image: it has ${%s} but the run has no build id (--build-id ID or "
			 "BUILD_TAG)", st->name, TASKDEF_BUILD_ID_VAR);
		return -1;
	}
	x = placeholder_expand(st->image, &var, 1, outlen ? outlen - 1 : 0, &used);
	if (!x) {
		snprintf(err, errlen, "stages.%s.image: too long with ${%s} expanded", st->name, TASKDEF_BUILD_ID_VAR);
		return -1;
	}
	/* The tag: after the last ':' of the last path component, up to an '@digest'. */
	name = strrchr(x, '/');
	name = name ? name + 1 : x;
	end = strchr(name, '@');
	end = end ? end : name + strlen(name);
	colon = memchr(name, ':', (size_t)(end - name));
	if (used && colon && (size_t)(end - colon - 1) > TASKDEF_IMAGE_TAG_MAX) {
		snprintf(err, errlen, "stages.%s.image: the tag %.*s is longer than %u characters with ${%s} "
			 "expanded (build id %s)", st->name, (int)(end - colon - 1 > 60 ? 60 : end - colon - 1), colon + 1,
			 TASKDEF_IMAGE_TAG_MAX, TASKDEF_BUILD_ID_VAR, build_id);
		free(x);
		return -1;
	}
	snprintf(out, outlen, "%s", x);
	free(x);
	return 0;
}

int taskdef_stage_for_build(const struct pipeline_stage *st, const char *build_id, struct pipeline_stage *copy,
			    char *image, size_t imagelen, char *err, size_t errlen)
{
	if (taskdef_expand_image(st, build_id, image, imagelen, err, errlen) < 0)
		return -1;
	*copy = *st;
	copy->image = image;
	return 0;
}

static json_t *tag(const char *key, const char *value)
{
	char v[TASKDEF_TAG_VALUE_MAX + 1];

	taskdef_tag_value(value, v, sizeof v);
	return json_pack("{s:s, s:s}", "key", key, "value", v);
}

static json_t *env_pair(const char *name, const char *value)
{
	return json_pack("{s:s, s:s}", "name", name, "value", value);
}

json_t *taskdef_register_request(const struct pipeline *p, const struct pipeline_stage *st,
				 char hash[17])
{
	char *family = taskdef_family(st), *canon = NULL;
	char cpu[16], mem[16];
	json_t *req = NULL, *container;

	if (!family)
		return NULL;
	snprintf(cpu, sizeof cpu, "%u", st->cpu);
	snprintf(mem, sizeof mem, "%u", st->memory);
	/* One essential container, the agent as its ENTRYPOINT (the image's). The container gets
	 * the task's whole cpu and memory: Fargate needs task-level sizes, and moto (like the
	 * EC2 launch type) wants them on the container too. */
	container = json_pack("{s:s, s:s, s:b, s:I, s:I, s:I, s:{s:s, s:{s:s, s:s, s:s}}}",
			      "name", TASKDEF_CONTAINER,
			      "image", st->image,
			      "essential", 1,
			      "cpu", (json_int_t)st->cpu,
			      "memory", (json_int_t)st->memory,
			      "stopTimeout", (json_int_t)st->stop_timeout,
			      "logConfiguration",
			      "logDriver", "awslogs",
			      "options",
			      "awslogs-group", p->aws.log_group,
			      "awslogs-region", p->aws.region,
			      "awslogs-stream-prefix", TASKDEF_LOG_PREFIX);
	req = json_pack("{s:s, s:s, s:s, s:[s], s:s, s:s, s:s, s:[o]}",
			"family", family,
			"networkMode", "awsvpc",
			"pidMode", "task",
			"requiresCompatibilities", "FARGATE",
			"cpu", cpu,
			"memory", mem,
			"executionRoleArn", p->aws.execution_role_arn,
			"containerDefinitions", container);
	if (!req)
		goto out;
	if (p->aws.task_role_arn)
		json_object_set_new(req, "taskRoleArn", json_string(p->aws.task_role_arn));
	/* The hash covers everything above: an unchanged definition is not registered again. */
	canon = json_dumps(req, JSON_COMPACT | JSON_SORT_KEYS);
	if (!canon) {
		json_decref(req);
		req = NULL;
		goto out;
	}
	sha256_hex(canon, strlen(canon), hash, 16);
	json_object_set_new(req, "tags", json_pack("[o, o]",
		tag(TASKDEF_HASH_TAG, hash), tag(TASKDEF_TAG_STAGE, st->name)));
out:
	free(canon);
	free(family);
	return req;
}

void taskdef_client_token(const char *build_id, const char *stage, char out[44])
{
	size_t a = strlen(build_id), b = strlen(stage);
	char *buf = malloc(a + b + 1);

	memcpy(out, "sv-", 3);
	if (!buf) {
		out[3] = '\0';
		return;
	}
	memcpy(buf, build_id, a);
	buf[a] = '\0';
	memcpy(buf + a + 1, stage, b);
	sha256_hex(buf, a + 1 + b, out + 3, 40);
	free(buf);
}

json_t *taskdef_run_request(const struct pipeline *p, const struct pipeline_stage *st,
			    const struct taskdef_run *run, char *err, size_t errlen)
{
	char token[44], expires[32];
	json_t *req = NULL, *subnets = json_array(), *sgs = json_array(), *env, *overrides, *tags;
	char *text = NULL;
	size_t i;

	for (i = 0; i < p->aws.nsubnets; i++)
		json_array_append_new(subnets, json_string(p->aws.subnets[i]));
	for (i = 0; i < p->aws.nsecurity_groups; i++)
		json_array_append_new(sgs, json_string(p->aws.security_groups[i]));
	env = json_pack("[o, o, o, o, o]",
			env_pair("STAGEVISOR_URL", run->url),
			env_pair("STAGEVISOR_TOKEN", run->token),
			env_pair("STAGEVISOR_PIN", run->pin),
			env_pair("STAGEVISOR_STREAM", run->stream),
			env_pair("STAGEVISOR_SPEC", st->spec_text ? st->spec_text : "{}"));
	overrides = json_pack("{s:[{s:s, s:o}]}", "containerOverrides",
			      "name", TASKDEF_CONTAINER, "environment", env);
	text = overrides ? json_dumps(overrides, JSON_COMPACT) : NULL;
	if (!text) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	/* RunTask refuses overrides over 8 KiB: say so before asking, naming what to do. */
	if (strlen(text) > TASKDEF_OVERRIDES_MAX) {
		snprintf(err, errlen, "stages.%s.spec: the stage spec makes the task's overrides %zu bytes "
			 "long, RunTask takes at most %u: shorten the spec (compact JSON, fewer env entries) "
			 "or bake it into the image and pass a path", st->name, strlen(text),
			 TASKDEF_OVERRIDES_MAX);
		goto fail;
	}
	snprintf(expires, sizeof expires, "%lld", run->expires_at);
	tags = json_pack("[o, o, o, o]",
			 tag(TASKDEF_TAG_BUILD, run->build_id),
			 tag(TASKDEF_TAG_STAGE, st->name),
			 tag(TASKDEF_TAG_STREAM, run->stream),
			 tag(TASKDEF_TAG_EXPIRES, expires));
	if (tags && run->branch && run->branch[0])
		json_array_append_new(tags, tag(TASKDEF_TAG_BRANCH, run->branch));
	taskdef_client_token(run->build_id, st->name, token);
	req = json_pack("{s:s, s:s, s:s, s:i, s:{s:{s:o, s:o, s:s}}, s:o, s:s, s:s, s:o, s:s}",
			"cluster", p->aws.cluster,
			"taskDefinition", run->task_definition,
			"launchType", "FARGATE",
			"count", 1,
			"networkConfiguration", "awsvpcConfiguration",
			"subnets", subnets, "securityGroups", sgs,
			"assignPublicIp", p->aws.assign_public_ip ? "ENABLED" : "DISABLED",
			"overrides", overrides,
			"startedBy", TASKDEF_STARTED_BY,
			"clientToken", token,
			"tags", tags,
			"propagateTags", "NONE");
	free(text);
	if (!req)
		snprintf(err, errlen, "out of memory");
	return req;
fail:
	free(text);
	json_decref(subnets);
	json_decref(sgs);
	json_decref(overrides);
	return NULL;
}

const char *taskdef_hash_from_tags(const json_t *tags)
{
	size_t i;
	json_t *t;

	json_array_foreach((json_t *)tags, i, t) {
		const char *k = json_string_value(json_object_get(t, "key"));
		if (k && strcmp(k, TASKDEF_HASH_TAG) == 0)
			return json_string_value(json_object_get(t, "value"));
	}
	return NULL;
}
