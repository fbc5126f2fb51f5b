/* playground — see playground.h. */
#include "playground.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "local.h"
#include "speccheck.h"
#include "specfile.h"
#include "state.h"

#define PG_MARKER "@@stagevisor "
#define PG_UP_TIMEOUT_DEFAULT_S 300
#define PG_TAIL_LINES 20

struct pg_options {
	const char *action, *backend, *spec, *name, *url, *agent, *state_dir;
	unsigned timeout_s;
	bool json;
};

void playground_usage(void)
{
	printf("usage: stagevisor playground up --backend local --spec FILE --name BRANCH [options]\n"
	       "       stagevisor playground down --name BRANCH [options]\n"
	       "       stagevisor playground list [--json] [options]\n"
	       "\n"
	       "up     starts a service-mode stage detached, waits until all its service processes\n"
	       "       report ready, prints its URL and returns (exit 0; 3 when it fails to come up)\n"
	       "down   asks the playground to stop (SIGTERM to the agent: its graceful teardown),\n"
	       "       waits for it (bounded), then forgets it; nothing to stop is not an error\n"
	       "list   shows the recorded playgrounds: name, running or dead, pid, start, URL\n"
	       "\n"
	       "  --backend local     (only `local` exists so far)\n"
	       "  --spec FILE         the stage spec (mode \"service\")\n"
	       "  --name BRANCH       the playground's name, usually the branch\n"
	       "  --url URL           what to print as its URL (default: from a ready probe of the spec)\n"
	       "  --agent PATH        the agent binary (default: next to this program, then\n"
	       "                      ../agents/ of a build tree, then PATH)\n"
	       "  --timeout S         up: wait at most S s for ready (default 300);\n"
	       "                      down: wait at most S s for exit (default stop_timeout + 10)\n"
	       "  --state-dir DIR     default $XDG_STATE_HOME/stagevisor or ~/.local/state/stagevisor\n"
	       "  --json              list: JSON array instead of a table\n");
}

void playground_file_name(const char *name, char *buf, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)name; *p && o + 4 < len; p++) {
		bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		             *p == '_' || *p == '-' || (*p == '.' && o > 0);
		if (plain) {
			buf[o++] = (char)*p;
		} else {
			buf[o++] = '%';
			buf[o++] = hex[*p >> 4];
			buf[o++] = hex[*p & 15];
		}
	}
	buf[o] = '\0';
}

/* The start time of a process in clock ticks since boot (field 22 of /proc/PID/stat), or 0;
 * *zombie tells whether it is dead but not yet reaped. */
