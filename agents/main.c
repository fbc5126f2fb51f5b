/*
 * stagevisor-agent — the ENTRYPOINT (PID 1) of every stage's container.
 *
 * main() is the table of contents: parse the command line, load and validate the stage spec,
 * set up the event sink and the supervisor, run the loop until the stage has ended, flush,
 * exit with the stage's result. The behaviour (log line formats, lifecycle events, exit codes)
 * is described in supervisor/README.md; the spec in agents/README.md.
 *
 * Exit codes: the stage's result (job mode: the first failed essential job's status, else 0;
 * service mode: 0 after a clean teardown); a status is an exit code, 128 + n for signal n,
 * 126 (cannot execute) or 127 (not found). When every process succeeded, the results decide
 * (results_glue.h): 1 when a test failed or a finding reached fail_on, 3 when a report is
 * missing or cannot be parsed. 125: the agent's own error (usage, bad spec, bad STAGEVISOR_*
 * variable), with a message on stderr that names the offending field or variable.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "events.h"
#include "spec.h"
#include "stage.h"
#include "supervisor.h"

#ifdef SV_HAVE_RESULTS
#include "parsecmd.h"
#include "results_glue.h"
#endif
#ifdef SV_HAVE_UPLINK
#include <dlfcn.h>
#include <limits.h>

#include "uplink_glue.h"
#endif

#define EXIT_AGENT_ERROR SPEC_EXIT_CONFIG /* 125 */

static const char usage_text[] =
	"usage: stagevisor-agent [--spec FILE | --default-spec FILE] [--check]\n"
	"       stagevisor-agent parse [--root DIR] [--tool NAME] FORMAT FILE...\n"
	"       stagevisor-agent --help | --version\n"
	"\n"
	"Runs the processes of one CI/CD stage as described by a stage spec (JSON; agents/README.md),\n"
	"as the container's PID 1: starts them in dependency order, probes readiness, restarts them\n"
	"with backoff, reaps every zombie, captures their output (\"NAME | line\"), stops them in\n"
	"reverse dependency order within the spec's stop_timeout, and exits with the stage's result.\n"
	"Lifecycle events are written to stdout as lines \"@@stagevisor {json}\" (protocol/PROTOCOL.md).\n"
	"\n"
	"options:\n"
	"  --spec FILE   read the stage spec from FILE; without it the spec is the inline JSON in\n"
	"                the environment variable STAGEVISOR_SPEC\n"
	"  --default-spec FILE\n"
	"                the spec when STAGEVISOR_SPEC is not set (an image's own spec: a task\n"
	"                definition's STAGEVISOR_SPEC replaces it)\n"
	"  --check       validate the spec, print \"ok\" (exit 0) or the error (exit 125), start nothing\n"
	"  --help        print this text and exit 0\n"
	"  --version     print the version and exit 0\n"
	"\n"
	"commands:\n"
	"  parse [--root DIR] [--tool NAME] FORMAT FILE...\n"
	"                         parse result reports (junit, teamcity, checkstyle, phpstan-json, pmd,\n"
	"                         pmd-cpd, phploc-json) and print their events as JSON lines\n"
	"\n"
	"environment:\n"
	"  STAGEVISOR_SPEC     the stage spec as inline JSON (when --spec is not given)\n"
	"  STAGEVISOR_STREAM   the stream id stamped on events (default \"local\")\n"
	"  STAGEVISOR_STOP_SIGNALS  signals that also mean teardown, added to the spec's\n"
	"                      stop_signals (\"SIGWINCH\"; commas or blanks between names): an\n"
	"                      image sets it to its STOPSIGNAL\n"
	"  STAGEVISOR_URL      https://host:port/ of the coordinator: stream the events there too\n"
	"                      (then also STAGEVISOR_TOKEN and STAGEVISOR_PIN or STAGEVISOR_CA_FILE;\n"
	"                      protocol/PROTOCOL.md)\n"
	"\n"
	"signals: SIGTERM, SIGINT, the spec's stop_signals and STAGEVISOR_STOP_SIGNALS stop the\n"
	"stage; SIGHUP, SIGUSR1 and SIGUSR2 are forwarded to every process group.\n"
	"\n"
	"exit status: job mode: the first failed essential job's status (its exit code, 128+n when\n"
	"killed by signal n, 126 not executable, 127 not found), else 0; service mode: 0 after a\n"
	"clean teardown, or the status of an essential process that failed. When every process\n"
	"succeeded, the results decide: 1 tests failed or findings reached fail_on, 3 a report is\n"
	"missing or cannot be parsed. 125: usage, spec or STAGEVISOR_* variable error.\n";

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "stagevisor-agent: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see stagevisor-agent --help)\n");
	return EXIT_AGENT_ERROR;
}

