/*
 * The examples of protocol/PROTOCOL.md are test cases: every fenced block with "example=" in
 * its info string is checked against the library (the table at the end of PROTOCOL.md says
 * how). The file is read at run time, so editing the document changes what is tested.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "protocol/protocol.h"

struct block {
	char info[512];
	char *text;
	size_t len;
	int line; /* line of the opening fence, for messages */
};

static struct block blocks[256];
static size_t nblocks;

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf) {
		buf[n] = '\0';
		*len = (size_t)n;
	}
	return buf;
}

/* Collect the fenced blocks whose info string has "example=". */
static void load_blocks(void)
{
	size_t len = 0;
	char *doc = slurp(SV_PROTOCOL_MD, &len), *p, *nl;
	int line = 0, state = 0; /* 0 outside, 1 in an example, 2 in another fenced block */
	struct block *open = NULL;

	assert_non_null(doc);
	for (p = doc; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		line++;
		if (strncmp(p, "```", 3) == 0) {
			if (state == 1) {
				open->len = (size_t)(p - open->text);
				open->text = strndup(open->text, open->len);
				open = NULL;
				state = 0;
			} else if (state == 2) {
				state = 0;
			} else if (memmem(p, (size_t)(nl - p), "example=", 8)) {
				assert_true(nblocks < sizeof blocks / sizeof blocks[0]);
				open = &blocks[nblocks++];
				snprintf(open->info, sizeof open->info, "%.*s", (int)(nl - p - 3), p + 3);
				open->text = nl + 1;
				open->line = line;
				state = 1;
			} else {
				state = 2;
			}
		}
		if (!*nl)
			break;
	}
	assert_int_equal(state, 0);
	free(doc);
}

/* The value of attribute key in an info string ("key=value" or key="two words"), or NULL. */
static const char *attr(const struct block *b, const char *key, char *out, size_t cap)
{
	char pat[64];
	const char *p;
	size_t n;

	snprintf(pat, sizeof pat, " %s=", key);
	p = strstr(b->info, pat);
	if (!p)
		return NULL;
	p += strlen(pat);
	if (*p == '"') {
		p++;
		n = strcspn(p, "\"");
	} else {
		n = strcspn(p, " ");
	}
	snprintf(out, cap, "%.*s", (int)n, p);
	return out;
}

static long long attr_num(const struct block *b, const char *key, long long dflt)
{
	char v[64];

	return attr(b, key, v, sizeof v) ? strtoll(v, NULL, 10) : dflt;
}

static bool is_kind(const struct block *b, const char *kind)
{
	char v[64];

	return attr(b, "example", v, sizeof v) && strcmp(v, kind) == 0;
}

static void fail_at(const struct block *b, const char *what, const char *detail)
{
	print_error("PROTOCOL.md line %d (%s): %s: %s\n", b->line, b->info, what, detail);
	fail();
}

static void check_event(const struct block *b)
{
	char expect[32], want[128];
	json_error_t jerr;
	struct pr_error err = {0};
	json_t *ev = json_loadb(b->text, b->len, 0, &jerr);
	int rc;

	if (!ev)
		fail_at(b, "not JSON", jerr.text);
	rc = pr_event_validate(ev, &err);
	assert_non_null(attr(b, "expect", expect, sizeof expect));
	if (strcmp(expect, "valid") == 0) {
		if (rc != 0)
			fail_at(b, "expected valid", err.text);
		/* a valid example also fits the size bound and survives a round trip */
		size_t n;
		char *enc = pr_event_encode(ev, &n);
		assert_non_null(enc);
		json_t *back = json_loadb(enc, n, 0, &jerr);
		assert_true(json_equal(ev, back));
		json_decref(back);
		free(enc);
	} else {
		if (rc != -1)
			fail_at(b, "expected invalid", "validated");
		if (attr(b, "error", want, sizeof want) && !strstr(err.text, want))
			fail_at(b, "error text lacks the expected words", err.text);
	}
	json_decref(ev);
}

