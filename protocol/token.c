/*
 * protocol/token.c — stream tokens (protocol/token.h).
 */
#include <string.h>
#include <strings.h>

#include "protocol/token.h"

void pr_token_format(const unsigned char random[PR_TOKEN_RANDOM], char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = sizeof PR_TOKEN_PREFIX - 1;

	memcpy(out, PR_TOKEN_PREFIX, o);
	for (size_t i = 0; i < PR_TOKEN_RANDOM; i++) {
		out[o++] = hex[random[i] >> 4];
		out[o++] = hex[random[i] & 15];
	}
	out[o] = '\0';
}

bool pr_token_valid(const char *s)
{
	const size_t plen = sizeof PR_TOKEN_PREFIX - 1;

	if (!s || strncmp(s, PR_TOKEN_PREFIX, plen) != 0)
		return false;
	for (size_t i = plen; i < PR_TOKEN_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[PR_TOKEN_LEN] == '\0';
}

int pr_token_from_authorization(const char *header, char *out)
{
	const char *p;

	if (!header || strncasecmp(header, "Bearer ", 7) != 0)
		return -1;
	p = header + 7;
	while (*p == ' ')
		p++;
	if (!pr_token_valid(p))
		return -1;
	memcpy(out, p, PR_TOKEN_LEN + 1);
	return 0;
}

bool pr_token_equal(const char *presented, const char *expected)
{
	size_t n, m;
	unsigned char diff = 0;

	if (!presented || !expected)
		return false;
	n = strlen(expected);
	m = strnlen(presented, n + 1);
	if (m != n)
		return false;
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(presented[i] ^ expected[i]);
	return diff == 0;
}
