/*
 * protocol/event.c — event types, stamping, validation, times and totals (protocol/event.h).
 *
 * Validation is table-free on purpose: each type's rules are a short function that reads
 * like the list in PROTOCOL.md, so the two are easy to compare.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/event.h"
#include "protocol/internal.h"

#define DEPTH_MAX 16

static const char *const type_names[] = {
	[PR_TYPE_STAGE] = "stage",     [PR_TYPE_PROCESS] = "process", [PR_TYPE_LOG] = "log",
	[PR_TYPE_TEST] = "test",       [PR_TYPE_FINDING] = "finding", [PR_TYPE_METRIC] = "metric",
	[PR_TYPE_END] = "end",
};
#define TYPE_COUNT (sizeof type_names / sizeof type_names[0])

const char *pr_type_name(enum pr_type type)
{
	if ((int)type < 0 || (size_t)type >= TYPE_COUNT)
		return NULL;
	return type_names[type];
}

enum pr_type pr_type_from_name(const char *s)
{
	if (!s)
		return PR_TYPE_INVALID;
	for (size_t i = 0; i < TYPE_COUNT; i++)
		if (strcmp(s, type_names[i]) == 0)
			return (enum pr_type)i;
	return PR_TYPE_INVALID;
}

enum pr_type pr_event_type(const json_t *event)
{
	return pr_type_from_name(json_string_value(json_object_get(event, "type")));
}

bool pr_type_is_result(enum pr_type type)
{
	return type == PR_TYPE_TEST || type == PR_TYPE_FINDING || type == PR_TYPE_METRIC;
}

bool pr_stream_valid(const char *s)
{
	size_t n = 0;

	if (!s)
		return false;
	for (; s[n]; n++) {
		char c = s[n];
		if (n >= PR_STREAM_MAX)
			return false;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return n > 0;
}

/* ---- times ---------------------------------------------------------------------------- */

/* Days since 1970-01-01 to civil date, and back (H. Hinnant's algorithms; proleptic Gregorian). */
static void civil_from_days(long long z, long long *y, unsigned *m, unsigned *d)
{
	z += 719468;
	long long era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long long yy = (long long)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yy + (*m <= 2);
}

static long long days_from_civil(long long y, unsigned m, unsigned d)
{
	y -= m <= 2;
	long long era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

int pr_ts_format(const struct timespec *ts, char *out)
{
	long long secs, days, rem, y;
	unsigned mo, d;
	char buf[96];

	if (!ts || !out || ts->tv_nsec < 0 || ts->tv_nsec > 999999999L)
		return -1;
	secs = (long long)ts->tv_sec;
	/* 0000-01-01 .. 9999-12-31 */
	if (secs < -62167219200LL || secs > 253402300799LL)
		return -1;
	days = secs / 86400;
	rem = secs % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil_from_days(days, &y, &mo, &d);
	/* A roomy buffer keeps the compiler's truncation analysis quiet; the text is 24 bytes. */
	snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03ldZ", y, mo, d,
		 rem / 3600, rem / 60 % 60, rem % 60, (long)(ts->tv_nsec / 1000000));
	memcpy(out, buf, PR_TS_LEN + 1);
	return 0;
}

static int digits(const char *s, int n, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return 0;
}

int pr_ts_parse(const char *s, struct timespec *out)
{
	static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	unsigned y, mo, d, h, mi, se, ms;

	if (!s || strlen(s) != PR_TS_LEN)
		return -1;
	if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
	    s[19] != '.' || s[23] != 'Z')
		return -1;
	if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
	    digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &se) ||
	    digits(s + 20, 3, &ms))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 59)
		return -1;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return -1;
	if (out) {
		long long t = days_from_civil(y, mo, d) * 86400LL + h * 3600LL + mi * 60LL + se;
		out->tv_sec = (time_t)t;
		out->tv_nsec = (long)ms * 1000000L;
	}
	return 0;
}

