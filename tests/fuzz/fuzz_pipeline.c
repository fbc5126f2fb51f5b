/*
 * fuzz_pipeline — the pipeline config parser (coordinator/pipeline.c): any bytes give either a
 * config or an error with a message, never a crash; an accepted config keeps its invariants.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pipeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pipeline_error err;
	struct pipeline *p = pipeline_parse((const char *)data, size, "/nonexistent", false, &err);
	char line[1024];

	if (!p) {
		if (err.text[0] == '\0')
			__builtin_trap();
		pipeline_error_format(&err, line, sizeof line);
		return 0;
	}
	if (p->nstages == 0 || p->aws.nsubnets == 0 || p->coordinator.port_first > p->coordinator.port_last)
		__builtin_trap();
	for (size_t i = 0; i < p->nstages; i++)
		if (!p->stages[i].spec_text && !p->stages[i].spec_path)
			__builtin_trap();
	pipeline_free(p);
	return 0;
}
