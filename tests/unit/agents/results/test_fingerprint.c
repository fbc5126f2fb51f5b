/*
 * Unit tests of agents/results/fingerprint.c: the recipe's properties (digits and
 * whitespace do not matter, the source line does, identical findings are told apart)
 * and reading source lines from a real file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fingerprint.h"

static void fnv_known_values(void **state)
{
	(void)state;
	/* FNV-1a 64 reference values. */
	assert_true(rs_fnv(RS_FNV_INIT, "", 0) == UINT64_C(0xcbf29ce484222325));
	assert_true(rs_fnv(RS_FNV_INIT, "a", 1) == UINT64_C(0xaf63dc4c8601ec8c));
	assert_true(rs_fnv(RS_FNV_INIT, "foobar", 6) == UINT64_C(0x85944171f73967e8));
}

static void digits_do_not_matter(void **state)
{
	(void)state;
	assert_true(rs_fnv_nodigits(RS_FNV_INIT, "line 18, column 23") ==
		    rs_fnv_nodigits(RS_FNV_INIT, "line 218, column 3"));
	assert_true(rs_fnv_nodigits(RS_FNV_INIT, "line 18") != rs_fnv_nodigits(RS_FNV_INIT, "lines 18"));
	assert_true(rs_fnv_str(RS_FNV_INIT, "ab") != rs_fnv_str(rs_fnv_str(RS_FNV_INIT, "a"), "b"));
}

static uint64_t norm(const char *s, size_t chunk)
{
	struct rs_fp_norm n;
	size_t len = strlen(s);

	rs_fp_norm_init(&n);
	for (size_t o = 0; o < len; o += chunk)
		rs_fp_norm_feed(&n, s + o, len - o < chunk ? len - o : chunk);
	return rs_fp_norm_end(&n);
}

static void whitespace_is_normalized(void **state)
{
	(void)state;
	assert_true(norm("  $a  =\t1;\n\n  return $a;  \n", 1) == norm("$a = 1;\nreturn $a;", 100));
	assert_true(norm("$a = 1;", 3) != norm("$a = 2;", 3));
	assert_true(norm("$a=1;", 3) != norm("$a = 1;", 3));
}

static void occurrences_count_identical_hashes(void **state)
{
	struct rs_fp_occ *o = malloc(sizeof(*o));

	(void)state;
	rs_fp_occ_init(o);
	assert_int_equal(rs_fp_occ_next(o, 42), 0);
	assert_int_equal(rs_fp_occ_next(o, 7), 0);
	assert_int_equal(rs_fp_occ_next(o, 42), 1);
	assert_int_equal(rs_fp_occ_next(o, 42), 2);
	rs_fp_occ_reset(o);
	assert_int_equal(rs_fp_occ_next(o, 42), 0);
	/* Bounded: a full table still answers (a running index). */
	for (uint64_t k = 1; k < RS_FP_OCC_SLOTS + 10; k++)
		(void)rs_fp_occ_next(o, k * 7919);
	assert_true(rs_fp_occ_next(o, UINT64_C(0xdeadbeef)) >= RS_FP_OCC_SLOTS);
	free(o);
}

static void relpath_strips_root(void **state)
{
	(void)state;
	assert_string_equal(rs_fp_relpath("/ws/app/src/A.php", "/ws/app"), "src/A.php");
	assert_string_equal(rs_fp_relpath("/ws/app/src/A.php", "/ws/app/"), "src/A.php");
	assert_string_equal(rs_fp_relpath("/ws/application/A.php", "/ws/app"), "/ws/application/A.php");
	assert_string_equal(rs_fp_relpath("src/A.php", NULL), "src/A.php");
}

static void source_lines_are_read_and_normalized(void **state)
{
	char dir[] = "/tmp/sv-fp-XXXXXX", path[64];
	FILE *f;
	struct rs_fp_src *s = rs_fp_src_new();
	uint64_t h1 = 1, h2 = 1, h3 = 1, h4 = 1;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/A.php", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("<?php\n$a = 1;\n   $b   = 2;\n$c = 3;\n", f);
	fclose(f);
	assert_int_equal(rs_fp_src_lines(s, dir, "A.php", 3, 3, &h1), 0);
	assert_int_equal(rs_fp_src_lines(s, NULL, path, 3, 0, &h2), 0);
	assert_true(h1 == h2 && h1 != 1);
	assert_int_equal(rs_fp_src_lines(s, NULL, path, 2, 3, &h3), 0);
	assert_true(h3 != h1);
	assert_int_equal(rs_fp_src_lines(s, NULL, path, 99, 99, &h4), -1);
	assert_int_equal(rs_fp_src_lines(s, NULL, "/nonexistent/x.php", 1, 1, &h4), -1);
	assert_true(h4 == 1);
	rs_fp_src_free(s);
	rs_fp_src_free(NULL);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fnv_known_values),
		cmocka_unit_test(digits_do_not_matter),
		cmocka_unit_test(whitespace_is_normalized),
		cmocka_unit_test(occurrences_count_identical_hashes),
		cmocka_unit_test(relpath_strips_root),
		cmocka_unit_test(source_lines_are_read_and_normalized),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
