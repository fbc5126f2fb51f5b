/* pipeline — see pipeline.h. */
#include "pipeline.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "slug.h"

#define PATH_SIZE sizeof(((struct pipeline_error *)0)->path)
#define SG_MAX 5u

/* ---- errors ------------------------------------------------------------------------------ */

__attribute__((format(printf, 3, 4)))
static int fail(struct pipeline_error *err, const char *path, const char *fmt, ...)
{
	va_list ap;

	snprintf(err->path, sizeof err->path, "%s", path);
	va_start(ap, fmt);
	vsnprintf(err->text, sizeof err->text, fmt, ap);
	va_end(ap);
	return -1;
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE: case JSON_FALSE: return "a boolean";
	default: return "null";
	}
}

static int fail_type(struct pipeline_error *err, const char *path, const char *want, const json_t *v)
{
	return fail(err, path, "must be %s, not %s", want, type_name(v));
}

/* Paths longer than the error's field are cut: keys are bounded by the checks below, and a
 * cut path still points the user at the right place. */
static void path_key(char *out, const char *path, const char *key)
{
	if (snprintf(out, PATH_SIZE, "%s%s%s", path, *path ? "." : "", key) >= (int)PATH_SIZE)
		out[PATH_SIZE - 2] = '~';
}

static void path_index(char *out, const char *path, size_t i)
{
	if (snprintf(out, PATH_SIZE, "%s[%zu]", path, i) >= (int)PATH_SIZE)
		out[PATH_SIZE - 2] = '~';
}

/* Every key of obj must be one of known (NULL-terminated); required ones must be present. */
static int check_keys(const json_t *obj, const char *path, const char *const *known,
		      const char *const *required, struct pipeline_error *err)
{
	const char *key;
	json_t *v;
	char p[PATH_SIZE];

	json_object_foreach((json_t *)obj, key, v) {
		size_t i, o = 0;
		char list[256];
		bool ok = false;

		for (i = 0; known[i] && !ok; i++)
			ok = strcmp(key, known[i]) == 0;
		if (ok)
			continue;
		list[0] = '\0';
		for (i = 0; known[i] && o < sizeof list; i++)
			o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "", known[i]);
		path_key(p, path, key);
		return fail(err, p, "unknown field (expected one of: %s)", list);
	}
	for (size_t i = 0; required && required[i]; i++) {
		if (!json_object_get(obj, required[i])) {
			path_key(p, path, required[i]);
			return fail(err, p, "is required");
		}
	}
	return 0;
}

/* ---- typed getters ------------------------------------------------------------------------ */

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* A copy of a string of 1..max bytes with no control characters; absent -> *out stays NULL. */
static int get_string(const json_t *obj, const char *path, const char *key, size_t max,
		      char **out, struct pipeline_error *err)
{
	const json_t *v = json_object_get(obj, key);
	char p[PATH_SIZE];

	if (!v)
		return 0;
	path_key(p, path, key);
	if (!json_is_string(v))
		return fail_type(err, p, "a string", v);
	if (json_string_length(v) == 0)
		return fail(err, p, "must not be empty");
	if (json_string_length(v) > max)
		return fail(err, p, "is %zu bytes long, at most %zu are allowed", json_string_length(v), max);
	if (strlen(json_string_value(v)) != json_string_length(v) || has_control(json_string_value(v)))
		return fail(err, p, "must not contain control characters");
	*out = strdup(json_string_value(v));
	return *out ? 0 : fail(err, p, "out of memory");
}

static int get_uint(const json_t *obj, const char *path, const char *key, unsigned lo,
		    unsigned hi, unsigned *out, struct pipeline_error *err)
{
	const json_t *v = json_object_get(obj, key);
	char p[PATH_SIZE];

	if (!v)
		return 0;
	path_key(p, path, key);
	if (!json_is_integer(v))
		return fail_type(err, p, "an integer", v);
	if (json_integer_value(v) < lo || json_integer_value(v) > hi)
		return fail(err, p, "must be from %u to %u, not %lld", lo, hi,
			    (long long)json_integer_value(v));
	*out = (unsigned)json_integer_value(v);
	return 0;
}

static int get_bool(const json_t *obj, const char *path, const char *key, bool *out,
		    struct pipeline_error *err)
{
	const json_t *v = json_object_get(obj, key);
	char p[PATH_SIZE];

