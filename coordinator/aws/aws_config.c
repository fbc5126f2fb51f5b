/* aws_config — see aws_config.h. */
#include "aws_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *aws_config_env(const struct aws_config *cfg, const char *name)
{
	const char *v = cfg->in.env ? cfg->in.env(cfg->in.env_arg, name) : NULL;

	return v && *v ? v : NULL;
}

static const char *in_env(const struct aws_config_input *in, const char *name)
{
	const char *v = in->env ? in->env(in->env_arg, name) : NULL;

	return v && *v ? v : NULL;
}

const char *aws_config_get(const struct aws_config *cfg, const char *key)
{
	const char *v = aws_ini_get(cfg->in.config, cfg->config_section, key, NULL);

	return v && *v ? v : NULL;
}

static int valid_region(const char *r)
{
	size_t n = strlen(r);

	if (n == 0 || n >= 64)
		return 0;
	for (; *r; r++)
		if (!(isalnum((unsigned char)*r) || *r == '-'))
			return 0;
	return 1;
}

int aws_config_resolve(const struct aws_config_input *in, struct aws_config *cfg, char *err, size_t errlen)
{
	const char *profile = in->cli_profile, *v, *what;

	memset(cfg, 0, sizeof *cfg);
	cfg->in = *in;
	cfg->profile_explicit = profile != NULL;
	if (!profile)
		profile = in_env(in, "AWS_PROFILE");
	if (!profile)
		profile = in_env(in, "AWS_DEFAULT_PROFILE");
	if (!profile || !*profile)
		profile = "default";
	if (strlen(profile) >= sizeof cfg->profile || strpbrk(profile, "[]\n")) {
		snprintf(err, errlen, "profile: not a profile name: %.64s", profile);
		return -1;
	}
	snprintf(cfg->profile, sizeof cfg->profile, "%s", profile);
	if (strcmp(profile, "default") == 0 && !aws_ini_has_section(in->config, "default") &&
	    aws_ini_has_section(in->config, "profile default"))
		snprintf(cfg->config_section, sizeof cfg->config_section, "profile default");
	else if (strcmp(profile, "default") == 0)
		snprintf(cfg->config_section, sizeof cfg->config_section, "default");
	else
		snprintf(cfg->config_section, sizeof cfg->config_section, "profile %s", profile);
	if (strcmp(profile, "default") != 0 && !aws_ini_has_section(in->config, cfg->config_section) &&
	    !aws_ini_has_section(in->credentials, profile)) {
		snprintf(err, errlen, "profile %s: not found in %s nor in %s (sections [profile %s] and [%s])",
		         profile, in->config_path ? in->config_path : "the config file",
		         in->credentials_path ? in->credentials_path : "the credentials file", profile, profile);
		return -1;
	}

	what = "--region";
	v = in->cli_region;
	if (!v && (v = in_env(in, "AWS_REGION")))
		what = "AWS_REGION";
	if (!v && (v = in_env(in, "AWS_DEFAULT_REGION")))
		what = "AWS_DEFAULT_REGION";
	if (!v && (v = aws_config_get(cfg, "region")))
		what = "region (config file)";
	if (v) {
		if (!valid_region(v)) {
			/* Only the first line is shown: a continuation line could hold a key. */
			snprintf(err, errlen, "%s: not a region name: '%.*s'%s", what, (int)strcspn(v, "\r\n") > 64 ? 64 :
			         (int)strcspn(v, "\r\n"), v, strpbrk(v, "\r\n") ? " (followed by an indented line)" : "");
			return -1;
		}
		snprintf(cfg->region, sizeof cfg->region, "%s", v);
	}

	cfg->max_attempts = AWS_MAX_ATTEMPTS_DEFAULT;
	what = "AWS_MAX_ATTEMPTS";
	v = in_env(in, "AWS_MAX_ATTEMPTS");
	if (!v && (v = aws_config_get(cfg, "max_attempts")))
		what = "max_attempts (config file)";
	if (v) {
		char *end;
		long n;
		errno = 0;
		n = strtol(v, &end, 10);
		if (errno || end == v || *end || n < 1 || n > AWS_MAX_ATTEMPTS_LIMIT) {
			snprintf(err, errlen, "%s: not a number of attempts from 1 to %d: '%.32s'", what,
			         AWS_MAX_ATTEMPTS_LIMIT, v);
			return -1;
		}
		cfg->max_attempts = (unsigned)n;
	}
	return 0;
}

static int truthy(const char *v)
{
	return v && strcasecmp(v, "true") == 0;
}

/* Copies a configured endpoint URL, checking its scheme and dropping trailing slashes. */
static int take_url(const char *what, const char *v, char *url, size_t urllen, char *err, size_t errlen)
{
	size_t n = strlen(v);

	if (strncasecmp(v, "http://", 7) != 0 && strncasecmp(v, "https://", 8) != 0) {
		snprintf(err, errlen, "%s: not an http:// or https:// URL: '%.128s'", what, v);
		return -1;
	}
	while (n > 8 && v[n - 1] == '/')
		n--;
	if (n >= urllen || strpbrk(v, " \t\r\n")) {
		snprintf(err, errlen, "%s: not a usable URL: '%.128s'", what, v);
		return -1;
	}
	memcpy(url, v, n);
	url[n] = '\0';
	return 0;
}

