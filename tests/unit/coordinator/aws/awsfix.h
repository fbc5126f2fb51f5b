/* Test fixtures for the AWS unit tests: an injected environment (name=value pairs). */
#ifndef SV_TEST_AWSFIX_H
#define SV_TEST_AWSFIX_H

#include <stddef.h>
#include <string.h>

struct fake_env {
	const char *kv[64]; /* "NAME", "value", ..., NULL */
};

static inline const char *fake_getenv(void *arg, const char *name)
{
	struct fake_env *e = arg;

	for (size_t i = 0; e && e->kv[i]; i += 2)
		if (strcmp(e->kv[i], name) == 0)
			return e->kv[i + 1];
	return NULL;
}

#endif
