/* Tests of supervisor/sweep.c: /proc/<pid>/stat parsing and descendant selection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <cmocka.h>

#include "sweep.h"

static void parses_stat_with_odd_names(void **state)
{
	struct sweep_entry e;
	(void)state;
	assert_int_equal(sweep_parse_stat("42 (a) b) c) S 7 42 42 0 -1", &e), 0);
	assert_int_equal(e.pid, 42);
	assert_int_equal(e.ppid, 7);
	assert_int_equal(e.pgid, 42);
	assert_int_equal(e.state, 'S');
	assert_int_equal(sweep_parse_stat("9 (zz) Z 1 9 9", &e), 0);
	assert_int_equal(e.state, 'Z');
	assert_int_equal(sweep_parse_stat("garbage", &e), -1);
	assert_int_equal(sweep_parse_stat("1 (x)", &e), -1);
}

static void selects_descendants_at_any_depth(void **state)
{
	/* 100 is us: 101, 102 children; 103 grandchild (listed before its parent); 104 great-
	 * grandchild; 105 a zombie child; 200/201 unrelated. */
	struct sweep_entry e[] = {
		{ 200, 1, 200, 'S' }, { 103, 102, 102, 'S' }, { 101, 100, 101, 'S' }, { 201, 200, 200, 'S' },
		{ 104, 103, 104, 'R' }, { 102, 100, 102, 'S' }, { 105, 100, 105, 'Z' }, { 100, 1, 100, 'S' },
	};
	size_t n = sweep_select(e, sizeof e / sizeof e[0], 100);
	int seen[5] = { 0 };
	(void)state;

	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++) {
		assert_true(e[i].pid >= 101 && e[i].pid <= 104);
		seen[e[i].pid - 100]++;
	}
	assert_int_equal(seen[1] + seen[2] + seen[3] + seen[4], 4);
	assert_int_equal(sweep_select(e, 0, 100), 0);
}

static void scans_this_machine(void **state)
{
	struct sweep_entry e[4096];
	long n = sweep_scan(e, 4096);
	int found_self = 0;
	(void)state;
	assert_true(n > 0);
	for (long i = 0; i < n; i++)
		if (e[i].pid == getpid())
			found_self = e[i].ppid == getppid();
	assert_true(found_self);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_stat_with_odd_names),
		cmocka_unit_test(selects_descendants_at_any_depth),
		cmocka_unit_test(scans_this_machine),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
