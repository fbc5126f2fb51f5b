/*
 * Unit tests of agents/spec/spec.c: every validation rule with the exact JSON path of the
 * error, every default, the example of issue 2, the signal table and the file loader.
 *
 * Specs are written with single quotes for readability; js() turns them into JSON.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "spec.h"

/* The spec with ' turned into ". */
static char *js(const char *s)
{
	char *out = strdup(s), *p;

	assert_non_null(out);
	for (p = out; *p; p++)
		if (*p == '\'')
			*p = '"';
	return out;
}

static struct spec_stage *parse(const char *src, struct spec_error *err)
{
	char *json = js(src);
	struct spec_stage *st = spec_parse(json, strlen(json), err);

	free(json);
	return st;
}

static struct spec_stage *parse_ok(const char *src)
{
	struct spec_error err;
	struct spec_stage *st = parse(src, &err);

	if (!st)
		fail_msg("expected a valid spec, got: %s: %s (spec: %s)", err.field, err.text, src);
	return st;
}

/* Asserts that src is rejected at field with a text that contains want. */
static void check_error(const char *src, const char *field, const char *want)
{
	struct spec_error err;
	struct spec_stage *st = parse(src, &err);

	if (st) {
		spec_free(st);
		fail_msg("expected an error at %s, the spec was accepted: %s", field, src);
	}
	if (strcmp(err.field, field) != 0 || !strstr(err.text, want))
		fail_msg("spec %s\n  expected: %s: ...%s...\n  got:      %s: %s", src, field, want,
			 err.field, err.text);
	assert_int_equal(err.line, 0);
}

/* A process list around one process body: {'version':1,'processes':[{ <body> }]}. */
static void check_proc_error(const char *body, const char *field, const char *want)
{
	char src[8192];

	snprintf(src, sizeof(src), "{'version':1,'processes':[{%s}]}", body);
	check_error(src, field, want);
}

static struct spec_stage *proc_ok(const char *body)
{
	char src[8192];

	snprintf(src, sizeof(src), "{'version':1,'processes':[{%s}]}", body);
	return parse_ok(src);
}

#define P0 "'name':'a','command':['true']"

/* ---- the issue's example and the defaults --------------------------------------------- */

static const char *issue_example =
	"{\n"
	"  'version': 1,\n"
	"  'stage': 'tests',\n"
	"  'mode': 'job',\n"
	"  'stop_timeout': 30,\n"
	"  'stop_signals': ['SIGWINCH'],\n"
	"  'processes': [\n"
	"    {'name': 'web', 'command': ['apache2', '-DFOREGROUND'], 'env': {'APACHE_RUN_DIR': '/tmp/a'},\n"
	"     'cwd': '/srv', 'role': 'service', 'essential': false,\n"
	"     'ready': {'tcp': '127.0.0.1:8080', 'interval_ms': 100, 'timeout_ms': 30000},\n"
	"     'restart': {'policy': 'on-failure', 'max_retries': 5, 'backoff_ms': 200, 'backoff_max_ms': 10000},\n"
	"     'stop_signal': 'SIGWINCH', 'stop_grace': 10},\n"
	"    {'name': 'runner', 'command': ['phpunit', '--log-junit', 'reports/unit.xml'], 'role': 'job',\n"
	"     'essential': true, 'depends_on': [{'name': 'web', 'condition': 'ready'}]}\n"
	"  ]\n"
	"}\n";

static void test_issue_example(void **state)
{
	struct spec_stage *st = parse_ok(issue_example);
	struct spec_process *web, *runner;

	(void)state;
	assert_int_equal(st->version, 1);
	assert_string_equal(st->stage, "tests");
	assert_int_equal(st->mode, SPEC_MODE_JOB);
	assert_int_equal(st->stop_timeout_ms, 30000);
	assert_int_equal(st->nstop_signals, 1);
	assert_int_equal(st->stop_signals[0], SIGWINCH);
	assert_int_equal(st->nprocs, 2);
	web = &st->procs[0];
	runner = &st->procs[1];
	assert_string_equal(web->name, "web");
	assert_int_equal(web->argc, 2);
	assert_string_equal(web->argv[0], "apache2");
	assert_string_equal(web->argv[1], "-DFOREGROUND");
	assert_null(web->argv[2]);
	assert_int_equal(web->nenv, 1);
	assert_string_equal(web->env[0], "APACHE_RUN_DIR=/tmp/a");
	assert_null(web->env[1]);
	assert_string_equal(web->cwd, "/srv");
	assert_int_equal(web->role, SPEC_ROLE_SERVICE);
	assert_false(web->essential);
	assert_int_equal(web->ready.kind, SPEC_PROBE_TCP);
	assert_string_equal(web->ready.host, "127.0.0.1");
	assert_string_equal(web->ready.port, "8080");
	assert_int_equal(web->ready.interval_ms, 100);
	assert_int_equal(web->ready.timeout_ms, 30000);
	assert_int_equal(web->restart.policy, SPEC_RESTART_ON_FAILURE);
	assert_int_equal(web->restart.max_retries, 5);
	assert_int_equal(web->restart.backoff_ms, 200);
	assert_int_equal(web->restart.backoff_max_ms, 10000);
	assert_int_equal(web->stop_signal, SIGWINCH);
	assert_int_equal(web->stop_grace_ms, 10000);
	assert_int_equal(web->ndeps, 0);

	assert_string_equal(runner->name, "runner");
	assert_int_equal(runner->argc, 3);
	assert_string_equal(runner->argv[2], "reports/unit.xml");
	assert_int_equal(runner->role, SPEC_ROLE_JOB);
	assert_true(runner->essential);
	assert_int_equal(runner->ndeps, 1);
	assert_string_equal(runner->deps[0].name, "web");
	assert_int_equal(runner->deps[0].index, 0);
	assert_int_equal(runner->deps[0].condition, SPEC_DEP_READY);
	assert_int_equal(st->start_order[0], 0);
	assert_int_equal(st->start_order[1], 1);
	spec_free(st);
}

static void test_defaults(void **state)
{
	struct spec_stage *st = parse_ok("{'version':1,'processes':[{" P0 "}]}");
	struct spec_process *p = &st->procs[0];

	(void)state;
	assert_string_equal(st->stage, "stage");
	assert_int_equal(st->mode, SPEC_MODE_JOB);
	assert_int_equal(st->stop_timeout_ms, SPEC_STOP_TIMEOUT_DEFAULT_MS);
	assert_int_equal(st->nstop_signals, 0);
	assert_int_equal(p->argc, 1);
	assert_string_equal(p->argv[0], "true");
	assert_null(p->argv[1]);
	assert_int_equal(p->nenv, 0);
	assert_null(p->cwd);
	assert_int_equal(p->role, SPEC_ROLE_JOB);
	assert_true(p->essential);
	assert_int_equal(p->ndeps, 0);
	assert_int_equal(p->ready.kind, SPEC_PROBE_NONE);
	assert_int_equal(p->ready.interval_ms, 100);
	assert_int_equal(p->ready.timeout_ms, 30000);
	assert_int_equal(p->restart.policy, SPEC_RESTART_NEVER);
	assert_int_equal(p->restart.max_retries, 3);
	assert_int_equal(p->restart.backoff_ms, 200);
	assert_int_equal(p->restart.backoff_max_ms, 10000);
	assert_int_equal(p->stop_signal, SIGTERM);
	assert_int_equal(p->stop_grace_ms, 10000);
	assert_int_equal(p->nsuccess, 1);
	assert_int_equal(p->success_codes[0], 0);
	assert_true(spec_success_code(p, 0));
	assert_false(spec_success_code(p, 1));
	assert_int_equal(p->nresults, 0);
	assert_int_equal(st->start_order[0], 0);
	spec_free(st);
}

static void test_free_null(void **state)
{
	(void)state;
	spec_free(NULL);
	/* and a NULL error struct is allowed */
	assert_null(spec_parse("[", 1, NULL));
	assert_null(spec_load_file("/nonexistent/spec.json", NULL));
}

/* ---- JSON syntax and the document ------------------------------------------------------ */

