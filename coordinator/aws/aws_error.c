/* aws_error — see aws_error.h. */
#include "aws_error.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <expat.h>
#include <jansson.h>

/* Copies at most n bytes of s into dst as one printable line: control characters and runs
 * of whitespace become one space, leading/trailing space dropped. */
static void clean(char *dst, size_t cap, const char *s, size_t n)
{
	size_t o = 0;
	int space = 0;

	if (!cap)
		return;
	for (size_t i = 0; i < n && s[i] && o + 1 < cap; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch < 0x20 || ch == 0x7f || ch == ' ') {
			space = o > 0;
			continue;
		}
		if (space && o + 2 < cap)
			dst[o++] = ' ';
		space = 0;
		dst[o++] = (char)ch;
	}
	dst[o] = '\0';
}

static void set(char *dst, size_t cap, const char *s)
{
	clean(dst, cap, s, strlen(s));
}

static const char *reason(long status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Payload Too Large";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return status >= 500 ? "Server Error" : status >= 400 ? "Client Error" : "Unexpected Status";
	}
}

/* "namespace#Code:http://..." -> "Code" */
static void set_code(struct aws_error *e, const char *v)
{
	const char *h = strrchr(v, '#'), *colon;
	size_t n;

	if (h)
		v = h + 1;
	colon = strchr(v, ':');
	n = colon ? (size_t)(colon - v) : strlen(v);
	clean(e->code, sizeof e->code, v, n);
}

static int parse_json(struct aws_error *e, const char *body, size_t len)
{
	json_t *doc = json_loadb(body, len, 0, NULL), *v;
	const char *s;
	static const char *const code_keys[] = {"__type", "code", "Code", "errorCode"};
	static const char *const msg_keys[] = {"message", "Message", "errorMessage", "error_description"};

	if (!json_is_object(doc)) {
		json_decref(doc);
		return -1;
	}
	for (size_t i = 0; i < sizeof code_keys / sizeof code_keys[0] && !e->code[0]; i++)
		if ((s = json_string_value(json_object_get(doc, code_keys[i]))) && *s)
			set_code(e, s);
	for (size_t i = 0; i < sizeof msg_keys / sizeof msg_keys[0] && !e->message[0]; i++)
		if ((s = json_string_value(json_object_get(doc, msg_keys[i]))))
			set(e->message, sizeof e->message, s);
	if (!e->request_id[0] && (v = json_object_get(doc, "RequestId")) && json_is_string(v))
		set(e->request_id, sizeof e->request_id, json_string_value(v));
	json_decref(doc);
	return 0;
}

/* XML: the Code and Message of the first <Error> element, a RequestId anywhere. */
struct xml_state {
	struct aws_error *e;
	char stack[8][32];
	int depth;      /* may exceed 8: deeper names are not kept */
	int target;     /* 0 none, 1 code, 2 message, 3 request id */
	char text[1024];
	size_t tlen;
	int error_done; /* an </Error> closed: keep its code and message */
};

static const char *local_name(const char *n)
{
	const char *c = strrchr(n, ':');

	return c ? c + 1 : n;
}

static void XMLCALL xml_start(void *arg, const XML_Char *name, const XML_Char **attrs)
{
	struct xml_state *x = arg;
	const char *n = local_name(name);
	const char *parent = x->depth > 0 && x->depth <= 8 ? x->stack[x->depth - 1] : "";

	(void)attrs;
	if (x->depth < 8)
		snprintf(x->stack[x->depth], sizeof x->stack[0], "%s", n);
	x->depth++;
	x->target = 0;
	x->tlen = 0;
	if (!x->error_done && strcmp(parent, "Error") == 0 && strcmp(n, "Code") == 0 && !x->e->code[0])
		x->target = 1;
	else if (!x->error_done && strcmp(parent, "Error") == 0 && strcmp(n, "Message") == 0 && !x->e->message[0])
		x->target = 2;
	else if ((strcmp(n, "RequestId") == 0 || strcmp(n, "RequestID") == 0) && !x->e->request_id[0])
		x->target = 3;
}

static void XMLCALL xml_text(void *arg, const XML_Char *s, int len)
{
	struct xml_state *x = arg;

	if (!x->target || len <= 0)
		return;
	if ((size_t)len > sizeof x->text - 1 - x->tlen)
		len = (int)(sizeof x->text - 1 - x->tlen);
	memcpy(x->text + x->tlen, s, (size_t)len);
	x->tlen += (size_t)len;
	x->text[x->tlen] = '\0';
}

static void XMLCALL xml_end(void *arg, const XML_Char *name)
{
	struct xml_state *x = arg;
	struct aws_error *e = x->e;

	if (x->target == 1)
		clean(e->code, sizeof e->code, x->text, x->tlen);
	else if (x->target == 2)
		clean(e->message, sizeof e->message, x->text, x->tlen);
	else if (x->target == 3)
		clean(e->request_id, sizeof e->request_id, x->text, x->tlen);
	x->target = 0;
	x->tlen = 0;
	if (strcmp(local_name(name), "Error") == 0 && e->code[0])
		x->error_done = 1;
	if (x->depth > 0)
		x->depth--;
}

static int parse_xml(struct aws_error *e, const char *body, size_t len)
{
	struct xml_state x;
	XML_Parser p = XML_ParserCreate("UTF-8");
	int ok;

	if (!p)
		return -1;
	memset(&x, 0, sizeof x);
	x.e = e;
	XML_SetUserData(p, &x);
	XML_SetElementHandler(p, xml_start, xml_end);
	XML_SetCharacterDataHandler(p, xml_text);
	ok = XML_Parse(p, body, (int)len, 1) == XML_STATUS_OK;
	XML_ParserFree(p);
	/* A truncated document still counts when its code came before the cut (then 1). */
	return ok ? 0 : e->code[0] ? 1 : -1;
}

