/*
 * spec — parse and validate a stage spec (see spec.h and agents/README.md).
 *
 * The parser walks the jansson tree once, field by field, and stops at the first
 * error, which it reports with the JSON path of the offending field. Within each
 * object unknown keys are checked first, so a typo ("comand") is reported as a typo
 * rather than as the missing field it hides. Dependencies are resolved after every
 * process has been read (a process may depend on one defined after it), then the
 * graph is checked for cycles and a start order is computed.
 *
 * Everything here is pure logic except spec_load_file(), which reads one file.
 */
#include "spec.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PATH_SIZE 256 /* == sizeof(struct spec_error.field) */
#define QUOTE_SIZE 96 /* a quoted user string in a message: at most ~64 chars shown */

/* ---- errors ------------------------------------------------------------------------- */

__attribute__((format(printf, 3, 4)))
static int fail(struct spec_error *err, const char *path, const char *fmt, ...)
{
	va_list ap;

	snprintf(err->field, sizeof(err->field), "%s", path);
	va_start(ap, fmt);
	vsnprintf(err->text, sizeof(err->text), fmt, ap);
	va_end(ap);
	err->line = 0;
	err->column = 0;
	return -1;
}

/* s as a double-quoted string for a message: control bytes escaped, cut after ~64 bytes
 * (on a UTF-8 character boundary) with "..." appended. */
static const char *quote(char *buf, size_t size, const char *s)
{
	size_t o = 0, i;

	buf[o++] = '"';
	for (i = 0; s[i] && o + 8 < size; i++) {
		unsigned char c = (unsigned char)s[i];
		if (i >= 64 && (c & 0xC0) != 0x80) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
		} else {
			buf[o++] = (char)c;
		}
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "a value";
}

static int fail_type(struct spec_error *err, const char *path, const char *expected, const json_t *v)
{
	return fail(err, path, "expected %s, got %s", expected, type_name(v));
}

static int fail_oom(struct spec_error *err, const char *path)
{
	return fail(err, path, "out of memory");
}

/* ---- JSON paths ------------------------------------------------------------------------ */

static bool plain_key(const char *key)
{
	size_t i;

	if (!key[0] || strlen(key) > 64)
		return false;
	for (i = 0; key[i]; i++)
		if (!isalnum((unsigned char)key[i]) && key[i] != '_' && key[i] != '-')
			return false;
	return true;
}

/* parent.key, or parent["odd key"] for keys that would not read as a path. */
static void path_key(char *out, const char *parent, const char *key)
{
	char q[QUOTE_SIZE];

	int n;

	if (plain_key(key))
		n = snprintf(out, PATH_SIZE, "%s%s%s", parent, parent[0] ? "." : "", key);
	else
		n = snprintf(out, PATH_SIZE, "%s[%s]", parent, quote(q, sizeof(q), key));
	if (n >= PATH_SIZE)
		out[PATH_SIZE - 1] = '\0'; /* cut; paths here are far shorter */
}

static void path_index(char *out, const char *parent, size_t i)
{
	if (snprintf(out, PATH_SIZE, "%s[%zu]", parent, i) >= PATH_SIZE)
		out[PATH_SIZE - 1] = '\0'; /* cut; paths here are far shorter */
}

/* ---- "did you mean" ---------------------------------------------------------------------- */

/* Levenshtein distance of two short strings (either longer than 64 -> large). */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[65];

	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] == b[j - 1] ? 0 : 1);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* The candidate closest to s: a case-insensitive match, else edit distance <= 2;
 * NULL when none is close. candidates is NULL-terminated. */
static const char *closest(const char *s, const char *const *candidates)
{
	const char *best = NULL;
	size_t best_d = 3, i;

	for (i = 0; candidates[i]; i++)
		if (strcasecmp(s, candidates[i]) == 0)
			return candidates[i];
	for (i = 0; candidates[i]; i++) {
		size_t d = edit_distance(s, candidates[i]);
		if (d < best_d) {
			best_d = d;
			best = candidates[i];
		}
	}
	return best;
}

static void list_join(char *out, size_t size, const char *const *items)
{
	size_t i, o = 0;

	out[0] = '\0';
	for (i = 0; items[i] && o < size; i++)
		o += (size_t)snprintf(out + o, size - o, "%s%s", i ? ", " : "", items[i]);
}

/* ---- typed getters ----------------------------------------------------------------------- */

static int check_keys(const json_t *obj, const char *path, const char *const *known,
		      struct spec_error *err)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)obj, key, v) {
		size_t i;
		bool ok = false;
		for (i = 0; known[i] && !ok; i++)
			ok = strcmp(key, known[i]) == 0;
		if (!ok) {
			char p[PATH_SIZE], q[QUOTE_SIZE];
			const char *hint = closest(key, known);
			path_key(p, path, key);
			if (hint)
				return fail(err, p, "unknown field %s; did you mean \"%s\"?",
					    quote(q, sizeof(q), key), hint);
			return fail(err, p, "unknown field %s", quote(q, sizeof(q), key));
		}
	}
	return 0;
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* A string of 1..max bytes (0..max when may_be_empty). Points into the JSON tree. */
static int get_string(const json_t *v, const char *path, size_t max, bool may_be_empty,
		      const char **out, struct spec_error *err)
{
	size_t len;

	if (!json_is_string(v))
		return fail_type(err, path, "a string", v);
	len = json_string_length(v);
	if (len == 0 && !may_be_empty)
		return fail(err, path, "must not be empty");
	if (len > max)
		return fail(err, path, "is %zu bytes long, at most %zu are allowed", len, max);
	*out = json_string_value(v);
	return 0;
}

static int dup_string(const json_t *v, const char *path, size_t max, bool may_be_empty,
		      char **out, struct spec_error *err)
{
	const char *s = NULL;

	if (get_string(v, path, max, may_be_empty, &s, err) < 0)
		return -1;
	if (!(*out = strdup(s)))
		return fail_oom(err, path);
	return 0;
}

/* An integer in lo..hi; a number with a fractional part is rejected. */
static int get_int(const json_t *v, const char *path, long long lo, long long hi, long long *out,
		   struct spec_error *err)
{
	long long n;

	if (json_is_integer(v)) {
		n = json_integer_value(v);
	} else if (json_is_real(v)) {
		double d = json_real_value(v);
		if (!(d >= -9e15 && d <= 9e15) || d != (double)(long long)d)
			return fail(err, path, "expected a whole number, got %g", d);
		n = (long long)d;
	} else {
		return fail_type(err, path, "an integer", v);
	}
	if (n < lo || n > hi)
		return fail(err, path, "must be between %lld and %lld, got %lld", lo, hi, n);
	*out = n;
	return 0;
}

static int get_uint(const json_t *v, const char *path, long long lo, long long hi, unsigned *out,
		    struct spec_error *err)
{
	long long n;

	if (get_int(v, path, lo, hi, &n, err) < 0)
		return -1;
	*out = (unsigned)n;
	return 0;
}

/* Seconds (integer or fractional) in lo..hi, converted to milliseconds (rounded). */
static int get_seconds(const json_t *v, const char *path, double lo, double hi, unsigned *ms,
		       struct spec_error *err)
{
	double d;

	if (!json_is_number(v))
		return fail_type(err, path, "a number of seconds", v);
	d = json_number_value(v);
	if (!(d >= lo && d <= hi))
		return fail(err, path, "must be between %g and %g seconds, got %g", lo, hi, d);
	*ms = (unsigned)(d * 1000.0 + 0.5); /* d >= 0: rounds to the nearest millisecond */
	return 0;
}