static void test_invalid_json(void **state)
{
	struct spec_error err;
	char buf[1024];
	const char *bad = "{\n  \"version\": 1,\n  oops\n}";

	(void)state;
	assert_null(spec_parse(bad, strlen(bad), &err));
	/* jansson's position is where the bad token ends: "  oops" ends at column 6 */
	assert_int_equal(err.line, 3);
	assert_int_equal(err.column, 6);
	assert_string_equal(err.field, "");
	assert_non_null(strstr(err.text, "invalid JSON"));
	spec_error_format(&err, buf, sizeof(buf));
	assert_true(strncmp(buf, "line 3, column 6: invalid JSON: ", 32) == 0);

	/* truncated document */
	assert_null(spec_parse("{\"version\": 1,", 14, &err));
	assert_int_equal(err.line, 1);
	assert_true(err.column >= 1);

	/* empty document */
	assert_null(spec_parse("", 0, &err));
	assert_true(err.line >= 1);
	assert_non_null(strstr(err.text, "invalid JSON"));

	/* duplicate keys are a syntax error (the second would silently win otherwise) */
	{
		const char *dup = "{\"version\": 1,\n\"version\": 1}";
		assert_null(spec_parse(dup, strlen(dup), &err));
		assert_int_equal(err.line, 2);
		assert_non_null(strstr(err.text, "duplicate"));
	}
	/* a NUL byte inside the document */
	assert_null(spec_parse("{\"version\"\0: 1}", 15, &err));
	assert_true(err.line >= 1);
	/* invalid UTF-8 */
	assert_null(spec_parse("{\"stage\": \"\xff\"}", 14, &err));
	assert_true(err.line >= 1);
	/* trailing garbage */
	assert_null(spec_parse("{} x", 4, &err));
	assert_true(err.line >= 1);
	/* NULL input */
	assert_null(spec_parse(NULL, 0, &err));
	assert_string_equal(err.field, "");
}

static void test_top_level_not_object(void **state)
{
	(void)state;
	check_error("[]", "", "the spec must be a JSON object, got an array");
	check_error("'x'", "", "the spec must be a JSON object, got a string");
	check_error("1", "", "the spec must be a JSON object, got an integer");
	check_error("1.5", "", "the spec must be a JSON object, got a number");
	check_error("null", "", "the spec must be a JSON object, got null");
	check_error("true", "", "the spec must be a JSON object, got a boolean");
}

static void test_document_size(void **state)
{
	struct spec_error err;
	size_t n = SPEC_DOC_MAX + 1;
	char *big = malloc(n);

	(void)state;
	assert_non_null(big);
	memset(big, ' ', n);
	assert_null(spec_parse(big, n, &err));
	assert_string_equal(err.field, "");
	assert_non_null(strstr(err.text, "more than the 1048576 allowed"));
	/* exactly the limit is allowed: a valid spec padded with spaces */
	{
		const char *s = "{\"version\":1,\"processes\":[{\"name\":\"a\",\"command\":[\"true\"]}]}";
		struct spec_stage *st;
		memset(big, ' ', n);
		memcpy(big, s, strlen(s));
		st = spec_parse(big, SPEC_DOC_MAX, &err);
		assert_non_null(st);
		spec_free(st);
	}
	free(big);
}

/* ---- top-level fields -------------------------------------------------------------------------- */

static void test_version(void **state)
{
	(void)state;
	check_error("{'processes':[{" P0 "}]}", "version", "missing");
	check_error("{'version':2,'processes':[{" P0 "}]}", "version", "unsupported spec version 2");
	check_error("{'version':0,'processes':[{" P0 "}]}", "version", "unsupported spec version 0");
	check_error("{'version':'1','processes':[{" P0 "}]}", "version", "expected an integer, got a string");
	check_error("{'version':1.0,'processes':[{" P0 "}]}", "version", "expected an integer, got a number");
	/* a typo of version is reported as a typo, not as a missing version */
	check_error("{'Version':1,'processes':[{" P0 "}]}", "Version",
		    "unknown field \"Version\"; did you mean \"version\"?");
	/* a newer version is reported before its unknown fields */
	check_error("{'version':2,'newfield':1}", "version", "unsupported spec version 2");
}

static void test_stage_name(void **state)
{
	struct spec_stage *st;
	char src[512];

	(void)state;
	check_error("{'version':1,'stage':5,'processes':[{" P0 "}]}", "stage", "expected a string, got an integer");
	check_error("{'version':1,'stage':'','processes':[{" P0 "}]}", "stage", "must not be empty");
	check_error("{'version':1,'stage':'a\\nb','processes':[{" P0 "}]}", "stage", "control characters");
	snprintf(src, sizeof(src), "{'version':1,'stage':'%0129d','processes':[{" P0 "}]}", 0);
	check_error(src, "stage", "is 129 bytes long, at most 128 are allowed");
	st = parse_ok("{'version':1,'stage':'Unit tests (PHP 8.2)','processes':[{" P0 "}]}");
	assert_string_equal(st->stage, "Unit tests (PHP 8.2)");
	spec_free(st);
}

static void test_mode(void **state)
{
	struct spec_stage *st;

	(void)state;
	check_error("{'version':1,'mode':'batch','processes':[{" P0 "}]}", "mode",
		    "unknown mode \"batch\" (expected one of: job, service)");
	check_error("{'version':1,'mode':'Job','processes':[{" P0 "}]}", "mode", "did you mean \"job\"?");
	check_error("{'version':1,'mode':'servce','processes':[{" P0 "}]}", "mode", "did you mean \"service\"?");
	check_error("{'version':1,'mode':1,'processes':[{" P0 "}]}", "mode", "expected a string, got an integer");
	st = parse_ok("{'version':1,'mode':'service','processes':[{" P0 ",'role':'service'}]}");
	assert_int_equal(st->mode, SPEC_MODE_SERVICE);
	spec_free(st);
}

static void test_stop_timeout(void **state)
{
	struct spec_stage *st;

	(void)state;
	check_error("{'version':1,'stop_timeout':0,'processes':[{" P0 "}]}", "stop_timeout",
		    "must be between 1 and 120 seconds, got 0");
	check_error("{'version':1,'stop_timeout':0.5,'processes':[{" P0 "}]}", "stop_timeout",
		    "must be between 1 and 120 seconds, got 0.5");
	check_error("{'version':1,'stop_timeout':121,'processes':[{" P0 "}]}", "stop_timeout",
		    "must be between 1 and 120 seconds, got 121");
	check_error("{'version':1,'stop_timeout':-5,'processes':[{" P0 "}]}", "stop_timeout", "got -5");
	check_error("{'version':1,'stop_timeout':'30','processes':[{" P0 "}]}", "stop_timeout",
		    "expected a number of seconds, got a string");
	st = parse_ok("{'version':1,'stop_timeout':1.5,'processes':[{" P0 "}]}");
	assert_int_equal(st->stop_timeout_ms, 1500);
	/* stop_grace defaults to min(10 s, stop_timeout) */
	assert_int_equal(st->procs[0].stop_grace_ms, 1500);
	spec_free(st);
	st = parse_ok("{'version':1,'stop_timeout':120,'processes':[{" P0 "}]}");
	assert_int_equal(st->stop_timeout_ms, 120000);
	assert_int_equal(st->procs[0].stop_grace_ms, 10000);
	spec_free(st);
	st = parse_ok("{'version':1,'stop_timeout':1,'processes':[{" P0 "}]}");
	assert_int_equal(st->stop_timeout_ms, 1000);
	spec_free(st);
}

static void test_stop_signals(void **state)
{
	struct spec_stage *st;

	(void)state;
	check_error("{'version':1,'stop_signals':'SIGWINCH','processes':[{" P0 "}]}", "stop_signals",
		    "expected an array of signal names, got a string");
	check_error("{'version':1,'stop_signals':['SIGWINCH','SIGFOO'],'processes':[{" P0 "}]}",
		    "stop_signals[1]", "unknown signal \"SIGFOO\"");
	check_error("{'version':1,'stop_signals':['KILL'],'processes':[{" P0 "}]}", "stop_signals[0]",
		    "SIGKILL cannot be caught");
	check_error("{'version':1,'stop_signals':['SIGSTOP'],'processes':[{" P0 "}]}", "stop_signals[0]",
		    "SIGSTOP cannot be caught");
	check_error("{'version':1,'stop_signals':['CHLD'],'processes':[{" P0 "}]}", "stop_signals[0]",
		    "SIGCHLD");
	check_error("{'version':1,'stop_signals':[true],'processes':[{" P0 "}]}", "stop_signals[0]",
		    "expected a signal name such as \"SIGTERM\", got a boolean");
	check_error("{'version':1,'stop_signals':[0],'processes':[{" P0 "}]}", "stop_signals[0]",
		    "0 is not a signal number");
	check_error("{'version':1,'stop_signals':[1,2,3,4,5,6,7,8,10,11,12,13,14,15,1,2,3,4,5,6,7,8,10,11,12,13,14,15,1,2,3,4,5],"
		    "'processes':[{" P0 "}]}", "stop_signals", "has 33 entries, at most 32 are allowed");
	st = parse_ok("{'version':1,'stop_signals':['SIGWINCH','QUIT',10,'12','sigusr1'],'processes':[{" P0 "}]}");
	assert_int_equal(st->nstop_signals, 5);
	assert_int_equal(st->stop_signals[0], SIGWINCH);
	assert_int_equal(st->stop_signals[1], SIGQUIT);
	assert_int_equal(st->stop_signals[2], 10);
	assert_int_equal(st->stop_signals[3], 12);
	assert_int_equal(st->stop_signals[4], SIGUSR1);
	spec_free(st);
	st = parse_ok("{'version':1,'stop_signals':[],'processes':[{" P0 "}]}");
	assert_int_equal(st->nstop_signals, 0);
	spec_free(st);
}

/* ---- unknown fields and typos -------------------------------------------------------------------- */