static unsigned long long pg_proc_start(pid_t pid, bool *zombie)
{
	char path[64], buf[1024];
	char *p;
	unsigned long long start = 0;
	FILE *f;
	size_t n;

	*zombie = false;
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the command name may contain anything */
	if (!p || p[1] != ' ')
		return 0;
	p += 2;
	*zombie = *p == 'Z' || *p == 'X';
	for (int field = 3; field < 22 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (p)
		start = strtoull(p, NULL, 10);
	return start;
}

static bool pg_alive(const json_t *st)
{
	pid_t pid = (pid_t)json_integer_value(json_object_get(st, "pid"));
	unsigned long long want = (unsigned long long)json_integer_value(json_object_get(st, "proc_start"));
	bool zombie;

	if (pid <= 0)
		return false;
	return pg_proc_start(pid, &zombie) == want && !zombie;
}

static int pg_paths(const struct pg_options *o, char *dir, size_t dlen, char *state, size_t slen, char *log,
                    size_t llen)
{
	char base[PATH_MAX], file[256];

	if (o->state_dir)
		snprintf(base, sizeof base, "%s", o->state_dir);
	else if (state_default_dir(base, sizeof base)) {
		fprintf(stderr, "stagevisor playground: no state directory: set --state-dir, XDG_STATE_HOME or HOME\n");
		return -1;
	}
	if (snprintf(dir, dlen, "%s/playgrounds", base) >= (int)dlen)
		return -1;
	if (o->name) {
		playground_file_name(o->name, file, sizeof file);
		if (snprintf(state, slen, "%s/%s.json", dir, file) >= (int)slen ||
		    snprintf(log, llen, "%s/%s.log", dir, file) >= (int)llen)
			return -1;
	}
	return 0;
}

/* The URL from the first service process's ready probe: an http(s) URL, or tcp host:port. */
static char *pg_url_from_spec(const char *spec_path)
{
	json_t *doc = json_load_file(spec_path, 0, NULL), *p, *probe;
	size_t i;
	char *url = NULL;

	json_array_foreach(json_object_get(doc, "processes"), i, p) {
		const char *role = json_string_value(json_object_get(p, "role"));
		const char *k;
		json_t *v;
		if (!role || strcmp(role, "service") != 0)
			continue;
		probe = json_object_get(p, "ready");
		json_object_foreach(probe, k, v) {
			const char *s = json_string_value(v);
			if (!s)
				continue;
			if (strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0) {
				url = strdup(s);
				goto done;
			}
			if (strcmp(k, "tcp") == 0 && strchr(s, ':')) {
				size_t n = strlen(s) + 16;
				url = malloc(n);
				if (url)
					snprintf(url, n, "http://%s/", s);
				goto done;
			}
		}
	}
done:
	json_decref(doc);
	return url;
}

/* --- up ------------------------------------------------------------------------------ */

struct pg_up {
	struct event_base *base;
	struct specfile *spec;
	pid_t agent;
	int logfd;
	off_t offset;
	char pending[65536];
	size_t npending;
	bool *ready;
	bool started, failed, done;
	int interrupted_by;
	char why[512];
	long long deadline_ms;
};

static void pg_up_event(struct pg_up *u, const json_t *ev)
{
	const char *type = json_string_value(json_object_get(ev, "type"));
	const char *what = json_string_value(json_object_get(ev, "event"));
	const char *proc = json_string_value(json_object_get(ev, "process"));

	if (!type || !what)
		return;
	if (strcmp(type, "stage") == 0 && strcmp(what, "started") == 0)
		u->started = true;
	if (strcmp(type, "stage") == 0 && strcmp(what, "started") != 0 && !u->failed) {
		u->failed = true;
		snprintf(u->why, sizeof u->why, "the stage is %s before it was ready", what);
	}
	if (strcmp(type, "process") == 0 && proc) {
		if (strcmp(what, "ready") == 0) {
			for (size_t i = 0; i < u->spec->nready; i++)
				if (strcmp(u->spec->ready_procs[i], proc) == 0)
					u->ready[i] = true;
		} else if (strcmp(what, "failed") == 0 && !u->failed) {
			const char *reason = json_string_value(json_object_get(ev, "reason"));
			u->failed = true;
			snprintf(u->why, sizeof u->why, "process %s failed: %s", proc, reason ? reason : "");
		}
	}
}

static bool pg_up_ready(const struct pg_up *u)
{
	if (!u->started)
		return false;
	for (size_t i = 0; i < u->spec->nready; i++)
		if (!u->ready[i])
			return false;
	return true;
}

/* Reads what the agent appended to its log and looks at the fallback lines. */
static void pg_up_scan(struct pg_up *u)
{
	ssize_t n;

	for (;;) {
		n = pread(u->logfd, u->pending + u->npending, sizeof u->pending - u->npending, u->offset);
		if (n <= 0)
			break;
		u->offset += n;
		u->npending += (size_t)n;
		char *start = u->pending, *nl;
		while ((nl = memchr(start, '\n', u->npending - (size_t)(start - u->pending))) != NULL) {
			size_t len = (size_t)(nl - start);
			if (len > sizeof PG_MARKER - 1 && memcmp(start, PG_MARKER, sizeof PG_MARKER - 1) == 0) {
				json_t *ev = json_loadb(start + sizeof PG_MARKER - 1, len - (sizeof PG_MARKER - 1), 0, NULL);
				if (ev)
					pg_up_event(u, ev);
				json_decref(ev);
			}
			start = nl + 1;
		}
		u->npending -= (size_t)(start - u->pending);
		memmove(u->pending, start, u->npending);
		if (u->npending == sizeof u->pending)
			u->npending = 0; /* a line longer than the buffer is not a fallback line we need */
	}
}

static void pg_on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct pg_up *u = arg;
	int status;

	(void)fd;
	(void)what;
	pg_up_scan(u);
	if (waitpid(u->agent, &status, WNOHANG) == u->agent) {
		pg_up_scan(u);
		if (!u->failed) {
			u->failed = true;
			if (WIFEXITED(status))
				snprintf(u->why, sizeof u->why, "the agent exited with %d before the stage was ready",
				         WEXITSTATUS(status));
			else
				snprintf(u->why, sizeof u->why, "the agent was killed by signal %d before the stage was ready",
				         WTERMSIG(status));
		}
		u->agent = -1;
	}
	if (u->failed || pg_up_ready(u) || state_now_ms() > u->deadline_ms)
		event_base_loopbreak(u->base);
}

