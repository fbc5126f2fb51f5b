/*
 * fuzz_stop_signals — spec_add_stop_signals() (the agent's STAGEVISOR_STOP_SIGNALS) on any
 * text (bytes up to the first NUL), added to a spec that already has stop signals: on success
 * every signal is catchable, none is listed twice and there are at most SPEC_SIGNALS_MAX; on
 * failure the spec is unchanged and the error names the variable; adding the same list again
 * adds nothing.
 */
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char base_spec[] =
	"{\"version\": 1, \"stop_signals\": [\"SIGQUIT\", \"USR1\"],"
	" \"processes\": [{\"name\": \"a\", \"command\": [\"true\"]}]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char list[1024];
	struct spec_error err;
	struct spec_stage *st;
	size_t n = size < sizeof list - 1 ? size : sizeof list - 1, before;

	memcpy(list, data, n);
	list[n] = '\0';
	st = spec_parse(base_spec, sizeof base_spec - 1, &err);
	if (!st)
		abort();
	before = st->nstop_signals;
	if (spec_add_stop_signals(st, list, "STAGEVISOR_STOP_SIGNALS", &err) < 0) {
		if (st->nstop_signals != before || strcmp(err.field, "STAGEVISOR_STOP_SIGNALS") != 0 || !err.text[0])
			abort();
	} else {
		size_t now = st->nstop_signals;
		if (now < before || now > SPEC_SIGNALS_MAX)
			abort();
		for (size_t i = 0; i < now; i++) {
			int s = st->stop_signals[i];
			if (s <= 0 || s == SIGKILL || s == SIGSTOP || s == SIGCHLD)
				abort();
			for (size_t j = i + 1; j < now; j++)
				if (st->stop_signals[j] == s)
					abort();
		}
		if (spec_add_stop_signals(st, list, "STAGEVISOR_STOP_SIGNALS", &err) != 0 || st->nstop_signals != now)
			abort();
	}
	spec_free(st);
	return 0;
}
