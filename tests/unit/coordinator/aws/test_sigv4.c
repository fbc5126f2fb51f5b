/* Unit tests of coordinator/aws/sigv4.c.
 *
 * The AWS SigV4 test suite (read at test time from SV_AWS4_TESTSUITE, ../shared/data/
 * aws4_testsuite of the repository): each case's NAME.req is parsed as an HTTP request
 * (request line, headers with folded continuation lines, body after the blank line), signed
 * with the suite's credentials, date, region and service, and the canonical request, string to
 * sign and Authorization header are compared with NAME.creq, NAME.sts and NAME.authz. Every
 * case is listed by name, so a missing case fails, and a case found on disk that is not in the
 * list fails too. A missing data directory fails the test, naming the path.
 *
 * Then the signer's own rules: S3 (a path kept as sent, X-Amz-Content-Sha256, UNSIGNED-PAYLOAD,
 * AWS's documented S3 example), errors that name the bad field, and the wiping of out.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "sigv4.h"

#ifndef SV_AWS4_TESTSUITE
#error "SV_AWS4_TESTSUITE (the AWS SigV4 test suite's directory) must be defined"
#endif

/* The suite's values (../shared/data/README.md). 1440938160 = 2015-08-30T12:36:00Z. */
#define SUITE_AK "AKIDEXAMPLE"
#define SUITE_SK "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SUITE_WHEN ((time_t)1440938160)
#define SUITE_TOKEN "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"
#define MAX_HEADERS 64

static const char *const suite_cases[] = {
	"get-header-key-duplicate",
	"get-header-value-multiline",
	"get-header-value-order",
	"get-header-value-trim",
	"get-unreserved",
	"get-utf8",
	"get-vanilla",
	"get-vanilla-empty-query-key",
	"get-vanilla-query",
	"get-vanilla-query-order-encoded",
	"get-vanilla-query-order-key",
	"get-vanilla-query-order-key-case",
	"get-vanilla-query-order-value",
	"get-vanilla-query-unreserved",
	"get-vanilla-utf8-query",
	"get-vanilla-with-session-token",
	"post-header-key-case",
	"post-header-key-sort",
	"post-header-value-case",
	"post-vanilla",
	"post-vanilla-empty-query-value",
	"post-vanilla-query",
	"post-x-www-form-urlencoded",
	"post-x-www-form-urlencoded-parameters",
	"normalize-path/get-relative",
	"normalize-path/get-relative-relative",
	"normalize-path/get-slash",
	"normalize-path/get-slash-dot-slash",
	"normalize-path/get-slash-pointless-dot",
	"normalize-path/get-slashes",
	"normalize-path/get-space",
	"normalize-path/get-special-character",
	"post-sts-token/post-sts-header-after",
	"post-sts-token/post-sts-header-before",
};
#define N_CASES (sizeof suite_cases / sizeof suite_cases[0])

/* ---- reading the suite ---- */

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || n > 1 << 20 ||
	    fseek(f, 0, SEEK_SET) != 0)
		goto done;
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
		goto done;
	}
	if (buf) {
		buf[n] = '\0';
		if (len)
			*len = (size_t)n;
	}
done:
	fclose(f);
	return buf;
}

/* NAME.ext of a case: "<suite>/<group/>NAME/NAME.ext". */
static char *case_file(const char *name, const char *ext, size_t *len)
{
	char path[1024];
	const char *base = strrchr(name, '/');

	base = base ? base + 1 : name;
	snprintf(path, sizeof path, "%s/%s/%s.%s", SV_AWS4_TESTSUITE, name, base, ext);
	return read_file(path, len);
}

/* The expected files end without a newline; tolerate one. */
static void chomp(char *s)
{
	size_t n = strlen(s);

	if (n > 0 && s[n - 1] == '\n')
		s[--n] = '\0';
	if (n > 0 && s[n - 1] == '\r')
		s[--n] = '\0';
}

