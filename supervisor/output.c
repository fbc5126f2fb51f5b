/* output — see output.h. */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "linesplit.h"
#include "outbuf.h"

#define OUTPUT_READ_CHUNK (256u << 10)
#define OUTPUT_MIN_READ 4096u
#define OUTPUT_READS_PER_WAKEUP 16
#define OUTPUT_PIPE_SIZE (1 << 20)

struct sink {
	struct output *o;
	int fd;           /* ours: non-blocking where possible */
	int restore_fd;   /* >= 0: fd whose flags we changed (sockets), restored at free */
	int restore_flags;
	bool own_fd;
	struct outbuf *ob;
	struct event *writable;
	struct event *stall;
	bool drop_mode;
	bool resuming;    /* guards resume_pipes() against re-entry through sink_write() */
	uint64_t dropped_reported;
};

struct pipe_in {
	struct output_stream *s;
	struct sink *sink;
	int fd;
	int which;           /* 1 or 2 */
	struct event *ev;
	struct linesplit *ls;
	bool paused;
};

struct output_stream {
	struct output *o;
	struct output_stream *next;
	char prefix[80];
	size_t plen;
	struct pipe_in in[2];
	output_line_fn fn;
	void *fn_arg;
	output_chunk_fn chunk_fn;
	void *chunk_arg;
	char *tail;          /* OUTPUT_TAIL_BYTES ring, allocated on first output */
	size_t tail_pos;     /* total bytes ever written to the ring */
	uint64_t dropped;
	bool closing;
};

struct output {
	struct event_base *base;
	struct sink sinks[2];
	struct output_stream *streams;
	char *rbuf;          /* OUTPUT_READ_CHUNK, shared by all pipes; allocated on first read */
	int depth;           /* nesting of entry points: streams are freed only at depth 0 */
};

static void sink_write(struct sink *k);
static void pipe_read(struct pipe_in *p);
static void enter(struct output *o);
static void leave(struct output *o);

static void output_on_writable(evutil_socket_t fd, short what, void *arg)
{
	struct sink *k = arg;

	enter(k->o);
	sink_write(k);
	leave(k->o);
}

static void resume_pipes(struct sink *k)
{
	if (k->resuming)
		return;
	k->resuming = true;
	for (struct output_stream *s = k->o->streams, *next; s; s = next) {
		next = s->next;
		for (int i = 0; i < 2; i++) {
			struct pipe_in *p = &s->in[i];
			if (p->sink == k && p->fd >= 0 && p->paused) {
				p->paused = false;
				event_add(p->ev, NULL);
			}
		}
	}
	k->resuming = false;
}

static void output_on_stall(evutil_socket_t fd, short what, void *arg)
{
	struct sink *k = arg;

	/* The agent's fd has been blocked too long: read the pipes again, dropping what does
	 * not fit, so that no process waits on a reader that is not there. */
	enter(k->o);
	k->drop_mode = true;
	resume_pipes(k);
	leave(k->o);
}

static void stream_free(struct output_stream *s)
{
	for (int i = 0; i < 2; i++)
		linesplit_free(s->in[i].ls);
	free(s->tail);
	free(s);
}

/* Entry points (callbacks and public functions) bracket their work with enter()/leave();
 * closed streams are freed only when the outermost one leaves, so no caller up the stack
 * ever holds a pointer to a freed stream. */
static void enter(struct output *o)
{
	o->depth++;
}

static void leave(struct output *o)
{
	if (--o->depth > 0)
		return;
	for (struct output_stream **pp = &o->streams; *pp;) {
		struct output_stream *s = *pp;
		if (s->closing && s->in[0].fd < 0 && s->in[1].fd < 0) {
			*pp = s->next;
			stream_free(s);
		} else {
			pp = &s->next;
		}
	}
}

/* How many bytes may be read for a sink now: in the worst case every byte is a newline and
 * grows by the prefix, so read no more than fits even then. 0: pause. */
