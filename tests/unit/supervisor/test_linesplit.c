/* Tests of supervisor/linesplit.c: lines across chunk boundaries, the length bound,
 * continuation marks, and the unfinished last line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "linesplit.h"

struct collected {
	char text[8192]; /* "line|" per line, "+" before a continuation */
	size_t len;
	int lines;
	size_t longest;
};

static void collect(void *arg, const char *line, size_t len, bool cont)
{
	struct collected *c = arg;
	if (c->len + len + 3 < sizeof c->text)
		c->len += (size_t)snprintf(c->text + c->len, sizeof c->text - c->len, "%s%.*s|", cont ? "+" : "", (int)len, line);
	c->lines++;
	if (len > c->longest)
		c->longest = len;
}

static void feed_all(struct linesplit *ls, const char *s, size_t step, struct collected *c)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n; i += step)
		linesplit_feed(ls, s + i, n - i < step ? n - i : step, collect, c);
	linesplit_finish(ls, collect, c);
}

static void lines_whatever_the_chunking(void **state)
{
	const char *in = "alpha\nbeta\n\ngamma delta\nlast";
	(void)state;
	for (size_t step = 1; step <= strlen(in); step++) {
		struct linesplit *ls = linesplit_new(64);
		struct collected c = { .len = 0 };
		feed_all(ls, in, step, &c);
		assert_string_equal(c.text, "alpha|beta||gamma delta|last|");
		linesplit_free(ls);
	}
}

static void long_lines_split_at_the_bound(void **state)
{
	(void)state;
	for (size_t step = 1; step <= 12; step++) {
		struct linesplit *ls = linesplit_new(4);
		struct collected c = { .len = 0 };
		feed_all(ls, "abcd\nabcdefghij\nxy\n", step, &c);
		/* exactly the bound: one line; longer: pieces, continuation marked */
		assert_string_equal(c.text, "abcd|abcd|+efgh|+ij|xy|");
		assert_true(c.longest <= 4);
		linesplit_free(ls);
	}
}

static void newline_right_after_a_full_piece(void **state)
{
	struct linesplit *ls = linesplit_new(3);
	struct collected c = { .len = 0 };
	(void)state;
	feed_all(ls, "abcdef\ng\n", 100, &c);
	assert_string_equal(c.text, "abc|+def|g|");
	linesplit_free(ls);
}

static void no_newline_ever_stays_bounded(void **state)
{
	struct linesplit *ls = linesplit_new(1000);
	struct collected c = { .len = 0 };
	char *big = malloc(100000);
	(void)state;
	memset(big, 'x', 100000);
	for (int i = 0; i < 10; i++)
		linesplit_feed(ls, big, 10000, collect, &c);
	assert_int_equal(c.lines, 99); /* the last full piece waits: a newline may follow */
	linesplit_finish(ls, collect, &c);
	assert_int_equal(c.lines, 100);
	assert_int_equal(c.longest, 1000);
	free(big);
	linesplit_free(ls);
}

static void finish_without_partial_is_silent(void **state)
{
	struct linesplit *ls = linesplit_new(8);
	struct collected c = { .len = 0 };
	(void)state;
	feed_all(ls, "a\n", 1, &c);
	linesplit_finish(ls, collect, &c);
	assert_string_equal(c.text, "a|");
	assert_null(linesplit_new(0));
	linesplit_free(NULL);
	linesplit_free(ls);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lines_whatever_the_chunking),
		cmocka_unit_test(long_lines_split_at_the_bound),
		cmocka_unit_test(newline_right_after_a_full_piece),
		cmocka_unit_test(no_newline_ever_stays_bounded),
		cmocka_unit_test(finish_without_partial_is_silent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