static void test_unknown_fields(void **state)
{
	(void)state;
	check_error("{'version':1,'proceses':[{" P0 "}]}", "proceses",
		    "unknown field \"proceses\"; did you mean \"processes\"?");
	check_error("{'version':1,'stoptimeout':5,'processes':[{" P0 "}]}", "stoptimeout",
		    "did you mean \"stop_timeout\"?");
	check_error("{'version':1,'MODE':'job','processes':[{" P0 "}]}", "MODE", "did you mean \"mode\"?");
	check_error("{'version':1,'processes':[{" P0 "}],'zzzzzz':1}", "zzzzzz", "unknown field \"zzzzzz\"");
	{
		struct spec_error err;
		struct spec_stage *st = parse("{'version':1,'processes':[{" P0 "}],'zzzzzz':1}", &err);
		assert_null(st);
		assert_null(strstr(err.text, "did you mean"));
	}
	check_proc_error(P0 ",'dependson':[]", "processes[0].dependson",
			 "unknown field \"dependson\"; did you mean \"depends_on\"?");
	check_proc_error(P0 ",'Depends_On':[]", "processes[0].Depends_On", "did you mean \"depends_on\"?");
	check_proc_error(P0 ",'essental':true", "processes[0].essental", "did you mean \"essential\"?");
	check_proc_error(P0 ",'stopsignal':'TERM'", "processes[0].stopsignal", "did you mean \"stop_signal\"?");
	check_proc_error(P0 ",'success_exit_code':[0]", "processes[0].success_exit_code",
			 "did you mean \"success_exit_codes\"?");
	check_proc_error(P0 ",'result':[]", "processes[0].result", "did you mean \"results\"?");
	check_proc_error(P0 ",'environment':{}", "processes[0].environment", "unknown field \"environment\"");
	/* a typo hides a required field: the typo is reported, not the missing field */
	check_proc_error("'name':'a','comand':['true']", "processes[0].comand", "did you mean \"command\"?");
	check_proc_error(P0 ",'depends_on':[{'name':'a','conditon':'ready'}]",
			 "processes[0].depends_on[0].conditon", "did you mean \"condition\"?");
	check_proc_error(P0 ",'ready':{'tcp':'h:1','intervl_ms':5}", "processes[0].ready.intervl_ms",
			 "did you mean \"interval_ms\"?");
	check_proc_error(P0 ",'ready':{'tpc':'h:1'}", "processes[0].ready.tpc", "did you mean \"tcp\"?");
	check_proc_error(P0 ",'restart':{'polcy':'always'}", "processes[0].restart.polcy",
			 "did you mean \"policy\"?");
	check_proc_error(P0 ",'restart':{'max_retires':1}", "processes[0].restart.max_retires",
			 "did you mean \"max_retries\"?");
	check_proc_error(P0 ",'results':[{'formt':'junit','path':'x'}]", "processes[0].results[0].formt",
			 "did you mean \"format\"?");
	check_proc_error(P0 ",'results':[{'format':'junit','path':'x','failon':'error'}]",
			 "processes[0].results[0].failon", "did you mean \"fail_on\"?");
	/* a key that does not read as a path is quoted in the path */
	check_proc_error(P0 ",'a b':1", "processes[0][\"a b\"]", "unknown field \"a b\"");
	check_error("{'version':1,'':1,'processes':[{" P0 "}]}", "[\"\"]", "unknown field \"\"");
	check_error("{'version':1,'a\\u0001':1,'processes':[{" P0 "}]}", "[\"a\\x01\"]",
		    "unknown field \"a\\x01\"");
}

/* ---- processes ------------------------------------------------------------------------------------ */

static void test_processes(void **state)
{
	char *src;
	size_t i, o;
	struct spec_stage *st;

	(void)state;
	check_error("{'version':1}", "processes", "missing");
	check_error("{'version':1,'processes':{}}", "processes", "expected an array of processes, got an object");
	check_error("{'version':1,'processes':[]}", "processes", "must not be empty");
	check_error("{'version':1,'processes':[{" P0 "},5]}", "processes[1]", "expected an object, got an integer");
	check_error("{'version':1,'processes':[null]}", "processes[0]", "expected an object, got null");

	/* 256 processes are fine, 257 are not */
	src = malloc(300 * 64);
	assert_non_null(src);
	for (int n = 256; n <= 257; n++) {
		o = (size_t)sprintf(src, "{'version':1,'processes':[");
		for (i = 0; i < (size_t)n; i++)
			o += (size_t)sprintf(src + o, "%s{'name':'p%zu','command':['true']}", i ? "," : "", i);
		sprintf(src + o, "]}");
		if (n == 256) {
			st = parse_ok(src);
			assert_int_equal(st->nprocs, 256);
			for (i = 0; i < 256; i++)
				assert_int_equal(st->start_order[i], i);
			spec_free(st);
		} else {
			check_error(src, "processes", "has 257 processes, at most 256 are allowed");
		}
	}
	free(src);
}

static void test_name(void **state)
{
	char body[256];
	struct spec_stage *st;

	(void)state;
	check_proc_error("'command':['true']", "processes[0].name", "missing");
	check_proc_error("'name':1,'command':['true']", "processes[0].name", "expected a string, got an integer");
	check_proc_error("'name':'','command':['true']", "processes[0].name", "must not be empty");
	check_proc_error("'name':'a b','command':['true']", "processes[0].name", "\"a b\" is not a valid name");
	check_proc_error("'name':'a/b','command':['true']", "processes[0].name", "is not a valid name");
	check_proc_error("'name':'caf\\u00e9','command':['true']", "processes[0].name", "is not a valid name");
	snprintf(body, sizeof(body), "'name':'%065d','command':['true']", 0);
	check_proc_error(body, "processes[0].name", "is not a valid name (1 to 64 of A-Z a-z 0-9 _ . -)");
	snprintf(body, sizeof(body), "'name':'%064d','command':['true']", 0);
	st = proc_ok(body);
	assert_int_equal(strlen(st->procs[0].name), 64);
	spec_free(st);
	st = proc_ok("'name':'My_proc-1.2','command':['true']");
	assert_string_equal(st->procs[0].name, "My_proc-1.2");
	spec_free(st);
	check_error("{'version':1,'processes':[{'name':'a','command':['true']},{'name':'b','command':['true']},"
		    "{'name':'a','command':['true']}]}", "processes[2].name",
		    "duplicate name \"a\" (processes[0] has it too)");
}

static void test_command(void **state)
{
	struct spec_stage *st;
	char *body;
	size_t o, i;

	(void)state;
	check_proc_error("'name':'a'", "processes[0].command", "missing");
	check_proc_error("'name':'a','command':'true'", "processes[0].command",
			 "expected an array of strings, got a string");
	check_proc_error("'name':'a','command':[]", "processes[0].command", "must not be empty");
	check_proc_error("'name':'a','command':['']", "processes[0].command[0]", "must not be empty");
	check_proc_error("'name':'a','command':['x',1]", "processes[0].command[1]", "expected a string, got an integer");
	check_proc_error("'name':'a','command':['x',null]", "processes[0].command[1]", "expected a string, got null");
	st = proc_ok("'name':'a','command':['printf','','x y']");
	assert_int_equal(st->procs[0].argc, 3);
	assert_string_equal(st->procs[0].argv[1], "");
	assert_string_equal(st->procs[0].argv[2], "x y");
	assert_null(st->procs[0].argv[3]);
	spec_free(st);

	/* 4096 entries are fine, 4097 are not */
	body = malloc(4097 * 6 + 64);
	assert_non_null(body);
	for (int n = 4096; n <= 4097; n++) {
		o = (size_t)sprintf(body, "'name':'a','command':['echo'");
		for (i = 1; i < (size_t)n; i++)
			o += (size_t)sprintf(body + o, ",'x'");
		sprintf(body + o, "]");
		{
			char *src = malloc(strlen(body) + 64);
			assert_non_null(src);
			sprintf(src, "{'version':1,'processes':[{%s}]}", body);
			if (n == 4096) {
				st = parse_ok(src);
				assert_int_equal(st->procs[0].argc, 4096);
				spec_free(st);
			} else {
				check_error(src, "processes[0].command", "has 4097 entries, at most 4096 are allowed");
			}
			free(src);
		}
	}
	free(body);

	/* one argument larger than the kernel takes */
	{
		size_t n = SPEC_ARG_MAX + 1;
		char *src = malloc(n + 128);
		assert_non_null(src);
		o = (size_t)sprintf(src, "{'version':1,'processes':[{'name':'a','command':['echo','");
		memset(src + o, 'x', n);
		strcpy(src + o + n, "']}]}");
		check_error(src, "processes[0].command[1]", "is 131072 bytes long, at most 131071 are allowed");
		free(src);
	}
}