static size_t read_allowance(const struct pipe_in *p)
{
	size_t room, n;

	if (p->sink->drop_mode)
		return OUTPUT_READ_CHUNK;
	room = outbuf_room(p->sink->ob);
	n = room / (p->s->plen + 2);
	if (n > OUTPUT_READ_CHUNK)
		n = OUTPUT_READ_CHUNK;
	return n < OUTPUT_MIN_READ ? 0 : n;
}

static void on_split_line(void *arg, const char *line, size_t len, bool cont)
{
	struct pipe_in *p = arg;
	struct output_stream *s = p->s;

	if (outbuf_put(p->sink->ob, s->prefix, s->plen, line, len, false) < 0)
		s->dropped++;
	if (s->fn)
		s->fn(s->fn_arg, p->which, line, len, cont);
}

/* Frames a chunk into the sink: the common case (no line callback, whole lines of at most
 * OUTPUT_LINE_MAX bytes) is copied straight into the buffer, one memcpy per line; whatever
 * else (a held partial line, a long line, no room) goes through the splitter. */
static void frame(struct pipe_in *p, const char *d, size_t n)
{
	struct output_stream *s = p->s;
	size_t plen = s->plen, avail, used = 0;
	char *w;

	if (s->fn) {
		linesplit_feed(p->ls, d, n, on_split_line, p);
		return;
	}
	if (!linesplit_idle(p->ls)) {
		const char *nl = memchr(d, '\n', n);
		size_t k = nl ? (size_t)(nl - d) + 1 : n;
		linesplit_feed(p->ls, d, k, on_split_line, p);
		d += k;
		n -= k;
		if (n == 0 || !linesplit_idle(p->ls)) {
			if (n)
				linesplit_feed(p->ls, d, n, on_split_line, p);
			return;
		}
	}
	w = outbuf_space(p->sink->ob, n + (n / 2 + 1) * plen, &avail);
	while (w && n > 0) {
		const char *nl = memchr(d, '\n', n < OUTPUT_LINE_MAX + 1 ? n : OUTPUT_LINE_MAX + 1);
		size_t len;
		if (!nl)
			break;
		len = (size_t)(nl - d) + 1; /* with its newline */
		if (plen + len > avail - used)
			break;
		memcpy(w + used, s->prefix, plen);
		memcpy(w + used + plen, d, len);
		used += plen + len;
		d += len;
		n -= len;
	}
	if (w)
		outbuf_commit(p->sink->ob, used);
	if (n > 0)
		linesplit_feed(p->ls, d, n, on_split_line, p);
}

static void tail_add(struct output_stream *s, const char *data, size_t n)
{
	if (!s->tail) {
		s->tail = malloc(OUTPUT_TAIL_BYTES);
		if (!s->tail)
			return;
	}
	if (n > OUTPUT_TAIL_BYTES) {
		data += n - OUTPUT_TAIL_BYTES;
		n = OUTPUT_TAIL_BYTES;
	}
	size_t at = s->tail_pos % OUTPUT_TAIL_BYTES;
	size_t first = OUTPUT_TAIL_BYTES - at < n ? OUTPUT_TAIL_BYTES - at : n;
	memcpy(s->tail + at, data, first);
	memcpy(s->tail, data + first, n - first);
	s->tail_pos += n;
}

static void pipe_close(struct pipe_in *p)
{
	linesplit_finish(p->ls, on_split_line, p);
	if (p->ev) {
		event_free(p->ev);
		p->ev = NULL;
	}
	if (p->fd >= 0) {
		close(p->fd);
		p->fd = -1;
	}
}

static void pause_pipe(struct pipe_in *p)
{
	struct timeval tv = { OUTPUT_STALL_MS / 1000, (OUTPUT_STALL_MS % 1000) * 1000 };

	p->paused = true;
	event_del(p->ev);
	if (!evtimer_pending(p->sink->stall, NULL))
		evtimer_add(p->sink->stall, &tv);
}