/* ---- strings ----------------------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (n bytes left), or 0 if it is not one. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned c = p[0];
	size_t len;
	unsigned min, cp;

	if (c < 0x80)
		return c == 0 ? 0 : 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

size_t pr_utf8_lossy(const char *s, size_t len, char *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0, i = 0;

	while (i < len) {
		size_t n = utf8_seq(p + i, len - i);
		if (n == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		} else {
			memcpy(out + o, p + i, n);
			o += n;
			i += n;
		}
	}
	return o;
}

bool pr_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		size_t n = utf8_seq(p + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

size_t pr_json_quote(const char *s, size_t len, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;

	out[o++] = '"';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i];

		if (c >= 0x20 && c != '"' && c != '\\') {
			out[o++] = (char)c;
			continue;
		}
		out[o++] = '\\';
		switch (c) {
		case '"':
		case '\\':
			out[o++] = (char)c;
			break;
		case '\b':
			out[o++] = 'b';
			break;
		case '\f':
			out[o++] = 'f';
			break;
		case '\n':
			out[o++] = 'n';
			break;
		case '\r':
			out[o++] = 'r';
			break;
		case '\t':
			out[o++] = 't';
			break;
		default:
			out[o++] = 'u';
			out[o++] = '0';
			out[o++] = '0';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
			break;
		}
	}
	out[o++] = '"';
	return o;
}

json_t *pr_string_lossy(const char *s, size_t len)
{
	char *buf;
	size_t o;
	json_t *out;

	if (!s)
		len = 0;
	/* Worst case: every byte becomes the 3-byte U+FFFD. */
	if (len > (SIZE_MAX - 1) / 3)
		return NULL;
	buf = malloc(len * 3 + 1);
	if (!buf)
		return NULL;
	o = pr_utf8_lossy(s, len, buf);
	out = json_stringn_nocheck(buf, o);
	free(buf);
	return out;
}

/* ---- validation helpers --------------------------------------------------------------------- */

/*
 * Member checks: each returns 0 when the member satisfies the rule, else fills err with
 * "<name>: <why>" (status 400) and returns -1. "optional" members may be absent or null.
 */
static int need_string(const json_t *ev, const char *name, bool required,
		       const char *const *allowed, struct pr_error *err)
{
	const json_t *v = json_object_get(ev, name);

	if (!v || json_is_null(v)) {
		if (required)
			return pr_err(err, 400, "%s: missing", name);
		return 0;
	}
	if (!json_is_string(v))
		return pr_err(err, 400, "%s: must be a string", name);
	if (allowed) {
		const char *s = json_string_value(v);
		for (size_t i = 0; allowed[i]; i++)
			if (strcmp(s, allowed[i]) == 0)
				return 0;
		return pr_err(err, 400, "%s: \"%.40s\" is not one of the allowed values", name, s);
	}
	return 0;
}

static int need_integer(const json_t *ev, const char *name, bool required, json_int_t min,
			struct pr_error *err)
{
	const json_t *v = json_object_get(ev, name);

	if (!v || json_is_null(v)) {
		if (required)
			return pr_err(err, 400, "%s: missing", name);
		return 0;
	}
	if (!json_is_integer(v))
		return pr_err(err, 400, "%s: must be an integer", name);
	if (json_integer_value(v) < min)
		return pr_err(err, 400, "%s: must be >= %lld", name, (long long)min);
	return 0;
}

static int need_number(const json_t *ev, const char *name, bool required, bool nonneg,
		       struct pr_error *err)
{
	const json_t *v = json_object_get(ev, name);

	if (!v || json_is_null(v)) {
		if (required)
			return pr_err(err, 400, "%s: missing", name);
		return 0;
	}
	if (!json_is_number(v))
		return pr_err(err, 400, "%s: must be a number", name);
	if (nonneg && json_number_value(v) < 0)
		return pr_err(err, 400, "%s: must be >= 0", name);
	return 0;
}

