/*
 * sv_sigv4_tool — a test-only driver of coordinator/aws/sigv4.c: reads requests to sign as
 * JSON lines on stdin, writes one JSON line per request on stdout. Used by
 * tests/integration/test_aws_sigv4_botocore.py (compared with botocore) and by
 * tests/bench/sigv4_bench.py (signatures per second). Not installed, not part of stagevisor.
 *
 * Input line: {"method", "path", "query" (raw, no '?'), "headers": [[name, value], …],
 *              "body_b64" (optional), "payload_hash" (optional), "access_key", "secret_key",
 *              "session_token" (optional), "region", "service", "when" (epoch seconds),
 *              "s3" (bool), "token_unsigned" (bool)}
 * Output line: {"authorization", "canonical_request", "string_to_sign",
 *               "added": [[name, value], …]} or {"error": "…"} (also for a line that is not a
 *               request). Exit 0 when every line was read, 2 on a usage error.
 *
 * --repeat N: sign every request N times after reading them all and print only
 *   {"signatures": n, "seconds": s} (the JSON parsing is not timed).
 * --hmac N: print {"hmacs": N, "seconds": s} for N plain HMAC-SHA256 of a 200-byte message
 *   (the machine's baseline for the benchmark).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sigv4.h"

#define TOOL_MAX_LINE (4 * 1024 * 1024)
#define TOOL_MAX_HEADERS 256

struct tool_req {
	json_t *doc; /* owns every string below */
	struct sigv4_request rq;
	struct sigv4_params p;
	struct sigv4_header headers[TOOL_MAX_HEADERS];
	unsigned char *body;
};

static const char *tool_str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int tool_b64(const char *s, unsigned char **out, size_t *n)
{
	size_t len = strlen(s), pad = 0;
	int got;

	*out = malloc(len / 4 * 3 + 4);
	if (!*out)
		return -1;
	got = EVP_DecodeBlock(*out, (const unsigned char *)s, (int)len);
	if (got < 0 || len % 4)
		return -1;
	if (len >= 1 && s[len - 1] == '=')
		pad++;
	if (len >= 2 && s[len - 2] == '=')
		pad++;
	*n = (size_t)got - pad;
	return 0;
}

static int tool_parse(const char *line, struct tool_req *t, char *err, size_t errlen)
{
	json_error_t je;
	json_t *h, *v;
	size_t i;

	memset(t, 0, sizeof *t);
	t->doc = json_loads(line, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(t->doc)) {
		snprintf(err, errlen, "not a JSON object: %s", je.text);
		return -1;
	}
	t->rq.method = tool_str(t->doc, "method");
	t->rq.path = tool_str(t->doc, "path");
	t->rq.query = tool_str(t->doc, "query");
	t->rq.payload_hash = tool_str(t->doc, "payload_hash");
	h = json_object_get(t->doc, "headers");
	if (h && !json_is_array(h)) {
		snprintf(err, errlen, "headers: not an array");
		return -1;
	}
	if (json_array_size(h) > TOOL_MAX_HEADERS) {
		snprintf(err, errlen, "headers: more than %d", TOOL_MAX_HEADERS);
		return -1;
	}
	json_array_foreach(h, i, v) {
		if (json_array_size(v) != 2 || !json_is_string(json_array_get(v, 0)) ||
		    !json_is_string(json_array_get(v, 1))) {
			snprintf(err, errlen, "headers[%zu]: not a [name, value] pair of strings", i);
			return -1;
		}
		t->headers[i].name = json_string_value(json_array_get(v, 0));
		t->headers[i].value = json_string_value(json_array_get(v, 1));
	}
	t->rq.headers = t->headers;
	t->rq.n_headers = json_array_size(h);
	if (tool_str(t->doc, "body_b64") &&
	    tool_b64(tool_str(t->doc, "body_b64"), &t->body, &t->rq.body_len) < 0) {
		snprintf(err, errlen, "body_b64: not base64");
		return -1;
	}
	t->rq.body = t->body;
	t->p.access_key = tool_str(t->doc, "access_key");
	t->p.secret_key = tool_str(t->doc, "secret_key");
	t->p.session_token = tool_str(t->doc, "session_token");
	t->p.region = tool_str(t->doc, "region");
	t->p.service = tool_str(t->doc, "service");
	t->p.when = (time_t)json_integer_value(json_object_get(t->doc, "when"));
	t->p.s3 = json_is_true(json_object_get(t->doc, "s3"));
	t->p.token_unsigned = json_is_true(json_object_get(t->doc, "token_unsigned"));
	return 0;
}

