/*
 * junit — writes a stage's results as JUnit XML for the Jenkins junit plugin.
 *
 * Layout: <testsuites> with one <testsuite> per test suite (test events grouped by their
 * `suite`), one per analysis tool (findings as test cases named by their fingerprint: a
 * finding that fails the stage — its event's "fails" member, set by the agent from its results
 * entry's fail_on; without it, severity error and warning — is a <failure>, any other passes
 * with the message in <system-out>), and, only when there is one to report, a "stagevisor"
 * suite with one failing case per infrastructure problem (report.h; a failed process's last
 * output lines in the failure's text). There is no case for the stage itself: the counts are
 * the tools' own, so a red build's numbers in Jenkins match the tool's report. Text and attributes are escaped, and characters XML 1.0 forbids are dropped.
 * It does not read XML (expat does that elsewhere) or decide verdicts.
 */
#ifndef SV_COORD_JUNIT_H
#define SV_COORD_JUNIT_H

#include <stdio.h>

#include "report.h"
#include "stream.h"

/* Writes to path atomically (temp file + rename). 0 or -1 (errno kept). */
int junit_write_file(const char *path, const struct stream *s, const struct report *r);
int junit_write(FILE *out, const struct stream *s, const struct report *r);

/* Escaped XML text of s (attribute-safe) appended to out; invalid characters are dropped. */
void junit_escape(FILE *out, const char *s);

#endif
