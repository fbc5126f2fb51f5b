/* Shared fixtures for the coordinator's unit tests: stamped events built with jansson. */
#ifndef SV_TEST_COORD_EVFIX_H
#define SV_TEST_COORD_EVFIX_H

#include <jansson.h>
#include <stdio.h>

/* A valid event of stream sid with seq and the given body (a JSON text, stolen members). */
static inline json_t *evfix(const char *sid, long long seq, const char *body)
{
	json_t *ev = json_loads(body, 0, NULL);

	if (!ev)
		return NULL;
	json_object_set_new(ev, "v", json_integer(1));
	json_object_set_new(ev, "stream", json_string(sid));
	json_object_set_new(ev, "seq", json_integer(seq));
	json_object_set_new(ev, "ts", json_string("2026-11-26T06:40:00.123Z"));
	return ev;
}

static inline json_t *evfix_test(const char *sid, long long seq, const char *name, const char *status)
{
	char body[512];

	snprintf(body, sizeof body, "{\"type\":\"test\",\"suite\":\"S\",\"class\":\"C\",\"name\":\"%s\",\"status\":\"%s\",\"time\":0.5%s}",
	         name, status, status[0] == 'f' || status[0] == 'e' ? ",\"message\":\"boom\",\"details\":\"d\"" : "");
	return evfix(sid, seq, body);
}

static inline json_t *evfix_log(const char *sid, long long seq)
{
	return evfix(sid, seq, "{\"type\":\"log\",\"process\":\"p\",\"fd\":\"stdout\",\"line\":\"hello\"}");
}

/* An end event claiming the given counts. */
static inline json_t *evfix_end(const char *sid, long long seq, int result, int events, int passed, int failed,
                                int logs)
{
	char body[512];

	snprintf(body, sizeof body,
	         "{\"type\":\"end\",\"result\":%d,\"totals\":{\"events\":%d,\"tests\":{\"passed\":%d,\"failed\":%d,"
	         "\"error\":0,\"skipped\":0},\"findings\":{\"error\":0,\"warning\":0,\"info\":0},\"metrics\":0,"
	         "\"logs\":%d,\"shed\":{\"log\":0}}}",
	         result, events, passed, failed, logs);
	return evfix(sid, seq, body);
}

#endif