static void tool_req_free(struct tool_req *t)
{
	json_decref(t->doc);
	free(t->body);
	memset(t, 0, sizeof *t);
}

static void tool_print(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);

	if (s) {
		puts(s);
		free(s);
	}
	json_decref(o);
}

static void tool_error(const char *msg)
{
	tool_print(json_pack("{s:s}", "error", msg));
}

static double tool_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int tool_hmac(long n)
{
	unsigned char key[32] = { 1 }, msg[200] = { 2 }, md[32];
	unsigned int mdlen;
	double t0 = tool_now();

	for (long i = 0; i < n; i++) {
		HMAC(EVP_sha256(), key, sizeof key, msg, sizeof msg, md, &mdlen);
		key[0] = md[0];
	}
	tool_print(json_pack("{s:I,s:f}", "hmacs", (json_int_t)n, "seconds", tool_now() - t0));
	return 0;
}

int main(int argc, char **argv)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long repeat = 0;
	struct tool_req *all = NULL;
	size_t n_all = 0, cap_all = 0;

	if (argc == 3 && strcmp(argv[1], "--hmac") == 0)
		return tool_hmac(strtol(argv[2], NULL, 10));
	if (argc == 3 && strcmp(argv[1], "--repeat") == 0)
		repeat = strtol(argv[2], NULL, 10);
	else if (argc != 1) {
		fprintf(stderr, "usage: sv_sigv4_tool [--repeat N | --hmac N] < requests.jsonl\n");
		return 2;
	}

	while ((len = getline(&line, &cap, stdin)) >= 0) {
		struct tool_req t;
		struct sigv4_out out;
		char err[200];
		json_t *added, *o;

		if (len > TOOL_MAX_LINE) {
			tool_error("line too long");
			continue;
		}
		if (tool_parse(line, &t, err, sizeof err) < 0) {
			tool_req_free(&t);
			tool_error(err);
			continue;
		}
		if (repeat > 0) {
			if (n_all == cap_all) {
				size_t nc = cap_all ? cap_all * 2 : 64;
				struct tool_req *na = realloc(all, nc * sizeof *na);

				if (!na) {
					fprintf(stderr, "sv_sigv4_tool: out of memory\n");
					return 1;
				}
				all = na;
				cap_all = nc;
			}
			all[n_all++] = t; /* rq.headers is pointed at its copy once the array stops moving */
			continue;
		}
		if (sigv4_sign(&t.rq, &t.p, &out) < 0) {
			tool_error(out.error);
			tool_req_free(&t);
			continue;
		}
		added = json_array();
		for (size_t i = 0; i < out.n_added; i++)
			json_array_append_new(added, json_pack("[s,s]", out.added[i].name, out.added[i].value));
		o = json_pack("{s:s,s:s,s:s,s:o}", "authorization", out.authorization,
			      "canonical_request", out.canonical_request, "string_to_sign",
			      out.string_to_sign, "added", added);
		tool_print(o);
		fflush(stdout);
		sigv4_out_clear(&out);
		tool_req_free(&t);
	}
	free(line);
	if (repeat > 0) {
		long ok = 0;
		double t0;

		for (size_t i = 0; i < n_all; i++)
			all[i].rq.headers = all[i].headers;
		t0 = tool_now();
		for (long r = 0; r < repeat; r++)
			for (size_t i = 0; i < n_all; i++) {
				struct sigv4_out out;

				if (sigv4_sign(&all[i].rq, &all[i].p, &out) == 0)
					ok++;
				sigv4_out_clear(&out);
			}
		tool_print(json_pack("{s:I,s:f}", "signatures", (json_int_t)ok, "seconds", tool_now() - t0));
		for (size_t i = 0; i < n_all; i++)
			tool_req_free(&all[i]);
		free(all);
	}
	return 0;
}