struct parsed_req {
	char *text; /* the file, cut in place */
	char *method, *path, *query;
	struct sigv4_header headers[MAX_HEADERS];
	size_t n_headers;
	const char *body;
	size_t body_len;
};

/* Cuts the next line (without its "\n" or "\r\n") off *p; NULL at the end of the text.
 * *cr tells whether a '\r' was cut too. */
static char *next_line(char **p, char *end, bool *cr)
{
	char *s = *p, *nl;

	*cr = false;
	if (s >= end)
		return NULL;
	nl = memchr(s, '\n', (size_t)(end - s));
	if (nl) {
		*nl = '\0';
		*p = nl + 1;
		if (nl > s && nl[-1] == '\r') {
			nl[-1] = '\0';
			*cr = true;
		}
	} else {
		*p = end;
	}
	return s;
}

/* Request line "METHOD TARGET HTTP/1.1" where TARGET may hold spaces (normalize-path/
 * get-space); header lines "Name:value"; a line starting with a space or a tab continues the
 * previous value (kept with its newline, the signer folds it); a blank line starts the body. */
static int parse_req(char *text, size_t len, struct parsed_req *r)
{
	char *p = text, *end = text + len, *line, *sp, *last, *q;
	bool cr = false, prev_cr;

	memset(r, 0, sizeof *r);
	r->text = text;
	line = next_line(&p, end, &cr);
	if (!line || !(sp = strchr(line, ' ')) || !(last = strrchr(line, ' ')) || last == sp)
		return -1;
	*sp = '\0';
	*last = '\0';
	r->method = line;
	r->path = sp + 1;
	q = strchr(r->path, '?');
	if (q) {
		*q = '\0';
		r->query = q + 1;
	}
	for (;;) {
		char *colon;

		prev_cr = cr;
		line = next_line(&p, end, &cr);
		if (!line)
			break;
		if (*line == '\0') {
			r->body = p;
			r->body_len = (size_t)(end - p);
			break;
		}
		if (*line == ' ' || *line == '\t') {
			if (r->n_headers == 0)
				return -1;
			/* The line before was cut at its '\n': put it back to join the two. */
			line[-1] = '\n';
			if (prev_cr)
				line[-2] = '\r';
			continue;
		}
		colon = strchr(line, ':');
		if (!colon || r->n_headers == MAX_HEADERS)
			return -1;
		*colon = '\0';
		r->headers[r->n_headers].name = line;
		r->headers[r->n_headers].value = colon + 1;
		r->n_headers++;
	}
	return 0;
}

static const char *header_value(const struct sigv4_header *h, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(h[i].name, name) == 0)
			return h[i].value;
	return NULL;
}

static void suite_dir_exists(void **state)
{
	struct stat st;
	(void)state;
	if (stat(SV_AWS4_TESTSUITE, &st) != 0 || !S_ISDIR(st.st_mode))
		fail_msg("the AWS SigV4 test suite is missing: %s is not a directory (%s); it is read "
			 "from ../shared/data/aws4_testsuite beside the repository",
			 SV_AWS4_TESTSUITE, strerror(errno));
}

/* Every case on disk (a directory NAME holding NAME.req) is one the list names. */
static int walk_cases(const char *dir, const char *prefix, int depth, size_t *found)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int unknown = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char sub[1024], req[2400], name[512];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
		if (stat(sub, &st) != 0 || !S_ISDIR(st.st_mode))
			continue;
		snprintf(name, sizeof name, "%s%s", prefix, e->d_name);
		snprintf(req, sizeof req, "%s/%s.req", sub, e->d_name);
		if (stat(req, &st) == 0) {
			bool known = false;

			for (size_t i = 0; i < N_CASES; i++)
				known |= strcmp(suite_cases[i], name) == 0;
			if (!known) {
				print_error("case %s is in the suite but not in this test's list\n", name);
				unknown++;
			}
			(*found)++;
		} else if (depth < 3) {
			char pre[600];

			snprintf(pre, sizeof pre, "%s/", name);
			int u = walk_cases(sub, pre, depth + 1, found);

			if (u < 0) {
				closedir(d);
				return -1;
			}
			unknown += u;
		}
	}
	closedir(d);
	return unknown;
}