static int get_bool(const json_t *v, const char *path, bool *out, struct spec_error *err)
{
	if (!json_is_boolean(v))
		return fail_type(err, path, "a boolean", v);
	*out = json_is_true(v);
	return 0;
}

/* One of names[] (NULL-terminated); *out is its index. what: "mode", "role", ... */
static int get_enum(const json_t *v, const char *path, const char *what, const char *const *names,
		    int *out, struct spec_error *err)
{
	const char *s, *hint;
	char q[QUOTE_SIZE], all[256];
	int i;

	if (!json_is_string(v))
		return fail_type(err, path, "a string", v);
	s = json_string_value(v);
	for (i = 0; names[i]; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	list_join(all, sizeof(all), names);
	hint = closest(s, names);
	if (hint)
		return fail(err, path, "unknown %s %s (expected one of: %s); did you mean \"%s\"?",
			    what, quote(q, sizeof(q), s), all, hint);
	return fail(err, path, "unknown %s %s (expected one of: %s)", what, quote(q, sizeof(q), s), all);
}

static void free_strv(char **v)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

/* An argv: a non-empty array of at most SPEC_ARGV_MAX strings, the first one non-empty.
 * *out is NULL-terminated and owned by the caller, also on failure (free_strv). */
static int get_argv(const json_t *v, const char *path, char ***out, size_t *count,
		    struct spec_error *err)
{
	size_t n, i;
	char p[PATH_SIZE];

	if (!json_is_array(v))
		return fail_type(err, path, "an array of strings", v);
	n = json_array_size(v);
	if (n == 0)
		return fail(err, path, "must not be empty (the first entry is the program to run)");
	if (n > SPEC_ARGV_MAX)
		return fail(err, path, "has %zu entries, at most %u are allowed", n, SPEC_ARGV_MAX);
	if (!(*out = calloc(n + 1, sizeof(char *))))
		return fail_oom(err, path);
	for (i = 0; i < n; i++) {
		path_index(p, path, i);
		if (dup_string(json_array_get(v, i), p, SPEC_ARG_MAX, i > 0, &(*out)[i], err) < 0)
			return -1;
	}
	if (count)
		*count = n;
	return 0;
}

/* ---- signals ------------------------------------------------------------------------------- */

static const struct {
	const char *name; /* without "SIG" */
	int num;
} signal_table[] = {
	{"HUP", SIGHUP}, {"INT", SIGINT}, {"QUIT", SIGQUIT}, {"ILL", SIGILL},
	{"TRAP", SIGTRAP}, {"ABRT", SIGABRT}, {"BUS", SIGBUS}, {"FPE", SIGFPE},
	{"KILL", SIGKILL}, {"USR1", SIGUSR1}, {"SEGV", SIGSEGV}, {"USR2", SIGUSR2},
	{"PIPE", SIGPIPE}, {"ALRM", SIGALRM}, {"TERM", SIGTERM}, {"STKFLT", SIGSTKFLT},
	{"CHLD", SIGCHLD}, {"CONT", SIGCONT}, {"STOP", SIGSTOP}, {"TSTP", SIGTSTP},
	{"TTIN", SIGTTIN}, {"TTOU", SIGTTOU}, {"URG", SIGURG}, {"XCPU", SIGXCPU},
	{"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH},
	{"IO", SIGIO}, {"PWR", SIGPWR}, {"SYS", SIGSYS},
	/* aliases, after the canonical names so spec_signal_name() never picks them */
	{"IOT", SIGABRT}, {"POLL", SIGIO}, {"CLD", SIGCHLD},
};

static const char *const signal_full_names[] = {
	NULL, "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE",
	"SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT",
	"SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU",
	"SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS",
};

static const char *const rt_names[] = {
	"SIGRTMIN", "SIGRTMIN+1", "SIGRTMIN+2", "SIGRTMIN+3", "SIGRTMIN+4", "SIGRTMIN+5",
	"SIGRTMIN+6", "SIGRTMIN+7", "SIGRTMIN+8", "SIGRTMIN+9", "SIGRTMIN+10", "SIGRTMIN+11",
	"SIGRTMIN+12", "SIGRTMIN+13", "SIGRTMIN+14", "SIGRTMIN+15", "SIGRTMIN+16", "SIGRTMIN+17",
	"SIGRTMIN+18", "SIGRTMIN+19", "SIGRTMIN+20", "SIGRTMIN+21", "SIGRTMIN+22", "SIGRTMIN+23",
	"SIGRTMIN+24", "SIGRTMIN+25", "SIGRTMIN+26", "SIGRTMIN+27", "SIGRTMIN+28", "SIGRTMIN+29",
	"SIGRTMIN+30", "SIGRTMIN+31", "SIGRTMIN+32",
};

/* A signal number the agent can name: 1..31, or SIGRTMIN..SIGRTMAX (glibc keeps the
 * numbers between 31 and SIGRTMIN for itself). */
static bool signal_valid(long n)
{
	return (n >= 1 && n <= 31) || (n >= SIGRTMIN && n <= SIGRTMAX);
}

/* "+n" / "-n" after RTMIN / RTMAX; "" is 0. -1 when malformed. */
static int rt_offset(const char *s, char sign)
{
	int n = 0;

	if (!*s)
		return 0;
	if (*s != sign || !s[1] || strlen(s) > 3)
		return -1;
	for (s++; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		n = n * 10 + (*s - '0');
	}
	return n;
}

int spec_signal_from_name(const char *name)
{
	const char *s;
	size_t i;

	if (!name || !*name)
		return -1;
	if (isdigit((unsigned char)name[0])) {
		long n = 0;
		if (strlen(name) > 3)
			return -1;
		for (s = name; *s; s++) {
			if (!isdigit((unsigned char)*s))
				return -1;
			n = n * 10 + (*s - '0');
		}
		return signal_valid(n) ? (int)n : -1;
	}
	s = strncasecmp(name, "SIG", 3) == 0 ? name + 3 : name;
	for (i = 0; i < sizeof(signal_table) / sizeof(signal_table[0]); i++)
		if (strcasecmp(s, signal_table[i].name) == 0)
			return signal_table[i].num;
	if (strncasecmp(s, "RTMIN", 5) == 0) {
		int off = rt_offset(s + 5, '+');
		if (off < 0 || SIGRTMIN + off > SIGRTMAX)
			return -1;
		return SIGRTMIN + off;
	}
	if (strncasecmp(s, "RTMAX", 5) == 0) {
		int off = rt_offset(s + 5, '-');
		if (off < 0 || SIGRTMAX - off < SIGRTMIN)
			return -1;
		return SIGRTMAX - off;
	}
	return -1;
}

const char *spec_signal_name(int sig)
{
	if (sig >= 1 && sig <= 31)
		return signal_full_names[sig];
	if (sig == SIGRTMAX)
		return "SIGRTMAX";
	if (sig >= SIGRTMIN && sig < SIGRTMAX &&
	    (size_t)(sig - SIGRTMIN) < sizeof(rt_names) / sizeof(rt_names[0]))
		return rt_names[sig - SIGRTMIN];
	return "SIG?";
}

/* A signal given as a name ("SIGWINCH", "WINCH") or a number (28 or "28"). */
static int get_signal(const json_t *v, const char *path, int *out, struct spec_error *err)
{
	char q[QUOTE_SIZE];
	int sig;

	if (json_is_integer(v)) {
		json_int_t n = json_integer_value(v);
		if (!signal_valid(n > INT32_MAX || n < 0 ? -1 : (long)n))
			return fail(err, path, "%lld is not a signal number", (long long)n);
		*out = (int)n;
		return 0;
	}
	if (!json_is_string(v))
		return fail_type(err, path, "a signal name such as \"SIGTERM\"", v);
	sig = spec_signal_from_name(json_string_value(v));
	if (sig < 0)
		return fail(err, path, "unknown signal %s (use a name such as \"SIGTERM\" or \"TERM\", or a number)",
			    quote(q, sizeof(q), json_string_value(v)));
	*out = sig;
	return 0;
}

/* ---- stage fields ------------------------------------------------------------------------------- */

static const char *const stage_keys[] = {
	"version", "stage", "mode", "stop_timeout", "stop_signals", "processes", NULL};
static const char *const process_keys[] = {
	"name", "command", "env", "cwd", "role", "essential", "depends_on", "ready", "restart",
	"stop_signal", "stop_grace", "success_exit_codes", "results", NULL};
static const char *const dep_keys[] = {"name", "condition", NULL};
static const char *const probe_keys[] = {"tcp", "http", "exec", "log", "interval_ms", "timeout_ms", NULL};
static const char *const probe_kinds[] = {"tcp", "http", "exec", "log", NULL};
static const char *const restart_keys[] = {"policy", "max_retries", "backoff_ms", "backoff_max_ms", NULL};
static const char *const result_keys[] = {"format", "path", "stream", "fail_on", NULL};

/* In the order of the enums of spec.h. */
static const char *const mode_names[] = {"job", "service", NULL};
static const char *const role_names[] = {"job", "service", NULL};
static const char *const condition_names[] = {"started", "ready", "completed", "succeeded", NULL};
static const char *const policy_names[] = {"never", "on-failure", "always", NULL};
static const char *const fail_on_names[] = {"error", "warning", "info", "never", NULL};
static const char *const format_names[] = {
	"junit", "teamcity", "checkstyle", "phpstan-json", "pmd", "pmd-cpd", "phploc-json", NULL};

static bool valid_process_name(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
			return false;
	return i >= 1 && i <= SPEC_NAME_MAX;
}

static bool valid_env_name(const char *s)
{
	size_t i;

	if (!isalpha((unsigned char)s[0]) && s[0] != '_')
		return false;
	for (i = 1; s[i]; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return i <= SPEC_ENV_NAME_MAX;
}

static int parse_env(const json_t *v, const char *path, struct spec_process *proc,
		     struct spec_error *err)
{
	const char *key;
	json_t *val;
	size_t n;
	char p[PATH_SIZE], q[QUOTE_SIZE];

	if (!json_is_object(v))
		return fail_type(err, path, "an object of strings", v);
	n = json_object_size(v);
	if (n > SPEC_ENV_MAX)
		return fail(err, path, "has %zu variables, at most %u are allowed", n, SPEC_ENV_MAX);
	if (!(proc->env = calloc(n + 1, sizeof(char *))))
		return fail_oom(err, path);
	json_object_foreach((json_t *)v, key, val) {
		const char *s;
		char *kv;
		path_key(p, path, key);
		if (!valid_env_name(key))
			return fail(err, p, "%s is not a valid environment variable name ([A-Za-z_][A-Za-z0-9_]*)",
				    quote(q, sizeof(q), key));
		if (get_string(val, p, SPEC_ARG_MAX, true, &s, err) < 0)
			return -1;
		if (!(kv = malloc(strlen(key) + strlen(s) + 2)))
			return fail_oom(err, p);
		sprintf(kv, "%s=%s", key, s);
		proc->env[proc->nenv++] = kv;
	}
	return 0;
}

static int parse_deps(const json_t *v, const char *path, struct spec_process *proc,
		      struct spec_error *err)
{
	size_t n, i;
	char p[PATH_SIZE], pf[PATH_SIZE];

	if (!json_is_array(v))
		return fail_type(err, path, "an array of {\"name\", \"condition\"} objects", v);
	n = json_array_size(v);
	if (n > SPEC_PROCS_MAX)
		return fail(err, path, "has %zu entries, at most %u are allowed", n, SPEC_PROCS_MAX);
	if (n && !(proc->deps = calloc(n, sizeof(*proc->deps))))
		return fail_oom(err, path);
	for (i = 0; i < n; i++) {
		json_t *d = json_array_get(v, i), *f;
		struct spec_dep *dep = &proc->deps[i];
		path_index(p, path, i);
		proc->ndeps = i + 1;
		if (!json_is_object(d))
			return fail_type(err, p, "an object {\"name\", \"condition\"}", d);
		if (check_keys(d, p, dep_keys, err) < 0)
			return -1;
		path_key(pf, p, "name");
		if (!(f = json_object_get(d, "name")))
			return fail(err, pf, "missing (the name of the process depended on)");
		if (dup_string(f, pf, SPEC_NAME_MAX * 4, false, &dep->name, err) < 0)
			return -1;
		dep->condition = SPEC_DEP_STARTED;
		if ((f = json_object_get(d, "condition"))) {
			int c;
			path_key(pf, p, "condition");
			if (get_enum(f, pf, "condition", condition_names, &c, err) < 0)
				return -1;
			dep->condition = (enum spec_condition)c;
		}
	}
	return 0;
}

/* "host:port" or "[v6]:port" into probe->host / probe->port. */
static int parse_hostport(const char *s, const char *path, struct spec_probe *probe,
			  struct spec_error *err)
{
	const char *colon, *host, *port;
	size_t hostlen, i;
	long n = 0;
	char q[QUOTE_SIZE];

	colon = strrchr(s, ':');
	if (!colon)
		return fail(err, path, "expected \"host:port\", got %s", quote(q, sizeof(q), s));
	host = s;
	hostlen = (size_t)(colon - s);
	if (s[0] == '[') {
		if (hostlen < 3 || s[hostlen - 1] != ']')
			return fail(err, path, "expected \"[address]:port\", got %s", quote(q, sizeof(q), s));
		host++;
		hostlen -= 2;
	} else if (memchr(s, ':', hostlen)) {
		return fail(err, path, "an IPv6 address needs brackets: \"[::1]:8080\", got %s",
			    quote(q, sizeof(q), s));
	}
	if (hostlen == 0)
		return fail(err, path, "expected \"host:port\" with a host, got %s", quote(q, sizeof(q), s));
	for (i = 0; i < hostlen; i++)
		if (isspace((unsigned char)host[i]) || (unsigned char)host[i] < 0x20 ||
		    host[i] == '/' || host[i] == '[' || host[i] == ']')
			return fail(err, path, "invalid host in %s", quote(q, sizeof(q), s));
	port = colon + 1;
	if (!*port || strlen(port) > 5)
		return fail(err, path, "port must be a number from 1 to 65535, in %s", quote(q, sizeof(q), s));
	for (i = 0; port[i]; i++) {
		if (!isdigit((unsigned char)port[i]))
			return fail(err, path, "port must be a number from 1 to 65535, in %s", quote(q, sizeof(q), s));
		n = n * 10 + (port[i] - '0');
	}
	if (n < 1 || n > 65535)
		return fail(err, path, "port must be a number from 1 to 65535, in %s", quote(q, sizeof(q), s));
	if (hostlen > SPEC_HOST_MAX)
		return fail(err, path, "the host is longer than %u bytes", SPEC_HOST_MAX);
	if (!(probe->host = strndup(host, hostlen)) || !(probe->port = strdup(port)))
		return fail_oom(err, path);
	return 0;
}

static int parse_tcp(const json_t *v, const char *path, struct spec_probe *probe,
		     struct spec_error *err)
{
	const char *s;

	if (get_string(v, path, SPEC_HOST_MAX + 8, false, &s, err) < 0)
		return -1;
	probe->kind = SPEC_PROBE_TCP;
	return parse_hostport(s, path, probe, err);
}

/* "http://host[:port][/path]" into url, host, port and http_path. */
static int parse_http(const json_t *v, const char *path, struct spec_probe *probe,
		      struct spec_error *err)
{
	const char *s = NULL, *auth, *end, *colon;
	char q[QUOTE_SIZE], hostport[SPEC_HOST_MAX + 16];
	size_t authlen;

	if (get_string(v, path, SPEC_URL_MAX, false, &s, err) < 0)
		return -1;
	if (strncmp(s, "http://", 7) != 0) {
		if (strncasecmp(s, "https://", 8) == 0)
			return fail(err, path, "only http:// URLs can be probed (the probe runs next to the process; use plain HTTP), got %s",
				    quote(q, sizeof(q), s));
		return fail(err, path, "expected an http:// URL, got %s", quote(q, sizeof(q), s));
	}
	if (has_control(s) || strpbrk(s, " \t"))
		return fail(err, path, "a URL must not contain spaces or control characters");
	auth = s + 7;
	end = auth + strcspn(auth, "/?#");
	authlen = (size_t)(end - auth);
	if (authlen == 0)
		return fail(err, path, "the URL has no host: %s", quote(q, sizeof(q), s));
	if (memchr(auth, '@', authlen))
		return fail(err, path, "user information in the URL is not supported: %s", quote(q, sizeof(q), s));
	if (authlen >= sizeof(hostport) - 1)
		return fail(err, path, "the URL's host is too long");
	/* host:port is validated like a tcp probe; a missing port is 80. */
	colon = NULL;
	if (auth[0] == '[') {
		const char *rb = memchr(auth, ']', authlen);
		if (rb && rb + 1 < end && rb[1] == ':')
			colon = rb + 1;
	} else {
		colon = memchr(auth, ':', authlen);
	}
	if (colon)
		snprintf(hostport, sizeof(hostport), "%.*s", (int)authlen, auth);
	else
		snprintf(hostport, sizeof(hostport), "%.*s:80", (int)authlen, auth);
	probe->kind = SPEC_PROBE_HTTP;
	if (parse_hostport(hostport, path, probe, err) < 0) {
		if (!strcmp(err->text, "out of memory"))
			return -1;
		/* Reword: the error is about the URL, not a "host:port" string. */
		return fail(err, path, "invalid host or port in the URL %s", quote(q, sizeof(q), s));
	}
	/* The probe sends the path as written: a query needs a path before it ("/?x"), and a
	 * fragment would never be sent. */
	if (*end == '?')
		return fail(err, path, "write the path before the query (\"http://host/?...\"), got %s",
			    quote(q, sizeof(q), s));
	if (strchr(end, '#'))
		return fail(err, path, "a URL fragment (\"#...\") is never sent; remove it from %s",
			    quote(q, sizeof(q), s));
	if (!(probe->url = strdup(s)) || !(probe->http_path = strdup(*end ? end : "/")))
		return fail_oom(err, path);
	return 0;
}

/*
 * The C library compiles a regular expression by copying a repeated part once per repetition
 * (glibc: "a{100}" is a hundred nodes, and a repetition of a repetition multiplies), so a short
 * pattern can ask for gigabytes. Before regcomp() the pattern's size once repeated is estimated:
 * every atom counts 1 times the bounds of the repetitions around it ('*', '+', '?' count 2,
 * "{n,m}" counts m + 1, "{n,}" n + 2), and a repetition written straight after another ("a++",
 * "a*{2}": undefined in POSIX) is refused. Returns the estimate, or -1 with *why set.
 */
#define SPEC_PATTERN_COST_MAX 20000.0

static double pattern_seq(const char *s, size_t *i, int depth, const char **why);

static double pattern_repeat(const char *s, size_t *i, const char **why)
{
	unsigned long n = 0, m = 0;
	bool comma = false;
	char c = s[*i];

	if (c == '*' || c == '+' || c == '?') {
		(*i)++;
		return 2.0;
	}
	if (c != '{' || !isdigit((unsigned char)s[*i + 1]))
		return 1.0;
	(*i)++;
	while (isdigit((unsigned char)s[*i]) && n < 100000)
		n = n * 10 + (unsigned long)(s[(*i)++] - '0');
	if (s[*i] == ',') {
		comma = true;
		(*i)++;
		while (isdigit((unsigned char)s[*i]) && m < 100000)
			m = m * 10 + (unsigned long)(s[(*i)++] - '0');
	}
	if (s[*i] != '}') {
		*why = "a repetition \"{n,m}\" is not closed or too large";
		return -1.0;
	}
	(*i)++;
	if (!comma)
		return (double)n + 1.0;
	return m ? (double)m + 1.0 : (double)n + 2.0;
}

static double pattern_atom(const char *s, size_t *i, int depth, const char **why)
{
	double size = 1.0;

	switch (s[*i]) {
	case '(':
		if (depth >= 64) {
			*why = "groups are nested more than 64 deep";
			return -1.0;
		}
		(*i)++;
		size = pattern_seq(s, i, depth + 1, why);
		if (size < 0)
			return -1.0;
		if (s[*i] == ')')
			(*i)++;
		return size + 1.0;
	case '[':
		(*i)++;
		if (s[*i] == '^')
			(*i)++;
		if (s[*i] == ']')
			(*i)++;
		while (s[*i] && s[*i] != ']') {
			if (s[*i] == '[' && (s[*i + 1] == ':' || s[*i + 1] == '=' || s[*i + 1] == '.')) {
				char end = s[*i + 1];
				*i += 2;
				while (s[*i] && !(s[*i] == end && s[*i + 1] == ']'))
					(*i)++;
				if (s[*i])
					*i += 2;
				continue;
			}
			(*i)++;
		}
		if (s[*i])
			(*i)++;
		return 1.0;
	case '\\':
		(*i)++;
		if (s[*i])
			(*i)++;
		return 1.0;
	default:
		(*i)++;
		return 1.0;
	}
}

static double pattern_seq(const char *s, size_t *i, int depth, const char **why)
{
	double total = 0.0;

	while (s[*i] && s[*i] != ')') {
		double atom, rep;
		size_t next;

		if (s[*i] == '|') {
			(*i)++;
			continue;
		}
		if ((atom = pattern_atom(s, i, depth, why)) < 0)
			return -1.0;
		if ((rep = pattern_repeat(s, i, why)) < 0)
			return -1.0;
		next = *i;
		if (rep > 1.0 && pattern_repeat(s, &next, why) != 1.0) {
			*why = "a repetition follows another (\"a++\", \"a*{2}\"): write one, or group the first";
			return -1.0;
		}
		total += atom * rep;
		if (total > SPEC_PATTERN_COST_MAX) {
			*why = "the expression is too large once its repetitions are expanded (more than 20000 "
			       "elements): use fewer or smaller repetitions";
			return -1.0;
		}
	}
	return total;
}

static int pattern_check(const char *s, const char **why)
{
	size_t i = 0;
	double total = 0.0;

	*why = NULL;
	while (s[i]) {
		double part = pattern_seq(s, &i, 0, why);

		if (part < 0)
			return -1;
		total += part;
		if (total > SPEC_PATTERN_COST_MAX) {
			*why = "the expression is too large once its repetitions are expanded (more than 20000 "
			       "elements): use fewer or smaller repetitions";
			return -1;
		}
		if (s[i] == ')')
			i++; /* an unmatched ')' is an ordinary character in an ERE */
	}
	return 0;
}

static int parse_log(const json_t *v, const char *path, struct spec_probe *probe,
		     struct spec_error *err)
{
	const char *s, *why;
	regex_t re;
	int rc;

	if (get_string(v, path, SPEC_PATTERN_MAX, false, &s, err) < 0)
		return -1;
	if (pattern_check(s, &why) < 0)
		return fail(err, path, "regular expression refused: %s", why);
	rc = regcomp(&re, s, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		char msg[200];
		regerror(rc, &re, msg, sizeof(msg));
		return fail(err, path, "invalid regular expression: %s", msg);
	}
	regfree(&re);
	probe->kind = SPEC_PROBE_LOG;
	if (!(probe->pattern = strdup(s)))
		return fail_oom(err, path);
	return 0;
}

static int parse_ready(const json_t *v, const char *path, struct spec_probe *probe,
		       struct spec_error *err)
{
	const char *kinds[4];
	size_t nk = 0, i;
	json_t *f;
	char p[PATH_SIZE], all[64];

	if (!json_is_object(v))
		return fail_type(err, path, "an object such as {\"tcp\": \"127.0.0.1:8080\"}", v);
	if (check_keys(v, path, probe_keys, err) < 0)
		return -1;
	for (i = 0; probe_kinds[i]; i++)
		if (json_object_get(v, probe_kinds[i]))
			kinds[nk++] = probe_kinds[i];
	list_join(all, sizeof(all), probe_kinds);
	if (nk == 0)
		return fail(err, path, "needs one probe: one of %s", all);
	if (nk > 1) {
		path_key(p, path, kinds[1]);
		return fail(err, p, "a ready probe is exactly one of %s; %s is already set",
			    all, kinds[0]);
	}
	path_key(p, path, kinds[0]);
	f = json_object_get(v, kinds[0]);
	if (strcmp(kinds[0], "tcp") == 0) {
		if (parse_tcp(f, p, probe, err) < 0)
			return -1;
	} else if (strcmp(kinds[0], "http") == 0) {
		if (parse_http(f, p, probe, err) < 0)
			return -1;
	} else if (strcmp(kinds[0], "exec") == 0) {
		probe->kind = SPEC_PROBE_EXEC;
		if (get_argv(f, p, &probe->argv, NULL, err) < 0)
			return -1;
	} else {
		if (parse_log(f, p, probe, err) < 0)
			return -1;
	}
	if ((f = json_object_get(v, "interval_ms"))) {
		path_key(p, path, "interval_ms");
		if (get_uint(f, p, 10, 3600000, &probe->interval_ms, err) < 0)
			return -1;
	}
	if ((f = json_object_get(v, "timeout_ms"))) {
		path_key(p, path, "timeout_ms");
		if (get_uint(f, p, 1, 86400000, &probe->timeout_ms, err) < 0)
			return -1;
	}
	return 0;
}

static int parse_restart(const json_t *v, const char *path, struct spec_restart *r,
			 struct spec_error *err)
{
	json_t *f;
	char p[PATH_SIZE];
	int policy;

	if (!json_is_object(v))
		return fail_type(err, path, "an object such as {\"policy\": \"on-failure\"}", v);
	if (check_keys(v, path, restart_keys, err) < 0)
		return -1;
	if ((f = json_object_get(v, "policy"))) {
		path_key(p, path, "policy");
		if (get_enum(f, p, "restart policy", policy_names, &policy, err) < 0)
			return -1;
		r->policy = (enum spec_restart_policy)policy;
	}
	if ((f = json_object_get(v, "max_retries"))) {
		path_key(p, path, "max_retries");
		if (get_uint(f, p, 0, 1000, &r->max_retries, err) < 0)
			return -1;
	}
	if ((f = json_object_get(v, "backoff_ms"))) {
		path_key(p, path, "backoff_ms");
		if (get_uint(f, p, 1, 3600000, &r->backoff_ms, err) < 0)
			return -1;
		if (r->backoff_max_ms < r->backoff_ms)
			r->backoff_max_ms = r->backoff_ms; /* default cap follows a larger start */
	}
	if ((f = json_object_get(v, "backoff_max_ms"))) {
		path_key(p, path, "backoff_max_ms");
		if (get_uint(f, p, 1, 3600000, &r->backoff_max_ms, err) < 0)
			return -1;
		if (r->backoff_max_ms < r->backoff_ms)
			return fail(err, p, "must be at least backoff_ms (%u), got %u",
				    r->backoff_ms, r->backoff_max_ms);
	}
	return 0;
}

static int parse_results(const json_t *v, const char *path, struct spec_process *proc,
			 struct spec_error *err)
{
	size_t n, i;
	char p[PATH_SIZE], pf[PATH_SIZE];

	if (!json_is_array(v))
		return fail_type(err, path, "an array of {\"format\", \"path\"} objects", v);
	n = json_array_size(v);
	if (n > SPEC_RESULTS_MAX)
		return fail(err, path, "has %zu entries, at most %u are allowed", n, SPEC_RESULTS_MAX);
	if (n && !(proc->results = calloc(n, sizeof(*proc->results))))
		return fail_oom(err, path);
	for (i = 0; i < n; i++) {
		json_t *r = json_array_get(v, i), *f, *fpath, *fstream;
		struct spec_result *res = &proc->results[i];
		int k;
		path_index(p, path, i);
		proc->nresults = i + 1;
		if (!json_is_object(r))
			return fail_type(err, p, "an object {\"format\", \"path\"}", r);
		if (check_keys(r, p, result_keys, err) < 0)
			return -1;
		path_key(pf, p, "format");
		if (!(f = json_object_get(r, "format")))
			return fail(err, pf, "missing (one of: junit, teamcity, checkstyle, phpstan-json, pmd, pmd-cpd, phploc-json)");
		if (get_enum(f, pf, "format", format_names, &k, err) < 0)
			return -1;
		if (!(res->format = strdup(format_names[k])))
			return fail_oom(err, pf);
		fpath = json_object_get(r, "path");
		fstream = json_object_get(r, "stream");
		if (fpath && fstream) {
			path_key(pf, p, "stream");
			return fail(err, pf, "give either \"path\" or \"stream\", not both");
		}
		if (!fpath && !fstream)
			return fail(err, p, "needs \"path\" (a file, directory or glob) or \"stream\": \"stdout\"");
		if (fpath) {
			path_key(pf, p, "path");
			if (dup_string(fpath, pf, SPEC_PATH_MAX, false, &res->path, err) < 0)
				return -1;
		} else {
			const char *s;
			char q[QUOTE_SIZE];
			path_key(pf, p, "stream");
			if (get_string(fstream, pf, 64, true, &s, err) < 0)
				return -1;
			if (strcmp(s, "stdout") != 0)
				return fail(err, pf, "the only stream is \"stdout\", got %s", quote(q, sizeof(q), s));
			if (strcmp(res->format, "teamcity") != 0)
				return fail(err, pf, "format \"%s\" is read from files; only \"teamcity\" can be read from stdout",
					    res->format);
			res->from_stdout = true;
		}
		res->fail_on = SPEC_FAIL_ON_ERROR;
		if ((f = json_object_get(r, "fail_on"))) {
			path_key(pf, p, "fail_on");
			if (get_enum(f, pf, "fail_on level", fail_on_names, &k, err) < 0)
				return -1;
			res->fail_on = (enum spec_fail_on)k;
		}
	}
	return 0;
}

static int parse_success_codes(const json_t *v, const char *path, struct spec_process *proc,
			       struct spec_error *err)
{
	size_t n, i;
	char p[PATH_SIZE];

	if (!json_is_array(v))
		return fail_type(err, path, "an array of exit codes", v);
	n = json_array_size(v);
	if (n == 0)
		return fail(err, path, "must not be empty (no exit code would count as success)");
	if (n > SPEC_CODES_MAX)
		return fail(err, path, "has %zu entries, at most %u are allowed", n, SPEC_CODES_MAX);
	free(proc->success_codes);
	proc->nsuccess = 0;
	if (!(proc->success_codes = calloc(n, sizeof(int))))
		return fail_oom(err, path);
	for (i = 0; i < n; i++) {
		long long c;
		path_index(p, path, i);
		if (get_int(json_array_get(v, i), p, 0, 255, &c, err) < 0)
			return -1;
		proc->success_codes[proc->nsuccess++] = (int)c;
	}
	return 0;
}

static int parse_process(const json_t *v, const char *path, const struct spec_stage *stage,
			 struct spec_process *proc, struct spec_error *err)
{
	json_t *f;
	char p[PATH_SIZE], q[QUOTE_SIZE];
	int k;

	/* Defaults first, so that a partly parsed process is still consistent. */
	proc->role = SPEC_ROLE_JOB;
	proc->essential = true;
	proc->ready.kind = SPEC_PROBE_NONE;
	proc->ready.interval_ms = 100;
	proc->ready.timeout_ms = 30000;
	proc->restart.policy = SPEC_RESTART_NEVER;
	proc->restart.max_retries = 3;
	proc->restart.backoff_ms = 200;
	proc->restart.backoff_max_ms = 10000;
	proc->stop_signal = SIGTERM;
	proc->stop_grace_ms = stage->stop_timeout_ms < SPEC_STOP_GRACE_DEFAULT_MS
		? stage->stop_timeout_ms : SPEC_STOP_GRACE_DEFAULT_MS;
	if (!(proc->success_codes = calloc(1, sizeof(int))))
		return fail_oom(err, path);
	proc->success_codes[0] = 0;
	proc->nsuccess = 1;

	if (!json_is_object(v))
		return fail_type(err, path, "an object", v);
	if (check_keys(v, path, process_keys, err) < 0)
		return -1;

	path_key(p, path, "name");
	if (!(f = json_object_get(v, "name")))
		return fail(err, p, "missing (every process needs a name)");
	if (dup_string(f, p, SPEC_NAME_MAX * 4, false, &proc->name, err) < 0)
		return -1;
	if (!valid_process_name(proc->name))
		return fail(err, p, "%s is not a valid name (1 to %u of A-Z a-z 0-9 _ . -)",
			    quote(q, sizeof(q), proc->name), SPEC_NAME_MAX);

	path_key(p, path, "command");
	if (!(f = json_object_get(v, "command")))
		return fail(err, p, "missing (the argv to run, such as [\"phpunit\", \"--log-junit\", \"unit.xml\"])");
	if (get_argv(f, p, &proc->argv, &proc->argc, err) < 0)
		return -1;

	if ((f = json_object_get(v, "env"))) {
		path_key(p, path, "env");
		if (parse_env(f, p, proc, err) < 0)
			return -1;
	}
	if ((f = json_object_get(v, "cwd"))) {
		path_key(p, path, "cwd");
		if (dup_string(f, p, SPEC_PATH_MAX, false, &proc->cwd, err) < 0)
			return -1;
	}
	if ((f = json_object_get(v, "role"))) {
		path_key(p, path, "role");
		if (get_enum(f, p, "role", role_names, &k, err) < 0)
			return -1;
		proc->role = (enum spec_role)k;
	}
	if ((f = json_object_get(v, "essential"))) {
		path_key(p, path, "essential");
		if (get_bool(f, p, &proc->essential, err) < 0)
			return -1;
	}
	if ((f = json_object_get(v, "depends_on"))) {
		path_key(p, path, "depends_on");
		if (parse_deps(f, p, proc, err) < 0)
			return -1;
	}
	if ((f = json_object_get(v, "ready"))) {
		path_key(p, path, "ready");
		if (parse_ready(f, p, &proc->ready, err) < 0)
			return -1;
	}
	if ((f = json_object_get(v, "restart"))) {
		path_key(p, path, "restart");
		if (parse_restart(f, p, &proc->restart, err) < 0)
			return -1;
	}
	if ((f = json_object_get(v, "stop_signal"))) {
		path_key(p, path, "stop_signal");
		if (get_signal(f, p, &proc->stop_signal, err) < 0)
			return -1;
		if (proc->stop_signal == SIGKILL)
			return fail(err, p, "SIGKILL cannot be a stop signal: every process gets a signal it can handle first, and SIGKILL after its stop_grace");
		if (proc->stop_signal == SIGSTOP)
			return fail(err, p, "SIGSTOP cannot be a stop signal: it suspends the process instead of stopping it");
	}
	if ((f = json_object_get(v, "stop_grace"))) {
		path_key(p, path, "stop_grace");
		if (get_seconds(f, p, 0, SPEC_STOP_TIMEOUT_MAX_MS / 1000.0, &proc->stop_grace_ms, err) < 0)
			return -1;
		if (proc->stop_grace_ms > stage->stop_timeout_ms)
			return fail(err, p, "%g s is more than the stage's stop_timeout (%g s)",
				    proc->stop_grace_ms / 1000.0, stage->stop_timeout_ms / 1000.0);
	}
	if ((f = json_object_get(v, "success_exit_codes"))) {
		path_key(p, path, "success_exit_codes");
		if (parse_success_codes(f, p, proc, err) < 0)
			return -1;
	}
	if ((f = json_object_get(v, "results"))) {
		path_key(p, path, "results");
		if (parse_results(f, p, proc, err) < 0)
			return -1;
	}
	return 0;
}

/* ---- the dependency graph ------------------------------------------------------------------------- */

static int resolve_deps(struct spec_stage *stage, struct spec_error *err)
{
	size_t i, j, k;
	char p[PATH_SIZE], q[QUOTE_SIZE];

	for (i = 0; i < stage->nprocs; i++) {
		struct spec_process *proc = &stage->procs[i];
		for (j = 0; j < proc->ndeps; j++) {
			struct spec_dep *dep = &proc->deps[j];
			bool found = false;
			snprintf(p, sizeof(p), "processes[%zu].depends_on[%zu].name", i, j);
			for (k = 0; k < stage->nprocs && !found; k++) {
				if (strcmp(stage->procs[k].name, dep->name) == 0) {
					dep->index = k;
					found = true;
				}
			}
			if (!found) {
				/* Suggest a defined name that is close. */
				const char *best = NULL;
				size_t best_d = 3;
				for (k = 0; k < stage->nprocs; k++) {
					size_t d = strcasecmp(stage->procs[k].name, dep->name) == 0
						? 0 : edit_distance(dep->name, stage->procs[k].name);
					if (d < best_d) {
						best_d = d;
						best = stage->procs[k].name;
					}
				}
				if (best)
					return fail(err, p, "no process named %s; did you mean \"%s\"?",
						    quote(q, sizeof(q), dep->name), best);
				return fail(err, p, "no process named %s", quote(q, sizeof(q), dep->name));
			}
			if (dep->index == i)
				return fail(err, p, "process %s depends on itself",
					    quote(q, sizeof(q), dep->name));
			for (k = 0; k < j; k++)
				if (proc->deps[k].index == dep->index)
					return fail(err, p, "%s is already listed in depends_on[%zu]",
						    quote(q, sizeof(q), dep->name), k);
		}
	}
	return 0;
}

enum { WHITE, GREY, BLACK };

/* Depth-first search from u; on a back edge, reports the edge that closes the cycle and
 * the cycle itself ("a -> b -> a": a depends on b, which depends on a). */
static int find_cycle(const struct spec_stage *stage, size_t u, unsigned char *color,
		      size_t *stack, size_t depth, struct spec_error *err)
{
	const struct spec_process *proc = &stage->procs[u];
	size_t j;

	color[u] = GREY;
	stack[depth] = u;
	for (j = 0; j < proc->ndeps; j++) {
		size_t v = proc->deps[j].index;
		if (color[v] == GREY) {
			char p[PATH_SIZE], cyc[sizeof(err->text)];
			size_t s = 0, o = 0;
			while (stack[s] != v)
				s++;
			for (; s <= depth && o < sizeof(cyc); s++)
				o += (size_t)snprintf(cyc + o, sizeof(cyc) - o, "%s -> ",
						      stage->procs[stack[s]].name);
			if (o < sizeof(cyc))
				snprintf(cyc + o, sizeof(cyc) - o, "%s", stage->procs[v].name);
			snprintf(p, sizeof(p), "processes[%zu].depends_on[%zu]", u, j);
			return fail(err, p, "dependency cycle: %s", cyc);
		}
		if (color[v] == WHITE &&
		    find_cycle(stage, v, color, stack, depth + 1, err) < 0)
			return -1;
	}
	color[u] = BLACK;
	return 0;
}

static int check_cycles(const struct spec_stage *stage, struct spec_error *err)
{
	unsigned char color[SPEC_PROCS_MAX] = {0};
	size_t stack[SPEC_PROCS_MAX], i;

	for (i = 0; i < stage->nprocs; i++)
		if (color[i] == WHITE && find_cycle(stage, i, color, stack, 0, err) < 0)
			return -1;
	return 0;
}

/* Kahn's algorithm, always taking the earliest process (in spec order) whose dependencies
 * are placed: the order is the spec's order wherever the dependencies allow. */
static int compute_start_order(struct spec_stage *stage, struct spec_error *err)
{
	bool placed[SPEC_PROCS_MAX] = {false};
	size_t n = 0, i, j;

	if (!(stage->start_order = calloc(stage->nprocs ? stage->nprocs : 1, sizeof(size_t))))
		return fail_oom(err, "processes");
	while (n < stage->nprocs) {
		for (i = 0; i < stage->nprocs; i++) {
			bool ok = !placed[i];
			for (j = 0; ok && j < stage->procs[i].ndeps; j++)
				ok = placed[stage->procs[i].deps[j].index];
			if (ok)
				break;
		}
		if (i == stage->nprocs) /* unreachable after check_cycles() */
			return fail(err, "processes", "dependency cycle");
		placed[i] = true;
		stage->start_order[n++] = i;
	}
	return 0;
}

/* ---- the stage -------------------------------------------------------------------------------- */

static int parse_stage(const json_t *root, struct spec_stage *stage, struct spec_error *err)
{
	json_t *f;
	size_t n, i;
	char p[PATH_SIZE], q[QUOTE_SIZE];
	int k;
	long long version;

	if (!json_is_object(root))
		return fail(err, "", "the spec must be a JSON object, got %s", type_name(root));
	/* version first: a newer spec's new fields are then reported as a version mismatch.
	 * When it is missing, a typo ("Version") is the likelier cause: check keys first. */
	if (!(f = json_object_get(root, "version"))) {
		if (check_keys(root, "", stage_keys, err) < 0)
			return -1;
		return fail(err, "version", "missing (this agent reads \"version\": %d)", SPEC_VERSION);
	}
	if (!json_is_integer(f))
		return fail_type(err, "version", "an integer", f);
	version = json_integer_value(f);
	if (version != SPEC_VERSION)
		return fail(err, "version", "unsupported spec version %lld (this agent reads version %d)",
			    version, SPEC_VERSION);
	stage->version = SPEC_VERSION;
	if (check_keys(root, "", stage_keys, err) < 0)
		return -1;

	if ((f = json_object_get(root, "stage"))) {
		if (dup_string(f, "stage", SPEC_STAGE_MAX, false, &stage->stage, err) < 0)
			return -1;
		if (has_control(stage->stage))
			return fail(err, "stage", "must not contain control characters");
	} else if (!(stage->stage = strdup("stage"))) {
		return fail_oom(err, "stage");
	}
	stage->mode = SPEC_MODE_JOB;
	if ((f = json_object_get(root, "mode"))) {
		if (get_enum(f, "mode", "mode", mode_names, &k, err) < 0)
			return -1;
		stage->mode = (enum spec_mode)k;
	}
	stage->stop_timeout_ms = SPEC_STOP_TIMEOUT_DEFAULT_MS;
	if ((f = json_object_get(root, "stop_timeout")) &&
	    get_seconds(f, "stop_timeout", SPEC_STOP_TIMEOUT_MIN_MS / 1000.0,
			SPEC_STOP_TIMEOUT_MAX_MS / 1000.0, &stage->stop_timeout_ms, err) < 0)
		return -1;
	if ((f = json_object_get(root, "stop_signals"))) {
		if (!json_is_array(f))
			return fail_type(err, "stop_signals", "an array of signal names", f);
		n = json_array_size(f);
		if (n > SPEC_SIGNALS_MAX)
			return fail(err, "stop_signals", "has %zu entries, at most %u are allowed", n, SPEC_SIGNALS_MAX);
		if (n && !(stage->stop_signals = calloc(n, sizeof(int))))
			return fail_oom(err, "stop_signals");
		for (i = 0; i < n; i++) {
			int sig;
			path_index(p, "stop_signals", i);
			if (get_signal(json_array_get(f, i), p, &sig, err) < 0)
				return -1;
			if (sig == SIGKILL || sig == SIGSTOP)
				return fail(err, p, "%s cannot be caught, so it cannot mean teardown",
					    spec_signal_name(sig));
			if (sig == SIGCHLD)
				return fail(err, p, "SIGCHLD tells the agent that a child ended; it cannot mean teardown");
			stage->stop_signals[stage->nstop_signals++] = sig;
		}
	}

	if (!(f = json_object_get(root, "processes")))
		return fail(err, "processes", "missing (the stage needs at least one process)");
	if (!json_is_array(f))
		return fail_type(err, "processes", "an array of processes", f);
	n = json_array_size(f);
	if (n == 0)
		return fail(err, "processes", "must not be empty (the stage needs at least one process)");
	if (n > SPEC_PROCS_MAX)
		return fail(err, "processes", "has %zu processes, at most %u are allowed", n, SPEC_PROCS_MAX);
	if (!(stage->procs = calloc(n, sizeof(*stage->procs))))
		return fail_oom(err, "processes");
	for (i = 0; i < n; i++) {
		size_t j;
		path_index(p, "processes", i);
		stage->nprocs = i + 1;
		if (parse_process(json_array_get(f, i), p, stage, &stage->procs[i], err) < 0)
			return -1;
		for (j = 0; j < i; j++)
			if (strcmp(stage->procs[j].name, stage->procs[i].name) == 0) {
				char pn[PATH_SIZE];
				path_key(pn, p, "name");
				return fail(err, pn, "duplicate name %s (processes[%zu] has it too)",
					    quote(q, sizeof(q), stage->procs[i].name), j);
			}
	}
	if (resolve_deps(stage, err) < 0 || check_cycles(stage, err) < 0)
		return -1;
	if (stage->mode == SPEC_MODE_JOB) {
		bool any = false;
		for (i = 0; i < stage->nprocs && !any; i++)
			any = stage->procs[i].role == SPEC_ROLE_JOB && stage->procs[i].essential;
		if (!any)
			return fail(err, "processes",
				    "a \"job\" mode stage ends when its essential jobs end, but no process has \"role\": \"job\" and \"essential\": true (or use \"mode\": \"service\")");
	}
	return compute_start_order(stage, err);
}

struct spec_stage *spec_parse(const char *json, size_t len, struct spec_error *err)
{
	struct spec_error scratch;
	struct spec_stage *stage = NULL;
	json_t *root = NULL;
	json_error_t jerr;

	if (!err)
		err = &scratch;
	memset(err, 0, sizeof(*err));
	if (!json) {
		fail(err, "", "no spec given");
		goto fail;
	}
	if (len > SPEC_DOC_MAX) {
		fail(err, "", "the spec is %zu bytes, more than the %u allowed", len, SPEC_DOC_MAX);
		goto fail;
	}
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!root) {
		fail(err, "", "invalid JSON: %s", jerr.text);
		err->line = jerr.line > 0 ? jerr.line : 1;
		err->column = jerr.column > 0 ? jerr.column : 1;
		goto fail;
	}
	if (!(stage = calloc(1, sizeof(*stage)))) {
		fail_oom(err, "");
		goto fail;
	}
	if (parse_stage(root, stage, err) < 0)
		goto fail;
	json_decref(root);
	return stage;
fail:
	json_decref(root);
	spec_free(stage);
	return NULL;
}

struct spec_stage *spec_load_file(const char *path, struct spec_error *err)
{
	struct spec_error scratch;
	struct spec_stage *stage = NULL;
	char *buf = NULL;
	size_t len = 0;
	int fd = -1;

	if (!err)
		err = &scratch;
	memset(err, 0, sizeof(*err));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fail(err, "", "cannot open %s: %s", path, strerror(errno));
		goto fail;
	}
	/* One byte more than allowed, to tell "exactly the limit" from "too large". */
	if (!(buf = malloc(SPEC_DOC_MAX + 1))) {
		fail_oom(err, "");
		goto fail;
	}
	for (;;) {
		ssize_t r = read(fd, buf + len, SPEC_DOC_MAX + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fail(err, "", "cannot read %s: %s", path, strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > SPEC_DOC_MAX) {
			fail(err, "", "%s is larger than the %u bytes a spec may have", path, SPEC_DOC_MAX);
			goto fail;
		}
	}
	stage = spec_parse(buf, len, err);
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return stage;
}

static void free_process(struct spec_process *p)
{
	size_t i;

	free(p->name);
	free_strv(p->argv);
	free_strv(p->env);
	free(p->cwd);
	for (i = 0; i < p->ndeps; i++)
		free(p->deps[i].name);
	free(p->deps);
	free(p->ready.host);
	free(p->ready.port);
	free(p->ready.url);
	free(p->ready.http_path);
	free_strv(p->ready.argv);
	free(p->ready.pattern);
	free(p->success_codes);
	for (i = 0; i < p->nresults; i++) {
		free(p->results[i].format);
		free(p->results[i].path);
	}
	free(p->results);
}

void spec_free(struct spec_stage *stage)
{
	size_t i;

	if (!stage)
		return;
	for (i = 0; i < stage->nprocs; i++)
		free_process(&stage->procs[i]);
	free(stage->procs);
	free(stage->stage);
	free(stage->stop_signals);
	free(stage->start_order);
	free(stage);
}

const char *spec_error_format(const struct spec_error *err, char *buf, size_t size)
{
	if (!buf || size == 0)
		return buf;
	if (!err)
		snprintf(buf, size, "unknown error");
	else if (err->line > 0)
		snprintf(buf, size, "line %d, column %d: %s", err->line, err->column, err->text);
	else if (err->field[0])
		snprintf(buf, size, "%s: %s", err->field, err->text);
	else
		snprintf(buf, size, "%s", err->text);
	return buf;
}

int spec_add_stop_signals(struct spec_stage *stage, const char *list, const char *field,
			  struct spec_error *err)
{
	struct spec_error local;
	int found[SPEC_SIGNALS_MAX];
	size_t nfound = 0, i;
	const char *s = list;
	int *grown;

	if (!err)
		err = &local;
	while (*s) {
		char name[32];
		size_t len = strcspn(s, ", \t");
		int sig;

		if (len == 0) {
			s++;
			continue;
		}
		if (len >= sizeof name)
			return fail(err, field, "\"%.*s...\" is not a signal name", 16, s);
		memcpy(name, s, len);
		name[len] = '\0';
		s += len;
		sig = spec_signal_from_name(name);
		if (sig < 0)
			return fail(err, field, "\"%s\" is not a signal name or number", name);
		if (sig == SIGKILL || sig == SIGSTOP)
			return fail(err, field, "%s cannot be caught, so it cannot mean teardown",
				    spec_signal_name(sig));
		if (sig == SIGCHLD)
			return fail(err, field, "SIGCHLD tells the agent that a child ended; it cannot mean teardown");
		for (i = 0; i < stage->nstop_signals && stage->stop_signals[i] != sig; i++)
			;
		if (i < stage->nstop_signals)
			continue;
		for (i = 0; i < nfound && found[i] != sig; i++)
			;
		if (i < nfound)
			continue;
		if (stage->nstop_signals + nfound >= SPEC_SIGNALS_MAX)
			return fail(err, field, "with the spec's stop_signals, more than %u signals", SPEC_SIGNALS_MAX);
		found[nfound++] = sig;
	}
	if (nfound == 0)
		return 0;
	grown = realloc(stage->stop_signals, (stage->nstop_signals + nfound) * sizeof(int));
	if (!grown)
		return fail_oom(err, field);
	memcpy(grown + stage->nstop_signals, found, nfound * sizeof(int));
	stage->stop_signals = grown;
	stage->nstop_signals += nfound;
	return 0;
}

bool spec_success_code(const struct spec_process *proc, int code)
{
	size_t i;

	for (i = 0; i < proc->nsuccess; i++)
		if (proc->success_codes[i] == code)
			return true;
	return false;
}
