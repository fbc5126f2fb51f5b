/*
 * probe — readiness probes of one process: TCP connect, HTTP GET answered 2xx (plain HTTP,
 * only the status line is read), a command that exits 0, or an output line matching a POSIX
 * extended regex.
 *
 * A probe makes attempts every interval_ms until one passes or timeout_ms has passed since
 * probe_start(), then calls done(arg, ready, why) exactly once. It runs on the caller's
 * event_base and never blocks, except that a host name that is not numeric is resolved with
 * getaddrinfo() (use numeric addresses or "localhost"). An exec probe's child is spawned
 * with spawn.c; the supervisor's reaper hands its exit back through probe_child_exited().
 * The log probe is fed lines with probe_feed_line(). The probe owns its sockets, timers and
 * compiled regex; it does not own the child process (the reaper does).
 */
#ifndef SV_PROBE_H
#define SV_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct event_base;

enum probe_kind { PROBE_NONE, PROBE_TCP, PROBE_HTTP, PROBE_EXEC, PROBE_LOG };

struct probe_config {
	enum probe_kind kind;
	const char *host;      /* tcp */
	const char *port;      /* tcp */
	const char *url;       /* http: http://host[:port][/path] */
	char *const *argv;     /* exec */
	const char *pattern;   /* log */
	unsigned interval_ms;  /* 0 -> 100 */
	unsigned timeout_ms;   /* 0 -> 30000 */
};

typedef void (*probe_done_fn)(void *arg, bool ready, const char *why);

struct probe;

/* NULL with a reason in err when the config cannot work (bad URL, bad regex, no memory). */
struct probe *probe_new(struct event_base *base, const struct probe_config *cfg,
			probe_done_fn done, void *arg, char *err, size_t errsize);
void probe_free(struct probe *p);

int probe_start(struct probe *p);
/* Stops attempts without calling done (an exec child still running gets SIGTERM). */
void probe_cancel(struct probe *p);
bool probe_running(const struct probe *p);

bool probe_wants_lines(const struct probe *p);
void probe_feed_line(struct probe *p, const char *line, size_t len);

/* The pid of the exec probe's running child, or -1. */
pid_t probe_child(const struct probe *p);
void probe_child_exited(struct probe *p, int wstatus);

/* Splits "http://host[:port][/path]" (host may be [v6]); 0 or -1. Exposed for tests. */
int probe_parse_url(const char *url, char *host, size_t hsize, char *port, size_t psize, char *path, size_t pathsize);
/* 2xx status line ("HTTP/1.1 204 No Content") -> true. Exposed for tests. */
bool probe_status_ok(const char *line, size_t len);

#endif