int aws_config_endpoint(const struct aws_config *cfg, const struct aws_service *svc,
                        char *url, size_t urllen, char *region, size_t regionlen,
                        char *err, size_t errlen)
{
	char name[96];
	const char *v, *services;
	const char *r = svc->global_region ? svc->global_region : cfg->region;

	if (!*r) {
		snprintf(err, errlen, "%s: no region: use --region, AWS_REGION, AWS_DEFAULT_REGION or "
		         "region in profile %s", svc->name, cfg->profile);
		return -1;
	}
	snprintf(region, regionlen, "%s", r);
	if (cfg->in.cli_endpoint)
		return take_url("--endpoint-url", cfg->in.cli_endpoint, url, urllen, err, errlen);
	if (!truthy(aws_config_env(cfg, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) &&
	    !truthy(aws_config_get(cfg, "ignore_configured_endpoint_urls"))) {
		snprintf(name, sizeof name, "AWS_ENDPOINT_URL_%s", svc->env_id);
		if ((v = aws_config_env(cfg, name)))
			return take_url(name, v, url, urllen, err, errlen);
		if ((v = aws_config_env(cfg, "AWS_ENDPOINT_URL")))
			return take_url("AWS_ENDPOINT_URL", v, url, urllen, err, errlen);
		if ((services = aws_config_get(cfg, "services"))) {
			snprintf(name, sizeof name, "services %s", services);
			v = aws_ini_get(cfg->in.config, name, svc->config_key, "endpoint_url");
			if (v && *v) {
				char what[160];
				snprintf(what, sizeof what, "[services %s] %s.endpoint_url", services, svc->config_key);
				return take_url(what, v, url, urllen, err, errlen);
			}
		}
		if ((v = aws_config_get(cfg, "endpoint_url")))
			return take_url("endpoint_url (config file)", v, url, urllen, err, errlen);
	}
	if (svc->global_region)
		snprintf(url, urllen, "https://%s.amazonaws.com", svc->host_prefix);
	else
		snprintf(url, urllen, "https://%s.%s.amazonaws.com%s", svc->host_prefix, r,
		         strncmp(r, "cn-", 3) == 0 ? ".cn" : "");
	return 0;
}

const char *aws_config_getenv(void *arg, const char *name)
{
	(void)arg;
	return getenv(name);
}

/* Reads a whole file of at most AWS_INI_MAX_BYTES. 1 read, 0 absent, -1 error. */
static int slurp(const char *path, char **out, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n;

	if (!f) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	buf = malloc(AWS_INI_MAX_BYTES + 1);
	if (!buf) {
		fclose(f);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	n = fread(buf, 1, AWS_INI_MAX_BYTES + 1, f);
	if (ferror(f) || n > AWS_INI_MAX_BYTES) {
		snprintf(err, errlen, "%s: %s", path, ferror(f) ? "read error" : "larger than 1 MiB");
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	*out = buf;
	*len = n;
	return 1;
}

static int expand(const char *v, const char *home, char *out, size_t outlen)
{
	int n;

	if (v[0] == '~' && (v[1] == '/' || !v[1]))
		n = snprintf(out, outlen, "%s%s", home ? home : "", v + 1);
	else
		n = snprintf(out, outlen, "%s", v);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

static int load_one(const char *path, struct aws_ini **ini, char *err, size_t errlen)
{
	char *text = NULL, perr[200];
	size_t len = 0;
	int r = slurp(path, &text, &len, err, errlen);

	if (r <= 0)
		return r;
	*ini = aws_ini_parse(text, len, perr, sizeof perr);
	free(text);
	if (!*ini) {
		snprintf(err, errlen, "%s: %s", path, perr);
		return -1;
	}
	return 0;
}

int aws_config_files_load(struct aws_config_files *f, aws_env_fn env, void *env_arg, char *err, size_t errlen)
{
	const char *home = env ? env(env_arg, "HOME") : NULL;
	const char *c = env ? env(env_arg, "AWS_CONFIG_FILE") : NULL;
	const char *s = env ? env(env_arg, "AWS_SHARED_CREDENTIALS_FILE") : NULL;

	memset(f, 0, sizeof *f);
	if (expand(c && *c ? c : "~/.aws/config", home, f->config_path, sizeof f->config_path) < 0 ||
	    expand(s && *s ? s : "~/.aws/credentials", home, f->credentials_path, sizeof f->credentials_path) < 0) {
		snprintf(err, errlen, "AWS_CONFIG_FILE or AWS_SHARED_CREDENTIALS_FILE: path too long");
		return -1;
	}
	if (load_one(f->config_path, &f->config, err, errlen) < 0 ||
	    load_one(f->credentials_path, &f->credentials, err, errlen) < 0) {
		aws_config_files_clear(f);
		return -1;
	}
	return 0;
}

void aws_config_files_clear(struct aws_config_files *f)
{
	aws_ini_free(f->config);
	aws_ini_free(f->credentials);
	f->config = f->credentials = NULL;
}
