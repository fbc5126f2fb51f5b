/* awscmd — see awscmd.h. */
#include "awscmd.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "aws_client.h"
#include "aws_service.h"
#include "aws_xml.h"

#define AWSCMD_INPUT_MAX (1u << 20)

struct awscmd_options {
	const char *service, *operation, *input, *endpoint, *region, *profile;
	long connect_timeout_ms, timeout_ms;
	int debug;
};

void awscmd_usage(void)
{
	printf("usage: stagevisor aws SERVICE OPERATION [JSON] [options]\n"
	       "\n"
	       "Makes one signed AWS API call and prints the answer as JSON, the way\n"
	       "`aws --endpoint-url URL SERVICE OPERATION` does: to check credentials, region and\n"
	       "endpoints on a Jenkins host or against a local emulator (moto).\n"
	       "\n"
	       "  SERVICE     ecs, ecr, logs (JSON 1.1); route53 (REST-XML: ListHostedZones,\n"
	       "              GetHostedZone, ListResourceRecordSets, GetChange, ListHostedZonesByName);\n"
	       "              s3 (path-style: ListBuckets, ListObjectsV2, GetBucketLocation);\n"
	       "              sts, iam, ec2 (query protocol: top-level string and number parameters)\n"
	       "  OPERATION   the API name (ListClusters) or the aws CLI's form (list-clusters)\n"
	       "  JSON        the request parameters as a JSON object, inline, file://PATH or - (stdin);\n"
	       "              default {}\n"
	       "\n"
	       "  --endpoint-url URL    send to URL instead of the configured or default endpoint\n"
	       "  --region R            the region (else AWS_REGION, AWS_DEFAULT_REGION, the profile)\n"
	       "  --profile P           the profile of the shared config and credentials files; like\n"
	       "                        the aws CLI, it makes the chain skip AWS_ACCESS_KEY_ID etc.\n"
	       "  --connect-timeout S   connection timeout in seconds (default 10)\n"
	       "  --timeout S           whole-request timeout in seconds (default 60)\n"
	       "  --debug               on stderr, per attempt: the canonical request and string to\n"
	       "                        sign (session token redacted) and the URL, status, error code\n"
	       "                        and backoff; never a secret key, token or signature\n"
	       "\n"
	       "Credentials come from the AWS CLI's chain (environment, credentials and config files,\n"
	       "ECS container credentials, EC2 instance metadata), endpoints from --endpoint-url,\n"
	       "AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL or the profile; retries follow the SDKs'\n"
	       "standard mode (AWS_MAX_ATTEMPTS, default 3). AWS_CA_BUNDLE (else the profile's\n"
	       "ca_bundle) is a PEM bundle that replaces the system's CAs. coordinator/README.md,\n"
	       "\"AWS\", has it all.\n"
	       "\n"
	       "exit codes: 0 success, 1 AWS answered with an error (the line on stderr is AWS's code,\n"
	       "message and request id), 2 usage or configuration error (options, JSON, config files,\n"
	       "region, credentials), 3 no usable answer (connection, timeout, reset, malformed answer)\n");
}

int awscmd_operation_name(const char *in, char *out, size_t cap)
{
	size_t o = 0;
	int up = 1;

	if (!*in || !isalpha((unsigned char)*in))
		return -1;
	for (const char *p = in; *p; p++) {
		if (*p == '-') {
			if (p[1] == '-' || !p[1])
				return -1;
			up = 1;
			continue;
		}
		if (!isalnum((unsigned char)*p) || o + 1 >= cap)
			return -1;
		out[o++] = up ? (char)toupper((unsigned char)*p) : *p;
		up = 0;
	}
	out[o] = '\0';
	return 0;
}

static json_t *load_input(const char *arg, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *doc;
	const char *what = "JSON";

	if (!arg)
		return json_object();
	if (strcmp(arg, "-") == 0) {
		what = "stdin";
		doc = json_loadf(stdin, JSON_REJECT_DUPLICATES, &jerr);
	} else if (strncmp(arg, "file://", 7) == 0) {
		what = arg + 7;
		doc = json_load_file(arg + 7, JSON_REJECT_DUPLICATES, &jerr);
	} else {
		doc = json_loads(arg, JSON_REJECT_DUPLICATES, &jerr);
	}
	if (!doc) {
		snprintf(err, errlen, "%s: line %d, column %d: %s", what, jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(doc)) {
		snprintf(err, errlen, "%s: the parameters must be a JSON object", what);
		json_decref(doc);
		return NULL;
	}
	return doc;
}

static void on_debug(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "stagevisor %s\n", line);
}

