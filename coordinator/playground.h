/*
 * playground — `stagevisor playground up|down|list`: long-lived service-mode stages, one per
 * branch name, that outlive the command that started them.
 *
 * `up` gives the playground its own port (port.c: free, or pinned and checked free) and name
 * (slug.c), expands the spec's placeholders (placeholder.c), starts the agent detached (own
 * session, output to a log file in the state directory), waits until every service process of
 * the stage reports ready on the agent's fallback lines and its port is listened on by the
 * agent's own process tree, prints the URL (http://<slug>.localhost:<port>/) and returns; `list` shows the recorded playgrounds and whether they still run;
 * `down` asks the agent to tear down (SIGTERM), waits within a bound, and forgets it.
 * State: one JSON file per playground in <state-dir>/playgrounds/ (README.md, "State directory").
 * It does not publish DNS names: `--backend fargate` is handed to fgplay.c (Route 53 names).
 */
#ifndef SV_COORD_PLAYGROUND_H
#define SV_COORD_PLAYGROUND_H

#include <stddef.h>

int playground_command(int argc, char **argv);
void playground_usage(void);

/* A branch name as a file name: [A-Za-z0-9._-] kept, everything else '_'; bounded. */
void playground_file_name(const char *name, char *buf, size_t len);

#endif