static const char *skip_space(const char *s, const char *end)
{
	while (s < end && isspace((unsigned char)*s))
		s++;
	return s;
}

static const char *find_ci(const char *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	for (size_t i = 0; i + k <= n; i++)
		if (strncasecmp(hay + i, needle, k) == 0)
			return hay + i;
	return NULL;
}

void aws_error_from_response(struct aws_error *e, long status, const char *content_type,
                             const char *request_id_hdr, const char *error_type_hdr,
                             const char *body, size_t len)
{
	const char *b, *end;
	char excerpt[201];
	int parsed = -1;

	memset(e, 0, sizeof *e);
	e->status = status;
	if (!body)
		len = 0;
	if (len > AWS_ERROR_BODY_MAX)
		len = AWS_ERROR_BODY_MAX;
	if (request_id_hdr && *request_id_hdr)
		set(e->request_id, sizeof e->request_id, request_id_hdr);
	if (error_type_hdr && *error_type_hdr)
		set_code(e, error_type_hdr);
	b = body ? skip_space(body, body + len) : "";
	end = body ? body + len : b;
	if (b < end && *b == '{') {
		parsed = parse_json(e, b, (size_t)(end - b));
		if (parsed < 0 && !e->message[0])
			snprintf(e->message, sizeof e->message, "truncated or malformed JSON error body (%zu bytes)", len);
	} else if (b < end && *b == '<' && !find_ci(b, (size_t)(end - b) < 512 ? (size_t)(end - b) : 512, "<html") &&
	           !find_ci(b, (size_t)(end - b) < 512 ? (size_t)(end - b) : 512, "<!doctype html")) {
		parsed = parse_xml(e, b, (size_t)(end - b));
		if (parsed != 0 && !e->message[0])
			snprintf(e->message, sizeof e->message, "truncated or malformed XML error body (%zu bytes)", len);
	} else if (b < end && (find_ci(b, (size_t)(end - b), "<html") ||
	                       (content_type && find_ci(content_type, strlen(content_type), "text/html")))) {
		const char *t = find_ci(b, (size_t)(end - b), "<title>"), *te;
		char title[200] = "";
		if (t && (te = find_ci(t + 7, (size_t)(end - t - 7), "</title>")))
			clean(title, sizeof title, t + 7, (size_t)(te - t - 7));
		snprintf(e->message, sizeof e->message, "HTML error page%s%s (not an AWS API answer: a proxy, "
		         "load balancer or wrong endpoint?)", title[0] ? ": " : "", title);
		parsed = 0;
	}
	if (!e->code[0])
		snprintf(e->code, sizeof e->code, "HTTP %ld", status);
	if (!e->message[0]) {
		if (len == 0) {
			snprintf(e->message, sizeof e->message, "%s (empty body)", reason(status));
		} else {
			clean(excerpt, sizeof excerpt, b, (size_t)(end - b));
			snprintf(e->message, sizeof e->message, "%s (%zu bytes: %s%s)", reason(status), len, excerpt,
			         (size_t)(end - b) > 200 ? "..." : "");
		}
	}
}

void aws_error_transport(struct aws_error *e, const char *kind, const char *detail, bool timeout)
{
	memset(e, 0, sizeof *e);
	e->transport = true;
	e->timeout = timeout;
	set(e->code, sizeof e->code, kind);
	set(e->message, sizeof e->message, detail && *detail ? detail : "no answer");
}

void aws_error_client(struct aws_error *e, const char *code, const char *message)
{
	memset(e, 0, sizeof *e);
	set(e->code, sizeof e->code, code);
	set(e->message, sizeof e->message, message);
}

void aws_error_format(const struct aws_error *e, const char *service, const char *operation,
                      char *buf, size_t buflen)
{
	int n = snprintf(buf, buflen, "%s %s: %s: %s", service, operation, e->code, e->message);

	if (e->request_id[0] && n >= 0 && (size_t)n < buflen)
		snprintf(buf + n, buflen - (size_t)n, " (request id %s)", e->request_id);
}

bool aws_error_is_skew(const struct aws_error *e)
{
	static const char *const always[] = {"RequestTimeTooSkewed", "RequestExpired", "RequestInTheFuture"};
	static const char *const sig[] = {"InvalidSignatureException", "SignatureDoesNotMatch", "AuthFailure"};
	static const char *const words[] = {"signature expired", "too skewed", "skew", "time too far",
	                                    "request time", "is now earlier than", "is now later than"};

	for (size_t i = 0; i < sizeof always / sizeof always[0]; i++)
		if (strcmp(e->code, always[i]) == 0)
			return true;
	for (size_t i = 0; i < sizeof sig / sizeof sig[0]; i++) {
		if (strcmp(e->code, sig[i]) != 0)
			continue;
		for (size_t j = 0; j < sizeof words / sizeof words[0]; j++)
			if (find_ci(e->message, strlen(e->message), words[j]))
				return true;
	}
	return false;
}

long long aws_error_parse_http_date(const char *s)
{
	static const char *const fmts[] = {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT",
	                                   "%a %b %d %H:%M:%S %Y"};
	struct tm tm;

	for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
		const char *end;
		memset(&tm, 0, sizeof tm);
		end = strptime(s, fmts[i], &tm);
		if (end && !*end)
			return (long long)timegm(&tm);
	}
	return -1;
}