static int run_parse(int argc, char **argv)
{
#ifdef SV_HAVE_RESULTS
	return rs_parse_main(argc, argv);
#else
	(void)argc;
	(void)argv;
	fprintf(stderr, "stagevisor-agent: parse: not built into this agent\n");
	return EXIT_AGENT_ERROR;
#endif
}

/* The uplink lives in a module that is loaded only when STAGEVISOR_URL is set (uplink_glue.h):
 * without a coordinator the agent never maps OpenSSL. */
struct uplink_module {
	void *dl;
	struct uplink_glue *glue;
	void (*free_glue)(struct uplink_glue *ug);
};

static int uplink_start(struct uplink_module *m, struct event_base *base, struct stage *st, struct events *ev)
{
	const char *url = getenv("STAGEVISOR_URL");

	if (!url || !*url)
		return 0;
#ifdef SV_HAVE_UPLINK
	char path[PATH_MAX], err[512];
	ssize_t n = readlink("/proc/self/exe", path, sizeof path - sizeof UPLINK_GLUE_MODULE - 1);
	char *slash;
	uplink_glue_from_env_fn from_env;

	if (n <= 0) {
		fprintf(stderr, "stagevisor-agent: STAGEVISOR_URL: cannot find the uplink module: /proc/self/exe: %s\n",
			strerror(errno));
		return -1;
	}
	path[n] = '\0';
	slash = strrchr(path, '/');
	strcpy(slash ? slash + 1 : path, UPLINK_GLUE_MODULE); /* room reserved by readlink's bound */
	m->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!m->dl) {
		fprintf(stderr, "stagevisor-agent: STAGEVISOR_URL is set but the uplink module cannot be loaded: %s\n",
			dlerror());
		return -1;
	}
	from_env = (uplink_glue_from_env_fn)dlsym(m->dl, "uplink_glue_from_env");
	m->free_glue = (uplink_glue_free_fn)dlsym(m->dl, "uplink_glue_free");
	if (!from_env || !m->free_glue) {
		fprintf(stderr, "stagevisor-agent: %s: not the uplink module of this agent\n", path);
		return -1;
	}
	if (from_env(base, st, ev, &m->glue, err, sizeof err) < 0) {
		fprintf(stderr, "stagevisor-agent: %s\n", err);
		return -1;
	}
	return 0;
#else
	(void)m;
	(void)base;
	(void)st;
	(void)ev;
	fprintf(stderr, "stagevisor-agent: STAGEVISOR_URL is set but this agent was built without the uplink\n");
	return -1;
#endif
}

/* The module stays loaded until exit: OpenSSL registers exit handlers of its own. */
static void uplink_stop(struct uplink_module *m)
{
	if (m->glue)
		m->free_glue(m->glue);
	m->glue = NULL;
}

static struct spec_stage *load_spec(const char *path, const char *default_path)
{
	struct spec_error err;
	char msg[1024];
	struct spec_stage *spec;

	memset(&err, 0, sizeof err);
	if (!path && default_path) {
		const char *inline_json = getenv("STAGEVISOR_SPEC");
		if (!inline_json || !*inline_json)
			path = default_path;
	}
	if (path) {
		spec = spec_load_file(path, &err);
	} else {
		const char *inline_json = getenv("STAGEVISOR_SPEC");
		if (!inline_json || !*inline_json) {
			fprintf(stderr, "stagevisor-agent: no stage spec: give --spec FILE or set STAGEVISOR_SPEC\n");
			return NULL;
		}
		spec = spec_parse(inline_json, strlen(inline_json), &err);
	}
	if (!spec) {
		fprintf(stderr, "stagevisor-agent: %s%s\n", path ? "" : "STAGEVISOR_SPEC: ",
			spec_error_format(&err, msg, sizeof msg));
		return NULL;
	}
	/* The image's STOPSIGNAL (php's Apache images: SIGWINCH), set by the image itself, means
	 * teardown whatever spec it is given. */
	const char *extra = getenv("STAGEVISOR_STOP_SIGNALS");
	if (extra && spec_add_stop_signals(spec, extra, "STAGEVISOR_STOP_SIGNALS", &err) < 0) {
		fprintf(stderr, "stagevisor-agent: %s\n", spec_error_format(&err, msg, sizeof msg));
		spec_free(spec);
		return NULL;
	}
	return spec;
}

