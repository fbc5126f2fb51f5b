/*
 * agents/spec under allocation failure: the Nth allocation fails, for every N until the
 * parse succeeds. Each run must return NULL with an error (or the spec), never crash, and
 * leave nothing allocated (LeakSanitizer checks that in the ASan build; here a counter does).
 *
 * The spec library's malloc/calloc/strdup/strndup are wrapped at link time
 * (-Wl,--wrap=..., see spec.cmake); jansson's allocations go through json_set_alloc_funcs().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "spec.h"

static long budget = -1; /* allocations left before one fails; -1: no limit */
static long live;        /* spec allocations not yet freed (only counted while limited) */

static int take(void)
{
	if (budget < 0)
		return 1;
	if (budget == 0)
		return 0;
	budget--;
	return 1;
}

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

void *__wrap_malloc(size_t n)
{
	return take() ? __real_malloc(n) : NULL;
}

void *__wrap_calloc(size_t n, size_t size)
{
	return take() ? __real_calloc(n, size) : NULL;
}

char *__wrap_strdup(const char *s)
{
	return take() ? __real_strdup(s) : NULL;
}

char *__wrap_strndup(const char *s, size_t n)
{
	return take() ? __real_strndup(s, n) : NULL;
}

/* jansson's allocator: counted so a leak of a json_t would show. */
static void *json_alloc(size_t n)
{
	void *p = take() ? __real_malloc(n) : NULL;

	if (p)
		live++;
	return p;
}

static void json_release(void *p)
{
	if (p)
		live--;
	free(p);
}

static const char *spec_text =
	"{\"version\": 1, \"stage\": \"oom\", \"mode\": \"job\", \"stop_timeout\": 20,"
	" \"stop_signals\": [\"SIGWINCH\", \"QUIT\"],"
	" \"processes\": ["
	"  {\"name\": \"web\", \"command\": [\"apache2\", \"-DFOREGROUND\"], \"env\": {\"A\": \"1\", \"B\": \"2\"},"
	"   \"cwd\": \"/srv\", \"role\": \"service\", \"essential\": false,"
	"   \"ready\": {\"http\": \"http://127.0.0.1:8080/health\"},"
	"   \"restart\": {\"policy\": \"always\"}, \"stop_signal\": \"WINCH\", \"stop_grace\": 5},"
	"  {\"name\": \"db\", \"command\": [\"db\"], \"role\": \"service\", \"ready\": {\"tcp\": \"[::1]:5432\"}},"
	"  {\"name\": \"log\", \"command\": [\"x\"], \"role\": \"service\", \"ready\": {\"log\": \"ready$\"}},"
	"  {\"name\": \"ex\", \"command\": [\"x\"], \"role\": \"service\", \"ready\": {\"exec\": [\"true\", \"1\"]}},"
	"  {\"name\": \"runner\", \"command\": [\"phpunit\", \"--teamcity\"], \"success_exit_codes\": [0, 1],"
	"   \"depends_on\": [{\"name\": \"web\", \"condition\": \"ready\"}, {\"name\": \"db\"}],"
	"   \"results\": [{\"format\": \"teamcity\", \"stream\": \"stdout\"}, {\"format\": \"junit\", \"path\": \"r/*.xml\"}]}"
	" ]}";

static void test_every_allocation_fails_once(void **state)
{
	long n;
	int failures = 0;

	(void)state;
	json_set_alloc_funcs(json_alloc, json_release);
	for (n = 0; n < 100000; n++) {
		struct spec_error err;
		struct spec_stage *st;

		live = 0;
		budget = n;
		st = spec_parse(spec_text, strlen(spec_text), &err);
		budget = -1;
		if (st) {
			assert_int_equal(st->nprocs, 5);
			assert_string_equal(st->procs[0].ready.http_path, "/health");
			spec_free(st);
			assert_int_equal(live, 0);
			break;
		}
		failures++;
		assert_true(err.text[0] != '\0');
		assert_int_equal(live, 0);
	}
	/* the spec needs well over a hundred allocations: every one of them failed once */
	assert_true(failures > 100);
	assert_true(n < 100000);
}

/* A failure inside spec_load_file (its read buffer). */
static void test_load_file_oom(void **state)
{
	struct spec_error err;

	(void)state;
	budget = 0;
	assert_null(spec_load_file("/dev/null", &err));
	budget = -1;
	assert_string_equal(err.text, "out of memory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_allocation_fails_once),
		cmocka_unit_test(test_load_file_oom),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
