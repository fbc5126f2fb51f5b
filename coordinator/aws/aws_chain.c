/* aws_chain — see aws_chain.h. */
#include "aws_chain.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "aws_http.h"

enum provider { P_NONE, P_ENV, P_SHARED, P_CONFIG, P_CONTAINER, P_IMDS };

struct aws_chain {
	const struct aws_config *cfg;
	struct aws_chain_io io;
	struct aws_creds cur;
	int have;
	enum provider prov;
	time_t next_try;
	char imds_token[512];
	int imds_have_token; /* 1 token, 0 none yet, -1 IMDSv1 (the token PUT is not supported) */
	time_t imds_token_time;
	unsigned fetches, failed;
};

struct aws_chain *aws_chain_new(const struct aws_config *cfg, const struct aws_chain_io *io)
{
	struct aws_chain *ch = calloc(1, sizeof *ch);

	if (!ch)
		return NULL;
	ch->cfg = cfg;
	ch->io = *io;
	return ch;
}

void aws_chain_free(struct aws_chain *ch)
{
	if (!ch)
		return;
	OPENSSL_cleanse(ch, sizeof *ch);
	free(ch);
}

unsigned aws_chain_fetches(const struct aws_chain *ch)
{
	return ch->fetches;
}

unsigned aws_chain_failed_refreshes(const struct aws_chain *ch)
{
	return ch->failed;
}

