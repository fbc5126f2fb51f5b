/* Unit tests of coordinator/slug.c: branch names as DNS labels, for the local `.localhost`
 * names and the fargate backend's Route 53 names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "slug.h"

static void make(const char *branch, size_t maxlen, char *buf)
{
	assert_int_equal(slug_make(branch, maxlen, buf, SLUG_MAX + 1), 0);
	assert_true(slug_is_valid(buf, maxlen));
}

static void clean_names_are_kept(void **state)
{
	char s[SLUG_MAX + 1];
	const char *clean[] = {"main", "develop", "feature-jira-123", "1", "a", "ab", "0-0", "release-2024-01",
	                       "abcdefghijklmnopqrstuvwxyz0123456789-abcdefghijklmnopqrstuvwxyz"};
	(void)state;
	for (size_t i = 0; i < sizeof clean / sizeof clean[0]; i++) {
		make(clean[i], SLUG_MAX, s);
		assert_string_equal(s, clean[i]);
		assert_true(slug_is_clean(clean[i], SLUG_MAX));
	}
}

/* The hash is part of every published name: it must never change between versions. Expected
 * values: base32(sha256(name))[:8], lower case (Python's hashlib + base64). */
static void changed_names_get_the_hash(void **state)
{
	char s[SLUG_MAX + 1];
	(void)state;
	make("feature/JIRA-123", SLUG_MAX, s);
	assert_string_equal(s, "feature-jira-123--qhxw4cfu");
	make("Main", SLUG_MAX, s);
	assert_string_equal(s, "main--5oauxy6k");
	make("", SLUG_MAX, s);
	assert_string_equal(s, "x--4oymiquy");
	make("///", SLUG_MAX, s);
	assert_int_equal(strncmp(s, "x--", 3), 0);
	make("--lead", SLUG_MAX, s);
	assert_int_equal(strncmp(s, "lead--", 6), 0);
	make("trail-", SLUG_MAX, s);
	assert_int_equal(strncmp(s, "trail--", 7), 0);
	make("a--b", SLUG_MAX, s);
	assert_int_equal(strncmp(s, "a-b--", 5), 0);
	make("xn--nxasmq6b", SLUG_MAX, s); /* punycode-looking: changed */
	assert_int_equal(strncmp(s, "xn-nxasmq6b--", 13), 0);
	make("f\xc3\xafx_it.now", SLUG_MAX, s);
	assert_int_equal(strncmp(s, "f-x-it-now--", 12), 0);
	make("ab/", SLUG_MAX, s); /* base "ab" would put "--" in places 3-4 */
	assert_int_equal(strncmp(s, "a--", 3), 0);
	assert_int_equal(strlen(s), 3 + SLUG_HASH_LEN);
}

static void long_names_are_shortened(void **state)
{
	char name[200], s[SLUG_MAX + 1];
	(void)state;
	memset(name, 'a', 64);
	name[64] = '\0';
	make(name, SLUG_MAX, s);
	assert_int_equal(strlen(s), SLUG_MAX);
	assert_int_equal(strncmp(s, name, SLUG_MAX - 2 - SLUG_HASH_LEN), 0);
	name[63] = '\0';
	make(name, SLUG_MAX, s);
	assert_string_equal(s, name);
	/* A shorter maximum (the fargate backend, so that <slug>.<zone> fits a certificate CN). */
	make(name, 20, s);
	assert_int_equal(strlen(s), 20);
	make("feature/JIRA-123", SLUG_MIN_MAX, s);
	assert_string_equal(s, "f--qhxw4cfu");
	/* A cut that ends on a hyphen is trimmed. */
	make("abcdefghi-jklmnopqrstuvwxyz", 20, s);
	assert_int_equal(strncmp(s, "abcdefghi--", 11), 0);
	assert_int_equal(strlen(s), 9 + 2 + SLUG_HASH_LEN);
}

static void bad_arguments(void **state)
{
	char s[SLUG_MAX + 1], small[10];
	(void)state;
	assert_int_equal(slug_make("main", SLUG_MIN_MAX - 1, s, sizeof s), -1);
	assert_string_equal(s, "");
	assert_int_equal(slug_make("main", SLUG_MAX + 1, s, sizeof s), -1);
	assert_int_equal(slug_make("main", SLUG_MIN_MAX, small, sizeof small), -1);
	assert_int_equal(slug_make(NULL, SLUG_MAX, s, sizeof s), -1);
	assert_false(slug_is_valid("", SLUG_MAX));
	assert_false(slug_is_valid("-a", SLUG_MAX));
	assert_false(slug_is_valid("a-", SLUG_MAX));
	assert_false(slug_is_valid("A", SLUG_MAX));
	assert_false(slug_is_valid("a--abc", SLUG_MAX));
	assert_false(slug_is_valid("ab--abcdefgh", SLUG_MAX));
	assert_false(slug_is_valid("a--abcdefg1", SLUG_MAX));
	assert_true(slug_is_valid("a--abcdefg2", SLUG_MAX));
	assert_false(slug_is_valid("a--abcdefg2", 10));
}

struct pair {
	char name[96];
	char slug[SLUG_MAX + 1];
};

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct pair *)a)->name, ((const struct pair *)b)->name);
}

