/*
 * watch — live results for the agent: which reports a process writes, parsed as they
 * are written, each result reported once, and the stage's verdict from them.
 *
 * For each registered spec_result:
 *   - "stream": "stdout": the agent passes the process's output bytes to
 *     rs_watch_stdout() as it reads them; lines are parsed as they complete.
 *   - "path" (a file, a directory, or a glob; relative to the process's cwd): the
 *     directory is watched with inotify (IN_CLOSE_WRITE, IN_MOVED_TO; IN_CREATE for
 *     directories that appear later, walking down from the nearest existing ancestor);
 *     a matching file is parsed whenever a writer closes it. A directory path (one that
 *     exists at registration, or written with a trailing '/') means its *.xml files (XML
 *     formats) or *.json files (JSON formats); globs use glob(3) and fnmatch(3) with
 *     FNM_PATHNAME.
 *   - rs_watch_process_ended(): every matching file is parsed once more (files older
 *     than the registration, from an earlier run, are ignored), stdout parsers are
 *     finished. A path that matched no file, or a file that cannot be parsed, makes the
 *     verdict an error naming file:line:column.
 * Each result is emitted once: a re-parse emits only what it had not emitted before
 * (key: source + suite + class + name + occurrence for tests, source + fingerprint for
 * findings, source + name for metrics; the set of keys grows with the number of
 * distinct results, up to RS_WATCH_MAX_KEYS, after which results are no longer
 * deduplicated rather than dropped).
 *
 * Files are parsed synchronously in the event loop (a 200 MB JUnit file takes about a
 * second). Live parse errors are not errors yet (a writer may rewrite the file); only
 * the parse at process end counts. Directories created under a globbed directory
 * component after registration are not watched (the final parse still finds them).
 *
 * Ownership: the watch copies what it needs from the spec; events passed to emit are
 * new references (the callback steals them), as in parser.h.
 */
#ifndef SV_RESULTS_WATCH_H
#define SV_RESULTS_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "parser.h"
#include "spec.h"

struct event_base;
struct rs_watch;

#define RS_WATCH_MAX_KEYS (8u * 1024u * 1024u)

enum rs_outcome { RS_OUTCOME_PASSED, RS_OUTCOME_FAILED, RS_OUTCOME_ERROR };

struct rs_verdict {
	unsigned long passed, failed, errors, skipped; /* test events by status */
	unsigned long findings_error, findings_warning, findings_info;
	unsigned long findings_failing; /* findings at or above their entry's fail_on */
	unsigned long metrics;
	unsigned nerrors;      /* reports missing or malformed */
	char error[1200];      /* the first of them: "file:line:column: text" */
};

/* What the reports of one process held: whether they explain its failing exit (a failed or
 * errored test, or a finding that reached its entry's fail_on). */
struct rs_process_verdict {
	unsigned long tests, failed, errors;      /* test events; failed/errors by status */
	unsigned long unfinished;                 /* errors for tests the runner died in ("unfinished") */
	unsigned long findings, findings_failing; /* findings; those at or above fail_on */
	unsigned reports_bad;                     /* its reports that were missing or malformed */
};

/* base may be NULL: no inotify (results are parsed at process end only). */
struct rs_watch *rs_watch_new(struct event_base *base, rs_emit_fn emit, void *arg, const struct rs_limits *lim);
void rs_watch_free(struct rs_watch *w);

/* Registers the results of one process (before or right after it starts). cwd: the
 * process's working directory for relative paths (NULL: the agent's). 0 or -1 (errno;
 * EINVAL for an unknown format). */
int rs_watch_add(struct rs_watch *w, const char *process, const char *cwd, const struct spec_result *results,
		 size_t n);
/* Output bytes of a process, as read (any chunking). Fed to its stdout results. */
int rs_watch_stdout(struct rs_watch *w, const char *process, const char *data, size_t len);
/* The process ended: final parse of its files, finish its stdout parsers. 0, or -1
 * when one of its reports is missing or malformed (also recorded in the verdict). */
int rs_watch_process_ended(struct rs_watch *w, const char *process);
/* The same for a process the agent itself stopped (the stage was ending for another reason):
 * what it wrote is parsed, but a report it never got to write is not an error. */
int rs_watch_process_stopped(struct rs_watch *w, const char *process);
/* Parses every registered file now (what an inotify event would do); for tests. */
int rs_watch_scan(struct rs_watch *w);
/* Handles pending inotify events now (normally done by the event loop). */
int rs_watch_poll(struct rs_watch *w);

/* Counts so far and the outcome: ERROR if a report was missing/malformed, else FAILED
 * if a test failed or errored or a finding reached fail_on, else PASSED. */
enum rs_outcome rs_watch_verdict(const struct rs_watch *w, struct rs_verdict *out);
const char *rs_outcome_name(enum rs_outcome o);
/* The counts of one process's reports so far. 0, or -1 when it has no results registered. */
int rs_watch_process_verdict(const struct rs_watch *w, const char *process, struct rs_process_verdict *out);

#endif
