/*
 * fuzz_sigv4 — sigv4_sign() on any request. The input is read as an HTTP request the way the
 * AWS test suite writes them ("METHOD TARGET VERSION", header lines "Name:value" with folded
 * continuation lines, a blank line, the body), so the suite's .req files are seeds; a hash of
 * the input picks S3 rules, a session token (signed or not) and UNSIGNED-PAYLOAD.
 *
 * Invariants checked on every input:
 * - sigv4_sign returns 0 or -1; on -1 out->error is set and nothing else is;
 * - on 0: the canonical request has exactly 6 + (number of signed headers) - 1 newlines, its
 *   path line starts with '/' and holds only unreserved characters, '/' and "%XX" (and for
 *   services other than S3 no empty, "." or ".." segment), its query line only unreserved
 *   characters, '%', '=' and '&' in sorted order; the string to sign has 4 lines; the
 *   Authorization header ends with a 64-digit hex signature and is out->added's last entry;
 * - signing the same request again gives the same bytes; sigv4_out_clear zeroes out.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sigv4.h"

#define FZ_MAX_HEADERS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool fz_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

static bool fz_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

static size_t fz_count(const char *s, size_t n, char c)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += s[i] == c;
	return k;
}

/* The line [s, e) of the canonical request: path (s3: no normalisation checks). */
static void fz_check_path(const char *s, const char *e, bool s3)
{
	if (e <= s || *s != '/')
		__builtin_trap();
	for (const char *p = s; p < e; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '%') {
			/* Always "%XX": uppercase where the signer encoded, as sent under S3. */
			if (p + 2 >= e || !isxdigit((unsigned char)p[1]) || !isxdigit((unsigned char)p[2]))
				__builtin_trap();
			if (!s3 && (!fz_hex((unsigned char)p[1]) || !fz_hex((unsigned char)p[2])))
				__builtin_trap();
			p += 2;
		} else if (!fz_unreserved(c) && c != '/') {
			__builtin_trap();
		}
	}
	if (s3)
		return;
	/* No empty segment (but a lone "/" and a trailing '/'), no "." or "..". */
	for (const char *p = s; p < e; p++) {
		if (*p != '/')
			continue;
		const char *q = p + 1;
		size_t len = 0;

		while (q + len < e && q[len] != '/')
			len++;
		if (len == 0 && q < e)
			__builtin_trap();
		if ((len == 1 && q[0] == '.') || (len == 2 && q[0] == '.' && q[1] == '.'))
			__builtin_trap();
	}
}

static void fz_check_query(const char *s, const char *e)
{
	const char *prev = NULL, *p = s;
	size_t prev_len = 0;

	for (const char *c = s; c < e; c++)
		if (!fz_unreserved((unsigned char)*c) && *c != '%' && *c != '=' && *c != '&')
			__builtin_trap();
	while (p < e) {
		const char *amp = memchr(p, '&', (size_t)(e - p));
		const char *end = amp ? amp : e;
		const char *eq = memchr(p, '=', (size_t)(end - p));

		if (!eq) /* every pair has its '=' */
			__builtin_trap();
		/* Sorted by key: keys only hold unreserved and %XX, so comparing "key" prefixes. */
		if (prev) {
			size_t kl = (size_t)(eq - p);
			size_t n = kl < prev_len ? kl : prev_len;
			int c = memcmp(prev, p, n);

			if (c > 0 || (c == 0 && prev_len > kl))
				__builtin_trap();
		}
		prev = p;
		prev_len = (size_t)(eq - p);
		p = amp ? amp + 1 : e;
	}
}