/* Reads up to OUTPUT_READS_PER_WAKEUP chunks, feeds the splitter, writes. */
static void pipe_read(struct pipe_in *p)
{
	struct output_stream *s = p->s;
	struct output *o = s->o;
	struct sink *k = p->sink;

	if (!o->rbuf) {
		o->rbuf = malloc(OUTPUT_READ_CHUNK);
		if (!o->rbuf)
			return;
	}
	for (int i = 0; i < OUTPUT_READS_PER_WAKEUP; i++) {
		size_t want = read_allowance(p);
		if (want == 0) {
			pause_pipe(p);
			break;
		}
		ssize_t n = read(p->fd, o->rbuf, want);
		if (n > 0) {
			tail_add(s, o->rbuf, (size_t)n);
			if (s->chunk_fn)
				s->chunk_fn(s->chunk_arg, p->which, o->rbuf, (size_t)n);
			frame(p, o->rbuf, (size_t)n);
			/* Write each chunk out before reading the next: when the agent falls behind,
			 * up to OUTPUT_READS_PER_WAKEUP chunks would otherwise pile up in the output
			 * buffer and make ~2 MB of it resident for nothing. */
			sink_write(k);
			if ((size_t)n < want)
				break;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		pipe_close(p); /* EOF or error */
		break;
	}
	sink_write(k);
}

static void output_on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct pipe_in *p = arg;
	struct output *o = p->s->o;

	enter(o);
	pipe_read(p);
	leave(o);
}

static void note_drops(struct sink *k)
{
	uint64_t total = outbuf_dropped_lines(k->ob);
	char line[128];
	int n;

	if (total == k->dropped_reported)
		return;
	n = snprintf(line, sizeof line, "stagevisor-agent | [stagevisor: %llu lines dropped: output blocked]",
		     (unsigned long long)(total - k->dropped_reported));
	if (outbuf_put(k->ob, "", 0, line, (size_t)n, true) == 0)
		k->dropped_reported = outbuf_dropped_lines(k->ob);
}

static void sink_write(struct sink *k)
{
	size_t len;
	const char *data;
	bool progress = false;

	for (;;) {
		data = outbuf_peek(k->ob, &len);
		if (len == 0)
			break;
		ssize_t n = write(k->fd, data, len);
		if (n > 0) {
			outbuf_consume(k->ob, (size_t)n);
			progress = true;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (!event_pending(k->writable, EV_WRITE, NULL))
				event_add(k->writable, NULL);
			/* A slow reader is not a blocked one: the stall clock restarts with every
			 * write that made progress; half the buffer free lets the pipes go on. */
			if (progress && evtimer_pending(k->stall, NULL)) {
				struct timeval tv = { OUTPUT_STALL_MS / 1000, (OUTPUT_STALL_MS % 1000) * 1000 };
				evtimer_add(k->stall, &tv);
			}
			if (!k->drop_mode && outbuf_room(k->ob) >= OUTPUT_BUFFER_BOUND / 2)
				resume_pipes(k);
			return;
		}
		/* The agent's fd is gone (EPIPE, EIO): nothing more can be written; discard. */
		outbuf_consume(k->ob, len);
		break;
	}
	/* Everything written. */
	if (k->writable)
		event_del(k->writable);
	evtimer_del(k->stall);
	if (k->drop_mode) {
		k->drop_mode = false;
		note_drops(k);
		if (outbuf_pending(k->ob))
			sink_write(k);
		return;
	}
	resume_pipes(k);
}

static int sink_init(struct output *o, struct sink *k, int fd)
{
	struct stat st;
	char path[64];

	k->o = o;
	k->fd = fd;
	k->restore_fd = -1;
	if (fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))) {
		/* A description of our own, so O_NONBLOCK does not leak to whoever shares ours. */
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		int nfd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (nfd >= 0) {
			k->fd = nfd;
			k->own_fd = true;
		}
		/* A larger pipe to whoever reads us: fewer wakeups on both sides (best effort). */
		if (S_ISFIFO(st.st_mode))
			fcntl(k->fd, F_SETPIPE_SZ, OUTPUT_PIPE_SIZE);
	}
	if (!k->own_fd && fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
		int fl = fcntl(fd, F_GETFL);
		if (fl >= 0 && !(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0) {
			k->restore_fd = fd;
			k->restore_flags = fl;
		}
	}
	k->ob = outbuf_new(OUTPUT_BUFFER_BOUND, OUTPUT_PRIORITY_RESERVE);
	k->writable = event_new(o->base, k->fd, EV_WRITE, output_on_writable, k);
	k->stall = evtimer_new(o->base, output_on_stall, k);
	return (k->ob && k->writable && k->stall) ? 0 : -1;
}