static void suite_has_no_unlisted_case(void **state)
{
	size_t found = 0;
	int unknown;
	(void)state;
	unknown = walk_cases(SV_AWS4_TESTSUITE, "", 0, &found);
	if (unknown < 0)
		fail_msg("cannot read %s: %s", SV_AWS4_TESTSUITE, strerror(errno));
	assert_int_equal(unknown, 0);
	assert_int_equal(found, N_CASES);
}

static void suite_case(void **state)
{
	const char *name = *state;
	char *req, *creq, *sts, *authz, *sreq = NULL;
	size_t len = 0;
	struct parsed_req r;
	struct sigv4_request rq;
	struct sigv4_params p = {
		.access_key = SUITE_AK,
		.secret_key = SUITE_SK,
		.region = "us-east-1",
		.service = "service",
		.when = SUITE_WHEN,
	};
	struct sigv4_out out;
	const char *v;

	req = case_file(name, "req", &len);
	creq = case_file(name, "creq", NULL);
	sts = case_file(name, "sts", NULL);
	authz = case_file(name, "authz", NULL);
	if (!req || !creq || !sts || !authz)
		fail_msg("case %s: cannot read its .req/.creq/.sts/.authz under %s", name,
			 SV_AWS4_TESTSUITE);
	chomp(creq);
	chomp(sts);
	chomp(authz);
	if (parse_req(req, len, &r) != 0)
		fail_msg("case %s: cannot parse its .req", name);

	if (strcmp(name, "get-vanilla-with-session-token") == 0) {
		p.session_token = SUITE_TOKEN;
	} else if (strcmp(name, "post-sts-token/post-sts-header-before") == 0) {
		/* The token is part of the canonical request: the signer sets and signs it. */
		p.session_token = header_value(r.headers, r.n_headers, "X-Amz-Security-Token");
		assert_non_null(p.session_token);
	} else if (strcmp(name, "post-sts-token/post-sts-header-after") == 0) {
		/* The token is added after signing: taken from the signed request, not signed. */
		struct parsed_req s;
		size_t slen = 0;

		sreq = case_file(name, "sreq", &slen);
		assert_non_null(sreq);
		assert_int_equal(parse_req(sreq, slen, &s), 0);
		p.session_token = header_value(s.headers, s.n_headers, "X-Amz-Security-Token");
		assert_non_null(p.session_token);
		p.token_unsigned = true;
	}

	rq = (struct sigv4_request){
		.method = r.method,
		.path = r.path,
		.query = r.query,
		.headers = r.headers,
		.n_headers = r.n_headers,
		.body = r.body,
		.body_len = r.body_len,
	};
	if (sigv4_sign(&rq, &p, &out) != 0)
		fail_msg("case %s: sigv4_sign failed: %s", name, out.error);
	if (strcmp(out.canonical_request, creq) != 0)
		fail_msg("case %s: canonical request\n--- got:\n%s\n--- expected:\n%s", name,
			 out.canonical_request, creq);
	if (strcmp(out.string_to_sign, sts) != 0)
		fail_msg("case %s: string to sign\n--- got:\n%s\n--- expected:\n%s", name,
			 out.string_to_sign, sts);
	if (strcmp(out.authorization, authz) != 0)
		fail_msg("case %s: Authorization\n--- got:\n%s\n--- expected:\n%s", name,
			 out.authorization, authz);
	/* The headers to send: the suite's X-Amz-Date, the token when there is one, then
	 * Authorization (the same string). */
	v = header_value(out.added, out.n_added, "X-Amz-Date");
	assert_non_null(v);
	assert_string_equal(v, header_value(r.headers, r.n_headers, "X-Amz-Date"));
	v = header_value(out.added, out.n_added, "X-Amz-Security-Token");
	if (p.session_token) {
		assert_non_null(v);
		assert_string_equal(v, p.session_token);
	} else {
		assert_null(v);
	}
	assert_ptr_equal(header_value(out.added, out.n_added, "Authorization"), out.authorization);
	assert_string_equal(out.added[out.n_added - 1].name, "Authorization");
	sigv4_out_clear(&out);
	free(req);
	free(creq);
	free(sts);
	free(authz);
	free(sreq);
}