static void test_env(void **state)
{
	struct spec_stage *st;

	(void)state;
	check_proc_error(P0 ",'env':['A=1']", "processes[0].env", "expected an object of strings, got an array");
	check_proc_error(P0 ",'env':{'A':1}", "processes[0].env.A", "expected a string, got an integer");
	check_proc_error(P0 ",'env':{'1A':'x'}", "processes[0].env.1A",
			 "\"1A\" is not a valid environment variable name");
	check_proc_error(P0 ",'env':{'A-B':'x'}", "processes[0].env.A-B", "is not a valid environment variable name");
	check_proc_error(P0 ",'env':{'A=B':'x'}", "processes[0].env[\"A=B\"]", "is not a valid environment variable name");
	check_proc_error(P0 ",'env':{'':'x'}", "processes[0].env[\"\"]", "is not a valid environment variable name");
	st = proc_ok(P0 ",'env':{'B':'2','_a1':'','PATH':'/x:/y','S':'a=b'}");
	assert_int_equal(st->procs[0].nenv, 4);
	assert_string_equal(st->procs[0].env[0], "B=2");
	assert_string_equal(st->procs[0].env[1], "_a1=");
	assert_string_equal(st->procs[0].env[2], "PATH=/x:/y");
	assert_string_equal(st->procs[0].env[3], "S=a=b");
	assert_null(st->procs[0].env[4]);
	spec_free(st);
	st = proc_ok(P0 ",'env':{}");
	assert_int_equal(st->procs[0].nenv, 0);
	assert_non_null(st->procs[0].env);
	assert_null(st->procs[0].env[0]);
	spec_free(st);
}

static void test_cwd_role_essential(void **state)
{
	struct spec_stage *st;

	(void)state;
	check_proc_error(P0 ",'cwd':1", "processes[0].cwd", "expected a string, got an integer");
	check_proc_error(P0 ",'cwd':''", "processes[0].cwd", "must not be empty");
	check_proc_error(P0 ",'role':'daemon'", "processes[0].role",
			 "unknown role \"daemon\" (expected one of: job, service)");
	check_proc_error(P0 ",'role':'sevrice'", "processes[0].role", "did you mean \"service\"?");
	check_proc_error(P0 ",'essential':'yes'", "processes[0].essential", "expected a boolean, got a string");
	check_proc_error(P0 ",'essential':1", "processes[0].essential", "expected a boolean, got an integer");
	{
		/* the exact message of the issue's wording */
		struct spec_error err;
		char buf[600];
		assert_null(parse("{'version':1,'processes':[{" P0 ",'essential':'true'}]}", &err));
		assert_string_equal(spec_error_format(&err, buf, sizeof(buf)),
				    "processes[0].essential: expected a boolean, got a string");
	}
	st = proc_ok(P0 ",'cwd':'rel/dir'");
	assert_string_equal(st->procs[0].cwd, "rel/dir");
	spec_free(st);
	st = parse_ok("{'version':1,'processes':[{" P0 ",'essential':false},{'name':'b','command':['x'],'role':'job'}]}");
	assert_false(st->procs[0].essential);
	assert_true(st->procs[1].essential);
	spec_free(st);
}

/* ---- dependencies ---------------------------------------------------------------------------------- */

static void test_depends_on(void **state)
{
	struct spec_stage *st;

	(void)state;
	check_proc_error(P0 ",'depends_on':'b'", "processes[0].depends_on",
			 "expected an array of {\"name\", \"condition\"} objects, got a string");
	check_proc_error(P0 ",'depends_on':['b']", "processes[0].depends_on[0]",
			 "expected an object {\"name\", \"condition\"}, got a string");
	check_proc_error(P0 ",'depends_on':[{'condition':'ready'}]", "processes[0].depends_on[0].name", "missing");
	check_proc_error(P0 ",'depends_on':[{'name':3}]", "processes[0].depends_on[0].name",
			 "expected a string, got an integer");
	check_proc_error(P0 ",'depends_on':[{'name':'a'}]", "processes[0].depends_on[0].name",
			 "process \"a\" depends on itself");
	check_error("{'version':1,'processes':[{'name':'web','command':['x']},"
		    "{'name':'runner','command':['y'],'depends_on':[{'name':'wbe','condition':'ready'}]}]}",
		    "processes[1].depends_on[0].name", "no process named \"wbe\"; did you mean \"web\"?");
	check_error("{'version':1,'processes':[{'name':'web','command':['x']},"
		    "{'name':'runner','command':['y'],'depends_on':[{'name':'database'}]}]}",
		    "processes[1].depends_on[0].name", "no process named \"database\"");
	check_error("{'version':1,'processes':[{'name':'web','command':['x']},"
		    "{'name':'runner','command':['y'],'depends_on':[{'name':'web'},{'name':'web','condition':'ready'}]}]}",
		    "processes[1].depends_on[1].name", "\"web\" is already listed in depends_on[0]");
	check_error("{'version':1,'processes':[{'name':'web','command':['x']},"
		    "{'name':'runner','command':['y'],'depends_on':[{'name':'web','condition':'healthy'}]}]}",
		    "processes[1].depends_on[0].condition",
		    "unknown condition \"healthy\" (expected one of: started, ready, completed, succeeded)");
	check_error("{'version':1,'processes':[{'name':'web','command':['x']},"
		    "{'name':'runner','command':['y'],'depends_on':[{'name':'web','condition':'STARTED'}]}]}",
		    "processes[1].depends_on[0].condition", "did you mean \"started\"?");

	/* a dependency defined later in the list, default condition, every condition */
	st = parse_ok("{'version':1,'processes':["
		      "{'name':'t','command':['x'],'depends_on':[{'name':'s1'},{'name':'s2','condition':'ready'},"
		      "{'name':'s3','condition':'completed'},{'name':'s4','condition':'succeeded'}]},"
		      "{'name':'s1','command':['x']},{'name':'s2','command':['x']},"
		      "{'name':'s3','command':['x']},{'name':'s4','command':['x']}]}");
	assert_int_equal(st->procs[0].ndeps, 4);
	assert_int_equal(st->procs[0].deps[0].condition, SPEC_DEP_STARTED);
	assert_int_equal(st->procs[0].deps[0].index, 1);
	assert_int_equal(st->procs[0].deps[1].condition, SPEC_DEP_READY);
	assert_int_equal(st->procs[0].deps[1].index, 2);
	assert_int_equal(st->procs[0].deps[2].condition, SPEC_DEP_COMPLETED);
	assert_int_equal(st->procs[0].deps[3].condition, SPEC_DEP_SUCCEEDED);
	assert_int_equal(st->procs[0].deps[3].index, 4);
	assert_int_equal(st->start_order[0], 1);
	assert_int_equal(st->start_order[1], 2);
	assert_int_equal(st->start_order[2], 3);
	assert_int_equal(st->start_order[3], 4);
	assert_int_equal(st->start_order[4], 0);
	spec_free(st);

	/* "ready" on a process without a probe is allowed (ready as soon as started) */
	st = parse_ok("{'version':1,'processes':[{'name':'s','command':['x'],'role':'service'},"
		      "{'name':'t','command':['x'],'depends_on':[{'name':'s','condition':'ready'}]}]}");
	assert_int_equal(st->procs[0].ready.kind, SPEC_PROBE_NONE);
	spec_free(st);
	/* an empty depends_on is fine */
	st = proc_ok(P0 ",'depends_on':[]");
	assert_int_equal(st->procs[0].ndeps, 0);
	spec_free(st);
}

static void test_cycles(void **state)
{
	(void)state;
	check_error("{'version':1,'processes':["
		    "{'name':'a','command':['x'],'depends_on':[{'name':'b'}]},"
		    "{'name':'b','command':['x'],'depends_on':[{'name':'a'}]}]}",
		    "processes[1].depends_on[0]", "dependency cycle: a -> b -> a");
	check_error("{'version':1,'processes':["
		    "{'name':'j','command':['x']},"
		    "{'name':'a','command':['x'],'depends_on':[{'name':'j'},{'name':'b'}]},"
		    "{'name':'b','command':['x'],'depends_on':[{'name':'c'}]},"
		    "{'name':'c','command':['x'],'depends_on':[{'name':'j'},{'name':'a'}]}]}",
		    "processes[3].depends_on[1]", "dependency cycle: a -> b -> c -> a");
	/* a cycle that the first process only leads into */
	check_error("{'version':1,'processes':["
		    "{'name':'top','command':['x'],'depends_on':[{'name':'x'}]},"
		    "{'name':'x','command':['x'],'depends_on':[{'name':'y'}]},"
		    "{'name':'y','command':['x'],'depends_on':[{'name':'x'}]}]}",
		    "processes[2].depends_on[0]", "dependency cycle: x -> y -> x");
	/* a diamond is not a cycle */
	{
		struct spec_stage *st = parse_ok("{'version':1,'processes':["
			"{'name':'d','command':['x'],'depends_on':[{'name':'b'},{'name':'c'}]},"
			"{'name':'b','command':['x'],'depends_on':[{'name':'a'}]},"
			"{'name':'c','command':['x'],'depends_on':[{'name':'a'}]},"
			"{'name':'a','command':['x']}]}");
		assert_int_equal(st->start_order[0], 3);
		assert_int_equal(st->start_order[1], 1);
		assert_int_equal(st->start_order[2], 2);
		assert_int_equal(st->start_order[3], 0);
		spec_free(st);
	}
}