static int need_bool(const json_t *ev, const char *name, struct pr_error *err)
{
	const json_t *v = json_object_get(ev, name);

	if (!v || json_is_null(v) || json_is_boolean(v))
		return 0;
	return pr_err(err, 400, "%s: must be true or false", name);
}

static const char *event_of(const json_t *ev)
{
	return json_string_value(json_object_get(ev, "event"));
}

static bool is(const char *a, const char *b)
{
	return a && strcmp(a, b) == 0;
}

/* ---- the types ------------------------------------------------------------------------- */

/* stage/ended's optional "processes": [{"process", "status", "explained", "why"}, ...]. */
static int check_stage_processes(const json_t *ev, struct pr_error *err)
{
	const json_t *list = json_object_get(ev, "processes"), *p;
	char name[48];
	size_t i;

	if (!list || json_is_null(list))
		return 0;
	if (!json_is_array(list))
		return pr_err(err, 400, "processes: must be an array of objects");
	json_array_foreach (list, i, p) {
		struct pr_error sub = {0};

		if (!json_is_object(p))
			return pr_err(err, 400, "processes[%zu]: must be an object", i);
		if (need_string(p, "process", true, NULL, &sub) || need_integer(p, "status", false, 0, &sub) ||
		    need_string(p, "why", false, NULL, &sub) || need_bool(p, "explained", &sub) ||
		    !json_is_boolean(json_object_get(p, "explained"))) {
			snprintf(name, sizeof name, "processes[%zu]", i);
			return pr_err(err, 400, "%s.%s", name,
				      json_is_boolean(json_object_get(p, "explained")) ? sub.text
						: "explained: missing (true or false)");
		}
	}
	return 0;
}

static int check_stage(const json_t *ev, struct pr_error *err)
{
	static const char *const events[] = {"started", "stopping", "ended", NULL};
	static const char *const modes[] = {"job", "service", NULL};
	const char *e;

	if (need_string(ev, "event", true, events, err) || need_string(ev, "stage", true, NULL, err) ||
	    need_string(ev, "mode", true, modes, err))
		return -1;
	e = event_of(ev);
	if (need_string(ev, "reason", is(e, "stopping"), NULL, err) ||
	    need_integer(ev, "result", is(e, "ended"), INT_MIN, err))
		return -1;
	return check_stage_processes(ev, err);
}

static int check_process(const json_t *ev, struct pr_error *err)
{
	static const char *const events[] = {"started", "ready", "restarting", "failed", "exited",
					     NULL};
	static const char *const killed[] = {"agent-stop", "agent-deadline", "oom", "other", NULL};
	static const char *const msnames[] = {"run_ms", "cpu_user_ms", "cpu_sys_ms", "max_rss_kb"};
	const json_t *lines;
	const char *e;

	if (need_string(ev, "event", true, events, err) ||
	    need_string(ev, "process", true, NULL, err))
		return -1;
	e = event_of(ev);
	if (need_integer(ev, "pid", is(e, "started"), 1, err) ||
	    need_integer(ev, "attempt", false, 0, err))
		return -1;
	if (need_integer(ev, "delay_ms", is(e, "restarting"), 0, err) ||
	    need_string(ev, "reason", is(e, "failed"), NULL, err))
		return -1;
	lines = json_object_get(ev, "last_lines");
	if (lines && !json_is_null(lines)) {
		size_t i;
		const json_t *l;
		if (!json_is_array(lines))
			return pr_err(err, 400, "last_lines: must be an array of strings");
		json_array_foreach (lines, i, l)
			if (!json_is_string(l))
				return pr_err(err, 400, "last_lines[%zu]: must be a string", i);
	}
	if (need_integer(ev, "status", is(e, "exited"), 0, err) ||
	    need_integer(ev, "exit_code", false, 0, err) || need_integer(ev, "signal", false, 1, err) ||
	    need_string(ev, "killed_by", false, killed, err))
		return -1;
	for (size_t i = 0; i < sizeof msnames / sizeof msnames[0]; i++)
		if (need_integer(ev, msnames[i], false, 0, err))
			return -1;
	return 0;
}