static void sink_fini(struct sink *k)
{
	if (k->writable)
		event_free(k->writable);
	if (k->stall)
		event_free(k->stall);
	outbuf_free(k->ob);
	if (k->own_fd)
		close(k->fd);
	if (k->restore_fd >= 0)
		fcntl(k->restore_fd, F_SETFL, k->restore_flags);
}

struct output *output_new(struct event_base *base, int out_fd, int err_fd)
{
	struct output *o = calloc(1, sizeof *o);

	if (!o)
		return NULL;
	o->base = base;
	if (sink_init(o, &o->sinks[0], out_fd) < 0 || sink_init(o, &o->sinks[1], err_fd) < 0) {
		output_free(o);
		return NULL;
	}
	return o;
}

void output_free(struct output *o)
{
	if (!o)
		return;
	while (o->streams) {
		struct output_stream *s = o->streams;
		o->streams = s->next;
		for (int i = 0; i < 2; i++) {
			if (s->in[i].ev)
				event_free(s->in[i].ev);
			if (s->in[i].fd >= 0)
				close(s->in[i].fd);
		}
		stream_free(s);
	}
	for (int i = 0; i < 2; i++)
		if (o->sinks[i].o)
			sink_fini(&o->sinks[i]);
	free(o->rbuf);
	free(o);
}

struct output_stream *output_open(struct output *o, const char *name, int child_fds[2])
{
	struct output_stream *s = calloc(1, sizeof *s);
	int pfd[2][2] = { { -1, -1 }, { -1, -1 } };

	child_fds[0] = child_fds[1] = -1;
	if (!s)
		return NULL;
	s->o = o;
	snprintf(s->prefix, sizeof s->prefix, "%.64s | ", name);
	s->plen = strlen(s->prefix);
	s->in[0].fd = s->in[1].fd = -1;
	for (int i = 0; i < 2; i++) {
		struct pipe_in *p = &s->in[i];
		if (pipe2(pfd[i], O_CLOEXEC) < 0)
			goto fail;
		fcntl(pfd[i][0], F_SETFL, O_NONBLOCK);
		fcntl(pfd[i][0], F_SETPIPE_SZ, OUTPUT_PIPE_SIZE); /* fewer wakeups; best effort */
		p->s = s;
		p->sink = &o->sinks[i];
		p->which = i + 1;
		p->ls = linesplit_new(OUTPUT_LINE_MAX);
		p->ev = event_new(o->base, pfd[i][0], EV_READ | EV_PERSIST, output_on_readable, p);
		if (!p->ls || !p->ev || event_add(p->ev, NULL) < 0)
			goto fail;
		p->fd = pfd[i][0];
		pfd[i][0] = -1;
	}
	s->next = o->streams;
	o->streams = s;
	child_fds[0] = pfd[0][1];
	child_fds[1] = pfd[1][1];
	return s;
fail:
	for (int i = 0; i < 2; i++) {
		if (pfd[i][0] >= 0)
			close(pfd[i][0]);
		if (pfd[i][1] >= 0)
			close(pfd[i][1]);
		if (s->in[i].ev)
			event_free(s->in[i].ev);
		if (s->in[i].fd >= 0)
			close(s->in[i].fd);
		linesplit_free(s->in[i].ls);
	}
	free(s);
	return NULL;
}

void output_set_chunk_fn(struct output_stream *s, output_chunk_fn fn, void *arg)
{
	s->chunk_fn = fn;
	s->chunk_arg = arg;
}

void output_set_line_fn(struct output_stream *s, output_line_fn fn, void *arg)
{
	s->fn = fn;
	s->fn_arg = arg;
}

void output_drain(struct output_stream *s)
{
	struct output *o = s->o;

	enter(o);
	for (int i = 0; i < 2; i++) {
		struct pipe_in *p = &s->in[i];
		if (p->fd < 0 || p->paused)
			continue;
		for (;;) {
			size_t before = s->tail_pos;
			pipe_read(p);
			if (p->fd < 0 || p->paused || s->tail_pos == before)
				break;
		}
	}
	leave(o);
}