	if (!v)
		return 0;
	path_key(p, path, key);
	if (!json_is_boolean(v))
		return fail_type(err, p, "true or false", v);
	*out = json_is_true(v);
	return 0;
}

static int get_object(const json_t *obj, const char *path, const char *key, const json_t **out,
		      struct pipeline_error *err)
{
	const json_t *v = json_object_get(obj, key);
	char p[PATH_SIZE];

	*out = NULL;
	if (!v)
		return 0;
	path_key(p, path, key);
	if (!json_is_object(v))
		return fail_type(err, p, "an object", v);
	*out = v;
	return 0;
}

/* ---- value checks ------------------------------------------------------------------------- */

static bool all_of(const char *s, const char *extra)
{
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || strchr(extra, *s)))
			return false;
	return true;
}

/* "eu-west-1", "us-gov-west-1", "ap-southeast-3": lowercase words and a final number. */
static bool region_ok(const char *r)
{
	const char *dash = strrchr(r, '-');

	if (!dash || dash == r || !dash[1] || !all_of(r, "-") || !isalpha((unsigned char)r[0]))
		return false;
	for (const char *c = dash + 1; *c; c++)
		if (!isdigit((unsigned char)*c))
			return false;
	return strstr(r, "--") == NULL;
}

/* "subnet-0abc…", "sg-0abc…": the prefix, then hex digits. */
static bool aws_id_ok(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strncmp(s, prefix, n) != 0 || !s[n] || strlen(s) > n + 17)
		return false;
	for (s += n; *s; s++)
		if (!isxdigit((unsigned char)*s) || isupper((unsigned char)*s))
			return false;
	return true;
}

static bool arn_ok(const char *s, const char *service)
{
	char want[32];

	snprintf(want, sizeof want, ":%s:", service);
	return strncmp(s, "arn:", 4) == 0 && strstr(s, want) != NULL;
}

/* A DNS name: labels of [a-z0-9-], 1..63 each, no hyphen at either end, 253 in all. */
static bool domain_ok(const char *d)
{
	size_t label = 0, len = strlen(d);

	if (len == 0 || len > 253 || !all_of(d, "-."))
		return false;
	for (size_t i = 0; i <= len; i++) {
		if (d[i] == '.' || d[i] == '\0') {
			if (label == 0 || label > 63 || d[i - 1] == '-' || d[i - label] == '-')
				return false;
			label = 0;
		} else {
			label++;
		}
	}
	return true;
}

static bool https_url_ok(const char *u)
{
	const char *host = u + 8;

	return strncmp(u, "https://", 8) == 0 && *host && *host != '/' && *host != ':' &&
	       !strpbrk(u, " \"<>\\^`{|}");
}

int pipeline_parse_hhmm(const char *s, unsigned *minutes)
{
	unsigned h, m;
	char tail;

	if (strlen(s) != 5 || s[2] != ':' || !isdigit((unsigned char)s[0]) ||
	    !isdigit((unsigned char)s[1]) || !isdigit((unsigned char)s[3]) ||
	    !isdigit((unsigned char)s[4]))
		return -1;
	if (sscanf(s, "%2u:%2u%c", &h, &m, &tail) != 2 || h > 23 || m > 59)
		return -1;
	*minutes = h * 60 + m;
	return 0;
}

/* An IANA time zone name: "UTC", "Europe/London", "America/Argentina/Buenos_Aires". */
static bool timezone_ok(const char *tz)
{
	if (tz[0] == '/' || strstr(tz, "..") || strstr(tz, "//") || tz[strlen(tz) - 1] == '/')
		return false;
	for (const char *c = tz; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("/_+-", *c))
			return false;
	return true;
}

/* Fargate's CPU/memory table (MiB): for each cpu, the first, last and step of memory. */
static const struct {
	unsigned cpu, lo, hi, step;
} fargate_sizes[] = {
	{256, 512, 2048, 0}, /* 512, 1024, 2048 */
	{512, 1024, 4096, 1024},
	{1024, 2048, 8192, 1024},
	{2048, 4096, 16384, 1024},
	{4096, 8192, 30720, 1024},
	{8192, 16384, 61440, 4096},
	{16384, 32768, 122880, 8192},
};

