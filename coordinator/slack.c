/* slack — see slack.h. */
#include "slack.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#define ANSWER_MAX 4096u /* of Slack's answer body, kept for the error message */

/* ---- the message ------------------------------------------------------------------------- */

static const char *emoji(const char *result)
{
	if (strcmp(result, "passed") == 0)
		return ":white_check_mark:";
	if (strcmp(result, "failed") == 0)
		return ":x:";
	if (strcmp(result, "interrupted") == 0)
		return ":double_vertical_bar:";
	return ":warning:";
}

/* Slack's mrkdwn treats &, < and > as control characters: escape them in our texts. */
static void put_escaped(char *out, size_t cap, size_t *o, const char *s)
{
	for (; s && *s && *o + 6 < cap; s++) {
		const char *rep = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : NULL;
		if (rep) {
			memcpy(out + *o, rep, strlen(rep));
			*o += strlen(rep);
		} else {
			out[(*o)++] = *s;
		}
	}
	out[*o] = '\0';
}

__attribute__((format(printf, 4, 5)))
static void put(char *out, size_t cap, size_t *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*o >= cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(out + *o, cap - *o, fmt, ap);
	va_end(ap);
	if (n > 0)
		*o = *o + (size_t)n < cap ? *o + (size_t)n : cap - 1;
}

static void counts(const struct slack_message *m, char *out, size_t cap)
{
	size_t o = 0;

	out[0] = '\0';
	put(out, cap, &o, "tests: %llu passed, %llu failed, %llu errors, %llu skipped",
	    m->passed, m->failed, m->errors, m->skipped);
	if (m->findings)
		put(out, cap, &o, "; findings: %llu (%llu failing)", m->findings, m->findings_failing);
	put(out, cap, &o, "; %.0f s", m->elapsed_s);
}

json_t *slack_payload(const struct slack_message *m)
{
	char head[512], cnt[256], text[SLACK_TEXT_MAX + 1], fallback[1024];
	size_t o, shown;
	json_t *blocks = json_array(), *ctx;

	o = 0;
	put(head, sizeof head, &o, "%s ", emoji(m->result));
	put(head, sizeof head, &o, "*Stage ");
	put_escaped(head, sizeof head, &o, m->stage);
	put(head, sizeof head, &o, " %s*", m->result);
	if (m->branch) {
		put(head, sizeof head, &o, " on `");
		put_escaped(head, sizeof head, &o, m->branch);
		put(head, sizeof head, &o, "`");
	}
	counts(m, cnt, sizeof cnt);
	json_array_append_new(blocks, json_pack("{s:s, s:{s:s, s:s}}", "type", "section", "text",
						"type", "mrkdwn", "text", head));
	json_array_append_new(blocks, json_pack("{s:s, s:{s:s, s:s}}", "type", "section", "text",
						"type", "mrkdwn", "text", cnt));
	shown = m->failed_tests ? m->nfailed_tests : 0;
	if (shown > SLACK_FAILED_SHOWN)
		shown = SLACK_FAILED_SHOWN;
	if (shown) {
		o = 0;
		text[0] = '\0';
		put(text, sizeof text, &o, "*Failed tests*\n");
		for (size_t i = 0; i < shown && m->failed_tests[i]; i++) {
			put(text, sizeof text, &o, "• ");
			put_escaped(text, sizeof text - 80, &o, m->failed_tests[i]);
			put(text, sizeof text, &o, "\n");
		}
		if (m->nfailed_tests > shown)
			put(text, sizeof text, &o, "… and %zu more", m->nfailed_tests - shown);
		json_array_append_new(blocks, json_pack("{s:s, s:{s:s, s:s}}", "type", "section", "text",
							"type", "mrkdwn", "text", text));
	}
	if (m->problem) {
		o = 0;
		put(text, sizeof text, &o, "*Infrastructure problem*\n");
		put_escaped(text, sizeof text, &o, m->problem);
		json_array_append_new(blocks, json_pack("{s:s, s:{s:s, s:s}}", "type", "section", "text",
							"type", "mrkdwn", "text", text));
	}
	if (m->playground_url) {
		o = 0;
		put(text, sizeof text, &o, "Playground: <");
		put_escaped(text, sizeof text, &o, m->playground_url);
		put(text, sizeof text, &o, ">");
		json_array_append_new(blocks, json_pack("{s:s, s:{s:s, s:s}}", "type", "section", "text",
							"type", "mrkdwn", "text", text));
	}
	ctx = json_array();
	if (m->build_url) {
		o = 0;
		put(text, sizeof text, &o, "<");
		put_escaped(text, sizeof text, &o, m->build_url);
		put(text, sizeof text, &o, "|");
		put_escaped(text, sizeof text, &o, m->build_id ? m->build_id : "Jenkins build");
		put(text, sizeof text, &o, ">");
		json_array_append_new(ctx, json_pack("{s:s, s:s}", "type", "mrkdwn", "text", text));
	} else if (m->build_id) {
		o = 0;
		put_escaped(text, sizeof text, &o, m->build_id);
		json_array_append_new(ctx, json_pack("{s:s, s:s}", "type", "mrkdwn", "text", text));
	}
	if (json_array_size(ctx))
		json_array_append_new(blocks, json_pack("{s:s, s:o}", "type", "context", "elements", ctx));
	else
		json_decref(ctx);

	/* The fallback is what notifications and old clients show: plain, complete, one line. */
	o = 0;
	put(fallback, sizeof fallback, &o, "Stage %s %s", m->stage, m->result);
	if (m->branch)
		put(fallback, sizeof fallback, &o, " on %s", m->branch);
	put(fallback, sizeof fallback, &o, ": %s", cnt);
	if (m->playground_url)
		put(fallback, sizeof fallback, &o, "; playground %s", m->playground_url);
	return json_pack("{s:s, s:o}", "text", fallback, "blocks", blocks);
}