/* Percent-encodes one path segment or query value (RFC 3986 unreserved kept). */
static int encode(const char *s, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (o + 4 > cap)
			return -1;
		if (isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
			out[o++] = (char)ch;
		} else {
			out[o++] = '%';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	out[o] = '\0';
	return 0;
}

/* REST-XML reads (Route 53, S3 path-style): OPERATION -> path (with one id) and query. */
struct r53_op {
	const char *service;
	const char *name;
	const char *fixed_query;  /* always sent first ("list-type=2"), or "" */
	const char *path;      /* the path, or the part before the id */
	const char *path_tail; /* after the id */
	const char *id_param;  /* the JSON parameter holding the id, NULL: none */
	const char *id_prefix; /* stripped from the id ("/hostedzone/") */
	const char *query[4][2]; /* JSON parameter -> query key */
};

static const struct r53_op r53_ops[] = {
	{"route53", "ListHostedZones", "", "/2013-04-01/hostedzone", "", NULL, NULL,
	 {{"Marker", "marker"}, {"MaxItems", "maxitems"}, {"DelegationSetId", "delegationsetid"}, {NULL, NULL}}},
	{"route53", "GetHostedZone", "", "/2013-04-01/hostedzone/", "", "Id", "/hostedzone/", {{NULL, NULL}}},
	{"route53", "ListResourceRecordSets", "", "/2013-04-01/hostedzone/", "/rrset", "HostedZoneId", "/hostedzone/",
	 {{"StartRecordName", "name"}, {"StartRecordType", "type"}, {"MaxItems", "maxitems"}, {NULL, NULL}}},
	{"route53", "GetChange", "", "/2013-04-01/change/", "", "Id", "/change/", {{NULL, NULL}}},
	{"route53", "ListHostedZonesByName", "", "/2013-04-01/hostedzonesbyname", "", NULL, NULL,
	 {{"DNSName", "dnsname"}, {"HostedZoneId", "hostedzoneid"}, {"MaxItems", "maxitems"}, {NULL, NULL}}},
	{"s3", "ListBuckets", "", "/", "", NULL, NULL, {{NULL, NULL}}},
	{"s3", "ListObjectsV2", "list-type=2", "/", "", "Bucket", "",
	 {{"Prefix", "prefix"}, {"MaxKeys", "max-keys"}, {"ContinuationToken", "continuation-token"}, {NULL, NULL}}},
	{"s3", "GetBucketLocation", "location", "/", "", "Bucket", "", {{NULL, NULL}}},
};

static const char *param_text(json_t *v, char *buf, size_t cap)
{
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
		return buf;
	}
	if (json_is_boolean(v))
		return json_is_true(v) ? "true" : "false";
	return NULL;
}

static int build_rest(const char *service, const char *op, json_t *in, char *path, size_t pcap, char *query,
                      size_t qcap, char *err, size_t errlen)
{
	const struct r53_op *r = NULL;
	char enc[1024], num[32];
	size_t q = 0;
	const char *key;
	json_t *v;

	for (size_t i = 0; i < sizeof r53_ops / sizeof r53_ops[0]; i++)
		if (strcmp(service, r53_ops[i].service) == 0 && strcmp(op, r53_ops[i].name) == 0)
			r = &r53_ops[i];
	if (!r) {
		snprintf(err, errlen, "%s %s: not supported here (only the reads: %s)", service, op,
		         strcmp(service, "s3") == 0 ? "ListBuckets, ListObjectsV2, GetBucketLocation" :
		         "ListHostedZones, GetHostedZone, ListResourceRecordSets, GetChange, ListHostedZonesByName");
		return -1;
	}
	json_object_foreach(in, key, v) {
		int known = r->id_param && strcmp(key, r->id_param) == 0;
		for (int k = 0; k < 4 && r->query[k][0]; k++)
			known |= strcmp(key, r->query[k][0]) == 0;
		if (!known) {
			snprintf(err, errlen, "%s %s: unknown parameter %s", service, op, key);
			return -1;
		}
	}
	if (r->id_param) {
		const char *id = json_string_value(json_object_get(in, r->id_param));
		size_t pl = strlen(r->id_prefix);
		if (!id || !*id) {
			snprintf(err, errlen, "%s %s: parameter %s (a string) is required", service, op, r->id_param);
			return -1;
		}
		if (strncmp(id, r->id_prefix, pl) == 0)
			id += pl;
		if (encode(id, enc, sizeof enc) < 0) {
			snprintf(err, errlen, "%s %s: %s: too long", service, op, r->id_param);
			return -1;
		}
		snprintf(path, pcap, "%s%s%s", r->path, enc, r->path_tail);
	} else {
		snprintf(path, pcap, "%s", r->path);
	}
	q = (size_t)snprintf(query, qcap, "%s", r->fixed_query);
	for (int k = 0; k < 4 && r->query[k][0]; k++) {
		const char *t;
		v = json_object_get(in, r->query[k][0]);
		if (!v)
			continue;
		if (!(t = param_text(v, num, sizeof num)) || encode(t, enc, sizeof enc) < 0) {
			snprintf(err, errlen, "%s %s: %s: not a usable string", service, op, r->query[k][0]);
			return -1;
		}
		q += (size_t)snprintf(query + q, qcap - q, "%s%s=%s", q ? "&" : "", r->query[k][1], enc);
		if (q >= qcap) {
			snprintf(err, errlen, "%s %s: parameters too long", service, op);
			return -1;
		}
	}
	return 0;
}

