/* aws_http — see aws_http.h. */
#include "aws_http.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

struct aws_http {
	CURL *easy;
	struct curl_slist *hdrs;
	char *body;
	size_t len, cap;
	int too_large;
	struct aws_http_response *resp; /* where the header callback writes */
	struct aws_http_response scratch;
};

struct aws_http_multi {
	CURLM *multi;
};

int aws_http_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void aws_http_global_cleanup(void)
{
	curl_global_cleanup();
}

/* Request headers carry the Authorization header and tokens: wiped before they are freed. */
static void free_headers(struct curl_slist *l)
{
	for (struct curl_slist *t = l; t; t = t->next)
		OPENSSL_cleanse(t->data, strlen(t->data));
	curl_slist_free_all(l);
}

struct aws_http *aws_http_new(void)
{
	struct aws_http *h = calloc(1, sizeof *h);

	if (!h)
		return NULL;
	h->easy = curl_easy_init();
	if (!h->easy) {
		free(h);
		return NULL;
	}
	return h;
}

void aws_http_free(struct aws_http *h)
{
	if (!h)
		return;
	curl_easy_cleanup(h->easy);
	free_headers(h->hdrs);
	free(h->body);
	free(h);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct aws_http *h = arg;
	size_t n = size * nmemb;

	if (h->len + n > AWS_HTTP_MAX_BODY) {
		h->too_large = 1;
		return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
	}
	if (h->len + n + 1 > h->cap) {
		size_t cap = h->cap ? h->cap : 4096;
		char *nb;
		while (cap < h->len + n + 1)
			cap *= 2;
		nb = realloc(h->body, cap);
		if (!nb)
			return 0;
		h->body = nb;
		h->cap = cap;
	}
	memcpy(h->body + h->len, data, n);
	h->len += n;
	h->body[h->len] = '\0';
	return n;
}

/* Copies a header's value (trimmed, control characters dropped) when its name matches. */
static void take_header(const char *line, size_t n, const char *name, char *dst, size_t cap)
{
	size_t nl = strlen(name), o = 0;
	const char *v, *e = line + n;

	if (n <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return;
	v = line + nl + 1;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && isspace((unsigned char)e[-1]))
		e--;
	for (; v < e && o + 1 < cap; v++)
		if ((unsigned char)*v >= 0x20 && *v != 0x7f)
			dst[o++] = *v;
	dst[o] = '\0';
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct aws_http *h = arg;
	struct aws_http_response *r = h->resp;
	size_t n = size * nmemb;

	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		/* A new response (after a 100 Continue or a redirect): forget the last one's headers. */
		r->request_id[0] = r->error_type[0] = r->date[0] = r->content_type[0] = '\0';
		return n;
	}
	take_header(data, n, "x-amzn-RequestId", r->request_id, sizeof r->request_id);
	take_header(data, n, "x-amz-request-id", r->request_id, sizeof r->request_id);
	take_header(data, n, "x-amzn-ErrorType", r->error_type, sizeof r->error_type);
	take_header(data, n, "Date", r->date, sizeof r->date);
	take_header(data, n, "Content-Type", r->content_type, sizeof r->content_type);
	return n;
}

static int prepare(struct aws_http *h, const struct aws_http_request *rq, struct aws_http_response *resp)
{
	CURL *c = h->easy;
	char line[8192];

	memset(resp, 0, sizeof *resp);
	h->resp = resp;
	h->len = 0;
	h->too_large = 0;
	if (h->body)
		h->body[0] = '\0';
	free_headers(h->hdrs);
	h->hdrs = NULL;
	/* curl_easy_reset keeps the connection cache, DNS cache and TLS sessions: keep-alive. */
	curl_easy_reset(c);
	for (size_t i = 0; i < rq->n_headers; i++) {
		struct curl_slist *t;
		int n = snprintf(line, sizeof line, "%s: %s", rq->headers[i].name, rq->headers[i].value);
		if (n < 0 || (size_t)n >= sizeof line) {
			snprintf(resp->error, sizeof resp->error, "header %s: value too long", rq->headers[i].name);
			goto fail;
		}
		if (!*rq->headers[i].value)
			snprintf(line, sizeof line, "%s;", rq->headers[i].name); /* curl's form for an empty value */
		t = curl_slist_append(h->hdrs, line);
		if (!t)
			goto fail;
		h->hdrs = t;
	}
	/* No "Expect: 100-continue" round trip, no Accept header, and no form Content-Type that
	 * curl would add to a POST the caller gave none: only what the caller set (and signed). */
	if (!(h->hdrs = curl_slist_append(h->hdrs, "Expect:")) ||
	    !(h->hdrs = curl_slist_append(h->hdrs, "Accept:")))
		goto fail;
	{
		int has_ct = 0;
		for (size_t i = 0; i < rq->n_headers; i++)
			has_ct |= strcasecmp(rq->headers[i].name, "Content-Type") == 0;
		if (!has_ct && !(h->hdrs = curl_slist_append(h->hdrs, "Content-Type:")))
			goto fail;
	}
	OPENSSL_cleanse(line, sizeof line); /* the Authorization header passed through here */
	if (curl_easy_setopt(c, CURLOPT_URL, rq->url) != CURLE_OK) {
		snprintf(resp->error, sizeof resp->error, "URL not accepted");
		goto fail;
	}
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->hdrs);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
	if (strcmp(rq->method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	if (rq->body_len || strcmp(rq->method, "POST") == 0 || strcmp(rq->method, "PUT") == 0) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
	}
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, rq->connect_timeout_ms > 0 ? rq->connect_timeout_ms : 10000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, rq->timeout_ms > 0 ? rq->timeout_ms : 60000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (rq->ca_file) {
		/* Instead of the system's CAs, not besides them (libcurl would still read its CA
		 * directory): what the AWS CLI does with AWS_CA_BUNDLE. */
		curl_easy_setopt(c, CURLOPT_CAINFO, rq->ca_file);
		curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
	}
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "stagevisor/" SV_VERSION);
	return 0;