/* ---- posting ------------------------------------------------------------------------------- */

long slack_retry_after(const char *value)
{
	char *end;
	long v;

	if (!value)
		return -1;
	while (isspace((unsigned char)*value))
		value++;
	if (!isdigit((unsigned char)*value))
		return -1;
	v = strtol(value, &end, 10);
	while (isspace((unsigned char)*end))
		end++;
	return *end ? -1 : v;
}

struct answer {
	char body[ANSWER_MAX];
	size_t len;
	long retry_after;
};

static size_t slack_on_body(char *data, size_t size, size_t n, void *arg)
{
	struct answer *a = arg;
	size_t len = size * n, room = sizeof a->body - 1 - a->len;

	memcpy(a->body + a->len, data, len < room ? len : room);
	a->len += len < room ? len : room;
	a->body[a->len] = '\0';
	return len;
}

static size_t slack_on_header(char *data, size_t size, size_t n, void *arg)
{
	struct answer *a = arg;
	size_t len = size * n;
	char line[128];

	if (len > 12 && len < sizeof line && strncasecmp(data, "Retry-After:", 12) == 0) {
		memcpy(line, data + 12, len - 12);
		line[len - 12] = '\0';
		line[strcspn(line, "\r\n")] = '\0';
		a->retry_after = slack_retry_after(line);
	}
	return len;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0)
		;
}

/* A printable, short excerpt of Slack's answer ("no_service", "invalid_payload"). */
static void excerpt(const char *body, char *out, size_t cap)
{
	size_t o = 0;

	for (; *body && o + 1 < cap && o < 120; body++)
		out[o++] = isprint((unsigned char)*body) ? *body : ' ';
	out[o] = '\0';
}

int slack_post(const char *webhook_url, const json_t *payload, const struct slack_options *opts,
	       char *err, size_t errlen)
{
	struct slack_options o = opts ? *opts : (struct slack_options){0};
	char *body = json_dumps(payload, JSON_COMPACT);
	struct curl_slist *hdrs = NULL;
	CURL *curl = NULL;
	long long deadline;
	long backoff = 500;
	int rc = -1;

	if (!o.connect_timeout_ms)
		o.connect_timeout_ms = 5000;
	if (!o.request_timeout_ms)
		o.request_timeout_ms = 15000;
	if (!o.max_total_ms)
		o.max_total_ms = 60000;
	if (!o.max_attempts)
		o.max_attempts = 4;
	deadline = now_ms() + o.max_total_ms;
	snprintf(err, errlen, "not sent");
	if (!body || !(curl = curl_easy_init())) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json; charset=utf-8");
	curl_easy_setopt(curl, CURLOPT_URL, webhook_url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "stagevisor/" SV_VERSION);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, o.connect_timeout_ms);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, slack_on_body);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, slack_on_header);
	if (o.ca_file) {
		/* Instead of the system's CAs, not besides them (libcurl would still read its CA
		 * directory). */
		curl_easy_setopt(curl, CURLOPT_CAINFO, o.ca_file);
		curl_easy_setopt(curl, CURLOPT_CAPATH, NULL);
	}
	for (unsigned attempt = 1; attempt <= o.max_attempts; attempt++) {
		struct answer a = {.retry_after = -1};
		long status = 0, left = (long)(deadline - now_ms()), wait;
		CURLcode cc;

		if (left <= 0)
			break;
		curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, left < o.request_timeout_ms ? left : o.request_timeout_ms);
		curl_easy_setopt(curl, CURLOPT_WRITEDATA, &a);
		curl_easy_setopt(curl, CURLOPT_HEADERDATA, &a);
		cc = curl_easy_perform(curl);
		if (cc == CURLE_OK)
			curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
		if (cc == CURLE_OK && status >= 200 && status < 300) {
			rc = 0;
			snprintf(err, errlen, "posted");
			goto out;
		}
		if (cc != CURLE_OK) {
			/* curl_easy_strerror names the failure, never the URL. */
			snprintf(err, errlen, "%s (attempt %u)", curl_easy_strerror(cc), attempt);
			/* An untrusted certificate or an unusable CA file does not get better either. */
			if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE ||
			    cc == CURLE_SSL_CERTPROBLEM)
				goto out;
			wait = backoff;
		} else {
			char ex[128];
			excerpt(a.body, ex, sizeof ex);
			snprintf(err, errlen, "HTTP %ld%s%s (attempt %u)", status, ex[0] ? ": " : "", ex, attempt);
			if (status == 429)
				wait = a.retry_after >= 0 ? a.retry_after * 1000 : backoff;
			else if (status >= 500)
				wait = backoff;
			else
				goto out; /* 4xx: a bad or revoked webhook does not get better */
		}
		if (now_ms() + wait >= deadline) {
			size_t n = strlen(err);
			snprintf(err + n, errlen - n, "; giving up: the next attempt would be after the %ld ms budget",
				 o.max_total_ms);
			goto out;
		}
		if (attempt < o.max_attempts)
			sleep_ms(wait);
		backoff *= 2;
	}
out:
	curl_slist_free_all(hdrs);
	if (curl)
		curl_easy_cleanup(curl);
	free(body);
	return rc;
}