static void test_start_order_stable(void **state)
{
	/* c depends on nothing, a on b, b on c, e on nothing, d on a: order c b a d e?
	 * Kahn with the earliest ready process first: c(2), b(1), a(0), d(3), e(4). */
	struct spec_stage *st = parse_ok("{'version':1,'processes':["
		"{'name':'a','command':['x'],'depends_on':[{'name':'b'}]},"
		"{'name':'b','command':['x'],'depends_on':[{'name':'c'}]},"
		"{'name':'c','command':['x']},"
		"{'name':'d','command':['x'],'depends_on':[{'name':'a'}]},"
		"{'name':'e','command':['x']}]}");
	size_t want[] = {2, 1, 0, 3, 4};

	(void)state;
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(st->start_order[i], want[i]);
	spec_free(st);
	/* independent processes keep the spec's order */
	st = parse_ok("{'version':1,'processes':[{'name':'z','command':['x']},{'name':'y','command':['x']},"
		      "{'name':'x','command':['x'],'depends_on':[{'name':'z'}]},{'name':'w','command':['x']}]}");
	assert_int_equal(st->start_order[0], 0);
	assert_int_equal(st->start_order[1], 1);
	assert_int_equal(st->start_order[2], 2);
	assert_int_equal(st->start_order[3], 3);
	spec_free(st);
}

/* ---- ready probes ------------------------------------------------------------------------------------ */

static void test_ready(void **state)
{
	struct spec_stage *st;
	struct spec_probe *r;

	(void)state;
	check_proc_error(P0 ",'ready':'tcp'", "processes[0].ready",
			 "expected an object such as {\"tcp\": \"127.0.0.1:8080\"}, got a string");
	check_proc_error(P0 ",'ready':{}", "processes[0].ready", "needs one probe: one of tcp, http, exec, log");
	check_proc_error(P0 ",'ready':{'interval_ms':100}", "processes[0].ready", "needs one probe");
	check_proc_error(P0 ",'ready':{'tcp':'h:1','http':'http://h/'}", "processes[0].ready.http",
			 "a ready probe is exactly one of tcp, http, exec, log; tcp is already set");
	check_proc_error(P0 ",'ready':{'log':'x','exec':['true']}", "processes[0].ready.log",
			 "exec is already set");

	/* tcp */
	check_proc_error(P0 ",'ready':{'tcp':8080}", "processes[0].ready.tcp", "expected a string, got an integer");
	check_proc_error(P0 ",'ready':{'tcp':'localhost'}", "processes[0].ready.tcp",
			 "expected \"host:port\", got \"localhost\"");
	check_proc_error(P0 ",'ready':{'tcp':':8080'}", "processes[0].ready.tcp", "with a host");
	check_proc_error(P0 ",'ready':{'tcp':'h:0'}", "processes[0].ready.tcp", "port must be a number from 1 to 65535");
	check_proc_error(P0 ",'ready':{'tcp':'h:65536'}", "processes[0].ready.tcp", "port must be a number from 1 to 65535");
	check_proc_error(P0 ",'ready':{'tcp':'h:123456'}", "processes[0].ready.tcp", "port must be a number");
	check_proc_error(P0 ",'ready':{'tcp':'h:http'}", "processes[0].ready.tcp", "port must be a number");
	check_proc_error(P0 ",'ready':{'tcp':'h:'}", "processes[0].ready.tcp", "port must be a number");
	check_proc_error(P0 ",'ready':{'tcp':'h:-1'}", "processes[0].ready.tcp", "port must be a number");
	check_proc_error(P0 ",'ready':{'tcp':'::1:80'}", "processes[0].ready.tcp", "an IPv6 address needs brackets");
	check_proc_error(P0 ",'ready':{'tcp':'[]:80'}", "processes[0].ready.tcp", "expected \"[address]:port\"");
	check_proc_error(P0 ",'ready':{'tcp':'a b:80'}", "processes[0].ready.tcp", "invalid host");
	st = proc_ok(P0 ",'ready':{'tcp':'localhost:65535'}");
	r = &st->procs[0].ready;
	assert_int_equal(r->kind, SPEC_PROBE_TCP);
	assert_string_equal(r->host, "localhost");
	assert_string_equal(r->port, "65535");
	spec_free(st);
	st = proc_ok(P0 ",'ready':{'tcp':'[::1]:1'}");
	assert_string_equal(st->procs[0].ready.host, "::1");
	assert_string_equal(st->procs[0].ready.port, "1");
	spec_free(st);

	/* http */
	check_proc_error(P0 ",'ready':{'http':'https://h/'}", "processes[0].ready.http", "only http:// URLs can be probed");
	check_proc_error(P0 ",'ready':{'http':'ftp://h/'}", "processes[0].ready.http", "expected an http:// URL, got \"ftp://h/\"");
	check_proc_error(P0 ",'ready':{'http':'h:80/'}", "processes[0].ready.http", "expected an http:// URL");
	check_proc_error(P0 ",'ready':{'http':'http://'}", "processes[0].ready.http", "the URL has no host");
	check_proc_error(P0 ",'ready':{'http':'http:///x'}", "processes[0].ready.http", "the URL has no host");
	check_proc_error(P0 ",'ready':{'http':'http://h:0/'}", "processes[0].ready.http", "invalid host or port in the URL");
	check_proc_error(P0 ",'ready':{'http':'http://h:x/'}", "processes[0].ready.http", "invalid host or port in the URL");
	check_proc_error(P0 ",'ready':{'http':'http://u:p@h/'}", "processes[0].ready.http", "user information");
	check_proc_error(P0 ",'ready':{'http':'http://h/a b'}", "processes[0].ready.http", "spaces or control characters");
	check_proc_error(P0 ",'ready':{'http':['http://h/']}", "processes[0].ready.http", "expected a string, got an array");
	st = proc_ok(P0 ",'ready':{'http':'http://127.0.0.1:8080/health?x=1'}");
	r = &st->procs[0].ready;
	assert_int_equal(r->kind, SPEC_PROBE_HTTP);
	assert_string_equal(r->url, "http://127.0.0.1:8080/health?x=1");
	assert_string_equal(r->host, "127.0.0.1");
	assert_string_equal(r->port, "8080");
	assert_string_equal(r->http_path, "/health?x=1");
	spec_free(st);
	st = proc_ok(P0 ",'ready':{'http':'http://example.test'}");
	r = &st->procs[0].ready;
	assert_string_equal(r->host, "example.test");
	assert_string_equal(r->port, "80");
	assert_string_equal(r->http_path, "/");
	spec_free(st);
	st = proc_ok(P0 ",'ready':{'http':'http://[::1]:81'}");
	r = &st->procs[0].ready;
	assert_string_equal(r->host, "::1");
	assert_string_equal(r->port, "81");
	assert_string_equal(r->http_path, "/");
	spec_free(st);
	check_proc_error(P0 ",'ready':{'http':'http://h?x=1'}", "processes[0].ready.http",
			 "write the path before the query");
	check_proc_error(P0 ",'ready':{'http':'http://h/p#frag'}", "processes[0].ready.http",
			 "a URL fragment (\"#...\") is never sent");
	{
		/* the URL is bounded so its path fits the probe's request buffer */
		char body[1200];
		snprintf(body, sizeof(body), P0 ",'ready':{'http':'http://h/%01020d'}", 0);
		check_proc_error(body, "processes[0].ready.http", "is 1029 bytes long, at most 1024 are allowed");
	}

	/* exec */
	check_proc_error(P0 ",'ready':{'exec':'true'}", "processes[0].ready.exec", "expected an array of strings");
	check_proc_error(P0 ",'ready':{'exec':[]}", "processes[0].ready.exec", "must not be empty");
	check_proc_error(P0 ",'ready':{'exec':['']}", "processes[0].ready.exec[0]", "must not be empty");
	check_proc_error(P0 ",'ready':{'exec':['a',2]}", "processes[0].ready.exec[1]", "expected a string");
	st = proc_ok(P0 ",'ready':{'exec':['pg_isready','-q']}");
	r = &st->procs[0].ready;
	assert_int_equal(r->kind, SPEC_PROBE_EXEC);
	assert_string_equal(r->argv[0], "pg_isready");
	assert_string_equal(r->argv[1], "-q");
	assert_null(r->argv[2]);
	spec_free(st);

	/* log: a POSIX extended regex, checked with regcomp */
	check_proc_error(P0 ",'ready':{'log':'('}", "processes[0].ready.log", "invalid regular expression: ");
	check_proc_error(P0 ",'ready':{'log':'a{2,1}'}", "processes[0].ready.log", "invalid regular expression: ");
	check_proc_error(P0 ",'ready':{'log':'[z-a]'}", "processes[0].ready.log", "invalid regular expression: ");
	/* patterns whose compiled form would be huge (glibc copies a repeated part per repetition):
	 * refused before regcomp, found by fuzz.spec ("a+++...+" took over 500 MB) */
	check_proc_error(P0 ",'ready':{'log':'rea+++++++++++++++++++++++++++++++++++++++++++++++'}",
			 "processes[0].ready.log", "regular expression refused: a repetition follows another");
	check_proc_error(P0 ",'ready':{'log':'a*{2}'}", "processes[0].ready.log", "a repetition follows another");
	check_proc_error(P0 ",'ready':{'log':'((a{30}){30}){30}'}", "processes[0].ready.log",
			 "too large once its repetitions are expanded");
	check_proc_error(P0 ",'ready':{'log':'x{99999999999}'}", "processes[0].ready.log", "regular expression refused");
	spec_free(proc_ok(P0 ",'ready':{'log':'(a{100}){100}'}"));
	spec_free(proc_ok(P0 ",'ready':{'log':'[[:alpha:]]+ ready [(+*]+ (x|y)*z{2,}'}"));
	check_proc_error(P0 ",'ready':{'log':''}", "processes[0].ready.log", "must not be empty");
	check_proc_error(P0 ",'ready':{'log':5}", "processes[0].ready.log", "expected a string, got an integer");
	st = proc_ok(P0 ",'ready':{'log':'resuming normal operations|ready (to|for) connections$'}");
	r = &st->procs[0].ready;
	assert_int_equal(r->kind, SPEC_PROBE_LOG);
	assert_string_equal(r->pattern, "resuming normal operations|ready (to|for) connections$");
	spec_free(st);

	/* interval and timeout */
	check_proc_error(P0 ",'ready':{'tcp':'h:1','interval_ms':9}", "processes[0].ready.interval_ms",
			 "must be between 10 and 3600000, got 9");
	check_proc_error(P0 ",'ready':{'tcp':'h:1','interval_ms':'100'}", "processes[0].ready.interval_ms",
			 "expected an integer, got a string");
	check_proc_error(P0 ",'ready':{'tcp':'h:1','interval_ms':10.5}", "processes[0].ready.interval_ms",
			 "expected a whole number, got 10.5");
	check_proc_error(P0 ",'ready':{'tcp':'h:1','timeout_ms':0}", "processes[0].ready.timeout_ms",
			 "must be between 1 and 86400000, got 0");
	check_proc_error(P0 ",'ready':{'tcp':'h:1','timeout_ms':-1}", "processes[0].ready.timeout_ms", "got -1");
	st = proc_ok(P0 ",'ready':{'tcp':'h:1','interval_ms':10,'timeout_ms':500.0}");
	assert_int_equal(st->procs[0].ready.interval_ms, 10);
	assert_int_equal(st->procs[0].ready.timeout_ms, 500);
	spec_free(st);
}

