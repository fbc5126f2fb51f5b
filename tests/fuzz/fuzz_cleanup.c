/*
 * fuzz_cleanup — the parsers of `stagevisor cleanup` on any input: image references as ECS
 * returns them in task definitions (cleanup_image_ref, with small output buffers so the bounds
 * are exercised), task-definition ARNs (cleanup_revision) and image tags (cleanup_release_tag,
 * cleanup_valid_tag). Invariants: results are in range, outputs NUL-terminated within their
 * buffers, a reference found in the repository has a tag without '/' or '@' and a digest with
 * its algorithm, and the same input gives the same answer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[1200], tag[24], digest[80], tag2[24], digest2[80], family[32];
	const char *repo;
	size_t n;
	long rev;
	int k;

	if (size < 1)
		return 0;
	/* The first byte picks the repository the reference is judged against. */
	repo = (data[0] & 1) ? "stagevisor/site" : "site";
	n = size - 1 < sizeof in - 1 ? size - 1 : sizeof in - 1;
	memcpy(in, data + 1, n);
	in[n] = '\0';
	k = cleanup_image_ref(in, "eu-west-1", repo, tag, sizeof tag, digest, sizeof digest);
	if (k < -1 || k > 1 || strlen(tag) >= sizeof tag || strlen(digest) >= sizeof digest)
		abort();
	if (k == 1 && (strchr(tag, '/') || strchr(tag, '@') || (digest[0] && !strchr(digest, ':'))))
		abort();
	if (k != 1 && (tag[0] || digest[0]) && k != -1)
		abort();
	if (cleanup_image_ref(in, "eu-west-1", repo, tag2, sizeof tag2, digest2, sizeof digest2) != k ||
	    strcmp(tag, tag2) != 0 || strcmp(digest, digest2) != 0)
		abort();
	rev = cleanup_revision(in, family, sizeof family);
	if (rev == 0 || rev < -1 || strlen(family) >= sizeof family)
		abort();
	if (cleanup_release_tag(in) && !cleanup_valid_tag(in))
		abort();
	return 0;
}