static void check_request(const struct block *b, const struct block *next)
{
	char path[256], stream[PR_STREAM_MAX + 1], want[128], out[PR_RESPONSE_MAX];
	struct pr_batch batch;
	struct pr_ack_plan plan;
	struct pr_error err = {0};
	struct pr_response r = {0};
	long long expect = attr_num(b, "expect", 0);
	int rc;

	assert_non_null(attr(b, "path", path, sizeof path));
	assert_int_equal(pr_path_stream(path, stream), 0);
	rc = pr_batch_decode(b->text, b->len, stream, &batch, &err);
	if (rc == 0) {
		rc = pr_ack_plan_batch((uint64_t)attr_num(b, "ack", 0), &batch, &plan, &err);
		if (rc < 0)
			pr_batch_clear(&batch);
	}
	if (expect != 200) {
		if (rc != -1)
			fail_at(b, "expected a refusal", "accepted");
		if (err.status != expect) {
			char got[32];
			snprintf(got, sizeof got, "status %d: %.20s", err.status, err.text);
			fail_at(b, "wrong status", got);
		}
		if (attr(b, "error", want, sizeof want) && !strstr(err.text, want))
			fail_at(b, "error text lacks the expected words", err.text);
		return;
	}
	if (rc != 0)
		fail_at(b, "expected 200", err.text);
	if (attr_num(b, "store", -1) >= 0)
		assert_int_equal(plan.store_count, attr_num(b, "store", -1));
	if (attr_num(b, "duplicates", -1) >= 0)
		assert_int_equal(plan.duplicates, attr_num(b, "duplicates", -1));
	/* the stored events are exactly the ones after the old ack */
	for (size_t i = 0; i < plan.store_count; i++) {
		json_t *ev = json_array_get(batch.events, plan.store_from + i);
		assert_int_equal(json_integer_value(json_object_get(ev, "seq")),
				 attr_num(b, "ack", 0) + 1 + (long long)i);
	}
	r.ack = plan.new_ack;
	r.resend_from = plan.resend_from;
	r.cancel = attr_num(b, "cancel", 0) != 0;
	r.detach = attr_num(b, "detach", 0) != 0;
	pr_batch_clear(&batch);
	assert_true(pr_response_format(&r, out, sizeof out) > 0);
	if (!next || !is_kind(next, "response"))
		fail_at(b, "a 200 request needs an example=response block after it", "missing");
	if (strlen(out) != next->len - 1 || memcmp(out, next->text, next->len - 1) != 0)
		fail_at(next, "response differs; the library answers", out);
	/* and the agent reads it back */
	struct pr_response back;
	assert_int_equal(pr_response_parse(next->text, next->len, &back, &err), 0);
	assert_int_equal(back.ack, r.ack);
	assert_int_equal(back.resend_from, r.resend_from);
	assert_int_equal(back.cancel, r.cancel);
	assert_int_equal(back.detach, r.detach);
}

static void check_response_parse(const struct block *b)
{
	char expect[32];
	struct pr_response r;
	struct pr_error err = {0};
	int rc = pr_response_parse(b->text, b->len, &r, &err);

	if (attr(b, "expect", expect, sizeof expect) && strcmp(expect, "invalid") == 0) {
		if (rc != -1)
			fail_at(b, "expected invalid", "parsed");
		return;
	}
	if (rc != 0)
		fail_at(b, "expected a response", err.text);
	assert_int_equal(r.ack, attr_num(b, "ack", -1));
	assert_int_equal(r.resend_from, attr_num(b, "resend_from", -1));
	assert_int_equal(r.cancel, attr_num(b, "cancel", -1));
	assert_int_equal(r.detach, attr_num(b, "detach", -1));
}

static void check_fallback(const struct block *b)
{
	char expect[32];
	int want, lines = 0;
	const char *p = b->text, *end = b->text + b->len;

	assert_non_null(attr(b, "expect", expect, sizeof expect));
	want = strcmp(expect, "event") == 0 ? 1 : strcmp(expect, "ignored") == 0 ? 0 : -1;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p + 1) : (size_t)(end - p);
		json_t *ev = (json_t *)1;
		struct pr_error err = {0};
		int rc = pr_fallback_parse_line(p, n, &ev, &err);
		if (rc != want)
			fail_at(b, "unexpected result for a line", err.text);
		assert_true((rc == 1) == (ev != NULL));
		json_decref(ev);
		lines++;
		p += n;
	}
	assert_true(lines > 0);
}

static void test_examples(void **state)
{
	size_t counts[5] = {0};

	(void)state;
	load_blocks();
	for (size_t i = 0; i < nblocks; i++) {
		struct block *b = &blocks[i];
		if (is_kind(b, "event")) {
			check_event(b);
			counts[0]++;
		} else if (is_kind(b, "request")) {
			check_request(b, i + 1 < nblocks ? &blocks[i + 1] : NULL);
			counts[1]++;
		} else if (is_kind(b, "response")) {
			counts[2]++;
		} else if (is_kind(b, "response-parse")) {
			check_response_parse(b);
			counts[3]++;
		} else if (is_kind(b, "fallback")) {
			check_fallback(b);
			counts[4]++;
		} else {
			fail_at(b, "unknown example kind", b->info);
		}
	}
	/* the document's examples are there: at least one of each type of event and these */
	assert_true(counts[0] >= 13);
	assert_true(counts[1] >= 10);
	assert_true(counts[2] >= 4);
	assert_true(counts[3] >= 2);
	assert_true(counts[4] >= 3);
	for (size_t i = 0; i < nblocks; i++)
		free(blocks[i].text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