static int check_log(const json_t *ev, struct pr_error *err)
{
	static const char *const fds[] = {"stdout", "stderr", NULL};

	if (need_string(ev, "process", true, NULL, err) || need_string(ev, "fd", true, fds, err) ||
	    need_string(ev, "line", true, NULL, err) || need_bool(ev, "cont", err) ||
	    need_bool(ev, "shed", err))
		return -1;
	return 0;
}

static int check_test(const json_t *ev, struct pr_error *err)
{
	static const char *const statuses[] = {"passed", "failed", "error", "skipped", NULL};
	static const char *const texts[] = {"suite", "class", "file", "message", "details", "source"};

	if (need_string(ev, "name", true, NULL, err) ||
	    need_string(ev, "status", true, statuses, err) ||
	    need_integer(ev, "line", false, 0, err) || need_number(ev, "time", false, true, err) ||
	    need_bool(ev, "unfinished", err))
		return -1;
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
		if (need_string(ev, texts[i], false, NULL, err))
			return -1;
	return 0;
}

static int check_finding(const json_t *ev, struct pr_error *err)
{
	static const char *const severities[] = {"error", "warning", "info", NULL};
	static const char *const texts[] = {"rule", "file", "source"};

	if (need_string(ev, "tool", true, NULL, err) ||
	    need_string(ev, "severity", true, severities, err) ||
	    need_string(ev, "message", true, NULL, err) ||
	    need_string(ev, "fingerprint", true, NULL, err) ||
	    need_integer(ev, "line", false, 0, err) || need_integer(ev, "column", false, 0, err))
		return -1;
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
		if (need_string(ev, texts[i], false, NULL, err))
			return -1;
	return 0;
}

static int check_metric(const json_t *ev, struct pr_error *err)
{
	if (need_string(ev, "name", true, NULL, err) || need_number(ev, "value", true, false, err) ||
	    need_string(ev, "tool", false, NULL, err) || need_string(ev, "source", false, NULL, err))
		return -1;
	return 0;
}

static int check_end(const json_t *ev, struct pr_error *err)
{
	struct pr_totals t;

	if (need_integer(ev, "result", true, INT_MIN, err))
		return -1;
	if (pr_totals_from_json(json_object_get(ev, "totals"), &t, err) < 0) {
		pr_err_prefix(err, -1, "totals");
		return -1;
	}
	return 0;
}

/* No NUL inside any string (jansson refuses "\u0000" when decoding) and bounded nesting. */
static int check_tree(const json_t *v, int depth, struct pr_error *err)
{
	size_t i;
	const char *k;
	json_t *c;

	if (depth > DEPTH_MAX)
		return pr_err(err, 400, "nested deeper than %d levels", DEPTH_MAX);
	switch (json_typeof(v)) {
	case JSON_STRING:
		if (strlen(json_string_value(v)) != json_string_length(v))
			return pr_err(err, 400, "a string contains a NUL byte");
		return 0;
	case JSON_ARRAY:
		json_array_foreach ((json_t *)v, i, c)
			if (check_tree(c, depth + 1, err))
				return -1;
		return 0;
	case JSON_OBJECT:
		json_object_foreach ((json_t *)v, k, c) {
			if (check_tree(c, depth + 1, err)) {
				if (depth == 0)
					pr_err_prefix(err, -1, "%.40s: ", k);
				return -1;
			}
		}
		return 0;
	default:
		return 0;
	}
}

