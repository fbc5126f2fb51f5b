/*
 * uplink_config — the uplink's configuration from the environment (uplink.h): URL, stream,
 * token, pin or CA bundle, bounds. Parsing only: no OpenSSL, no files.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uplink.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

void uplink_config_defaults(struct uplink_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->port = 443;
	cfg->buffer_bytes = UPLINK_BUFFER_BYTES_DEFAULT;
	cfg->spool_bytes = UPLINK_SPOOL_BYTES_DEFAULT;
	cfg->batch_bytes = UPLINK_BATCH_BYTES_DEFAULT;
	cfg->batch_events = UPLINK_BATCH_EVENTS_DEFAULT;
	cfg->flush_delay_ms = UPLINK_FLUSH_DELAY_MS_DEFAULT;
	cfg->backoff_base_ms = UPLINK_BACKOFF_BASE_MS_DEFAULT;
	cfg->backoff_cap_ms = UPLINK_BACKOFF_CAP_MS_DEFAULT;
	cfg->timeout_ms = UPLINK_TIMEOUT_MS_DEFAULT;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int uplink_pin_parse(const char *text, unsigned char pin[32])
{
	size_t n = 0;
	const char *p = text;

	if (!p)
		return -1;
	while (*p) {
		int hi = hexval(p[0]), lo = hi < 0 ? -1 : hexval(p[1]);
		if (hi < 0 || lo < 0 || n == 32)
			return -1;
		pin[n++] = (unsigned char)(hi << 4 | lo);
		p += 2;
		if (*p == ':') {
			if (!p[1])
				return -1;
			p++;
		}
	}
	return n == 32 ? 0 : -1;
}

/*
 * https://host[:port][/prefix/] ; host a name, an IPv4 literal or [IPv6]. The request path is
 * prefix + "v1/streams/{stream}/events", so cfg->stream must be set first.
 */
int uplink_config_set_url(struct uplink_config *cfg, const char *url, char *err, size_t errlen)
{
	const char *p, *host, *hend, *path;
	size_t hlen;
	char prefix[UPLINK_PATH_MAX + 1];
	int n;

	if (!url || strncmp(url, "https://", 8) != 0)
		return fail(err, errlen, "STAGEVISOR_URL: must start with https://");
	host = url + 8;
	if (*host == '[') {
		host++;
		hend = strchr(host, ']');
		if (!hend)
			return fail(err, errlen, "STAGEVISOR_URL: unclosed [ in the host");
		p = hend + 1;
	} else {
		hend = host + strcspn(host, ":/?#");
		p = hend;
	}
	hlen = (size_t)(hend - host);
	if (hlen == 0 || hlen > UPLINK_HOST_MAX)
		return fail(err, errlen, "STAGEVISOR_URL: no host, or a host longer than %u",
			    UPLINK_HOST_MAX);
	for (size_t i = 0; i < hlen; i++)
		if (host[i] <= ' ' || host[i] == '@' || host[i] == '%' || host[i] == 0x7f)
			return fail(err, errlen, "STAGEVISOR_URL: bad character in the host");
	memcpy(cfg->host, host, hlen);
	cfg->host[hlen] = '\0';
	cfg->port = 443;
	if (*p == ':') {
		char *end;
		unsigned long port;
		errno = 0;
		port = strtoul(p + 1, &end, 10);
		if (end == p + 1 || errno || port == 0 || port > 65535)
			return fail(err, errlen, "STAGEVISOR_URL: bad port");
		cfg->port = (unsigned)port;
		p = end;
	}
	if (*p && *p != '/')
		return fail(err, errlen, "STAGEVISOR_URL: a path must start with / (no query)");
	path = *p ? p : "/";
	if (strpbrk(path, "?# \t\r\n"))
		return fail(err, errlen, "STAGEVISOR_URL: no query, fragment or spaces in the path");
	n = snprintf(prefix, sizeof prefix, "%s", path);
	if (n < 0 || (size_t)n >= sizeof prefix)
		return fail(err, errlen, "STAGEVISOR_URL: path too long");
	while (n > 0 && prefix[n - 1] == '/')
		prefix[--n] = '\0';
	if (!pr_stream_valid(cfg->stream))
		return fail(err, errlen, "STAGEVISOR_STREAM: not a stream id ([A-Za-z0-9_.-]{1,64})");
	n = snprintf(cfg->path, sizeof cfg->path, "%s" PR_PATH_PREFIX "%s" PR_PATH_SUFFIX, prefix,
		     cfg->stream);
	if (n < 0 || (size_t)n >= sizeof cfg->path)
		return fail(err, errlen, "STAGEVISOR_URL: path too long");
	return 0;
}

