/*
 * fuzz_coord_report — the coordinator's verdict and reports over whatever a stream holds:
 * report_judge() (failed processes, stage/ended's "processes" and "results", the end event),
 * junit_write() and report_json(). The input is JSON lines, one event each without its
 * envelope; the harness adds v, stream, seq (the line's number) and ts, so that events pass
 * the protocol's validation and reach the store (what the ingest server would store). The
 * first byte chooses how the agent ended.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "junit.h"
#include "report.h"
#include "stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stream *s = stream_new("fz", NULL, 100000);
	struct report_agent agent = {.started = true, .exited = true, .exit_code = 0};
	struct report *r = malloc(sizeof *r);
	const char *p = (const char *)data, *end = p + size;
	char err[256], *doc = NULL;
	size_t doclen = 0;
	long long seq = 0;
	FILE *out;
	json_t *summary;

	if (!s || !r)
		goto done;
	if (size > 0) {
		agent.exit_code = data[0] & 0x7f;
		agent.signal = data[0] & 0x80 ? 9 : 0;
		agent.stopped_by_us = (data[0] & 0x40) != 0;
		p++;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		json_t *ev = json_loadb(p, len, JSON_REJECT_DUPLICATES, NULL);

		if (json_is_object(ev)) {
			json_object_set_new(ev, "v", json_integer(1));
			json_object_set_new(ev, "stream", json_string("fz"));
			json_object_set_new(ev, "seq", json_integer(++seq));
			json_object_set_new(ev, "ts", json_string("2026-11-26T06:40:00.123Z"));
			(void)stream_add(s, ev, STREAM_FROM_HTTPS, err, sizeof err);
		}
		json_decref(ev);
		p += len + (nl != NULL);
	}
	report_judge(r, s, &agent, 0, false, 1.0, NULL);
	if (r->ninfra > REPORT_MAX_INFRA || !r->result || (r->exit_code != 0 && r->exit_code != 1 && r->exit_code != 3))
		__builtin_trap();
	/* A stagevisor suite only with a problem to report; every problem's detail is bounded. */
	for (size_t i = 0; i < r->ninfra; i++)
		if (strnlen(r->infra[i].detail, sizeof r->infra[i].detail) >= sizeof r->infra[i].detail)
			__builtin_trap();
	out = open_memstream(&doc, &doclen);
	if (!out || junit_write(out, s, r) != 0)
		__builtin_trap();
	fclose(out);
	if ((strstr(doc, "<testsuite name=\"stagevisor\"") != NULL) != (r->ninfra > 0))
		__builtin_trap();
	summary = report_json(r, s, NULL, NULL);
	json_decref(summary);
done:
	free(doc);
	free(r);
	stream_free(s);
	return 0;
}
