/* slug — see slug.h. */
#include "slug.h"

#include <string.h>

#include <openssl/sha.h>

static bool slug_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

bool slug_is_clean(const char *branch, size_t maxlen)
{
	size_t n = strlen(branch);

	if (n == 0 || n > maxlen || n > SLUG_MAX || branch[0] == '-' || branch[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!slug_char((unsigned char)branch[i]))
			return false;
		if (branch[i] == '-' && branch[i + 1] == '-')
			return false;
	}
	return true;
}

bool slug_is_valid(const char *s, size_t maxlen)
{
	const char *dd = strstr(s, "--");
	size_t n = strlen(s), base;

	if (slug_is_clean(s, maxlen))
		return true;
	/* BASE--HASH: BASE clean, not 2 long; HASH exactly SLUG_HASH_LEN base32 characters. */
	if (!dd || n > maxlen || n > SLUG_MAX)
		return false;
	base = (size_t)(dd - s);
	if (base == 0 || base == 2 || n != base + 2 + SLUG_HASH_LEN)
		return false;
	for (size_t i = 0; i < base; i++)
		if (!slug_char((unsigned char)s[i]) || (s[i] == '-' && (i == 0 || s[i - 1] == '-')))
			return false;
	if (s[base - 1] == '-')
		return false;
	for (size_t i = base + 2; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '2' && s[i] <= '7')))
			return false;
	return true;
}

/* The first SLUG_HASH_LEN * 5 bits of SHA-256(branch) as base32 (RFC 4648 alphabet, lower case). */
static void slug_hash(const char *branch, char *out)
{
	static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
	unsigned char md[SHA256_DIGEST_LENGTH];
	unsigned bit = 0;

	SHA256((const unsigned char *)branch, strlen(branch), md);
	for (size_t i = 0; i < SLUG_HASH_LEN; i++, bit += 5) {
		unsigned v = ((unsigned)md[bit / 8] << 8 | md[bit / 8 + 1]) >> (11 - bit % 8);
		out[i] = b32[v & 31];
	}
	out[SLUG_HASH_LEN] = '\0';
}

int slug_make(const char *branch, size_t maxlen, char *buf, size_t len)
{
	size_t limit, o = 0;
	char hash[SLUG_HASH_LEN + 1];

	if (len > 0)
		buf[0] = '\0';
	if (!branch || maxlen < SLUG_MIN_MAX || maxlen > SLUG_MAX || len < maxlen + 1)
		return -1;
	if (slug_is_clean(branch, maxlen)) {
		memcpy(buf, branch, strlen(branch) + 1);
		return 0;
	}
	limit = maxlen - 2 - SLUG_HASH_LEN;
	for (const unsigned char *p = (const unsigned char *)branch; *p && o < limit; p++) {
		unsigned char c = *p;
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (!slug_char(c) || c == '-') {
			if (o == 0 || buf[o - 1] == '-')
				continue;
			c = '-';
		}
		buf[o++] = (char)c;
	}
	while (o > 0 && buf[o - 1] == '-')
		o--;
	if (o == 2)
		o = 1; /* "ab--" in the 3rd and 4th places is reserved (RFC 5891, as in "xn--") */
	if (o == 0)
		buf[o++] = 'x';
	slug_hash(branch, hash);
	buf[o++] = '-';
	buf[o++] = '-';
	memcpy(buf + o, hash, SLUG_HASH_LEN + 1);
	return 0;
}
