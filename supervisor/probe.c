/* probe — see probe.h. */
#include "probe.h"

#include <errno.h>
#include <netdb.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "spawn.h"

#define PROBE_MIN_ATTEMPT_MS 1000u
#define PROBE_REPLY_MAX 256

struct probe {
	struct event_base *base;
	struct probe_config cfg;
	char host[256], port[16], path[1024];
	regex_t re;
	bool have_re;
	probe_done_fn done;
	void *arg;
	bool running;
	struct event *deadline;  /* whole probe */
	struct event *next;      /* next attempt */
	struct event *io;        /* the attempt's socket */
	int fd;
	pid_t child;
	bool sent;               /* http: request written */
	char reply[PROBE_REPLY_MAX];
	size_t reply_len;
	char why[256];
};

static void probe_attempt(struct probe *p);
static void probe_on_io(evutil_socket_t fd, short what, void *arg);

static void close_attempt(struct probe *p)
{
	if (p->io) {
		event_free(p->io);
		p->io = NULL;
	}
	if (p->fd >= 0) {
		close(p->fd);
		p->fd = -1;
	}
	p->sent = false;
	p->reply_len = 0;
}

static void finish(struct probe *p, bool ready, const char *why)
{
	if (!p->running)
		return;
	p->running = false;
	close_attempt(p);
	evtimer_del(p->deadline);
	evtimer_del(p->next);
	if (p->child > 0)
		kill(-p->child, SIGTERM);
	p->done(p->arg, ready, why);
}

/* One attempt failed: try again after the interval (the deadline timer ends it all). */
static void attempt_failed(struct probe *p, const char *why)
{
	struct timeval tv = { p->cfg.interval_ms / 1000, (p->cfg.interval_ms % 1000) * 1000 };

	snprintf(p->why, sizeof p->why, "%.*s", (int)sizeof p->why - 1, why); /* cut, not overflow */
	close_attempt(p);
	evtimer_add(p->next, &tv);
}

static void probe_on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;
	char why[400];

	snprintf(why, sizeof why, "not ready within %u ms%s%s", p->cfg.timeout_ms,
		 p->why[0] ? ": " : "", p->why);
	finish(p, false, why);
}

static void probe_on_next(evutil_socket_t fd, short what, void *arg)
{
	probe_attempt(arg);
}

bool probe_status_ok(const char *line, size_t len)
{
	/* "HTTP/1.x 2dd" */
	if (len < 12 || memcmp(line, "HTTP/", 5) != 0)
		return false;
	const char *sp = memchr(line, ' ', len);
	if (!sp || (size_t)(sp - line) + 4 > len)
		return false;
	return sp[1] == '2' && sp[2] >= '0' && sp[2] <= '9' && sp[3] >= '0' && sp[3] <= '9';
}

static void handle_io(struct probe *p, short what)
{
	if (what & EV_TIMEOUT) {
		attempt_failed(p, "attempt timed out");
		return;
	}
	if (!p->sent) {
		int err = 0;
		socklen_t len = sizeof err;
		if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err != 0) {
			char why[300];
			snprintf(why, sizeof why, "connect %s:%s: %s", p->host, p->port, strerror(err));
			attempt_failed(p, why);
			return;
		}
		if (p->cfg.kind == PROBE_TCP) {
			finish(p, true, "connected");
			return;
		}
		char req[1400];
		int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: stagevisor-agent\r\n"
				 "Connection: close\r\n\r\n", p->path, p->host);
		/* A fresh socket's send buffer takes a request this small whole. */
		if (n < 0 || (size_t)n >= sizeof req || send(p->fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
			attempt_failed(p, "could not send the request");
			return;
		}
		p->sent = true;
		struct timeval tv = { (p->cfg.interval_ms > PROBE_MIN_ATTEMPT_MS ? p->cfg.interval_ms : PROBE_MIN_ATTEMPT_MS) / 1000, 0 };
		event_free(p->io);
		p->io = event_new(p->base, p->fd, EV_READ | EV_PERSIST, probe_on_io, p);
		if (!p->io || event_add(p->io, &tv) < 0)
			attempt_failed(p, "no memory");
		return;
	}
	ssize_t n = read(p->fd, p->reply + p->reply_len, sizeof p->reply - 1 - p->reply_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		p->reply_len += (size_t)n;
	char *eol = memchr(p->reply, '\n', p->reply_len);
	if (eol || n <= 0 || p->reply_len == sizeof p->reply - 1) {
		size_t len = eol ? (size_t)(eol - p->reply) : p->reply_len;
		if (probe_status_ok(p->reply, len)) {
			finish(p, true, "http 2xx");
		} else {
			char why[300];
			while (len > 0 && (p->reply[len - 1] == '\r'))
				len--;
			snprintf(why, sizeof why, "http answer \"%.*s\"", (int)(len > 100 ? 100 : len), p->reply);
			attempt_failed(p, why);
		}
	}
}