static int by_slug(const void *a, const void *b)
{
	return strcmp(((const struct pair *)a)->slug, ((const struct pair *)b)->slug);
}

/* Slugs all valid, all distinct for distinct names; returns the number of distinct names. */
static size_t check_distinct(struct pair *p, size_t n, size_t maxlen)
{
	size_t m = 0;

	qsort(p, n, sizeof *p, by_name);
	for (size_t i = 0; i < n; i++)
		if (m == 0 || strcmp(p[m - 1].name, p[i].name) != 0)
			p[m++] = p[i];
	for (size_t i = 0; i < m; i++) {
		assert_int_equal(slug_make(p[i].name, maxlen, p[i].slug, sizeof p[i].slug), 0);
		if (!slug_is_valid(p[i].slug, maxlen))
			fail_msg("invalid slug %s of %s", p[i].slug, p[i].name);
		assert_true(strlen(p[i].slug) <= maxlen);
		assert_true(slug_is_clean(p[i].name, maxlen) == (strcmp(p[i].name, p[i].slug) == 0));
	}
	qsort(p, m, sizeof *p, by_slug);
	for (size_t i = 1; i < m; i++)
		if (strcmp(p[i - 1].slug, p[i].slug) == 0)
			fail_msg("%s and %s share the slug %s", p[i - 1].name, p[i].name, p[i].slug);
	return m;
}

/* Every name of one and two bytes (1..255 each): 65,280 names. */
static void every_short_name_is_distinct(void **state)
{
	size_t n = 0, cap = 255 + 255 * 255;
	struct pair *p = calloc(cap, sizeof *p);
	(void)state;
	assert_non_null(p);
	for (int a = 1; a < 256; a++) {
		p[n].name[0] = (char)a;
		n++;
		for (int b = 1; b < 256; b++, n++) {
			p[n].name[0] = (char)a;
			p[n].name[1] = (char)b;
		}
	}
	assert_int_equal(check_distinct(p, n, SLUG_MAX), cap);
	assert_int_equal(check_distinct(p, n, SLUG_MIN_MAX), cap);
	free(p);
}

/* Branch-like names that differ only by case, punctuation or beyond the cut, and the slugs
 * of all of them used as branch names in turn. */
static void generated_branch_names_are_distinct(void **state)
{
	static const char *prefix[] = {"feature", "Feature", "FEATURE", "fix", "bugfix", "hotfix", "release", "x", ""};
	static const char *sep[] = {"/", "-", "_", ".", "--", "//", " ", "+", "@", "\xc3\xa9", ""};
	static const char *word[] = {"jira", "JIRA", "Jira", "login-form", "login_form", "login.form", "LoginForm",
	                             "a", "ab", "abc"};
	size_t nwords = sizeof word / sizeof word[0], nsep = sizeof sep / sizeof sep[0];
	size_t nprefix = sizeof prefix / sizeof prefix[0];
	size_t cap = nprefix * nsep * nwords * 3 * 40 * 2 + 4000, n = 0;
	struct pair *p = calloc(cap, sizeof *p);
	size_t maxlens[] = {SLUG_MAX, 30, SLUG_MIN_MAX};
	(void)state;
	assert_non_null(p);
	for (size_t a = 0; a < nprefix; a++)
		for (size_t b = 0; b < nsep; b++)
			for (size_t c = 0; c < nwords; c++)
				for (int num = 0; num < 40; num++)
					for (int tail = 0; tail < 3; tail++) {
						const char *t = tail == 0 ? "" : tail == 1 ? "-" : "X";
						snprintf(p[n++].name, sizeof p[0].name, "%s%s%s-%d%s", prefix[a], sep[b], word[c],
						         num, t);
					}
	/* Long names that differ only after the cut, or only in case there. */
	for (int i = 0; i < 1000; i++) {
		snprintf(p[n++].name, sizeof p[0].name, "feature-%s-%d",
		         "a-very-long-branch-name-that-goes-on-and-on-and-on-beyond-sixty-three", i);
		snprintf(p[n++].name, sizeof p[0].name, "feature-%s-%d",
		         "A-VERY-LONG-BRANCH-NAME-THAT-GOES-ON-AND-ON-AND-ON-BEYOND-SIXTY-THREE", i);
	}
	for (size_t k = 0; k < sizeof maxlens / sizeof maxlens[0]; k++) {
		size_t m = n, distinct;
		struct pair *q = calloc(2 * n, sizeof *q);
		assert_non_null(q);
		memcpy(q, p, n * sizeof *p);
		distinct = check_distinct(q, m, maxlens[k]);
		/* Now every slug is also a branch name. */
		for (size_t i = 0; i < distinct; i++)
			memcpy(q[distinct + i].name, q[i].slug, sizeof q[i].slug);
		check_distinct(q, 2 * distinct, maxlens[k]);
		free(q);
	}
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clean_names_are_kept),
		cmocka_unit_test(changed_names_get_the_hash),
		cmocka_unit_test(long_names_are_shortened),
		cmocka_unit_test(bad_arguments),
		cmocka_unit_test(every_short_name_is_distinct),
		cmocka_unit_test(generated_branch_names_are_distinct),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