bool pipeline_fargate_size_ok(unsigned cpu, unsigned memory, char *why, size_t whylen)
{
	for (size_t i = 0; i < sizeof fargate_sizes / sizeof fargate_sizes[0]; i++) {
		if (fargate_sizes[i].cpu != cpu)
			continue;
		if (fargate_sizes[i].step == 0) {
			if (memory == 512 || memory == 1024 || memory == 2048)
				return true;
			snprintf(why, whylen, "%u MiB is not a Fargate size for cpu %u (512, 1024 or 2048)",
				 memory, cpu);
			return false;
		}
		if (memory >= fargate_sizes[i].lo && memory <= fargate_sizes[i].hi &&
		    memory % fargate_sizes[i].step == 0)
			return true;
		snprintf(why, whylen, "%u MiB is not a Fargate size for cpu %u (%u to %u in steps of %u)",
			 memory, cpu, fargate_sizes[i].lo, fargate_sizes[i].hi, fargate_sizes[i].step);
		return false;
	}
	snprintf(why, whylen, "%u is not a Fargate cpu value (256, 512, 1024, 2048, 4096, 8192 or 16384)", cpu);
	return false;
}

/* ---- sections ----------------------------------------------------------------------------- */

static int get_id_list(const json_t *obj, const char *path, const char *key, const char *prefix,
		       size_t max, char ***out, size_t *n, struct pipeline_error *err)
{
	const json_t *v = json_object_get(obj, key), *item;
	char p[PATH_SIZE], q[PATH_SIZE];
	size_t i;

	path_key(p, path, key);
	if (!json_is_array(v))
		return fail_type(err, p, "an array of strings", v);
	if (json_array_size(v) == 0 || json_array_size(v) > max)
		return fail(err, p, "must have 1 to %zu entries, not %zu", max, json_array_size(v));
	*out = calloc(json_array_size(v), sizeof **out);
	if (!*out)
		return fail(err, p, "out of memory");
	json_array_foreach(v, i, item) {
		path_index(q, p, i);
		if (!json_is_string(item))
			return fail_type(err, q, "a string", item);
		if (!aws_id_ok(json_string_value(item), prefix))
			return fail(err, q, "\"%.64s\" is not an id of the form %s0123abcd",
				    json_string_value(item), prefix);
		for (size_t k = 0; k < i; k++)
			if (strcmp((*out)[k], json_string_value(item)) == 0)
				return fail(err, q, "\"%s\" is listed twice", (*out)[k]);
		(*out)[i] = strdup(json_string_value(item));
		(*n)++;
		if (!(*out)[i])
			return fail(err, q, "out of memory");
	}
	return 0;
}