/* ---- restart ------------------------------------------------------------------------------------------- */

static void test_restart(void **state)
{
	struct spec_stage *st;
	struct spec_restart *r;

	(void)state;
	check_proc_error(P0 ",'restart':'always'", "processes[0].restart",
			 "expected an object such as {\"policy\": \"on-failure\"}, got a string");
	check_proc_error(P0 ",'restart':{'policy':'sometimes'}", "processes[0].restart.policy",
			 "unknown restart policy \"sometimes\" (expected one of: never, on-failure, always)");
	check_proc_error(P0 ",'restart':{'policy':'on_failure'}", "processes[0].restart.policy",
			 "did you mean \"on-failure\"?");
	check_proc_error(P0 ",'restart':{'max_retries':1001}", "processes[0].restart.max_retries",
			 "must be between 0 and 1000, got 1001");
	check_proc_error(P0 ",'restart':{'max_retries':-1}", "processes[0].restart.max_retries", "got -1");
	check_proc_error(P0 ",'restart':{'max_retries':true}", "processes[0].restart.max_retries",
			 "expected an integer, got a boolean");
	check_proc_error(P0 ",'restart':{'backoff_ms':0}", "processes[0].restart.backoff_ms", "must be between 1 and");
	check_proc_error(P0 ",'restart':{'backoff_ms':500,'backoff_max_ms':400}", "processes[0].restart.backoff_max_ms",
			 "must be at least backoff_ms (500), got 400");
	check_proc_error(P0 ",'restart':{'backoff_max_ms':100}", "processes[0].restart.backoff_max_ms",
			 "must be at least backoff_ms (200), got 100");
	st = proc_ok(P0 ",'restart':{'policy':'always','max_retries':0,'backoff_ms':50,'backoff_max_ms':50}");
	r = &st->procs[0].restart;
	assert_int_equal(r->policy, SPEC_RESTART_ALWAYS);
	assert_int_equal(r->max_retries, 0);
	assert_int_equal(r->backoff_ms, 50);
	assert_int_equal(r->backoff_max_ms, 50);
	spec_free(st);
	st = proc_ok(P0 ",'restart':{'policy':'on-failure'}");
	r = &st->procs[0].restart;
	assert_int_equal(r->policy, SPEC_RESTART_ON_FAILURE);
	assert_int_equal(r->max_retries, 3);
	assert_int_equal(r->backoff_ms, 200);
	assert_int_equal(r->backoff_max_ms, 10000);
	spec_free(st);
	/* a start above the default cap raises the default cap with it */
	st = proc_ok(P0 ",'restart':{'backoff_ms':20000}");
	assert_int_equal(st->procs[0].restart.backoff_max_ms, 20000);
	spec_free(st);
	st = proc_ok(P0 ",'restart':{'max_retries':1000}");
	assert_int_equal(st->procs[0].restart.max_retries, 1000);
	spec_free(st);
}

/* ---- stopping --------------------------------------------------------------------------------------------- */

static void test_stop_signal(void **state)
{
	struct spec_stage *st;

	(void)state;
	check_proc_error(P0 ",'stop_signal':'SIGKILL'", "processes[0].stop_signal", "SIGKILL cannot be a stop signal");
	check_proc_error(P0 ",'stop_signal':9", "processes[0].stop_signal", "SIGKILL cannot be a stop signal");
	check_proc_error(P0 ",'stop_signal':'STOP'", "processes[0].stop_signal", "SIGSTOP cannot be a stop signal");
	check_proc_error(P0 ",'stop_signal':'SIGTREM'", "processes[0].stop_signal", "unknown signal \"SIGTREM\"");
	check_proc_error(P0 ",'stop_signal':99", "processes[0].stop_signal", "99 is not a signal number");
	check_proc_error(P0 ",'stop_signal':-15", "processes[0].stop_signal", "-15 is not a signal number");
	check_proc_error(P0 ",'stop_signal':15.0", "processes[0].stop_signal",
			 "expected a signal name such as \"SIGTERM\", got a number");
	check_proc_error(P0 ",'stop_signal':['TERM']", "processes[0].stop_signal", "got an array");
	st = proc_ok(P0 ",'stop_signal':'WINCH'");
	assert_int_equal(st->procs[0].stop_signal, SIGWINCH);
	spec_free(st);
	st = proc_ok(P0 ",'stop_signal':'SIGQUIT'");
	assert_int_equal(st->procs[0].stop_signal, SIGQUIT);
	spec_free(st);
	st = proc_ok(P0 ",'stop_signal':2");
	assert_int_equal(st->procs[0].stop_signal, SIGINT);
	spec_free(st);
	st = proc_ok(P0 ",'stop_signal':'RTMIN+1'");
	assert_int_equal(st->procs[0].stop_signal, SIGRTMIN + 1);
	spec_free(st);
}

static void test_stop_grace(void **state)
{
	struct spec_stage *st;

	(void)state;
	check_error("{'version':1,'stop_timeout':5,'processes':[{" P0 ",'stop_grace':6}]}",
		    "processes[0].stop_grace", "6 s is more than the stage's stop_timeout (5 s)");
	check_error("{'version':1,'processes':[{" P0 ",'stop_grace':31}]}",
		    "processes[0].stop_grace", "31 s is more than the stage's stop_timeout (30 s)");
	check_proc_error(P0 ",'stop_grace':-1", "processes[0].stop_grace", "must be between 0 and 120 seconds, got -1");
	check_proc_error(P0 ",'stop_grace':121", "processes[0].stop_grace", "must be between 0 and 120 seconds");
	check_proc_error(P0 ",'stop_grace':'10s'", "processes[0].stop_grace", "expected a number of seconds, got a string");
	st = proc_ok(P0 ",'stop_grace':2.5");
	assert_int_equal(st->procs[0].stop_grace_ms, 2500);
	spec_free(st);
	st = proc_ok(P0 ",'stop_grace':0");
	assert_int_equal(st->procs[0].stop_grace_ms, 0);
	spec_free(st);
	st = parse_ok("{'version':1,'stop_timeout':5,'processes':[{" P0 "},{'name':'b','command':['x'],'stop_grace':5}]}");
	assert_int_equal(st->procs[0].stop_grace_ms, 5000);
	assert_int_equal(st->procs[1].stop_grace_ms, 5000);
	spec_free(st);
	st = parse_ok("{'version':1,'stop_timeout':0.0015e3,'processes':[{" P0 ",'stop_grace':0.001}]}");
	assert_int_equal(st->stop_timeout_ms, 1500);
	assert_int_equal(st->procs[0].stop_grace_ms, 1);
	spec_free(st);
}

