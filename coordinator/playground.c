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
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "fgplay.h"
#include "local.h"
#include "placeholder.h"
#include "port.h"
#include "slug.h"
#include "speccheck.h"
#include "specfile.h"
#include "state.h"

#define PG_MARKER "@@stagevisor "
#define PG_UP_TIMEOUT_DEFAULT_S 300
#define PG_TAIL_LINES 20
#define PG_MAX_PORTS 16
#define PG_URL_MAX 1024
#define PG_FILE_MAX 240 /* <name> of <name>.json, .spec, .log: within NAME_MAX */

struct pg_options {
	const char *action, *backend, *spec, *name, *url, *agent, *state_dir;
	unsigned timeout_s;
	int port; /* 0: pick a free one */
	bool json;
};

void playground_usage(void)
{
	printf("usage: stagevisor playground up --backend local --spec FILE --name BRANCH [options]\n"
	       "       stagevisor playground down --name BRANCH [options]\n"
	       "       stagevisor playground list [--json] [options]\n"
	       "\n"
	       "up     gives the playground its own port (a free one, or --port), expands the spec's\n"
	       "       placeholders ${PORT} ${NAME} ${SLUG} ${HOST} ${URL}, starts the service-mode\n"
	       "       stage detached, waits until all its service processes report ready and its\n"
	       "       port is listened on by its own processes, prints its URL\n"
	       "       (http://SLUG.localhost:PORT/) and returns (exit 0; 3 when it fails to come up\n"
	       "       or its port is taken by something else)\n"
	       "down   asks the playground to stop (SIGTERM to the agent: its graceful teardown),\n"
	       "       waits for it (bounded), then forgets it and its port; nothing to stop is not\n"
	       "       an error\n"
	       "list   shows the recorded playgrounds: name, running or dead, pid, port, URL\n"
	       "\n"
	       "  --backend local     this machine (for --backend fargate: stagevisor playground\n"
	       "                      up --backend fargate --help)\n"
	       "  --spec FILE         the stage spec (mode \"service\")\n"
	       "  --name BRANCH       the playground's name, usually the branch\n"
	       "  --port N            up: use this port (${PORT}) instead of a free one; fails at once\n"
	       "                      when something already listens there\n"
	       "  --url URL           what to print as its URL (default http://SLUG.localhost:PORT/)\n"
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
	char base[PATH_MAX], file[3 * 256 + 1];

	if (o->state_dir)
		snprintf(base, sizeof base, "%s", o->state_dir);
	else if (state_default_dir(base, sizeof base)) {
		fprintf(stderr, "stagevisor playground: no state directory: set --state-dir, XDG_STATE_HOME or HOME\n");
		return -1;
	}
	if (snprintf(dir, dlen, "%s/playgrounds", base) >= (int)dlen) {
		fprintf(stderr, "stagevisor playground: --state-dir: path too long\n");
		return -1;
	}
	if (o->name) {
		/* Cut, two long names could share a file: refuse what does not fit a file name. */
		if (strlen(o->name) > 255 || (playground_file_name(o->name, file, sizeof file), strlen(file) > PG_FILE_MAX)) {
			fprintf(stderr, "stagevisor playground: --name: too long (at most %d bytes once every byte outside "
			                "[A-Za-z0-9._-] is written as %%XX)\n", PG_FILE_MAX);
			return -1;
		}
		if (snprintf(state, slen, "%s/%s.json", dir, file) >= (int)slen ||
		    snprintf(log, llen, "%s/%s.log", dir, file) >= (int)llen) {
			fprintf(stderr, "stagevisor playground: --state-dir: path too long\n");
			return -1;
		}
	}
	return 0;
}

/* "host:port" or "[v6]:port" (or no port: defport) into host and *port. 0 or -1. */
static int pg_hostport(const char *hp, size_t len, char *host, size_t hlen, int *port, int defport)
{
	const char *colon = NULL, *h = hp;
	size_t n = len;
	char num[8];

	if (len > 0 && hp[0] == '[') {
		const char *close = memchr(hp, ']', len);
		if (!close)
			return -1;
		h = hp + 1;
		n = (size_t)(close - h);
		if (close + 1 < hp + len) {
			if (close[1] != ':')
				return -1;
			colon = close + 1;
		}
	} else {
		for (size_t i = 0; i < len; i++)
			if (hp[i] == ':')
				colon = hp + i;
		if (colon)
			n = (size_t)(colon - hp);
	}
	if (n == 0 || n >= hlen)
		return -1;
	memcpy(host, h, n);
	host[n] = '\0';
	*port = defport;
	if (colon) {
		size_t l = len - (size_t)(colon + 1 - hp);
		char *end;
		long v;
		if (l == 0 || l >= sizeof num)
			return -1;
		memcpy(num, colon + 1, l);
		num[l] = '\0';
		v = strtol(num, &end, 10);
		if (*end || v < 1 || v > 65535)
			return -1;
		*port = (int)v;
	}
	return 0;
}

/* Whether a probe's host is this machine (where a playground's own server listens). */
static bool pg_local_host(const char *h)
{
	size_t n = strlen(h);

	return strncmp(h, "127.", 4) == 0 || strcmp(h, "localhost") == 0 || strcmp(h, "::1") == 0 ||
	       strcmp(h, "0.0.0.0") == 0 || strcmp(h, "::") == 0 ||
	       (n > 10 && strcmp(h + n - 10, ".localhost") == 0);
}

/* The ports of the service processes' tcp/http ready probes on this machine, appended to
 * ports[] (no duplicates, at most max). Returns the new count. */
static size_t pg_probe_ports(const char *spec_text, int *ports, size_t n, size_t max)
{
	json_t *doc = json_loads(spec_text, 0, NULL), *p;
	size_t i;

	json_array_foreach(json_object_get(doc, "processes"), i, p) {
		const char *role = json_string_value(json_object_get(p, "role"));
		json_t *probe = json_object_get(p, "ready");
		const char *tcp = json_string_value(json_object_get(probe, "tcp"));
		const char *http = json_string_value(json_object_get(probe, "http"));
		char host[256];
		int port = 0;
		bool dup = false;
		if (!role || strcmp(role, "service") != 0)
			continue;
		if (tcp && pg_hostport(tcp, strlen(tcp), host, sizeof host, &port, 0) == 0 && port > 0) {
			/* port from the probe */
		} else if (http && strncmp(http, "http://", 7) == 0) {
			const char *a = http + 7;
			if (pg_hostport(a, strcspn(a, "/?#"), host, sizeof host, &port, 80) != 0)
				port = 0;
		} else {
			port = 0;
		}
		if (port <= 0 || !pg_local_host(host))
			continue;
		for (size_t k = 0; k < n; k++)
			dup = dup || ports[k] == port;
		if (!dup && n < max)
			ports[n++] = port;
	}
	json_decref(doc);
	return n;
}

/* The ports recorded by every playground of the state directory (running or not). */
static size_t pg_recorded_ports(const char *dir, int *ports, size_t max)
{
	char path[PATH_MAX + 300];
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	while (d && (de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name), i;
		json_t *st, *v;
		if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		st = json_load_file(path, 0, NULL);
		json_array_foreach(json_object_get(st, "ports"), i, v)
			if (json_is_integer(v) && n < max)
				ports[n++] = (int)json_integer_value(v);
		if (json_is_integer(json_object_get(st, "port")) && n < max)
			ports[n++] = (int)json_integer_value(json_object_get(st, "port"));
		json_decref(st);
	}
	if (d)
		closedir(d);
	return n;
}

/* An exclusive lock on <dir>/.lock, so that two `up`s do not pick the same port: held from
 * the pick until the state file records it. The fd, or -1 (then we go on unlocked). */
static int pg_lock(const char *dir)
{
	char path[PATH_MAX + 16];
	int fd;

	snprintf(path, sizeof path, "%s/.lock", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0 && flock(fd, LOCK_EX) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* After ready: every port of the playground must be listened on by the agent's process tree.
 * 0, or -1 with why filled. */
static int pg_check_ports(pid_t agent, const int *ports, size_t nports, char *why, size_t len)
{
	for (size_t i = 0; i < nports; i++) {
		unsigned long inodes[PORT_MAX_LISTENERS];
		size_t n = port_listeners(ports[i], inodes, PORT_MAX_LISTENERS);
		char holder[300];
		int own;
		if (n == 0) {
			snprintf(why, len, "nothing listens on port %d any more", ports[i]);
			return -1;
		}
		own = port_owned_by_tree(inodes, n, agent, holder, sizeof holder);
		if (own == 0) {
			snprintf(why, len,
			         "port %d answered, but not from this playground: it is held by %s (the playground's "
			         "own server could not listen there)",
			         ports[i], holder);
			return -1;
		}
		if (own < 0)
			fprintf(stderr, "stagevisor playground up: note: cannot tell who listens on port %d (some "
			                "descriptors of the playground's processes are not readable); it was free before the "
			                "start\n", ports[i]);
	}
	return 0;
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
	char specpath[PATH_MAX + 300], e_stream[128], id[16], fname[256], slug[SLUG_MAX + 1], host[SLUG_MAX + 16];
	char portstr[8], urlbuf[SLUG_MAX + 64], holder[300];
	char e_pg[5][PG_URL_MAX + 64];
	char *e_spec = NULL, *text = NULL, *env[8];
	const char *url;
	struct pg_up u;
	struct local_spawn ls;
	struct event *tick = NULL, *sint = NULL, *sterm = NULL;
	json_t *st = NULL, *old = NULL, *jports = NULL;
	bool pidns = false, zombie;
	int rc = 3, lockfd = -1, port, ports[PG_MAX_PORTS], avoid[256];
	size_t nports = 0, navoid;
	unsigned used = 0;

	memset(&u, 0, sizeof u);
	u.logfd = -1;
	u.agent = -1;
	if (!o->spec || !o->name) {
		fprintf(stderr, "stagevisor playground up: --spec FILE and --name BRANCH are required\n");
		return 2;
	}
	if (!*o->name || slug_make(o->name, SLUG_MAX, slug, sizeof slug) != 0) {
		fprintf(stderr, "stagevisor playground up: --name: must not be empty\n");
		return 2;
	}
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
	/* The spec as the agent will get it, checked by the agent itself (speccheck.h) before
	 * anything starts or any state is written: a bad spec is the user's error (exit 2). The
	 * port is not chosen yet, so ${PORT} is expanded with a stand-in of the same form. */
	{
		char msg[SPECCHECK_OUTPUT_MAX], pstr[8], phost[SLUG_MAX + 16], purl[SLUG_MAX + 64];
		char *ptext;
		unsigned pused = 0;

		snprintf(pstr, sizeof pstr, "%d", o->port ? o->port : 20000);
		snprintf(phost, sizeof phost, "%s.localhost", slug);
		snprintf(purl, sizeof purl, "http://%s:%s/", phost, pstr);
		{
			const struct placeholder_var pvars[] = {{"PORT", pstr}, {"NAME", o->name}, {"SLUG", slug},
			                                        {"HOST", phost}, {"URL", o->url ? o->url : purl}};
			ptext = placeholder_expand_json(u.spec->text, pvars, 5, SPECFILE_MAX_BYTES, &pused, err, sizeof err);
		}
		if (!ptext) {
			fprintf(stderr, "stagevisor playground up: --spec %s: %s\n", o->spec, err);
			rc = 2;
			goto done;
		}
		if (speccheck_run(o->agent ? o->agent : local_default_agent(agentbuf, sizeof agentbuf), NULL,
		                  ptext, msg, sizeof msg) == SPECCHECK_INVALID) {
			fprintf(stderr, "stagevisor playground up: the stage spec %s is not valid; nothing was started:\n%s\n",
			        o->spec, msg);
			free(ptext);
			rc = 2;
			goto done;
		}
		free(ptext);
	}
	if (pg_paths(o, dir, sizeof dir, state, sizeof state, log, sizeof log)) {
		rc = 2;
		goto done;
	}
	if (state_mkdirs(dir) ||
	    snprintf(specpath, sizeof specpath, "%.*s.spec", (int)(strlen(state) - 5), state) >= (int)sizeof specpath) {
		fprintf(stderr, "stagevisor playground up: cannot use the state directory %s: %s\n", dir, strerror(errno));
		rc = 2;
		goto done;
	}
	/* The lock keeps two `up`s from picking the same port, or starting the same name twice,
	 * until the state file records the first. */
	lockfd = pg_lock(dir);
	old = json_load_file(state, 0, NULL);
	if (old && pg_alive(old)) {
		printf("%s\n", json_string_value(json_object_get(old, "url")) ? json_string_value(json_object_get(old, "url")) : "");
		fprintf(stderr, "stagevisor playground up: %s is already %s (pid %lld); `down` it first to restart it\n",
		        o->name, json_is_true(json_object_get(old, "ready")) ? "up" : "starting, not ready yet",
		        (long long)json_integer_value(json_object_get(old, "pid")));
		rc = 0;
		goto done;
	}

	/* The port: pinned, or a free one no other recorded playground has. */
	if (o->port) {
		port = o->port;
	} else {
		navoid = pg_recorded_ports(dir, avoid, sizeof avoid / sizeof avoid[0]);
		port = port_pick(avoid, navoid);
		if (port < 0) {
			fprintf(stderr, "stagevisor playground up: no free port on 127.0.0.1: %s\n", strerror(errno));
			goto done;
		}
	}
	snprintf(portstr, sizeof portstr, "%d", port);
	snprintf(host, sizeof host, "%s.localhost", slug);
	snprintf(urlbuf, sizeof urlbuf, "http://%s:%d/", host, port);
	for (int pass = 0; pass < 2; pass++) {
		const struct placeholder_var vars[] = {{"PORT", portstr}, {"NAME", o->name}, {"SLUG", slug},
		                                       {"HOST", host}, {"URL", o->url ? o->url : urlbuf}};
		used = 0;
		text = placeholder_expand_json(u.spec->text, vars, 5, SPECFILE_MAX_BYTES, &used, err, sizeof err);
		if (!text) {
			fprintf(stderr, "stagevisor playground up: --spec %s: %s\n", o->spec, err);
			rc = 2;
			goto done;
		}
		nports = 0;
		if (used & 1)
			ports[nports++] = port;
		else if (o->port) {
			fprintf(stderr, "stagevisor playground up: --port %d: the spec %s does not use ${PORT}, so the port "
			                "cannot be given to it (coordinator/README.md, \"Placeholders\")\n", port, o->spec);
			rc = 2;
			goto done;
		}
		nports = pg_probe_ports(text, ports, nports, PG_MAX_PORTS);
		if (pass == 1 || (used & 1) || nports == 0 || ports[0] == port)
			break;
		/* No ${PORT}: the server's port is the one its probe tests; expand ${URL} with it. */
		port = ports[0];
		snprintf(portstr, sizeof portstr, "%d", port);
		snprintf(urlbuf, sizeof urlbuf, "http://%s:%d/", host, port);
		fprintf(stderr, "stagevisor playground up: note: the spec does not use ${PORT}: it always listens on "
		                "port %d, so only one playground of it can run at a time\n", port);
		free(text);
		text = NULL;
	}
	free(u.spec->text);
	u.spec->text = text;
	text = NULL;
	url = o->url ? o->url : urlbuf;
	/* A port of the playground that something else holds would answer its probes: refuse. */
	for (size_t i = 0; i < nports; i++) {
		if (port_taken(ports[i], holder, sizeof holder)) {
			fprintf(stderr, "stagevisor playground up: port %d is already in use by %s: %s\n", ports[i], holder,
			        o->port && ports[i] == o->port ? "choose another --port, or leave it out to get a free one"
			                                       : "stop it, or let the spec listen on ${PORT}");
			goto done;
		}
	}

	u.ready = calloc(u.spec->nready + 1, sizeof *u.ready);
	u.logfd = open(log, O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if (u.logfd < 0 || !u.ready) {
		fprintf(stderr, "stagevisor playground up: %s: %s\n", log, strerror(errno));
		goto done;
	}
	{
		/* The spec as the agent gets it, placeholders expanded: for `stagevisor-agent --check`
		 * and for whoever reads the log. */
		FILE *f = fopen(specpath, "we");
		if (!f || fprintf(f, "%s\n", u.spec->text) < 0 || fclose(f) != 0) {
			fprintf(stderr, "stagevisor playground up: %s: %s\n", specpath, strerror(errno));
			goto done;
		}
	}
	e_spec = malloc(strlen(u.spec->text) + 32);
	if (!e_spec || local_random_hex(id, 8))
		goto done;
	sprintf(e_spec, "STAGEVISOR_SPEC=%s", u.spec->text);
	playground_file_name(o->name, fname, sizeof fname);
	/* The stream id only labels the fallback lines here: without STAGEVISOR_URL the agent runs
	 * on its own, as it must once `up` has returned and nobody listens. */
	snprintf(e_stream, sizeof e_stream, "STAGEVISOR_STREAM=pg-%.40s-%s", fname, id);
	for (char *p = e_stream + 18; *p; p++)
		if (*p == '%')
			*p = '_';
	snprintf(e_pg[0], sizeof e_pg[0], "STAGEVISOR_PLAYGROUND_PORT=%d", port);
	snprintf(e_pg[1], sizeof e_pg[1], "STAGEVISOR_PLAYGROUND_SLUG=%s", slug);
	snprintf(e_pg[2], sizeof e_pg[2], "STAGEVISOR_PLAYGROUND_HOST=%s", host);
	snprintf(e_pg[3], sizeof e_pg[3], "STAGEVISOR_PLAYGROUND_URL=%s", url);
	snprintf(e_pg[4], sizeof e_pg[4], "STAGEVISOR_PLAYGROUND_NAME=%s", o->name);
	env[0] = e_spec;
	env[1] = e_stream;
	for (int i = 0; i < 5; i++)
		env[2 + i] = e_pg[i];
	env[7] = NULL;
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
	jports = json_array();
	for (size_t i = 0; jports && i < nports; i++)
		json_array_append_new(jports, json_integer(ports[i]));
	st = json_pack("{s:i,s:s,s:s,s:I,s:I,s:s,s:s,s:s,s:s,s:s,s:i,s:b,s:b,s:s,s:s,s:i,s:o,s:s}", "version", 1,
	               "name", o->name, "backend", "local", "pid", (json_int_t)u.agent, "proc_start",
	               (json_int_t)pg_proc_start(u.agent, &zombie), "started", now, "url", url, "log", log, "spec",
	               o->spec, "stream", e_stream + 18, "stop_timeout_s", (int)u.spec->stop_timeout_s,
	               "pid_namespace", pidns, "ready", 0, "slug", slug, "host", host, "port", port, "ports", jports,
	               "expanded_spec", specpath);
	jports = NULL; /* stolen by "o", even on failure */
	if (!st || pg_write_state(state, st) != 0) {
		fprintf(stderr, "stagevisor playground up: %s: cannot write the state\n", state);
		kill(u.agent, SIGTERM);
		goto done;
	}
	if (lockfd >= 0) {
		close(lockfd);
		lockfd = -1;
	}
	printf("playground %s: agent pid %ld, port %d, output in %s; waiting for ready\n", o->name, (long)u.agent,
	       port, log);
	fflush(stdout);
	u.deadline_ms = state_now_ms() + (long long)(o->timeout_s ? o->timeout_s : PG_UP_TIMEOUT_DEFAULT_S) * 1000;
	{
		struct timeval tv = {0, 100000};
		event_add(tick, &tv);
	}
	event_base_dispatch(u.base);

	if (!u.failed && !u.interrupted_by && pg_up_ready(&u) &&
	    pg_check_ports(u.agent, ports, nports, u.why, sizeof u.why) != 0)
		u.failed = true;
	if (!u.failed && !u.interrupted_by && pg_up_ready(&u)) {
		json_object_set_new(st, "ready", json_true());
		pg_write_state(state, st);
		printf("playground %s is up: %s (served on 127.0.0.1:%d)\n", o->name, url, port);
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
	unlink(specpath);
	rc = u.interrupted_by ? 128 + u.interrupted_by : 3;
done:
	if (lockfd >= 0)
		close(lockfd);
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
	json_decref(jports);
	free(u.ready);
	free(e_spec);
	free(text);
	specfile_free(u.spec);
	return rc;
}

/* --- down ---------------------------------------------------------------------------- */

static int pg_down(const struct pg_options *o)
{
	char dir[PATH_MAX], state[PATH_MAX + 300], log[PATH_MAX + 300], specpath[PATH_MAX + 300];
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
	if (snprintf(specpath, sizeof specpath, "%.*s.spec", (int)(strlen(state) - 5), state) < (int)sizeof specpath)
		unlink(specpath); /* what `up` wrote next to the state: the expanded spec */
	{
		/* Its port is free again, unless something it started outlived it. */
		size_t i;
		json_t *v;
		char holder[300];
		json_array_foreach(json_object_get(st, "ports"), i, v) {
			int port = (int)json_integer_value(v);
			if (port > 0 && port_taken(port, holder, sizeof holder))
				fprintf(stderr, "stagevisor playground down: note: port %d is still in use by %s\n", port, holder);
		}
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
		printf("%-32s %-8s %-8s %-6s %-24s %s\n", "NAME", "STATUS", "PID", "PORT", "STARTED", "URL");
		json_array_foreach(all, i, st) {
			bool running = json_is_true(json_object_get(st, "running"));
			printf("%-32s %-8s %-8lld %-6lld %-24s %s\n", json_string_value(json_object_get(st, "name")),
			       running ? (json_is_true(json_object_get(st, "ready")) ? "running" : "starting") : "dead",
			       (long long)json_integer_value(json_object_get(st, "pid")),
			       (long long)json_integer_value(json_object_get(st, "port")),
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
	enum { O_BACKEND = 256, O_SPEC, O_NAME, O_URL, O_AGENT, O_STATE, O_TIMEOUT, O_JSON, O_PORT, O_HELP };
	static const struct option longopts[] = {
		{"backend", required_argument, NULL, O_BACKEND}, {"spec", required_argument, NULL, O_SPEC},
		{"name", required_argument, NULL, O_NAME}, {"url", required_argument, NULL, O_URL},
		{"agent", required_argument, NULL, O_AGENT}, {"state-dir", required_argument, NULL, O_STATE},
		{"timeout", required_argument, NULL, O_TIMEOUT}, {"json", no_argument, NULL, O_JSON},
		{"port", required_argument, NULL, O_PORT}, {"help", no_argument, NULL, O_HELP}, {NULL, 0, NULL, 0}};
	struct pg_options o = {0};
	int c;
	char *end;

	o.backend = "local";
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		playground_usage();
		return argc < 2 ? 2 : 0;
	}
	/* --backend fargate is its own command (fgplay.c): no local state, no ports. */
	for (int i = 2; i < argc; i++)
		if ((strcmp(argv[i], "--backend") == 0 && i + 1 < argc && strcmp(argv[i + 1], "fargate") == 0) ||
		    strcmp(argv[i], "--backend=fargate") == 0)
			return fgplay_command(argc, argv);
	o.action = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case O_BACKEND: o.backend = optarg; break;
		case O_SPEC: o.spec = optarg; break;
		case O_NAME: o.name = optarg; break;
		case O_URL:
			o.url = optarg;
			if (strlen(optarg) > PG_URL_MAX) {
				fprintf(stderr, "stagevisor playground: --url: longer than %d bytes\n", PG_URL_MAX);
				return 2;
			}
			break;
		case O_AGENT: o.agent = optarg; break;
		case O_STATE: o.state_dir = optarg; break;
		case O_JSON: o.json = true; break;
		case O_PORT: {
			long v = strtol(optarg, &end, 10);
			if (*end || end == optarg || v < 1 || v > 65535) {
				fprintf(stderr, "stagevisor playground: --port: expected a number 1-65535, got \"%s\"\n", optarg);
				return 2;
			}
			o.port = (int)v;
			break;
		}
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
		fprintf(stderr, "stagevisor playground: --backend %s: unknown (local or fargate)\n", o.backend);
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