/* The query protocol's form body: Action, Version, then top-level scalar parameters. */
static char *build_query_body(const struct aws_service *svc, const char *op, json_t *in, char *err, size_t errlen)
{
	size_t cap = 64 * 1024, n;
	char *body = malloc(cap), enc[4096], num[32];
	const char *key, *t;
	json_t *v;

	if (!body)
		return NULL;
	n = (size_t)snprintf(body, cap, "Action=%s&Version=%s", op, svc->api_version);
	json_object_foreach(in, key, v) {
		char ek[256];
		if (!(t = param_text(v, num, sizeof num))) {
			snprintf(err, errlen, "%s %s: parameter %s: only strings, numbers and booleans are supported here",
			         svc->name, op, key);
			goto fail;
		}
		if (encode(key, ek, sizeof ek) < 0 || encode(t, enc, sizeof enc) < 0) {
			snprintf(err, errlen, "%s %s: parameter %s: too long", svc->name, op, key);
			goto fail;
		}
		n += (size_t)snprintf(body + n, cap - n, "&%s=%s", ek, enc);
		if (n >= cap) {
			snprintf(err, errlen, "%s %s: parameters too long", svc->name, op);
			goto fail;
		}
	}
	return body;
fail:
	free(body);
	return NULL;
}

/* A double as Python's repr() writes it (what `aws` prints): the shortest text that reads back
 * to the same value, fixed notation for exponents from -4 to 15 (with ".0" when integral),
 * else d.ddde+XX. */
static void python_real(double v, char *out, size_t cap)
{
	char digits[40], *e;
	int p, exp;

	if (v != v || v - v != 0) { /* NaN, infinities: not JSON; jansson never yields them */
		snprintf(out, cap, "null");
		return;
	}
	for (p = 1; p <= 17; p++) {
		snprintf(digits, sizeof digits, "%.*e", p - 1, v);
		if (strtod(digits, NULL) == v)
			break;
	}
	e = strchr(digits, 'e');
	exp = atoi(e + 1);
	*e = '\0';
	if (exp >= -4 && exp < 16) {
		snprintf(out, cap, "%.*f", p - 1 - exp > 0 ? p - 1 - exp : 0, v);
		if (!strchr(out, '.'))
			strncat(out, ".0", cap - strlen(out) - 1);
	} else {
		/* digits is "d.ddd" or "d"; Python drops nothing more and writes at least two exponent digits */
		snprintf(out, cap, "%se%c%02d", digits, exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
	}
}

static void print_string(FILE *f, const char *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		case '\b': fputs("\\b", f); break;
		case '\f': fputs("\\f", f); break;
		default:
			if (c < 0x20)
				fprintf(f, "\\u%04x", c);
			else
				fputc(c, f);
		}
	}
	fputc('"', f);
}

