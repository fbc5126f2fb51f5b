/* report — see report.h. */
#include "report.h"

#include "protocol/protocol.h"

#include <stdarg.h>
#include <string.h>

static struct report_problem *report_problem(struct report *r, bool ours, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static struct report_problem *report_problem(struct report *r, bool ours, const char *name, const char *fmt, ...)
{
	va_list ap;
	struct report_problem *p;

	if (r->ninfra >= REPORT_MAX_INFRA)
		return NULL;
	p = &r->infra[r->ninfra++];
	p->ours = ours;
	p->detail[0] = '\0';
	snprintf(p->name, sizeof p->name, "%s", name);
	va_start(ap, fmt);
	vsnprintf(p->message, sizeof p->message, fmt, ap);
	va_end(ap);
	return p;
}

static const char *report_str(const json_t *ev, const char *key)
{
	const char *v = json_string_value(json_object_get(ev, key));
	return v ? v : "";
}

/* The last lines that fit into detail, one per line, the newest last (what a fatal error
 * mid-suite looks like is at the end). */
static void report_last_lines(char *detail, size_t size, const json_t *lines)
{
	size_t n = json_array_size(lines), first = n, used = 0;

	detail[0] = '\0';
	while (first > 0) {
		const char *l = json_string_value(json_array_get(lines, first - 1));
		size_t len = (l ? strlen(l) : 0) + 1;
		if (used + len + 1 > size)
			break;
		used += len;
		first--;
	}
	for (size_t i = first; i < n; i++) {
		const char *l = json_string_value(json_array_get(lines, i));
		size_t at = strlen(detail);
		snprintf(detail + at, size - at, "%s%s", l ? l : "", i + 1 < n ? "\n" : "");
	}
}

/* stage/ended's verdict of one failed process (protocol/PROTOCOL.md, `stage`), or NULL. */
static const json_t *report_verdict_of(const json_t *ended, const char *process)
{
	const json_t *list = json_object_get(ended, "processes"), *v;
	size_t i;

	json_array_foreach (list, i, v)
		if (strcmp(report_str(v, "process"), process) == 0)
			return v;
	return NULL;
}

/* Any finding that fails the stage (JUnit's rule: "fails", else severity error or warning). */
static bool report_failing_finding(const struct stream *s)
{
	uint64_t max = stream_max_seq(s);
	bool found = false;

	for (uint64_t seq = 1; seq <= max && !found; seq++) {
		json_t *ev, *f;
		const char *sev;
		if (stream_kind(s, seq) != STREAM_KIND_FINDING || !(ev = stream_load(s, seq)))
			continue;
		f = json_object_get(ev, "fails");
		sev = report_str(ev, "severity");
		found = json_is_boolean(f) ? json_is_true(f) : (strcmp(sev, "error") == 0 || strcmp(sev, "warning") == 0);
		json_decref(ev);
	}
	return found;
}

void report_judge(struct report *r, const struct stream *s, const struct report_agent *agent,
                  int interrupted_by, bool timed_out, double elapsed_s, const char *stage_name)
{
	char why[512];
	uint64_t missing = 0, max = stream_max_seq(s);
	const json_t *end = stream_end(s);
	json_t *ended = NULL, *results;
	bool test_failures, ours = false;

	memset(r, 0, sizeof *r);
	r->stage = stage_name;
	r->tally = stream_tally(s);
	r->elapsed_s = elapsed_s;
	r->interrupted_by = interrupted_by;
	r->timed_out = timed_out;
	r->agent_result = -1;

	/* The stage's ended event first: it says which failed processes its reports explain. */
	for (uint64_t seq = max; seq >= 1 && !ended; seq--) {
		json_t *ev;
		if (stream_kind(s, seq) != STREAM_KIND_STAGE)
			continue;
		ev = stream_load(s, seq);
		if (strcmp(report_str(ev, "event"), "ended") == 0)
			ended = ev;
		else
			json_decref(ev);
	}
	for (uint64_t seq = 1; seq <= max; seq++) {
		enum stream_kind kind = stream_kind(s, seq);
		json_t *ev;
		if (kind != STREAM_KIND_STAGE && kind != STREAM_KIND_PROCESS)
			continue;
		ev = stream_load(s, seq);
		if (kind == STREAM_KIND_STAGE && !r->stage && *report_str(ev, "stage")) {
			snprintf(r->stage_buf, sizeof r->stage_buf, "%s", report_str(ev, "stage"));
			r->stage = r->stage_buf;
		}
		if (kind == STREAM_KIND_PROCESS && strcmp(report_str(ev, "event"), "failed") == 0) {
			const char *proc = report_str(ev, "process");
			const json_t *v = report_verdict_of(ended, proc);
			char name[128];
			struct report_problem *p;

			if (v && json_is_true(json_object_get(v, "explained"))) {
				json_decref(ev);
				continue; /* its failed tests or findings are in the JUnit file already */
			}
			snprintf(name, sizeof name, "process %s", proc);
			p = report_problem(r, false, name, "process %s failed: %s%s%s", proc, report_str(ev, "reason"),
			                   *report_str(v, "why") ? "; " : "", report_str(v, "why"));
			if (p)
				report_last_lines(p->detail, sizeof p->detail, json_object_get(ev, "last_lines"));
		}
		json_decref(ev);
	}
	if (!r->stage)
		r->stage = "stage";
	results = json_object_get(ended, "results");
	if (strcmp(report_str(results, "outcome"), "error") == 0)
		report_problem(r, false, "report", "a report is missing or cannot be parsed: %s",
		               *report_str(results, "error") ? report_str(results, "error") : "(no detail)");

	if (!agent->started)
		report_problem(r, true, "agent", "the agent could not be started: %s", agent->start_error);
	else if (agent->exited && agent->signal && !agent->stopped_by_us)
		report_problem(r, true, "agent", "the agent was killed by signal %d", agent->signal);
	else if (agent->exited && agent->exit_code == 125)
		report_problem(r, true, "agent", "the agent rejected its configuration (exit 125); see its output above");
	else if (agent->exited && agent->exit_code >= 126 && agent->exit_code <= 127 && !end)
		report_problem(r, true, "agent", "the agent could not be executed (exit %d)", agent->exit_code);
	if (agent->started && agent->task_failure[0])
		report_problem(r, true, "task", "%s", agent->task_failure);
	if (timed_out)
		report_problem(r, true, "timeout", "the stage did not end within the time limit; it was stopped");

	if (stream_check_complete(s, &missing, why, sizeof why) == 0) {
		r->complete = true;
		r->missing_logs = missing;
	} else if (agent->started) {
		report_problem(r, true, "stream", "stream incomplete: %s", why);
	}
	if (end && json_is_integer(json_object_get(end, "result")))
		r->agent_result = (int)json_integer_value(json_object_get(end, "result"));
	else if (agent->exited && agent->exit_code >= 0)
		r->agent_result = agent->exit_code;

	test_failures = r->tally.failed + r->tally.error > 0;
	/* A failing result that nothing in the stream explains is a problem too: a stage never
	 * fails without a case that says why. */
	if (r->complete && !interrupted_by && r->agent_result != 0 && r->ninfra == 0 && !test_failures &&
	    strcmp(report_str(results, "outcome"), "failed") != 0 && !report_failing_finding(s))
		report_problem(r, false, "agent",
		               "the stage ended with exit %d, and no failed test, finding or process explains it",
		               r->agent_result);
	json_decref(ended);

	for (size_t i = 0; i < r->ninfra; i++)
		ours = ours || r->infra[i].ours;
	if (interrupted_by) {
		r->exit_code = 128 + interrupted_by;
		r->result = "interrupted";
	} else if (ours) {
		/* The agent, the stream or the time limit: ours. A process or report problem in a
		 * complete stream is the stage's own failure (exit 1), shown as its own case. */
		r->exit_code = REPORT_INFRA;
		r->result = "infrastructure-error";
	} else if (test_failures || r->agent_result != 0 || r->ninfra > 0) {
		r->exit_code = REPORT_FAILED;
		r->result = "failed";
	} else {
		r->exit_code = REPORT_PASSED;
		r->result = "passed";
	}
}

void report_print_summary(FILE *out, const struct report *r, const struct stream *s)
{
	const struct stream_tally *t = &r->tally;

	fprintf(out, "\n");
	fprintf(out, "  stage      %s\n", r->stage);
	fprintf(out, "  result     %s (exit %d)\n", r->result, r->exit_code);
	fprintf(out, "  tests      %llu passed, %llu failed, %llu errors, %llu skipped\n",
	        (unsigned long long)t->passed, (unsigned long long)t->failed, (unsigned long long)t->error,
	        (unsigned long long)t->skipped);
	fprintf(out, "  findings   %llu errors, %llu warnings, %llu info\n", (unsigned long long)t->f_error,
	        (unsigned long long)t->f_warning, (unsigned long long)t->f_info);
	fprintf(out, "  events     %llu stored (%llu first seen in the fallback lines, %llu duplicates ignored)\n",
	        (unsigned long long)t->stored, (unsigned long long)t->from_fallback, (unsigned long long)t->duplicates);
	if (r->complete)
		fprintf(out, "  stream     %s complete%s\n", stream_id(s),
		        r->missing_logs ? " (some log lines only in the agent's output)" : "");
	else
		fprintf(out, "  stream     %s INCOMPLETE\n", stream_id(s));
	if (r->agent_result >= 0)
		fprintf(out, "  agent      exit %d\n", r->agent_result);
	fprintf(out, "  elapsed    %.1f s\n", r->elapsed_s);
	for (size_t i = 0; i < r->ninfra; i++)
		fprintf(out, "  problem    %s: %s\n", r->infra[i].name, r->infra[i].message);
	fflush(out);
}

json_t *report_json(const struct report *r, const struct stream *s, const char *junit_path,
                    const char *events_path)
{
	const struct stream_tally *t = &r->tally;
	json_t *problems = json_array(), *o;

	for (size_t i = 0; i < r->ninfra; i++) {
		json_t *p = json_pack("{s:s,s:s}", "name", r->infra[i].name, "message", r->infra[i].message);
		if (p && r->infra[i].detail[0])
			json_object_set_new(p, "last_lines", pr_string_lossy(r->infra[i].detail, strlen(r->infra[i].detail)));
		json_array_append_new(problems, p);
	}
	o = json_pack("{s:i,s:s,s:s,s:i,s:s,s:b,s:{s:I,s:I,s:I,s:I},s:{s:I,s:I,s:I},s:I,s:I,s:I,s:I,s:f,s:o}",
	              "version", 1, "stage", r->stage, "result", r->result, "exit_code", r->exit_code,
	              "stream", stream_id(s), "complete", r->complete,
	              "tests", "passed", (json_int_t)t->passed, "failed", (json_int_t)t->failed, "error",
	              (json_int_t)t->error, "skipped", (json_int_t)t->skipped,
	              "findings", "error", (json_int_t)t->f_error, "warning", (json_int_t)t->f_warning, "info",
	              (json_int_t)t->f_info,
	              "metrics", (json_int_t)t->metrics, "logs", (json_int_t)t->logs, "events",
	              (json_int_t)t->stored, "from_fallback", (json_int_t)t->from_fallback,
	              "elapsed_s", r->elapsed_s, "problems", problems);
	if (!o)
		return NULL;
	json_object_set_new(o, "missing_logs", json_integer((json_int_t)r->missing_logs));
	json_object_set_new(o, "agent_result", r->agent_result >= 0 ? json_integer(r->agent_result) : json_null());
	if (junit_path)
		json_object_set_new(o, "junit", json_string(junit_path));
	if (events_path)
		json_object_set_new(o, "events_file", json_string(events_path));
	return o;
}

int report_write_json(const char *path, const json_t *summary)
{
	return json_dump_file(summary, path, JSON_INDENT(2) | JSON_SORT_KEYS) == 0 ? 0 : -1;
}