static void pg_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct pg_up *u = arg;

	(void)what;
	u->interrupted_by = (int)sig;
	event_base_loopbreak(u->base);
}

static int pg_write_state(const char *path, json_t *st)
{
	char tmp[PATH_MAX + 16];

	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
		return -1;
	if (json_dump_file(st, tmp, JSON_INDENT(2) | JSON_SORT_KEYS) != 0)
		return -1;
	return rename(tmp, path);
}

static void pg_print_tail(const char *log)
{
	char *text = local_read_file(log, 1u << 20, NULL);
	const char *p;
	int lines = 0;

	if (!text) {
		fprintf(stderr, "  (no output in %s)\n", log);
		return;
	}
	p = text + strlen(text);
	while (p > text && lines <= PG_TAIL_LINES) {
		p--;
		if (*p == '\n')
			lines++;
	}
	fprintf(stderr, "last lines of %s:\n%s", log, p == text ? p : p + 1);
	free(text);
}

/* Waits (bounded) for a process that is not our child to be gone. */
static bool pg_wait_gone(const json_t *st, unsigned timeout_s)
{
	long long deadline = state_now_ms() + (long long)timeout_s * 1000;
	struct timespec tick = {0, 50 * 1000000};

	while (pg_alive(st)) {
		if (state_now_ms() > deadline)
			return false;
		nanosleep(&tick, NULL);
	}
	return true;
}

