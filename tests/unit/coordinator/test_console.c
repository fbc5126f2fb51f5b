/* Unit tests of coordinator/console.c: what reaches a non-terminal log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "console.h"
#include "evfix.h"

static void clean_removes_controls(void **state)
{
	char out[256];
	const char *in = "\x1b[1;31mred\x1b[0m\tand\rbell\a \x1b]0;title\a ok\x7f\x01";
	(void)state;
	console_clean(out, sizeof out, in, strlen(in));
	assert_string_equal(out, "red andbell  ok");
	console_clean(out, 4, "abcdef", 6);
	assert_string_equal(out, "abc");
}

static int has_control(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 && s[i] != '\n')
			return 1;
	return 0;
}

static void plain_log_lines(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct console *c = console_new(f, false, 0);
	json_t *ev = evfix_test("st", 1, "testX", "failed");
	(void)state;
	json_object_set_new(ev, "message", json_string("expected \x1b[31m1\x1b[0m\nsecond line"));
	console_event(c, ev, 10);
	console_output(c, "\x1b[32mgreen output\x1b[0m", 21);
	console_tick(c, 40000);
	console_finish(c);
	console_free(c);
	fclose(f);
	assert_false(has_control(buf, len));
	assert_non_null(strstr(buf, "FAILED C::testX: expected 1\n"));
	assert_null(strstr(buf, "second line"));
	assert_non_null(strstr(buf, "green output\n"));
	assert_non_null(strstr(buf, "progress: 0 passed, 1 failed"));
	json_decref(ev);
	free(buf);
}

static void tty_status_line(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct console *c = console_new(f, true, 0);
	json_t *ev = evfix_test("st", 1, "t", "passed");
	(void)state;
	console_event(c, ev, 200);
	console_tick(c, 65000);
	console_finish(c);
	console_free(c);
	fclose(f);
	assert_non_null(strstr(buf, "\r\033[K[01:05] passed 1  failed 0  skipped 0  findings 0"));
	assert_int_equal(buf[len - 1], 'K'); /* cleared at the end */
	json_decref(ev);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clean_removes_controls),
		cmocka_unit_test(plain_log_lines),
		cmocka_unit_test(tty_status_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
