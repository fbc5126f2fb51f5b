/* Unit tests of coordinator/aws/aws_chain.c: the credential chain's order, ECS container
 * credentials, IMDSv2 (token, 401 on a stale token, IMDSv1 fallback) and refresh before
 * expiry with failed refreshes retried — environment, files, HTTP and clock all injected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aws_chain.h"
#include "awsfix.h"

#define T0 1796360000 /* 2026-12-04T05:53:20Z */

/* A fake metadata world: the IMDS and the container endpoint behind one function. */
struct world {
	int puts, gets, container_gets;
	long put_status;           /* 200, or 403/404/405 for IMDSv1-only */
	int transport_down;        /* every request fails to connect */
	int stale_once;            /* the first GET with the first token gets 401 */
	int token_no;              /* tokens handed out */
	char last_token_hdr[64];   /* the X-aws-ec2-metadata-token sent, "" none */
	char last_auth[128];       /* the Authorization sent to the container endpoint */
	char last_url[512];
	long creds_status;         /* 200 or an error status for the credentials GET */
	time_t expiration;
	int generation;            /* AccessKeyId ASIA<generation> */
	const char *token_file;
};

static void iso(time_t t, char *out, size_t n)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int fake_http(void *arg, const char *method, const char *url, const struct aws_chain_hdr *hdrs, size_t nhdrs,
                     long timeout_ms, long *status, char *body, size_t cap, size_t *len, char *err, size_t errlen)
{
	struct world *w = arg;
	char exp[40];
	(void)timeout_ms;

	snprintf(w->last_url, sizeof w->last_url, "%s", url);
	if (w->transport_down) {
		snprintf(err, errlen, "Could not connect to server");
		return -1;
	}
	w->last_token_hdr[0] = '\0';
	for (size_t i = 0; i < nhdrs; i++) {
		if (strcmp(hdrs[i].name, "X-aws-ec2-metadata-token") == 0)
			snprintf(w->last_token_hdr, sizeof w->last_token_hdr, "%s", hdrs[i].value);
		if (strcmp(hdrs[i].name, "Authorization") == 0)
			snprintf(w->last_auth, sizeof w->last_auth, "%s", hdrs[i].value);
		if (strcmp(hdrs[i].name, "X-aws-ec2-metadata-token-ttl-seconds") == 0)
			assert_string_equal(hdrs[i].value, "21600");
	}
	*len = 0;
	body[0] = '\0';
	if (strstr(url, "/creds/")) { /* the container endpoint */
		w->container_gets++;
		*status = w->creds_status;
		iso(w->expiration, exp, sizeof exp);
		*len = (size_t)snprintf(body, cap, "{\"AccessKeyId\":\"ASIAC%d\",\"SecretAccessKey\":\"csecret%d\","
		                        "\"Token\":\"ctoken%d\",\"Expiration\":\"%s\"}", w->generation, w->generation,
		                        w->generation, exp);
		return 0;
	}
	if (strcmp(method, "PUT") == 0) {
		assert_non_null(strstr(url, "/latest/api/token"));
		w->puts++;
		*status = w->put_status;
		if (*status == 200)
			*len = (size_t)snprintf(body, cap, "imdstoken%d", ++w->token_no);
		return 0;
	}
	w->gets++;
	if (w->put_status == 200 && strncmp(w->last_token_hdr, "imdstoken", 9) != 0) {
		*status = 401;
		return 0;
	}
	if (w->stale_once && strcmp(w->last_token_hdr, "imdstoken1") == 0) {
		*status = 401;
		return 0;
	}
	if (strstr(url, "/latest/meta-data/iam/security-credentials/ci-role")) {
		*status = w->creds_status;
		iso(w->expiration, exp, sizeof exp);
		*len = (size_t)snprintf(body, cap, "{\"Code\":\"Success\",\"AccessKeyId\":\"ASIA%d\",\"SecretAccessKey\":"
		                        "\"isecret%d\",\"Token\":\"itoken%d\",\"Expiration\":\"%s\"}", w->generation,
		                        w->generation, w->generation, exp);
		return 0;
	}
	if (strstr(url, "/latest/meta-data/iam/security-credentials/")) {
		*status = 200;
		*len = (size_t)snprintf(body, cap, "ci-role\n");
		return 0;
	}
	*status = 404;
	return 0;
}

static int fake_read_file(void *arg, const char *path, char *buf, size_t cap, size_t *len, char *err, size_t errlen)
{
	struct world *w = arg;

	if (!w->token_file || strcmp(path, "/run/token") != 0) {
		snprintf(err, errlen, "%s: No such file or directory", path);
		return -1;
	}
	*len = (size_t)snprintf(buf, cap, "%s", w->token_file);
	return 0;
}