static int size_env(const char *name, uint64_t min, uint64_t max, uint64_t *out, char *err,
		    size_t errlen)
{
	const char *v = getenv(name);
	char *end;
	unsigned long long n;

	if (!v || !*v)
		return 0;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (end == v || *end || errno || n < min || n > max || v[0] == '-')
		return fail(err, errlen, "%s: must be a number of bytes from %llu to %llu", name,
			    (unsigned long long)min, (unsigned long long)max);
	*out = n;
	return 0;
}

int uplink_config_from_env(struct uplink_config *cfg, char *err, size_t errlen)
{
	const char *url = getenv("STAGEVISOR_URL"), *v;
	uint64_t n;

	if (!url || !*url)
		return 1;
	v = getenv("STAGEVISOR_STREAM");
	if (!v || !pr_stream_valid(v))
		return fail(err, errlen, "STAGEVISOR_STREAM: must be set to a stream id "
				 "([A-Za-z0-9_.-]{1,64}) when STAGEVISOR_URL is");
	memcpy(cfg->stream, v, strlen(v) + 1);
	if (uplink_config_set_url(cfg, url, err, errlen) < 0)
		return -1;
	v = getenv("STAGEVISOR_TOKEN");
	if (!v || !pr_token_valid(v))
		return fail(err, errlen, "STAGEVISOR_TOKEN: must be set to the stream's token "
				 "(svt1. and 64 hex digits)");
	memcpy(cfg->token, v, PR_TOKEN_LEN + 1);
	v = getenv("STAGEVISOR_PIN");
	cfg->have_pin = false;
	if (v && *v) {
		if (uplink_pin_parse(v, cfg->pin) < 0)
			return fail(err, errlen, "STAGEVISOR_PIN: must be a SHA-256 fingerprint "
					 "(64 hex digits, colons allowed)");
		cfg->have_pin = true;
	}
	v = getenv("STAGEVISOR_CA_FILE");
	cfg->ca_file[0] = '\0';
	if (v && *v) {
		if (strlen(v) >= sizeof cfg->ca_file)
			return fail(err, errlen, "STAGEVISOR_CA_FILE: path too long");
		memcpy(cfg->ca_file, v, strlen(v) + 1);
	}
	if (!cfg->have_pin && !cfg->ca_file[0])
		return fail(err, errlen, "STAGEVISOR_PIN or STAGEVISOR_CA_FILE: one must be set "
				 "(the coordinator's certificate is always verified)");
	v = getenv("STAGEVISOR_SPOOL");
	cfg->spool_path[0] = '\0';
	if (v && *v) {
		if (strlen(v) >= sizeof cfg->spool_path)
			return fail(err, errlen, "STAGEVISOR_SPOOL: path too long");
		memcpy(cfg->spool_path, v, strlen(v) + 1);
	}
	n = cfg->buffer_bytes;
	if (size_env("STAGEVISOR_BUFFER_BYTES", 64 * 1024, 1ull << 32, &n, err, errlen) < 0)
		return -1;
	cfg->buffer_bytes = (size_t)n;
	n = cfg->spool_bytes;
	if (size_env("STAGEVISOR_SPOOL_BYTES", 0, 1ull << 40, &n, err, errlen) < 0)
		return -1;
	cfg->spool_bytes = n;
	return 0;
}