int pr_event_check_body(const json_t *event, struct pr_error *err)
{
	int rc;

	if (!json_is_object(event))
		return pr_err(err, 400, "an event must be an object");
	switch (pr_event_type(event)) {
	case PR_TYPE_STAGE: rc = check_stage(event, err); break;
	case PR_TYPE_PROCESS: rc = check_process(event, err); break;
	case PR_TYPE_LOG: rc = check_log(event, err); break;
	case PR_TYPE_TEST: rc = check_test(event, err); break;
	case PR_TYPE_FINDING: rc = check_finding(event, err); break;
	case PR_TYPE_METRIC: rc = check_metric(event, err); break;
	case PR_TYPE_END: rc = check_end(event, err); break;
	default:
		if (!json_is_string(json_object_get(event, "type")))
			return pr_err(err, 400, "type: missing or not a string");
		return pr_err(err, 400, "type: \"%.40s\" is not an event type",
			      json_string_value(json_object_get(event, "type")));
	}
	if (rc)
		return -1;
	return check_tree(event, 0, err);
}

int pr_event_validate(const json_t *event, struct pr_error *err)
{
	const json_t *v, *stream, *seq, *ts;

	if (!json_is_object(event))
		return pr_err(err, 400, "an event must be an object");
	v = json_object_get(event, "v");
	if (!json_is_integer(v) || json_integer_value(v) != PR_VERSION)
		return pr_err(err, 400, "v: must be %d", PR_VERSION);
	stream = json_object_get(event, "stream");
	if (!pr_stream_valid(json_string_value(stream)))
		return pr_err(err, 400, "stream: must be a string of [A-Za-z0-9_.-]{1,%u}",
			      PR_STREAM_MAX);
	seq = json_object_get(event, "seq");
	if (!json_is_integer(seq) || json_integer_value(seq) < 1 ||
	    (unsigned long long)json_integer_value(seq) > PR_SEQ_MAX)
		return pr_err(err, 400, "seq: must be an integer from 1 to 2^53-1");
	ts = json_object_get(event, "ts");
	if (pr_ts_parse(json_string_value(ts), NULL) < 0)
		return pr_err(err, 400, "ts: must be a UTC time like 2026-11-26T06:40:00.123Z");
	return pr_event_check_body(event, err);
}

json_t *pr_event_new(enum pr_type type)
{
	const char *name = pr_type_name(type);

	if (!name)
		return NULL;
	return json_pack("{s:s}", "type", name);
}

static void unstamp(json_t *event)
{
	json_object_del(event, "v");
	json_object_del(event, "stream");
	json_object_del(event, "seq");
	json_object_del(event, "ts");
}

int pr_event_stamp(json_t *event, const char *stream, uint64_t seq, const struct timespec *ts,
		   struct pr_error *err)
{
	char tsbuf[PR_TS_LEN + 1];
	json_t *body;
	size_t size;

	if (pr_event_check_body(event, err) < 0)
		return -1;
	if (!pr_stream_valid(stream))
		return pr_err(err, 400, "stream: invalid stream id");
	if (seq < 1 || seq > PR_SEQ_MAX)
		return pr_err(err, 400, "seq: out of range");
	if (pr_ts_format(ts, tsbuf) < 0)
		return pr_err(err, 400, "ts: time out of range");
	/* The envelope goes first so that an encoded event reads well in logs: keep the body
	 * in a shallow copy, put the envelope in, then the body again. A re-stamp replaces
	 * the old envelope. */
	unstamp(event);
	body = json_copy(event);
	if (!body)
		return pr_err(err, 500, "out of memory");
	json_object_clear(event);
	if (json_object_set_new(event, "v", json_integer(PR_VERSION)) ||
	    json_object_set_new(event, "stream", json_string(stream)) ||
	    json_object_set_new(event, "seq", json_integer((json_int_t)seq)) ||
	    json_object_set_new(event, "ts", json_string(tsbuf)) ||
	    json_object_update(event, body)) {
		unstamp(event);
		json_object_update(event, body);
		json_decref(body);
		return pr_err(err, 500, "out of memory");
	}
	json_decref(body);
	if (!pr_event_fits(event)) {
		size = pr_event_size(event);
		unstamp(event);
		return pr_err(err, 413, "event is %zu bytes as JSON, more than %u", size,
			      PR_EVENT_MAX);
	}
	return 0;
}

size_t pr_event_size(const json_t *event)
{
	return json_dumpb(event, NULL, 0, JSON_COMPACT);
}