static int parse_route53(const json_t *obj, struct pipeline_route53 *r, struct pipeline_error *err)
{
	static const char *const known[] = {"zone_id", "domain", NULL};
	const char *path = "aws.route53";
	char *zone = NULL;

	if (check_keys(obj, path, known, known, err) ||
	    get_string(obj, path, "zone_id", 64, &zone, err) ||
	    get_string(obj, path, "domain", 253, &r->domain, err)) {
		free(zone);
		return -1;
	}
	/* Route 53 answers with "/hostedzone/Z…"; accept what the console and the API show. */
	r->zone_id = strdup(strncmp(zone, "/hostedzone/", 12) == 0 ? zone + 12 : zone);
	free(zone);
	if (!r->zone_id)
		return fail(err, "aws.route53.zone_id", "out of memory");
	for (const char *c = r->zone_id; *c; c++)
		if (!isupper((unsigned char)*c) && !isdigit((unsigned char)*c))
			return fail(err, "aws.route53.zone_id", "\"%s\" is not a hosted zone id (Z and capitals or digits)", r->zone_id);
	if (r->zone_id[0] == '\0')
		return fail(err, "aws.route53.zone_id", "must not be empty");
	if (r->domain[strlen(r->domain) - 1] == '.')
		r->domain[strlen(r->domain) - 1] = '\0';
	for (char *c = r->domain; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (!domain_ok(r->domain))
		return fail(err, "aws.route53.domain", "\"%s\" is not a DNS name", r->domain);
	/* The playground's name is <slug>.<domain>, and a certificate's CN holds 64 characters:
	 * leave the slug the shortest length slug_make() can make (SLUG_MIN_MAX: "x--" and its
	 * 8-character hash), so 64 - 1 - 11 = 52. */
	if (strlen(r->domain) > 64 - 1 - SLUG_MIN_MAX)
		return fail(err, "aws.route53.domain", "is %zu characters long; at most %d leave room for a branch name in a 64-character certificate name", strlen(r->domain), 64 - 1 - SLUG_MIN_MAX);
	return 0;
}

static int parse_aws(const json_t *obj, struct pipeline_aws *a, struct pipeline_error *err)
{
	static const char *const known[] = {"region", "cluster", "subnets", "security_groups",
		"assign_public_ip", "execution_role_arn", "task_role_arn", "log_group",
		"ecr_repository", "route53", NULL};
	static const char *const required[] = {"region", "cluster", "subnets", "security_groups",
		"execution_role_arn", "log_group", "ecr_repository", NULL};
	const json_t *r53;

	if (check_keys(obj, "aws", known, required, err) ||
	    get_string(obj, "aws", "region", 32, &a->region, err) ||
	    get_string(obj, "aws", "cluster", 2048, &a->cluster, err) ||
	    get_id_list(obj, "aws", "subnets", "subnet-", PIPELINE_NETS_MAX, &a->subnets, &a->nsubnets, err) ||
	    get_id_list(obj, "aws", "security_groups", "sg-", SG_MAX, &a->security_groups,
			&a->nsecurity_groups, err) ||
	    get_bool(obj, "aws", "assign_public_ip", &a->assign_public_ip, err) ||
	    get_string(obj, "aws", "execution_role_arn", 2048, &a->execution_role_arn, err) ||
	    get_string(obj, "aws", "task_role_arn", 2048, &a->task_role_arn, err) ||
	    get_string(obj, "aws", "log_group", 512, &a->log_group, err) ||
	    get_string(obj, "aws", "ecr_repository", 256, &a->ecr_repository, err) ||
	    get_object(obj, "aws", "route53", &r53, err))
		return -1;
	if (!region_ok(a->region))
		return fail(err, "aws.region", "\"%s\" is not a region name such as eu-west-1", a->region);
	if (!arn_ok(a->cluster, "ecs") &&
	    strspn(a->cluster, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != strlen(a->cluster))
		return fail(err, "aws.cluster", "\"%s\" is neither a cluster name ([A-Za-z0-9_-]) nor an ECS ARN", a->cluster);
	if (!arn_ok(a->execution_role_arn, "iam"))
		return fail(err, "aws.execution_role_arn", "must be an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)");
	if (a->task_role_arn && !arn_ok(a->task_role_arn, "iam"))
		return fail(err, "aws.task_role_arn", "must be an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)");
	if (strspn(a->log_group, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-/.#") != strlen(a->log_group))
		return fail(err, "aws.log_group", "\"%s\" has characters a log group name cannot have ([A-Za-z0-9_-/.#])", a->log_group);
	if (a->ecr_repository[0] == '/' || !all_of(a->ecr_repository, "-_./"))
		return fail(err, "aws.ecr_repository", "\"%s\" is not a repository name (lowercase [a-z0-9._/-])", a->ecr_repository);
	if (r53) {
		a->route53 = calloc(1, sizeof *a->route53);
		if (!a->route53)
			return fail(err, "aws.route53", "out of memory");
		if (parse_route53(r53, a->route53, err))
			return -1;
	}
	return 0;
}

static int parse_coordinator(const json_t *obj, struct pipeline_coordinator *c, struct pipeline_error *err)
{
	static const char *const known[] = {"advertise", "listen", "ports", NULL};
	static const char *const required[] = {"advertise", "ports", NULL};
	const json_t *ports = json_object_get(obj, "ports");

	if (check_keys(obj, "coordinator", known, required, err) ||
	    get_string(obj, "coordinator", "advertise", 1024, &c->advertise, err) ||
	    get_string(obj, "coordinator", "listen", 255, &c->listen, err))
		return -1;
	if (!https_url_ok(c->advertise))
		return fail(err, "coordinator.advertise", "must be an https:// URL with a host (what the agents dial)");
	if (!c->listen && !(c->listen = strdup("0.0.0.0")))
		return fail(err, "coordinator.listen", "out of memory");
	if (!json_is_array(ports) || json_array_size(ports) != 2)
		return fail(err, "coordinator.ports", "must be [FIRST, LAST], a range of TCP ports");
	for (size_t i = 0; i < 2; i++) {
		json_t *v = json_array_get(ports, i);
		char p[PATH_SIZE];

		path_index(p, "coordinator.ports", i);
		if (!json_is_integer(v))
			return fail_type(err, p, "an integer", v);
		if (json_integer_value(v) < 1 || json_integer_value(v) > 65535)
			return fail(err, p, "must be a port from 1 to 65535, not %lld", (long long)json_integer_value(v));
	}
	c->port_first = (unsigned)json_integer_value(json_array_get(ports, 0));
	c->port_last = (unsigned)json_integer_value(json_array_get(ports, 1));
	if (c->port_first > c->port_last)
		return fail(err, "coordinator.ports", "the first port (%u) is above the last (%u)",
			    c->port_first, c->port_last);
	return 0;
}

static int parse_playgrounds(const json_t *obj, struct pipeline_playgrounds *pg, struct pipeline_error *err)
{
	static const char *const known[] = {"close_of_business", "timezone", "max", NULL};
	char *cob = NULL;
	int rc = 0;

	if (!obj)
		return 0;
	if (check_keys(obj, "playgrounds", known, NULL, err) ||
	    get_string(obj, "playgrounds", "close_of_business", 5, &cob, err) ||
	    get_uint(obj, "playgrounds", "max", 1, 1000, &pg->max, err)) {
		free(cob);
		return -1;
	}
	if (cob && pipeline_parse_hhmm(cob, &pg->close_of_business_min) != 0)
		rc = fail(err, "playgrounds.close_of_business", "\"%s\" is not a time HH:MM (24-hour clock)", cob);
	free(cob);
	if (rc)
		return rc;
	if (json_object_get(obj, "timezone")) {
		free(pg->timezone);
		pg->timezone = NULL;
		if (get_string(obj, "playgrounds", "timezone", 64, &pg->timezone, err))
			return -1;
		if (!timezone_ok(pg->timezone))
			return fail(err, "playgrounds.timezone", "\"%s\" is not a time zone name such as Europe/London", pg->timezone);
	}
	return 0;
}

static char *join_path(const char *dir, const char *rel)
{
	size_t n = strlen(dir) + strlen(rel) + 2;
	char *out;

	if (rel[0] == '/' || !dir[0])
		return strdup(rel);
	out = malloc(n);
	if (out)
		snprintf(out, n, "%s/%s", dir, rel);
	return out;
}

static int load_spec_file(struct pipeline_stage *st, const char *path, struct pipeline_error *err)
{
	json_error_t jerr;
	json_t *doc;
	FILE *f = fopen(st->spec_path, "re");

	if (!f)
		return fail(err, path, "cannot open %s: %s", st->spec_path, strerror(errno));
	doc = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
	fclose(f);
	if (!doc)
		return fail(err, path, "%s: line %d, column %d: %s", st->spec_path, jerr.line, jerr.column, jerr.text);
	if (!json_is_object(doc)) {
		json_decref(doc);
		return fail(err, path, "%s: a stage spec is a JSON object", st->spec_path);
	}
	st->spec_text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	return st->spec_text ? 0 : fail(err, path, "out of memory");
}

static int parse_stage(const char *name, const json_t *obj, const char *dir, bool read_specs,
		       struct pipeline_stage *st, struct pipeline_error *err)
{
	static const char *const known[] = {"image", "cpu", "memory", "stop_timeout", "spec", NULL};
	static const char *const required[] = {"image", "cpu", "memory", "spec", NULL};
	char path[PATH_SIZE], p[PATH_SIZE], why[160];
	const json_t *spec;

	path_key(path, "stages", name);
	if (!json_is_object(obj))
		return fail_type(err, path, "an object", obj);
	if (strlen(name) == 0 || strlen(name) > 32 || !all_of(name, "-_"))
		return fail(err, path, "a stage name is 1 to 32 characters of [a-z0-9_-]");
	if (!(st->name = strdup(name)))
		return fail(err, path, "out of memory");
	st->stop_timeout = PIPELINE_STOP_TIMEOUT_DEFAULT;
	if (check_keys(obj, path, known, required, err) ||
	    get_string(obj, path, "image", 1024, &st->image, err) ||
	    get_uint(obj, path, "cpu", 1, 1u << 20, &st->cpu, err) ||
	    get_uint(obj, path, "memory", 1, 1u << 20, &st->memory, err) ||
	    get_uint(obj, path, "stop_timeout", 2, PIPELINE_STOP_TIMEOUT_MAX, &st->stop_timeout, err))
		return -1;
	if (strpbrk(st->image, " \t")) {
		path_key(p, path, "image");
		return fail(err, p, "must not contain spaces");
	}
	/* ${BUILD_ID} is the one placeholder (expanded per run by taskdef_expand_image); any other
	 * '$' is a typo or a placeholder we do not know, and never valid in an image reference. */
	for (const char *d = strchr(st->image, '$'); d; d = strchr(d, '$')) {
		if (strncmp(d, "${BUILD_ID}", 11) == 0) {
			d += 11;
			continue;
		}
		path_key(p, path, "image");
		if (d[1] == '{' && strchr(d, '}'))
			return fail(err, p, "unknown placeholder %.*s (the only one is ${BUILD_ID})",
				    (int)(strchr(d, '}') - d + 1 > 40 ? 40 : strchr(d, '}') - d + 1), d);
		return fail(err, p, "a '$' that is not the placeholder ${BUILD_ID}");
	}
	if (!pipeline_fargate_size_ok(st->cpu, st->memory, why, sizeof why)) {
		path_key(p, path, strstr(why, "cpu value") ? "cpu" : "memory");
		return fail(err, p, "%s", why);
	}
	spec = json_object_get(obj, "spec");
	path_key(p, path, "spec");
	if (json_is_object(spec)) {
		st->spec_text = json_dumps(spec, JSON_COMPACT);
		return st->spec_text ? 0 : fail(err, p, "out of memory");
	}
	if (!json_is_string(spec) || json_string_length(spec) == 0)
		return fail(err, p, "must be a path to a stage spec (relative to the config) or a stage spec object");
	st->spec_path = join_path(dir ? dir : "", json_string_value(spec));
	if (!st->spec_path)
		return fail(err, p, "out of memory");
	return read_specs ? load_spec_file(st, p, err) : 0;
}

static int parse_stages(const json_t *obj, const char *dir, bool read_specs, struct pipeline *pl,
			struct pipeline_error *err)
{
	const char *name;
	json_t *v;

	if (!json_is_object(obj))
		return fail_type(err, "stages", "an object of stages by name", obj);
	if (json_object_size(obj) == 0 || json_object_size(obj) > PIPELINE_STAGES_MAX)
		return fail(err, "stages", "must have 1 to %u stages", PIPELINE_STAGES_MAX);
	pl->stages = calloc(json_object_size(obj), sizeof *pl->stages);
	if (!pl->stages)
		return fail(err, "stages", "out of memory");
	json_object_foreach((json_t *)obj, name, v) {
		if (parse_stage(name, v, dir, read_specs, &pl->stages[pl->nstages++], err))
			return -1;
	}
	return 0;
}

/* ---- the document -------------------------------------------------------------------------- */

struct pipeline *pipeline_parse(const char *text, size_t len, const char *base_dir,
				bool read_specs, struct pipeline_error *err)
{
	static const char *const known[] = {"version", "aws", "coordinator", "slack", "playgrounds",
		"stages", NULL};
	static const char *const required[] = {"version", "aws", "coordinator", "stages", NULL};
	static const char *const slack_known[] = {"webhook_url", NULL};
	struct pipeline *pl = calloc(1, sizeof *pl);
	json_error_t jerr;
	json_t *doc = NULL;
	const json_t *aws, *coord, *slack, *pg;
	unsigned version = 0;

	memset(err, 0, sizeof *err);
	if (!pl) {
		fail(err, "", "out of memory");
		return NULL;
	}
	pl->playgrounds.close_of_business_min = 19 * 60;
	pl->playgrounds.max = 10;
	if (!(pl->playgrounds.timezone = strdup("UTC")) || !(pl->dir = strdup(base_dir ? base_dir : ""))) {
		fail(err, "", "out of memory");
		goto fail;
	}
	if (len > PIPELINE_DOC_MAX) {
		fail(err, "", "the config is %zu bytes long, at most %u are allowed", len, PIPELINE_DOC_MAX);
		goto fail;
	}
	doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		err->line = jerr.line > 0 ? jerr.line : 1;
		err->column = jerr.column > 0 ? jerr.column : 1;
		fail(err, "", "%s", jerr.text);
		goto fail;
	}
	if (!json_is_object(doc)) {
		fail_type(err, "", "an object", doc);
		goto fail;
	}
	if (check_keys(doc, "", known, required, err) ||
	    get_uint(doc, "", "version", 1, 1000, &version, err))
		goto fail;
	if (version != PIPELINE_VERSION) {
		fail(err, "version", "version %u is not known to this stagevisor (it reads version %d)",
		     version, PIPELINE_VERSION);
		goto fail;
	}
	if (get_object(doc, "", "aws", &aws, err) || parse_aws(aws, &pl->aws, err) ||
	    get_object(doc, "", "coordinator", &coord, err) ||
	    parse_coordinator(coord, &pl->coordinator, err) ||
	    get_object(doc, "", "slack", &slack, err) || get_object(doc, "", "playgrounds", &pg, err) ||
	    parse_playgrounds(pg, &pl->playgrounds, err))
		goto fail;
	if (slack) {
		if (check_keys(slack, "slack", slack_known, slack_known, err) ||
		    get_string(slack, "slack", "webhook_url", 2048, &pl->slack_webhook_url, err))
			goto fail;
		/* The URL is a secret: the message names the field, never the value. */
		if (!https_url_ok(pl->slack_webhook_url)) {
			fail(err, "slack.webhook_url", "must be an https:// URL");
			goto fail;
		}
	}
	if (parse_stages(json_object_get(doc, "stages"), base_dir, read_specs, pl, err))
		goto fail;
	json_decref(doc);
	return pl;
fail:
	json_decref(doc);
	pipeline_free(pl);
	return NULL;
}

struct pipeline *pipeline_load(const char *path, struct pipeline_error *err)
{
	FILE *f = fopen(path, "re");
	char *text = NULL, *dir = NULL, *slash;
	size_t len = 0;
	struct pipeline *pl = NULL;

	memset(err, 0, sizeof *err);
	if (!f) {
		fail(err, "", "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	text = malloc(PIPELINE_DOC_MAX + 1);
	if (text)
		len = fread(text, 1, PIPELINE_DOC_MAX + 1, f);
	if (!text || ferror(f)) {
		fail(err, "", "cannot read %s: %s", path, text ? strerror(errno) : "out of memory");
		goto out;
	}
	if (!(dir = strdup(path)))
		goto out;
	slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	else
		dir[0] = '\0';
	pl = pipeline_parse(text, len, dir, true, err);
out:
	fclose(f);
	free(text);
	free(dir);
	return pl;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

void pipeline_free(struct pipeline *p)
{
	if (!p)
		return;
	free(p->aws.region);
	free(p->aws.cluster);
	free_list(p->aws.subnets, p->aws.nsubnets);
	free_list(p->aws.security_groups, p->aws.nsecurity_groups);
	free(p->aws.execution_role_arn);
	free(p->aws.task_role_arn);
	free(p->aws.log_group);
	free(p->aws.ecr_repository);
	if (p->aws.route53) {
		free(p->aws.route53->zone_id);
		free(p->aws.route53->domain);
		free(p->aws.route53);
	}
	free(p->coordinator.advertise);
	free(p->coordinator.listen);
	free(p->slack_webhook_url);
	free(p->playgrounds.timezone);
	for (size_t i = 0; i < p->nstages; i++) {
		free(p->stages[i].name);
		free(p->stages[i].image);
		free(p->stages[i].spec_text);
		free(p->stages[i].spec_path);
	}
	free(p->stages);
	free(p->dir);
	free(p);
}

const struct pipeline_stage *pipeline_find_stage(const struct pipeline *p, const char *name)
{
	for (size_t i = 0; p && i < p->nstages; i++)
		if (strcmp(p->stages[i].name, name) == 0)
			return &p->stages[i];
	return NULL;
}

void pipeline_error_format(const struct pipeline_error *err, char *buf, size_t len)
{
	if (err->line > 0)
		snprintf(buf, len, "line %d, column %d: %s", err->line, err->column, err->text);
	else if (err->path[0])
		snprintf(buf, len, "%s: %s", err->path, err->text);
	else
		snprintf(buf, len, "%s", err->text);
}
