/* Unit tests of coordinator/placeholder.c: ${NAME} placeholders in a stage spec's strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "placeholder.h"

static const struct placeholder_var vars[] = {
	{"PORT", "40123"}, {"NAME", "feature/\"x\""}, {"SLUG", "feature-x--abcdefgh"}, {"URL", "http://h:1/"}};
#define NVARS (sizeof vars / sizeof vars[0])

static void expect(const char *in, const char *want, unsigned want_used)
{
	unsigned used = 0;
	char *out = placeholder_expand(in, vars, NVARS, 1000, &used);
	assert_non_null(out);
	assert_string_equal(out, want);
	assert_int_equal(used, want_used);
	free(out);
}

static void strings(void **state)
{
	(void)state;
	expect("", "", 0);
	expect("plain", "plain", 0);
	expect("${PORT}", "40123", 1);
	expect("http://127.0.0.1:${PORT}/", "http://127.0.0.1:40123/", 1);
	expect("${SLUG}.localhost:${PORT}${PORT}", "feature-x--abcdefgh.localhost:4012340123", 5);
	expect("${URL}", "http://h:1/", 8);
	/* Not ours: left alone. */
	expect("${HOME} $PORT ${PORT ${port} ${} $ {PORT} ${PORTS}", "${HOME} $PORT ${PORT ${port} ${} $ {PORT} ${PORTS}", 0);
	/* $${NAME} is the literal; $$ before anything else is two dollars. */
	expect("$${PORT}", "${PORT}", 0);
	expect("$$${PORT}", "$${PORT}", 0); /* a "$" and then the escaped one */
	expect("$$HOME ${PORT}$", "$$HOME 40123$", 1);
}

static void bounded(void **state)
{
	unsigned used = 0;
	char *out;
	(void)state;
	out = placeholder_expand("${PORT}${PORT}", vars, NVARS, 9, &used);
	assert_null(out);
	out = placeholder_expand("${PORT}-${PORT}", vars, NVARS, 10, NULL);
	assert_null(out);
	out = placeholder_expand("${PORT}-${PORT}", vars, NVARS, 11, NULL);
	assert_non_null(out);
	assert_string_equal(out, "40123-40123");
	free(out);
}

static void json_documents(void **state)
{
	char err[256];
	unsigned used = 0;
	char *out;
	(void)state;
	out = placeholder_expand_json("{\"${PORT}\":[\"${NAME}\",1,{\"a\":\"x${PORT}\"},null,true],\"b\":\"${SLUG}\"}",
	                              vars, NVARS, 4096, &used, err, sizeof err);
	assert_non_null(out);
	/* Keys untouched; the branch name's quote is escaped by the encoder. */
	assert_string_equal(out, "{\"${PORT}\":[\"feature/\\\"x\\\"\",1,{\"a\":\"x40123\"},null,true],"
	                         "\"b\":\"feature-x--abcdefgh\"}");
	assert_int_equal(used, 7);
	free(out);
	assert_null(placeholder_expand_json("{oops", vars, NVARS, 4096, NULL, err, sizeof err));
	assert_non_null(strstr(err, "line 1"));
	assert_null(placeholder_expand_json("{\"a\":\"${URL}${URL}\"}", vars, NVARS, 12, NULL, err, sizeof err));
	assert_non_null(strstr(err, "longer than 12"));
	assert_null(placeholder_expand_json("{\"a\":\"${PORT}\"}", vars, NVARS, 10, NULL, err, sizeof err));
	assert_non_null(strstr(err, "the spec is longer"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(strings),
		cmocka_unit_test(bounded),
		cmocka_unit_test(json_documents),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
