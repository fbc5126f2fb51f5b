/*
 * fuzz_aws_creds — the credentials document of the ECS container endpoint and of EC2
 * instance metadata (aws_creds_parse_document) and its ISO 8601 times. Invariant: accepted
 * credentials have a key and a secret without control characters (they become headers).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws_creds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aws_creds c;
	char err[300], t[64];
	time_t when;

	if (aws_creds_parse_document((const char *)data, size, &c, err, sizeof err) == 0) {
		if (!c.access_key[0] || !c.secret_key[0])
			abort();
		printable(c.access_key);
		printable(c.secret_key);
		printable(c.token);
	}
	if (size < sizeof t) {
		memcpy(t, data, size);
		t[size] = '\0';
		(void)aws_creds_parse_time(t, &when);
	}
	return 0;
}
