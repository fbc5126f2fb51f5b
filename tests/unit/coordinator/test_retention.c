/* Unit tests of coordinator/retention.c: which runs of the state directory are removed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "retention.h"

#define DAY 86400.0

static size_t plan(const struct retention_run *runs, size_t n, unsigned keep_runs, unsigned keep_days, bool *del)
{
	struct retention_policy p = {keep_runs, keep_days};
	return retention_plan(runs, n, &p, del);
}

static void keeps_the_newest_n(void **state)
{
	/* Given in no particular order: ages 5, 1, 3, 2, 4 seconds. */
	struct retention_run r[] = {{"e", 5, false}, {"a", 1, false}, {"c", 3, false}, {"b", 2, false}, {"d", 4, false}};
	bool del[5];
	(void)state;
	assert_int_equal(plan(r, 5, 2, 0, del), 3);
	assert_false(del[1]); /* a, newest */
	assert_false(del[3]); /* b */
	assert_true(del[2] && del[4] && del[0]);
	assert_int_equal(plan(r, 5, 5, 0, del), 0);
	assert_int_equal(plan(r, 5, 6, 0, del), 0);
	assert_int_equal(plan(r, 5, 1, 0, del), 4);
	assert_false(del[1]);
	assert_int_equal(plan(r, 5, 0, 0, del), 0); /* no limit */
	assert_int_equal(plan(r, 0, 1, 1, del), 0);
}

static void in_progress_runs_are_never_removed_but_count(void **state)
{
	/* The newest is the run that is pruning (in progress); an old crashed-looking one is live. */
	struct retention_run r[] = {{"now", 0, true}, {"x", 10, false}, {"y", 20, false}, {"live", 30 * DAY, true}};
	bool del[4];
	(void)state;
	/* Newest first: now and live (in progress, being written), then x, then y. */
	assert_int_equal(plan(r, 4, 2, 14, del), 2);
	assert_false(del[0] || del[3]); /* live: older than 14 days and beyond the count, but running */
	assert_true(del[1] && del[2]);
	assert_int_equal(plan(r, 4, 3, 0, del), 1);
	assert_true(del[2]);
	assert_int_equal(plan(r, 4, 1, 0, del), 2);
	assert_false(del[0] || del[3]);
	/* Every run in progress: nothing, whatever the limits. */
	for (size_t i = 0; i < 4; i++)
		r[i].in_progress = true;
	assert_int_equal(plan(r, 4, 1, 1, del), 0);
}

static void removes_runs_older_than_the_days(void **state)
{
	struct retention_run r[] = {{"a", 1, false}, {"b", 14 * DAY, false}, {"c", 14 * DAY + 1, false},
	                            {"d", 100 * DAY, false}, {"e", -50, false}};
	bool del[5];
	(void)state;
	assert_int_equal(plan(r, 5, 0, 14, del), 2);
	assert_false(del[0] || del[1] || del[4]); /* exactly 14 days is kept; a future mtime is new */
	assert_true(del[2] && del[3]);
	/* Both limits: a run goes when either says so. */
	assert_int_equal(plan(r, 5, 2, 14, del), 3);
	assert_false(del[0] || del[4]);
	assert_int_equal(plan(r, 5, 0, 1, del), 3);
}

static void ties_are_ordered_by_name(void **state)
{
	/* Same second: the later name (the later run, for names that sort by time) is newer. */
	struct retention_run r[] = {{"sv-1", 7, false}, {"sv-3", 7, false}, {"sv-2", 7, false}};
	bool del[3];
	(void)state;
	assert_int_equal(plan(r, 3, 1, 0, del), 2);
	assert_false(del[1]);
	assert_int_equal(plan(r, 3, 2, 0, del), 1);
	assert_true(del[0]);
}

/* Many runs, every combination of count limit and in-progress pattern: the rules hold. */
static void rules_hold_for_many(void **state)
{
	enum { N = 300 };
	struct retention_run *r = calloc(N, sizeof *r);
	char (*names)[16] = calloc(N, sizeof *names);
	bool del[N];
	(void)state;
	assert_non_null(r);
	assert_non_null(names);
	for (unsigned seed = 1; seed <= 20; seed++) {
		unsigned keep = seed * 7 % 50, days = seed % 4;
		size_t kept_done = 0;
		srand(seed);
		for (size_t i = 0; i < N; i++) {
			snprintf(names[i], sizeof names[i], "run%03zu", i);
			r[i].name = names[i];
			r[i].age_s = (double)(rand() % (20 * 86400));
			r[i].in_progress = rand() % 10 == 0;
		}
		plan(r, N, keep, days, del);
		for (size_t i = 0; i < N; i++) {
			size_t newer = 0;
			for (size_t j = 0; j < N; j++)
				if (r[j].in_progress || r[j].age_s < r[i].age_s ||
				    (r[j].age_s == r[i].age_s && strcmp(r[j].name, r[i].name) > 0))
					newer++;
			if (r[i].in_progress) {
				assert_false(del[i]);
				continue;
			}
			assert_int_equal(del[i], (keep && newer >= keep) || (days && r[i].age_s > days * DAY));
			kept_done += !del[i];
		}
		if (keep)
			assert_true(kept_done <= keep);
	}
	free(r);
	free(names);
}

static void run_names(void **state)
{
	(void)state;
	assert_true(retention_is_run_name("sv-0123456789abcdef"));
	assert_true(retention_is_run_name(".new-sv-0123456789abcdef"));
	assert_false(retention_is_run_name("sv-0123456789ABCDEF"));
	assert_false(retention_is_run_name("sv-0123456789abcde"));
	assert_false(retention_is_run_name("sv-0123456789abcdef0"));
	assert_false(retention_is_run_name("sv-0123456789abcdeg"));
	assert_false(retention_is_run_name("my-reports"));
	assert_false(retention_is_run_name(".."));
	assert_false(retention_is_run_name(""));
	assert_false(retention_is_run_name(".new-"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keeps_the_newest_n),
		cmocka_unit_test(in_progress_runs_are_never_removed_but_count),
		cmocka_unit_test(removes_runs_older_than_the_days),
		cmocka_unit_test(ties_are_ordered_by_name),
		cmocka_unit_test(rules_hold_for_many),
		cmocka_unit_test(run_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
