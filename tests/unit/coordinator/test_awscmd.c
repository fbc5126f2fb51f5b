/* Unit tests of coordinator/awscmd.c: the CLI's operation names and JSON printed exactly as the
 * AWS CLI (Python's json.dumps, indent 4, ensure_ascii off, floats as repr) prints it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "awscmd.h"

static void operation_names(void **state)
{
	char out[64];
	(void)state;
	assert_int_equal(awscmd_operation_name("list-clusters", out, sizeof out), 0);
	assert_string_equal(out, "ListClusters");
	assert_int_equal(awscmd_operation_name("describe-task-definition", out, sizeof out), 0);
	assert_string_equal(out, "DescribeTaskDefinition");
	assert_int_equal(awscmd_operation_name("ListObjectsV2", out, sizeof out), 0);
	assert_string_equal(out, "ListObjectsV2");
	assert_int_equal(awscmd_operation_name("list-objects-v2", out, sizeof out), 0);
	assert_string_equal(out, "ListObjectsV2");
	assert_int_equal(awscmd_operation_name("list--clusters", out, sizeof out), -1);
	assert_int_equal(awscmd_operation_name("list-", out, sizeof out), -1);
	assert_int_equal(awscmd_operation_name("-list", out, sizeof out), -1);
	assert_int_equal(awscmd_operation_name("List Clusters", out, sizeof out), -1);
	assert_int_equal(awscmd_operation_name("", out, sizeof out), -1);
	assert_int_equal(awscmd_operation_name("averyveryverylongoperationname", out, 8), -1);
}

static char *printed(const char *json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_t *v = json_loads(json, JSON_DECODE_ANY, NULL);

	assert_non_null(v);
	assert_int_equal(awscmd_print_json(f, v), 0);
	fclose(f);
	json_decref(v);
	return buf;
}

static void as_python_prints(void **state)
{
	/* Expected texts from python3 -c 'print(json.dumps(v, indent=4, ensure_ascii=False))'. */
	static const struct {
		const char *in, *want;
	} cases[] = {
		{"{\"clusterArns\": []}", "{\n    \"clusterArns\": []\n}\n"},
		{"{}", "{}\n"},
		{"{\"a\": {\"b\": [1, true, null, {}]}, \"c\": \"x\"}",
		 "{\n    \"a\": {\n        \"b\": [\n            1,\n            true,\n            null,\n            {}\n"
		 "        ]\n    },\n    \"c\": \"x\"\n}\n"},
		{"[1733299200.123, 0.1, 1e300, 100.0, 0.0001, 1e-05, 1.5e-07, 1e16, 123456789012345.6, -2.5]",
		 "[\n    1733299200.123,\n    0.1,\n    1e+300,\n    100.0,\n    0.0001,\n    1e-05,\n    1.5e-07,\n"
		 "    1e+16,\n    123456789012345.6,\n    -2.5\n]\n"},
		{"\"h\\u00e9 \\\"q\\\" \\\\ \\n\\t\\u0001/\"", "\"h\xc3\xa9 \\\"q\\\" \\\\ \\n\\t\\u0001/\"\n"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *got = printed(cases[i].in);
		assert_string_equal(got, cases[i].want);
		free(got);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(operation_names),
		cmocka_unit_test(as_python_prints),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
