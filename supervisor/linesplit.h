/*
 * linesplit — cuts a byte stream into lines, splitting lines longer than a bound.
 *
 * Pure: fed chunks as they are read, it calls back once per complete line (without the
 * newline). A line longer than max bytes is delivered in pieces of max bytes; every piece
 * after the first has cont = true. The unfinished tail of a chunk is kept in a buffer of
 * max bytes allocated at creation, so a stream without newlines never grows memory.
 */
#ifndef SV_LINESPLIT_H
#define SV_LINESPLIT_H

#include <stdbool.h>
#include <stddef.h>

typedef void (*linesplit_fn)(void *arg, const char *line, size_t len, bool cont);

struct linesplit;

struct linesplit *linesplit_new(size_t max);
void linesplit_free(struct linesplit *ls);

void linesplit_feed(struct linesplit *ls, const char *data, size_t n, linesplit_fn fn, void *arg);
/* True when nothing is held and the next byte starts a new line (callers may then frame
 * complete lines themselves). */
bool linesplit_idle(const struct linesplit *ls);
/* End of stream: delivers an unfinished last line, if any. */
void linesplit_finish(struct linesplit *ls, linesplit_fn fn, void *arg);

#endif