static void probe_on_io(evutil_socket_t fd, short what, void *arg)
{
	handle_io(arg, what);
}

static void attempt_connect(struct probe *p)
{
	struct addrinfo hints, *res = NULL;
	int rc;
	char why[300];

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	rc = getaddrinfo(p->host, p->port, &hints, &res);
	if (rc == EAI_NONAME) {
		hints.ai_flags = AI_NUMERICSERV;
		rc = getaddrinfo(p->host, p->port, &hints, &res);
	}
	if (rc != 0 || !res) {
		snprintf(why, sizeof why, "resolve %s:%s: %s", p->host, p->port, gai_strerror(rc));
		attempt_failed(p, why);
		return;
	}
	p->fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0) {
		freeaddrinfo(res);
		attempt_failed(p, "socket failed");
		return;
	}
	rc = connect(p->fd, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	if (rc < 0 && errno != EINPROGRESS) {
		snprintf(why, sizeof why, "connect %s:%s: %s", p->host, p->port, strerror(errno));
		attempt_failed(p, why);
		return;
	}
	unsigned ms = p->cfg.interval_ms > PROBE_MIN_ATTEMPT_MS ? p->cfg.interval_ms : PROBE_MIN_ATTEMPT_MS;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	p->io = event_new(p->base, p->fd, EV_WRITE, probe_on_io, p);
	if (!p->io || event_add(p->io, &tv) < 0)
		attempt_failed(p, "no memory");
}

static void attempt_exec(struct probe *p)
{
	struct spawn_request req = { p->cfg.argv, NULL, NULL, -1, -1, -1 };
	struct spawn_result res;
	char why[300];

	if (p->child > 0)
		return; /* the previous attempt still runs: its exit decides */
	if (spawn_process(&req, &res) < 0) {
		snprintf(why, sizeof why, "exec probe: fork: %s", strerror(errno));
		attempt_failed(p, why);
		return;
	}
	p->child = res.pid;
}

static void probe_attempt(struct probe *p)
{
	if (!p->running)
		return;
	switch (p->cfg.kind) {
	case PROBE_TCP:
	case PROBE_HTTP:
		attempt_connect(p);
		break;
	case PROBE_EXEC:
		attempt_exec(p);
		break;
	default:
		break;
	}
}

int probe_parse_url(const char *url, char *host, size_t hsize, char *port, size_t psize, char *path, size_t pathsize)
{
	const char *p, *hend, *pstart = NULL;
	size_t hl;

	if (strncmp(url, "http://", 7) != 0)
		return -1;
	p = url + 7;
	if (*p == '[') {
		hend = strchr(p, ']');
		if (!hend)
			return -1;
		p++;
		hl = (size_t)(hend - p);
		hend++;
	} else {
		hend = p + strcspn(p, ":/");
		hl = (size_t)(hend - p);
	}
	if (hl == 0 || hl >= hsize)
		return -1;
	memcpy(host, p, hl);
	host[hl] = '\0';
	if (*hend == ':') {
		pstart = hend + 1;
		size_t pl = strcspn(pstart, "/");
		if (pl == 0 || pl >= psize || strspn(pstart, "0123456789") < pl)
			return -1;
		memcpy(port, pstart, pl);
		port[pl] = '\0';
		hend = pstart + pl;
	} else if (*hend == '/' || *hend == '\0') {
		snprintf(port, psize, "80");
	} else {
		return -1;
	}
	if (*hend == '\0')
		hend = "/";
	if (strlen(hend) >= pathsize || strpbrk(hend, " \r\n"))
		return -1;
	snprintf(path, pathsize, "%s", hend);
	return 0;
}