static void fz_check(const struct sigv4_out *out, const struct sigv4_params *p)
{
	const char *cr = out->canonical_request, *l1, *l2, *l3, *sh;
	size_t n_signed, crlen;
	const char *a = out->authorization;
	size_t alen;

	if (!cr || !out->string_to_sign || !a)
		__builtin_trap();
	crlen = strlen(cr);
	/* SignedHeaders= of the Authorization header gives the number of header lines. */
	sh = strstr(a, ", SignedHeaders=");
	if (!sh || strncmp(a, "AWS4-HMAC-SHA256 Credential=", 28) != 0)
		__builtin_trap();
	sh += 16;
	n_signed = 1;
	for (const char *q = sh; *q && *q != ','; q++)
		n_signed += *q == ';';
	if (fz_count(cr, crlen, '\n') != n_signed + 5)
		__builtin_trap();
	l1 = strchr(cr, '\n') + 1;
	l2 = strchr(l1, '\n');
	fz_check_path(l1, l2, p->s3);
	l2++;
	l3 = strchr(l2, '\n');
	fz_check_query(l2, l3);
	if (fz_count(out->string_to_sign, strlen(out->string_to_sign), '\n') != 3)
		__builtin_trap();
	alen = strlen(a);
	if (alen < 64 + 12 || strncmp(a + alen - 64 - 12, ", Signature=", 12) != 0)
		__builtin_trap();
	for (size_t i = alen - 64; i < alen; i++)
		if (!((a[i] >= '0' && a[i] <= '9') || (a[i] >= 'a' && a[i] <= 'f')))
			__builtin_trap();
	if (out->n_added < 2 || out->n_added > SIGV4_MAX_ADDED ||
	    out->added[out->n_added - 1].value != a ||
	    strcmp(out->added[out->n_added - 1].name, "Authorization") != 0)
		__builtin_trap();
	if (out->n_added != 2u + (p->session_token != NULL) + p->s3)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *line, *next, *end, *sp, *last, *q;
	struct sigv4_header h[FZ_MAX_HEADERS];
	struct sigv4_request rq = { 0 };
	struct sigv4_params p = {
		.access_key = "AKIDEXAMPLE",
		.secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
		.region = "us-east-1",
		.service = "service",
		.when = (time_t)1440938160,
	};
	struct sigv4_out out, again;
	uint32_t hash = 2166136261u;
	int rc;

	if (!text)
		return 0;
	for (size_t i = 0; i < size; i++)
		hash = (hash ^ data[i]) * 16777619u;
	p.s3 = hash & 1;
	if (hash & 2)
		p.session_token = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQ==";
	p.token_unsigned = (hash & 6) == 6;
	if ((hash & 24) == 24)
		rq.payload_hash = "UNSIGNED-PAYLOAD";
	if (p.s3)
		p.service = "s3";

	memcpy(text, data, size);
	text[size] = '\0';
	end = text + strlen(text); /* a NUL ends the request */
	next = text;
	line = next;
	next = strchr(line, '\n');
	if (next)
		*next++ = '\0';
	else
		next = end;
	sp = strchr(line, ' ');
	last = strrchr(line, ' ');
	if (sp && last != sp) {
		*sp = '\0';
		*last = '\0';
	} else if (sp) {
		*sp = '\0';
	}
	rq.method = line;
	rq.path = sp ? sp + 1 : "";
	q = strchr(rq.path, '?');
	if (q) {
		*q = '\0';
		rq.query = q + 1;
	}
	rq.headers = h;
	while (next < end) {
		char *colon;

		line = next;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = end;
		if (*line == '\0' || (*line == '\r' && line[1] == '\0')) {
			rq.body = next;
			rq.body_len = (size_t)(end - next);
			break;
		}
		if ((*line == ' ' || *line == '\t') && rq.n_headers > 0) {
			line[-1] = '\n'; /* folded: join with the line before */
			continue;
		}
		colon = strchr(line, ':');
		if (!colon || rq.n_headers == FZ_MAX_HEADERS)
			continue;
		*colon = '\0';
		h[rq.n_headers].name = line;
		h[rq.n_headers].value = colon + 1;
		rq.n_headers++;
	}

	rc = sigv4_sign(&rq, &p, &out);
	if (rc == -1) {
		if (out.error[0] == '\0' || out.canonical_request || out.authorization || out.n_added)
			__builtin_trap();
	} else if (rc == 0) {
		fz_check(&out, &p);
		if (sigv4_sign(&rq, &p, &again) != 0 ||
		    strcmp(out.canonical_request, again.canonical_request) != 0 ||
		    strcmp(out.authorization, again.authorization) != 0)
			__builtin_trap();
		sigv4_out_clear(&again);
	} else {
		__builtin_trap();
	}
	sigv4_out_clear(&out);
	for (size_t i = 0; i < sizeof out; i++)
		if (((unsigned char *)&out)[i] != 0)
			__builtin_trap();
	free(text);
	return 0;
}
