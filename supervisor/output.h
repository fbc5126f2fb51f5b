/*
 * output — captures the stdout and stderr of supervised processes through pipes and writes
 * them, split into lines and prefixed with "NAME | ", to the agent's own stdout and stderr.
 *
 * Never blocks the event loop. Each of the agent's two fds has one bounded buffer (outbuf).
 * When a buffer fills, the pipes feeding it are paused (the process then blocks in write(),
 * as with any pipe); if the agent's fd stays blocked for OUTPUT_STALL_MS, the pipes are read
 * again and lines that do not fit are dropped and counted, until the buffer has drained; a
 * line "NAME | [stagevisor: N lines dropped]" then says so. The agent's own event lines go
 * through the same buffers (output_line()) with a reserve that process output cannot use.
 *
 * Ownership: struct output owns every stream, pipe read end, buffer and event it creates.
 * output_open() returns the pipe write ends for the child; the caller closes them after
 * spawning. output_close() hands a stream back: it is freed once its pipes are drained
 * (a grandchild that keeps a pipe open does not keep it alive: see output_close()).
 */
#ifndef SV_OUTPUT_H
#define SV_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;

#define OUTPUT_LINE_MAX 8192        /* longer lines are split into pieces of this size */
#define OUTPUT_BUFFER_BOUND (2u << 20) /* per agent fd, for process output */
#define OUTPUT_PRIORITY_RESERVE (256u << 10) /* per agent fd, for the agent's own lines */
#define OUTPUT_STALL_MS 1000        /* blocked this long: start dropping instead of pausing */
#define OUTPUT_TAIL_BYTES 4096      /* remembered output of each stream, for last_lines */

/* Called for every line of a stream when set: fd is 1 (stdout) or 2 (stderr); a long line
 * arrives in pieces, cont = true on all but the first. */
typedef void (*output_line_fn)(void *arg, int fd, const char *line, size_t len, bool cont);

/* Called with the raw bytes of each read of a stream when set (any chunking). */
typedef void (*output_chunk_fn)(void *arg, int fd, const char *data, size_t len);

struct output;
struct output_stream;

/* out_fd and err_fd are the agent's (usually 1 and 2); they are reopened non-blocking where
 * that does not change them for anyone else. */
struct output *output_new(struct event_base *base, int out_fd, int err_fd);
void output_free(struct output *o);

/* A new stream for a process named name. child_fds receive the write ends (stdout, stderr). */
struct output_stream *output_open(struct output *o, const char *name, int child_fds[2]);
void output_set_line_fn(struct output_stream *s, output_line_fn fn, void *arg);
void output_set_chunk_fn(struct output_stream *s, output_chunk_fn fn, void *arg);

/* Reads what the pipes hold right now (after the process was reaped), without waiting. */
void output_drain(struct output_stream *s);
/* The last complete lines of the stream (both fds, in arrival order), at most max, copied
 * into buf; lines[] point into buf. Returns how many. */
size_t output_last_lines(const struct output_stream *s, char *buf, size_t bufsize, const char **lines, size_t max);
uint64_t output_stream_dropped(const struct output_stream *s);
/* The process has ended: drain, then close the pipes and free the stream (later, if its
 * buffer is full right now). Its pipes are closed even if a grandchild still holds them. */
void output_close(struct output_stream *s);

/* One line of the agent's own (fd 1 or 2), with priority. 0, or -1 when dropped. */
int output_line(struct output *o, int fd, const char *line, size_t len);
/* Writes everything buffered, waiting at most timeout_ms (poll); 0 when all was written. */
int output_flush(struct output *o, int timeout_ms);
uint64_t output_dropped(const struct output *o);

#endif
