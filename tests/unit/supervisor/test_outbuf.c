/* Tests of supervisor/outbuf.c: framing, the bound, the priority reserve, drop counting,
 * and reuse of space after partial consumption. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "outbuf.h"

static void frames_prefixed_lines(void **state)
{
	struct outbuf *ob = outbuf_new(100, 0);
	size_t len;
	const char *d;
	(void)state;

	assert_int_equal(outbuf_pending(ob), 0);
	assert_int_equal(outbuf_put(ob, "web | ", 6, "hello", 5, false), 0);
	assert_int_equal(outbuf_put(ob, "web | ", 6, "", 0, false), 0);
	d = outbuf_peek(ob, &len);
	assert_int_equal(len, 19);
	assert_memory_equal(d, "web | hello\nweb | \n", 19);
	outbuf_consume(ob, 4);
	d = outbuf_peek(ob, &len);
	assert_memory_equal(d, "| hello\n", 8);
	outbuf_consume(ob, 1000);
	assert_int_equal(outbuf_pending(ob), 0);
	outbuf_free(ob);
}

static void bound_drops_whole_lines_and_counts(void **state)
{
	struct outbuf *ob = outbuf_new(20, 0);
	(void)state;

	assert_int_equal(outbuf_put(ob, "p ", 2, "123456789", 9, false), 0); /* 12 bytes */
	assert_int_equal(outbuf_put(ob, "p ", 2, "123456789", 9, false), -1); /* would be 24 */
	assert_int_equal(outbuf_put(ob, "p ", 2, "12345", 5, false), 0); /* exactly 20 */
	assert_int_equal(outbuf_room(ob), 0);
	assert_int_equal(outbuf_put(ob, "", 0, "", 0, false), -1);
	assert_int_equal(outbuf_dropped_lines(ob), 2);
	assert_int_equal(outbuf_dropped_bytes(ob), 9);
	assert_int_equal(outbuf_pending(ob), 20);
	outbuf_free(ob);
}

static void priority_uses_the_reserve(void **state)
{
	struct outbuf *ob = outbuf_new(10, 10);
	(void)state;

	assert_int_equal(outbuf_put(ob, "", 0, "123456789", 9, false), 0);
	assert_int_equal(outbuf_put(ob, "", 0, "abc", 3, false), -1);
	assert_int_equal(outbuf_put(ob, "", 0, "abcdefghi", 9, true), 0);
	assert_int_equal(outbuf_put(ob, "", 0, "x", 1, true), -1);
	assert_int_equal(outbuf_pending(ob), 20);
	outbuf_free(ob);
}

static void space_is_reused_after_consume(void **state)
{
	struct outbuf *ob = outbuf_new(16, 0);
	size_t len;
	(void)state;

	for (int round = 0; round < 1000; round++) {
		assert_int_equal(outbuf_put(ob, "ab", 2, "cdefg", 5, false), 0); /* 8 bytes */
		assert_int_equal(outbuf_put(ob, "ab", 2, "cdefg", 5, false), 0);
		outbuf_consume(ob, 5);
		assert_int_equal(outbuf_put(ob, "", 0, "1234", 4, false), 0); /* 16 - 11 = 5 free */
		const char *d = outbuf_peek(ob, &len);
		assert_int_equal(len, 16);
		assert_memory_equal(d, "fg\nabcdefg\n1234\n", 16);
		outbuf_consume(ob, len);
	}
	assert_int_equal(outbuf_dropped_lines(ob), 0);
	outbuf_free(ob);
	outbuf_free(NULL);
}

static void empty_buffer_peeks_empty(void **state)
{
	struct outbuf *ob = outbuf_new(8, 0);
	size_t len = 99;
	(void)state;
	assert_non_null(outbuf_peek(ob, &len));
	assert_int_equal(len, 0);
	assert_int_equal(outbuf_room(ob), 8);
	outbuf_free(ob);
}

static void direct_space_and_commit(void **state)
{
	struct outbuf *ob = outbuf_new(16, 4);
	size_t avail, len;
	char *w;
	(void)state;

	w = outbuf_space(ob, 8, &avail);
	assert_non_null(w);
	assert_int_equal(avail, 16); /* ordinary lines never get the reserve */
	memcpy(w, "abc\n", 4);
	outbuf_commit(ob, 4);
	outbuf_consume(ob, 2);
	w = outbuf_space(ob, 18, &avail); /* forces moving "c\n" to the front */
	assert_int_equal(avail, 14);
	memcpy(w, "d\n", 2);
	outbuf_commit(ob, 2);
	const char *d = outbuf_peek(ob, &len);
	assert_int_equal(len, 4);
	assert_memory_equal(d, "c\nd\n", 4);
	outbuf_free(ob);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(frames_prefixed_lines),
		cmocka_unit_test(bound_drops_whole_lines_and_counts),
		cmocka_unit_test(priority_uses_the_reserve),
		cmocka_unit_test(space_is_reused_after_consume),
		cmocka_unit_test(empty_buffer_peeks_empty),
		cmocka_unit_test(direct_space_and_commit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
