/*
 * coordinator/aws/sigv4.c under allocation failure: the Nth allocation of the signer fails, for
 * every N until signing succeeds. Each run must return -1 with an error and an empty out (or
 * the same signature as without a limit), never crash, and leave nothing allocated (a counter
 * here; LeakSanitizer too in the ASan build).
 *
 * The signer's malloc/calloc/realloc/strdup/free are wrapped at link time (-Wl,--wrap=...,
 * see sigv4.cmake); OpenSSL's own allocations are not (they are made inside libcrypto).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sigv4.h"

static long budget = -1; /* allocations left before one fails; -1: no limit */
static long live;        /* allocations of the signer not yet freed */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
void __wrap_free(void *p);

static int take(void)
{
	if (budget < 0)
		return 1;
	if (budget == 0)
		return 0;
	budget--;
	return 1;
}

static void *counted(void *p)
{
	if (p)
		live++;
	return p;
}

void *__wrap_malloc(size_t n)
{
	return take() ? counted(__real_malloc(n)) : NULL;
}

void *__wrap_calloc(size_t n, size_t size)
{
	return take() ? counted(__real_calloc(n, size)) : NULL;
}

void *__wrap_realloc(void *p, size_t n)
{
	void *q;

	if (!take())
		return NULL;
	q = __real_realloc(p, n);
	if (q && !p)
		live++;
	return q;
}

char *__wrap_strdup(const char *s)
{
	return take() ? counted(__real_strdup(s)) : NULL;
}

void __wrap_free(void *p)
{
	if (p)
		live--;
	__real_free(p);
}

static void every_allocation_failure_is_clean(void **state)
{
	static const struct sigv4_header h[] = {
		{ "Host", "bucket.s3.amazonaws.com" }, { "X-Dup", " a   b " },  { "x-dup", "c" },
		{ "Content-Type", "application/json" },  { "User-Agent", "ua" },
		{ "X-Amz-Date", "stale" },
	};
	struct sigv4_request rq = { "PUT", "/k/./ey//x%20y/..", "b=2&a=%7e&a&=", h, 6, "{}", 2, NULL };
	struct sigv4_params p = {
		.access_key = "AKIDEXAMPLE",
		.secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
		.session_token = "token/with+chars==",
		.region = "eu-west-1",
		.service = "s3",
		.when = (time_t)1440938160,
	};
	struct sigv4_out ref, out, zero;
	long n, failures = 0;
	(void)state;
	memset(&zero, 0, sizeof zero);
	for (int s3 = 0; s3 < 2; s3++) {
		p.s3 = s3;
		p.service = s3 ? "s3" : "service";
		budget = -1;
		assert_int_equal(sigv4_sign(&rq, &p, &ref), 0);
		for (n = 0;; n++) {
			int rc;

			live = 0;
			budget = n;
			rc = sigv4_sign(&rq, &p, &out);
			budget = -1;
			if (rc == 0) {
				assert_string_equal(out.authorization, ref.authorization);
				assert_string_equal(out.canonical_request, ref.canonical_request);
				sigv4_out_clear(&out);
				assert_int_equal(live, 0);
				break;
			}
			assert_int_equal(rc, -1);
			assert_true(out.error[0] != '\0');
			assert_null(out.canonical_request);
			assert_null(out.string_to_sign);
			assert_null(out.authorization);
			assert_int_equal(out.n_added, 0);
			assert_int_equal(live, 0);
			failures++;
			assert_true(n < 10000);
		}
		sigv4_out_clear(&ref);
		assert_memory_equal(&ref, &zero, sizeof ref);
	}
	/* The request has enough parts that many allocations were tried and failed. */
	assert_true(failures > 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_allocation_failure_is_clean),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
