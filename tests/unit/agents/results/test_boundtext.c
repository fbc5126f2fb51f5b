/*
 * Unit tests of agents/results/boundtext.c: the bound and its marker, UTF-8 repair of
 * every kind of bad sequence, and the streaming repair giving the same bytes whatever
 * the chunking (every split point of every sample).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "boundtext.h"

static char *repair(const char *s, size_t n)
{
	struct rs_utf8_state st = {{0}, 0};
	char *out = malloc(3 * n + 13);
	size_t o;

	assert_non_null(out);
	o = rs_utf8_repair(&st, s, n, out, true);
	out[o] = '\0';
	return out;
}

static void text_keeps_under_bound(void **state)
{
	struct rs_text t;
	json_t *j;

	(void)state;
	rs_text_init(&t, 8);
	assert_int_equal(rs_text_append(&t, "hello", 5), 0);
	j = rs_text_json(&t);
	assert_string_equal(json_string_value(j), "hello");
	json_decref(j);
	assert_int_equal(rs_text_append(&t, " world!", 7), 0);
	assert_int_equal(rs_text_total(&t), 12);
	j = rs_text_json(&t);
	assert_string_equal(json_string_value(j), "hello wo [\xE2\x80\xA6 4 bytes cut]");
	json_decref(j);
	rs_text_reset(&t);
	j = rs_text_json(&t);
	assert_string_equal(json_string_value(j), "");
	json_decref(j);
	rs_text_release(&t);
	rs_text_release(&t);
}

static void text_cut_inside_a_character_moves_to_its_start(void **state)
{
	struct rs_text t;
	json_t *j;

	(void)state;
	rs_text_init(&t, 4);
	assert_int_equal(rs_text_append(&t, "ab\xE2\x82\xAC" "cd", 7), 0); /* ab€cd */
	j = rs_text_json(&t);
	/* "ab" + 2 of the 3 bytes of € kept: those count as cut, no U+FFFD. */
	assert_string_equal(json_string_value(j), "ab [\xE2\x80\xA6 5 bytes cut]");
	json_decref(j);
	rs_text_release(&t);
}

static void repair_replaces_bad_sequences(void **state)
{
	static const struct {
		const char *in;
		size_t n;
		const char *out;
	} cases[] = {
		{"plain", 5, "plain"},
		{"\xC3\xA9", 2, "\xC3\xA9"},
		{"\xE2\x82\xAC", 3, "\xE2\x82\xAC"},
		{"\xF0\x9F\x98\x80", 4, "\xF0\x9F\x98\x80"},
		{"\xFF", 1, "\xEF\xBF\xBD"},
		{"\xC0\xAF", 2, "\xEF\xBF\xBD\xEF\xBF\xBD"},       /* overlong */
		{"\xED\xA0\x80", 3, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"}, /* surrogate */
		{"\xF4\x90\x80\x80", 4, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"}, /* > U+10FFFF */
		{"a\xE2\x82", 3, "a\xEF\xBF\xBD\xEF\xBF\xBD"},       /* truncated at the end */
		{"a\0b", 3, "a\xEF\xBF\xBD" "b"},
		{"t\tn\nr\r\x1b", 7, "t\tn\nr\r\xEF\xBF\xBD"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *r = repair(cases[i].in, cases[i].n);

		assert_string_equal(r, cases[i].out);
		free(r);
	}
}

static void repair_is_the_same_for_every_split(void **state)
{
	static const char sample[] = "ok \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 bad \xFF\xC3 \xE2\x82 x \xF0\x9F\x98 end \xC3";
	const size_t n = sizeof(sample) - 1;
	char *whole = repair(sample, n);

	(void)state;
	for (size_t a = 0; a <= n; a++) {
		for (size_t b = a; b <= n; b++) {
			struct rs_utf8_state st = {{0}, 0};
			char out[3 * sizeof(sample) + 64];
			size_t o = 0;

			o += rs_utf8_repair(&st, sample, a, out + o, false);
			o += rs_utf8_repair(&st, sample + a, b - a, out + o, false);
			o += rs_utf8_repair(&st, sample + b, n - b, out + o, true);
			out[o] = '\0';
			assert_string_equal(out, whole);
		}
	}
	free(whole);
}

static void boundary_stops_before_partial_character(void **state)
{
	(void)state;
	assert_int_equal(rs_utf8_boundary("ab\xE2\x82", 4), 2);
	assert_int_equal(rs_utf8_boundary("ab\xE2\x82\xAC", 5), 5);
	assert_int_equal(rs_utf8_boundary("ab\xFF", 3), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(text_keeps_under_bound),
		cmocka_unit_test(text_cut_inside_a_character_moves_to_its_start),
		cmocka_unit_test(repair_replaces_bad_sequences),
		cmocka_unit_test(repair_is_the_same_for_every_split),
		cmocka_unit_test(boundary_stops_before_partial_character),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