/*
 * An upper bound of the compact encoding's size, much cheaper than encoding: a string of n
 * bytes takes at most 6n + 2 ("\u001f" per byte), a number at most 32 bytes. Callers encode
 * only when the bound says the value might not fit.
 */
static size_t size_bound(const json_t *v, int depth)
{
	size_t n = 2, i;
	const char *k;
	json_t *c;

	if (depth > DEPTH_MAX + 1)
		return SIZE_MAX / 2;
	switch (json_typeof(v)) {
	case JSON_STRING:
		return 2 + 6 * json_string_length(v);
	case JSON_INTEGER:
	case JSON_REAL:
		return 32;
	case JSON_ARRAY:
		json_array_foreach ((json_t *)v, i, c) {
			n += size_bound(c, depth + 1) + 1;
			if (n > SIZE_MAX / 4)
				return SIZE_MAX / 2;
		}
		return n;
	case JSON_OBJECT:
		json_object_foreach ((json_t *)v, k, c) {
			n += 2 + 6 * strlen(k) + 1 + size_bound(c, depth + 1) + 1;
			if (n > SIZE_MAX / 4)
				return SIZE_MAX / 2;
		}
		return n;
	default:
		return 5;
	}
}

bool pr_event_fits(const json_t *event)
{
	size_t n;

	if (size_bound(event, 0) <= PR_EVENT_MAX)
		return true;
	n = pr_event_size(event);
	return n > 0 && n <= PR_EVENT_MAX;
}