static int pg_up(const struct pg_options *o)
{
	char dir[PATH_MAX], state[PATH_MAX + 300], log[PATH_MAX + 300], err[512], agentbuf[PATH_MAX], now[40];
	char e_spec_hdr[] = "STAGEVISOR_SPEC=", e_stream[128], id[16], fname[256];
	char *e_spec = NULL, *url = NULL, *env[4];
	struct pg_up u;
	struct local_spawn ls;
	struct event *tick = NULL, *sint = NULL, *sterm = NULL;
	json_t *st = NULL, *old = NULL;
	bool pidns = false, zombie;
	int rc = 3;

	memset(&u, 0, sizeof u);
	u.logfd = -1;
	u.agent = -1;
	if (!o->spec || !o->name) {
		fprintf(stderr, "stagevisor playground up: --spec FILE and --name BRANCH are required\n");
		return 2;
	}
	/* The spec is checked by the agent before anything starts (speccheck.h). */
	if (speccheck_file(o->agent ? o->agent : local_default_agent(agentbuf, sizeof agentbuf), o->spec,
	                   "stagevisor playground up") != 0)
		return 2;
	u.spec = specfile_load(o->spec, err, sizeof err);
	if (!u.spec) {
		fprintf(stderr, "stagevisor playground up: --spec %s\n", err);
		return 2;
	}
	if (!u.spec->service) {
		fprintf(stderr, "stagevisor playground up: %s: a playground needs \"mode\": \"service\"\n", o->spec);
		rc = 2;
		goto done;
	}
	if (pg_paths(o, dir, sizeof dir, state, sizeof state, log, sizeof log) || state_mkdirs(dir)) {
		fprintf(stderr, "stagevisor playground up: cannot use the state directory %s\n", dir);
		rc = 2;
		goto done;
	}
	old = json_load_file(state, 0, NULL);
	if (old && pg_alive(old)) {
		printf("%s\n", json_string_value(json_object_get(old, "url")) ? json_string_value(json_object_get(old, "url")) : "");
		fprintf(stderr, "stagevisor playground up: %s is already up (pid %lld); `down` it first to restart it\n",
		        o->name, (long long)json_integer_value(json_object_get(old, "pid")));
		rc = 0;
		goto done;
	}
	url = o->url ? strdup(o->url) : pg_url_from_spec(o->spec);
	u.ready = calloc(u.spec->nready + 1, sizeof *u.ready);
	u.logfd = open(log, O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if (u.logfd < 0 || !u.ready) {
		fprintf(stderr, "stagevisor playground up: %s: %s\n", log, strerror(errno));
		goto done;
	}
	e_spec = malloc(strlen(u.spec->text) + sizeof e_spec_hdr);
	if (!e_spec || local_random_hex(id, 8))
		goto done;
	sprintf(e_spec, "%s%s", e_spec_hdr, u.spec->text);
	playground_file_name(o->name, fname, sizeof fname);
	/* The stream id only labels the fallback lines here: without STAGEVISOR_URL the agent runs
	 * on its own, as it must once `up` has returned and nobody listens. */
	snprintf(e_stream, sizeof e_stream, "STAGEVISOR_STREAM=pg-%.40s-%s", fname, id);
	for (char *p = e_stream + 18; *p; p++)
		if (*p == '%')
			*p = '_';
	env[0] = e_spec;
	env[1] = e_stream;
	env[2] = NULL;
	ls.agent = o->agent ? o->agent : local_default_agent(agentbuf, sizeof agentbuf);
	ls.env = env;
	ls.stdout_fd = u.logfd;
	ls.detach = true;
	ls.pidns = true;

	u.base = event_base_new();
	if (!u.base)
		goto done;
	sint = evsignal_new(u.base, SIGINT, pg_on_signal, &u);
	sterm = evsignal_new(u.base, SIGTERM, pg_on_signal, &u);
	tick = event_new(u.base, -1, EV_PERSIST, pg_on_tick, &u);
	if (!sint || !sterm || !tick || evsignal_add(sint, NULL) || evsignal_add(sterm, NULL))
		goto done;

	u.agent = local_start(&ls, NULL, &pidns, err, sizeof err);
	if (u.agent < 0) {
		fprintf(stderr, "stagevisor playground up: cannot start the agent: %s\n", err);
		goto done;
	}
	/* Recorded before waiting, so that `down` can stop it even if this command dies. */
	state_utc_now(now, sizeof now);
	st = json_pack("{s:i,s:s,s:s,s:I,s:I,s:s,s:s,s:s,s:s,s:s,s:i,s:b,s:b}", "version", 1, "name", o->name,
	               "backend", "local", "pid", (json_int_t)u.agent,
	               "proc_start", (json_int_t)pg_proc_start(u.agent, &zombie), "started", now, "url",
	               url ? url : "", "log", log, "spec", o->spec, "stream", e_stream + 18, "stop_timeout_s",
	               (int)u.spec->stop_timeout_s, "pid_namespace", pidns, "ready", 0);
	if (!st || pg_write_state(state, st) != 0) {
		fprintf(stderr, "stagevisor playground up: %s: cannot write the state\n", state);
		kill(u.agent, SIGTERM);
		goto done;
	}
	printf("playground %s: agent pid %ld, output in %s; waiting for ready\n", o->name, (long)u.agent, log);
	fflush(stdout);
	u.deadline_ms = state_now_ms() + (long long)(o->timeout_s ? o->timeout_s : PG_UP_TIMEOUT_DEFAULT_S) * 1000;
	{
		struct timeval tv = {0, 100000};
		event_add(tick, &tv);
	}
	event_base_dispatch(u.base);

	if (!u.failed && !u.interrupted_by && pg_up_ready(&u)) {
		json_object_set_new(st, "ready", json_true());
		pg_write_state(state, st);
		printf("playground %s is up: %s\n", o->name, url ? url : "(no URL: give --url)");
		if (url)
			printf("%s\n", url);
		rc = 0;
		goto done;
	}
	if (u.interrupted_by)
		fprintf(stderr, "stagevisor playground up: interrupted; stopping %s\n", o->name);
	else if (u.failed)
		fprintf(stderr, "stagevisor playground up: %s did not come up: %s\n", o->name, u.why);
	else
		fprintf(stderr, "stagevisor playground up: %s was not ready within %u s\n", o->name,
		        o->timeout_s ? o->timeout_s : PG_UP_TIMEOUT_DEFAULT_S);
	pg_print_tail(log);
	if (u.agent > 0) {
		kill(u.agent, SIGTERM);
		for (long long end = state_now_ms() + (long long)(u.spec->stop_timeout_s + 10) * 1000;
		     state_now_ms() < end && waitpid(u.agent, NULL, WNOHANG) == 0;) {
			struct timespec t = {0, 50 * 1000000};
			nanosleep(&t, NULL);
		}
		if (waitpid(u.agent, NULL, WNOHANG) == 0) {
			kill(-u.agent, SIGKILL);
			kill(u.agent, SIGKILL);
			waitpid(u.agent, NULL, 0);
		}
	}
	unlink(state);
	rc = u.interrupted_by ? 128 + u.interrupted_by : 3;
done:
	if (tick)
		event_free(tick);
	if (sint)
		event_free(sint);
	if (sterm)
		event_free(sterm);
	if (u.base)
		event_base_free(u.base);
	if (u.logfd >= 0)
		close(u.logfd);
	json_decref(st);
	json_decref(old);
	free(u.ready);
	free(e_spec);
	free(url);
	specfile_free(u.spec);
	return rc;
}

/* --- down ---------------------------------------------------------------------------- */

static int pg_down(const struct pg_options *o)
{
	char dir[PATH_MAX], state[PATH_MAX + 300], log[PATH_MAX + 300];
	json_t *st;
	pid_t pid;
	unsigned timeout;
	int rc = 0;

	if (!o->name) {
		fprintf(stderr, "stagevisor playground down: --name BRANCH is required\n");
		return 2;
	}
	if (pg_paths(o, dir, sizeof dir, state, sizeof state, log, sizeof log))
		return 2;
	st = json_load_file(state, 0, NULL);
	if (!st) {
		printf("playground %s: not recorded, nothing to stop\n", o->name);
		return 0;
	}
	pid = (pid_t)json_integer_value(json_object_get(st, "pid"));
	timeout = o->timeout_s ? o->timeout_s : (unsigned)json_integer_value(json_object_get(st, "stop_timeout_s")) + 10;
	if (pg_alive(st)) {
		printf("playground %s: stopping agent pid %ld (up to %u s)\n", o->name, (long)pid, timeout);
		fflush(stdout);
		kill(pid, SIGTERM);
		if (!pg_wait_gone(st, timeout)) {
			fprintf(stderr, "stagevisor playground down: %s did not stop within %u s: killed\n", o->name, timeout);
			kill(-pid, SIGKILL); /* its session's process group */
			kill(pid, SIGKILL);
			pg_wait_gone(st, 5);
			rc = 3;
		}
	} else {
		printf("playground %s: was not running\n", o->name);
	}
	if (unlink(state) != 0 && errno != ENOENT) {
		fprintf(stderr, "stagevisor playground down: %s: %s\n", state, strerror(errno));
		rc = 3;
	}
	if (rc == 0)
		printf("playground %s is down\n", o->name);
	json_decref(st);
	return rc;
}

/* --- list ---------------------------------------------------------------------------- */

static int pg_list(const struct pg_options *o)
{
	char dir[PATH_MAX], path[PATH_MAX + 300];
	DIR *d;
	struct dirent *de;
	json_t *all = json_array();

	if (pg_paths(o, dir, sizeof dir, NULL, 0, NULL, 0))
		return 2;
	d = opendir(dir);
	while (d && (de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		json_t *st;
		if (n < 6 || strcmp(de->d_name + n - 5, ".json") != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		st = json_load_file(path, 0, NULL);
		if (!json_is_object(st)) {
			json_decref(st);
			continue;
		}
		json_object_set_new(st, "running", json_boolean(pg_alive(st)));
		json_object_set_new(st, "state_file", json_string(path));
		json_array_append_new(all, st);
	}
	if (d)
		closedir(d);
	if (o->json) {
		json_dumpf(all, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		printf("\n");
	} else if (json_array_size(all) == 0) {
		printf("no playgrounds recorded in %s\n", dir);
	} else {
		size_t i;
		json_t *st;
		printf("%-32s %-8s %-8s %-24s %s\n", "NAME", "STATUS", "PID", "STARTED", "URL");
		json_array_foreach(all, i, st) {
			bool running = json_is_true(json_object_get(st, "running"));
			printf("%-32s %-8s %-8lld %-24s %s\n", json_string_value(json_object_get(st, "name")),
			       running ? (json_is_true(json_object_get(st, "ready")) ? "running" : "starting") : "dead",
			       (long long)json_integer_value(json_object_get(st, "pid")),
			       json_string_value(json_object_get(st, "started")) ?
			           json_string_value(json_object_get(st, "started")) : "",
			       json_string_value(json_object_get(st, "url")) ? json_string_value(json_object_get(st, "url")) : "");
		}
	}
	json_decref(all);
	return 0;
}

int playground_command(int argc, char **argv)
{
	enum { O_BACKEND = 256, O_SPEC, O_NAME, O_URL, O_AGENT, O_STATE, O_TIMEOUT, O_JSON, O_HELP };
	static const struct option longopts[] = {
		{"backend", required_argument, NULL, O_BACKEND}, {"spec", required_argument, NULL, O_SPEC},
		{"name", required_argument, NULL, O_NAME}, {"url", required_argument, NULL, O_URL},
		{"agent", required_argument, NULL, O_AGENT}, {"state-dir", required_argument, NULL, O_STATE},
		{"timeout", required_argument, NULL, O_TIMEOUT}, {"json", no_argument, NULL, O_JSON},
		{"help", no_argument, NULL, O_HELP}, {NULL, 0, NULL, 0}};
	struct pg_options o = {0};
	int c;
	char *end;

	o.backend = "local";
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		playground_usage();
		return argc < 2 ? 2 : 0;
	}
	o.action = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case O_BACKEND: o.backend = optarg; break;
		case O_SPEC: o.spec = optarg; break;
		case O_NAME: o.name = optarg; break;
		case O_URL: o.url = optarg; break;
		case O_AGENT: o.agent = optarg; break;
		case O_STATE: o.state_dir = optarg; break;
		case O_JSON: o.json = true; break;
		case O_TIMEOUT:
			o.timeout_s = (unsigned)strtoul(optarg, &end, 10);
			if (*end || end == optarg) {
				fprintf(stderr, "stagevisor playground: --timeout: not a number: %s\n", optarg);
				return 2;
			}
			break;
		case 'h':
		case O_HELP: playground_usage(); return 0;
		default: return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "stagevisor playground: unexpected argument: %s\n", argv[optind]);
		return 2;
	}
	if (strcmp(o.backend, "local") != 0) {
		fprintf(stderr, "stagevisor playground: --backend %s: not yet available (only `local` exists)\n", o.backend);
		return 2;
	}
	if (strcmp(o.action, "up") == 0)
		return pg_up(&o);
	if (strcmp(o.action, "down") == 0)
		return pg_down(&o);
	if (strcmp(o.action, "list") == 0)
		return pg_list(&o);
	fprintf(stderr, "stagevisor playground: unknown action %s (up, down, list)\n", o.action);
	return 2;
}