/* ---- the signer's own rules ---- */

static const struct sigv4_header host_only[] = { { "Host", "example.amazonaws.com" } };

static struct sigv4_params suite_params(void)
{
	return (struct sigv4_params){
		.access_key = SUITE_AK,
		.secret_key = SUITE_SK,
		.region = "us-east-1",
		.service = "service",
		.when = SUITE_WHEN,
	};
}

static char *creq_line(const char *creq, int n, char *buf, size_t size)
{
	const char *s = creq, *e;

	while (n-- > 0 && s)
		s = (s = strchr(s, '\n')) ? s + 1 : NULL;
	assert_non_null(s);
	e = strchr(s, '\n');
	if (!e)
		e = s + strlen(s);
	snprintf(buf, size, "%.*s", (int)(e - s), s);
	return buf;
}

static void path_normalised_and_encoded_twice(void **state)
{
	struct sigv4_request rq = { "GET", "/a/./b/../c%20d//e/.", NULL, host_only, 1, NULL, 0, NULL };
	struct sigv4_params p = suite_params();
	struct sigv4_out out;
	char line[256];
	(void)state;
	assert_int_equal(sigv4_sign(&rq, &p, &out), 0);
	assert_string_equal(creq_line(out.canonical_request, 1, line, sizeof line), "/a/c%2520d/e");
	sigv4_out_clear(&out);

	rq.path = "";
	assert_int_equal(sigv4_sign(&rq, &p, &out), 0);
	assert_string_equal(creq_line(out.canonical_request, 1, line, sizeof line), "/");
	sigv4_out_clear(&out);

	rq.path = "/../..";
	assert_int_equal(sigv4_sign(&rq, &p, &out), 0);
	assert_string_equal(creq_line(out.canonical_request, 1, line, sizeof line), "/");
	sigv4_out_clear(&out);
}

static void s3_path_kept_and_content_sha256_signed(void **state)
{
	struct sigv4_request rq = { "PUT", "/bucket/a//b/./c%20d e", NULL, host_only, 1, "hi", 2, NULL };
	struct sigv4_params p = suite_params();
	struct sigv4_out out;
	char line[256];
	const char *v;
	(void)state;
	p.service = "s3";
	p.s3 = true;
	assert_int_equal(sigv4_sign(&rq, &p, &out), 0);
	assert_string_equal(creq_line(out.canonical_request, 1, line, sizeof line),
			    "/bucket/a//b/./c%20d%20e");
	assert_string_equal(creq_line(out.canonical_request, 4, line, sizeof line),
			    "x-amz-content-sha256:"
			    "8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4");
	assert_string_equal(creq_line(out.canonical_request, 7, line, sizeof line),
			    "host;x-amz-content-sha256;x-amz-date");
	v = header_value(out.added, out.n_added, "X-Amz-Content-Sha256");
	assert_non_null(v);
	assert_string_equal(v, "8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4");
	sigv4_out_clear(&out);

	rq.payload_hash = "UNSIGNED-PAYLOAD";
	assert_int_equal(sigv4_sign(&rq, &p, &out), 0);
	assert_string_equal(header_value(out.added, out.n_added, "X-Amz-Content-Sha256"),
			    "UNSIGNED-PAYLOAD");
	assert_string_equal(creq_line(out.canonical_request, 8, line, sizeof line), "UNSIGNED-PAYLOAD");
	sigv4_out_clear(&out);
}

/* AWS's worked example "GET Object" (Amazon S3 API Reference, "Signature calculations for the
 * Authorization header"): the S3 rules end to end. */