char *pr_event_encode(const json_t *event, size_t *len)
{
	char small[1024], *buf;
	size_t n;

	/* One pass for the usual small event; a second only for a larger one. */
	n = json_dumpb(event, small, sizeof small, JSON_COMPACT);
	if (n == 0 || n > PR_EVENT_MAX)
		return NULL;
	buf = malloc(n + 1);
	if (!buf)
		return NULL;
	if (n <= sizeof small)
		memcpy(buf, small, n);
	else if (json_dumpb(event, buf, n, JSON_COMPACT) != n) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

/* ---- totals ------------------------------------------------------------------------------ */

void pr_totals_count(struct pr_totals *t, const json_t *event)
{
	const char *s;

	switch (pr_event_type(event)) {
	case PR_TYPE_END:
		return;
	case PR_TYPE_LOG:
		t->logs++;
		if (json_is_true(json_object_get(event, "shed")))
			t->shed_log++;
		break;
	case PR_TYPE_TEST:
		s = json_string_value(json_object_get(event, "status"));
		if (is(s, "passed"))
			t->tests_passed++;
		else if (is(s, "failed"))
			t->tests_failed++;
		else if (is(s, "error"))
			t->tests_error++;
		else if (is(s, "skipped"))
			t->tests_skipped++;
		break;
	case PR_TYPE_FINDING:
		s = json_string_value(json_object_get(event, "severity"));
		if (is(s, "error"))
			t->findings_error++;
		else if (is(s, "warning"))
			t->findings_warning++;
		else if (is(s, "info"))
			t->findings_info++;
		break;
	case PR_TYPE_METRIC:
		t->metrics++;
		break;
	default:
		break;
	}
	t->events++;
}

json_t *pr_totals_to_json(const struct pr_totals *t)
{
	return json_pack("{s:I,s:{s:I,s:I,s:I,s:I},s:{s:I,s:I,s:I},s:I,s:I,s:{s:I}}",
			 "events", (json_int_t)t->events,
			 "tests", "passed", (json_int_t)t->tests_passed,
			 "failed", (json_int_t)t->tests_failed, "error", (json_int_t)t->tests_error,
			 "skipped", (json_int_t)t->tests_skipped,
			 "findings", "error", (json_int_t)t->findings_error,
			 "warning", (json_int_t)t->findings_warning,
			 "info", (json_int_t)t->findings_info,
			 "metrics", (json_int_t)t->metrics, "logs", (json_int_t)t->logs,
			 "shed", "log", (json_int_t)t->shed_log);
}

static int count_member(const json_t *obj, const char *path, const char *name, uint64_t *out,
			struct pr_error *err)
{
	const json_t *v = json_object_get(obj, name);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return pr_err(err, 400, "%s%s: must be an integer >= 0", path, name);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

int pr_totals_from_json(const json_t *totals, struct pr_totals *t, struct pr_error *err)
{
	const json_t *tests, *findings, *shed;
	struct pr_totals r;

	memset(&r, 0, sizeof r);
	if (!json_is_object(totals))
		return pr_err(err, 400, ": must be an object");
	tests = json_object_get(totals, "tests");
	findings = json_object_get(totals, "findings");
	shed = json_object_get(totals, "shed");
	if (!json_is_object(tests))
		return pr_err(err, 400, ".tests: must be an object");
	if (!json_is_object(findings))
		return pr_err(err, 400, ".findings: must be an object");
	if (!json_is_object(shed))
		return pr_err(err, 400, ".shed: must be an object");
	if (count_member(totals, ".", "events", &r.events, err) ||
	    count_member(tests, ".tests.", "passed", &r.tests_passed, err) ||
	    count_member(tests, ".tests.", "failed", &r.tests_failed, err) ||
	    count_member(tests, ".tests.", "error", &r.tests_error, err) ||
	    count_member(tests, ".tests.", "skipped", &r.tests_skipped, err) ||
	    count_member(findings, ".findings.", "error", &r.findings_error, err) ||
	    count_member(findings, ".findings.", "warning", &r.findings_warning, err) ||
	    count_member(findings, ".findings.", "info", &r.findings_info, err) ||
	    count_member(totals, ".", "metrics", &r.metrics, err) ||
	    count_member(totals, ".", "logs", &r.logs, err) ||
	    count_member(shed, ".shed.", "log", &r.shed_log, err))
		return -1;
	if (t)
		*t = r;
	return 0;
}

int pr_totals_compare(const struct pr_totals *counted, const struct pr_totals *claimed,
		      bool logs_expected, struct pr_error *err)
{
#define SAME(f)                                                                                  \
	do {                                                                                     \
		if (counted->f != claimed->f)                                                    \
			return pr_err(err, 400, "totals." #f ": counted %llu, end says %llu",    \
				      (unsigned long long)counted->f,                            \
				      (unsigned long long)claimed->f);                           \
	} while (0)
	if (logs_expected) {
		SAME(events);
		SAME(logs);
		SAME(shed_log);
	}
	SAME(tests_passed);
	SAME(tests_failed);
	SAME(tests_error);
	SAME(tests_skipped);
	SAME(findings_error);
	SAME(findings_warning);
	SAME(findings_info);
	SAME(metrics);
#undef SAME
	return 0;
}

int pr_shed_placeholder_format(const char *stream, uint64_t seq, const char *ts, char *out,
			       size_t cap)
{
	char buf[PR_SHED_PLACEHOLDER_MAX + 32];
	int n;

	if (!pr_stream_valid(stream) || seq < 1 || seq > PR_SEQ_MAX || pr_ts_parse(ts, NULL) < 0)
		return -1;
	n = snprintf(buf, sizeof buf,
		     "{\"v\":%d,\"stream\":\"%s\",\"seq\":%llu,\"ts\":\"%s\",\"type\":\"log\","
		     "\"process\":\"\",\"fd\":\"stdout\",\"line\":\"\",\"shed\":true}",
		     PR_VERSION, stream, (unsigned long long)seq, ts);
	if (n < 0 || (size_t)n >= sizeof buf || (size_t)n >= cap)
		return -1;
	memcpy(out, buf, (size_t)n + 1);
	return n;
}

json_t *pr_end_new(int result, const struct pr_totals *t)
{
	json_t *totals = pr_totals_to_json(t);

	if (!totals)
		return NULL;
	return json_pack("{s:s,s:i,s:o}", "type", "end", "result", result, "totals", totals);
}
