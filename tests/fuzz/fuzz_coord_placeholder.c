/*
 * fuzz_coord_placeholder — placeholder_expand() and placeholder_expand_json() on any text: never
 * past the bound, and a text without "${" comes out of placeholder_expand() unchanged.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "placeholder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct placeholder_var vars[] = {
		{"PORT", "40123"}, {"NAME", "feature/JIRA-123"}, {"SLUG", "feature-jira-123--qhxw4cfu"},
		{"HOST", "feature-jira-123--qhxw4cfu.localhost"}, {"URL", "http://feature-jira-123--qhxw4cfu.localhost:40123/"}};
	char *text = malloc(size + 1), *out, err[256];
	unsigned used = 0;
	const size_t max = 4096;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	out = placeholder_expand(text, vars, 5, max, &used);
	if (out && (strlen(out) > max || (!strstr(text, "${") && strcmp(out, text) != 0) || (used >> 5) != 0))
		abort();
	free(out);
	out = placeholder_expand_json(text, vars, 5, max, NULL, err, sizeof err);
	if (out && strlen(out) > max)
		abort();
	free(out);
	free(text);
	return 0;
}