int main(int argc, char **argv)
{
	const char *spec_path = NULL, *default_spec = NULL;
	bool check = false;
	struct spec_stage *spec = NULL;
	struct event_base *base = NULL;
	struct events *events = NULL;
	struct stage *stage = NULL;
#ifdef SV_HAVE_RESULTS
	struct results_glue *results = NULL;
	bool results_failed = false;
#endif
	struct uplink_module uplink = { 0 };
	const char *stream;
	char err[512];
	int rc = EXIT_AGENT_ERROR;

	/* 1. The command line. */
	if (argc >= 2 && strcmp(argv[1], "parse") == 0)
		return run_parse(argc - 1, argv + 1);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(usage_text, stdout);
			return 0;
		} else if (strcmp(a, "--version") == 0) {
			printf("stagevisor-agent %s\n", SV_VERSION);
			return 0;
		} else if (strcmp(a, "--check") == 0) {
			check = true;
		} else if (strcmp(a, "--spec") == 0) {
			if (++i >= argc)
				return usage_error("--spec: missing FILE");
			spec_path = argv[i];
		} else if (strncmp(a, "--spec=", 7) == 0) {
			spec_path = a + 7;
		} else if (strcmp(a, "--default-spec") == 0) {
			if (++i >= argc)
				return usage_error("--default-spec: missing FILE");
			default_spec = argv[i];
		} else if (strncmp(a, "--default-spec=", 15) == 0) {
			default_spec = a + 15;
		} else {
			return usage_error("unknown argument \"%s\"", a);
		}
	}

	/* A missing stdin/stdout/stderr would make the next pipe or socket fd 0, 1 or 2. */
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			return EXIT_AGENT_ERROR;

	/* 2. The spec: everything is validated before anything starts. */
	if (spec_path && default_spec)
		return usage_error("--spec and --default-spec: give one of them");
	spec = load_spec(spec_path, default_spec);
	if (!spec)
		return EXIT_AGENT_ERROR;
	if (check) {
		puts("ok");
		spec_free(spec);
		return 0;
	}
	stream = getenv("STAGEVISOR_STREAM");
	if (!stream || !*stream)
		stream = "local";

	/* 3. The loop, the event sink and the supervisor. */
	signal(SIGPIPE, SIG_IGN); /* a closed stdout is an EPIPE, not our death; children get SIG_DFL */
	base = event_base_new();
	if (!base) {
		fprintf(stderr, "stagevisor-agent: cannot create the event loop\n");
		goto out;
	}
	events = events_new(stream);
	if (!events) {
		fprintf(stderr, "stagevisor-agent: STAGEVISOR_STREAM: \"%s\" is not a stream id ([A-Za-z0-9_.-]{1,64})\n", stream);
		goto out;
	}
	stage = stage_new(base, spec, events, err, sizeof err);
	if (!stage) {
		fprintf(stderr, "stagevisor-agent: %s\n", err);
		goto out;
	}

	/* 4. The results of the processes' reports, live (issue 3), and the HTTPS uplink. */
#ifdef SV_HAVE_RESULTS
	results = results_glue_new(base, stage, spec, events, &results_failed, err, sizeof err);
	if (results_failed) {
		fprintf(stderr, "stagevisor-agent: %s\n", err);
		goto out;
	}
#endif
	if (uplink_start(&uplink, base, stage, events) < 0)
		goto out;

	/* 5. Run until the stage has ended (stage.c breaks the loop), flush, exit. */
	if (stage_start(stage) < 0) {
		fprintf(stderr, "stagevisor-agent: cannot start: %s\n", strerror(errno));
		goto out;
	}
	/* stage.c breaks the loop when the stage has ended and no one holds it open. */
	while (!stage_finished(stage))
		if (event_base_dispatch(base) < 0)
			break;
	stage_flush(stage);
	rc = stage_done(stage) ? stage_result(stage) : EXIT_AGENT_ERROR;
out:
	uplink_stop(&uplink);
#ifdef SV_HAVE_RESULTS
	results_glue_free(results);
#endif
	stage_free(stage);
	events_free(events);
	if (base)
		event_base_free(base);
	spec_free(spec);
	return rc;
}
