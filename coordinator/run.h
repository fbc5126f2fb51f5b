/*
 * run — `stagevisor run`: one stage on a backend, from start to verdict.
 *
 * Starts the ingest server and the agent (local backend), feeds the stream from HTTPS and
 * from the agent's fallback lines, shows progress, stops the agent on SIGINT/SIGTERM or the
 * time limit, then writes the JUnit and JSON reports and returns the exit code
 * (README.md, "Exit codes"). It owns everything it creates and frees it before returning.
 */
#ifndef SV_COORD_RUN_H
#define SV_COORD_RUN_H

int run_command(int argc, char **argv);
void run_usage(void);

#endif