fail:
	OPENSSL_cleanse(line, sizeof line);
	if (!resp->error[0])
		snprintf(resp->error, sizeof resp->error, "out of memory");
	resp->outcome = AWS_HTTP_ERROR;
	return -1;
}

static int finish(struct aws_http *h, CURLcode cc, struct aws_http_response *resp)
{
	curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &resp->status);
	if (!h->body) {
		h->body = malloc(1);
		h->cap = h->body ? 1 : 0;
		if (h->body)
			h->body[0] = '\0';
	}
	resp->body = h->body ? h->body : (char *)"";
	resp->len = h->len;
	switch (cc) {
	case CURLE_OK:
		resp->outcome = AWS_HTTP_OK;
		return 0;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
		resp->outcome = AWS_HTTP_CONNECT;
		break;
	case CURLE_OPERATION_TIMEDOUT:
		resp->outcome = AWS_HTTP_TIMEOUT;
		break;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		resp->outcome = AWS_HTTP_BROKEN;
		break;
	case CURLE_WRITE_ERROR:
		resp->outcome = h->too_large ? AWS_HTTP_TOO_LARGE : AWS_HTTP_ERROR;
		break;
	default:
		resp->outcome = AWS_HTTP_ERROR;
		break;
	}
	if (resp->outcome == AWS_HTTP_TOO_LARGE)
		snprintf(resp->error, sizeof resp->error, "response body larger than %u bytes", AWS_HTTP_MAX_BODY);
	else
		snprintf(resp->error, sizeof resp->error, "%s", curl_easy_strerror(cc));
	return -1;
}

int aws_http_perform(struct aws_http *h, const struct aws_http_request *rq, struct aws_http_response *resp)
{
	if (prepare(h, rq, resp) < 0)
		return -1;
	return finish(h, curl_easy_perform(h->easy), resp);
}

struct aws_http_multi *aws_http_multi_new(void)
{
	struct aws_http_multi *m = calloc(1, sizeof *m);

	if (m && !(m->multi = curl_multi_init())) {
		free(m);
		return NULL;
	}
	return m;
}

void aws_http_multi_free(struct aws_http_multi *m)
{
	if (!m)
		return;
	curl_multi_cleanup(m->multi);
	free(m);
}

int aws_http_multi_add(struct aws_http_multi *m, struct aws_http *h, const struct aws_http_request *rq)
{
	if (prepare(h, rq, &h->scratch) < 0)
		return -1;
	curl_easy_setopt(h->easy, CURLOPT_PRIVATE, h);
	return curl_multi_add_handle(m->multi, h->easy) == CURLM_OK ? 0 : -1;
}

struct aws_http *aws_http_multi_take(struct aws_http_multi *m, int timeout_ms, struct aws_http_response *resp)
{
	int running = 0, left;
	CURLMsg *msg;

	for (;;) {
		if (curl_multi_perform(m->multi, &running) != CURLM_OK)
			return NULL;
		while ((msg = curl_multi_info_read(m->multi, &left))) {
			struct aws_http *h = NULL;
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&h);
			{
				CURLcode cc = msg->data.result;
				curl_multi_remove_handle(m->multi, h->easy);
				finish(h, cc, &h->scratch);
			}
			*resp = h->scratch;
			return h;
		}
		if (!running || timeout_ms <= 0)
			return NULL;
		curl_multi_poll(m->multi, NULL, 0, timeout_ms, NULL);
		timeout_ms = 0; /* one wait, then report what finished */
	}
}
