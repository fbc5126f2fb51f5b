/*
 * stagevisor — the coordinator CLI. main() is the table of contents: look up the command,
 * hand it the rest of the arguments, return its exit code (README.md, "Exit codes").
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "awscmd.h"
#include "hooks.h"
#include "playground.h"
#include "run.h"
#include "teardown.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv); /* NULL: designed (DESIGN.md) but not built yet */
	const char *summary;
};

static const struct command commands[] = {
	{"run", run_command, "run one stage on a backend, with live progress and reports"},
	{"playground", playground_command, "playground up|down|list: long-lived service stages per branch"},
	{"teardown", teardown_command, "stop expired playgrounds and orphaned Fargate tasks, delete their DNS records"},
	{"cleanup", NULL, "delete used images and old task definitions"},
	{"hooks", hooks_command, "run a codebase's devops_hooks scripts in order"},
	{"aws", awscmd_command, "one signed AWS API call, for debugging"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: stagevisor COMMAND [options]   (stagevisor COMMAND --help for its options)\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (commands[i].fn)
			fprintf(out, "  %-11s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nnot yet available:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!commands[i].fn)
			fprintf(out, "  %-11s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nexit codes: 0 passed, 1 tests or checks failed, 2 usage error, 3 infrastructure error\n");
}

/* As many descriptors as we may: each agent connection and idle client costs one, and the
 * ingest server's connection bound must be what limits them, not EMFILE. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("stagevisor %s\n", SV_VERSION);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN); /* a peer closing a TLS connection is an event, not a death */
	raise_fd_limit();
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (strcmp(argv[1], commands[i].name) != 0)
			continue;
		if (!commands[i].fn) {
			fprintf(stderr, "stagevisor %s: not yet available in this version\n", commands[i].name);
			return 2;
		}
		return commands[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "stagevisor: unknown command %s\n", argv[1]);
	usage(stderr);
	return 2;
}
