/* aws_client — see aws_client.h. */
#include "aws_client.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "aws_chain.h"
#include "aws_creds.h"
#include "aws_retry.h"
#include "aws_service.h"
#include "sigv4.h"

#define MAX_EXTRA_HEADERS 16
#define SKEW_LIMIT_S 240 /* botocore: a Date more than 4 minutes off is clock skew */

struct aws_client {
	struct aws_client_options opt;
	struct aws_config_files files;
	struct aws_config cfg;
	struct aws_chain_io io;
	struct aws_chain *chain;
	struct aws_http *http;
	struct aws_retry_quota quota;
	struct aws_bucket buckets[AWS_RL_N];
	long long skew; /* server time minus ours, seconds */
	char ca_bundle[1024]; /* AWS_CA_BUNDLE or the profile's ca_bundle; "" for the system's CAs */
};

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	struct timespec ts;

	if (!(s > 0))
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static double random01(void)
{
	unsigned int v = 0;

	if (RAND_bytes((unsigned char *)&v, sizeof v) != 1)
		v = (unsigned int)rand();
	return (double)(v >> 8) / (double)(1u << 24);
}

static void debugf(struct aws_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void debugf(struct aws_client *c, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!c->opt.debug)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	c->opt.debug(c->opt.debug_arg, line);
}

/* The AWS CLI's CA bundle: AWS_CA_BUNDLE, else the profile's ca_bundle. A bundle that was
 * asked for and cannot be read is an error naming where it came from (as the AWS CLI does):
 * quietly falling back to the system's CAs would hide a misconfigured proxy. */
static int ca_bundle_resolve(const struct aws_config *cfg, char *out, size_t outlen, char *err, size_t errlen)
{
	const char *what = "AWS_CA_BUNDLE", *v = aws_config_env(cfg, "AWS_CA_BUNDLE");
	FILE *f;

	out[0] = '\0';
	if (!v) {
		what = "ca_bundle (config file)";
		v = aws_config_get(cfg, "ca_bundle");
	}
	if (!v || !*v)
		return 0;
	if (strlen(v) >= outlen) {
		snprintf(err, errlen, "%s: path too long", what);
		return -1;
	}
	if (!(f = fopen(v, "r"))) {
		snprintf(err, errlen, "%s: cannot read %s: %s", what, v, strerror(errno));
		return -1;
	}
	fclose(f);
	snprintf(out, outlen, "%s", v);
	return 0;
}