static void print_value(FILE *f, json_t *v, int depth)
{
	char num[64];
	size_t i, n;
	const char *key;
	json_t *x;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		if (!json_object_size(v)) {
			fputs("{}", f);
			break;
		}
		fputs("{\n", f);
		n = 0;
		json_object_foreach(v, key, x) {
			fprintf(f, "%*s", 4 * (depth + 1), "");
			print_string(f, key, strlen(key));
			fputs(": ", f);
			print_value(f, x, depth + 1);
			fputs(++n < json_object_size(v) ? ",\n" : "\n", f);
		}
		fprintf(f, "%*s}", 4 * depth, "");
		break;
	case JSON_ARRAY:
		if (!json_array_size(v)) {
			fputs("[]", f);
			break;
		}
		fputs("[\n", f);
		json_array_foreach(v, i, x) {
			fprintf(f, "%*s", 4 * (depth + 1), "");
			print_value(f, x, depth + 1);
			fputs(i + 1 < json_array_size(v) ? ",\n" : "\n", f);
		}
		fprintf(f, "%*s]", 4 * depth, "");
		break;
	case JSON_STRING:
		print_string(f, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		python_real(json_real_value(v), num, sizeof num);
		fputs(num, f);
		break;
	case JSON_TRUE: fputs("true", f); break;
	case JSON_FALSE: fputs("false", f); break;
	default: fputs("null", f); break;
	}
}

int awscmd_print_json(FILE *f, json_t *v)
{
	print_value(f, v, 0);
	fputc('\n', f);
	return ferror(f) ? -1 : 0;
}

static int exit_code_for(const struct aws_error *e)
{
	if (e->transport || strcmp(e->code, "MalformedResponse") == 0 || strcmp(e->code, "ResponseTooLarge") == 0)
		return AWSCMD_TRANSPORT;
	if (e->status >= 300)
		return AWSCMD_AWS_ERROR;
	return AWSCMD_USAGE;
}

static int call(struct aws_client *c, const struct aws_service *svc, const char *op, json_t *in)
{
	struct aws_result r;
	json_t *out = NULL;
	char line[2048], err[512], path[2048], query[4096];
	char *body = NULL;
	struct aws_http_header h[1];
	struct aws_call ac;
	int rc;

	memset(&r, 0, sizeof r);
	memset(&ac, 0, sizeof ac);
	ac.service = svc->name;
	ac.operation = op;
	switch (svc->protocol) {
	case AWS_PROTO_JSON11:
		rc = aws_client_json(c, svc->name, op, in, &out, &r);
		break;
	case AWS_PROTO_RESTXML:
		if (build_rest(svc->name, op, in, path, sizeof path, query, sizeof query, err, sizeof err) < 0) {
			fprintf(stderr, "stagevisor aws: %s\n", err);
			return AWSCMD_USAGE;
		}
		ac.method = "GET";
		ac.path = path;
		ac.query = query;
		ac.unsigned_payload = false; /* S3: the empty body's hash, signed */
		rc = aws_client_call(c, &ac, &r);
		break;
	default:
		if (!(body = build_query_body(svc, op, in, err, sizeof err))) {
			fprintf(stderr, "stagevisor aws: %s\n", err[0] ? err : "out of memory");
			return AWSCMD_USAGE;
		}
		h[0].name = "Content-Type";
		h[0].value = "application/x-www-form-urlencoded; charset=utf-8";
		ac.method = "POST";
		ac.path = "/";
		ac.headers = h;
		ac.n_headers = 1;
		ac.body = body;
		ac.body_len = strlen(body);
		rc = aws_client_call(c, &ac, &r);
		free(body);
		break;
	}
	if (rc == 0 && !out && r.len == 0) {
		out = json_object(); /* a 2xx without a body (204): nothing to show, as `aws` shows nothing */
	} else if (rc == 0 && !out) {
		out = aws_xml_to_json(r.body, r.len, op, err, sizeof err);
		if (!out) {
			char m[700];
			snprintf(m, sizeof m, "HTTP %ld answer is not usable XML: %s", r.status, err);
			aws_error_client(&r.error, "MalformedResponse", m);
			snprintf(r.error.request_id, sizeof r.error.request_id, "%s", r.request_id);
			rc = -1;
		}
	}
	if (rc < 0) {
		aws_error_format(&r.error, svc->name, op, line, sizeof line);
		fprintf(stderr, "%s\n", line);
		rc = exit_code_for(&r.error);
		goto done;
	}
	if (awscmd_print_json(stdout, out) < 0 || fflush(stdout) != 0) {
		fprintf(stderr, "stagevisor aws: cannot write the answer: %s\n", strerror(errno));
		rc = AWSCMD_TRANSPORT;
		goto done;
	}
	rc = AWSCMD_OK;
done:
	json_decref(out);
	aws_result_clear(&r);
	return rc;
}

