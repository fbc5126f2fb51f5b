/*
 * outbuf — a bounded output buffer of whole prefixed lines, waiting to be written to one of
 * the agent's own file descriptors.
 *
 * Pure: it never writes; the owner takes bytes with outbuf_peek()/outbuf_consume() and
 * writes them. Its bound is set at creation: a line that does not fit is dropped whole and
 * counted, never cut. Priority lines (the agent's own event lines) may use a further reserve
 * so that process output cannot crowd them out. Memory is allocated on the first line, so an
 * agent whose processes print nothing does not pay for it.
 */
#ifndef SV_OUTBUF_H
#define SV_OUTBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct outbuf;

struct outbuf *outbuf_new(size_t bound, size_t reserve);
void outbuf_free(struct outbuf *ob);

/* Appends prefix + line + "\n". Returns 0, or -1 when the line was dropped (no room or no
 * memory); the drop is counted. */
int outbuf_put(struct outbuf *ob, const char *prefix, size_t plen, const char *line, size_t len, bool priority);

/* Direct framing, for speed: a pointer to contiguous free space for ordinary lines and its
 * size in *avail (moving pending bytes to the front first when less than want is contiguous
 * at the end); the caller writes whole lines there and then commits what it wrote. NULL when
 * out of memory. */
char *outbuf_space(struct outbuf *ob, size_t want, size_t *avail);
void outbuf_commit(struct outbuf *ob, size_t n);

/* Bytes waiting to be written. */
const char *outbuf_peek(const struct outbuf *ob, size_t *len);
void outbuf_consume(struct outbuf *ob, size_t n);
size_t outbuf_pending(const struct outbuf *ob);
/* Free room for ordinary lines. */
size_t outbuf_room(const struct outbuf *ob);

uint64_t outbuf_dropped_lines(const struct outbuf *ob);
uint64_t outbuf_dropped_bytes(const struct outbuf *ob);

#endif