size_t output_last_lines(const struct output_stream *s, char *buf, size_t bufsize, const char **lines, size_t max)
{
	size_t have = s->tail_pos < OUTPUT_TAIL_BYTES ? s->tail_pos : OUTPUT_TAIL_BYTES;
	size_t count = 0, end;

	if (!s->tail || bufsize == 0 || max == 0)
		return 0;
	if (have > bufsize - 1)
		have = bufsize - 1;
	/* Linearize the ring's last `have` bytes. */
	for (size_t i = 0; i < have; i++)
		buf[i] = s->tail[(s->tail_pos - have + i) % OUTPUT_TAIL_BYTES];
	buf[have] = '\0';
	/* Walk back over lines; the first (possibly cut) line is skipped unless it is whole. */
	end = have;
	if (end > 0 && buf[end - 1] == '\n')
		buf[--end] = '\0';
	while (count < max) {
		size_t start = end;
		while (start > 0 && buf[start - 1] != '\n')
			start--;
		if (start == 0 && s->tail_pos > have)
			break; /* cut at the front */
		lines[count++] = buf + start;
		if (start == 0)
			break;
		buf[start - 1] = '\0';
		end = start - 1;
	}
	/* Oldest first. */
	for (size_t i = 0; i < count / 2; i++) {
		const char *t = lines[i];
		lines[i] = lines[count - 1 - i];
		lines[count - 1 - i] = t;
	}
	return count;
}

uint64_t output_stream_dropped(const struct output_stream *s)
{
	return s->dropped;
}

void output_close(struct output_stream *s)
{
	if (!s)
		return;
	struct output *o = s->o;

	enter(o);
	s->closing = true;
	s->fn = NULL;
	output_drain(s);
	/* The pipes stay open until their last writer closes them (EOF) or the agent exits:
	 * a grandchild that still writes must not die of SIGPIPE before the stop plan gives it
	 * its stop signal. The stage does not wait for that EOF. */
	leave(o);
}

int output_line(struct output *o, int fd, const char *line, size_t len)
{
	struct sink *k = &o->sinks[fd == 2 ? 1 : 0];
	int rc = outbuf_put(k->ob, "", 0, line, len, true);

	enter(o);
	sink_write(k);
	leave(o);
	return rc;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads every open pipe as far as its sink has room; true when any byte was read. */
static bool read_open_pipes(struct output *o)
{
	bool any = false;

	for (struct output_stream *s = o->streams; s; s = s->next) {
		for (int i = 0; i < 2; i++) {
			struct pipe_in *p = &s->in[i];
			if (p->fd < 0)
				continue;
			size_t before = s->tail_pos;
			p->paused = false;
			pipe_read(p);
			if (p->paused) {
				p->paused = false; /* the loop below waits for the sink instead */
				event_add(p->ev, NULL);
			}
			any = any || s->tail_pos != before;
		}
	}
	return any;
}

int output_flush(struct output *o, int timeout_ms)
{
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int rc = -1;

	enter(o);
	for (;;) {
		struct pollfd pf[2];
		int n = 0;
		/* Output that is still in the pipes of processes that have ended counts too. */
		bool more = read_open_pipes(o);
		for (int i = 0; i < 2; i++) {
			struct sink *k = &o->sinks[i];
			sink_write(k);
			if (outbuf_pending(k->ob) > 0) {
				pf[n].fd = k->fd;
				pf[n].events = POLLOUT;
				n++;
			}
		}
		if (n == 0 && !more) {
			rc = 0;
			break;
		}
		int64_t left = deadline - now_ms();
		if (left <= 0)
			break;
		if (n > 0 && poll(pf, (nfds_t)n, (int)(left > INT_MAX ? INT_MAX : left)) < 0 && errno != EINTR)
			break;
	}
	leave(o);
	return rc;
}

uint64_t output_dropped(const struct output *o)
{
	return outbuf_dropped_lines(o->sinks[0].ob) + outbuf_dropped_lines(o->sinks[1].ob);
}