static int seconds_ms(const char *name, const char *v, long *out)
{
	char *end;
	double s;

	errno = 0;
	s = strtod(v, &end);
	if (errno || end == v || *end || !(s > 0) || s > 3600) {
		fprintf(stderr, "stagevisor aws: %s: not a number of seconds from 0 to 3600: %s\n", name, v);
		return -1;
	}
	*out = (long)(s * 1000);
	return 0;
}

int awscmd_command(int argc, char **argv)
{
	enum { O_ENDPOINT = 1000, O_REGION, O_PROFILE, O_CONNECT, O_TIMEOUT, O_DEBUG, O_HELP };
	static const struct option longopts[] = {
		{"endpoint-url", required_argument, NULL, O_ENDPOINT}, {"region", required_argument, NULL, O_REGION},
		{"profile", required_argument, NULL, O_PROFILE}, {"connect-timeout", required_argument, NULL, O_CONNECT},
		{"timeout", required_argument, NULL, O_TIMEOUT}, {"debug", no_argument, NULL, O_DEBUG},
		{"help", no_argument, NULL, O_HELP}, {NULL, 0, NULL, 0}};
	struct awscmd_options o;
	struct aws_client_options co;
	const struct aws_service *svc;
	struct aws_client *c = NULL;
	json_t *in = NULL;
	char op[128], err[1024];
	const char *scale;
	int ch, rc = AWSCMD_USAGE, pos = 0;

	memset(&o, 0, sizeof o);
	optind = 1;
	/* "+" off: options may follow the positional arguments, as with the aws CLI */
	while ((ch = getopt_long(argc, argv, "-h", longopts, NULL)) != -1) {
		switch (ch) {
		case 1:
			if (pos == 0)
				o.service = optarg;
			else if (pos == 1)
				o.operation = optarg;
			else if (pos == 2)
				o.input = optarg;
			else {
				fprintf(stderr, "stagevisor aws: unexpected argument: %s\n", optarg);
				return AWSCMD_USAGE;
			}
			pos++;
			break;
		case O_ENDPOINT: o.endpoint = optarg; break;
		case O_REGION: o.region = optarg; break;
		case O_PROFILE: o.profile = optarg; break;
		case O_CONNECT:
			if (seconds_ms("--connect-timeout", optarg, &o.connect_timeout_ms) < 0)
				return AWSCMD_USAGE;
			break;
		case O_TIMEOUT:
			if (seconds_ms("--timeout", optarg, &o.timeout_ms) < 0)
				return AWSCMD_USAGE;
			break;
		case O_DEBUG: o.debug = 1; break;
		case 'h':
		case O_HELP: awscmd_usage(); return AWSCMD_OK;
		default: return AWSCMD_USAGE;
		}
	}
	if (!o.service || !o.operation) {
		fprintf(stderr, "stagevisor aws: SERVICE and OPERATION are required (stagevisor aws --help)\n");
		return AWSCMD_USAGE;
	}
	if (!(svc = aws_service_find(o.service))) {
		fprintf(stderr, "stagevisor aws: unknown service %s (known: %s)\n", o.service, aws_service_names());
		return AWSCMD_USAGE;
	}
	if (awscmd_operation_name(o.operation, op, sizeof op) < 0) {
		fprintf(stderr, "stagevisor aws: not an operation name: %s (e.g. ListClusters or list-clusters)\n",
		        o.operation);
		return AWSCMD_USAGE;
	}
	if (!(in = load_input(o.input, err, sizeof err))) {
		fprintf(stderr, "stagevisor aws: parameters: %s\n", err);
		return AWSCMD_USAGE;
	}
	if (aws_http_global_init() < 0) {
		fprintf(stderr, "stagevisor aws: libcurl initialisation failed\n");
		json_decref(in);
		return AWSCMD_TRANSPORT;
	}
	memset(&co, 0, sizeof co);
	co.profile = o.profile;
	co.region = o.region;
	co.endpoint_url = o.endpoint;
	co.connect_timeout_ms = o.connect_timeout_ms;
	co.timeout_ms = o.timeout_ms;
	if (o.debug)
		co.debug = on_debug;
	/* Tests shorten the real sleeps between retries; the computed backoff stays as it is. */
	scale = getenv("STAGEVISOR_AWS_BACKOFF_SCALE");
	co.backoff_scale = scale ? strtod(scale, NULL) : 1.0;
	c = aws_client_new(&co, err, sizeof err);
	if (!c) {
		fprintf(stderr, "stagevisor aws: %s\n", err);
		goto done;
	}
	rc = call(c, svc, op, in);
done:
	aws_client_free(c);
	json_decref(in);
	aws_http_global_cleanup();
	return rc;
}