static void note(char *notes, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void note(char *notes, size_t cap, const char *fmt, ...)
{
	size_t n = strlen(notes);
	va_list ap;

	if (n + 3 >= cap)
		return;
	if (n)
		snprintf(notes + n, cap - n, "; ");
	n = strlen(notes);
	va_start(ap, fmt);
	vsnprintf(notes + n, cap - n, fmt, ap);
	va_end(ap);
}

static int truthy(const char *v)
{
	return v && strcasecmp(v, "true") == 0;
}

static void trim_end(char *s)
{
	size_t n = strlen(s);

	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

/* ---- ECS container credentials ---- */

/* http only to the container endpoint or loopback, as botocore allows; https anywhere. */
static int container_host_allowed(const char *url)
{
	static const char *const ok[] = {"127.", "localhost", "[::1]", "169.254.170.2", "169.254.170.23",
	                                 "[fd00:ec2::23]"};
	const char *h;
	size_t hl;

	if (strncasecmp(url, "https://", 8) == 0)
		return 1;
	if (strncasecmp(url, "http://", 7) != 0)
		return 0;
	h = url + 7;
	hl = strcspn(h, ":/?#");
	if (h[0] == '[')
		hl = strcspn(h, "]") + 1;
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		size_t k = strlen(ok[i]);
		if (ok[i][k - 1] == '.' ? strncmp(h, ok[i], k) == 0 && hl > k :
		                          hl == k && strncasecmp(h, ok[i], k) == 0)
			return 1;
	}
	return 0;
}

/* The path of a URL for messages (never a query string, which could carry a secret). */
static void url_for_message(const char *url, char *out, size_t cap)
{
	size_t n = strcspn(url, "?#");

	snprintf(out, cap, "%.*s", (int)(n < 200 ? n : 200), url);
}

static int fetch_container(struct aws_chain *ch, struct aws_creds *out, char *err, size_t errlen, char *notes,
                           size_t ncap)
{
	const struct aws_config *cfg = ch->cfg;
	const char *rel = aws_config_env(cfg, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = aws_config_env(cfg, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
	const char *tokfile = aws_config_env(cfg, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	const char *tokenv = aws_config_env(cfg, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
	char url[1024], shown[256], token[4096] = "", body[AWS_CREDS_DOC_MAX], e2[256];
	struct aws_chain_hdr hdr = {"Authorization", token};
	size_t len = 0;
	long status = 0;
	int rc = -1;

	if (!rel && !full) {
		note(notes, ncap, "container credentials: not configured");
		return 0;
	}
	if (rel) {
		if (snprintf(url, sizeof url, "http://169.254.170.2%s%s", rel[0] == '/' ? "" : "/", rel) >= (int)sizeof url) {
			snprintf(err, errlen, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: too long");
			return -1;
		}
	} else {
		if (strlen(full) >= sizeof url) {
			snprintf(err, errlen, "AWS_CONTAINER_CREDENTIALS_FULL_URI: too long");
			return -1;
		}
		if (!container_host_allowed(full)) {
			url_for_message(full, shown, sizeof shown);
			snprintf(err, errlen, "AWS_CONTAINER_CREDENTIALS_FULL_URI: %s: http is allowed only to loopback "
			         "or the ECS/EKS container endpoint; use https otherwise", shown);
			return -1;
		}
		snprintf(url, sizeof url, "%s", full);
	}
	url_for_message(url, shown, sizeof shown);
	if (tokfile) {
		if (ch->io.read_file(ch->io.arg, tokfile, token, sizeof token, &len, e2, sizeof e2) < 0) {
			snprintf(err, errlen, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: %.200s", e2);
			goto done;
		}
		trim_end(token);
	} else if (tokenv) {
		if (strlen(tokenv) >= sizeof token) {
			snprintf(err, errlen, "AWS_CONTAINER_AUTHORIZATION_TOKEN: too long");
			goto done;
		}
		snprintf(token, sizeof token, "%s", tokenv);
	}
	if (strpbrk(token, "\r\n")) {
		snprintf(err, errlen, "%s: the container authorization token holds a line break",
		         tokfile ? "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE" : "AWS_CONTAINER_AUTHORIZATION_TOKEN");
		goto done;
	}
	for (int attempt = 0; attempt < 3; attempt++) {
		ch->fetches++;
		if (ch->io.http(ch->io.arg, "GET", url, &hdr, token[0] ? 1 : 0, 2000, &status, body, sizeof body,
		                &len, e2, sizeof e2) < 0) {
			snprintf(err, errlen, "container credentials: %.200s: %.200s", shown, e2);
			continue;
		}
		if (status >= 500) {
			snprintf(err, errlen, "container credentials: %s: HTTP %ld", shown, status);
			continue;
		}
		if (status != 200) {
			snprintf(err, errlen, "container credentials: %s: HTTP %ld%s", shown, status,
			         status == 401 || status == 403 ? " (authorization token refused)" : "");
			goto done;
		}
		if (aws_creds_parse_document(body, len, out, e2, sizeof e2) < 0) {
			snprintf(err, errlen, "container credentials: %.200s: %.200s", shown, e2);
			goto done;
		}
		snprintf(out->source, sizeof out->source, "container-role");
		rc = 1;
		goto done;
	}
done:
	OPENSSL_cleanse(token, sizeof token);
	OPENSSL_cleanse(body, sizeof body);
	return rc;
}

/* ---- EC2 instance metadata (IMDSv2) ---- */

static void imds_base(const struct aws_config *cfg, char *out, size_t cap)
{
	const char *v = aws_config_env(cfg, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
	size_t n;

	if (!v)
		v = aws_config_get(cfg, "ec2_metadata_service_endpoint");
	if (!v)
		v = "http://169.254.169.254";
	snprintf(out, cap, "%s", v);
	n = strlen(out);
	while (n && out[n - 1] == '/')
		out[--n] = '\0';
}

static long imds_timeout_ms(const struct aws_config *cfg)
{
	const char *v = aws_config_env(cfg, "AWS_METADATA_SERVICE_TIMEOUT");
	double s;

	if (!v)
		v = aws_config_get(cfg, "metadata_service_timeout");
	s = v ? strtod(v, NULL) : 1.0;
	if (!(s > 0) || s > 60)
		s = 1.0;
	return (long)(s * 1000);
}

/* 0 token (or IMDSv1) ready, 1 IMDS absent (transport failure), -1 error. */
static int imds_token(struct aws_chain *ch, const char *base, time_t now, int force, char *err, size_t errlen)
{
	char url[1100], body[600], e2[256];
	struct aws_chain_hdr ttl = {"X-aws-ec2-metadata-token-ttl-seconds", "21600"};
	long status = 0;
	size_t len = 0;

	if (!force && ch->imds_have_token && (ch->imds_have_token < 0 ||
	                                      now - ch->imds_token_time < AWS_CHAIN_IMDS_TOKEN_TTL - 60))
		return 0;
	OPENSSL_cleanse(ch->imds_token, sizeof ch->imds_token);
	ch->imds_have_token = 0;
	snprintf(url, sizeof url, "%s/latest/api/token", base);
	ch->fetches++;
	if (ch->io.http(ch->io.arg, "PUT", url, &ttl, 1, imds_timeout_ms(ch->cfg), &status, body, sizeof body,
	                &len, e2, sizeof e2) < 0) {
		snprintf(err, errlen, "instance metadata: %.200s/latest/api/token: %.200s", base, e2);
		return 1;
	}
	if (status == 200 && len > 0 && len < sizeof ch->imds_token) {
		memcpy(ch->imds_token, body, len);
		ch->imds_token[len] = '\0';
		trim_end(ch->imds_token);
		OPENSSL_cleanse(body, sizeof body);
		if (strpbrk(ch->imds_token, "\r\n") || !ch->imds_token[0]) {
			snprintf(err, errlen, "instance metadata: the session token is not one line");
			return -1;
		}
		ch->imds_have_token = 1;
		ch->imds_token_time = now;
		return 0;
	}
	OPENSSL_cleanse(body, sizeof body);
	if (status == 403 || status == 404 || status == 405) {
		ch->imds_have_token = -1; /* IMDSv1 only */
		return 0;
	}
	snprintf(err, errlen, "instance metadata: %s/latest/api/token: HTTP %ld", base, status);
	return -1;
}

/* GET with the token; a 401 fetches a new token once. 0 with body, 1 absent, -1 error. */
static int imds_get(struct aws_chain *ch, const char *base, const char *path, time_t now, char *body,
                    size_t cap, size_t *len, long *status, char *err, size_t errlen)
{
	char url[1400], e2[256];

	snprintf(url, sizeof url, "%s%s", base, path);
	for (int round = 0; round < 2; round++) {
		struct aws_chain_hdr tok = {"X-aws-ec2-metadata-token", ch->imds_token};
		int r = imds_token(ch, base, now, round > 0, err, errlen);
		if (r != 0)
			return r;
		ch->fetches++;
		if (ch->io.http(ch->io.arg, "GET", url, &tok, ch->imds_have_token > 0 ? 1 : 0, imds_timeout_ms(ch->cfg),
		                status, body, cap, len, e2, sizeof e2) < 0) {
			snprintf(err, errlen, "instance metadata: %.200s%.100s: %.200s", base, path, e2);
			return 1;
		}
		if (*status != 401)
			return 0;
	}
	snprintf(err, errlen, "instance metadata: %s%s: HTTP 401 with a fresh session token", base, path);
	return -1;
}

static int fetch_imds(struct aws_chain *ch, time_t now, struct aws_creds *out, char *err, size_t errlen,
                      char *notes, size_t ncap)
{
	const struct aws_config *cfg = ch->cfg;
	char base[1024], role[256], path[512], body[AWS_CREDS_DOC_MAX], e2[1024];
	size_t len = 0;
	long status = 0;
	int r, rc = -1;

	if (truthy(aws_config_env(cfg, "AWS_EC2_METADATA_DISABLED"))) {
		note(notes, ncap, "instance metadata: disabled (AWS_EC2_METADATA_DISABLED=true)");
		return 0;
	}
	imds_base(cfg, base, sizeof base);
	if (strncasecmp(base, "http://", 7) != 0 && strncasecmp(base, "https://", 8) != 0) {
		snprintf(err, errlen, "AWS_EC2_METADATA_SERVICE_ENDPOINT: not an http(s) URL");
		return -1;
	}
	r = imds_get(ch, base, "/latest/meta-data/iam/security-credentials/", now, body, sizeof body, &len,
	             &status, e2, sizeof e2);
	if (r == 1) {
		note(notes, ncap, "%s", e2);
		return 0;
	}
	if (r < 0) {
		snprintf(err, errlen, "%.500s", e2);
		goto done;
	}
	if (status == 404) {
		note(notes, ncap, "instance metadata: no IAM role attached to this instance");
		return 0;
	}
	if (status != 200) {
		snprintf(err, errlen, "instance metadata: %s/latest/meta-data/iam/security-credentials/: HTTP %ld", base, status);
		goto done;
	}
	len = strcspn(body, "\r\n");
	if (len == 0 || len >= sizeof role) {
		snprintf(err, errlen, "instance metadata: no usable role name in the security-credentials listing");
		goto done;
	}
	memcpy(role, body, len);
	role[len] = '\0';
	for (char *p = role; *p; p++)
		if (!(isalnum((unsigned char)*p) || strchr("+=,.@_-", *p))) {
			snprintf(err, errlen, "instance metadata: the role name holds a character IAM never uses");
			goto done;
		}
	snprintf(path, sizeof path, "/latest/meta-data/iam/security-credentials/%s", role);
	r = imds_get(ch, base, path, now, body, sizeof body, &len, &status, e2, sizeof e2);
	if (r != 0) {
		snprintf(err, errlen, "%.500s", e2);
		goto done;
	}
	if (status != 200) {
		snprintf(err, errlen, "instance metadata: %.200s%.200s: HTTP %ld", base, path, status);
		goto done;
	}
	if (aws_creds_parse_document(body, len, out, e2, sizeof e2) < 0) {
		snprintf(err, errlen, "instance metadata: role %.100s: %.200s", role, e2);
		goto done;
	}
	snprintf(out->source, sizeof out->source, "iam-role");
	rc = 1;
done:
	OPENSSL_cleanse(body, sizeof body);
	return rc;
}

/* ---- the chain ---- */

static const char *const unsupported[] = {"role_arn", "credential_process", "sso_start_url", "sso_session",
                                          "web_identity_token_file"};

static int refuse_unsupported(const struct aws_config *cfg, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++) {
		const char *in_cfg = aws_config_get(cfg, unsupported[i]);
		const char *in_creds = aws_ini_get(cfg->in.credentials, cfg->profile, unsupported[i], NULL);
		if (in_cfg || in_creds) {
			snprintf(err, errlen, "profile %s: %s (in %s) is not supported by stagevisor: give the profile "
			         "keys, or run where container or instance credentials apply", cfg->profile,
			         unsupported[i], in_cfg ? "the config file" : "the credentials file");
			return -1;
		}
	}
	if (aws_config_env(cfg, "AWS_WEB_IDENTITY_TOKEN_FILE") && aws_config_env(cfg, "AWS_ROLE_ARN")) {
		snprintf(err, errlen, "AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN (web identity) is not supported by "
		         "stagevisor");
		return -1;
	}
	return 0;
}

static int from_provider(struct aws_chain *ch, enum provider p, time_t now, struct aws_creds *out, char *err,
                         size_t errlen, char *notes, size_t ncap)
{
	const struct aws_config *cfg = ch->cfg;
	const char *cpath = cfg->in.credentials_path ? cfg->in.credentials_path : "credentials file";
	const char *fpath = cfg->in.config_path ? cfg->in.config_path : "config file";
	int r;

	switch (p) {
	case P_ENV:
		if (cfg->profile_explicit) {
			note(notes, ncap, "environment: skipped (--profile given)");
			return 0;
		}
		r = aws_creds_from_env(cfg->in.env, cfg->in.env_arg, out, err, errlen);
		if (r == 0)
			note(notes, ncap, "environment: AWS_ACCESS_KEY_ID not set");
		return r;
	case P_SHARED:
		if (refuse_unsupported(cfg, err, errlen) < 0)
			return -1;
		r = aws_creds_from_ini(cfg->in.credentials, cfg->profile, cpath, out, err, errlen);
		if (r > 0)
			snprintf(out->source, sizeof out->source, "shared-credentials-file");
		else if (r == 0)
			note(notes, ncap, "%.200s: no keys in [%.128s]", cpath, cfg->profile);
		return r;
	case P_CONFIG:
		r = aws_creds_from_ini(cfg->in.config, cfg->config_section, fpath, out, err, errlen);
		if (r > 0)
			snprintf(out->source, sizeof out->source, "config-file");
		else if (r == 0)
			note(notes, ncap, "%.200s: no keys in [%.140s]", fpath, cfg->config_section);
		return r;
	case P_CONTAINER:
		return fetch_container(ch, out, err, errlen, notes, ncap);
	case P_IMDS:
		return fetch_imds(ch, now, out, err, errlen, notes, ncap);
	default:
		return 0;
	}
}

int aws_chain_get(struct aws_chain *ch, time_t now, struct aws_creds *out, char *err, size_t errlen)
{
	char notes[1024] = "", e2[512] = "";
	struct aws_creds fresh;
	int r;

	if (ch->have && (ch->cur.expiration == 0 || now < ch->cur.expiration - AWS_CHAIN_REFRESH_S))
		goto give;
	if (ch->have && now < ch->next_try && now + AWS_CHAIN_MIN_VALID_S < ch->cur.expiration)
		goto give;
	if (ch->have) {
		/* Temporary credentials due for refresh: ask the provider they came from. */
		r = from_provider(ch, ch->prov, now, &fresh, e2, sizeof e2, notes, sizeof notes);
		if (r > 0) {
			ch->cur = fresh;
			aws_creds_wipe(&fresh);
			ch->next_try = 0;
			goto give;
		}
		ch->failed++;
		if (now + AWS_CHAIN_MIN_VALID_S < ch->cur.expiration) {
			/* Still valid: keep them, try again later (on every call in their last 5 minutes). */
			ch->next_try = ch->cur.expiration - now > 300 ? now + AWS_CHAIN_RETRY_S : now;
			goto give;
		}
		snprintf(err, errlen, "credentials from %s expired and refreshing them failed: %.400s", ch->cur.source,
		         r < 0 ? e2 : notes);
		aws_creds_wipe(&ch->cur);
		ch->have = 0;
		return -1;
	}
	for (enum provider p = P_ENV; p <= P_IMDS; p++) {
		r = from_provider(ch, p, now, &fresh, e2, sizeof e2, notes, sizeof notes);
		if (r < 0) {
			snprintf(err, errlen, "%.500s", e2);
			return -1;
		}
		if (r > 0) {
			ch->cur = fresh;
			aws_creds_wipe(&fresh);
			ch->have = 1;
			ch->prov = p;
			if (ch->cur.expiration && ch->cur.expiration <= now + AWS_CHAIN_MIN_VALID_S) {
				snprintf(err, errlen, "credentials from %s are expired or expire within %d s", ch->cur.source,
				         AWS_CHAIN_MIN_VALID_S);
				aws_creds_wipe(&ch->cur);
				ch->have = 0;
				return -1;
			}
			goto give;
		}
	}
	snprintf(err, errlen, "no credentials found (%.900s)", notes);
	return -1;
give:
	*out = ch->cur;
	return 0;
}

/* ---- the real I/O ---- */

static int default_http(void *arg, const char *method, const char *url, const struct aws_chain_hdr *hdrs,
                        size_t nhdrs, long timeout_ms, long *status, char *body, size_t cap, size_t *len,
                        char *err, size_t errlen)
{
	struct aws_http_header h[4];
	struct aws_http_request rq = {.method = method, .url = url, .headers = h, .n_headers = nhdrs,
	                              .connect_timeout_ms = timeout_ms, .timeout_ms = timeout_ms * 2};
	struct aws_http_response resp;

	if (nhdrs > 4)
		return -1;
	for (size_t i = 0; i < nhdrs; i++) {
		h[i].name = hdrs[i].name;
		h[i].value = hdrs[i].value;
	}
	if (aws_http_perform(arg, &rq, &resp) < 0) {
		snprintf(err, errlen, "%s", resp.error);
		return -1;
	}
	*status = resp.status;
	*len = resp.len < cap ? resp.len : cap - 1;
	memcpy(body, resp.body, *len);
	body[*len] = '\0';
	OPENSSL_cleanse(resp.body, resp.len);
	return 0;
}

static int default_read_file(void *arg, const char *path, char *buf, size_t cap, size_t *len, char *err,
                             size_t errlen)
{
	FILE *f = fopen(path, "rb");
	(void)arg;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	*len = fread(buf, 1, cap - 1, f);
	buf[*len] = '\0';
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

int aws_chain_io_default(struct aws_chain_io *io)
{
	io->http = default_http;
	io->read_file = default_read_file;
	io->arg = aws_http_new();
	return io->arg ? 0 : -1;
}

void aws_chain_io_default_free(struct aws_chain_io *io)
{
	aws_http_free(io->arg);
	io->arg = NULL;
}