struct aws_client *aws_client_new(const struct aws_client_options *o, char *err, size_t errlen)
{
	struct aws_client *c = calloc(1, sizeof *c);
	struct aws_config_input in;
	double now = mono_now();

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->opt = *o;
	if (!c->opt.env)
		c->opt.env = aws_config_getenv;
	if (!(c->opt.backoff_scale > 0))
		c->opt.backoff_scale = 1.0;
	if (aws_config_files_load(&c->files, c->opt.env, c->opt.env_arg, err, errlen) < 0)
		goto fail;
	memset(&in, 0, sizeof in);
	in.env = c->opt.env;
	in.env_arg = c->opt.env_arg;
	in.config = c->files.config;
	in.credentials = c->files.credentials;
	in.config_path = c->files.config_path;
	in.credentials_path = c->files.credentials_path;
	in.cli_profile = o->profile;
	in.cli_region = o->region;
	in.cli_endpoint = o->endpoint_url;
	if (aws_config_resolve(&in, &c->cfg, err, errlen) < 0)
		goto fail;
	if (ca_bundle_resolve(&c->cfg, c->ca_bundle, sizeof c->ca_bundle, err, errlen) < 0)
		goto fail;
	if (aws_chain_io_default(&c->io) < 0 || !(c->http = aws_http_new())) {
		snprintf(err, errlen, "cannot create an HTTP handle");
		goto fail;
	}
	if (!(c->chain = aws_chain_new(&c->cfg, &c->io))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	aws_retry_quota_init(&c->quota);
	for (int i = 0; i < AWS_RL_N; i++) {
		double rate, burst;
		aws_retry_category_limits((enum aws_ratelimit_category)i, &rate, &burst);
		aws_bucket_init(&c->buckets[i], rate, burst, now);
	}
	return c;
fail:
	aws_client_free(c);
	return NULL;
}

void aws_client_free(struct aws_client *c)
{
	if (!c)
		return;
	aws_chain_free(c->chain);
	if (c->io.arg)
		aws_chain_io_default_free(&c->io);
	aws_http_free(c->http);
	aws_config_files_clear(&c->files);
	free(c);
}

const struct aws_config *aws_client_config(const struct aws_client *c)
{
	return &c->cfg;
}

void aws_result_clear(struct aws_result *r)
{
	if (!r)
		return;
	free(r->body);
	memset(r, 0, sizeof *r);
}

/* "host[:port]" of an endpoint URL, the default port dropped as botocore does. */
static int host_of(const char *url, char *host, size_t cap)
{
	const char *h = strstr(url, "://");
	size_t n;
	int https = strncasecmp(url, "https", 5) == 0;

	if (!h)
		return -1;
	h += 3;
	n = strcspn(h, "/?#");
	if (n == 0 || n >= cap)
		return -1;
	memcpy(host, h, n);
	host[n] = '\0';
	if (strchr(host, '@'))
		return -1; /* no user info in endpoint URLs */
	n = strlen(host);
	if (!https && n > 3 && strcmp(host + n - 3, ":80") == 0)
		host[n - 3] = '\0';
	if (https && n > 4 && strcmp(host + n - 4, ":443") == 0)
		host[n - 4] = '\0';
	return 0;
}

static bool auth_code(const char *code)
{
	static const char *const codes[] = {"RequestTimeTooSkewed", "RequestExpired", "RequestInTheFuture",
	                                    "InvalidSignatureException", "SignatureDoesNotMatch", "AuthFailure"};

	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
		if (strcmp(code, codes[i]) == 0)
			return true;
	return false;
}

static void transport_error(struct aws_error *e, const struct aws_http_response *resp)
{
	switch (resp->outcome) {
	case AWS_HTTP_CONNECT:
		aws_error_transport(e, "ConnectionError", resp->error, false);
		break;
	case AWS_HTTP_TIMEOUT:
		aws_error_transport(e, "Timeout", resp->error, true);
		break;
	case AWS_HTTP_BROKEN:
		aws_error_transport(e, "ConnectionReset", resp->error, false);
		break;
	case AWS_HTTP_TOO_LARGE:
		aws_error_client(e, "ResponseTooLarge", resp->error);
		break;
	default:
		aws_error_client(e, "ClientError", resp->error);
		break;
	}
}

int aws_client_call(struct aws_client *c, const struct aws_call *call, struct aws_result *r)
{
	const struct aws_service *svc = aws_service_find(call->service);
	char endpoint[1024], region[64], host[512], url[4096], err[512], shown[1100];
	struct aws_http_header hdrs[MAX_EXTRA_HEADERS + 1 + SIGV4_MAX_ADDED];
	struct sigv4_header shdrs[MAX_EXTRA_HEADERS + 1];
	struct aws_creds creds;
	enum aws_ratelimit_category cat;
	bool skew_retried = false, token_retried = false;
	int quota_taken = 0, rc = -1;
	unsigned attempt = 0;
	const char *path = call->path && *call->path ? call->path : "/";

	memset(r, 0, sizeof *r);
	memset(&creds, 0, sizeof creds);
	if (!svc) {
		snprintf(err, sizeof err, "unknown service '%.64s' (known: %s)", call->service, aws_service_names());
		aws_error_client(&r->error, "UnknownService", err);
		return -1;
	}
	if (call->n_headers > MAX_EXTRA_HEADERS) {
		aws_error_client(&r->error, "ClientError", "too many request headers");
		return -1;
	}
	if (aws_config_endpoint(&c->cfg, svc, endpoint, sizeof endpoint, region, sizeof region, err, sizeof err) < 0) {
		aws_error_client(&r->error, "ConfigurationError", err);
		return -1;
	}
	if (host_of(endpoint, host, sizeof host) < 0 ||
	    snprintf(url, sizeof url, "%s%s%s%s", endpoint, path, call->query && *call->query ? "?" : "",
	             call->query ? call->query : "") >= (int)sizeof url) {
		aws_error_client(&r->error, "ConfigurationError", "endpoint URL or request path not usable");
		return -1;
	}
	snprintf(shown, sizeof shown, "%s%s", endpoint, path);
	cat = aws_retry_category(svc->name, call->operation ? call->operation : "");
	if (cat != AWS_RL_NONE) {
		double wait = aws_bucket_take(&c->buckets[cat], mono_now());
		if (wait > 0) {
			debugf(c, "aws: %s %s: client-side rate limit, waiting %.3f s", svc->name, call->operation, wait);
			sleep_s(wait * c->opt.backoff_scale);
		}
	}

	for (;;) {
		struct sigv4_request srq;
		struct sigv4_params sp;
		struct sigv4_out so;
		struct aws_http_request hrq;
		struct aws_http_response resp;
		size_t nh = 0;
		time_t now;
		enum aws_retry_kind kind;
		long long server;

		attempt++;
		r->attempts = attempt;
		now = time(NULL);
		if (aws_chain_get(c->chain, now, &creds, err, sizeof err) < 0) {
			aws_error_client(&r->error, "NoCredentials", err);
			goto done;
		}
		shdrs[nh].name = "Host";
		shdrs[nh++].value = host;
		for (size_t i = 0; i < call->n_headers; i++) {
			shdrs[nh].name = call->headers[i].name;
			shdrs[nh++].value = call->headers[i].value;
		}
		memset(&srq, 0, sizeof srq);
		srq.method = call->method;
		srq.path = path;
		srq.query = call->query;
		srq.headers = shdrs;
		srq.n_headers = nh;
		srq.body = call->body;
		srq.body_len = call->body_len;
		srq.payload_hash = call->unsigned_payload ? "UNSIGNED-PAYLOAD" : NULL;
		memset(&sp, 0, sizeof sp);
		sp.access_key = creds.access_key;
		sp.secret_key = creds.secret_key;
		sp.session_token = creds.token[0] ? creds.token : NULL;
		sp.region = region;
		sp.service = svc->signing_name;
		sp.when = now + (time_t)c->skew;
		sp.s3 = strcmp(svc->signing_name, "s3") == 0;
		memset(&so, 0, sizeof so);
		if (sigv4_sign(&srq, &sp, &so) < 0) {
			snprintf(err, sizeof err, "cannot sign the request: %s", so.error);
			sigv4_out_clear(&so);
			aws_error_client(&r->error, "SigningError", err);
			goto done;
		}
		if (c->opt.debug) {
			/* The canonical request and string to sign, token redacted: to compare with what a
			 * SignatureDoesNotMatch answer says AWS computed. */
			char *dbg = sigv4_debug_text(&so), *line = dbg, *nl;
			while (line && *line) {
				nl = strchr(line, '\n');
				if (nl)
					*nl = '\0';
				debugf(c, "aws: signing: %s", line); /* empty lines kept: they are structure */
				line = nl ? nl + 1 : NULL;
			}
			free(dbg);
		}
		for (size_t i = 0; i < nh; i++) {
			hdrs[i].name = shdrs[i].name;
			hdrs[i].value = shdrs[i].value;
		}
		for (size_t i = 0; i < so.n_added; i++) {
			hdrs[nh].name = so.added[i].name;
			hdrs[nh++].value = so.added[i].value;
		}
		memset(&hrq, 0, sizeof hrq);
		hrq.method = call->method;
		hrq.url = url;
		hrq.headers = hdrs;
		hrq.n_headers = nh;
		hrq.body = call->body;
		hrq.body_len = call->body_len;
		hrq.connect_timeout_ms = c->opt.connect_timeout_ms;
		hrq.timeout_ms = c->opt.timeout_ms;
		hrq.ca_file = c->ca_bundle[0] ? c->ca_bundle : NULL;
		aws_http_perform(c->http, &hrq, &resp);
		sigv4_out_clear(&so);
		aws_creds_wipe(&creds);

		if (resp.outcome == AWS_HTTP_OK && resp.status >= 200 && resp.status < 300) {
			r->status = resp.status;
			r->body = malloc(resp.len + 1);
			if (!r->body) {
				aws_error_client(&r->error, "ClientError", "out of memory");
				goto done;
			}
			memcpy(r->body, resp.body, resp.len);
			r->body[resp.len] = '\0';
			r->len = resp.len;
			snprintf(r->request_id, sizeof r->request_id, "%s", resp.request_id);
			aws_retry_quota_release(&c->quota, quota_taken);
			debugf(c, "aws: attempt %u: %s %s -> HTTP %ld", attempt, call->method, shown, resp.status);
			rc = 0;
			goto done;
		}
		if (resp.outcome == AWS_HTTP_OK) {
			aws_error_from_response(&r->error, resp.status, resp.content_type, resp.request_id,
			                        resp.error_type, resp.body, resp.len);
		} else {
			transport_error(&r->error, &resp);
		}
		if (r->error.status)
			debugf(c, "aws: attempt %u: %s %s -> HTTP %ld %s", attempt, call->method, shown, r->error.status,
			       r->error.code);
		else
			debugf(c, "aws: attempt %u: %s %s -> no answer: %s", attempt, call->method, shown, r->error.code);

		/* Clock skew: correct by the server's Date and retry once. */
		server = resp.outcome == AWS_HTTP_OK && resp.date[0] ? aws_error_parse_http_date(resp.date) : -1;
		if (!skew_retried && server > 0 && auth_code(r->error.code) &&
		    (aws_error_is_skew(&r->error) || llabs(server - (long long)(now + c->skew)) > SKEW_LIMIT_S)) {
			c->skew = server - (long long)time(NULL);
			skew_retried = true;
			r->skew_corrected = true;
			debugf(c, "aws: clock skew: the server's clock is %+lld s from ours; retrying once", c->skew);
			attempt--; /* the corrected retry does not use up an attempt */
			r->attempts = attempt;
			continue;
		}
		/* A session token AWS calls expired before its time: fresh credentials, once. */
		if (!token_retried && (strcmp(r->error.code, "ExpiredToken") == 0 ||
		                       strcmp(r->error.code, "ExpiredTokenException") == 0) &&
		    aws_chain_invalidate(c->chain)) {
			token_retried = true;
			debugf(c, "aws: %s: refreshing the temporary credentials and retrying once", r->error.code);
			attempt--;
			r->attempts = attempt;
			continue;
		}
		kind = aws_retry_classify(&r->error);
		if (kind == AWS_RETRY_NO)
			goto done;
		if (attempt >= c->cfg.max_attempts) {
			debugf(c, "aws: giving up after %u attempts (max_attempts %u)", attempt, c->cfg.max_attempts);
			goto done;
		}
		if (aws_retry_quota_acquire(&c->quota, kind, &quota_taken) < 0) {
			debugf(c, "aws: retry quota spent (%d of %d left): not retrying", c->quota.available, c->quota.capacity);
			goto done;
		}
		{
			double b = aws_retry_backoff(attempt, random01());
			double cap = aws_retry_backoff(attempt, 0.999999);
			debugf(c, "aws: retry %u: %s, backoff %.3f s (cap %.1f s), quota %d", attempt,
			       kind == AWS_RETRY_THROTTLE ? "throttled" : kind == AWS_RETRY_TIMEOUT ? "timeout" : "transient",
			       b, cap, c->quota.available);
			if (cat != AWS_RL_NONE)
				aws_bucket_take(&c->buckets[cat], mono_now());
			sleep_s(b * c->opt.backoff_scale);
		}
	}
done:
	aws_creds_wipe(&creds);
	if (rc < 0 && !r->error.code[0])
		aws_error_client(&r->error, "ClientError", "the call failed without a reason (a bug)");
	return rc;
}

int aws_client_json(struct aws_client *c, const char *service, const char *operation, json_t *input,
                    json_t **output, struct aws_result *r)
{
	const struct aws_service *svc = aws_service_find(service);
	char target[256];
	char *body = NULL;
	struct aws_http_header h[2];
	struct aws_call call;
	json_error_t jerr;
	int rc;

	*output = NULL;
	memset(r, 0, sizeof *r);
	if (!svc || svc->protocol != AWS_PROTO_JSON11) {
		char m[256];
		snprintf(m, sizeof m, "%.64s is not a JSON 1.1 service (JSON services: ecs, ecr, logs)", service);
		aws_error_client(&r->error, "UnknownService", m);
		return -1;
	}
	snprintf(target, sizeof target, "%s.%s", svc->target_prefix, operation);
	body = input ? json_dumps(input, JSON_COMPACT) : strdup("{}");
	if (!body) {
		aws_error_client(&r->error, "ClientError", "input: cannot encode");
		return -1;
	}
	h[0].name = "Content-Type";
	h[0].value = "application/x-amz-json-1.1";
	h[1].name = "X-Amz-Target";
	h[1].value = target;
	memset(&call, 0, sizeof call);
	call.service = svc->name;
	call.operation = operation;
	call.method = "POST";
	call.path = "/";
	call.headers = h;
	call.n_headers = 2;
	call.body = body;
	call.body_len = strlen(body);
	rc = aws_client_call(c, &call, r);
	free(body);
	if (rc < 0)
		return -1;
	*output = r->len ? json_loadb(r->body, r->len, 0, &jerr) : json_object();
	if (!json_is_object(*output)) {
		char m[300];
		snprintf(m, sizeof m, "HTTP %ld answer is not a JSON object (%zu bytes)%s%s", r->status, r->len,
		         *output ? "" : ": ", *output ? "" : jerr.text);
		json_decref(*output);
		*output = NULL;
		aws_error_client(&r->error, "MalformedResponse", m);
		snprintf(r->error.request_id, sizeof r->error.request_id, "%s", r->request_id);
		return -1;
	}
	return 0;
}