struct probe *probe_new(struct event_base *base, const struct probe_config *cfg,
			probe_done_fn done, void *arg, char *err, size_t errsize)
{
	struct probe *p = calloc(1, sizeof *p);

	if (!p) {
		snprintf(err, errsize, "out of memory");
		return NULL;
	}
	p->base = base;
	p->cfg = *cfg;
	if (!p->cfg.interval_ms)
		p->cfg.interval_ms = 100;
	if (!p->cfg.timeout_ms)
		p->cfg.timeout_ms = 30000;
	p->done = done;
	p->arg = arg;
	p->fd = -1;
	p->child = -1;
	switch (cfg->kind) {
	case PROBE_TCP:
		if (!cfg->host || !cfg->port || snprintf(p->host, sizeof p->host, "%s", cfg->host) >= (int)sizeof p->host ||
		    snprintf(p->port, sizeof p->port, "%s", cfg->port) >= (int)sizeof p->port) {
			snprintf(err, errsize, "bad tcp address");
			goto fail;
		}
		break;
	case PROBE_HTTP:
		if (!cfg->url || probe_parse_url(cfg->url, p->host, sizeof p->host, p->port, sizeof p->port,
						 p->path, sizeof p->path) < 0) {
			snprintf(err, errsize, "bad http url (only http://host[:port]/path is supported)");
			goto fail;
		}
		break;
	case PROBE_EXEC:
		if (!cfg->argv || !cfg->argv[0]) {
			snprintf(err, errsize, "empty exec probe command");
			goto fail;
		}
		break;
	case PROBE_LOG: {
		int rc = cfg->pattern ? regcomp(&p->re, cfg->pattern, REG_EXTENDED | REG_NOSUB) : REG_BADPAT;
		if (rc != 0) {
			char msg[200] = "missing pattern";
			if (cfg->pattern)
				regerror(rc, &p->re, msg, sizeof msg);
			snprintf(err, errsize, "bad log pattern: %s", msg);
			goto fail;
		}
		p->have_re = true;
		break;
	}
	default:
		break;
	}
	p->deadline = evtimer_new(base, probe_on_deadline, p);
	p->next = evtimer_new(base, probe_on_next, p);
	if (!p->deadline || !p->next) {
		snprintf(err, errsize, "out of memory");
		goto fail;
	}
	return p;
fail:
	probe_free(p);
	return NULL;
}

void probe_free(struct probe *p)
{
	if (!p)
		return;
	close_attempt(p);
	if (p->deadline)
		event_free(p->deadline);
	if (p->next)
		event_free(p->next);
	if (p->have_re)
		regfree(&p->re);
	free(p);
}

int probe_start(struct probe *p)
{
	struct timeval tv = { p->cfg.timeout_ms / 1000, (p->cfg.timeout_ms % 1000) * 1000 };

	close_attempt(p);
	evtimer_del(p->next);
	p->why[0] = '\0';
	p->running = true;
	if (evtimer_add(p->deadline, &tv) < 0)
		return -1;
	probe_attempt(p);
	return 0;
}

void probe_cancel(struct probe *p)
{
	if (!p || !p->running)
		return;
	p->running = false;
	close_attempt(p);
	evtimer_del(p->deadline);
	evtimer_del(p->next);
	if (p->child > 0)
		kill(-p->child, SIGTERM);
}

bool probe_running(const struct probe *p)
{
	return p && p->running;
}

bool probe_wants_lines(const struct probe *p)
{
	return p && p->running && p->cfg.kind == PROBE_LOG;
}

void probe_feed_line(struct probe *p, const char *line, size_t len)
{
	char buf[8192 + 1];

	if (!probe_wants_lines(p))
		return;
	if (len >= sizeof buf)
		len = sizeof buf - 1;
	memcpy(buf, line, len);
	buf[len] = '\0';
	if (regexec(&p->re, buf, 0, NULL, 0) == 0)
		finish(p, true, "log line matched");
}

pid_t probe_child(const struct probe *p)
{
	return p ? p->child : -1;
}

void probe_child_exited(struct probe *p, int wstatus)
{
	p->child = -1;
	if (!p->running)
		return;
	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) {
		finish(p, true, "exec probe exited 0");
		return;
	}
	char why[100];
	if (WIFEXITED(wstatus))
		snprintf(why, sizeof why, "exec probe exited %d", WEXITSTATUS(wstatus));
	else
		snprintf(why, sizeof why, "exec probe killed by signal %d", WTERMSIG(wstatus));
	attempt_failed(p, why);
}
