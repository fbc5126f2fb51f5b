/* aws_creds — see aws_creds.h. */
#include "aws_creds.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

void aws_creds_wipe(struct aws_creds *c)
{
	if (c)
		OPENSSL_cleanse(c, sizeof *c);
}

/* Copies v into a field; -1 when too long or holding a control character (a header value). */
static int put(char *dst, size_t cap, const char *v)
{
	size_t n = strlen(v);

	if (n >= cap)
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return -1;
	memcpy(dst, v, n + 1);
	return 0;
}

static int fill(struct aws_creds *out, const char *ak, const char *sk, const char *tok,
                const char *what, const char *akname, const char *skname, const char *tokname,
                char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (put(out->access_key, sizeof out->access_key, ak) < 0) {
		snprintf(err, errlen, "%s: %s: too long or not printable", what, akname);
		return -1;
	}
	if (put(out->secret_key, sizeof out->secret_key, sk) < 0) {
		snprintf(err, errlen, "%s: %s: too long or not printable", what, skname);
		aws_creds_wipe(out);
		return -1;
	}
	if (tok && put(out->token, sizeof out->token, tok) < 0) {
		snprintf(err, errlen, "%s: %s: too long or not printable", what, tokname);
		aws_creds_wipe(out);
		return -1;
	}
	return 0;
}

int aws_creds_from_env(aws_env_fn env, void *env_arg, struct aws_creds *out, char *err, size_t errlen)
{
	const char *ak = env ? env(env_arg, "AWS_ACCESS_KEY_ID") : NULL;
	const char *sk = env ? env(env_arg, "AWS_SECRET_ACCESS_KEY") : NULL;
	const char *tok = env ? env(env_arg, "AWS_SESSION_TOKEN") : NULL;

	if (!tok || !*tok)
		tok = env ? env(env_arg, "AWS_SECURITY_TOKEN") : NULL;
	if ((!ak || !*ak) && (!sk || !*sk))
		return 0;
	if (!ak || !*ak || !sk || !*sk) {
		snprintf(err, errlen, "environment: %s is set but %s is not",
		         ak && *ak ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
		         ak && *ak ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
		return -1;
	}
	if (fill(out, ak, sk, tok && *tok ? tok : NULL, "environment", "AWS_ACCESS_KEY_ID",
	         "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", err, errlen) < 0)
		return -1;
	snprintf(out->source, sizeof out->source, "environment");
	return 1;
}

int aws_creds_from_ini(const struct aws_ini *ini, const char *section, const char *what,
                       struct aws_creds *out, char *err, size_t errlen)
{
	const char *ak = aws_ini_get(ini, section, "aws_access_key_id", NULL);
	const char *sk = aws_ini_get(ini, section, "aws_secret_access_key", NULL);
	const char *tok = aws_ini_get(ini, section, "aws_session_token", NULL);
	char where[300];

	if (!tok || !*tok)
		tok = aws_ini_get(ini, section, "aws_security_token", NULL);
	if ((!ak || !*ak) && (!sk || !*sk))
		return 0;
	snprintf(where, sizeof where, "%s [%s]", what, section);
	if (!ak || !*ak || !sk || !*sk) {
		snprintf(err, errlen, "%s: %s is set but %s is not", where,
		         ak && *ak ? "aws_access_key_id" : "aws_secret_access_key",
		         ak && *ak ? "aws_secret_access_key" : "aws_access_key_id");
		return -1;
	}
	return fill(out, ak, sk, tok && *tok ? tok : NULL, where, "aws_access_key_id",
	            "aws_secret_access_key", "aws_session_token", err, errlen) < 0 ? -1 : 1;
}

static int digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int aws_creds_parse_time(const char *s, time_t *out)
{
	struct tm tm;
	int y, mo, d, h, mi, sec;
	long offset = 0;
	const char *p;

	memset(&tm, 0, sizeof tm);
	if (strlen(s) < 19 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
	    digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
	    digits(s + 17, 2, &sec))
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == '+' || *p == '-') { /* an offset: ±HH:MM or ±HHMM */
		int oh, om;
		const char *m;
		if (digits(p + 1, 2, &oh)) /* stops at the terminator: nothing read past it */
			return -1;
		m = p + 3 + (p[3] == ':');
		if (digits(m, 2, &om) || m[2] || oh > 23 || om > 59)
			return -1;
		offset = (*p == '+' ? 1 : -1) * (oh * 3600 + om * 60);
	} else if (!(strcmp(p, "Z") == 0 || strcmp(p, "z") == 0 || !*p)) {
		return -1;
	}
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*out = timegm(&tm);
	if (*out == (time_t)-1)
		return -1;
	*out -= offset;
	return 0;
}

int aws_creds_parse_document(const char *text, size_t len, struct aws_creds *out, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *doc = NULL;
	const char *ak, *sk, *tok, *exp, *code;
	int rc = -1;

	memset(out, 0, sizeof *out);
	if (len > AWS_CREDS_DOC_MAX) {
		snprintf(err, errlen, "credentials document larger than %u bytes", AWS_CREDS_DOC_MAX);
		return -1;
	}
	doc = json_loadb(text, len, 0, &jerr);
	if (!json_is_object(doc)) {
		snprintf(err, errlen, "credentials document: not a JSON object%s%s", doc ? "" : ": ",
		         doc ? "" : jerr.text);
		goto done;
	}
	code = json_string_value(json_object_get(doc, "Code"));
	if (code && strcmp(code, "Success") != 0) {
		snprintf(err, errlen, "credentials document: Code is '%.64s', not Success", code);
		goto done;
	}
	ak = json_string_value(json_object_get(doc, "AccessKeyId"));
	sk = json_string_value(json_object_get(doc, "SecretAccessKey"));
	tok = json_string_value(json_object_get(doc, "Token"));
	exp = json_string_value(json_object_get(doc, "Expiration"));
	if (!ak || !*ak || !sk || !*sk) {
		snprintf(err, errlen, "credentials document: %s missing or not a string",
		         !ak || !*ak ? "AccessKeyId" : "SecretAccessKey");
		goto done;
	}
	if (fill(out, ak, sk, tok && *tok ? tok : NULL, "credentials document", "AccessKeyId",
	         "SecretAccessKey", "Token", err, errlen) < 0)
		goto done;
	if (exp && aws_creds_parse_time(exp, &out->expiration) < 0) {
		snprintf(err, errlen, "credentials document: Expiration: not an ISO 8601 UTC time: '%.40s'", exp);
		aws_creds_wipe(out);
		goto done;
	}
	rc = 0;
done:
	json_decref(doc);
	return rc;
}