struct fx {
	struct world w;
	struct fake_env env;
	struct aws_ini *config, *creds;
	struct aws_config cfg;
	struct aws_chain *ch;
	struct aws_creds c;
	char err[1200];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	f->w.put_status = 200;
	f->w.creds_status = 200;
	f->w.expiration = T0 + 6 * 3600;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	aws_chain_free(f->ch);
	aws_ini_free(f->config);
	aws_ini_free(f->creds);
	free(f);
	return 0;
}

static void files(struct fx *f, const char *config, const char *creds)
{
	char err[200];
	if (config)
		f->config = aws_ini_parse(config, strlen(config), err, sizeof err);
	if (creds)
		f->creds = aws_ini_parse(creds, strlen(creds), err, sizeof err);
}

static void start(struct fx *f, const char *cli_profile)
{
	struct aws_config_input in = {.env = fake_getenv, .env_arg = &f->env, .config = f->config,
	                              .credentials = f->creds, .config_path = "CFG", .credentials_path = "CREDS",
	                              .cli_profile = cli_profile};
	struct aws_chain_io io = {fake_http, fake_read_file, &f->w};
	assert_int_equal(aws_config_resolve(&in, &f->cfg, f->err, sizeof f->err), 0);
	f->ch = aws_chain_new(&f->cfg, &io);
}

static int get(struct fx *f, time_t now)
{
	f->err[0] = '\0';
	return aws_chain_get(f->ch, now, &f->c, f->err, sizeof f->err);
}

static const char cfg_keys[] = "[default]\naws_access_key_id = CFGAK\naws_secret_access_key = CFGSK\n"
                               "[profile p]\naws_access_key_id = CFGPAK\naws_secret_access_key = CFGPSK\n";
static const char creds_keys[] = "[default]\naws_access_key_id = FILEAK\naws_secret_access_key = FILESK\n";

static void env_first(void **state)
{
	struct fx *f = *state;
	f->env = (struct fake_env){{"AWS_ACCESS_KEY_ID", "ENVAK", "AWS_SECRET_ACCESS_KEY", "ENVSK",
	                            "AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1", NULL}};
	files(f, cfg_keys, creds_keys);
	start(f, NULL);
	assert_int_equal(get(f, T0), 0);
	assert_string_equal(f->c.access_key, "ENVAK");
	assert_string_equal(f->c.source, "environment");
	assert_int_equal(f->w.puts + f->w.gets, 0);
}

static void profile_flag_skips_env(void **state)
{
	struct fx *f = *state;
	/* --profile p: the environment's keys give way (botocore), AWS_PROFILE would not */
	f->env = (struct fake_env){{"AWS_ACCESS_KEY_ID", "ENVAK", "AWS_SECRET_ACCESS_KEY", "ENVSK", NULL}};
	files(f, cfg_keys, creds_keys);
	start(f, "p");
	assert_int_equal(get(f, T0), 0);
	assert_string_equal(f->c.access_key, "CFGPAK");
	assert_string_equal(f->c.source, "config-file");
}

static void aws_profile_keeps_env(void **state)
{
	struct fx *f = *state;
	f->env = (struct fake_env){{"AWS_ACCESS_KEY_ID", "ENVAK", "AWS_SECRET_ACCESS_KEY", "ENVSK", "AWS_PROFILE", "p", NULL}};
	files(f, cfg_keys, creds_keys);
	start(f, NULL);
	assert_int_equal(get(f, T0), 0);
	assert_string_equal(f->c.access_key, "ENVAK");
}

static void credentials_file_before_config_file(void **state)
{
	struct fx *f = *state;
	f->env = (struct fake_env){{"AWS_EC2_METADATA_DISABLED", "true", NULL}};
	files(f, cfg_keys, creds_keys);
	start(f, NULL);
	assert_int_equal(get(f, T0), 0);
	assert_string_equal(f->c.access_key, "FILEAK");
	assert_string_equal(f->c.secret_key, "FILESK");
	assert_string_equal(f->c.source, "shared-credentials-file");
}

static void config_file_when_credentials_file_has_none(void **state)
{
	struct fx *f = *state;
	f->env = (struct fake_env){{"AWS_EC2_METADATA_DISABLED", "true", NULL}};
	files(f, cfg_keys, "[other]\naws_access_key_id = X\naws_secret_access_key = Y\n");
	start(f, NULL);
	assert_int_equal(get(f, T0), 0);
	assert_string_equal(f->c.access_key, "CFGAK");
}

