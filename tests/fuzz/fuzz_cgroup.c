/*
 * libFuzzer target for supervisor/cgroup.c's parsers: the input is split at its first NUL
 * byte into a /proc/self/cgroup text and a /proc/self/mountinfo text (no NUL: no mountinfo).
 * Any bytes must give -1 or a version with a terminated path in the buffer that starts with
 * "/" and ends with the counter file's name; the counter parser any value >= -1.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);
	return n >= t && strcmp(s + n - t, tail) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 2), buf[256];
	const char *mountinfo = NULL;
	const uint8_t *nul = memchr(data, 0, size);
	int v;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	text[size + 1] = '\0';
	if (nul)
		mountinfo = text + (nul - data) + 1;
	if (cgroup_parse_oom_kill(text) < -1)
		__builtin_trap();
	memset(buf, 'x', sizeof buf);
	v = cgroup_oom_counter_path(text, mountinfo, buf, sizeof buf);
	if (v != -1) {
		if (v != CGROUP_V1 && v != CGROUP_V2)
			__builtin_trap();
		if (!memchr(buf, '\0', sizeof buf) || buf[0] != '/' ||
		    !ends_with(buf, v == CGROUP_V1 ? "/memory.oom_control" : "/memory.events"))
			__builtin_trap();
	}
	free(text);
	return 0;
}
