/*
 * libFuzzer target for spec_parse(): any bytes must give either a spec or an error with a
 * terminated message, never a crash, a leak or unbounded growth.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spec_error err;
	struct spec_stage *st;
	char buf[1024];

	st = spec_parse((const char *)data, size, &err);
	if (st) {
		/* Walk what a consumer walks: the start order covers every process once. */
		unsigned char seen[SPEC_PROCS_MAX] = {0};
		for (size_t i = 0; i < st->nprocs; i++) {
			size_t k = st->start_order[i];
			if (k >= st->nprocs || seen[k]++)
				__builtin_trap();
			for (size_t d = 0; d < st->procs[k].ndeps; d++)
				if (!seen[st->procs[k].deps[d].index]) /* dependencies come first */
					__builtin_trap();
			if (!st->procs[k].argv[0] || !st->procs[k].argv[0][0])
				__builtin_trap();
		}
		spec_free(st);
	} else {
		if (strlen(spec_error_format(&err, buf, sizeof(buf))) >= sizeof(buf))
			__builtin_trap();
	}
	return 0;
}
