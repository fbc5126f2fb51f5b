/*
 * fuzz_coord_slug — slug_make() on any branch name (bytes up to the first NUL) and any maxlen:
 * the result is always a valid slug of at most maxlen characters, a clean name is kept as it
 * is, anything else carries the hash, and the same input gives the same slug.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slug.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[512], a[SLUG_MAX + 1], b[SLUG_MAX + 1];
	size_t maxlen, n;

	if (size < 1)
		return 0;
	/* The first byte picks maxlen, out-of-range values included. */
	maxlen = data[0] % (SLUG_MAX + 4);
	n = size - 1 < sizeof name - 1 ? size - 1 : sizeof name - 1;
	memcpy(name, data + 1, n);
	name[n] = '\0';
	if (slug_make(name, maxlen, a, sizeof a) != 0) {
		if (maxlen >= SLUG_MIN_MAX && maxlen <= SLUG_MAX)
			abort();
		return 0;
	}
	if (maxlen < SLUG_MIN_MAX || maxlen > SLUG_MAX || !slug_is_valid(a, maxlen) || strlen(a) > maxlen)
		abort();
	if (slug_is_clean(name, maxlen) != (strcmp(name, a) == 0))
		abort();
	if (!slug_is_clean(name, maxlen) && !strstr(a, "--"))
		abort();
	if (slug_make(name, maxlen, b, sizeof b) != 0 || strcmp(a, b) != 0)
		abort();
	return 0;
}