static void s3_documented_get_object(void **state)
{
	static const struct sigv4_header h[] = {
		{ "Host", "examplebucket.s3.amazonaws.com" },
		{ "Range", "bytes=0-9" },
	};
	struct sigv4_request rq = { "GET", "/test.txt", NULL, h, 2, NULL, 0, NULL };
	struct sigv4_params p = {
		.access_key = "AKIAIOSFODNN7EXAMPLE",
		.secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		.region = "us-east-1",
		.service = "s3",
		.when = (time_t)1369353600, /* 20130524T000000Z */
		.s3 = true,
	};
	struct sigv4_out out;
	(void)state;
	assert_int_equal(sigv4_sign(&rq, &p, &out), 0);
	assert_string_equal(out.authorization,
			    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
			    "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
			    "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
	sigv4_out_clear(&out);
}

static void query_pairs_sorted_and_reencoded(void **state)
{
	struct sigv4_request rq = { "GET", "/", "b=2&a&&a=%7e+x&=e&a=1&c=%zz&", host_only, 1, NULL, 0, NULL };
	struct sigv4_params p = suite_params();
	struct sigv4_out out;
	char line[256];
	(void)state;
	assert_int_equal(sigv4_sign(&rq, &p, &out), 0);
	assert_string_equal(creq_line(out.canonical_request, 2, line, sizeof line),
			    "=e&a=&a=1&a=~%2Bx&b=2&c=%25zz");
	sigv4_out_clear(&out);
}

static void proxy_headers_unsigned_and_values_trimmed(void **state)
{
	static const struct sigv4_header h[] = {
		{ "host", "example.amazonaws.com" },  { "User-Agent", "x" },
		{ "X-B", "  a \t  b\r\n c  " },          { "x-b", "d" },
		{ "Connection", "keep-alive" },       { "Authorization", "old" },
		{ "X-Amz-Date", "19990101T000000Z" }, { "Content-Type", "application/x-amz-json-1.1" },
	};
	struct sigv4_request rq = { "post", "/", NULL, h, 8, "{}", 2, NULL };
	struct sigv4_params p = suite_params();
	struct sigv4_out out;
	char line[256];
	(void)state;
	assert_int_equal(sigv4_sign(&rq, &p, &out), 0);
	assert_string_equal(creq_line(out.canonical_request, 0, line, sizeof line), "POST");
	assert_string_equal(creq_line(out.canonical_request, 5, line, sizeof line), "x-amz-date:20150830T123600Z");
	assert_string_equal(creq_line(out.canonical_request, 6, line, sizeof line), "x-b:a b c,d");
	assert_string_equal(creq_line(out.canonical_request, 8, line, sizeof line),
			    "content-type;host;x-amz-date;x-b");
	assert_int_equal(out.n_added, 2);
	sigv4_out_clear(&out);
}

static void errors_name_the_field(void **state)
{
	static const struct sigv4_header bad_name[] = { { "Host", "h" }, { "X-A\nB", "v" } };
	static const struct sigv4_header two_hosts[] = { { "Host", "h" }, { ":authority", "h" } };
	struct sigv4_request rq = { "GET", "/", NULL, host_only, 1, NULL, 0, NULL };
	struct sigv4_params p = suite_params();
	struct sigv4_out out;
	(void)state;

	rq.n_headers = 0;
	assert_int_equal(sigv4_sign(&rq, &p, &out), -1);
	assert_non_null(strstr(out.error, "Host"));
	assert_null(out.canonical_request);
	assert_null(out.authorization);
	assert_int_equal(out.n_added, 0);
	sigv4_out_clear(&out);

	rq.headers = bad_name;
	rq.n_headers = 2;
	assert_int_equal(sigv4_sign(&rq, &p, &out), -1);
	assert_non_null(strstr(out.error, "header 2"));

	rq.headers = two_hosts;
	assert_int_equal(sigv4_sign(&rq, &p, &out), -1);
	assert_non_null(strstr(out.error, "more than one Host"));

	rq.headers = host_only;
	rq.n_headers = 1;
	rq.method = "";
	assert_int_equal(sigv4_sign(&rq, &p, &out), -1);
	assert_non_null(strstr(out.error, "method"));
	rq.method = "GET";

	rq.path = "relative";
	assert_int_equal(sigv4_sign(&rq, &p, &out), -1);
	assert_non_null(strstr(out.error, "path"));
	rq.path = "/a?b=c";
	assert_int_equal(sigv4_sign(&rq, &p, &out), -1);
	assert_non_null(strstr(out.error, "query"));
	rq.path = "/";

	p.region = "us-east-1/x";
	assert_int_equal(sigv4_sign(&rq, &p, &out), -1);
	assert_non_null(strstr(out.error, "region"));
	p.region = "us-east-1";
	p.service = NULL;
	assert_int_equal(sigv4_sign(&rq, &p, &out), -1);
	assert_non_null(strstr(out.error, "service"));
	p.service = "service";
	p.secret_key = "";
	assert_int_equal(sigv4_sign(&rq, &p, &out), -1);
	assert_non_null(strstr(out.error, "secret_key"));
	p.secret_key = SUITE_SK;
	p.session_token = "a b";
	assert_int_equal(sigv4_sign(&rq, &p, &out), -1);
	assert_non_null(strstr(out.error, "session_token"));
	assert_null(strstr(out.error, "a b"));
	p.session_token = NULL;
	p.when = (time_t)-62167219201LL; /* before year 1 */
	assert_int_equal(sigv4_sign(&rq, &p, &out), -1);
	assert_non_null(strstr(out.error, "when"));
	p.when = SUITE_WHEN;

	assert_int_equal(sigv4_sign(&rq, &p, &out), 0);
	sigv4_out_clear(&out);
}

static void too_large_is_an_error(void **state)
{
	size_t n = SIGV4_MAX_CANONICAL + 10;
	char *big = malloc(n + 1);
	struct sigv4_header h[] = { { "Host", "h" }, { "X-Big", NULL } };
	struct sigv4_request rq = { "GET", "/", NULL, h, 2, NULL, 0, NULL };
	struct sigv4_params p = suite_params();
	struct sigv4_out out;
	(void)state;
	assert_non_null(big);
	memset(big, 'a', n);
	big[n] = '\0';
	h[1].value = big;
	assert_int_equal(sigv4_sign(&rq, &p, &out), -1);
	assert_non_null(strstr(out.error, "too large"));
	free(big);
}

static void clear_wipes_everything(void **state)
{
	struct sigv4_request rq = { "GET", "/", NULL, host_only, 1, NULL, 0, NULL };
	struct sigv4_params p = suite_params();
	struct sigv4_out out, zero;
	(void)state;
	p.session_token = SUITE_TOKEN;
	p.s3 = true;
	assert_int_equal(sigv4_sign(&rq, &p, &out), 0);
	assert_int_equal(out.n_added, 4);
	assert_non_null(strstr(out.canonical_request, SUITE_TOKEN));
	sigv4_out_clear(&out);
	memset(&zero, 0, sizeof zero);
	assert_memory_equal(&out, &zero, sizeof out);
	sigv4_out_clear(NULL);
}

int main(void)
{
	struct CMUnitTest tests[N_CASES + 12];
	size_t n = 0;

	tests[n++] = (struct CMUnitTest)cmocka_unit_test(suite_dir_exists);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(suite_has_no_unlisted_case);
	for (size_t i = 0; i < N_CASES; i++) {
		tests[n] = (struct CMUnitTest)cmocka_unit_test_prestate(suite_case, (void *)suite_cases[i]);
		tests[n].name = suite_cases[i];
		n++;
	}
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(path_normalised_and_encoded_twice);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(s3_path_kept_and_content_sha256_signed);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(s3_documented_get_object);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(query_pairs_sorted_and_reencoded);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(proxy_headers_unsigned_and_values_trimmed);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(errors_name_the_field);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(too_large_is_an_error);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(clear_wipes_everything);
	return _cmocka_run_group_tests("sigv4", tests, n, NULL, NULL);
}