static void test_success_exit_codes(void **state)
{
	struct spec_stage *st;

	(void)state;
	check_proc_error(P0 ",'success_exit_codes':0", "processes[0].success_exit_codes",
			 "expected an array of exit codes, got an integer");
	check_proc_error(P0 ",'success_exit_codes':[]", "processes[0].success_exit_codes", "must not be empty");
	check_proc_error(P0 ",'success_exit_codes':[0,256]", "processes[0].success_exit_codes[1]",
			 "must be between 0 and 255, got 256");
	check_proc_error(P0 ",'success_exit_codes':[-1]", "processes[0].success_exit_codes[0]", "got -1");
	check_proc_error(P0 ",'success_exit_codes':['0']", "processes[0].success_exit_codes[0]",
			 "expected an integer, got a string");
	check_proc_error(P0 ",'success_exit_codes':[1.5]", "processes[0].success_exit_codes[0]",
			 "expected a whole number, got 1.5");
	st = proc_ok(P0 ",'success_exit_codes':[0,1,2,255]");
	assert_int_equal(st->procs[0].nsuccess, 4);
	assert_true(spec_success_code(&st->procs[0], 0));
	assert_true(spec_success_code(&st->procs[0], 1));
	assert_true(spec_success_code(&st->procs[0], 2));
	assert_true(spec_success_code(&st->procs[0], 255));
	assert_false(spec_success_code(&st->procs[0], 3));
	assert_false(spec_success_code(&st->procs[0], 128 + 9));
	spec_free(st);
	st = proc_ok(P0 ",'success_exit_codes':[1]");
	assert_false(spec_success_code(&st->procs[0], 0));
	assert_true(spec_success_code(&st->procs[0], 1));
	spec_free(st);
}

/* ---- results ------------------------------------------------------------------------------------------------ */

static void test_results(void **state)
{
	struct spec_stage *st;
	struct spec_result *r;
	static const char *const formats[] = {"junit", "teamcity", "checkstyle", "phpstan-json", "pmd",
					      "pmd-cpd", "phploc-json"};

	(void)state;
	check_proc_error(P0 ",'results':{}", "processes[0].results",
			 "expected an array of {\"format\", \"path\"} objects, got an object");
	check_proc_error(P0 ",'results':['junit']", "processes[0].results[0]", "expected an object {\"format\", \"path\"}, got a string");
	check_proc_error(P0 ",'results':[{'path':'x'}]", "processes[0].results[0].format", "missing");
	check_proc_error(P0 ",'results':[{'format':'xunit','path':'x'}]", "processes[0].results[0].format",
			 "unknown format \"xunit\" (expected one of: junit, teamcity, checkstyle, phpstan-json, pmd, pmd-cpd, phploc-json); did you mean \"junit\"?");
	check_proc_error(P0 ",'results':[{'format':'phpstan'}]", "processes[0].results[0].format",
			 "unknown format \"phpstan\"");
	check_proc_error(P0 ",'results':[{'format':'junit'}]", "processes[0].results[0]",
			 "needs \"path\" (a file, directory or glob) or \"stream\": \"stdout\"");
	check_proc_error(P0 ",'results':[{'format':'teamcity','path':'x','stream':'stdout'}]",
			 "processes[0].results[0].stream", "give either \"path\" or \"stream\", not both");
	check_proc_error(P0 ",'results':[{'format':'teamcity','stream':'stderr'}]",
			 "processes[0].results[0].stream", "the only stream is \"stdout\", got \"stderr\"");
	check_proc_error(P0 ",'results':[{'format':'junit','stream':'stdout'}]",
			 "processes[0].results[0].stream",
			 "format \"junit\" is read from files; only \"teamcity\" can be read from stdout");
	check_proc_error(P0 ",'results':[{'format':'junit','path':''}]", "processes[0].results[0].path", "must not be empty");
	check_proc_error(P0 ",'results':[{'format':'junit','path':7}]", "processes[0].results[0].path",
			 "expected a string, got an integer");
	check_proc_error(P0 ",'results':[{'format':'junit','path':'x','fail_on':'fatal'}]",
			 "processes[0].results[0].fail_on",
			 "unknown fail_on level \"fatal\" (expected one of: error, warning, info, never)");
	check_proc_error(P0 ",'results':[{'format':'junit','path':'x'},{'format':'pmd','path':'y','fail_on':'warnings'}]",
			 "processes[0].results[1].fail_on",
			 "did you mean \"warning\"?");

	st = proc_ok(P0 ",'results':[{'format':'junit','path':'reports/*.xml'},"
		     "{'format':'teamcity','stream':'stdout','fail_on':'never'},"
		     "{'format':'checkstyle','path':'cs.xml','fail_on':'warning'},"
		     "{'format':'phpstan-json','path':'s.json','fail_on':'info'},"
		     "{'format':'pmd','path':'pmd.xml','fail_on':'error'},"
		     "{'format':'pmd-cpd','path':'cpd.xml'},{'format':'phploc-json','path':'loc.json'}]");
	assert_int_equal(st->procs[0].nresults, 7);
	for (size_t i = 0; i < 7; i++)
		assert_string_equal(st->procs[0].results[i].format, formats[i]);
	r = st->procs[0].results;
	assert_string_equal(r[0].path, "reports/*.xml");
	assert_false(r[0].from_stdout);
	assert_int_equal(r[0].fail_on, SPEC_FAIL_ON_ERROR);
	assert_null(r[1].path);
	assert_true(r[1].from_stdout);
	assert_int_equal(r[1].fail_on, SPEC_FAIL_ON_NEVER);
	assert_int_equal(r[2].fail_on, SPEC_FAIL_ON_WARNING);
	assert_int_equal(r[3].fail_on, SPEC_FAIL_ON_INFO);
	assert_int_equal(r[4].fail_on, SPEC_FAIL_ON_ERROR);
	assert_int_equal(r[5].fail_on, SPEC_FAIL_ON_ERROR);
	spec_free(st);
}

/* ---- the stage as a whole --------------------------------------------------------------------------------------- */

static void test_job_mode_needs_essential_job(void **state)
{
	struct spec_stage *st;

	(void)state;
	check_error("{'version':1,'processes':[{" P0 ",'role':'service'}]}", "processes",
		    "no process has \"role\": \"job\" and \"essential\": true");
	check_error("{'version':1,'mode':'job','processes':[{" P0 ",'essential':false},"
		    "{'name':'s','command':['x'],'role':'service','essential':true}]}", "processes",
		    "no process has \"role\": \"job\" and \"essential\": true");
	/* service mode does not need one */
	st = parse_ok("{'version':1,'mode':'service','processes':[{" P0 ",'role':'service','essential':false}]}");
	assert_int_equal(st->mode, SPEC_MODE_SERVICE);
	spec_free(st);
	/* one essential job among non-essential ones is enough */
	st = parse_ok("{'version':1,'processes':[{" P0 ",'essential':false},{'name':'b','command':['x']}]}");
	spec_free(st);
}

static void test_type_messages(void **state)
{
	(void)state;
	check_proc_error(P0 ",'essential':null", "processes[0].essential", "expected a boolean, got null");
	check_proc_error(P0 ",'essential':{}", "processes[0].essential", "expected a boolean, got an object");
	check_proc_error(P0 ",'essential':[]", "processes[0].essential", "expected a boolean, got an array");
	check_proc_error(P0 ",'essential':1.5", "processes[0].essential", "expected a boolean, got a number");
	check_proc_error(P0 ",'cwd':true", "processes[0].cwd", "expected a string, got a boolean");
	check_proc_error(P0 ",'env':'A=1'", "processes[0].env", "expected an object of strings, got a string");
	check_proc_error(P0 ",'restart':{'max_retries':'3'}", "processes[0].restart.max_retries",
			 "expected an integer, got a string");
}

/* 5.0 is a whole number and is accepted where an integer is expected. */
static void test_whole_reals(void **state)
{
	struct spec_stage *st = proc_ok(P0 ",'restart':{'max_retries':5.0},'success_exit_codes':[2.0]");

	(void)state;
	assert_int_equal(st->procs[0].restart.max_retries, 5);
	assert_int_equal(st->procs[0].success_codes[0], 2);
	spec_free(st);
}

/* ---- signals ---------------------------------------------------------------------------------------------------- */