static void container_before_imds(void **state)
{
	struct fx *f = *state;
	f->env = (struct fake_env){{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/creds/x",
	                            "AWS_CONTAINER_AUTHORIZATION_TOKEN", "envtoken",
	                            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/run/token",
	                            "AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1", NULL}};
	f->w.token_file = "filetoken\n";
	start(f, NULL);
	assert_int_equal(get(f, T0), 0);
	assert_string_equal(f->c.access_key, "ASIAC0");
	assert_string_equal(f->c.token, "ctoken0");
	assert_string_equal(f->c.source, "container-role");
	assert_int_equal(f->c.expiration, T0 + 6 * 3600);
	/* the token file wins over the variable, its line break trimmed */
	assert_string_equal(f->w.last_auth, "filetoken");
	assert_int_equal(f->w.puts + f->w.gets, 0);
}

static void container_relative_uri(void **state)
{
	struct fx *f = *state;
	f->env = (struct fake_env){{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/creds/abc", NULL}};
	start(f, NULL);
	assert_int_equal(get(f, T0), 0);
	assert_string_equal(f->w.last_url, "http://169.254.170.2/creds/abc");
	assert_string_equal(f->w.last_auth, "");
}

static void container_full_uri_rules(void **state)
{
	struct fx *f = *state;
	f->env = (struct fake_env){{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com/creds/x", NULL}};
	start(f, NULL);
	assert_int_equal(get(f, T0), -1);
	assert_string_equal(f->err, "AWS_CONTAINER_CREDENTIALS_FULL_URI: http://example.com/creds/x: http is allowed "
	                            "only to loopback or the ECS/EKS container endpoint; use https otherwise");
	assert_int_equal(f->w.container_gets, 0);
}

static void container_refused_token(void **state)
{
	struct fx *f = *state;
	f->env = (struct fake_env){{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://localhost:9/creds/x?secret=1",
	                            "AWS_CONTAINER_AUTHORIZATION_TOKEN", "sekrit-token", NULL}};
	f->w.creds_status = 403;
	start(f, NULL);
	assert_int_equal(get(f, T0), -1);
	assert_string_equal(f->err, "container credentials: http://localhost:9/creds/x: HTTP 403 (authorization token refused)");
	assert_null(strstr(f->err, "sekrit"));
}

static void imdsv2(void **state)
{
	struct fx *f = *state;
	f->env = (struct fake_env){{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:8/", NULL}};
	start(f, NULL);
	assert_int_equal(get(f, T0), 0);
	assert_string_equal(f->c.access_key, "ASIA0");
	assert_string_equal(f->c.secret_key, "isecret0");
	assert_string_equal(f->c.source, "iam-role");
	assert_int_equal(f->w.puts, 1);
	assert_int_equal(f->w.gets, 2);
	assert_string_equal(f->w.last_token_hdr, "imdstoken1");
	assert_string_equal(f->w.last_url, "http://127.0.0.1:8/latest/meta-data/iam/security-credentials/ci-role");
	assert_int_equal(aws_chain_fetches(f->ch), 3);
}

static void imds_stale_token_gets_a_new_one(void **state)
{
	struct fx *f = *state;
	f->env = (struct fake_env){{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:8", NULL}};
	f->w.stale_once = 1;
	start(f, NULL);
	assert_int_equal(get(f, T0), 0);
	assert_string_equal(f->c.access_key, "ASIA0");
	assert_int_equal(f->w.puts, 2);
	assert_string_equal(f->w.last_token_hdr, "imdstoken2");
}

static void imdsv1_fallback(void **state)
{
	struct fx *f = *state;
	f->env = (struct fake_env){{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:8", NULL}};
	f->w.put_status = 404;
	start(f, NULL);
	assert_int_equal(get(f, T0), 0);
	assert_string_equal(f->w.last_token_hdr, "");
	assert_string_equal(f->c.access_key, "ASIA0");
}

static void nothing_found_says_what_was_tried(void **state)
{
	struct fx *f = *state;
	f->env = (struct fake_env){{"AWS_EC2_METADATA_DISABLED", "TRUE", NULL}};
	start(f, NULL);
	assert_int_equal(get(f, T0), -1);
	assert_string_equal(f->err, "no credentials found (environment: AWS_ACCESS_KEY_ID not set; CREDS: no keys in "
	                            "[default]; CFG: no keys in [default]; container credentials: not configured; "
	                            "instance metadata: disabled (AWS_EC2_METADATA_DISABLED=true))");
	assert_int_equal(f->w.puts + f->w.gets, 0);
}

static void imds_unreachable_is_absent(void **state)
{
	struct fx *f = *state;
	f->env = (struct fake_env){{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:8", NULL}};
	f->w.transport_down = 1;
	start(f, NULL);
	assert_int_equal(get(f, T0), -1);
	assert_non_null(strstr(f->err, "instance metadata: http://127.0.0.1:8/latest/api/token: Could not connect"));
}

static void assume_role_refused(void **state)
{
	struct fx *f = *state;
	f->env = (struct fake_env){{"AWS_PROFILE", "r", NULL}};
	files(f, "[profile r]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = default\n", NULL);
	start(f, NULL);
	assert_int_equal(get(f, T0), -1);
	assert_non_null(strstr(f->err, "profile r: role_arn (in the config file) is not supported"));
}

static void refresh_before_expiry(void **state)
{
	struct fx *f = *state;
	time_t exp = T0 + 3600;
	f->env = (struct fake_env){{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:8", NULL}};
	f->w.expiration = exp;
	start(f, NULL);
	assert_int_equal(get(f, T0), 0);
	assert_string_equal(f->c.access_key, "ASIA0");
	/* well before the refresh window: cached, nothing fetched */
	assert_int_equal(get(f, exp - AWS_CHAIN_REFRESH_S - 1), 0);
	assert_int_equal(f->w.gets, 2);
	/* in the window: refreshed from the same provider, the IMDS token reused */
	f->w.generation = 1;
	f->w.expiration = exp + 3600;
	assert_int_equal(get(f, exp - AWS_CHAIN_REFRESH_S + 1), 0);
	assert_string_equal(f->c.access_key, "ASIA1");
	assert_int_equal(f->c.expiration, exp + 3600);
	assert_int_equal(f->w.puts, 1);
	assert_int_equal(f->w.gets, 4);
}

static void failed_refresh_keeps_valid_credentials(void **state)
{
	struct fx *f = *state;
	time_t exp = T0 + 3600, t;
	f->env = (struct fake_env){{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/creds/x", NULL}};
	f->w.expiration = exp;
	start(f, NULL);
	assert_int_equal(get(f, T0), 0);
	assert_int_equal(f->w.container_gets, 1);
	/* the refresh fails (3 tries against a 500): the old credentials stay in use */
	f->w.creds_status = 500;
	t = exp - AWS_CHAIN_REFRESH_S + 10;
	assert_int_equal(get(f, t), 0);
	assert_string_equal(f->c.access_key, "ASIAC0");
	assert_int_equal(f->w.container_gets, 4);
	assert_int_equal(aws_chain_failed_refreshes(f->ch), 1);
	/* not tried again at once ... */
	assert_int_equal(get(f, t + 5), 0);
	assert_int_equal(f->w.container_gets, 4);
	/* ... but after the retry interval, and then it works */
	f->w.creds_status = 200;
	f->w.generation = 1;
	f->w.expiration = exp + 3600;
	assert_int_equal(get(f, t + AWS_CHAIN_RETRY_S + 1), 0);
	assert_string_equal(f->c.access_key, "ASIAC1");
	assert_int_equal(f->w.container_gets, 5);
}

static void failed_refresh_after_expiry_is_fatal(void **state)
{
	struct fx *f = *state;
	time_t exp = T0 + 3600;
	f->env = (struct fake_env){{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/creds/x", NULL}};
	f->w.expiration = exp;
	start(f, NULL);
	assert_int_equal(get(f, T0), 0);
	f->w.creds_status = 500;
	/* in the last five minutes every call tries again */
	assert_int_equal(get(f, exp - 200), 0);
	assert_int_equal(get(f, exp - 190), 0);
	assert_int_equal(aws_chain_failed_refreshes(f->ch), 2);
	assert_int_equal(get(f, exp - 30), -1);
	assert_string_equal(f->err, "credentials from container-role expired and refreshing them failed: container "
	                            "credentials: http://127.0.0.1:9/creds/x: HTTP 500");
	assert_null(strstr(f->err, "csecret"));
	/* and a later success recovers */
	f->w.creds_status = 200;
	f->w.expiration = exp + 7200;
	assert_int_equal(get(f, exp + 10), 0);
}

static void already_expired_refused(void **state)
{
	struct fx *f = *state;
	f->env = (struct fake_env){{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/creds/x", NULL}};
	f->w.expiration = T0 - 10;
	start(f, NULL);
	assert_int_equal(get(f, T0), -1);
	assert_string_equal(f->err, "credentials from container-role are expired or expire within 60 s");
}

int main(void)
{
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(env_first), T(profile_flag_skips_env), T(aws_profile_keeps_env),
		T(credentials_file_before_config_file), T(config_file_when_credentials_file_has_none),
		T(container_before_imds), T(container_relative_uri), T(container_full_uri_rules),
		T(container_refused_token), T(imdsv2), T(imds_stale_token_gets_a_new_one), T(imdsv1_fallback),
		T(nothing_found_says_what_was_tried), T(imds_unreachable_is_absent), T(assume_role_refused),
		T(refresh_before_expiry), T(failed_refresh_keeps_valid_credentials),
		T(failed_refresh_after_expiry_is_fatal), T(already_expired_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