static void test_signal_table(void **state)
{
	static const struct {
		const char *name;
		int num;
	} sigs[] = {
		{"HUP", SIGHUP}, {"INT", SIGINT}, {"QUIT", SIGQUIT}, {"ILL", SIGILL}, {"TRAP", SIGTRAP},
		{"ABRT", SIGABRT}, {"BUS", SIGBUS}, {"FPE", SIGFPE}, {"KILL", SIGKILL}, {"USR1", SIGUSR1},
		{"SEGV", SIGSEGV}, {"USR2", SIGUSR2}, {"PIPE", SIGPIPE}, {"ALRM", SIGALRM}, {"TERM", SIGTERM},
		{"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT}, {"STOP", SIGSTOP},
		{"TSTP", SIGTSTP}, {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU}, {"URG", SIGURG}, {"XCPU", SIGXCPU},
		{"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH},
		{"IO", SIGIO}, {"PWR", SIGPWR}, {"SYS", SIGSYS},
	};
	char buf[32];

	(void)state;
	assert_int_equal(sizeof(sigs) / sizeof(sigs[0]), 31);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		assert_int_equal(spec_signal_from_name(sigs[i].name), sigs[i].num);
		snprintf(buf, sizeof(buf), "SIG%s", sigs[i].name);
		assert_int_equal(spec_signal_from_name(buf), sigs[i].num);
		assert_string_equal(spec_signal_name(sigs[i].num), buf);
		snprintf(buf, sizeof(buf), "%d", sigs[i].num);
		assert_int_equal(spec_signal_from_name(buf), sigs[i].num);
	}
	/* every standard signal 1..31 has a name, and glibc's abbreviations are understood */
	for (int s = 1; s <= 31; s++) {
		assert_int_equal(spec_signal_from_name(spec_signal_name(s)), s);
		assert_int_equal(spec_signal_from_name(sigabbrev_np(s)), s);
	}
	assert_int_equal(spec_signal_from_name("sigterm"), SIGTERM);
	assert_int_equal(spec_signal_from_name("Winch"), SIGWINCH);
	assert_int_equal(spec_signal_from_name("IOT"), SIGABRT);
	assert_int_equal(spec_signal_from_name("SIGPOLL"), SIGIO);
	assert_int_equal(spec_signal_from_name("CLD"), SIGCHLD);
	/* real-time signals */
	assert_int_equal(spec_signal_from_name("RTMIN"), SIGRTMIN);
	assert_int_equal(spec_signal_from_name("SIGRTMIN+2"), SIGRTMIN + 2);
	assert_int_equal(spec_signal_from_name("RTMAX"), SIGRTMAX);
	assert_int_equal(spec_signal_from_name("SIGRTMAX-1"), SIGRTMAX - 1);
	assert_int_equal(spec_signal_from_name("RTMIN+0"), SIGRTMIN);
	assert_int_equal(spec_signal_from_name("RTMIN+99"), -1);
	assert_int_equal(spec_signal_from_name("RTMAX-99"), -1);
	assert_int_equal(spec_signal_from_name("RTMIN-1"), -1);
	assert_int_equal(spec_signal_from_name("RTMIN+"), -1);
	assert_int_equal(spec_signal_from_name("RTMIN+1x"), -1);
	assert_string_equal(spec_signal_name(SIGRTMIN), "SIGRTMIN");
	assert_string_equal(spec_signal_name(SIGRTMIN + 3), "SIGRTMIN+3");
	assert_string_equal(spec_signal_name(SIGRTMAX), "SIGRTMAX");
	for (int s = SIGRTMIN; s <= SIGRTMAX; s++) {
		assert_int_equal(spec_signal_from_name(spec_signal_name(s)), s);
		snprintf(buf, sizeof(buf), "%d", s);
		assert_int_equal(spec_signal_from_name(buf), s);
	}
	/* not signals */
	assert_int_equal(spec_signal_from_name(NULL), -1);
	assert_int_equal(spec_signal_from_name(""), -1);
	assert_int_equal(spec_signal_from_name("SIG"), -1);
	assert_int_equal(spec_signal_from_name("0"), -1);
	assert_int_equal(spec_signal_from_name("32"), -1);
	assert_int_equal(spec_signal_from_name("65"), -1);
	assert_int_equal(spec_signal_from_name("1000"), -1);
	assert_int_equal(spec_signal_from_name("15x"), -1);
	assert_int_equal(spec_signal_from_name("-15"), -1);
	assert_int_equal(spec_signal_from_name(" TERM"), -1);
	assert_int_equal(spec_signal_from_name("SIGSIGTERM"), -1);
	assert_int_equal(spec_signal_from_name("FOO"), -1);
	assert_string_equal(spec_signal_name(0), "SIG?");
	assert_string_equal(spec_signal_name(-1), "SIG?");
	assert_string_equal(spec_signal_name(1000), "SIG?");
}

/* ---- error formatting and files ------------------------------------------------------------------------------------ */

static void test_error_format(void **state)
{
	struct spec_error err;
	char buf[64];

	(void)state;
	memset(&err, 0, sizeof(err));
	snprintf(err.field, sizeof(err.field), "processes[1].depends_on[0].name");
	snprintf(err.text, sizeof(err.text), "no process named \"wbe\"");
	assert_string_equal(spec_error_format(&err, buf, sizeof(buf)),
			    "processes[1].depends_on[0].name: no process named \"wbe\"");
	err.field[0] = '\0';
	assert_string_equal(spec_error_format(&err, buf, sizeof(buf)), "no process named \"wbe\"");
	err.line = 4;
	err.column = 7;
	assert_string_equal(spec_error_format(&err, buf, sizeof(buf)), "line 4, column 7: no process named \"wbe\"");
	/* truncated, still terminated */
	{
		char small[8];
		assert_string_equal(spec_error_format(&err, small, sizeof(small)), "line 4,");
	}
	assert_string_equal(spec_error_format(NULL, buf, sizeof(buf)), "unknown error");
	/* a user string in a message is escaped and cut */
	{
		char src[512];
		struct spec_error e2;
		snprintf(src, sizeof(src), "{'version':1,'processes':[{" P0 ",'role':'%0100d\\t'}]}", 0);
		assert_null(parse(src, &e2));
		assert_string_equal(e2.field, "processes[0].role");
		assert_non_null(strstr(e2.text, "unknown role \"0000"));
		assert_non_null(strstr(e2.text, "...\""));
		assert_null(strstr(e2.text, "\\x09"));
		snprintf(src, sizeof(src), "{'version':1,'processes':[{" P0 ",'role':'a\\tb\\\"c'}]}");
		assert_null(parse(src, &e2));
		assert_non_null(strstr(e2.text, "unknown role \"a\\x09b\\\"c\""));
	}
}

static void test_load_file(void **state)
{
	char dir[] = "/tmp/test_spec.XXXXXX", path[64];
	struct spec_error err;
	struct spec_stage *st;
	FILE *f;
	char *json = js(issue_example);

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/spec.json", dir);

	st = spec_load_file(path, &err);
	assert_null(st);
	assert_string_equal(err.field, "");
	assert_non_null(strstr(err.text, "cannot open"));
	assert_non_null(strstr(err.text, "No such file or directory"));

	f = fopen(path, "w");
	assert_non_null(f);
	fputs(json, f);
	fclose(f);
	st = spec_load_file(path, &err);
	assert_non_null(st);
	assert_int_equal(st->nprocs, 2);
	spec_free(st);

	/* a JSON error in a file: line and column of the file */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\n\"version\": 1,\n\"processes\": [\n}\n", f);
	fclose(f);
	assert_null(spec_load_file(path, &err));
	assert_int_equal(err.line, 4);
	assert_int_equal(err.column, 1);

	/* larger than the limit */
	f = fopen(path, "w");
	assert_non_null(f);
	for (size_t i = 0; i <= SPEC_DOC_MAX; i++)
		fputc(' ', f);
	fclose(f);
	assert_null(spec_load_file(path, &err));
	assert_non_null(strstr(err.text, "is larger than the 1048576 bytes a spec may have"));

	/* a directory */
	assert_null(spec_load_file(dir, &err));
	assert_non_null(strstr(err.text, "cannot read"));

	unlink(path);
	rmdir(dir);
	free(json);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_issue_example),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_free_null),
		cmocka_unit_test(test_invalid_json),
		cmocka_unit_test(test_top_level_not_object),
		cmocka_unit_test(test_document_size),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_stage_name),
		cmocka_unit_test(test_mode),
		cmocka_unit_test(test_stop_timeout),
		cmocka_unit_test(test_stop_signals),
		cmocka_unit_test(test_unknown_fields),
		cmocka_unit_test(test_processes),
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_command),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_cwd_role_essential),
		cmocka_unit_test(test_depends_on),
		cmocka_unit_test(test_cycles),
		cmocka_unit_test(test_start_order_stable),
		cmocka_unit_test(test_ready),
		cmocka_unit_test(test_restart),
		cmocka_unit_test(test_stop_signal),
		cmocka_unit_test(test_stop_grace),
		cmocka_unit_test(test_success_exit_codes),
		cmocka_unit_test(test_results),
		cmocka_unit_test(test_job_mode_needs_essential_job),
		cmocka_unit_test(test_type_messages),
		cmocka_unit_test(test_whole_reals),
		cmocka_unit_test(test_signal_table),
		cmocka_unit_test(test_error_format),
		cmocka_unit_test(test_load_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
